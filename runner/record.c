/* record: result records as JSON. */
#include "record.h"

#include <string.h>

#include "buf.h"
#include "clock.h"
#include "proto.h"

/* Standard base64. Written here because neither jansson nor the other
 * libraries we link expose an encoder, and it is a dozen lines. */
static char *record_base64(const unsigned char *p, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *out = xmalloc((n + 2) / 3 * 4 + 1), *o = out;
	size_t i;

	for (i = 0; i + 2 < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (uint32_t)p[i + 1] << 8 | p[i + 2];
		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = tbl[v >> 6 & 63];
		*o++ = tbl[v & 63];
	}
	if (i < n) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0);
		*o++ = tbl[v >> 18 & 63];
		*o++ = tbl[v >> 12 & 63];
		*o++ = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		*o++ = '=';
	}
	*o = '\0';
	return out;
}

void record_set_bytes(json_t *obj, const char *key, const char *p, size_t n)
{
	/* json_stringn validates UTF-8 and keeps NUL bytes (written \u0000). */
	json_t *s = json_stringn(p ? p : "", n);
	char b64key[128];

	if (s) {
		json_object_set_new(obj, key, s);
		return;
	}
	snprintf(b64key, sizeof(b64key), "%s_b64", key);
	char *enc = record_base64((const unsigned char *)p, n);
	json_object_set_new(obj, b64key, json_string(enc));
	free(enc);
}

/* msgpack -> JSON for the parts of a result we pass through (steps, vars).
 * Depth is bounded by msgpack-c's own unpacker limit. */
static json_t *record_from_obj(const msgpack_object *o)
{
	json_t *j;

	switch (o->type) {
	case MSGPACK_OBJECT_NIL:
		return json_null();
	case MSGPACK_OBJECT_BOOLEAN:
		return json_boolean(o->via.boolean);
	case MSGPACK_OBJECT_POSITIVE_INTEGER:
		return json_integer(o->via.u64 > INT64_MAX ? INT64_MAX : (json_int_t)o->via.u64);
	case MSGPACK_OBJECT_NEGATIVE_INTEGER:
		return json_integer(o->via.i64);
	case MSGPACK_OBJECT_FLOAT32:
	case MSGPACK_OBJECT_FLOAT64:
		return json_real(o->via.f64);
	case MSGPACK_OBJECT_STR:
	case MSGPACK_OBJECT_BIN: {
		const char *p;
		size_t n;
		proto_obj_bytes(o, &p, &n);
		j = json_stringn(p, n);
		if (!j) {
			char *enc = record_base64((const unsigned char *)p, n);
			j = json_string(enc);
			free(enc);
		}
		return j;
	}
	case MSGPACK_OBJECT_ARRAY:
		j = json_array();
		for (uint32_t i = 0; i < o->via.array.size; i++)
			json_array_append_new(j, record_from_obj(&o->via.array.ptr[i]));
		return j;
	case MSGPACK_OBJECT_MAP:
		j = json_object();
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			const msgpack_object *k = &o->via.map.ptr[i].key;
			const msgpack_object *v = &o->via.map.ptr[i].val;
			const char *kp, *vp;
			size_t kn, vn;
			char key[128];

			if (!proto_obj_bytes(k, &kp, &kn) || kn >= sizeof(key) - 4 || memchr(kp, 0, kn))
				continue;
			memcpy(key, kp, kn);
			key[kn] = '\0';
			if (proto_obj_bytes(v, &vp, &vn))
				record_set_bytes(j, key, vp, vn);
			else
				json_object_set_new_nocheck(j, key, record_from_obj(v));
		}
		return j;
	default:
		return json_null();
	}
}

static json_t *record_head(const struct record_info *info, enum status status)
{
	json_t *rec = json_object();
	char when[40];

	clock_iso8601(info->started_wall_ms, when, sizeof(when));
	record_set_bytes(rec, "host", info->host, strlen(info->host));
	json_object_set_new(rec, "job", json_string(info->job));
	json_object_set_new(rec, "status", json_string(status_name(status)));
	json_object_set_new(rec, "attempt", json_integer(info->attempt));
	json_object_set_new(rec, "started", json_string(when));
	json_object_set_new(rec, "duration_ms", json_integer(info->duration_ms));
	json_object_set_new(rec, "worker", info->worker ? json_integer(info->worker) : json_null());
	return rec;
}

json_t *record_make(const struct record_info *info, enum status status, const char *error)
{
	json_t *rec = record_head(info, status);

	json_object_set_new(rec, "steps", json_array());
	json_object_set_new(rec, "vars", json_object());
	if (error)
		record_set_bytes(rec, "error", error, strlen(error));
	else
		json_object_set_new(rec, "error", json_null());
	return rec;
}

json_t *record_from_result(const msgpack_object *res, const struct record_info *info, enum status *status,
                           struct err *err)
{
	const msgpack_object *steps = proto_get(res, "steps");
	const msgpack_object *vars = proto_get(res, "vars");
	const msgpack_object *error = proto_get(res, "error");
	struct record_info ri = *info;
	const char *sp;
	size_t sn;
	int st;
	int64_t v;
	json_t *rec;

	if (proto_get_str(res, "status", &sp, &sn) < 0 || (st = status_parse(sp, sn)) < 0) {
		err_set(err, "result without a known status");
		return NULL;
	}
	if (!steps || steps->type != MSGPACK_OBJECT_ARRAY) {
		err_set(err, "result without a steps array");
		return NULL;
	}
	if (proto_get_i64(res, "started_ms", &v) == 0)
		ri.started_wall_ms = v;
	if (proto_get_i64(res, "duration_ms", &v) == 0)
		ri.duration_ms = v;
	rec = record_head(&ri, (enum status)st);
	json_object_set_new(rec, "steps", record_from_obj(steps));
	json_object_set_new(rec, "vars",
	                    vars && vars->type == MSGPACK_OBJECT_MAP ? record_from_obj(vars) : json_object());
	if (error && (error->type == MSGPACK_OBJECT_STR || error->type == MSGPACK_OBJECT_BIN))
		record_set_bytes(rec, "error", error->via.str.ptr, error->via.str.size);
	else
		json_object_set_new(rec, "error", json_null());
	*status = (enum status)st;
	return rec;
}
