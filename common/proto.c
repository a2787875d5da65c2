/* proto: msgpack encoding and decoding of the worker protocol: the
 * encoders and decoders of every message, the byte walk that bounds what a
 * peer can make us allocate, and the result's field tables. */
#include "proto.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "frame.h"
#include "log.h"

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

/* A map of the pairs of l (NULL: an empty map). */
static void proto_pack_kvlist(msgpack_packer *pk, const struct kvlist *l)
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
	msgpack_pack_map(&pk, 6);
	proto_pack_cstr(&pk, "output_cap");
	msgpack_pack_uint64(&pk, s->output_cap);
	proto_pack_cstr(&pk, "log_level");
	msgpack_pack_int(&pk, s->log_level);
	proto_pack_cstr(&pk, "cpu_limit_ms");
	msgpack_pack_int64(&pk, s->cpu_limit_ms);
	proto_pack_cstr(&pk, "max_logins");
	msgpack_pack_int(&pk, s->max_logins);
	proto_pack_cstr(&pk, "jump_max_logins");
	msgpack_pack_int(&pk, s->jump_max_logins);
	proto_pack_cstr(&pk, "transcript");
	if (s->transcript)
		msgpack_pack_true(&pk);
	else
		msgpack_pack_false(&pk);
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
		{"child", PROTO_CHILD}, {"result", PROTO_RESULT},   {"login", PROTO_LOGIN},
		{"login_grant", PROTO_LOGIN_GRANT}, {"login_done", PROTO_LOGIN_DONE},
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

int proto_decode(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj, enum proto_type *type,
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

/* The hello, as the worker reads it: the supervisor's settings, with the
 * defaults for any it did not send. */
int proto_decode_hello(const msgpack_object *m, struct proto_hello *h, struct err *err)
{
	const msgpack_object *settings = proto_get(m, "settings"), *tx;
	uint64_t version = 0, cap;
	int64_t lvl, cpu, logins;

	memset(h, 0, sizeof(*h));
	if (proto_get_u64(m, "version", &version) < 0 || version != PROTO_VERSION) {
		err_set(err, "protocol version %llu, this worker speaks %d", (unsigned long long)version,
		        PROTO_VERSION);
		return -1;
	}
	if (proto_get_str(m, "job", &h->job.p, &h->job.n) < 0 ||
	    proto_get_str(m, "job_path", &h->job_path.p, &h->job_path.n) < 0) {
		err_set(err, "hello without a job");
		return -1;
	}
	h->settings.output_cap = proto_get_u64(settings, "output_cap", &cap) == 0 ? cap : PROTO_DEFAULT_OUTPUT_CAP;
	h->settings.log_level = proto_get_i64(settings, "log_level", &lvl) == 0 ? (int)lvl : LOG_WARN;
	h->settings.cpu_limit_ms = proto_get_i64(settings, "cpu_limit_ms", &cpu) == 0 && cpu > 0 ? cpu : 0;
	h->settings.max_logins =
		proto_get_i64(settings, "max_logins", &logins) == 0 && logins > 0 && logins <= INT32_MAX ? (int)logins : 0;
	h->settings.jump_max_logins =
		proto_get_i64(settings, "jump_max_logins", &logins) == 0 && logins > 0 && logins <= INT32_MAX ? (int)logins
		                                                                                              : 0;
	tx = proto_get(settings, "transcript");
	h->settings.transcript = tx && tx->type == MSGPACK_OBJECT_BOOLEAN && tx->via.boolean;
	return 0;
}

int proto_decode_task(const msgpack_object *m, struct proto_task *t, struct err *err)
{
	const msgpack_object *vars = proto_get(m, "vars");
	const char *host;
	size_t hlen;
	uint64_t attempt;

	memset(t, 0, sizeof(*t));
	if (proto_get_u64(m, "id", &t->id) < 0 || proto_get_str(m, "host", &host, &hlen) < 0 ||
	    proto_get_i64(m, "timeout_ms", &t->timeout_ms) < 0) {
		err_set(err, "task without id, host or timeout_ms");
		return -1;
	}
	t->attempt = proto_get_u64(m, "attempt", &attempt) == 0 ? (uint32_t)attempt : 1;
	t->host = xstrndup(host, hlen);
	if (vars && vars->type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < vars->via.map.size; i++) {
			const char *k, *v;
			size_t kn, vn;
			if (proto_obj_bytes(&vars->via.map.ptr[i].key, &k, &kn) &&
			    proto_obj_bytes(&vars->via.map.ptr[i].val, &v, &vn))
				kvlist_setn(&t->vars, k, kn, v, vn);
		}
	}
	return 0;
}

