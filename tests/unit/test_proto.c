/* Unit tests for common/proto.c: round trips of every message the
 * supervisor and worker encode (the result for every step kind, field by
 * field), field access by type, results with fields of the wrong type,
 * and malformed payloads (truncated, trailing bytes, wrong shapes, deep
 * nesting, huge counts, random bytes) that must be refused without
 * crashing. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "frame.h"
#include "kv.h"
#include "proto.h"
#include "util.h"

/* A message decoded by the one decoder, with the zone it lives in. */
struct decoded {
	msgpack_zone zone;
	msgpack_object data;
};

static int decode(const char *p, size_t n, struct decoded *d, enum proto_type *type, struct err *err)
{
	if (!msgpack_zone_init(&d->zone, 1024))
		abort(); /* no cmocka assert: run_in_child's functions call this too */
	return proto_decode(p, n, &d->zone, &d->data, type, err);
}

static void decoded_free(struct decoded *d)
{
	msgpack_zone_destroy(&d->zone);
}

/* The payload of the single frame in b, checking the header says so. */
static const char *payload_of(const struct buf *b, size_t *n)
{
	const unsigned char *h = (const unsigned char *)b->data;
	size_t len;

	assert_true(b->len >= FRAME_HEADER);
	len = (size_t)h[0] << 24 | (size_t)h[1] << 16 | (size_t)h[2] << 8 | h[3];
	assert_int_equal(len, b->len - FRAME_HEADER);
	*n = len;
	return b->data + FRAME_HEADER;
}

static void assert_str_field(const msgpack_object *m, const char *key, const char *want, size_t wlen)
{
	const char *s = NULL;
	size_t n = 0;

	assert_int_equal(proto_get_str(m, key, &s, &n), 0);
	assert_int_equal(n, wlen);
	assert_memory_equal(s, want, n);
}

static void assert_u64_field(const msgpack_object *m, const char *key, uint64_t want)
{
	uint64_t v = 0;

	assert_int_equal(proto_get_u64(m, key, &v), 0);
	assert_true(v == want);
}

static void assert_i64_field(const msgpack_object *m, const char *key, int64_t want)
{
	int64_t v = 0;

	assert_int_equal(proto_get_i64(m, key, &v), 0);
	assert_true(v == want);
}

/* Decode must refuse p[0..n) with an error message, leaving dec safe to
 * destroy. */
static void assert_refused(const void *p, size_t n)
{
	struct decoded dec;
	enum proto_type type = (enum proto_type)-1;
	struct err err = {{0}};

	assert_int_equal(decode(p, n, &dec, &type, &err), -1);
	assert_int_equal((int)type, -1);
	assert_true(err.msg[0] != '\0');
	decoded_free(&dec);
}

static void test_hello(void **state)
{
	static const char job[] = "description: x\nsteps:\n  - exec: echo ${host} \"q\" 'é'\n";
	struct proto_settings s = {.output_cap = 1234567, .log_level = 3};
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const msgpack_object *set;
	const char *p;
	size_t n;

	(void)state;
	proto_encode_hello(&b, "jobs.d/up time.yaml", job, strlen(job), &s);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_HELLO);
	assert_str_field(&dec.data, "type", "hello", 5);
	assert_u64_field(&dec.data, "version", PROTO_VERSION);
	assert_str_field(&dec.data, "job_path", "jobs.d/up time.yaml", 19);
	assert_str_field(&dec.data, "job", job, strlen(job));
	set = proto_get(&dec.data, "settings");
	assert_non_null(set);
	assert_int_equal(set->type, MSGPACK_OBJECT_MAP);
	assert_u64_field(set, "output_cap", 1234567);
	assert_i64_field(set, "log_level", 3);
	{
		struct proto_hello h;
		assert_int_equal(proto_decode_hello(&dec.data, &h, &err), 0);
		assert_false(h.settings.transcript);
	}
	decoded_free(&dec);
	buf_free(&b);

	/* an empty job text and the largest cap */
	s.output_cap = UINT64_MAX;
	s.log_level = 0;
	proto_encode_hello(&b, "j", "", 0, &s);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_HELLO);
	assert_str_field(&dec.data, "job", "", 0);
	assert_u64_field(proto_get(&dec.data, "settings"), "output_cap", UINT64_MAX);
	assert_i64_field(proto_get(&dec.data, "settings"), "log_level", 0);
	decoded_free(&dec);
	buf_free(&b);
}

static void check_task(uint64_t id, uint32_t attempt, const char *host, const struct kvlist *vars,
                       int64_t timeout_ms)
{
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const msgpack_object *v;
	const char *p;
	size_t n;

	proto_encode_task(&b, id, attempt, host, vars, timeout_ms);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_TASK);
	assert_str_field(&dec.data, "type", "task", 4);
	assert_u64_field(&dec.data, "id", id);
	assert_u64_field(&dec.data, "attempt", attempt);
	assert_str_field(&dec.data, "host", host, strlen(host));
	assert_i64_field(&dec.data, "timeout_ms", timeout_ms);
	v = proto_get(&dec.data, "vars");
	assert_non_null(v);
	assert_int_equal(v->type, MSGPACK_OBJECT_MAP);
	assert_int_equal(v->via.map.size, vars ? vars->len : 0);
	for (size_t i = 0; vars && i < vars->len; i++) {
		/* in order, and each reachable by key */
		assert_true(proto_obj_is(&v->via.map.ptr[i].key, vars->items[i].key));
		assert_true(proto_obj_is(&v->via.map.ptr[i].val, vars->items[i].value));
		assert_str_field(v, vars->items[i].key, vars->items[i].value, strlen(vars->items[i].value));
	}
	decoded_free(&dec);
	buf_free(&b);
}

static void test_task(void **state)
{
	struct kvlist vars = KVLIST_INIT;

	(void)state;
	kvlist_set(&vars, "address", "127.0.1.5");
	kvlist_set(&vars, "port", "2222");
	kvlist_set(&vars, "empty", "");
	kvlist_set(&vars, "quote\"d", "va\\lue with spaces and é");
	check_task(1, 1, "rtr1", &vars, 30000);
	check_task(UINT64_C(1) << 63, UINT32_MAX, "h", &vars, INT64_MAX);
	check_task(UINT64_MAX, 0, "", NULL, 0);
	check_task(42, 2, "sw-001.example", NULL, -1);
	check_task(0, 3, "x", &vars, INT64_MIN);
	kvlist_free(&vars);
}

static void test_ready(void **state)
{
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const char *p;
	size_t n;

	(void)state;
	proto_encode_ready(&b, 12345);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_READY);
	assert_u64_field(&dec.data, "version", PROTO_VERSION);
	assert_i64_field(&dec.data, "pid", 12345);
	decoded_free(&dec);
	buf_free(&b);
}

static void test_child(void **state)
{
	static const int pgids[] = {0, 1, 4242, 2147483647};
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const char *p;
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(pgids); i++) {
		buf_reset(&b);
		proto_encode_child(&b, UINT64_C(1) << 63 | i, pgids[i]);
		p = payload_of(&b, &n);
		assert_int_equal(decode(p, n, &dec, &type, &err), 0);
		assert_int_equal(type, PROTO_CHILD);
		assert_u64_field(&dec.data, "id", UINT64_C(1) << 63 | i);
		assert_i64_field(&dec.data, "pgid", pgids[i]);
		decoded_free(&dec);
	}
	buf_free(&b);
}

