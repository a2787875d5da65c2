"""A tiny msgpack codec for the fake workers (no third-party modules).

Only what the worker protocol uses: map, array, str, bin, int, nil, bool,
float (always as float64).
"""
import struct


def packb(obj):
    out = bytearray()
    _pack(obj, out)
    return bytes(out)


def frame(obj):
    """One protocol frame: 4-byte big-endian length + msgpack map."""
    body = packb(obj)
    return len(body).to_bytes(4, "big") + body


def _pack(o, out):
    if o is None:
        out.append(0xC0)
    elif o is True:
        out.append(0xC3)
    elif o is False:
        out.append(0xC2)
    elif isinstance(o, int):
        if 0 <= o <= 0x7F:
            out.append(o)
        elif -32 <= o < 0:
            out.append(o & 0xFF)
        elif 0 <= o <= 0xFF:
            out += b"\xcc" + o.to_bytes(1, "big")
        elif 0 <= o <= 0xFFFF:
            out += b"\xcd" + o.to_bytes(2, "big")
        elif 0 <= o <= 0xFFFFFFFF:
            out += b"\xce" + o.to_bytes(4, "big")
        elif 0 <= o < 2**64:
            out += b"\xcf" + o.to_bytes(8, "big")
        elif -(2**63) <= o < 0:
            out += b"\xd3" + o.to_bytes(8, "big", signed=True)
        else:
            raise OverflowError(o)
    elif isinstance(o, float):
        out += b"\xcb" + struct.pack(">d", o)
    elif isinstance(o, str):
        b = o.encode("utf-8")
        n = len(b)
        if n < 32:
            out.append(0xA0 | n)
        elif n <= 0xFF:
            out += b"\xd9" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xda" + n.to_bytes(2, "big")
        else:
            out += b"\xdb" + n.to_bytes(4, "big")
        out += b
    elif isinstance(o, (bytes, bytearray)):
        n = len(o)
        if n <= 0xFF:
            out += b"\xc4" + n.to_bytes(1, "big")
        elif n <= 0xFFFF:
            out += b"\xc5" + n.to_bytes(2, "big")
        else:
            out += b"\xc6" + n.to_bytes(4, "big")
        out += o
    elif isinstance(o, (list, tuple)):
        n = len(o)
        if n < 16:
            out.append(0x90 | n)
        elif n <= 0xFFFF:
            out += b"\xdc" + n.to_bytes(2, "big")
        else:
            out += b"\xdd" + n.to_bytes(4, "big")
        for item in o:
            _pack(item, out)
    elif isinstance(o, dict):
        n = len(o)
        if n < 16:
            out.append(0x80 | n)
        elif n <= 0xFFFF:
            out += b"\xde" + n.to_bytes(2, "big")
        else:
            out += b"\xdf" + n.to_bytes(4, "big")
        for k, v in o.items():
            _pack(k, out)
            _pack(v, out)
    else:
        raise TypeError("cannot pack %r" % type(o))


class UnpackError(ValueError):
    pass


def unpackb(data):
    obj, pos = _unpack(data, 0)
    if pos != len(data):
        raise UnpackError("%d trailing bytes" % (len(data) - pos))
    return obj


def _take(data, pos, n):
    if pos + n > len(data):
        raise UnpackError("truncated")
    return data[pos:pos + n], pos + n


def _unpack(data, pos):
    if pos >= len(data):
        raise UnpackError("truncated")
    b = data[pos]
    pos += 1
    if b <= 0x7F:
        return b, pos
    if b >= 0xE0:
        return b - 0x100, pos
    if 0x80 <= b <= 0x8F:
        return _map(data, pos, b & 0x0F)
    if 0x90 <= b <= 0x9F:
        return _array(data, pos, b & 0x0F)
    if 0xA0 <= b <= 0xBF:
        raw, pos = _take(data, pos, b & 0x1F)
        return raw.decode("utf-8", "surrogateescape"), pos
    if b == 0xC0:
        return None, pos
    if b == 0xC2:
        return False, pos
    if b == 0xC3:
        return True, pos
    if b in (0xC4, 0xC5, 0xC6):
        width = {0xC4: 1, 0xC5: 2, 0xC6: 4}[b]
        raw, pos = _take(data, pos, width)
        return _take(data, pos, int.from_bytes(raw, "big"))
    if b == 0xCA:
        raw, pos = _take(data, pos, 4)
        return struct.unpack(">f", raw)[0], pos
    if b == 0xCB:
        raw, pos = _take(data, pos, 8)
        return struct.unpack(">d", raw)[0], pos
    if b in (0xCC, 0xCD, 0xCE, 0xCF):
        width = {0xCC: 1, 0xCD: 2, 0xCE: 4, 0xCF: 8}[b]
        raw, pos = _take(data, pos, width)
        return int.from_bytes(raw, "big"), pos
    if b in (0xD0, 0xD1, 0xD2, 0xD3):
        width = {0xD0: 1, 0xD1: 2, 0xD2: 4, 0xD3: 8}[b]
        raw, pos = _take(data, pos, width)
        return int.from_bytes(raw, "big", signed=True), pos
    if b in (0xD9, 0xDA, 0xDB):
        width = {0xD9: 1, 0xDA: 2, 0xDB: 4}[b]
        raw, pos = _take(data, pos, width)
        s, pos = _take(data, pos, int.from_bytes(raw, "big"))
        return s.decode("utf-8", "surrogateescape"), pos
    if b in (0xDC, 0xDD):
        width = 2 if b == 0xDC else 4
        raw, pos = _take(data, pos, width)
        return _array(data, pos, int.from_bytes(raw, "big"))
    if b in (0xDE, 0xDF):
        width = 2 if b == 0xDE else 4
        raw, pos = _take(data, pos, width)
        return _map(data, pos, int.from_bytes(raw, "big"))
    raise UnpackError("unsupported msgpack byte 0x%02x" % b)


def _array(data, pos, n):
    items = []
    for _ in range(n):
        item, pos = _unpack(data, pos)
        items.append(item)
    return items, pos


def _map(data, pos, n):
    m = {}
    for _ in range(n):
        k, pos = _unpack(data, pos)
        v, pos = _unpack(data, pos)
        if isinstance(k, (bytes, list, dict)):
            k = repr(k)
        m[k] = v
    return m, pos