void proto_task_free(struct proto_task *t)
{
	free(t->host);
	kvlist_free(&t->vars);
	memset(t, 0, sizeof(*t));
}

int proto_decode_child(const msgpack_object *m, uint64_t *id, int64_t *pgid)
{
	return proto_get_u64(m, "id", id) == 0 && proto_get_i64(m, "pgid", pgid) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------------ the result */

/* How a field is on the wire, and what the decoder accepts for it. */
enum proto_wire {
	PROTO_WIRE_TYPE,        /* "result"; proto_decode checked it */
	PROTO_WIRE_U64,         /* unsigned integer */
	PROTO_WIRE_STATUS,      /* enum status, by name */
	PROTO_WIRE_STR,         /* str (str or bin accepted) */
	PROTO_WIRE_STR_OR_NIL,  /* str, or nil for none */
	PROTO_WIRE_BIN,         /* bin: output, bytes as they came (str or bin accepted);
	                           the supervisor decides how they go into JSON */
	PROTO_WIRE_INT,         /* integer; one past INT64_MAX reads as INT64_MAX */
	PROTO_WIRE_MS,          /* int64 milliseconds; any other number reads as
	                           absent: a worker's clock is a hint */
	PROTO_WIRE_DOUBLE,      /* float64 (any number accepted) */
	PROTO_WIRE_BOOL,
	PROTO_WIRE_STEPS,       /* array of step maps (proto_step_fields) */
	PROTO_WIRE_VARS,        /* map of captured vars, passed through */
	PROTO_WIRE_KNOWN_HOSTS, /* [{line: str}, ...] (or one {line: str}) */
	PROTO_WIRE_SSH,         /* map of proto_ssh_fields */
	PROTO_WIRE_PARSED,      /* parsed records (proto.h): packed by the
	                           worker, checked by the decoder */
};

#define PROTO_TEXT_(x) #x
#define PROTO_TEXT(x) PROTO_TEXT_(x)

/* What the decoder says of a field of the wrong type. */
static const char *const proto_wire_expected[] = {
	[PROTO_WIRE_TYPE] = "a message type",
	[PROTO_WIRE_U64] = "an unsigned integer",
	[PROTO_WIRE_STATUS] = "a known status",
	[PROTO_WIRE_STR] = "a string",
	[PROTO_WIRE_STR_OR_NIL] = "a string or nil",
	[PROTO_WIRE_BIN] = "a string",
	[PROTO_WIRE_INT] = "an integer",
	[PROTO_WIRE_MS] = "a number",
	[PROTO_WIRE_DOUBLE] = "a number",
	[PROTO_WIRE_BOOL] = "true or false",
	[PROTO_WIRE_STEPS] = "an array of at most " PROTO_TEXT(PROTO_MAX_STEPS) " maps",
	[PROTO_WIRE_VARS] = "a map",
	[PROTO_WIRE_KNOWN_HOSTS] = "an array of at most " PROTO_TEXT(PROTO_MAX_KNOWN_HOSTS) " maps with a line",
	[PROTO_WIRE_SSH] = "a map",
	[PROTO_WIRE_PARSED] = "an array of records (maps of strings and lists of strings)",
};

struct proto_field {
	const char *name;
	enum proto_wire wire;
	size_t off;      /* of the value in its struct */
	uint32_t bit;    /* in its struct's has */
	uint32_t yields; /* decoding: when one of these fields is there, this
	                    one is checked but not stored (body to stdout) */
};

#define PROTO_STEP_AT(member) offsetof(struct proto_step, member)
#define PROTO_RESULT_AT(member) offsetof(struct proto_result, member)

/* In the order the worker sends them (and the JSON record shows them). */
static const struct proto_field proto_step_fields[] = {
	{PROTO_KEY_KIND, PROTO_WIRE_STR, PROTO_STEP_AT(kind), PROTO_STEP_KIND, 0},
	{PROTO_KEY_NAME, PROTO_WIRE_STR, PROTO_STEP_AT(name), PROTO_STEP_NAME, 0},
	{PROTO_KEY_EXIT, PROTO_WIRE_INT, PROTO_STEP_AT(exit_code), PROTO_STEP_EXIT, 0},
	{PROTO_KEY_SIGNAL, PROTO_WIRE_STR, PROTO_STEP_AT(signal), PROTO_STEP_SIGNAL, 0},
	{PROTO_KEY_STDOUT, PROTO_WIRE_BIN, PROTO_STEP_AT(out), PROTO_STEP_STDOUT, 0},
	{PROTO_KEY_STDERR, PROTO_WIRE_BIN, PROTO_STEP_AT(err), PROTO_STEP_STDERR, 0},
	{PROTO_KEY_HTTP_STATUS, PROTO_WIRE_INT, PROTO_STEP_AT(http_status), PROTO_STEP_HTTP_STATUS, 0},
	{PROTO_KEY_BODY, PROTO_WIRE_BIN, PROTO_STEP_AT(out), PROTO_STEP_BODY, PROTO_STEP_STDOUT},
	{PROTO_KEY_WITHHELD, PROTO_WIRE_STR, PROTO_STEP_AT(withheld), PROTO_STEP_WITHHELD, 0},
	{PROTO_KEY_CONNECT_MS, PROTO_WIRE_DOUBLE, PROTO_STEP_AT(connect_ms), PROTO_STEP_CONNECT_MS, 0},
	{PROTO_KEY_SENT, PROTO_WIRE_INT, PROTO_STEP_AT(sent), PROTO_STEP_SENT, 0},
	{PROTO_KEY_RECEIVED, PROTO_WIRE_INT, PROTO_STEP_AT(received), PROTO_STEP_RECEIVED, 0},
	{PROTO_KEY_RTT_MS, PROTO_WIRE_DOUBLE, PROTO_STEP_AT(rtt_ms), PROTO_STEP_RTT_MS, 0},
	{PROTO_KEY_TRUNCATED, PROTO_WIRE_BOOL, PROTO_STEP_AT(truncated), PROTO_STEP_TRUNCATED, 0},
	{PROTO_KEY_PARSED, PROTO_WIRE_PARSED, PROTO_STEP_AT(parsed_packed), PROTO_STEP_PARSED, 0},
	{PROTO_KEY_STATUS, PROTO_WIRE_STR, PROTO_STEP_AT(status), PROTO_STEP_STATUS, 0},
	{PROTO_KEY_ERROR, PROTO_WIRE_STR, PROTO_STEP_AT(error), PROTO_STEP_ERROR, 0},
	{PROTO_KEY_DURATION_MS, PROTO_WIRE_MS, PROTO_STEP_AT(duration_ms), PROTO_STEP_DURATION_MS, 0},
};

#define PROTO_SSH_AT(member) offsetof(struct proto_ssh, member)

static const struct proto_field proto_ssh_fields[] = {
	{"kex", PROTO_WIRE_STR, PROTO_SSH_AT(kex), PROTO_SSH_KEX, 0},
	{"hostkey", PROTO_WIRE_STR, PROTO_SSH_AT(hostkey), PROTO_SSH_HOSTKEY, 0},
	{"cipher", PROTO_WIRE_STR, PROTO_SSH_AT(cipher), PROTO_SSH_CIPHER, 0},
	{"mac", PROTO_WIRE_STR, PROTO_SSH_AT(mac), PROTO_SSH_MAC, 0},
	{"auth", PROTO_WIRE_STR, PROTO_SSH_AT(auth), PROTO_SSH_AUTH, 0},
};

static const struct proto_field proto_result_fields[] = {
	{"type", PROTO_WIRE_TYPE, 0, PROTO_RESULT_TYPE, 0},
	{"id", PROTO_WIRE_U64, PROTO_RESULT_AT(id), PROTO_RESULT_ID, 0},
	{"status", PROTO_WIRE_STATUS, PROTO_RESULT_AT(status), PROTO_RESULT_STATUS, 0},
	{"steps", PROTO_WIRE_STEPS, 0, PROTO_RESULT_STEPS, 0},
	{"vars", PROTO_WIRE_VARS, 0, PROTO_RESULT_VARS, 0},
	{"error", PROTO_WIRE_STR_OR_NIL, PROTO_RESULT_AT(error), PROTO_RESULT_ERROR, 0},
	{"started_ms", PROTO_WIRE_MS, PROTO_RESULT_AT(started_ms), PROTO_RESULT_STARTED_MS, 0},
	{"duration_ms", PROTO_WIRE_MS, PROTO_RESULT_AT(duration_ms), PROTO_RESULT_DURATION_MS, 0},
	{"known_hosts_add", PROTO_WIRE_KNOWN_HOSTS, PROTO_RESULT_AT(known_hosts_lines), PROTO_RESULT_KNOWN_HOSTS, 0},
	{"jump", PROTO_WIRE_STR, PROTO_RESULT_AT(jump), PROTO_RESULT_JUMP, 0},
	{"ssh", PROTO_WIRE_SSH, PROTO_RESULT_AT(ssh), PROTO_RESULT_SSH, 0},
	{"transcript", PROTO_WIRE_BIN, PROTO_RESULT_AT(transcript), PROTO_RESULT_TRANSCRIPT, 0},
};

/* What every result carries, whatever has says; error goes as nil when
 * there is none. */
#define PROTO_RESULT_ALWAYS                                                                                  \
	(PROTO_RESULT_TYPE | PROTO_RESULT_ID | PROTO_RESULT_STATUS | PROTO_RESULT_STEPS | PROTO_RESULT_VARS | \
	 PROTO_RESULT_ERROR | PROTO_RESULT_STARTED_MS | PROTO_RESULT_DURATION_MS)
/* What a result is refused without. */
#define PROTO_RESULT_REQUIRED (PROTO_RESULT_ID | PROTO_RESULT_STATUS | PROTO_RESULT_STEPS)

static void proto_pack_fields(msgpack_packer *pk, const struct proto_field *f, size_t nf, const void *obj,
                              uint32_t has);

static void proto_pack_field(msgpack_packer *pk, const struct proto_field *f, const void *obj)
{
	const char *at = (const char *)obj + f->off;
	const struct proto_str *s = (const struct proto_str *)(const void *)at;
	const struct proto_result *r = obj;

	proto_pack_cstr(pk, f->name);
	switch (f->wire) {
	case PROTO_WIRE_TYPE:
		proto_pack_cstr(pk, "result");
		break;
	case PROTO_WIRE_U64:
		msgpack_pack_uint64(pk, *(const uint64_t *)(const void *)at);
		break;
	case PROTO_WIRE_STATUS:
		proto_pack_cstr(pk, status_name(*(const enum status *)(const void *)at));
		break;
	case PROTO_WIRE_STR:
		proto_pack_str(pk, s->p ? s->p : "", s->n);
		break;
	case PROTO_WIRE_STR_OR_NIL:
		if (s->p)
			proto_pack_str(pk, s->p, s->n);
		else
			msgpack_pack_nil(pk);
		break;
	case PROTO_WIRE_BIN:
		msgpack_pack_bin(pk, s->n);
		msgpack_pack_bin_body(pk, s->p ? s->p : "", s->n);
		break;
	case PROTO_WIRE_INT:
	case PROTO_WIRE_MS:
		msgpack_pack_int64(pk, *(const int64_t *)(const void *)at);
		break;
	case PROTO_WIRE_DOUBLE:
		msgpack_pack_double(pk, *(const double *)(const void *)at);
		break;
	case PROTO_WIRE_BOOL:
		if (*(const bool *)at)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
		break;
	case PROTO_WIRE_STEPS:
		msgpack_pack_array(pk, r->nsteps);
		for (size_t i = 0; i < r->nsteps; i++)
			proto_pack_fields(pk, proto_step_fields, ARRAY_LEN(proto_step_fields), &r->steps[i],
			                  r->steps[i].has);
		break;
	case PROTO_WIRE_VARS:
		proto_pack_kvlist(pk, r->vars);
		break;
	case PROTO_WIRE_KNOWN_HOSTS:
		/* the line only: the supervisor, the only writer of
		 * known_hosts, checks it and appends it to the file it
		 * derives itself (a worker never names one) */
		msgpack_pack_array(pk, r->nknown_hosts);
		for (size_t i = 0; i < r->nknown_hosts; i++) {
			msgpack_pack_map(pk, 1);
			proto_pack_cstr(pk, "line");
			proto_pack_str(pk, s[i].p ? s[i].p : "", s[i].n);
		}
		break;
	case PROTO_WIRE_SSH:
		proto_pack_fields(pk, proto_ssh_fields, ARRAY_LEN(proto_ssh_fields), &r->ssh, r->ssh.has);
		break;
	case PROTO_WIRE_PARSED:
		/* packed already (worker/step_parse.c): appended as it is; a
		 * decoded view goes out as it came */
		if (s->n)
			pk->callback(pk->data, s->p, s->n);
		else if (((const struct proto_step *)obj)->parsed)
			msgpack_pack_object(pk, *((const struct proto_step *)obj)->parsed);
		else
			msgpack_pack_array(pk, 0);
		break;
	}
}

/* A map of the fields has names: the size is counted from the same table
 * and bits that write them, so the two cannot disagree. */
static void proto_pack_fields(msgpack_packer *pk, const struct proto_field *f, size_t nf, const void *obj,
                              uint32_t has)
{
	size_t n = 0;

	for (size_t i = 0; i < nf; i++)
		n += (has & f[i].bit) != 0;
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < nf; i++)
		if (has & f[i].bit)
			proto_pack_field(pk, &f[i], obj);
}