/* Several messages in one buffer: each frame decodes on its own. */
static void test_stream(void **state)
{
	static const enum proto_type want[] = {PROTO_READY, PROTO_CHILD, PROTO_TASK, PROTO_CHILD};
	struct proto_settings s = {.output_cap = 1, .log_level = 1};
	struct buf b = BUF_INIT;
	struct frame_reader rd;
	size_t k = 0;
	const char *p;
	size_t n;

	(void)state;
	proto_encode_ready(&b, 1);
	proto_encode_child(&b, 7, 99);
	proto_encode_task(&b, 7, 1, "h", NULL, 10);
	proto_encode_child(&b, 7, 0);
	proto_encode_hello(&b, "a", "b", 1, &s); /* left in the reader, cut short */
	frame_reader_init(&rd, FRAME_MAX);
	frame_reader_feed(&rd, b.data, b.len - 1);
	while (frame_next(&rd, &p, &n) == 1) {
		struct decoded dec;
		enum proto_type type;
		struct err err = {{0}};

		assert_true(k < ARRAY_LEN(want));
		assert_int_equal(decode(p, n, &dec, &type, &err), 0);
		assert_int_equal(type, want[k]);
		decoded_free(&dec);
		k++;
	}
	assert_int_equal(k, ARRAY_LEN(want));
	assert_true(frame_reader_pending(&rd) > 0);
	frame_reader_free(&rd);
	buf_free(&b);
}

/* A result as the worker would send it: only the type is checked here. */
static void test_result_type(void **state)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};

	(void)state;
	proto_packer_init(&pk, &b);
	msgpack_pack_map(&pk, 3);
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, 3);
	proto_pack_cstr(&pk, "future_field"); /* unknown keys are ignored */
	msgpack_pack_array(&pk, 0);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "result");
	assert_int_equal(decode(b.data, b.len, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_RESULT);
	decoded_free(&dec);
	buf_free(&b);

	/* the type as bin rather than str is accepted too */
	proto_packer_init(&pk, &b);
	msgpack_pack_map(&pk, 1);
	proto_pack_cstr(&pk, "type");
	msgpack_pack_bin(&pk, 5);
	msgpack_pack_bin_body(&pk, "ready", 5);
	assert_int_equal(decode(b.data, b.len, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_READY);
	decoded_free(&dec);
	buf_free(&b);
}

static void test_getters(void **state)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const char *s = "unchanged";
	size_t n = 77;
	uint64_t u = 77;
	int64_t i = 77;

	(void)state;
	proto_packer_init(&pk, &b);
	msgpack_pack_map(&pk, 7);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "task");
	proto_pack_cstr(&pk, "neg");
	msgpack_pack_int64(&pk, -5);
	proto_pack_cstr(&pk, "big");
	msgpack_pack_uint64(&pk, UINT64_MAX);
	proto_pack_cstr(&pk, "str");
	proto_pack_cstr(&pk, "42");
	proto_pack_cstr(&pk, "nil");
	msgpack_pack_nil(&pk);
	msgpack_pack_int(&pk, 1); /* a key that is not a string */
	proto_pack_cstr(&pk, "int key");
	proto_pack_cstr(&pk, "bin");
	msgpack_pack_bin(&pk, 3);
	msgpack_pack_bin_body(&pk, "a\0b", 3);
	assert_int_equal(decode(b.data, b.len, &dec, &type, &err), 0);

	/* absent */
	assert_null(proto_get(&dec.data, "missing"));
	assert_int_equal(proto_get_str(&dec.data, "missing", &s, &n), -1);
	assert_int_equal(proto_get_u64(&dec.data, "missing", &u), -1);
	assert_int_equal(proto_get_i64(&dec.data, "missing", &i), -1);
	/* a prefix of a key is not the key */
	assert_null(proto_get(&dec.data, "ty"));
	assert_null(proto_get(&dec.data, "types"));
	/* wrong types */
	assert_int_equal(proto_get_u64(&dec.data, "neg", &u), -1);
	assert_int_equal(proto_get_i64(&dec.data, "big", &i), -1);
	assert_int_equal(proto_get_u64(&dec.data, "str", &u), -1);
	assert_int_equal(proto_get_i64(&dec.data, "str", &i), -1);
	assert_int_equal(proto_get_str(&dec.data, "neg", &s, &n), -1);
	assert_int_equal(proto_get_str(&dec.data, "nil", &s, &n), -1);
	assert_int_equal(proto_get_u64(&dec.data, "nil", &u), -1);
	/* out-parameters untouched on failure */
	assert_string_equal(s, "unchanged");
	assert_int_equal(n, 77);
	assert_true(u == 77);
	assert_true(i == 77);
	/* right types */
	assert_i64_field(&dec.data, "neg", -5);
	assert_u64_field(&dec.data, "big", UINT64_MAX);
	assert_str_field(&dec.data, "str", "42", 2);
	assert_str_field(&dec.data, "bin", "a\0b", 3);
	assert_non_null(proto_get(&dec.data, "nil"));
	assert_true(proto_obj_is(proto_get(&dec.data, "str"), "42"));
	assert_false(proto_obj_is(proto_get(&dec.data, "str"), "4"));
	assert_false(proto_obj_is(proto_get(&dec.data, "neg"), "-5"));
	assert_false(proto_obj_is(NULL, ""));
	/* not a map */
	assert_null(proto_get(proto_get(&dec.data, "str"), "x"));
	assert_null(proto_get(NULL, "x"));
	decoded_free(&dec);
	buf_free(&b);
}

static void test_truncated(void **state)
{
	struct proto_settings s = {.output_cap = 100, .log_level = 2};
	struct kvlist vars = KVLIST_INIT;
	struct buf b = BUF_INIT;
	const char *p;
	size_t n;

	(void)state;
	kvlist_set(&vars, "k", "v");
	proto_encode_hello(&b, "jobs.d/x.yaml", "steps: []\n", 10, &s);
	p = payload_of(&b, &n);
	for (size_t cut = 0; cut < n; cut++)
		assert_refused(p, cut);
	buf_reset(&b);
	proto_encode_task(&b, UINT64_MAX, 1, "host", &vars, 5);
	p = payload_of(&b, &n);
	for (size_t cut = 0; cut < n; cut++)
		assert_refused(p, cut);
	kvlist_free(&vars);
	buf_free(&b);
}

static void test_trailing(void **state)
{
	struct buf b = BUF_INIT;
	struct buf t = BUF_INIT;
	const char *p;
	size_t n;

	(void)state;
	proto_encode_ready(&b, 1);
	p = payload_of(&b, &n);
	/* a whole second message after the first */
	buf_append(&t, p, n);
	buf_append(&t, p, n);
	assert_refused(t.data, t.len);
	/* one nil byte */
	buf_reset(&t);
	buf_append(&t, p, n);
	buf_putc(&t, '\xc0');
	assert_refused(t.data, t.len);
	/* one NUL byte (a positive fixint 0) */
	buf_reset(&t);
	buf_append(&t, p, n);
	buf_putc(&t, '\0');
	assert_refused(t.data, t.len);
	buf_free(&t);
	buf_free(&b);
}

static void test_not_a_map(void **state)
{
	struct buf b = BUF_INIT;
	msgpack_packer pk;

	(void)state;
	assert_refused("\x05", 1);                         /* int */
	assert_refused("\xc0", 1);                         /* nil */
	assert_refused("\xa4type", 5);                     /* str */
	assert_refused("\x92\xa4type\xa5ready", 12);       /* ["type","ready"] */
	assert_refused("\x91\x81\xa4type\xa5ready", 13);   /* [{"type":"ready"}] */
	assert_refused("\xcb\x00\x00\x00\x00\x00\x00\x00\x00", 9); /* float */
	assert_refused("", 0);

	/* an array built with the packer */
	proto_packer_init(&pk, &b);
	msgpack_pack_array(&pk, 2);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "task");
	assert_refused(b.data, b.len);
	buf_free(&b);
}

