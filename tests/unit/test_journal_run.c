/* Unit tests for runner/journal_run.c: a run's start and end lines read
 * back as they were written, what is not a run line, and the resume
 * command line a shell would read back word for word. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <yajl/yajl_tree.h>

#include "journal_run.h"
#include "status.h"

static yajl_val parse(const struct buf *b)
{
	char err[128];
	yajl_val v = yajl_tree_parse(b->data, err, sizeof(err));

	assert_non_null(v);
	return v;
}

static void test_start_and_end_round_trip(void **state)
{
	char *argv[] = {"run", "-H", "rtr[1-4]", "-o", "j.jsonl", "job.yaml"};
	struct journal_run_start st = {.job = "show-version", .job_path = NULL, .targets = 40, .to_run = 24,
	                               .argc = 6, .argv = argv, .workers = 8, .timeout_ms = 30000,
	                               .resume = true, .started_wall_ms = 1764700000123};
	uint64_t counts[STATUS_COUNT] = {[STATUS_OK] = 20, [STATUS_FAILED] = 2};
	struct journal_run_end end = {.job = "show-version", .state = JOURNAL_RUN_INTERRUPTED, .counts = counts,
	                              .not_started = 2, .started_wall_ms = 1764700000123,
	                              .ended_wall_ms = 1764700005123, .wall_ms = 5000};
	struct buf a = BUF_INIT, b = BUF_INIT, line = BUF_INIT;
	struct journal_run_mark m;
	yajl_val v, w;

	(void)state;
	journal_run_start_json(&st, &a);
	v = parse(&a);
	assert_int_equal(journal_run_parse(v, &m), 1);
	assert_true(m.start);
	assert_string_equal(m.job, "show-version");
	assert_int_equal(m.targets, 40);
	assert_int_equal(m.started_ms, 1764700000123);
	assert_int_equal(journal_run_resume_json(m.argv, &line), 0);
	assert_string_equal(line.data, "fleetrun run -H 'rtr[1-4]' -o j.jsonl job.yaml --resume");
	journal_run_end_json(&end, &b);
	w = parse(&b);
	assert_int_equal(journal_run_parse(w, &m), 1);
	assert_false(m.start);
	assert_string_equal(m.state, "interrupted");
	assert_int_equal(m.not_started, 2);
	assert_int_equal(m.wall_ms, 5000);
	assert_non_null(strstr(b.data, "\"counts\":{\"ok\":20,\"failed\":2}"));
	yajl_tree_free(v);
	yajl_tree_free(w);
	buf_free(&a);
	buf_free(&b);
	buf_free(&line);
}

static void test_records_are_not_run_lines(void **state)
{
	const char *texts[] = {
		"{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\",\"run\":\"start\"}", /* a host: a record */
		"{\"run\":\"begin\",\"job\":\"j\"}",                                   /* no such line */
		"{\"run\":\"start\"}",                                                 /* no job */
		"[\"run\",\"start\"]",
	};
	struct journal_run_mark m;

	(void)state;
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		char err[128];
		yajl_val v = yajl_tree_parse(texts[i], err, sizeof(err));
		assert_non_null(v);
		assert_int_equal(journal_run_parse(v, &m), 0);
		yajl_tree_free(v);
	}
}

static void test_resume_line_quotes_for_a_shell(void **state)
{
	const char *argv[] = {"run", "-H", "a b", "--resume", "it's", "", "$HOME", "x;y"};
	struct buf b = BUF_INIT;

	(void)state;
	journal_run_resume_line(argv, 8, &b);
	/* --resume given already: not added again */
	assert_string_equal(b.data, "fleetrun run -H 'a b' --resume 'it'\\''s' '' '$HOME' 'x;y'");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_start_and_end_round_trip),
		cmocka_unit_test(test_records_are_not_run_lines),
		cmocka_unit_test(test_resume_line_quotes_for_a_shell),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