void proto_encode_result(struct buf *out, const struct proto_result *r)
{
	msgpack_packer pk;
	size_t start = frame_begin(out);

	proto_packer_init(&pk, out);
	proto_pack_fields(&pk, proto_result_fields, ARRAY_LEN(proto_result_fields), r,
	                  r->has | PROTO_RESULT_ALWAYS);
	frame_end(out, start);
}

/* Where a decoding error is: "result" or "result step 3". */
struct proto_where {
	msgpack_zone *zone;
	size_t step; /* 1-based; 0 for the result itself */
	const char *msg; /* the message's type, for errors */
};

static int proto_unpack_fields(const msgpack_object *map, const struct proto_field *f, size_t nf, void *obj,
                               uint32_t *has, struct proto_where *w, struct err *err);

/* A cell of a parsed record: a string, or a List's array of strings,
 * nils and maps of strings (or nils). */
static bool proto_parsed_cell(const msgpack_object *v, bool in_list)
{
	const msgpack_object_kv *kv;

	if (v->type == MSGPACK_OBJECT_STR)
		return true;
	if (in_list && v->type == MSGPACK_OBJECT_NIL)
		return true;
	if (in_list && v->type == MSGPACK_OBJECT_MAP) {
		kv = v->via.map.ptr;
		for (uint32_t i = 0; i < v->via.map.size; i++)
			if (kv[i].key.type != MSGPACK_OBJECT_STR ||
			    (kv[i].val.type != MSGPACK_OBJECT_STR && kv[i].val.type != MSGPACK_OBJECT_NIL))
				return false;
		return true;
	}
	if (in_list || v->type != MSGPACK_OBJECT_ARRAY)
		return false;
	for (uint32_t i = 0; i < v->via.array.size; i++)
		if (!proto_parsed_cell(&v->via.array.ptr[i], true))
			return false;
	return true;
}

