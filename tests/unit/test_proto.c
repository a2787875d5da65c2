/* Unit tests for common/proto.c: round trips of every message the
 * supervisor and worker encode, field access by type, and malformed
 * payloads (truncated, trailing bytes, wrong shapes, deep nesting, huge
 * counts, random bytes) that must be refused without crashing. */
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
