/* Unit tests for runner/record.c: the exact JSON of records the supervisor
 * makes itself, records rendered from worker results with hostile bytes
 * (control characters, NUL, invalid UTF-8), results that are not valid,
 * the first line kept for text output, and utf8_valid in both directions. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "proto.h"
#include "record.h"
#include "status.h"
#include "utf8.h"
#include "util.h"

/* 2023-11-14T22:13:20.123Z */
#define WALL_MS INT64_C(1700000000123)

static struct record_info info_of(const char *host, const char *job, uint32_t attempt, int worker)
{
	struct record_info ri = {
		.host = host,
		.job = job,
		.attempt = attempt,
		.worker = worker,
		.started_wall_ms = WALL_MS,
		.duration_ms = 5,
	};
	return ri;
}

static void assert_json(const struct record *r, const char *want)
{
	if (r->json_len != strlen(want) || memcmp(r->json, want, r->json_len) != 0)
		print_error("got  %.*s\nwant %s\n", (int)r->json_len, r->json, want);
	assert_int_equal(r->json_len, strlen(want));
	assert_memory_equal(r->json, want, r->json_len);
}

/* The record parses as one JSON object (yajl's parser checks UTF-8 too). */
static int json_valid(const struct record *r)
{
	char ebuf[256];
	char *copy = xstrndup(r->json, r->json_len);
	yajl_val v = yajl_tree_parse(copy, ebuf, sizeof(ebuf));
	int ok = v != NULL && YAJL_IS_OBJECT(v);

	if (!v)
		print_error("invalid JSON (%s): %s\n", ebuf, copy);
	yajl_tree_free(v);
	free(copy);
	return ok;
}

/* No raw control byte, no newline: one record is one line. */
static void assert_no_control_bytes(const struct record *r)
{
	for (size_t i = 0; i < r->json_len; i++) {
		if ((unsigned char)r->json[i] < 0x20)
			print_error("raw byte 0x%02x at %zu\n", (unsigned char)r->json[i], i);
		assert_true((unsigned char)r->json[i] >= 0x20);
	}
}

static int contains(const struct record *r, const char *needle)
{
	return memmem(r->json, r->json_len, needle, strlen(needle)) != NULL;
}

static void test_make_crashed(void **state)
{
	struct record r;
	struct record_info ri = info_of("h1", "j", 2, 0);

	(void)state;
	record_init(&r);
	record_make(&r, &ri, STATUS_CRASHED, "worker killed by SIGSEGV");
	assert_json(&r, "{\"host\":\"h1\",\"job\":\"j\",\"task\":\"0cdab7e04f9a2441\",\"status\":\"crashed\",\"attempt\":2,"
	                "\"started\":\"2023-11-14T22:13:20.123Z\",\"duration_ms\":5,\"worker\":null,"
	                "\"steps\":[],\"vars\":{},\"error\":\"worker killed by SIGSEGV\"}");
	assert_int_equal(r.status, STATUS_CRASHED);
	assert_int_equal(r.duration_ms, 5);
	assert_true(r.has_error);
	assert_string_equal(r.error.data, "worker killed by SIGSEGV");
	assert_int_equal(r.first.len, 0);
	assert_true(json_valid(&r));
	record_free(&r);
}

