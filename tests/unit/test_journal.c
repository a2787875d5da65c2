/* Unit tests for runner/journal.c (reading journals back: torn last line,
 * lines that are not records, lines nested too deep, the last-record
 * index and the rule of which record counts, task keys and their hex
 * form, what -o accepts as a journal, bounded times). Writing one is
 * test_journal_out.c's. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "log.h"
#include "task.h"

static char *write_tmp(const char *text)
{
	char *path = xstrdup("/tmp/fleetrun-test-journal-XXXXXX");
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	return path;
}

struct seen {
	char hosts[16][16];
	int final[16];
	long long attempt[16];
	int n;
};

static int collect(const struct journal_entry *e, void *ctx)
{
	struct seen *s = ctx;

	snprintf(s->hosts[s->n], sizeof(s->hosts[0]), "%s", e->host);
	s->final[s->n] = e->final;
	s->attempt[s->n] = e->attempt;
	s->n++;
	return 0;
}

static void test_task_key(void **state)
{
	char hex[17];

	(void)state;
	/* stable across versions: journals written today must resume later */
	journal_task_hex(task_key("j", "h1"), hex);
	assert_string_equal(hex, "0cdab7e04f9a2441");
	/* the separator keeps ("ab","c") and ("a","bc") apart */
	assert_true(task_key("ab", "c") != task_key("a", "bc"));
}

static void test_read_skips_torn_and_bad_lines(void **state)
{
	struct seen s = {0};
	struct err err;
	char *path = write_tmp("{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\",\"attempt\":2}\n"
	                       "not json\n"
	                       "\n"
	                       "{\"host\":\"b\",\"job\":\"j\"}\n"
	                       "{\"host\":\"c\",\"job\":\"j\",\"status\":\"bogus\"}\n"
	                       "[1,2]\n"
	                       "{\"host\":\"d\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n"
	                       "{\"host\":\"e\",\"job\":\"j\",\"sta");

	(void)state;
	assert_int_equal(journal_read(path, collect, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.hosts[0], "a");
	assert_true(s.final[0]);
	assert_int_equal(s.attempt[0], 2);
	assert_string_equal(s.hosts[1], "d");
	assert_false(s.final[1]);
	unlink(path);
	free(path);
	assert_int_equal(journal_read("/nonexistent/j.jsonl", collect, &s, &err), -1);
	assert_non_null(strstr(err.msg, "/nonexistent/j.jsonl: cannot read"));
}

static void test_nesting(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	assert_int_equal(journal_nesting("{\"a\":[1,{\"b\":[]}]}", 18), 4);
	/* brackets inside strings, escaped quotes included, do not count */
	assert_int_equal(journal_nesting("[\"[[[\\\"[[\"]", 11), 1);
	assert_int_equal(journal_nesting("]]]}", 4), 0);
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	assert_true(journal_nesting(b.data, b.len) > JOURNAL_MAX_DEPTH);
	/* it stops counting just past the limit */
	assert_int_equal(journal_nesting(b.data, b.len), JOURNAL_MAX_DEPTH + 1);
	buf_free(&b);
}

static void test_read_skips_deep_lines(void **state)
{
	struct seen s = {0};
	struct buf b = BUF_INIT;
	struct err err;
	char *path;

	(void)state;
	buf_puts(&b, "{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}\n");
	buf_puts(&b, "{\"host\":\"x\",\"job\":\"j\",\"status\":\"ok\",\"steps\":");
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 100000; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "}\n");
	/* as deep as a record may be: still read */
	buf_puts(&b, "{\"host\":\"b\",\"job\":\"j\",\"status\":\"ok\",\"v\":");
	for (int i = 0; i < JOURNAL_MAX_DEPTH - 1; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < JOURNAL_MAX_DEPTH - 1; i++)
		buf_putc(&b, ']');
	buf_puts(&b, "}\n");
	path = write_tmp(b.data);
	assert_int_equal(journal_read(path, collect, &s, &err), 0);
	assert_int_equal(s.n, 2);
	assert_string_equal(s.hosts[0], "a");
	assert_string_equal(s.hosts[1], "b");
	unlink(path);
	free(path);
	buf_free(&b);
}

