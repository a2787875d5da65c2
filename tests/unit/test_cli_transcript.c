/* Unit tests for worker/cli_transcript.c (compiled in here: it needs
 * nothing of the worker but common/): a secret split over two reads is
 * still masked, in both its parts; bytes are escaped; a line and its
 * newline sent by two writes are one chunk; the text is bounded, and a
 * stream cut in the middle of a secret does not show its first bytes;
 * NULL is no transcript. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "../../worker/cli_transcript.c"

static char *rendered(struct cli_transcript *t, const char *secret)
{
	struct kvlist secrets = {0};
	struct buf out = BUF_INIT;

	if (secret)
		tmpl_secret_add(&secrets, secret);
	cli_transcript_render(t, "r1", &secrets, &out);
	kvlist_free(&secrets);
	return buf_steal(&out);
}

static void test_secret_split_over_reads(void **unused)
{
	struct cli_transcript *t = cli_transcript_new();
	char *s;

	cli_transcript_add(t, CLI_TRANSCRIPT_SENT, "show Sesame-42\n", 15);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "show Ses", 8);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "ame-42\r\n", 8);
	s = rendered(t, "Sesame-42");
	assert_non_null(strstr(s, "> show ********\\n\n"));
	assert_non_null(strstr(s, "< show ********\n"));
	assert_non_null(strstr(s, "< ********\\r\\n\n"));
	assert_null(strstr(s, "Ses"));
	assert_null(strstr(s, "ame-"));
	free(s);
	cli_transcript_free(t);
}

static void test_escaped_lines(void **unused)
{
	struct cli_transcript *t = cli_transcript_new();
	char *s;

	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "a\x1b]0;x\x07\r\nb\xff\tc\n\nd", 16);
	s = rendered(t, NULL);
	assert_non_null(strstr(s, "< a\\x1b]0;x\\x07\\r\\n\n"));
	assert_non_null(strstr(s, "< b\\xff\\tc\\n\n"));
	assert_non_null(strstr(s, "< \\n\n"));
	assert_non_null(strstr(s, "< d\n"));
	assert_null(strchr(s, '\x1b'));
	assert_null(strchr(s, '\r'));
	free(s);
	cli_transcript_free(t);
}

static void test_sent_line_one_chunk(void **unused)
{
	struct cli_transcript *t = cli_transcript_new();
	char *s;

	cli_transcript_add(t, CLI_TRANSCRIPT_SENT, "show version", 12);
	cli_transcript_add(t, CLI_TRANSCRIPT_SENT, "\n", 1);
	cli_transcript_note(t, "step %d: %s", 1, "ok");
	s = rendered(t, NULL);
	assert_non_null(strstr(s, "> show version\\n\n"));
	assert_non_null(strstr(s, "# step 1: ok\n"));
	assert_int_equal(t->nev, 2);
	free(s);
	cli_transcript_free(t);
}

/* A filler that leaves room for 12 bytes more. */
#define FILL (CLI_TRANSCRIPT_MAX - 2 * CLI_TRANSCRIPT_EVENT_COST - 12)

static void test_bounded_and_cut_secret(void **unused)
{
	struct cli_transcript *t = cli_transcript_new();
	char *big = xmalloc(FILL), *s;

	/* a line per byte: the text would be 16 times the bytes */
	memset(big, '\n', FILL);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, big, FILL);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "xxxx Open-Sesame-42", 19);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "more", 4);
	assert_true(t->kept <= CLI_TRANSCRIPT_MAX);
	assert_int_equal(t->dropped, 7 + 4);
	s = rendered(t, "Open-Sesame-42");
	assert_true(strlen(s) < CLI_TRANSCRIPT_MAX + 64 * 1024);
	assert_non_null(strstr(s, "# transcript truncated: the text reached 1024 KiB; 1 more chunks not shown\n"));
	assert_non_null(strstr(s, "# transcript truncated: 11 bytes not kept"));
	free(s);
	cli_transcript_free(t);

	/* the same with a filler not shown: the kept part of the secret,
	 * its first 7 bytes, is masked too */
	t = cli_transcript_new();
	memset(big, 'a', FILL);
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, big, FILL);
	t->ev[0].len = 0;
	cli_transcript_add(t, CLI_TRANSCRIPT_RECEIVED, "xxxx Open-Sesame-42", 19);
	s = rendered(t, "Open-Sesame-42");
	assert_null(strstr(s, "Open"));
	assert_non_null(strstr(s, "< xxxx ********\n"));
	free(s);
	cli_transcript_free(t);
	free(big);
}

static void test_null_is_none(void **unused)
{
	struct buf out = BUF_INIT;

	cli_transcript_add(NULL, CLI_TRANSCRIPT_SENT, "x", 1);
	cli_transcript_note(NULL, "x");
	cli_transcript_render(NULL, "r1", NULL, &out);
	assert_int_equal(out.len, 0);
	cli_transcript_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_secret_split_over_reads),
		cmocka_unit_test(test_escaped_lines),
		cmocka_unit_test(test_sent_line_one_chunk),
		cmocka_unit_test(test_bounded_and_cut_secret),
		cmocka_unit_test(test_null_is_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