static void test_make_variants(void **state)
{
	struct record r;
	struct record_info ri = info_of("rtr1", "show-version", 1, 12345);

	(void)state;
	record_init(&r);
	ri.duration_ms = 30000;
	record_make(&r, &ri, STATUS_TIMEOUT, NULL);
	assert_json(&r, "{\"host\":\"rtr1\",\"job\":\"show-version\",\"task\":\"987737ee00ca83dd\",\"status\":\"timeout\",\"attempt\":1,"
	                "\"started\":\"2023-11-14T22:13:20.123Z\",\"duration_ms\":30000,\"worker\":12345,"
	                "\"steps\":[],\"vars\":{},\"error\":null}");
	assert_false(r.has_error);
	assert_int_equal(r.error.len, 0);

	/* the same record reused: nothing of the previous render remains */
	ri = info_of("sw-2", "j", 3, 0);
	ri.started_wall_ms = 0;
	ri.duration_ms = 0;
	record_make(&r, &ri, STATUS_ERROR, "missing variable 'x'");
	assert_json(&r, "{\"host\":\"sw-2\",\"job\":\"j\",\"task\":\"0d3cd6ee76e421f7\",\"status\":\"error\",\"attempt\":3,"
	                "\"started\":\"1970-01-01T00:00:00.000Z\",\"duration_ms\":0,\"worker\":null,"
	                "\"steps\":[],\"vars\":{},\"error\":\"missing variable 'x'\"}");
	assert_true(r.has_error);

	/* a task the run was stopped on: marked, so --resume runs it again */
	ri.interrupted = true;
	record_make(&r, &ri, STATUS_ERROR, "interrupted");
	assert_non_null(strstr(r.json, ",\"worker\":null,\"interrupted\":true,\"steps\":[]"));
	ri.interrupted = false;

	/* every status by name */
	for (int s = 0; s < STATUS_COUNT; s++) {
		char want[64];
		snprintf(want, sizeof(want), "\"status\":\"%s\"", status_name((enum status)s));
		record_make(&r, &ri, (enum status)s, NULL);
		assert_true(contains(&r, want));
		assert_true(json_valid(&r));
	}
	record_free(&r);
}

/* The start time is cached per second: going forward, within a second and
 * back again must each give the right text. */
static void test_started(void **state)
{
	static const struct {
		int64_t ms;
		const char *want;
	} cases[] = {
		{WALL_MS, "\"started\":\"2023-11-14T22:13:20.123Z\""},
		{WALL_MS + 1, "\"started\":\"2023-11-14T22:13:20.124Z\""},
		{WALL_MS + 876, "\"started\":\"2023-11-14T22:13:20.999Z\""},
		{WALL_MS + 877, "\"started\":\"2023-11-14T22:13:21.000Z\""},
		{WALL_MS - 123, "\"started\":\"2023-11-14T22:13:20.000Z\""},
		{WALL_MS - 124, "\"started\":\"2023-11-14T22:13:19.999Z\""},
		{INT64_C(1798761599999), "\"started\":\"2026-12-31T23:59:59.999Z\""},
		{WALL_MS + 7, "\"started\":\"2023-11-14T22:13:20.130Z\""},
	};
	struct record r;

	(void)state;
	record_init(&r);
	for (size_t i = 0; i < ARRAY_LEN(cases); i++) {
		struct record_info ri = info_of("h", "j", 1, 0);
		ri.started_wall_ms = cases[i].ms;
		record_make(&r, &ri, STATUS_OK, NULL);
		if (!contains(&r, cases[i].want))
			print_error("%lld: %.*s\n", (long long)cases[i].ms, (int)r.json_len, r.json);
		assert_true(contains(&r, cases[i].want));
	}
	record_free(&r);
}

static void test_make_hostile(void **state)
{
	struct record r;
	struct record_info ri = info_of("we\"ird\\host\n", "j", 1, 0);

	(void)state;
	record_init(&r);
	record_make(&r, &ri, STATUS_FAILED, "bad\x01\ttext\r\n\"quoted\"");
	assert_no_control_bytes(&r);
	assert_true(json_valid(&r));
	assert_true(contains(&r, "\"host\":\"we\\\"ird\\\\host\\n\""));
	assert_true(contains(&r, "\"error\":\"bad\\u0001\\ttext\\r\\n\\\"quoted\\\"\""));
	/* the raw text is kept for the summary */
	assert_string_equal(r.error.data, "bad\x01\ttext\r\n\"quoted\"");

	/* a host name and an error that are not UTF-8 */
	ri.host = "\xff\xfe";
	record_make(&r, &ri, STATUS_ERROR, "\xc0\x80");
	assert_true(json_valid(&r));
	assert_true(contains(&r, "\"host_b64\":\"//4=\""));
	assert_false(contains(&r, "\"host\":"));
	assert_true(contains(&r, "\"error_b64\":\"wIA=\""));
	record_free(&r);
}