/* The parsed records of a step: their shape is checked here, once, so
 * that every reader of the typed view can rely on it. */
static int proto_unpack_parsed(const msgpack_object *v, void *obj)
{
	if (v->type != MSGPACK_OBJECT_ARRAY)
		return -1;
	for (uint32_t i = 0; i < v->via.array.size; i++) {
		const msgpack_object *rec = &v->via.array.ptr[i];
		if (rec->type != MSGPACK_OBJECT_MAP)
			return -1;
		for (uint32_t k = 0; k < rec->via.map.size; k++)
			if (rec->via.map.ptr[k].key.type != MSGPACK_OBJECT_STR ||
			    !proto_parsed_cell(&rec->via.map.ptr[k].val, false))
				return -1;
	}
	if (obj)
		((struct proto_step *)obj)->parsed = v;
	return 1;
}

static int proto_unpack_steps(const msgpack_object *v, struct proto_result *r, struct proto_where *w,
                              struct err *err)
{
	if (v->type != MSGPACK_OBJECT_ARRAY || v->via.array.size > PROTO_MAX_STEPS)
		return -1;
	r->nsteps = v->via.array.size;
	r->steps = r->nsteps ? msgpack_zone_malloc(w->zone, r->nsteps * sizeof(*r->steps)) : NULL;
	if (r->nsteps && !r->steps) {
		err_set(err, "out of memory decoding a result");
		return -2;
	}
	for (size_t i = 0; i < r->nsteps; i++) {
		struct proto_step *st = &r->steps[i];

		memset(st, 0, sizeof(*st));
		st->raw = &v->via.array.ptr[i];
		w->step = i + 1;
		if (st->raw->type != MSGPACK_OBJECT_MAP) {
			err_set(err, "result step %zu of 'steps': expected a map", w->step);
			return -2;
		}
		if (proto_unpack_fields(st->raw, proto_step_fields, ARRAY_LEN(proto_step_fields), st, &st->has, w,
		                        err) < 0)
			return -2;
	}
	w->step = 0;
	return 1;
}

