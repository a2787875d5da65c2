/* Unit tests for runner/summary.c: the error keys failures are grouped by
 * (numbers and addresses taken out), how a group is shown (only the parts
 * that differed become placeholders), group order and overflow, and the
 * exact text and JSON summaries. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "summary.h"

static void assert_key(const char *error, const char *want)
{
	struct buf b = BUF_INIT;

	summary_error_key(error, &b);
	if (strcmp(b.data, want) != 0)
		print_error("error %s\n  key  %s\n  want %s\n", error, b.data, want);
	assert_string_equal(b.data, want);
	buf_free(&b);
}

static void test_error_key(void **state)
{
	(void)state;
	assert_key("cannot connect to 127.0.1.5 port 22: Connection refused",
	           "cannot connect to <addr> port <n>: Connection refused");
	assert_key("command exited with code 1", "command exited with code <n>");
	assert_key("worker killed by SIGSEGV (attempt 2 of 2)", "worker killed by SIGSEGV (attempt <n> of <n>)");
	assert_key("cannot connect to fe80::1 port 22: No route to host",
	           "cannot connect to <addr> port <n>: No route to host");
	assert_key("cannot connect to ::1: refused", "cannot connect to <addr>: refused");
	assert_key("SSH handshake with [2001:db8::17]:2222 failed", "SSH handshake with [<addr>]:<n> failed");
	/* host names with numbers group too */
	assert_key("cannot resolve dev024.dc1: Name or service not known",
	           "cannot resolve dev<n>.dc<n>: Name or service not known");
	assert_key("3/3 echo replies, rtt 0.07 ms", "<n>/<n> echo replies, rtt <n> ms");
	/* not addresses: one colon, words of hex letters, a time-like dotted run */
	assert_key("deadline: cafe: bad", "deadline: cafe: bad");
	assert_key("expect 'Version \\S+' not matched", "expect 'Version \\S+' not matched");
	assert_key("1.2.3.4.5", "<n>.<n>.<n>");
	assert_key("", "");
	assert_key("no digits at all", "no digits at all");
}

/* The one group's shown text and count. */
static void assert_group(const struct summary *s, size_t i, enum status st, const char *text, uint64_t count)
{
	struct buf b = BUF_INIT;

	assert_true(i < s->ngroups);
	summary_group_text(&s->groups[i], &b);
	if (strcmp(b.data, text) != 0)
		print_error("group %zu: %s\n  want %s\n", i, b.data, text);
	assert_int_equal(s->groups[i].status, st);
	assert_string_equal(b.data, text);
	assert_int_equal(s->groups[i].count, count);
	buf_free(&b);
}

static void test_grouping(void **state)
{
	struct summary s = {0};

	(void)state;
	summary_add(&s, "h5", STATUS_UNREACHABLE, "cannot connect to 127.0.1.5 port 22: Connection refused", 10);
	summary_add(&s, "h6", STATUS_UNREACHABLE, "cannot connect to 127.0.1.6 port 22: Connection refused", 10);
	summary_add(&s, "h7", STATUS_UNREACHABLE, "cannot connect to 127.0.1.7 port 22: Connection refused", 10);
	summary_add(&s, "h8", STATUS_UNREACHABLE, "cannot connect to 127.0.1.8 port 22: Connection refused", 10);
	/* same text, another status: its own group */
	summary_add(&s, "h9", STATUS_TIMEOUT, "cannot connect to 127.0.1.9 port 22: Connection refused", 10);
	/* identical errors: shown as they are */
	summary_add(&s, "a", STATUS_FAILED, "command exited with code 1", 10);
	summary_add(&s, "b", STATUS_FAILED, "command exited with code 1", 10);
	/* several numbers, one differing */
	summary_add(&s, "c", STATUS_CRASHED, "worker killed by SIGSEGV (attempt 2 of 2)", 10);
	summary_add(&s, "d", STATUS_CRASHED, "worker killed by SIGSEGV (attempt 3 of 2)", 10);
	summary_add(&s, "ok1", STATUS_OK, NULL, 10);
	summary_add(&s, "e", STATUS_ERROR, NULL, 10);

	assert_int_equal(s.total, 11);
	assert_int_equal(s.counts[STATUS_UNREACHABLE], 4);
	assert_int_equal(s.ngroups, 5);
	assert_group(&s, 0, STATUS_UNREACHABLE, "cannot connect to <addr> port 22: Connection refused", 4);
	assert_string_equal(s.groups[0].example, "cannot connect to 127.0.1.5 port 22: Connection refused");
	assert_string_equal(s.groups[0].hosts[0], "h5");
	assert_string_equal(s.groups[0].hosts[2], "h7");
	assert_group(&s, 1, STATUS_TIMEOUT, "cannot connect to 127.0.1.9 port 22: Connection refused", 1);
	assert_group(&s, 2, STATUS_FAILED, "command exited with code 1", 2);
	assert_group(&s, 3, STATUS_CRASHED, "worker killed by SIGSEGV (attempt <n> of 2)", 2);
	assert_group(&s, 4, STATUS_ERROR, "", 1);
	summary_free(&s);
}

static char *capture(const struct summary *s, const struct summary_run *run, int json)
{
	char *out = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&out, &len);

	assert_non_null(f);
	if (json)
		summary_print_json(s, f, run);
	else
		summary_print(s, f, run);
	fclose(f);
	return out;
}

static void assert_text(const char *got, const char *want)
{
	if (strcmp(got, want) != 0)
		print_error("got:\n%s\nwant:\n%s\n", got, want);
	assert_string_equal(got, want);
}

/* More groups than are shown: the largest first, the rest counted as
 * other errors; more than are kept: counted too. */
