/* proto: msgpack encoding and decoding of the worker protocol. */
#include "proto.h"

#include <string.h>

#include "frame.h"

static int proto_buf_write(void *data, const char *p, size_t n)
{
	buf_append(data, p, n);
	return 0;
}

void proto_packer_init(msgpack_packer *pk, struct buf *out)
{
	msgpack_packer_init(pk, out, proto_buf_write);
}

void proto_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

void proto_pack_cstr(msgpack_packer *pk, const char *s)
{
	proto_pack_str(pk, s, strlen(s));
}

void proto_pack_cstr_or_nil(msgpack_packer *pk, const char *s)
{
	if (s)
		proto_pack_cstr(pk, s);
	else
		msgpack_pack_nil(pk);
}

void proto_pack_kvlist(msgpack_packer *pk, const struct kvlist *l)
{
	msgpack_pack_map(pk, l ? l->len : 0);
	for (size_t i = 0; l && i < l->len; i++) {
		proto_pack_cstr(pk, l->items[i].key);
		proto_pack_cstr(pk, l->items[i].value);
	}
}

void proto_encode_hello(struct buf *out, const char *job_path, const char *job_src, size_t job_len,
                        const struct proto_settings *s)
{
	msgpack_packer pk;
	size_t start = frame_begin(out);

	proto_packer_init(&pk, out);
	msgpack_pack_map(&pk, 5);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "hello");
	proto_pack_cstr(&pk, "version");
	msgpack_pack_uint32(&pk, PROTO_VERSION);
	proto_pack_cstr(&pk, "job_path");
	proto_pack_cstr(&pk, job_path);
	proto_pack_cstr(&pk, "job");
	proto_pack_str(&pk, job_src, job_len);
	proto_pack_cstr(&pk, "settings");
	msgpack_pack_map(&pk, 3);
	proto_pack_cstr(&pk, "output_cap");
	msgpack_pack_uint64(&pk, s->output_cap);
	proto_pack_cstr(&pk, "log_level");
	msgpack_pack_int(&pk, s->log_level);
	proto_pack_cstr(&pk, "cpu_limit_ms");
	msgpack_pack_int64(&pk, s->cpu_limit_ms);
	frame_end(out, start);
}

void proto_encode_task(struct buf *out, uint64_t id, uint32_t attempt, const char *host,
                       const struct kvlist *vars, int64_t timeout_ms)
{
	msgpack_packer pk;
	size_t start = frame_begin(out);

	proto_packer_init(&pk, out);
	msgpack_pack_map(&pk, 6);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "task");
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, id);
	proto_pack_cstr(&pk, "attempt");
	msgpack_pack_uint32(&pk, attempt);
	proto_pack_cstr(&pk, "host");
	proto_pack_cstr(&pk, host);
	proto_pack_cstr(&pk, "vars");
	proto_pack_kvlist(&pk, vars);
	proto_pack_cstr(&pk, "timeout_ms");
	msgpack_pack_int64(&pk, timeout_ms);
	frame_end(out, start);
}

void proto_encode_ready(struct buf *out, int pid)
{
	msgpack_packer pk;
	size_t start = frame_begin(out);

	proto_packer_init(&pk, out);
	msgpack_pack_map(&pk, 3);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "ready");
	proto_pack_cstr(&pk, "version");
	msgpack_pack_uint32(&pk, PROTO_VERSION);
	proto_pack_cstr(&pk, "pid");
	msgpack_pack_int(&pk, pid);
	frame_end(out, start);
}

void proto_encode_child(struct buf *out, uint64_t id, int pgid)
{
	msgpack_packer pk;
	size_t start = frame_begin(out);

	proto_packer_init(&pk, out);
	msgpack_pack_map(&pk, 3);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "child");
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, id);
	proto_pack_cstr(&pk, "pgid");
	msgpack_pack_int(&pk, pgid);
	frame_end(out, start);
}

static uint64_t proto_be(const unsigned char *p, int k)
{
	uint64_t v = 0;

	for (int i = 0; i < k; i++)
		v = v << 8 | p[i];
	return v;
}