/* A job's name comes from its file name, which may be any bytes (a
 * Latin-1 "café.yaml" on an old system): the record must still be valid
 * UTF-8 JSON, as it is for a host name. */
static void test_make_job_not_utf8(void **state)
{
	struct record r;
	struct record_info ri = info_of("h1", "caf\xe9", 1, 0);
	int ok;

	(void)state;
	record_init(&r);
	record_make(&r, &ri, STATUS_OK, NULL);
	ok = json_valid(&r);
	record_free(&r);
	assert_true(ok);
}

/* A result map: the fields a worker sends, in its order. steps_fn packs the
 * steps array, or NULL for none; status NULL leaves it out. */
static void pack_result(struct buf *b, const char *status, void (*steps_fn)(msgpack_packer *),
                        void (*vars_fn)(msgpack_packer *), const char *error, size_t error_len)
{
	msgpack_packer pk;
	int n = 6 + (status != NULL) + (steps_fn != NULL);

	proto_packer_init(&pk, b);
	msgpack_pack_map(&pk, (size_t)n);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "result");
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, 1);
	if (status) {
		proto_pack_cstr(&pk, "status");
		proto_pack_cstr(&pk, status);
	}
	if (steps_fn) {
		proto_pack_cstr(&pk, "steps");
		steps_fn(&pk);
	}
	proto_pack_cstr(&pk, "vars");
	if (vars_fn)
		vars_fn(&pk);
	else
		msgpack_pack_map(&pk, 0);
	proto_pack_cstr(&pk, "error");
	if (error)
		proto_pack_str(&pk, error, error_len);
	else
		msgpack_pack_nil(&pk);
	proto_pack_cstr(&pk, "started_ms");
	msgpack_pack_int64(&pk, WALL_MS + 1000);
	proto_pack_cstr(&pk, "duration_ms");
	msgpack_pack_int64(&pk, 42);
}

/* Unpack b, decode the result and render it. 0, or -1 when the decoder
 * refused it. */
static int render(struct record *r, const struct buf *b, struct err *err)
{
	msgpack_unpacked unp;
	size_t off = 0;
	struct record_info ri = info_of("h1", "j", 1, 777);
	struct proto_result res;
	int rc;

	msgpack_unpacked_init(&unp);
	assert_int_equal(msgpack_unpack_next(&unp, b->data, b->len, &off), MSGPACK_UNPACK_SUCCESS);
	assert_int_equal(off, b->len);
	rc = proto_decode_result(&unp.data, unp.zone, &res, err);
	if (rc == 0)
		record_from_result(r, &res, &ri);
	/* the record must not point into the unpacked message */
	msgpack_unpacked_destroy(&unp);
	return rc;
}

static const char hostile_out[] = "\0\x01\x1b\"\\\nok";
static const char hostile_err[] = "\xff\xfe";

static void pack_hostile_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 4);
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, "exec");
	proto_pack_cstr(pk, "name");
	proto_pack_cstr(pk, "x");
	proto_pack_cstr(pk, "stdout");
	msgpack_pack_bin(pk, sizeof(hostile_out) - 1);
	msgpack_pack_bin_body(pk, hostile_out, sizeof(hostile_out) - 1);
	proto_pack_cstr(pk, "stderr");
	msgpack_pack_bin(pk, sizeof(hostile_err) - 1);
	msgpack_pack_bin_body(pk, hostile_err, sizeof(hostile_err) - 1);
}