/* known_hosts_add: an array of {line} maps, or one map. */
static int proto_unpack_known_hosts(const msgpack_object *v, void *obj)
{
	struct proto_result *r = obj;
	const msgpack_object *items = v;
	uint32_t n = 1;

	if (v->type == MSGPACK_OBJECT_ARRAY) {
		items = v->via.array.ptr;
		n = v->via.array.size;
		if (n == 0 || n > PROTO_MAX_KNOWN_HOSTS)
			return -1;
	}
	for (uint32_t i = 0; i < n; i++) {
		const msgpack_object *line = proto_get(&items[i], "line");
		struct proto_str s;

		if (!line || !proto_obj_bytes(line, &s.p, &s.n))
			return -1;
		if (r)
			r->known_hosts_lines[i] = s;
	}
	if (r)
		r->nknown_hosts = n;
	return 1;
}

/* One field's value into obj (NULL: only check it). 1: stored; 0: let
 * through as absent (nil for none, a clock that is not an int64); -1: of
 * the wrong type; -2: err already said why. */
static int proto_unpack_field(const struct proto_field *f, const msgpack_object *v, void *obj,
                              struct proto_where *w, struct err *err)
{
	char *at = obj ? (char *)obj + f->off : NULL;
	struct proto_str s;
	int st;