bool proto_obj_bytes(const msgpack_object *o, const char **s, size_t *n)
{
	if (!o)
		return false;
	if (o->type == MSGPACK_OBJECT_STR) {
		*s = o->via.str.ptr;
		*n = o->via.str.size;
		return true;
	}
	if (o->type == MSGPACK_OBJECT_BIN) {
		*s = o->via.bin.ptr;
		*n = o->via.bin.size;
		return true;
	}
	return false;
}

bool proto_obj_is(const msgpack_object *o, const char *s)
{
	const char *p;
	size_t n;

	return proto_obj_bytes(o, &p, &n) && n == strlen(s) && memcmp(p, s, n) == 0;
}

const msgpack_object *proto_get(const msgpack_object *map, const char *key)
{
	size_t klen = strlen(key);

	if (!map || map->type != MSGPACK_OBJECT_MAP)
		return NULL;
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		if (k->type == MSGPACK_OBJECT_STR && k->via.str.size == klen &&
		    memcmp(k->via.str.ptr, key, klen) == 0)
			return &map->via.map.ptr[i].val;
	}
	return NULL;
}

int proto_get_str(const msgpack_object *map, const char *key, const char **s, size_t *n)
{
	return proto_obj_bytes(proto_get(map, key), s, n) ? 0 : -1;
}

int proto_get_u64(const msgpack_object *map, const char *key, uint64_t *v)
{
	const msgpack_object *o = proto_get(map, key);

	if (!o || o->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
		return -1;
	*v = o->via.u64;
	return 0;
}

int proto_get_i64(const msgpack_object *map, const char *key, int64_t *v)
{
	const msgpack_object *o = proto_get(map, key);

	if (!o)
		return -1;
	if (o->type == MSGPACK_OBJECT_POSITIVE_INTEGER && o->via.u64 <= INT64_MAX)
		*v = (int64_t)o->via.u64;
	else if (o->type == MSGPACK_OBJECT_NEGATIVE_INTEGER)
		*v = o->via.i64;
	else
		return -1;
	return 0;
}

/* Walk the msgpack bytes once, without allocating, before msgpack-c sees
 * them: msgpack-c reserves memory for an array or map as soon as it reads
 * the count, so five bytes claiming 4 billion elements would cost
 * gigabytes. Each element takes at least one byte, so a count larger than
 * the bytes left is a lie; nesting and the number of objects (24 bytes
 * each once decoded, against 1 byte of a nil) are limited too. 0 or -1. */
static int proto_scan(const unsigned char *p, size_t n, const char **why)
{
	uint64_t left[PROTO_MAX_DEPTH + 1];
	size_t pos = 0, objects = 0;
	int depth = 0;

	left[0] = 1;
	while (depth >= 0) {
		uint64_t count = 0, skip = 0;
		int container = 0;
		unsigned char b;

		if (left[depth] == 0) {
			depth--;
			continue;
		}
		left[depth]--;
		if (pos >= n) {
			*why = "truncated msgpack";
			return -1;
		}
		if (++objects > PROTO_MAX_OBJECTS) {
			*why = "more objects than a message holds";
			return -1;
		}
		b = p[pos++];
#define NEED(k)                                                                                                \
	do {                                                                                                   \
		if (n - pos < (k)) {                                                                           \
			*why = "truncated msgpack";                                                            \
			return -1;                                                                             \
		}                                                                                              \
	} while (0)
#define BE(k) proto_be(p + pos, k)
		if (b <= 0x7f || b >= 0xe0 || b == 0xc0 || b == 0xc2 || b == 0xc3) {
			skip = 0;
		} else if (b >= 0x80 && b <= 0x8f) {
			count = 2u * (b & 0x0f);
			container = 1;
		} else if (b >= 0x90 && b <= 0x9f) {
			count = b & 0x0f;
			container = 1;
		} else if (b >= 0xa0 && b <= 0xbf) {
			skip = b & 0x1f;
		} else {
			switch (b) {
			case 0xc4: case 0xd9: NEED(1); skip = 1 + BE(1); break;
			case 0xc5: case 0xda: NEED(2); skip = 2 + BE(2); break;
			case 0xc6: case 0xdb: NEED(4); skip = 4 + BE(4); break;
			case 0xc7: NEED(1); skip = 2 + BE(1); break;
			case 0xc8: NEED(2); skip = 3 + BE(2); break;
			case 0xc9: NEED(4); skip = 5 + BE(4); break;
			case 0xca: skip = 4; break;
			case 0xcb: skip = 8; break;
			case 0xcc: case 0xd0: skip = 1; break;
			case 0xcd: case 0xd1: skip = 2; break;
			case 0xce: case 0xd2: skip = 4; break;
			case 0xcf: case 0xd3: skip = 8; break;
			case 0xd4: skip = 2; break;
			case 0xd5: skip = 3; break;
			case 0xd6: skip = 5; break;
			case 0xd7: skip = 9; break;
			case 0xd8: skip = 17; break;
			case 0xdc: NEED(2); count = BE(2); pos += 2; container = 1; break;
			case 0xdd: NEED(4); count = BE(4); pos += 4; container = 1; break;
			case 0xde: NEED(2); count = 2 * BE(2); pos += 2; container = 1; break;
			case 0xdf: NEED(4); count = 2 * BE(4); pos += 4; container = 1; break;
			default:
				*why = "a byte that is not msgpack";
				return -1;
			}
		}
#undef NEED
#undef BE
		if (!container) {
			if (skip > n - pos) {
				*why = "truncated msgpack";
				return -1;
			}
			pos += skip;
			continue;
		}
		if (count > n - pos) {
			*why = "an array or map count larger than the frame";
			return -1;
		}
		if (count == 0)
			continue;
		if (depth == PROTO_MAX_DEPTH) {
			*why = "msgpack nested too deep";
			return -1;
		}
		left[++depth] = count;
	}
	return 0;
}

/* The type of a decoded message; 0 or -1. */
static int proto_type_of(const msgpack_object *obj, enum proto_type *type, struct err *err)
{
	static const struct {
		const char *name;
		enum proto_type type;
	} types[] = {
		{"hello", PROTO_HELLO}, {"task", PROTO_TASK},     {"ready", PROTO_READY},
		{"child", PROTO_CHILD}, {"result", PROTO_RESULT},
	};
	const msgpack_object *t;

	if (obj->type != MSGPACK_OBJECT_MAP) {
		err_set(err, "message is not a map");
		return -1;
	}
	t = proto_get(obj, "type");
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		if (proto_obj_is(t, types[i].name)) {
			*type = types[i].type;
			return 0;
		}
	}
	err_set(err, "message has no known type");
	return -1;
}