static void test_bad_type(void **state)
{
	(void)state;
	assert_refused("\x80", 1);                          /* {} */
	assert_refused("\x81\xa2id\x01", 5);                /* {"id":1} */
	assert_refused("\x81\xa4type\x01", 7);              /* {"type":1} */
	assert_refused("\x81\xa4type\xc0", 7);              /* {"type":nil} */
	assert_refused("\x81\xa4type\xa0", 7);              /* {"type":""} */
	assert_refused("\x81\xa4type\xa5" "bogus", 12);        /* unknown */
	assert_refused("\x81\xa4type\xa4hell", 11);         /* a prefix of hello */
	assert_refused("\x81\xa4type\xa6helloo", 13);       /* hello and more */
	assert_refused("\x81\xa4type\xa5HELLO", 12);        /* case matters */
	assert_refused("\x81\xa4type\xa6hello\0", 13);      /* NUL inside */
	assert_refused("\x81\xa4type\x91\xa5hello", 13);    /* {"type":["hello"]} */
	assert_refused("\x81\xa4Type\xa5hello", 12);        /* the key's case matters */
}

/* n nested one-element arrays around a nil, optionally as the value of a
 * "vars" key in a task. */
static void build_nested(struct buf *b, size_t n, int in_task)
{
	if (in_task)
		buf_append(b, "\x82\xa4type\xa4task\xa4vars", 16);
	for (size_t i = 0; i < n; i++)
		buf_putc(b, '\x91');
	buf_putc(b, '\xc0');
}

static void test_deep_nesting(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	build_nested(&b, 10000, 0);
	assert_refused(b.data, b.len);
	buf_reset(&b);
	build_nested(&b, 10000, 1);
	assert_refused(b.data, b.len);
	buf_reset(&b);
	/* nested maps: {"a":{"a":...}} */
	for (int i = 0; i < 10000; i++)
		buf_append(&b, "\x81\xa1" "a", 3);
	buf_putc(&b, '\xc0');
	assert_refused(b.data, b.len);
	buf_reset(&b);
	/* nesting without the innermost value: truncated and deep */
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, '\x91');
	assert_refused(b.data, b.len);
	buf_free(&b);
}

/* Moderate nesting inside a valid message is fine. */
static void test_some_nesting(void **state)
{
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};

	(void)state;
	build_nested(&b, 8, 1);
	assert_int_equal(decode(b.data, b.len, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_TASK);
	assert_int_equal(proto_get(&dec.data, "vars")->type, MSGPACK_OBJECT_ARRAY);
	decoded_free(&dec);
	buf_free(&b);
}

/* Run fn(arg) in a child process, so that an allocator abort (ASan's
 * "allocator is out of memory") fails the calling test instead of ending
 * the whole binary. fn must not use cmocka's asserts; it returns 0 for
 * success or a code of its own. The child has 5 seconds: a bound, not a
 * timing assertion. */
