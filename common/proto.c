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
	msgpack_pack_map(&pk, 2);
	proto_pack_cstr(&pk, "output_cap");
	msgpack_pack_uint64(&pk, s->output_cap);
	proto_pack_cstr(&pk, "log_level");
	msgpack_pack_int(&pk, s->log_level);
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

int proto_decode(const char *p, size_t n, msgpack_unpacked *unp, enum proto_type *type, struct err *err)
{
	static const struct {
		const char *name;
		enum proto_type type;
	} types[] = {
		{"hello", PROTO_HELLO}, {"task", PROTO_TASK},     {"ready", PROTO_READY},
		{"child", PROTO_CHILD}, {"result", PROTO_RESULT},
	};
	size_t off = 0;
	const msgpack_object *t;
	int r = -1;

	msgpack_unpacked_init(unp);
	if (msgpack_unpack_next(unp, p, n, &off) != MSGPACK_UNPACK_SUCCESS) {
		err_set(err, "malformed msgpack in frame of %zu bytes", n);
		goto out;
	}
	if (off != n) {
		err_set(err, "%zu bytes of garbage after the message", n - off);
		goto out;
	}
	if (unp->data.type != MSGPACK_OBJECT_MAP) {
		err_set(err, "message is not a map");
		goto out;
	}
	t = proto_get(&unp->data, "type");
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		if (proto_obj_is(t, types[i].name)) {
			*type = types[i].type;
			r = 0;
			goto out;
		}
	}
	err_set(err, "message has no known type");
out:
	if (r != 0) {
		msgpack_unpacked_destroy(unp);
		msgpack_unpacked_init(unp);
	}
	return r;
}