	switch (f->wire) {
	case PROTO_WIRE_TYPE:
		return 0;
	case PROTO_WIRE_U64:
		if (v->type != MSGPACK_OBJECT_POSITIVE_INTEGER)
			return -1;
		if (at)
			*(uint64_t *)(void *)at = v->via.u64;
		return 1;
	case PROTO_WIRE_STATUS:
		if (!proto_obj_bytes(v, &s.p, &s.n) || (st = status_parse(s.p, s.n)) < 0)
			return -1;
		if (at)
			*(enum status *)(void *)at = (enum status)st;
		return 1;
	case PROTO_WIRE_STR_OR_NIL:
		if (v->type == MSGPACK_OBJECT_NIL)
			return 0;
		/* fall through */
	case PROTO_WIRE_STR:
	case PROTO_WIRE_BIN:
		if (!proto_obj_bytes(v, &s.p, &s.n))
			return -1;
		if (at)
			*(struct proto_str *)(void *)at = s;
		return 1;
	case PROTO_WIRE_INT:
	case PROTO_WIRE_MS:
		if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER && (v->via.u64 <= INT64_MAX || f->wire == PROTO_WIRE_INT)) {
			if (at)
				*(int64_t *)(void *)at = v->via.u64 > INT64_MAX ? INT64_MAX : (int64_t)v->via.u64;
			return 1;
		}
		if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			if (at)
				*(int64_t *)(void *)at = v->via.i64;
			return 1;
		}
		if (f->wire == PROTO_WIRE_MS &&
		    (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER || v->type == MSGPACK_OBJECT_FLOAT32 ||
		     v->type == MSGPACK_OBJECT_FLOAT64))
			return 0;
		return -1;
	case PROTO_WIRE_DOUBLE:
		if (v->type == MSGPACK_OBJECT_FLOAT32 || v->type == MSGPACK_OBJECT_FLOAT64) {
			if (at)
				*(double *)(void *)at = v->via.f64;
		} else if (v->type == MSGPACK_OBJECT_POSITIVE_INTEGER) {
			if (at)
				*(double *)(void *)at = (double)v->via.u64;
		} else if (v->type == MSGPACK_OBJECT_NEGATIVE_INTEGER) {
			if (at)
				*(double *)(void *)at = (double)v->via.i64;
		} else {
			return -1;
		}
		return 1;
	case PROTO_WIRE_BOOL:
		if (v->type != MSGPACK_OBJECT_BOOLEAN)
			return -1;
		if (at)
			*(bool *)at = v->via.boolean;
		return 1;
	case PROTO_WIRE_STEPS:
		return proto_unpack_steps(v, obj, w, err);
	case PROTO_WIRE_VARS:
		if (v->type != MSGPACK_OBJECT_MAP)
			return -1;
		((struct proto_result *)obj)->vars_raw = v;
		return 1;
	case PROTO_WIRE_KNOWN_HOSTS:
		return proto_unpack_known_hosts(v, obj);
	case PROTO_WIRE_PARSED:
		return proto_unpack_parsed(v, obj);
	case PROTO_WIRE_SSH:
		if (v->type != MSGPACK_OBJECT_MAP)
			return -1;
		if (!obj)
			return 1;
		((struct proto_ssh *)(void *)at)->raw = v;
		return proto_unpack_fields(v, proto_ssh_fields, ARRAY_LEN(proto_ssh_fields), at,
		                           &((struct proto_ssh *)(void *)at)->has, w, err) < 0 ? -2 : 1;
	}
	return -1;
}

