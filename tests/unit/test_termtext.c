/* Unit tests for common/termtext.c: what a hostile device's bytes become
 * on the terminal (ESC, OSC, CR, backspace, C0, DEL, C1 as UTF-8, invalid
 * and overlong UTF-8, bidi controls), what stays (printable ASCII, valid
 * UTF-8, kept newlines and tabs), and the width of what is printed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "termtext.h"

static void check_n(const char *in, size_t n, unsigned flags, const char *want)
{
	struct buf b = BUF_INIT;

	termtext_append(&b, in, n, flags);
	if (strcmp(b.data ? b.data : "", want) != 0)
		print_error("got  [%s]\nwant [%s]\n", b.data ? b.data : "", want);
	assert_string_equal(b.data ? b.data : "", want);
	/* whatever came in, nothing below 0x20 but kept \n and \t, no DEL */
	for (size_t i = 0; i < b.len; i++) {
		unsigned char c = (unsigned char)b.data[i];
		assert_true(c >= 0x20 || (c == '\n' && flags & TERMTEXT_KEEP_NL) ||
		            (c == '\t' && flags & TERMTEXT_KEEP_TAB));
		assert_true(c != 0x7f);
	}
	buf_free(&b);
}

static void check(const char *in, unsigned flags, const char *want)
{
	check_n(in, strlen(in), flags, want);
}

static void test_plain_text_unchanged(void **state)
{
	check("", 0, "");
	check("Cisco IOS XE Software, Version 17.3", 0, "Cisco IOS XE Software, Version 17.3");
	check("a\\x1b b", 0, "a\\x1b b"); /* a backslash is a backslash */
	check("gr\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80", 0,
	      "gr\xc3\xbc\xc3\x9f \xe6\x97\xa5\xe6\x9c\xac \xf0\x9f\x98\x80");
	check("\xc2\xa0nbsp \xe2\x80\xa8", 0, "\xc2\xa0nbsp \xe2\x80\xa8");
}

static void test_controls_escaped(void **state)
{
	check("\x1b[2Kgone", 0, "\\x1b[2Kgone");
	check("\x1b]52;c;cHduZWQ=\x07", 0, "\\x1b]52;c;cHduZWQ=\\x07");
	check("\x1b]0;title\x1b\\", 0, "\\x1b]0;title\\x1b\\");
	check("over\rwrite", 0, "over\\rwrite");
	check("ab\bc", 0, "ab\\x08c");
	check("x\x7fy\x01z\x1f", 0, "x\\x7fy\\x01z\\x1f");
	check("a\tb\nc", 0, "a\\tb\\nc");
	check_n("nul\0nul", 7, 0, "nul\\x00nul");
}

static void test_kept_newline_and_tab(void **state)
{
	check("a\tb\nc\n", TERMTEXT_KEEP_NL | TERMTEXT_KEEP_TAB, "a\tb\nc\n");
	check("a\tb", TERMTEXT_KEEP_NL, "a\\tb");
	/* CRLF is a line end; a CR anywhere else is not */
	check("one\r\ntwo\r\n", TERMTEXT_KEEP_NL, "one\ntwo\n");
	check("one\r\ntwo\r\n", 0, "one\\r\\ntwo\\r\\n");
	check("bar\rfoo\n", TERMTEXT_KEEP_NL, "bar\\rfoo\n");
	check("x\r\r\n", TERMTEXT_KEEP_NL, "x\\r\n");
	check("end\r", TERMTEXT_KEEP_NL, "end\\r");
}

static void test_c1_and_bidi(void **state)
{
	/* U+009B is CSI to a terminal that takes C1 controls */
	check("\xc2\x9b" "2J", 0, "\\u009b2J");
	check("\xc2\x80\xc2\x9f", 0, "\\u0080\\u009f");
	check("\xe2\x80\xae" "evil", 0, "\\u202eevil");
	check("\xe2\x81\xa6x\xe2\x81\xa9", 0, "\\u2066x\\u2069");
	/* a raw C1 byte is not UTF-8 */
	check("\x9b" "2J", 0, "\\x9b2J");
}

static void test_invalid_utf8(void **state)
{
	check("\xff\xfe", 0, "\\xff\\xfe");
	check("bad\xc0\x80", 0, "bad\\xc0\\x80");               /* overlong NUL */
	check("\xe0\x80\xaf", 0, "\\xe0\\x80\\xaf");             /* overlong / */
	check("\xed\xa0\x80", 0, "\\xed\\xa0\\x80");             /* surrogate */
	check("\xf4\x90\x80\x80", 0, "\\xf4\\x90\\x80\\x80");     /* past U+10FFFF */
	check("cut \xe6\x97", 0, "cut \\xe6\\x97");              /* truncated */
	check("\xc3" "A", 0, "\\xc3A");
	check("\xc3\xbc\x80", 0, "\xc3\xbc\\x80");
}

static void test_width_and_fit(void **state)
{
	size_t used;

	assert_int_equal(termtext_width("abc", 3), 3);
	assert_int_equal(termtext_width("\xc3\xbc", 2), 1);
	assert_int_equal(termtext_width("\xe6\x97\xa5\xe6\x9c\xac", 6), 4);
	/* never cut inside a character */
	assert_int_equal(termtext_fit("a\xe6\x97\xa5" "b", 5, 2, &used), 1);
	assert_int_equal(used, 1);
	assert_int_equal(termtext_fit("a\xe6\x97\xa5" "b", 5, 3, &used), 4);
	assert_int_equal(used, 3);
	assert_int_equal(termtext_fit("\xc3\xbc\xc3\xbc", 4, 1, &used), 2);
	assert_int_equal(termtext_fit("abc", 3, 10, &used), 3);
	assert_int_equal(used, 3);
}

static void test_copy_fixed_buffer(void **state)
{
	char out[16];

	assert_int_equal(termtext_copy(out, sizeof(out), "ok\x1b[2K", 6, 0), 9);
	assert_string_equal(out, "ok\\x1b[2K");
	/* what does not fit is left out whole: no half escape, no half
	 * character */
	memset(out, 'X', sizeof(out));
	assert_int_equal(termtext_copy(out, 8, "abcde\x1b", 6, 0), 5);
	assert_string_equal(out, "abcde");
	assert_int_equal(termtext_copy(out, 8, "abcdef\xe6\x97\xa5", 9, 0), 6);
	assert_string_equal(out, "abcdef");
	assert_int_equal(termtext_copy(out, 8, "\xc3\xbc\xc3\xbc\xc3\xbc\xc3\xbc", 8, 0), 6);
	assert_string_equal(out, "\xc3\xbc\xc3\xbc\xc3\xbc");
	assert_int_equal(termtext_copy(out, 1, "abc", 3, 0), 0);
	assert_string_equal(out, "");
	assert_int_equal(termtext_copy(out, 0, "abc", 3, 0), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_text_unchanged),
		cmocka_unit_test(test_controls_escaped),
		cmocka_unit_test(test_kept_newline_and_tab),
		cmocka_unit_test(test_c1_and_bidi),
		cmocka_unit_test(test_invalid_utf8),
		cmocka_unit_test(test_width_and_fit),
		cmocka_unit_test(test_copy_fixed_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
