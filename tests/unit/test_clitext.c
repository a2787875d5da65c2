/* Unit tests for common/clitext.c: the last line where a prompt, pager or
 * question is looked for (bounded, after CR rewrites and ESC sequences,
 * trailing spaces dropped), and a command's output made plain (echo,
 * IOS's pager erasure, CR LF, ESC sequences, backspaces), and the escaped
 * last bytes of a timeout's message. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "clitext.h"

static void check_tail(const char *in, const char *want, size_t want_start)
{
	size_t start, off, n = clitext_tail(in, strlen(in), &start, &off);

	if (n != strlen(want) || memcmp(in + off, want, n))
		print_error("got  [%.*s]\nwant [%s]\n", (int)n, in + off, want);
	assert_int_equal(n, strlen(want));
	assert_memory_equal(in + off, want, n);
	assert_int_equal(start, want_start);
}

static void test_tail(void **state)
{
	check_tail("", "", 0);
	check_tail("rtr1#", "rtr1#", 0);
	check_tail("output\r\nrtr1#", "rtr1#", 8);
	/* a banner line ending in # is not the last line once its newline came */
	check_tail("banner rtr#\r\n", "", 13);
	check_tail("x\r\nuser@host:~$ ", "user@host:~$", 3);
	/* a CR inside the line: what follows is what shows */
	check_tail("x\n\r\rrtr1#", "rtr1#", 2);
	/* bash's bracketed paste before the prompt */
	check_tail("x\n\033[?2004hroot@h:~# ", "root@h:~#", 2);
	check_tail("a\n --More-- ", " --More--", 2);
}

static void test_tail_bounded(void **state)
{
	size_t len = 100000, start, off;
	char *big = malloc(len + 1);

	memset(big, 'x', len);
	big[len] = '\0';
	/* a line without end is looked at in its last CLITEXT_TAIL_MAX
	 * bytes only */
	assert_int_equal(clitext_tail(big, len, &start, &off), CLITEXT_TAIL_MAX);
	assert_int_equal(start, len - CLITEXT_TAIL_MAX);
	free(big);
}

static void check_clean(const char *raw, const char *cmd, const char *want)
{
	struct buf b = BUF_INIT;

	clitext_clean(raw, strlen(raw), cmd, &b);
	if (strcmp(b.data ? b.data : "", want))
		print_error("got  [%s]\nwant [%s]\n", b.data ? b.data : "", want);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

static void test_clean(void **state)
{
	/* the echo goes, CR LF becomes LF */
	check_clean("show version\r\nline 1\r\nline 2\r\n", "show version", "line 1\nline 2\n");
	/* an echo after a prompt on the same line (the prompt redrawn) */
	check_clean("rtr1#show clock\r\n*10:00 UTC\r\n", "show clock", "*10:00 UTC\n");
	/* not the echo: kept */
	check_clean("something else\r\nx\r\n", "show clock", "something else\nx\n");
	check_clean("a\r\n", NULL, "a\n");
	/* IOS's pager erasure (the pager prompt itself is cut before) */
	check_clean("show x\r\nline 9\r\n\b\b\b\b\b\b\b\b\b\b          \b\b\b\b\b\b\b\b\b\bline 10\r\nab\r\n", "show x",
	            "line 9\nline 10\nab\n");
	/* a short line after the erasure: no spaces left behind */
	check_clean("c\r\n\b\b\b          \b\b\b\b\b\b\b\b\b\bab\r\n", "c", "ab\n");
	/* Junos's pager erasure: CR, spaces, CR; a short or empty line after
	 * it keeps none of the spaces */
	check_clean("c\r\nline 9\r\n\r                \rab\r\n\r            \r\r\nz\r\n", "c",
	            "line 9\nab\n\nz\n");
	/* ESC sequences (colour, title) dropped, CR rewrite applied */
	check_clean("ls\r\n\033[01;34mdir\033[0m\r\n\033]0;title\aok\r\n", "ls", "dir\nok\n");
	check_clean("c\r\nxxxx\rab\r\n", "c", "abxx\n");
	/* empty lines stay */
	check_clean("c\r\n\r\na\r\n\r\n", "c", "\na\n\n");
}

static void test_last_bytes(void **state)
{
	struct buf b = BUF_INIT;
	const char *s = "0123456789banner\r\n\033[2J#";

	clitext_last_bytes(s, strlen(s), 12, &b);
	assert_string_equal(b.data, "anner\\r\\n\\x1b[2J#");
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tail),
		cmocka_unit_test(test_tail_bounded),
		cmocka_unit_test(test_clean),
		cmocka_unit_test(test_last_bytes),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