static int run_in_child(const char *what, int (*fn)(const void *), const void *arg)
{
	pid_t pid;
	int st = 0;

	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(5);
		_exit(fn(arg));
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	if (WIFEXITED(st) && WEXITSTATUS(st) == 0)
		return 0;
	print_error("%s: child %s %d\n", what, WIFEXITED(st) ? "exited with" : "killed by signal",
	            WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

static void assert_ok_in_child(const char *what, int (*fn)(const void *), const void *arg)
{
	assert_int_equal(run_in_child(what, fn, arg), 0);
}

struct bytes {
	const char *p;
	size_t n;
};

/* 0: refused with a message; 2: accepted. */
static int decode_refused(const void *arg)
{
	const struct bytes *b = arg;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	int r = decode(b->p, b->n, &dec, &type, &err);

	decoded_free(&dec);
	return r == -1 && err.msg[0] ? 0 : 2;
}

/* 1 when the child did not refuse p[0..n) cleanly, so a test can try
 * every case before it fails. */
static int refused_in_child_fails(const char *what, const void *p, size_t n)
{
	struct bytes b = {p, n};

	return run_in_child(what, decode_refused, &b) != 0;
}

/* Headers that announce far more than the payload holds. msgpack-c
 * reserves count * sizeof(msgpack_object) when it reads an array or map
 * header, before any element is there; a 5-byte payload must not cost
 * gigabytes (or abort under ASan). */
static void test_huge_counts(void **state)
{
	struct buf b = BUF_INIT;
	int failed = 0;

	(void)state;
	failed += refused_in_child_fails("str32 of 4G", "\xdb\xff\xff\xff\xff", 5);
	failed += refused_in_child_fails("bin32 of 4G", "\xc6\xff\xff\xff\xff", 5);
	/* a map that claims more pairs than it has */
	failed += refused_in_child_fails("fixmap of 3 with 1", "\x83\xa4type\xa5ready", 12);
	failed += refused_in_child_fails("array32 of 4G", "\xdd\xff\xff\xff\xff", 5);
	failed += refused_in_child_fails("map32 of 4G", "\xdf\xff\xff\xff\xff", 5);
	failed += refused_in_child_fails("array32 of 4G, 2 nils", "\xdd\xff\xff\xff\xff\xc0\xc0", 7);
	/* inside a valid-looking message */
	failed += refused_in_child_fails("task with vars map32 of 4G",
	                                  "\x82\xa4type\xa4task\xa4vars\xdf\xff\xff\xff\xff", 21);
	failed += refused_in_child_fails("task with vars array32 of 4G",
	                                  "\x82\xa4type\xa4task\xa4vars\xdd\xff\xff\xff\xff", 21);
	buf_free(&b);
	assert_int_equal(failed, 0);
}

/* VmPeak of this process in KiB, or -1. */
static long vm_peak_kib(void)
{
	char line[256];
	long kib = -1;
	FILE *f = fopen("/proc/self/status", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmPeak: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

/* 0: refused and the address space grew by less than 256 MiB; 2: accepted;
 * 4: refused, but only after reserving more than that. */
static int decode_refused_small(const void *arg)
{
	long before = vm_peak_kib();
	int r = decode_refused(arg);
	long after = vm_peak_kib();

	if (r != 0)
		return r;
	if (before < 0 || after < 0)
		return 0;
	if (after - before > 256 * 1024) {
		fprintf(stderr, "VmPeak grew by %ld MiB\n", (after - before) / 1024);
		return 4;
	}
	return 0;
}

/* 32 nested arrays announcing 8M elements each: a 160-byte payload. Even
 * where the allocations succeed (overcommit), decoding it must not reserve
 * gigabytes of address space; each level reserves 128 MiB here. */
static void test_count_amplification(void **state)
{
	char p[32 * 5];
	struct bytes arg = {p, sizeof(p)};

	(void)state;
	for (int i = 0; i < 32; i++)
		memcpy(p + 5 * i, "\xdd\x00\x7f\xff\xff", 5);
	assert_int_equal(run_in_child("32 nested array32 of 8M", decode_refused_small, &arg), 0);
}

/* A result whose steps are 16M nils: a 16 MB payload that msgpack-c
 * would turn into 384 MiB of objects. Refused before decoding (found by
 * reasoning about the fuzz target's inputs: a 60 MB frame cost 1.4 GB). */
static void test_object_amplification(void **state)
{
	const char head[] = "\x82\xa4type\xa6result\xa5steps\xdd\x01\x00\x00\x00";
	size_t nh = sizeof(head) - 1, n = nh + (1u << 24);
	char *p = xmalloc(n);
	struct bytes arg = {p, n};

	(void)state;
	memcpy(p, head, nh);
	memset(p + nh, 0xc0, n - nh);
	assert_int_equal(run_in_child("array32 of 16M nils", decode_refused_small, &arg), 0);
	free(p);
}

/* A message at the object limit still decodes. */
static void test_objects_at_limit(void **state)
{
	/* map (1) + type key and value (2) + steps key (1) + the array (1) */
	const uint32_t nils = PROTO_MAX_OBJECTS - 5;
	char head[] = "\x82\xa4type\xa6result\xa5steps\xdd\0\0\0\0";
	size_t nh = sizeof(head) - 1, n = nh + nils;
	char *p = xmalloc(n + 1);
	struct decoded dec;
	enum proto_type type;
	struct err err;

	(void)state;
	head[nh - 4] = (char)(nils >> 24);
	head[nh - 3] = (char)(nils >> 16);
	head[nh - 2] = (char)(nils >> 8);
	head[nh - 1] = (char)nils;
	memcpy(p, head, nh);
	memset(p + nh, 0xc0, nils);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_RESULT);
	decoded_free(&dec);
	/* one more object is one too many */
	p[n] = (char)0xc0;
	head[nh - 1] = (char)(nils + 1);
	memcpy(p, head, nh);
	assert_int_equal(decode(p, n + 1, &dec, &type, &err), -1);
	assert_non_null(strstr(err.msg, "more objects"));
	decoded_free(&dec);
	free(p);
}

static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Random bytes and random mutations of real messages: decode either
 * succeeds with a map of a known type or fails; never crashes. Returns 0,
 * or 3 when a decode broke that contract. */
static int random_loop(const void *arg)
{
	struct kvlist vars = KVLIST_INIT;
	struct buf good = BUF_INIT;
	uint64_t seed = 0xC0FFEE1234567ull;
	const char *gp;
	size_t gn;
	int bad = 0;

	(void)arg;
	kvlist_set(&vars, "a", "b");
	proto_encode_task(&good, 9, 2, "host9", &vars, 1000);
	gp = good.data + FRAME_HEADER;
	gn = good.len - FRAME_HEADER;

	for (int iter = 0; iter < 3000 && !bad; iter++) {
		unsigned char p[256];
		size_t n;
		struct decoded dec;
		enum proto_type type = PROTO_HELLO;
		struct err err = {{0}};
		int r;

		if (iter % 2 == 0) {
			n = rng_next(&seed) % sizeof(p);
			for (size_t i = 0; i < n; i++)
				p[i] = (unsigned char)rng_next(&seed);
			/* start with a map header now and then to get past the first check */
			if (n && iter % 4 == 0)
				p[0] = (unsigned char)(0x80 | (p[0] & 0x0f));
		} else {
			int flips = 1 + (int)(rng_next(&seed) % 4);
			n = gn;
			memcpy(p, gp, n);
			for (int f = 0; f < flips; f++)
				p[rng_next(&seed) % n] = (unsigned char)rng_next(&seed);
			if (rng_next(&seed) % 4 == 0)
				n = rng_next(&seed) % (n + 1);
		}
		r = decode((const char *)p, n, &dec, &type, &err);
		if (r == 0)
			bad = dec.data.type != MSGPACK_OBJECT_MAP || type > PROTO_RESULT;
		else
			bad = r != -1 || !err.msg[0];
		decoded_free(&dec);
	}
	kvlist_free(&vars);
	buf_free(&good);
	return bad ? 3 : 0;
}


/* ------------------------------------------------------------ the result */

/* The fields each step kind sends, as its step_ops.pack in worker/ sets
 * them: always, and when the variant asks (the kind's optional field:
 * exit, credentials_withheld, connect_ms, rtt_ms). */
static const struct {
	const char *kind;
	uint32_t always, optional;
} kinds[] = {
	{"exec", PROTO_STEP_STDOUT | PROTO_STEP_STDERR | PROTO_STEP_TRUNCATED, PROTO_STEP_EXIT},
	{"ssh", PROTO_STEP_STDOUT | PROTO_STEP_STDERR | PROTO_STEP_TRUNCATED, PROTO_STEP_EXIT},
	{"http", PROTO_STEP_HTTP_STATUS | PROTO_STEP_BODY | PROTO_STEP_TRUNCATED, PROTO_STEP_WITHHELD},
	{"tcp", 0, PROTO_STEP_CONNECT_MS},
	{"ping", PROTO_STEP_SENT | PROTO_STEP_RECEIVED, PROTO_STEP_RTT_MS},
	{"sleep", 0, 0},
};

/* Variants of a step and of the result around it. */
enum {
	V_ERROR = 1,       /* the step and the result have an error */
	V_OPTIONAL = 2,    /* the kind's optional field */
	V_SIGNAL = 4,      /* commands: ended by a signal */
	V_TRUNCATED = 8,   /* output was cut */
	V_KNOWN_HOSTS = 16, /* known_hosts_add */
	V_ALL = 32,
};

static const char out_bytes[] = "line 1\n\0\xff\xfe binary\r\n";
static const char err_bytes[] = "warning: \x1b[31mred\x1b[0m";

/* A step of kind k in variant v, as the worker would build it. */
static void make_step(struct proto_step *st, size_t k, unsigned v, size_t i)
{
	static const char *const names[] = {"show version", "", "name with \"quotes\" and é"};

	memset(st, 0, sizeof(*st));
	st->has = PROTO_STEP_KIND | PROTO_STEP_NAME | PROTO_STEP_STATUS | PROTO_STEP_DURATION_MS | kinds[k].always;
	st->kind = proto_cstr(kinds[k].kind);
	st->name = proto_cstr(names[i % ARRAY_LEN(names)]);
	st->status = proto_cstr(v & V_ERROR ? "failed" : "ok");
	st->duration_ms = (int64_t)(i * 1000 + v);
	if (v & V_ERROR) {
		st->has |= PROTO_STEP_ERROR;
		st->error = proto_cstr("command exited with code 3");
	}
	if (v & V_OPTIONAL)
		st->has |= kinds[k].optional;
	if ((v & V_SIGNAL) && (st->has & PROTO_STEP_STDOUT)) {
		st->has |= PROTO_STEP_SIGNAL;
		st->signal = proto_cstr("TERM");
	}
	st->out = (struct proto_str){out_bytes, sizeof(out_bytes) - 1};
	st->err = (struct proto_str){err_bytes, sizeof(err_bytes) - 1};
	st->exit_code = v & V_ERROR ? 3 : 0;
	st->http_status = v & V_ERROR ? 503 : 200;
	st->withheld = proto_cstr("https://elsewhere.example:8443");
	st->connect_ms = 0.125 * (double)v;
	st->sent = 3;
	st->received = v & V_OPTIONAL ? 2 : 0;
	st->rtt_ms = 1.5;
	st->truncated = (v & V_TRUNCATED) != 0;
}

static void assert_same_str(const struct proto_str *got, const struct proto_str *want)
{
	assert_non_null(got->p);
	assert_int_equal(got->n, want->n);
	assert_memory_equal(got->p, want->p, want->n);
}

static unsigned bits(uint32_t x)
{
	return (unsigned)__builtin_popcount(x);
}

/* Every field the step has came back, with its value, and no other. */
static void assert_same_step(const struct proto_step *got, const struct proto_step *want)
{
	assert_int_equal(got->has, want->has);
	/* the map holds exactly the fields sent: its size was counted right */
	assert_non_null(got->raw);
	assert_int_equal(got->raw->type, MSGPACK_OBJECT_MAP);
	assert_int_equal(got->raw->via.map.size, bits(want->has));
	assert_same_str(&got->kind, &want->kind);
	assert_same_str(&got->name, &want->name);
	assert_same_str(&got->status, &want->status);
	assert_true(got->duration_ms == want->duration_ms);
	if (want->has & PROTO_STEP_ERROR)
		assert_same_str(&got->error, &want->error);
	if (want->has & PROTO_STEP_EXIT)
		assert_true(got->exit_code == want->exit_code);
	if (want->has & PROTO_STEP_SIGNAL)
		assert_same_str(&got->signal, &want->signal);
	if (want->has & PROTO_STEP_OUTPUT) {
		assert_same_str(&got->out, &want->out);
		/* output goes as bin, bytes as they came */
		assert_int_equal(proto_get(got->raw, want->has & PROTO_STEP_STDOUT ? "stdout" : "body")->type,
		                 MSGPACK_OBJECT_BIN);
	}
	if (want->has & PROTO_STEP_STDERR)
		assert_same_str(&got->err, &want->err);
	if (want->has & PROTO_STEP_HTTP_STATUS)
		assert_true(got->http_status == want->http_status);
	if (want->has & PROTO_STEP_WITHHELD)
		assert_same_str(&got->withheld, &want->withheld);
	if (want->has & PROTO_STEP_CONNECT_MS)
		assert_true(got->connect_ms == want->connect_ms);
	if (want->has & PROTO_STEP_SENT)
		assert_true(got->sent == want->sent);
	if (want->has & PROTO_STEP_RECEIVED)
		assert_true(got->received == want->received);
	if (want->has & PROTO_STEP_RTT_MS)
		assert_true(got->rtt_ms == want->rtt_ms);
	if (want->has & PROTO_STEP_TRUNCATED)
		assert_int_equal(got->truncated, want->truncated);
}

/* Encode r, decode it, and check the view field by field. */
static void check_result(const struct proto_result *want)
{
	struct buf b = BUF_INIT;
	struct decoded dec;
	struct proto_result got;
	enum proto_type type;
	struct err err = {{0}};
	const msgpack_object *vars;
	const char *p;
	size_t n;

	proto_encode_result(&b, want);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(type, PROTO_RESULT);
	if (proto_decode_result(&dec.data, &dec.zone, &got, &err) != 0)
		fail_msg("%s", err.msg);
	/* type, id, status, steps, vars, error, started_ms, duration_ms, and
	 * known_hosts_add when there is one */
	assert_int_equal(dec.data.via.map.size, 8 + (want->has & PROTO_RESULT_KNOWN_HOSTS ? 1 : 0) +
	                                            (want->has & PROTO_RESULT_JUMP ? 1 : 0) +
	                                            (want->has & PROTO_RESULT_TRANSCRIPT ? 1 : 0));
	assert_true(got.id == want->id);
	assert_int_equal(got.status, want->status);
	assert_int_equal(got.has & PROTO_RESULT_ERROR, want->error.p ? PROTO_RESULT_ERROR : 0);
	if (want->error.p)
		assert_same_str(&got.error, &want->error);
	else
		assert_null(got.error.p);
	assert_true(got.has & PROTO_RESULT_STARTED_MS);
	assert_true(got.started_ms == want->started_ms);
	assert_true(got.has & PROTO_RESULT_DURATION_MS);
	assert_true(got.duration_ms == want->duration_ms);
	assert_int_equal(got.has & PROTO_RESULT_KNOWN_HOSTS, want->has & PROTO_RESULT_KNOWN_HOSTS);
	assert_int_equal(got.nknown_hosts, want->nknown_hosts);
	for (size_t i = 0; i < want->nknown_hosts; i++)
		assert_same_str(&got.known_hosts_lines[i], &want->known_hosts_lines[i]);
	assert_int_equal(got.has & PROTO_RESULT_JUMP, want->has & PROTO_RESULT_JUMP);
	if (want->has & PROTO_RESULT_JUMP)
		assert_same_str(&got.jump, &want->jump);
	assert_int_equal(got.has & PROTO_RESULT_TRANSCRIPT, want->has & PROTO_RESULT_TRANSCRIPT);
	if (want->has & PROTO_RESULT_TRANSCRIPT)
		assert_same_str(&got.transcript, &want->transcript);
	vars = got.vars_raw;
	assert_non_null(vars);
	assert_int_equal(vars->via.map.size, want->vars ? want->vars->len : 0);
	for (size_t i = 0; want->vars && i < want->vars->len; i++)
		assert_str_field(vars, want->vars->items[i].key, want->vars->items[i].value,
		                 strlen(want->vars->items[i].value));
	assert_int_equal(got.nsteps, want->nsteps);
	for (size_t i = 0; i < want->nsteps; i++)
		assert_same_step(&got.steps[i], &want->steps[i]);
	decoded_free(&dec);
	buf_free(&b);
}

/* Every step kind, alone and after the others, in every variant: with
 * and without error, exit code, signal, truncation, known_hosts_add. */
static void test_result_round_trip(void **state)
{
	struct proto_step steps[ARRAY_LEN(kinds)];
	struct kvlist vars = KVLIST_INIT;
	unsigned checked = 0;

	(void)state;
	kvlist_set(&vars, "uid", "f3a9");
	kvlist_set(&vars, "token", "***");
	for (size_t k = 0; k < ARRAY_LEN(kinds); k++) {
		for (unsigned v = 0; v < V_ALL; v++) {
			struct proto_result r = {
				.id = UINT64_C(1) << 63 | v,
				.status = v & V_ERROR ? STATUS_FAILED : STATUS_OK,
				.steps = steps,
				.vars = v & V_OPTIONAL ? &vars : NULL,
				.started_ms = INT64_C(1700000000123) + v,
				.duration_ms = v,
			};
			if (v & V_ERROR)
				r.error = proto_cstr("command exited with code 3");
			if (v & V_KNOWN_HOSTS) {
				r.has |= PROTO_RESULT_KNOWN_HOSTS;
				/* the device's line and a jump host's */
				r.known_hosts_lines[0] = proto_cstr("[10.0.0.1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
				r.known_hosts_lines[1] = proto_cstr("10.9.0.1 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5");
				r.nknown_hosts = 2;
				r.has |= PROTO_RESULT_JUMP;
				r.jump = proto_cstr("ops@10.9.0.1:22");
				r.has |= PROTO_RESULT_TRANSCRIPT;
				r.transcript = proto_cstr("# fleetrun transcript of r1\n    1.000 < rtr1#\n");
			}
			/* the kind alone, then every kind up to it */
			make_step(&steps[0], k, v, 0);
			r.nsteps = 1;
			check_result(&r);
			for (size_t i = 0; i <= k; i++)
				make_step(&steps[i], i, v, i);
			r.nsteps = k + 1;
			check_result(&r);
			checked++;
		}
	}
	assert_int_equal(checked, ARRAY_LEN(kinds) * V_ALL);
	/* no steps at all (a job whose first step could not start) */
	{
		struct proto_result r = {.id = 0, .status = STATUS_ERROR, .error = proto_cstr("no")};
		check_result(&r);
	}
	kvlist_free(&vars);
}

/* The SSH audit trail: every field there goes and comes back; only those
 * set in has; a field of the wrong type is refused. */
static void test_result_ssh(void **state)
{
	struct proto_result r = {.id = 9, .status = STATUS_OK, .has = PROTO_RESULT_SSH};
	struct buf b = BUF_INIT;
	struct decoded dec;
	struct proto_result got;
	enum proto_type type;
	struct err err = {{0}};
	const char *p;
	size_t n;

	(void)state;
	r.ssh.has = PROTO_SSH_KEX | PROTO_SSH_HOSTKEY | PROTO_SSH_CIPHER | PROTO_SSH_MAC;
	r.ssh.kex = proto_cstr("diffie-hellman-group1-sha1");
	r.ssh.hostkey = proto_cstr("ssh-rsa");
	r.ssh.cipher = proto_cstr("aes128-cbc");
	r.ssh.mac = proto_cstr("hmac-sha1");
	r.ssh.auth = proto_cstr("not sent: has lacks it");
	proto_encode_result(&b, &r);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	if (proto_decode_result(&dec.data, &dec.zone, &got, &err) != 0)
		fail_msg("%s", err.msg);
	assert_true(got.has & PROTO_RESULT_SSH);
	assert_int_equal(got.ssh.has, r.ssh.has);
	assert_same_str(&got.ssh.kex, &r.ssh.kex);
	assert_same_str(&got.ssh.hostkey, &r.ssh.hostkey);
	assert_same_str(&got.ssh.cipher, &r.ssh.cipher);
	assert_same_str(&got.ssh.mac, &r.ssh.mac);
	assert_null(got.ssh.auth.p);
	assert_non_null(got.ssh.raw);
	assert_int_equal(got.ssh.raw->via.map.size, 4);
	decoded_free(&dec);
	/* a result without it has none */
	buf_reset(&b);
	r.has = 0;
	proto_encode_result(&b, &r);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_result(&dec.data, &dec.zone, &got, &err), 0);
	assert_false(got.has & PROTO_RESULT_SSH);
	assert_null(got.ssh.raw);
	decoded_free(&dec);
	buf_free(&b);
}

/* Builders of hostile results: a valid result (one step) in which field
 * key of the result (in_step false) or of its step gets the value val
 * packs, instead of the valid one; val NULL leaves the field out. */
static void pack_base_step(msgpack_packer *pk, const char *key, void (*val)(msgpack_packer *))
{
	static const char *const base[] = {"kind", "exec", "name", "x", "status", "ok"};
	size_t n = 1;

	for (size_t i = 0; i < ARRAY_LEN(base); i += 2)
		n += strcmp(base[i], key) != 0;
	msgpack_pack_map(pk, n);
	for (size_t i = 0; i < ARRAY_LEN(base); i += 2) {
		if (strcmp(base[i], key) == 0)
			continue;
		proto_pack_cstr(pk, base[i]);
		proto_pack_cstr(pk, base[i + 1]);
	}
	proto_pack_cstr(pk, key);
	val(pk);
}

static void v_nil(msgpack_packer *pk);

static void pack_hostile(struct buf *b, bool in_step, const char *key, void (*val)(msgpack_packer *))
{
	static const char *const top[] = {"type", "id", "status", "steps", "vars", "error"};
	msgpack_packer pk;
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_LEN(top); i++)
		n += in_step || strcmp(top[i], key) != 0;
	proto_packer_init(&pk, b);
	msgpack_pack_map(&pk, n + (!in_step && val));
	for (size_t i = 0; i < ARRAY_LEN(top); i++) {
		if (!in_step && strcmp(top[i], key) == 0)
			continue;
		proto_pack_cstr(&pk, top[i]);
		if (!strcmp(top[i], "type"))
			proto_pack_cstr(&pk, "result");
		else if (!strcmp(top[i], "id"))
			msgpack_pack_uint64(&pk, 7);
		else if (!strcmp(top[i], "status"))
			proto_pack_cstr(&pk, "ok");
		else if (!strcmp(top[i], "steps")) {
			msgpack_pack_array(&pk, 1);
			pack_base_step(&pk, in_step ? key : "", in_step ? val : v_nil);
		} else if (!strcmp(top[i], "vars"))
			msgpack_pack_map(&pk, 0);
		else
			msgpack_pack_nil(&pk);
	}
	if (!in_step && val) {
		proto_pack_cstr(&pk, key);
		val(&pk);
	}
}

static void v_str(msgpack_packer *pk) { proto_pack_cstr(pk, "12"); }
static void v_int(msgpack_packer *pk) { msgpack_pack_int(pk, 5); }
static void v_neg(msgpack_packer *pk) { msgpack_pack_int(pk, -1); }
static void v_big(msgpack_packer *pk) { msgpack_pack_uint64(pk, UINT64_MAX); }
static void v_nil(msgpack_packer *pk) { msgpack_pack_nil(pk); }
static void v_true(msgpack_packer *pk) { msgpack_pack_true(pk); }
static void v_float(msgpack_packer *pk) { msgpack_pack_double(pk, 1.5); }
static void v_map(msgpack_packer *pk) { msgpack_pack_map(pk, 0); }
static void v_array(msgpack_packer *pk) { msgpack_pack_array(pk, 0); }
static void v_line_int(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "line");
	msgpack_pack_int(pk, 1);
}
static void v_steps_of_nils(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_nil(pk);
	msgpack_pack_nil(pk);
}
/* One step with body, stdout twice, and a field no kind sends. */
static void v_step_twice(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 4);
	proto_pack_cstr(pk, "body");
	proto_pack_cstr(pk, "the body");
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "first");
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "second");
	proto_pack_cstr(pk, "rtt_min_ms");
	msgpack_pack_double(pk, 0.5);
}
static void v_too_many_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, PROTO_MAX_STEPS + 1);
	for (int i = 0; i <= PROTO_MAX_STEPS; i++)
		msgpack_pack_map(pk, 0);
}