static void test_order_and_overflow(void **state)
{
	struct summary s = {0};
	struct summary_run run = {.job = "j", .wall_ms = 2000};
	char host[32], error[64], *text;

	(void)state;
	/* 40 distinct errors (letters, not numbers: each its own group);
	 * error "e<letters of i>" appears i+1 times for the first 12 */
	for (int i = 0; i < 40; i++) {
		snprintf(error, sizeof(error), "error %c%c", 'a' + i / 26, 'a' + i % 26);
		for (int k = 0; k <= (i < 12 ? i : 0); k++) {
			snprintf(host, sizeof(host), "h%d-%d", i, k);
			summary_add(&s, host, STATUS_FAILED, error, 1);
		}
	}
	assert_int_equal(s.ngroups, SUMMARY_GROUPS_KEPT);
	assert_int_equal(s.other_errors, 40 - SUMMARY_GROUPS_KEPT);
	text = capture(&s, &run, 0);
	/* 12 + 11 + ... + 3 shown (10 groups), the others: 2 + 1 + 20 kept
	 * groups of 1 + 8 not kept */
	assert_non_null(strstr(text, "  failed (12): error al: h11-0, h11-1, h11-2, ...\n"));
	assert_non_null(strstr(text, "  failed (3): error ac: h2-0, h2-1, h2-2\n"));
	assert_null(strstr(text, "error ab"));
	assert_non_null(strstr(text, "  and 31 more hosts not ok with other errors\n"));
	free(text);
	summary_free(&s);
}

static void test_text_exact(void **state)
{
	struct summary s = {0};
	struct summary_run run = {.job = "ping", .wall_ms = 2500};
	char *text;

	(void)state;
	summary_add(&s, "a", STATUS_OK, NULL, 100);
	summary_add(&s, "b", STATUS_OK, NULL, 2500);
	summary_add(&s, "c", STATUS_UNREACHABLE, "cannot connect to 10.0.0.1 port 22: Connection refused", 3);
	summary_add(&s, "d", STATUS_UNREACHABLE, "cannot connect to 10.0.0.2 port 22: Connection refused", 4);
	summary_add(&s, "e", STATUS_TIMEOUT, "no SSH handshake within the task deadline", 5000);
	s.unfinished = 2;
	run.interrupted = true;
	text = capture(&s, &run, 0);
	assert_text(text, "fleetrun: ping: 5 hosts in 2.50s (2 hosts/s), interrupted: 2 ok, 2 unreachable, 1 timeout\n"
	                  "  slowest: e (5.00s), b (2.50s), a (0.10s), d (0.00s), c (0.00s)\n"
	                  "  unreachable (2): cannot connect to <addr> port 22: Connection refused: c, d\n"
	                  "  timeout (1): no SSH handshake within the task deadline: e\n"
	                  "  not finished: 2 (hosts the run was stopped on)\n");
	free(text);
	summary_free(&s);
}

static void test_json_exact(void **state)
{
	struct summary s = {0};
	struct summary_run run = {.job = "show-version", .wall_ms = 4000};
	char *text;

	(void)state;
	summary_add(&s, "r1", STATUS_OK, NULL, 150);
	summary_add(&s, "r2", STATUS_FAILED, "command exited with code 1", 90);
	summary_add(&s, "r3", STATUS_FAILED, "command exited with code 2", 80);
	/* not UTF-8: written with '?' so the JSON stays valid */
	summary_add(&s, "r\xff", STATUS_AUTH, "bad \xc3\x28 password", 70);
	text = capture(&s, &run, 1);
	assert_text(text, "{\"job\":\"show-version\",\"total\":4,"
	                  "\"counts\":{\"ok\":1,\"failed\":2,\"unreachable\":0,\"auth\":1,\"hostkey\":0,"
	                  "\"timeout\":0,\"crashed\":0,\"error\":0},"
	                  "\"unfinished\":0,\"interrupted\":false,\"wall_ms\":4000,\"rate\":1.00,"
	                  "\"failures\":["
	                  "{\"status\":\"failed\",\"error\":\"command exited with code <n>\","
	                  "\"example\":\"command exited with code 1\",\"count\":2,\"hosts\":[\"r2\",\"r3\"]},"
	                  "{\"status\":\"auth\",\"error\":\"bad ?( password\",\"example\":\"bad ?( password\","
	                  "\"count\":1,\"hosts\":[\"r?\"]}],"
	                  "\"other_failures\":0,"
	                  "\"slowest\":[{\"host\":\"r1\",\"duration_ms\":150},{\"host\":\"r2\",\"duration_ms\":90},"
	                  "{\"host\":\"r3\",\"duration_ms\":80},{\"host\":\"r?\",\"duration_ms\":70}]}\n");
	free(text);
	summary_free(&s);
}

static void test_empty(void **state)
{
	struct summary s = {0};
	struct summary_run run = {.job = "j", .wall_ms = 0};
	char *text;

	(void)state;
	text = capture(&s, &run, 0);
	assert_text(text, "fleetrun: j: 0 hosts in 0.00s (0 hosts/s): nothing ran\n");
	free(text);
	text = capture(&s, &run, 1);
	assert_non_null(strstr(text, "\"total\":0,"));
	assert_non_null(strstr(text, "\"rate\":0.00,\"failures\":[],\"other_failures\":0,\"slowest\":[]}"));
	free(text);
	summary_free(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_key),
		cmocka_unit_test(test_grouping),
		cmocka_unit_test(test_order_and_overflow),
		cmocka_unit_test(test_text_exact),
		cmocka_unit_test(test_json_exact),
		cmocka_unit_test(test_empty),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