static void test_result_hostile(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	pack_result(&b, "ok", pack_hostile_steps, NULL, NULL, 0);
	record_init(&r);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_no_control_bytes(&r);
	assert_true(json_valid(&r));
	assert_true(contains(&r, "\\u0000"));
	assert_true(contains(&r, "\"stderr_b64\":\"//4=\""));
	assert_false(contains(&r, "\"stderr\":"));
	assert_true(contains(&r, "\"stdout\":\""));
	/* and exactly: started and duration come from the result */
	assert_json(&r, "{\"host\":\"h1\",\"job\":\"j\",\"task\":\"0cdab7e04f9a2441\",\"status\":\"ok\",\"attempt\":1,"
	                "\"started\":\"2023-11-14T22:13:21.123Z\",\"duration_ms\":42,\"worker\":777,"
	                "\"steps\":[{\"kind\":\"exec\",\"name\":\"x\","
	                "\"stdout\":\"\\u0000\\u0001\\u001B\\\"\\\\\\nok\",\"stderr_b64\":\"//4=\"}],"
	                "\"vars\":{},\"error\":null}");
	assert_int_equal(r.status, STATUS_OK);
	assert_int_equal(r.duration_ms, 42);
	assert_false(r.has_error);
	/* the first line stops at the newline; the NUL before it is kept */
	assert_int_equal(r.first.len, 5);
	assert_memory_equal(r.first.data, "\0\x01\x1b\"\\", 5);
	record_free(&r);
	buf_free(&b);
}

/* Every byte value 0..255 in stdout, as str and as bin. */
static void pack_all_bytes_steps(msgpack_packer *pk)
{
	char all[256];

	for (int i = 0; i < 256; i++)
		all[i] = (char)i;
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "stdout");
	proto_pack_str(pk, all, 128); /* ASCII: valid UTF-8 */
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "stdout");
	msgpack_pack_bin(pk, sizeof(all));
	msgpack_pack_bin_body(pk, all, sizeof(all));
}

static void test_result_all_bytes(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	pack_result(&b, "failed", pack_all_bytes_steps, NULL, "exit 1\x7f", 7);
	record_init(&r);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_no_control_bytes(&r);
	assert_true(json_valid(&r));
	assert_true(contains(&r, "\"stdout\":\"\\u0000\\u0001"));
	assert_true(contains(&r, "\"stdout_b64\":\"AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8g"));
	assert_true(contains(&r, "\"error\":\"exit 1\x7f\""));
	assert_true(r.has_error);
	assert_int_equal(r.error.len, 7);
	/* the last step with output is the binary one: up to its first \n */
	assert_int_equal(r.first.len, 10);
	record_free(&r);
	buf_free(&b);
}

static void pack_vars(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 4);
	proto_pack_cstr(pk, "uid");
	proto_pack_cstr(pk, "f3a9");
	proto_pack_cstr(pk, "bad");
	msgpack_pack_bin(pk, 1);
	msgpack_pack_bin_body(pk, "\xff", 1);
	proto_pack_cstr(pk, "ctl");
	proto_pack_cstr(pk, "a\x1f" "b");
	msgpack_pack_int(pk, 7); /* not a string key: dropped with its value */
	proto_pack_cstr(pk, "dropped");
}

/* Values of every msgpack type inside a step. */
static void pack_typed_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 9);
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, "http");
	proto_pack_cstr(pk, "http_status");
	msgpack_pack_int(pk, 200);
	proto_pack_cstr(pk, "neg");
	msgpack_pack_int64(pk, INT64_MIN);
	proto_pack_cstr(pk, "big");
	msgpack_pack_uint64(pk, UINT64_MAX);
	proto_pack_cstr(pk, "truncated");
	msgpack_pack_false(pk);
	proto_pack_cstr(pk, "ok");
	msgpack_pack_true(pk);
	proto_pack_cstr(pk, "nothing");
	msgpack_pack_nil(pk);
	proto_pack_cstr(pk, "list");
	msgpack_pack_array(pk, 3);
	msgpack_pack_int(pk, 1);
	proto_pack_cstr(pk, "two");
	msgpack_pack_bin(pk, 2);
	msgpack_pack_bin_body(pk, "\xc3\x28", 2); /* invalid UTF-8 in an array */
	proto_pack_cstr(pk, "half");
	msgpack_pack_double(pk, 0.5);
}