/* Decode b as a result: 0, or -1 with err. */
/* parsed records of the wrong shapes: a record that is no map, a value
 * that is a number, a list in a list, a named group that is a number */
static void v_parsed_of_nils(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_nil(pk);
}
static void v_parsed_int_value(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "version");
	msgpack_pack_int(pk, 17);
}
static void v_parsed_nested_list(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "macs");
	msgpack_pack_array(pk, 1);
	msgpack_pack_array(pk, 0);
}
static void v_parsed_dict_int(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "neighbors");
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "ip");
	msgpack_pack_int(pk, 1);
}

static int decode_result(const struct buf *b, struct proto_result *r, struct decoded *dec, struct err *err)
{
	enum proto_type type;

	assert_int_equal(decode(b->data, b->len, dec, &type, err), 0);
	assert_int_equal(type, PROTO_RESULT);
	return proto_decode_result(&dec->data, &dec->zone, r, err);
}

/* A result with a field of the wrong type is refused, with the field's
 * name; one without id, status or steps too. */
static void test_result_wrong_types(void **state)
{
	static const struct {
		bool in_step;
		const char *key;
		void (*val)(msgpack_packer *);
	} bad[] = {
		{false, "id", v_str}, {false, "id", v_neg}, {false, "id", v_nil}, {false, "id", v_float},
		{false, "status", v_int}, {false, "status", v_str}, {false, "status", v_nil},
		{false, "steps", v_map}, {false, "steps", v_str}, {false, "steps", v_steps_of_nils},
		{false, "steps", v_too_many_steps}, {false, "vars", v_array}, {false, "vars", v_str},
		{false, "error", v_int}, {false, "error", v_true}, {false, "started_ms", v_str},
		{false, "duration_ms", v_map}, {false, "known_hosts_add", v_str},
		{false, "known_hosts_add", v_map}, {false, "known_hosts_add", v_line_int},
		{false, "known_hosts_add", v_array}, {false, "jump", v_int},
		{true, "kind", v_int}, {true, "name", v_nil}, {true, "status", v_true}, {true, "exit", v_str},
		{true, "exit", v_float}, {true, "signal", v_int}, {true, "stdout", v_int}, {true, "stderr", v_true},
		{true, "http_status", v_float}, {true, "body", v_nil}, {true, "credentials_withheld", v_int},
		{true, "connect_ms", v_str}, {true, "sent", v_float}, {true, "received", v_str},
		{true, "rtt_ms", v_nil}, {true, "truncated", v_str}, {true, "truncated", v_int},
		{true, "error", v_map}, {true, "duration_ms", v_str},
		{true, "parsed", v_str}, {true, "parsed", v_map}, {true, "parsed", v_parsed_of_nils},
		{true, "parsed", v_parsed_int_value}, {true, "parsed", v_parsed_nested_list},
		{true, "parsed", v_parsed_dict_int},
	};
	struct buf b = BUF_INIT;
	struct proto_result r = {.id = 99};
	struct err err;
	int failed = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		struct decoded dec;
		buf_reset(&b);
		err.msg[0] = '\0';
		pack_hostile(&b, bad[i].in_step, bad[i].key, bad[i].val);
		if (decode_result(&b, &r, &dec, &err) != -1 || !strstr(err.msg, bad[i].key)) {
			print_error("%s %s: accepted, or said '%s'\n", bad[i].in_step ? "step" : "result", bad[i].key,
			            err.msg);
			failed++;
		}
		/* the view is set only on success */
		assert_true(r.id == 99);
		decoded_free(&dec);
	}
	/* a step that is not a map names its number */
	buf_reset(&b);
	pack_hostile(&b, false, "steps", v_steps_of_nils);
	{
		struct decoded dec;
		assert_int_equal(decode_result(&b, &r, &dec, &err), -1);
		assert_non_null(strstr(err.msg, "step 1"));
		decoded_free(&dec);
	}
	buf_free(&b);
	assert_int_equal(failed, 0);
}