int proto_decode_zone(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj, enum proto_type *type,
                      struct err *err)
{
	const char *why = NULL;
	size_t off = 0;

	if (proto_scan((const unsigned char *)p, n, &why) < 0) {
		err_set(err, "bad frame of %zu bytes: %s", n, why);
		return -1;
	}
	if (msgpack_unpack(p, n, &off, zone, obj) != MSGPACK_UNPACK_SUCCESS) {
		err_set(err, "malformed msgpack in frame of %zu bytes", n);
		return -1;
	}
	if (off != n) {
		err_set(err, "%zu bytes of garbage after the message", n - off);
		return -1;
	}
	return proto_type_of(obj, type, err);
}

int proto_decode(const char *p, size_t n, msgpack_unpacked *unp, enum proto_type *type, struct err *err)
{
	const char *why = NULL;
	size_t off = 0;
	int r = -1;

	msgpack_unpacked_init(unp);
	if (proto_scan((const unsigned char *)p, n, &why) < 0) {
		err_set(err, "bad frame of %zu bytes: %s", n, why);
		goto out;
	}
	if (msgpack_unpack_next(unp, p, n, &off) != MSGPACK_UNPACK_SUCCESS) {
		err_set(err, "malformed msgpack in frame of %zu bytes", n);
		goto out;
	}
	if (off != n) {
		err_set(err, "%zu bytes of garbage after the message", n - off);
		goto out;
	}
	r = proto_type_of(&unp->data, type, err);
out:
	if (r != 0) {
		msgpack_unpacked_destroy(unp);
		msgpack_unpacked_init(unp);
	}
	return r;
}