static void test_result_types(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	pack_result(&b, "ok", pack_typed_steps, pack_vars, NULL, 0);
	record_init(&r);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_no_control_bytes(&r);
	assert_true(json_valid(&r));
	assert_true(contains(&r, "\"steps\":[{\"kind\":\"http\",\"http_status\":200,"
	                         "\"neg\":-9223372036854775808,\"big\":9223372036854775807,"
	                         "\"truncated\":false,\"ok\":true,\"nothing\":null,"
	                         "\"list\":[1,\"two\",\"wyg=\"],\"half\":0.5}]"));
	assert_true(contains(&r, "\"vars\":{\"uid\":\"f3a9\",\"bad_b64\":\"/w==\",\"ctl\":\"a\\u001Fb\"}"));
	assert_false(contains(&r, "dropped"));
	/* no stdout anywhere: no first line */
	assert_int_equal(r.first.len, 0);
	record_free(&r);
	buf_free(&b);
}

/* A float that JSON cannot hold (NaN, infinity) must still leave a valid
 * record; the key must keep a value (null, say). */
static void pack_nan_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 3);
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, "exec");
	proto_pack_cstr(pk, "ratio");
	msgpack_pack_double(pk, NAN);
	proto_pack_cstr(pk, "inf");
	msgpack_pack_double(pk, INFINITY);
}

/* NaN as the last value of a map. */
static void pack_nan_last_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 1);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "ratio");
	msgpack_pack_double(pk, NAN);
}

static void test_result_nan(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};
	int bad = 0;

	(void)state;
	record_init(&r);
	pack_result(&b, "ok", pack_nan_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	if (!json_valid(&r) || !contains(&r, "\"ratio\":") || !contains(&r, "\"inf\":") ||
	    contains(&r, "\"ratio\":\"inf\"")) {
		print_error("keys lost their values: %.*s\n", (int)r.json_len, r.json);
		bad++;
	}
	buf_reset(&b);
	pack_result(&b, "ok", pack_nan_last_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	if (!json_valid(&r))
		bad++;
	record_free(&r);
	buf_free(&b);
	assert_int_equal(bad, 0);
}

/* A result whose started_ms and duration_ms are packed by pack_time. */
enum time_kind { TIME_I64, TIME_U64, TIME_F64 };

struct hostile_time {
	enum time_kind kind;
	int64_t i;
	uint64_t u;
	double f;
};

static void pack_time(msgpack_packer *pk, const struct hostile_time *t)
{
	if (t->kind == TIME_I64)
		msgpack_pack_int64(pk, t->i);
	else if (t->kind == TIME_U64)
		msgpack_pack_uint64(pk, t->u);
	else
		msgpack_pack_double(pk, t->f);
}

static void pack_timed_result(struct buf *b, const struct hostile_time *started, const struct hostile_time *duration)
{
	msgpack_packer pk;

	proto_packer_init(&pk, b);
	msgpack_pack_map(&pk, 6);
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "result");
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, 1);
	proto_pack_cstr(&pk, "status");
	proto_pack_cstr(&pk, "ok");
	proto_pack_cstr(&pk, "steps");
	msgpack_pack_array(&pk, 0);
	proto_pack_cstr(&pk, "started_ms");
	pack_time(&pk, started);
	proto_pack_cstr(&pk, "duration_ms");
	pack_time(&pk, duration);
}

/* A worker's times out of range (negative, 2^63-1, 2^64-1, year 10,000,
 * NaN): the supervisor's own stand, and "started" is a real time. */
static void test_result_hostile_times(void **state)
{
	const struct hostile_time bad[] = {
		{TIME_I64, -1, 0, 0},
		{TIME_I64, INT64_MAX, 0, 0},
		{TIME_I64, INT64_MIN, 0, 0},
		{TIME_U64, 0, UINT64_MAX, 0},
		{TIME_I64, INT64_C(253402300800000), 0, 0},
		{TIME_I64, WALL_MS + 3600 * 1000, 0, 0},
		{TIME_F64, 0, 0, NAN},
		{TIME_F64, 0, 0, INFINITY},
	};
	const struct hostile_time good_start = {TIME_I64, WALL_MS + 2, 0, 0}, good_dur = {TIME_I64, 3, 0, 0};
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	record_init(&r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		buf_reset(&b);
		pack_timed_result(&b, &bad[i], &bad[i]);
		assert_int_equal(render(&r, &b, &err), 0);
		assert_true(json_valid(&r));
		/* info_of: started at WALL_MS, 5 ms */
		assert_true(contains(&r, "\"started\":\"2023-11-14T22:13:20.123Z\",\"duration_ms\":5,"));
		assert_int_equal(r.duration_ms, 5);
	}
	/* times that can be true are the worker's */
	buf_reset(&b);
	pack_timed_result(&b, &good_start, &good_dur);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_true(contains(&r, "\"started\":\"2023-11-14T22:13:20.125Z\",\"duration_ms\":3,"));
	record_free(&r);
	buf_free(&b);
}