/* A result frame (header and payload) into its view. */
static int decode_result_frame(const struct buf *b, struct proto_result *r, struct decoded *dec, struct err *err)
{
	enum proto_type type;
	size_t n;
	const char *p = payload_of(b, &n);

	assert_int_equal(decode(p, n, dec, &type, err), 0);
	assert_int_equal(type, PROTO_RESULT);
	return proto_decode_result(&dec->data, &dec->zone, r, err);
}

/* Parsed records: packed by the worker, sent as they are, decoded into a
 * view whose shape is checked; the view encoded again carries them. */
static void test_result_parsed(void **state)
{
	struct buf packed = BUF_INIT, b = BUF_INIT, b2 = BUF_INIT;
	struct proto_step st = {.has = PROTO_STEP_KIND | PROTO_STEP_PARSED, .kind = proto_cstr("ssh")};
	struct proto_result r = {.id = 7, .status = STATUS_OK, .steps = &st, .nsteps = 1}, got, again;
	struct decoded dec, dec2;
	struct err err;
	msgpack_packer pk;
	const msgpack_object *rec, *macs;

	(void)state;
	proto_packer_init(&pk, &packed);
	msgpack_pack_array(&pk, 2);
	msgpack_pack_map(&pk, 2);
	proto_pack_cstr(&pk, "version");
	proto_pack_cstr(&pk, "17.3.4a");
	proto_pack_cstr(&pk, "macs");
	msgpack_pack_array(&pk, 3);
	proto_pack_cstr(&pk, "aa");
	msgpack_pack_nil(&pk);
	msgpack_pack_map(&pk, 1);
	proto_pack_cstr(&pk, "ip");
	proto_pack_cstr(&pk, "10.0.0.1");
	msgpack_pack_map(&pk, 0);
	st.parsed_packed = (struct proto_str){packed.data, packed.len};
	proto_encode_result(&b, &r);
	assert_int_equal(decode_result_frame(&b, &got, &dec, &err), 0);
	assert_true(got.steps[0].has & PROTO_STEP_PARSED);
	assert_non_null(got.steps[0].parsed);
	assert_int_equal(got.steps[0].parsed->via.array.size, 2);
	rec = &got.steps[0].parsed->via.array.ptr[0];
	assert_str_field(rec, "version", "17.3.4a", 7);
	macs = proto_get(rec, "macs");
	assert_non_null(macs);
	assert_int_equal(macs->via.array.size, 3);
	/* the decoded view, encoded again (the supervisor never does; the
	 * fuzzer's round trip does) */
	got.steps[0].parsed_packed = (struct proto_str){NULL, 0};
	proto_encode_result(&b2, &got);
	assert_int_equal(decode_result_frame(&b2, &again, &dec2, &err), 0);
	assert_true(msgpack_object_equal(*again.steps[0].parsed, *got.steps[0].parsed));
	/* a step without parse: no field */
	st.has = PROTO_STEP_KIND;
	buf_reset(&b2);
	proto_encode_result(&b2, &r);
	decoded_free(&dec2);
	assert_int_equal(decode_result_frame(&b2, &again, &dec2, &err), 0);
	assert_false(again.steps[0].has & PROTO_STEP_PARSED);
	assert_null(again.steps[0].parsed);
	decoded_free(&dec);
	decoded_free(&dec2);
	buf_free(&packed);
	buf_free(&b);
	buf_free(&b2);
}