/* The fields of one map into obj. A key met twice counts the first time,
 * as proto_get reads it; keys of no field are left to the raw map. */
static int proto_unpack_fields(const msgpack_object *map, const struct proto_field *f, size_t nf, void *obj,
                               uint32_t *has, struct proto_where *w, struct err *err)
{
	for (uint32_t i = 0; i < map->via.map.size; i++) {
		const msgpack_object *k = &map->via.map.ptr[i].key;
		const struct proto_field *fld = NULL;
		int rc;

		if (k->type != MSGPACK_OBJECT_STR)
			continue;
		for (size_t j = 0; j < nf && !fld; j++)
			if (strlen(f[j].name) == k->via.str.size && memcmp(f[j].name, k->via.str.ptr, k->via.str.size) == 0)
				fld = &f[j];
		if (!fld || (*has & fld->bit))
			continue;
		rc = proto_unpack_field(fld, &map->via.map.ptr[i].val, (*has & fld->yields) ? NULL : obj, w, err);
		if (rc == -2)
			return -1;
		if (rc < 0) {
			if (w->step)
				err_set(err, "result step %zu, field '%s': expected %s", w->step, fld->name,
				        proto_wire_expected[fld->wire]);
			else
				err_set(err, "%s field '%s': expected %s", w->msg, fld->name, proto_wire_expected[fld->wire]);
			return -1;
		}
		if (rc > 0)
			*has |= fld->bit;
	}
	return 0;
}

