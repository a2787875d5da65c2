/* libFuzzer target: the protocol decoder (common/proto.c) on one frame's
 * payload, the field accessors on what it decodes, and the supervisor's
 * rendering of a decoded result into a JSON record (runner/record.c).
 *
 * Oracles: proto_decode and proto_decode_zone agree (both refuse, or both
 * decode the same object of the same type); accessors never read outside
 * the object; a record rendered from any map that record_from_result
 * accepts is one valid JSON object (fleetrun's promise: valid JSON Lines
 * whatever the worker sent). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <yajl/yajl_tree.h>

#include "buf.h"
#include "proto.h"
#include "record.h"
#include "util.h"

#define CHECK(cond)                                                                                    \
	do {                                                                                           \
		if (!(cond)) {                                                                         \
			fprintf(stderr, "fuzz_proto: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                       \
		}                                                                                      \
	} while (0)

/* Every key either side reads. */
static const char *const keys[] = {
	"type", "version", "job_path", "job", "settings", "output_cap", "log_level", "id", "attempt", "host",
	"vars", "timeout_ms", "pid", "pgid", "status", "steps", "error", "started_ms", "duration_ms", "stdout",
	"body", "rtt_ms", "connect_ms", "sent", "received", "known_hosts_add", "path", "line", "",
};

static msgpack_zone zone;
static struct record rec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	msgpack_zone_init(&zone, 16384);
	record_init(&rec);
	return 0;
}

/* The accessors on every map of the tree; depth is bounded by the
 * decoder (PROTO_MAX_DEPTH). */
static void touch(const msgpack_object *o)
{
	const char *s;
	size_t n;

	if (proto_obj_bytes(o, &s, &n) && n > 0) {
		/* both ends readable: ASan checks the reads */
		volatile char c = s[0];
		c = s[n - 1];
		(void)c;
	}
	if (o->type == MSGPACK_OBJECT_MAP) {
		for (size_t i = 0; i < ARRAY_LEN(keys); i++) {
			uint64_t u;
			int64_t v;
			const msgpack_object *f = proto_get(o, keys[i]);

			if (proto_get_str(o, keys[i], &s, &n) == 0)
				CHECK(f && proto_obj_bytes(f, &s, &n));
			if (proto_get_u64(o, keys[i], &u) == 0)
				CHECK(f && f->type == MSGPACK_OBJECT_POSITIVE_INTEGER && f->via.u64 == u);
			if (proto_get_i64(o, keys[i], &v) == 0)
				CHECK(f && (f->type == MSGPACK_OBJECT_POSITIVE_INTEGER ||
				            f->type == MSGPACK_OBJECT_NEGATIVE_INTEGER));
			(void)proto_obj_is(f, keys[i]);
		}
		for (uint32_t i = 0; i < o->via.map.size; i++) {
			touch(&o->via.map.ptr[i].key);
			touch(&o->via.map.ptr[i].val);
		}
	} else if (o->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < o->via.array.size; i++)
			touch(&o->via.array.ptr[i]);
	}
}

/* The two decodings are the same object: packed again, the same bytes
 * (msgpack_object_equal compares floats with ==, and NaN != NaN). */
static int same_object(const msgpack_object *a, const msgpack_object *b)
{
	struct buf pa = BUF_INIT, pb = BUF_INIT;
	msgpack_packer pk;
	int same;

	proto_packer_init(&pk, &pa);
	msgpack_pack_object(&pk, *a);
	proto_packer_init(&pk, &pb);
	msgpack_pack_object(&pk, *b);
	same = pa.len == pb.len && memcmp(pa.data, pb.data, pa.len) == 0;
	buf_free(&pa);
	buf_free(&pb);
	return same;
}

/* The rendered record parses as one JSON object. */
static void check_json(const struct record *r)
{
	char errbuf[256];
	char *text = xmalloc(r->json_len + 1);
	yajl_val v;

	memcpy(text, r->json, r->json_len);
	text[r->json_len] = '\0';
	CHECK(strlen(text) == r->json_len); /* no raw NUL in JSON */
	v = yajl_tree_parse(text, errbuf, sizeof(errbuf));
	if (!v)
		fprintf(stderr, "fuzz_proto: record is not JSON (%s): %s\n", errbuf, text);
	CHECK(v && YAJL_IS_OBJECT(v));
	yajl_tree_free(v);
	free(text);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	msgpack_unpacked unp;
	msgpack_object obj;
	enum proto_type t1 = PROTO_HELLO, t2 = PROTO_HELLO;
	struct err e1, e2, e3;
	int a, b;

	a = proto_decode(p, size, &unp, &t1, &e1);
	b = proto_decode_zone(p, size, &zone, &obj, &t2, &e2);
	CHECK(a == b);
	if (a == 0) {
		struct record_info info = {
			.host = "h1",
			.job = "fuzz",
			.attempt = 1,
			.worker = 4242,
			.started_wall_ms = 1763769650476,
			.duration_ms = 7,
		};

		CHECK(t1 == t2);
		CHECK(same_object(&unp.data, &obj));
		touch(&obj);
		/* The supervisor renders results only, but the renderer must
		 * hold for any map a worker could send as one. */
		if (record_from_result(&rec, &obj, &info, &e3) == 0)
			check_json(&rec);
	}
	msgpack_unpacked_destroy(&unp);
	msgpack_zone_clear(&zone);
	return 0;
}