/* What the decoder lets through: a worker's clock in another form reads
 * as absent, integers past INT64_MAX as INT64_MAX, numbers of either kind
 * as doubles, nil error as none; unknown fields stay in the raw map; a
 * key twice counts once, the first; a step with both stdout and body
 * shows its stdout. */
static void test_result_lenient(void **state)
{
	struct buf b = BUF_INIT;
	struct proto_result r;
	struct decoded dec;
	struct err err = {{0}};

	(void)state;
	pack_hostile(&b, false, "started_ms", v_float);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_false(r.has & PROTO_RESULT_STARTED_MS);
	assert_false(r.has & PROTO_RESULT_ERROR); /* nil */
	assert_null(r.error.p);
	decoded_free(&dec);
	buf_reset(&b);
	pack_hostile(&b, false, "duration_ms", v_big);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_false(r.has & PROTO_RESULT_DURATION_MS);
	decoded_free(&dec);
	buf_reset(&b);
	pack_hostile(&b, true, "exit", v_big);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_true(r.steps[0].has & PROTO_STEP_EXIT);
	assert_true(r.steps[0].exit_code == INT64_MAX);
	decoded_free(&dec);
	buf_reset(&b);
	pack_hostile(&b, true, "rtt_ms", v_int);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_true(r.steps[0].rtt_ms == 5.0);
	decoded_free(&dec);
	buf_reset(&b);
	pack_hostile(&b, true, "duration_ms", v_float);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_false(r.steps[0].has & PROTO_STEP_DURATION_MS);
	decoded_free(&dec);

	/* body, stdout, stdout again, an unknown field */
	buf_reset(&b);
	pack_hostile(&b, false, "steps", v_step_twice);
	assert_int_equal(decode_result(&b, &r, &dec, &err), 0);
	assert_int_equal(r.steps[0].has, PROTO_STEP_BODY | PROTO_STEP_STDOUT);
	assert_int_equal(r.steps[0].out.n, 5);
	assert_memory_equal(r.steps[0].out.p, "first", 5);
	assert_non_null(proto_get(r.steps[0].raw, "rtt_min_ms"));
	assert_int_equal(r.vars_raw->via.map.size, 0);
	decoded_free(&dec);
	buf_free(&b);
}