/* record_make with times nobody should pass: still four-digit years. */
static void test_make_times_clamped(void **state)
{
	struct record_info ri = info_of("h", "j", 1, 0);
	struct record r;

	(void)state;
	record_init(&r);
	ri.started_wall_ms = INT64_MAX;
	record_make(&r, &ri, STATUS_OK, NULL);
	assert_true(contains(&r, "\"started\":\"9999-12-31T23:59:59.999Z\""));
	ri.started_wall_ms = -1;
	record_make(&r, &ri, STATUS_OK, NULL);
	assert_true(contains(&r, "\"started\":\"1970-01-01T00:00:00.000Z\""));
	record_free(&r);
}

static void pack_lines_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 4);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "a1\na2\n");
	msgpack_pack_map(pk, 2);
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, "exec");
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "b1\r\nb2\n");
	msgpack_pack_map(pk, 1); /* empty output: skipped */
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "");
	msgpack_pack_map(pk, 1); /* no stdout: skipped */
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, "sleep");
}

static void pack_one_line_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 2);
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "\nstarts with a newline");
	msgpack_pack_map(pk, 1);
	proto_pack_cstr(pk, "stdout");
	proto_pack_cstr(pk, "no newline at all");
}

static void test_first_line(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};
	struct record_info ri = info_of("h", "j", 1, 0);

	(void)state;
	record_init(&r);
	pack_result(&b, "ok", pack_lines_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_int_equal(r.first.len, 2);
	assert_string_equal(r.first.data, "b1");

	buf_reset(&b);
	pack_result(&b, "ok", pack_one_line_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_string_equal(r.first.data, "no newline at all");

	/* a record made by the supervisor forgets the previous first line */
	buf_reset(&b);
	pack_result(&b, "ok", pack_one_line_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_true(r.first.len > 0);
	record_make(&r, &ri, STATUS_TIMEOUT, NULL);
	assert_int_equal(r.first.len, 0);

	record_free(&r);
	buf_free(&b);
}

static void pack_empty_steps(msgpack_packer *pk)
{
	msgpack_pack_array(pk, 0);
}

static void pack_steps_as_map(msgpack_packer *pk)
{
	msgpack_pack_map(pk, 0);
}

static void pack_steps_as_str(msgpack_packer *pk)
{
	proto_pack_cstr(pk, "steps");
}

static void test_result_error_text(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	record_init(&r);
	pack_result(&b, "unreachable", pack_empty_steps, NULL, "connect: refused\n", 17);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_true(contains(&r, "\"status\":\"unreachable\""));
	assert_true(contains(&r, "\"steps\":[]"));
	assert_true(contains(&r, "\"error\":\"connect: refused\\n\"}"));
	assert_true(r.has_error);
	assert_int_equal(r.status, STATUS_UNREACHABLE);
	assert_string_equal(r.error.data, "connect: refused\n");

	/* an error that is not UTF-8; the raw bytes are kept */
	buf_reset(&b);
	pack_result(&b, "error", pack_empty_steps, NULL, "\xed\xa0\x80", 3);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_true(contains(&r, "\"error_b64\":\"7aCA\"}"));
	assert_int_equal(r.error.len, 3);
	assert_true(json_valid(&r));
	record_free(&r);
	buf_free(&b);
}

static void test_result_invalid(void **state)
{
	struct record r;
	struct buf b = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	record_init(&r);
	/* no status */
	pack_result(&b, NULL, pack_empty_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	assert_non_null(strstr(err.msg, "status"));
	/* an unknown status */
	buf_reset(&b);
	err.msg[0] = '\0';
	pack_result(&b, "okay", pack_empty_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	assert_non_null(strstr(err.msg, "status"));
	/* a status that is a prefix of a real one */
	buf_reset(&b);
	pack_result(&b, "fail", pack_empty_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	/* no steps */
	buf_reset(&b);
	err.msg[0] = '\0';
	pack_result(&b, "ok", NULL, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	assert_non_null(strstr(err.msg, "steps"));
	/* steps of the wrong type */
	buf_reset(&b);
	pack_result(&b, "ok", pack_steps_as_map, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	buf_reset(&b);
	pack_result(&b, "ok", pack_steps_as_str, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), -1);
	/* not a map at all */
	buf_reset(&b);
	{
		msgpack_packer pk;
		proto_packer_init(&pk, &b);
		msgpack_pack_array(&pk, 0);
	}
	assert_int_equal(render(&r, &b, &err), -1);

	/* the record still works after failures */
	buf_reset(&b);
	pack_result(&b, "ok", pack_empty_steps, NULL, NULL, 0);
	assert_int_equal(render(&r, &b, &err), 0);
	assert_true(json_valid(&r));
	record_free(&r);
	buf_free(&b);
}

/* Check utf8_valid on an exactly sized heap copy, so reading past the end
 * is caught under ASan. */
static int valid(const char *s, size_t n)
{
	unsigned char *p = malloc(n ? n : 1);
	int v;

	assert_non_null(p);
	memcpy(p, s, n);
	v = utf8_valid(p, n);
	free(p);
	return v;
}

#define VALID(lit) valid(lit, sizeof(lit) - 1)

static void test_utf8_valid(void **state)
{
	(void)state;
	assert_true(VALID(""));
	assert_true(VALID("plain ASCII\t\n"));
	assert_true(VALID("nul\0inside"));
	assert_true(VALID("\x7f"));
	assert_true(VALID("\xc2\x80"));         /* U+0080 */
	assert_true(VALID("\xdf\xbf"));         /* U+07FF */
	assert_true(VALID("\xe0\xa0\x80"));     /* U+0800 */
	assert_true(VALID("\xe2\x82\xac"));     /* € */
	assert_true(VALID("\xed\x9f\xbf"));     /* U+D7FF, just before the surrogates */
	assert_true(VALID("\xee\x80\x80"));     /* U+E000, just after */
	assert_true(VALID("\xef\xbf\xbf"));     /* U+FFFF */
	assert_true(VALID("\xf0\x90\x80\x80")); /* U+10000 */
	assert_true(VALID("\xf0\x9d\x84\x9e")); /* 𝄞 */
	assert_true(VALID("\xf4\x8f\xbf\xbf")); /* U+10FFFF */
	assert_true(VALID("h\xc3\xa9llo \xe2\x82\xac \xf0\x9d\x84\x9e!"));

	assert_false(VALID("\xc0\x80"));         /* overlong NUL */
	assert_false(VALID("\xc1\xbf"));         /* overlong */
	assert_false(VALID("\xe0\x80\x80"));     /* overlong */
	assert_false(VALID("\xe0\x9f\xbf"));     /* overlong */
	assert_false(VALID("\xf0\x80\x80\x80")); /* overlong */
	assert_false(VALID("\xf0\x8f\xbf\xbf")); /* overlong */
	assert_false(VALID("\xed\xa0\x80"));     /* U+D800 surrogate */
	assert_false(VALID("\xed\xbf\xbf"));     /* U+DFFF surrogate */
	assert_false(VALID("\xf4\x90\x80\x80")); /* U+110000 */
	assert_false(VALID("\xf5\x80\x80\x80"));
	assert_false(VALID("\xf5"));
	assert_false(VALID("\xf8\x88\x80\x80\x80"));
	assert_false(VALID("\xfe"));
	assert_false(VALID("\xff"));
	assert_false(VALID("\x80"));             /* lone continuation */
	assert_false(VALID("abc\xbf"));
	assert_false(VALID("\xc2"));             /* truncated at the end */
	assert_false(VALID("ok\xe2\x82"));
	assert_false(VALID("\xe2"));
	assert_false(VALID("ok\xf0\x9d\x84"));
	assert_false(VALID("\xf0\x9d"));
	assert_false(VALID("\xc2\x41"));         /* continuation missing */
	assert_false(VALID("\xe2\x28\xa1"));
	assert_false(VALID("\xe2\x82\x28"));
	assert_false(VALID("\xf0\x90\x28\xbc"));
	assert_false(VALID("\xf0\x90\x80\xc0"));
	assert_false(VALID("\xc2\xc2\x80"));
}

/* A second, independent reading of the rules: decode the code point and
 * check its range and the shortest form. */
static int ref_valid(const unsigned char *p, size_t n)
{
	size_t i = 0;

	while (i < n) {
		unsigned c = p[i];
		size_t len;
		uint32_t cp;

		if (c < 0x80) {
			i++;
			continue;
		}
		if ((c & 0xE0) == 0xC0) {
			len = 2;
			cp = c & 0x1F;
		} else if ((c & 0xF0) == 0xE0) {
			len = 3;
			cp = c & 0x0F;
		} else if ((c & 0xF8) == 0xF0) {
			len = 4;
			cp = c & 0x07;
		} else {
			return 0;
		}
		if (n - i < len)
			return 0;
		for (size_t k = 1; k < len; k++) {
			if ((p[i + k] & 0xC0) != 0x80)
				return 0;
			cp = cp << 6 | (p[i + k] & 0x3F);
		}
		if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000))
			return 0;
		if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
			return 0;
		i += len;
	}
	return 1;
}

/* Every 1-, 2- and 3-byte string, and 4-byte strings over the lead bytes
 * that matter with a spread of continuation bytes: about 17 million
 * checks, each bounded. */
static void test_utf8_exhaustive(void **state)
{
	static const unsigned char conts[] = {0x00, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
	                                      0xbf, 0xc0, 0xc2, 0xe0, 0xf4, 0xff};
	unsigned char p[4];
	long bad = 0;

	(void)state;
	for (unsigned a = 0; a < 256; a++) {
		p[0] = (unsigned char)a;
		bad += utf8_valid(p, 1) != ref_valid(p, 1);
		for (unsigned b = 0; b < 256; b++) {
			p[1] = (unsigned char)b;
			bad += utf8_valid(p, 2) != ref_valid(p, 2);
			for (unsigned c = 0; c < 256; c++) {
				p[2] = (unsigned char)c;
				bad += utf8_valid(p, 3) != ref_valid(p, 3);
			}
		}
	}
	for (unsigned a = 0xE0; a < 0x100; a++) {
		p[0] = (unsigned char)a;
		for (unsigned b = 0; b < 256; b++) {
			p[1] = (unsigned char)b;
			for (size_t c = 0; c < ARRAY_LEN(conts); c++) {
				p[2] = conts[c];
				for (size_t d = 0; d < ARRAY_LEN(conts); d++) {
					p[3] = conts[d];
					bad += utf8_valid(p, 4) != ref_valid(p, 4);
				}
			}
		}
	}
	assert_int_equal(bad, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_make_crashed),
		cmocka_unit_test(test_make_variants),
		cmocka_unit_test(test_started),
		cmocka_unit_test(test_make_hostile),
		cmocka_unit_test(test_make_job_not_utf8),
		cmocka_unit_test(test_result_hostile),
		cmocka_unit_test(test_result_all_bytes),
		cmocka_unit_test(test_result_types),
		cmocka_unit_test(test_result_nan),
		cmocka_unit_test(test_result_hostile_times),
		cmocka_unit_test(test_make_times_clamped),
		cmocka_unit_test(test_first_line),
		cmocka_unit_test(test_result_error_text),
		cmocka_unit_test(test_result_invalid),
		cmocka_unit_test(test_utf8_valid),
		cmocka_unit_test(test_utf8_exhaustive),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