/* journal_check_head on a file holding text. */
static int check_head(const char *text, size_t n)
{
	char path[] = "/tmp/fleetrun-test-head-XXXXXX";
	int fd = mkstemp(path), r;
	struct err err;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, n), (ssize_t)n);
	r = journal_check_head(fd, path, &err);
	if (r < 0)
		assert_non_null(strstr(err.msg, "not a fleetrun journal"));
	close(fd);
	unlink(path);
	return r;
}

#define CHECK_HEAD(lit) check_head(lit, sizeof(lit) - 1)

static void test_check_head(void **state)
{
	char bin[512];

	(void)state;
	assert_int_equal(CHECK_HEAD("{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}\n"), 0);
	assert_int_equal(CHECK_HEAD("\n\n{\"status\": \"failed\", \"job\": \"j\", \"host\": \"a\", \"x\": [1]}\nzz"), 0);
	/* torn: the journal of a run killed while writing its first record */
	assert_int_equal(CHECK_HEAD("{\"host\":\"a\",\"job\":\"j\",\"sta"), 0);
	assert_int_equal(CHECK_HEAD("{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\",\"steps\":[{\"stdout\":\"..."), 0);
	assert_int_equal(CHECK_HEAD("{\"a\":1}\n"), -1);
	assert_int_equal(CHECK_HEAD("{\"host\":\"a\",\"job\":\"j\"}\n{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}\n"), -1);
	assert_int_equal(CHECK_HEAD("{\"host\":\"a\",\"job\":\"j\",\"status\":\"bogus\"}\n"), -1);
	assert_int_equal(CHECK_HEAD("{\"host\":1,\"job\":\"j\",\"status\":\"ok\"}\n"), -1);
	assert_int_equal(CHECK_HEAD("{\"x\":{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}}\n"), -1);
	assert_int_equal(CHECK_HEAD("[{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}]\n"), -1);
	assert_int_equal(CHECK_HEAD("{\n  \"host\": \"a\"\n}\n"), -1);
	assert_int_equal(CHECK_HEAD("\"host\"\n"), -1);
	assert_int_equal(CHECK_HEAD("host a\n"), -1);
	for (size_t i = 0; i < sizeof(bin); i++)
		bin[i] = (char)(i * 7);
	assert_int_equal(check_head(bin, sizeof(bin)), -1);
}

static void test_times_bounded(void **state)
{
	int64_t ms = -2;
	char ebuf[128];
	yajl_val v = yajl_tree_parse("{\"a\":-5,\"b\":9223372036854775807,\"c\":17,\"d\":1e300}", ebuf, sizeof(ebuf));

	(void)state;
	assert_int_equal(journal_time_ms("9999-12-31T23:59:59.999Z", &ms), 0);
	assert_true(ms == INT64_C(253402300799999));
	assert_int_equal(journal_time_ms("99999999-01-01T00:00:00.000Z", &ms), -1);
	assert_int_equal(journal_time_ms("2147483647-01-01T00:00:00Z", &ms), -1);
	assert_non_null(v);
	assert_int_equal(journal_get_duration_ms(v, "a"), 0);
	assert_true(journal_get_duration_ms(v, "b") == JOURNAL_MAX_DURATION_MS);
	assert_int_equal(journal_get_duration_ms(v, "c"), 17);
	assert_int_equal(journal_get_duration_ms(v, "d"), 0);
	yajl_tree_free(v);
}

static void test_index_last_final_record(void **state)
{
	struct journal_index idx = {0};
	const struct journal_last *l;
	struct err err;
	char *path = write_tmp("{\"host\":\"a\",\"job\":\"j\",\"status\":\"failed\"}\n"
	                       "{\"host\":\"b\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n"
	                       "{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}\n"
	                       "{\"host\":\"a\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n"
	                       "{\"host\":\"c\",\"job\":\"other\",\"status\":\"ok\"}\n");

	(void)state;
	assert_int_equal(journal_index_load(&idx, path, "j", &err), 0);
	assert_int_equal(idx.len, 2);
	assert_true(idx.mixed_jobs);
	l = journal_index_get(&idx, task_key("j", "a"));
	assert_non_null(l);
	assert_true(l->final);
	assert_int_equal(l->status, STATUS_OK); /* an interrupted record does not undo it */
	l = journal_index_get(&idx, task_key("j", "b"));
	assert_non_null(l);
	assert_false(l->final);
	assert_null(journal_index_get(&idx, task_key("other", "c")));
	/* in first-seen order */
	assert_string_equal(idx.last[0].host, "a");
	assert_string_equal(idx.last[1].host, "b");
	journal_index_free(&idx);
	unlink(path);
	free(path);
}