int proto_decode_result(const msgpack_object *m, msgpack_zone *zone, struct proto_result *r, struct err *err)
{
	struct proto_where w = {zone, 0, "result"};
	struct proto_result res;

	memset(&res, 0, sizeof(res));
	if (m->type != MSGPACK_OBJECT_MAP) {
		err_set(err, "result is not a map");
		return -1;
	}
	if (proto_unpack_fields(m, proto_result_fields, ARRAY_LEN(proto_result_fields), &res, &res.has, &w, err) < 0)
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(proto_result_fields); i++) {
		if ((PROTO_RESULT_REQUIRED & proto_result_fields[i].bit) && !(res.has & proto_result_fields[i].bit)) {
			err_set(err, "result without '%s'", proto_result_fields[i].name);
			return -1;
		}
	}
	*r = res;
	return 0;
}

/* ------------------------------------------------------------------ logins */

#define PROTO_LOGIN_AT(member) offsetof(struct proto_login, member)

static const struct proto_field proto_login_fields[] = {
	{"id", PROTO_WIRE_U64, PROTO_LOGIN_AT(id), PROTO_LOGIN_ID, 0},
	{"key", PROTO_WIRE_STR, PROTO_LOGIN_AT(key), PROTO_LOGIN_KEY, 0},
	{"waited_ms", PROTO_WIRE_INT, PROTO_LOGIN_AT(waited_ms), PROTO_LOGIN_WAITED, 0},
};

void proto_encode_login(struct buf *out, enum proto_type type, const struct proto_login *l)
{
	const char *name = type == PROTO_LOGIN_GRANT ? "login_grant" : type == PROTO_LOGIN_DONE ? "login_done" : "login";
	uint32_t has = l->has | PROTO_LOGIN_ID;
	msgpack_packer pk;
	size_t start = frame_begin(out), n = 1;

	proto_packer_init(&pk, out);
	/* the type is not a field of the view: one view, three messages */
	for (size_t i = 0; i < ARRAY_LEN(proto_login_fields); i++)
		n += (has & proto_login_fields[i].bit) != 0;
	msgpack_pack_map(&pk, n);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, name);
	for (size_t i = 0; i < ARRAY_LEN(proto_login_fields); i++)
		if (has & proto_login_fields[i].bit)
			proto_pack_field(&pk, &proto_login_fields[i], l);
	frame_end(out, start);
}

int proto_decode_login(const msgpack_object *m, struct proto_login *l, struct err *err)
{
	struct proto_where w = {NULL, 0, "login"};
	struct proto_login v;

	memset(&v, 0, sizeof(v));
	if (m->type != MSGPACK_OBJECT_MAP) {
		err_set(err, "login message is not a map");
		return -1;
	}
	if (proto_unpack_fields(m, proto_login_fields, ARRAY_LEN(proto_login_fields), &v, &v.has, &w, err) < 0)
		return -1;
	if (!(v.has & PROTO_LOGIN_ID)) {
		err_set(err, "login message without 'id'");
		return -1;
	}
	*l = v;
	return 0;
}
