/* libFuzzer target: the protocol decoder (common/proto.c) on one frame's
 * payload, the field accessors and message decoders on what it decodes,
 * and the supervisor's rendering of a decoded result into a JSON record
 * (runner/record.c).
 *
 * Oracles: accessors and the typed views never read outside the message;
 * a result the decoder accepts, encoded again from its view, decodes to
 * the same view (encoder and decoder agree on every field); a record
 * rendered from any map proto_decode_result accepts is one valid JSON
 * object (fleetrun's promise: valid JSON Lines whatever the worker
 * sent). */
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
	"body", "rtt_ms", "connect_ms", "sent", "received", "known_hosts_add", "path", "line", "jump", "ssh",
	"transcript", "kex", "hostkey", "cipher", "mac", "auth", "parsed", "",
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

static void touch_str(const struct proto_str *s)
{
	if (s->p && s->n > 0) {
		volatile char c = s->p[0];
		c = s->p[s->n - 1];
		(void)c;
	}
}

static int same_str(const struct proto_str *a, const struct proto_str *b)
{
	return a->n == b->n && (a->n == 0 || memcmp(a->p, b->p, a->n) == 0);
}

/* Two views of one step say the same (doubles bit for bit: NaN). */
static int same_step(const struct proto_step *a, const struct proto_step *b)
{
	return a->has == b->has && same_str(&a->kind, &b->kind) && same_str(&a->name, &b->name) &&
	       same_str(&a->status, &b->status) && same_str(&a->error, &b->error) && same_str(&a->out, &b->out) &&
	       same_str(&a->err, &b->err) && same_str(&a->signal, &b->signal) &&
	       same_str(&a->withheld, &b->withheld) && a->exit_code == b->exit_code &&
	       a->http_status == b->http_status && a->sent == b->sent && a->received == b->received &&
	       a->duration_ms == b->duration_ms && memcmp(&a->connect_ms, &b->connect_ms, sizeof(double)) == 0 &&
	       memcmp(&a->rtt_ms, &b->rtt_ms, sizeof(double)) == 0 && a->truncated == b->truncated &&
	       (a->parsed != NULL) == (b->parsed != NULL) && (!a->parsed || msgpack_object_equal(*a->parsed, *b->parsed));
}

/* The view encoded again decodes to the same view. Its vars are not
 * compared (the encoder takes a kvlist, the decoder keeps the raw map). */
static void check_round_trip(const struct proto_result *r)
{
	static msgpack_zone z2;
	struct proto_result again;
	struct buf b = BUF_INIT;
	msgpack_object obj;
	enum proto_type type;
	struct err err;

	if (!z2.chunk_size)
		msgpack_zone_init(&z2, 16384);
	for (size_t i = 0; i < r->nsteps; i++) {
		touch_str(&r->steps[i].kind);
		touch_str(&r->steps[i].name);
		touch_str(&r->steps[i].out);
		touch_str(&r->steps[i].err);
		CHECK(r->steps[i].raw && r->steps[i].raw->type == MSGPACK_OBJECT_MAP);
	}
	touch_str(&r->error);
	CHECK(r->nknown_hosts <= PROTO_MAX_KNOWN_HOSTS);
	for (size_t i = 0; i < r->nknown_hosts; i++)
		touch_str(&r->known_hosts_lines[i]);
	touch_str(&r->jump);
	touch_str(&r->transcript);
	touch_str(&r->ssh.kex);
	touch_str(&r->ssh.hostkey);
	touch_str(&r->ssh.cipher);
	touch_str(&r->ssh.mac);
	touch_str(&r->ssh.auth);
	proto_encode_result(&b, r);
	CHECK(proto_decode(b.data + 4, b.len - 4, &z2, &obj, &type, &err) == 0 && type == PROTO_RESULT);
	CHECK(proto_decode_result(&obj, &z2, &again, &err) == 0);
	/* what the encoder always sends (error as nil) may be new */
	CHECK((again.has & r->has) == r->has);
	CHECK(again.id == r->id && again.status == r->status && again.nsteps == r->nsteps);
	CHECK(same_str(&again.error, &r->error) && (again.error.p != NULL) == (r->error.p != NULL));
	CHECK(again.nknown_hosts == r->nknown_hosts);
	for (size_t i = 0; i < r->nknown_hosts; i++)
		CHECK(same_str(&again.known_hosts_lines[i], &r->known_hosts_lines[i]));
	CHECK(same_str(&again.jump, &r->jump));
	CHECK(same_str(&again.transcript, &r->transcript));
	CHECK(again.ssh.has == r->ssh.has && same_str(&again.ssh.kex, &r->ssh.kex) &&
	      same_str(&again.ssh.hostkey, &r->ssh.hostkey) && same_str(&again.ssh.cipher, &r->ssh.cipher) &&
	      same_str(&again.ssh.mac, &r->ssh.mac) && same_str(&again.ssh.auth, &r->ssh.auth));
	CHECK(!(r->has & PROTO_RESULT_STARTED_MS) || again.started_ms == r->started_ms);
	CHECK(!(r->has & PROTO_RESULT_DURATION_MS) || again.duration_ms == r->duration_ms);
	for (size_t i = 0; i < r->nsteps; i++)
		CHECK(same_step(&again.steps[i], &r->steps[i]));
	buf_free(&b);
	msgpack_zone_clear(&z2);
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
	msgpack_object obj;
	enum proto_type type = PROTO_HELLO;
	struct err err;

	if (proto_decode(p, size, &zone, &obj, &type, &err) == 0) {
		struct record_info info = {
			.host = "h1",
			.job = "fuzz",
			.attempt = 1,
			.worker = 4242,
			.started_wall_ms = 1763769650476,
			.duration_ms = 7,
		};

		struct proto_result res;
		struct proto_hello hello;
		struct proto_task task;
		uint64_t id;
		int64_t pgid;

		CHECK(obj.type == MSGPACK_OBJECT_MAP && type <= PROTO_RESULT);
		touch(&obj);
		if (proto_decode_hello(&obj, &hello, &err) == 0) {
			touch_str(&hello.job);
			touch_str(&hello.job_path);
		}
		if (proto_decode_task(&obj, &task, &err) == 0)
			proto_task_free(&task);
		(void)proto_decode_child(&obj, &id, &pgid);
		/* The supervisor renders results only, but the decoder and
		 * the renderer must hold for any map a worker could send as
		 * one. */
		if (proto_decode_result(&obj, &zone, &res, &err) == 0) {
			CHECK(res.nsteps <= PROTO_MAX_STEPS);
			check_round_trip(&res);
			record_from_result(&rec, &res, &info);
			check_json(&rec);
		}
	}
	msgpack_zone_clear(&zone);
	return 0;
}