static void test_index_grows(void **state)
{
	struct journal_index idx = {0};
	struct buf b = BUF_INIT;
	struct err err;
	char *path;

	(void)state;
	for (int i = 0; i < 5000; i++)
		buf_printf(&b, "{\"host\":\"h%d\",\"job\":\"j\",\"status\":\"%s\"}\n", i, i % 7 ? "ok" : "timeout");
	path = write_tmp(b.data);
	assert_int_equal(journal_index_load(&idx, path, NULL, &err), 0);
	assert_int_equal(idx.len, 5000);
	for (int i = 0; i < 5000; i++) {
		char host[16];
		const struct journal_last *l;
		snprintf(host, sizeof(host), "h%d", i);
		l = journal_index_get(&idx, task_key("j", host));
		assert_non_null(l);
		assert_string_equal(l->host, host);
		assert_int_equal(l->status, i % 7 ? STATUS_OK : STATUS_TIMEOUT);
	}
	journal_index_free(&idx);
	buf_free(&b);
	unlink(path);
	free(path);
}

static void test_record_replaces(void **state)
{
	(void)state;
	/* a later final record counts over anything before it */
	assert_true(journal_record_replaces(true, true));
	assert_true(journal_record_replaces(true, false));
	/* a later interrupted one only over interrupted ones */
	assert_true(journal_record_replaces(false, false));
	assert_false(journal_record_replaces(false, true));
}

static void test_index_record_that_counts(void **state)
{
	struct journal_index idx = {0};
	const struct journal_last *l;
	struct err err;
	char *path = write_tmp("{\"host\":\"a\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n" /* 1 */
	                       "{\"host\":\"b\",\"job\":\"j\",\"status\":\"ok\"}\n"                           /* 2 */
	                       "{\"host\":\"a\",\"job\":\"j\",\"status\":\"failed\"}\n"                       /* 3 */
	                       "{\"host\":\"c\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n" /* 4 */
	                       "{\"host\":\"b\",\"job\":\"j\",\"status\":\"timeout\"}\n"                      /* 5 */
	                       "{\"host\":\"a\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n" /* 6 */
	                       "{\"host\":\"c\",\"job\":\"j\",\"status\":\"error\",\"interrupted\":true}\n" /* 7 */
	                       "{\"host\":\"b\",\"job\":\"other\",\"status\":\"ok\"}\n");                    /* 8 */

	(void)state;
	assert_int_equal(journal_index_load(&idx, path, "j", &err), 0);
	assert_int_equal(idx.len, 3);
	/* an interrupted record, then a final one, then an interrupted one:
	 * the final one counts */
	l = journal_index_get(&idx, task_key("j", "a"));
	assert_true(l->final);
	assert_int_equal(l->status, STATUS_FAILED);
	assert_int_equal(l->line, 3);
	/* two final records: the later */
	l = journal_index_get(&idx, task_key("j", "b"));
	assert_true(l->final);
	assert_int_equal(l->status, STATUS_TIMEOUT);
	assert_int_equal(l->line, 5);
	/* none final: the last interrupted one */
	l = journal_index_get(&idx, task_key("j", "c"));
	assert_false(l->final);
	assert_int_equal(l->line, 7);
	journal_index_free(&idx);
	unlink(path);
	free(path);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_task_key),
		cmocka_unit_test(test_read_skips_torn_and_bad_lines),
		cmocka_unit_test(test_nesting),
		cmocka_unit_test(test_read_skips_deep_lines),
		cmocka_unit_test(test_check_head),
		cmocka_unit_test(test_times_bounded),
		cmocka_unit_test(test_index_last_final_record),
		cmocka_unit_test(test_index_grows),
		cmocka_unit_test(test_record_replaces),
		cmocka_unit_test(test_index_record_that_counts),
	};

	log_init("test_journal", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