static void test_result_required(void **state)
{
	static const char *const need[] = {"id", "status", "steps"};
	struct buf b = BUF_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(need); i++) {
		struct proto_result r;
		struct decoded dec;
		struct err err = {{0}};

		buf_reset(&b);
		pack_hostile(&b, false, need[i], NULL);
		assert_int_equal(decode_result(&b, &r, &dec, &err), -1);
		assert_non_null(strstr(err.msg, need[i]));
		decoded_free(&dec);
	}
	buf_free(&b);
}

/* The hello and the task, decoded as the worker does. */
static void test_decode_hello_task(void **state)
{
	struct proto_settings s = {
		.output_cap = 4096, .log_level = 3, .cpu_limit_ms = 1500, .max_logins = 2, .jump_max_logins = 8};
	struct kvlist vars = KVLIST_INIT;
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	struct proto_hello h;
	struct proto_task t;
	uint64_t id;
	int64_t pgid;
	const char *p;
	size_t n;

	(void)state;
	proto_encode_hello(&b, "jobs.d/x.yaml", "steps: []\n", 10, &s);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_hello(&dec.data, &h, &err), 0);
	assert_int_equal(h.job_path.n, 13);
	assert_memory_equal(h.job_path.p, "jobs.d/x.yaml", 13);
	assert_int_equal(h.job.n, 10);
	assert_true(h.settings.output_cap == 4096);
	assert_int_equal(h.settings.log_level, 3);
	assert_true(h.settings.cpu_limit_ms == 1500);
	assert_int_equal(h.settings.max_logins, 2);
	assert_int_equal(h.settings.jump_max_logins, 8);
	/* a task is not a hello */
	assert_int_equal(proto_decode_task(&dec.data, &t, &err), -1);
	decoded_free(&dec);

	buf_reset(&b);
	kvlist_set(&vars, "address", "10.0.0.1");
	proto_encode_task(&b, 42, 3, "rtr1", &vars, 30000);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_hello(&dec.data, &h, &err), -1);
	assert_int_equal(proto_decode_task(&dec.data, &t, &err), 0);
	assert_true(t.id == 42);
	assert_int_equal(t.attempt, 3);
	assert_string_equal(t.host, "rtr1");
	assert_string_equal(kvlist_get(&t.vars, "address"), "10.0.0.1");
	assert_true(t.timeout_ms == 30000);
	proto_task_free(&t);
	decoded_free(&dec);

	buf_reset(&b);
	proto_encode_child(&b, 42, 4242);
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_child(&dec.data, &id, &pgid), 0);
	assert_true(id == 42 && pgid == 4242);
	decoded_free(&dec);
	kvlist_free(&vars);
	buf_free(&b);
}

/* The three login messages: one view, their own types; id required, key
 * and waited_ms checked for type. */
static void test_login(void **state)
{
	static const enum proto_type types[] = {PROTO_LOGIN, PROTO_LOGIN_GRANT, PROTO_LOGIN_DONE};
	struct proto_login in = {PROTO_LOGIN_KEY | PROTO_LOGIN_WAITED, 77, proto_cstr("bastion:2222"), 1234}, out;
	struct buf b = BUF_INIT;
	struct decoded dec;
	enum proto_type type;
	struct err err = {{0}};
	const char *p;
	size_t n;

	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(types); i++) {
		buf_reset(&b);
		proto_encode_login(&b, types[i], &in);
		p = payload_of(&b, &n);
		assert_int_equal(decode(p, n, &dec, &type, &err), 0);
		assert_int_equal(type, types[i]);
		assert_int_equal(proto_decode_login(&dec.data, &out, &err), 0);
		assert_true(out.id == 77);
		assert_int_equal(out.has, PROTO_LOGIN_ID | PROTO_LOGIN_KEY | PROTO_LOGIN_WAITED);
		assert_int_equal(out.key.n, 12);
		assert_memory_equal(out.key.p, "bastion:2222", 12);
		assert_true(out.waited_ms == 1234);
		decoded_free(&dec);
	}
	/* only id: the rest absent */
	buf_reset(&b);
	proto_encode_login(&b, PROTO_LOGIN_DONE, &(struct proto_login){0, 5, {NULL, 0}, 0});
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_login(&dec.data, &out, &err), 0);
	assert_int_equal(out.has, PROTO_LOGIN_ID);
	assert_null(out.key.p);
	decoded_free(&dec);
	/* a key that is not a string */
	{
		msgpack_packer pk;
		size_t start;

		buf_reset(&b);
		start = frame_begin(&b);
		proto_packer_init(&pk, &b);
		msgpack_pack_map(&pk, 3);
		proto_pack_cstr(&pk, "type");
		proto_pack_cstr(&pk, "login");
		proto_pack_cstr(&pk, "id");
		msgpack_pack_uint64(&pk, 5);
		proto_pack_cstr(&pk, "key");
		msgpack_pack_int(&pk, 22);
		frame_end(&b, start);
		p = payload_of(&b, &n);
		assert_int_equal(decode(p, n, &dec, &type, &err), 0);
		assert_int_equal(type, PROTO_LOGIN);
		assert_int_equal(proto_decode_login(&dec.data, &out, &err), -1);
		assert_string_equal(err.msg, "login field 'key': expected a string");
		decoded_free(&dec);
	}
	/* a message without an id is no login */
	buf_reset(&b);
	proto_encode_hello(&b, "j", "", 0, &(struct proto_settings){0});
	p = payload_of(&b, &n);
	assert_int_equal(decode(p, n, &dec, &type, &err), 0);
	assert_int_equal(proto_decode_login(&dec.data, &out, &err), -1);
	assert_string_equal(err.msg, "login message without 'id'");
	decoded_free(&dec);
	buf_free(&b);
}

static void test_random(void **state)
{
	(void)state;
	assert_ok_in_child("random payloads", random_loop, NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hello),
		cmocka_unit_test(test_task),
		cmocka_unit_test(test_ready),
		cmocka_unit_test(test_child),
		cmocka_unit_test(test_stream),
		cmocka_unit_test(test_result_type),
		cmocka_unit_test(test_getters),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_trailing),
		cmocka_unit_test(test_not_a_map),
		cmocka_unit_test(test_bad_type),
		cmocka_unit_test(test_deep_nesting),
		cmocka_unit_test(test_some_nesting),
		cmocka_unit_test(test_huge_counts),
		cmocka_unit_test(test_count_amplification),
		cmocka_unit_test(test_object_amplification),
		cmocka_unit_test(test_objects_at_limit),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_result_round_trip),
		cmocka_unit_test(test_result_ssh),
		cmocka_unit_test(test_result_wrong_types),
		cmocka_unit_test(test_result_lenient),
		cmocka_unit_test(test_result_parsed),
		cmocka_unit_test(test_result_required),
		cmocka_unit_test(test_decode_hello_task),
		cmocka_unit_test(test_login),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
