/* Unit tests for common/textfsm*.c: every value option and every action
 * on small templates of our own, states and their transitions, the end of
 * input (implicit record, End, EOF), how input is cut into lines, the
 * translation of Python expressions to PCRE2 and what it refuses, the
 * errors of bad templates and of Error actions with their file:line and
 * input line, and a program used for many parses. The differential test
 * (tests/integration/test_textfsm_diff.py) holds the same engine against
 * the reference; these pin down the expected records themselves. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "textfsm.h"
#include "textfsm_index.h"
#include "textfsm_regex.h"
#include "util.h"

#define T_PATH "t.textfsm"

static struct textfsm *compile_ok(const char *tpl)
{
	struct textfsm *t = NULL;
	struct err err = {{0}};

	if (textfsm_compile(T_PATH, tpl, strlen(tpl), &t, &err) < 0)
		print_error("template refused: %s\n", err.msg);
	assert_non_null(t);
	return t;
}

/* Parse input with the compiled t; the records as JSON must be want. */
static void assert_records_t(struct textfsm *t, const char *input, const char *want)
{
	struct textfsm_records r = TEXTFSM_RECORDS_INIT;
	struct buf json = BUF_INIT;
	struct err err = {{0}};

	if (textfsm_parse(t, input, strlen(input), &r, &err) < 0)
		print_error("parse failed: %s\n", err.msg);
	textfsm_records_json(t, &r, &json);
	assert_string_equal(json.data, want);
	textfsm_records_free(&r);
	buf_free(&json);
}

static void assert_records(const char *tpl, const char *input, const char *want)
{
	struct textfsm *t = compile_ok(tpl);

	assert_records_t(t, input, want);
	textfsm_free(t);
}

static void assert_has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		print_error("error '%s' does not say '%s'\n", msg, needle);
	assert_non_null(strstr(msg, needle));
}

/* The template is refused with an error saying each of the needles. */
static void assert_refused(const char *tpl, const char *where, const char *needle)
{
	struct textfsm *t = NULL;
	struct err err = {{0}};

	assert_int_equal(textfsm_compile(T_PATH, tpl, strlen(tpl), &t, &err), -1);
	assert_null(t);
	assert_has(err.msg, where);
	assert_has(err.msg, needle);
}

/* The parse fails with an error saying each of the needles. */
static void assert_parse_fails(const char *tpl, const char *input, const char *where, const char *needle)
{
	struct textfsm *t = compile_ok(tpl);
	struct textfsm_records r = TEXTFSM_RECORDS_INIT;
	struct err err = {{0}};

	assert_int_equal(textfsm_parse(t, input, strlen(input), &r, &err), -1);
	assert_int_equal(r.n, 0);
	assert_null(r.cells);
	assert_has(err.msg, where);
	assert_has(err.msg, needle);
	textfsm_free(t);
}

static void test_record_basics(void **state)
{
	(void)state;
	/* keys lowercased; the implicit record at the end of input */
	assert_records("Value Name (\\S+)\nValue MTU (\\d+)\n\nStart\n  ^name ${Name}\n  ^mtu ${MTU}\n",
	               "name eth0\nmtu 1500\n", "[{\"name\":\"eth0\",\"mtu\":\"1500\"}]");
	/* Record; an unset value is ""; a record of nothing is not saved */
	assert_records("Value A (\\S+)\nValue B (\\d+)\n\nStart\n  ^a ${A}\n  ^b ${B} -> Record\n",
	               "a x\nb 1\nb 2\n", "[{\"a\":\"x\",\"b\":\"1\"},{\"a\":\"\",\"b\":\"2\"}]");
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n", "nothing\n", "[]");
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n", "", "[]");
	/* $Name without braces; $$ is a '$' */
	assert_records("Value A (\\S+)\n\nStart\n  ^$A$$ -> Record\n", "x\ny z\n", "[{\"a\":\"x\"}]");
	/* an empty match is a value ("" but set): the record is saved */
	assert_records("Value A (\\d*)\n\nStart\n  ^a${A}$$ -> Record\n", "a\n", "[{\"a\":\"\"}]");
}

static void test_filldown(void **state)
{
	const char *tpl = "Value Filldown Chassis (\\S+)\nValue Port (\\d+)\n\nStart\n  ^chassis ${Chassis}\n"
	                  "  ^port ${Port} -> Record\n  ^clearall -> Clearall\n";

	(void)state;
	assert_records(tpl, "chassis A\nport 1\nport 2\nchassis B\nport 3\n",
	               "[{\"chassis\":\"A\",\"port\":\"1\"},{\"chassis\":\"A\",\"port\":\"2\"},"
	               "{\"chassis\":\"B\",\"port\":\"3\"},{\"chassis\":\"B\",\"port\":\"\"}]");
	/* Clearall forgets it; the implicit record of the filled-down value alone is saved */
	assert_records(tpl, "chassis A\nport 1\nclearall\nport 2\n",
	               "[{\"chassis\":\"A\",\"port\":\"1\"},{\"chassis\":\"\",\"port\":\"2\"}]");
	assert_records(tpl, "chassis A\nport 1\n", "[{\"chassis\":\"A\",\"port\":\"1\"},{\"chassis\":\"A\",\"port\":\"\"}]");
}

static void test_fillup(void **state)
{
	(void)state;
	/* upward into the empty cells, until one that is set; the value
	 * stays for the record being built, as any other */
	assert_records("Value Fillup Vlan (\\d+)\nValue Port (\\d+)\n\nStart\n  ^port ${Port} -> Record\n"
	               "  ^vlan ${Vlan}\n",
	               "port 1\nport 2\nvlan 10\nport 3\nvlan 20\n",
	               "[{\"vlan\":\"10\",\"port\":\"1\"},{\"vlan\":\"10\",\"port\":\"2\"},"
	               "{\"vlan\":\"10\",\"port\":\"3\"},{\"vlan\":\"20\",\"port\":\"\"}]");
}

static void test_key_and_required(void **state)
{
	const char *tpl = "Value Key,Required Port (\\d*)\nValue Descr (.*)\n\nStart\n  ^port ?${Port}$$\n"
	                  "  ^descr ${Descr}\n  ^end -> Record\n";

	(void)state;
	/* Key changes nothing in the records; Required skips (and clears)
	 * a record whose value is empty, "" included */
	assert_records(tpl, "descr lost\nend\nport 1\ndescr up\nend\nport\ndescr x\nend\n",
	               "[{\"port\":\"1\",\"descr\":\"up\"}]");
}

static void test_list(void **state)
{
	(void)state;
	assert_records("Value List Mac (\\S+)\nValue Port (\\d+)\n\nStart\n  ^mac ${Mac}\n  ^port ${Port} -> Record\n",
	               "mac a\nmac b\nport 1\nport 2\nmac c\n",
	               "[{\"mac\":[\"a\",\"b\"],\"port\":\"1\"},{\"mac\":[],\"port\":\"2\"},"
	               "{\"mac\":[\"c\"],\"port\":\"\"}]");
	/* named groups inside: dicts, a group that took no part is null */
	assert_records("Value List Nbr ((?P<name>\\w+) (?P<Cost>\\d+)?)\n\nStart\n  ^nbr ${Nbr}\n",
	               "nbr r1 10\nnbr r2 \n",
	               "[{\"nbr\":[{\"name\":\"r1\",\"Cost\":\"10\"},{\"name\":\"r2\",\"Cost\":null}]}]");
	/* Filldown keeps the list across records */
	assert_records("Value Filldown,List Tag (\\w+)\nValue N (\\d)\n\nStart\n  ^tag ${Tag}\n  ^${N} -> Record\n",
	               "tag a\n1\ntag b\n2\n",
	               "[{\"tag\":[\"a\"],\"n\":\"1\"},{\"tag\":[\"a\",\"b\"],\"n\":\"2\"},"
	               "{\"tag\":[\"a\",\"b\"],\"n\":\"\"}]");
	/* a group that takes no part in a match adds a null */
	assert_records("Value List L (\\w+)\nValue B (\\d)\n\nStart\n  ^(?:${L}|-${B})$$\n", "a\n-1\n",
	               "[{\"l\":[\"a\",null],\"b\":\"1\"}]");
}

static void test_required_list_order(void **state)
{
	const char *in = "l a\nrec\nl b\nv \nrec\n";

	(void)state;
	/* List first: Required looks at the list; Required first: at the last value set */
	assert_records("Value List,Required L (\\w*)\n\nStart\n  ^l ${L}\n  ^v ${L}\n  ^rec -> Record\n", in,
	               "[{\"l\":[\"a\"]},{\"l\":[\"b\",\"\"]}]");
	assert_records("Value Required,List L (\\w*)\n\nStart\n  ^l ${L}\n  ^v ${L}\n  ^rec -> Record\n", in,
	               "[{\"l\":[\"a\"]}]");
}

static void test_actions(void **state)
{
	const char *tpl = "Value A (\\S+)\nValue B (\\S+)\n\nStart\n  ^a ${A} -> Continue\n  ^a \\S+ ${B}\n"
	                  "  ^clear -> Clear\n  ^n ${B} -> NoRecord\n  ^r -> Next.Record\n  ^cr ${A} -> Continue.Record\n"
	                  "  ^cr ${B}\n";

	(void)state;
	/* Continue: the following rules see the same line */
	assert_records(tpl, "a 1 2\nr\n", "[{\"a\":\"1\",\"b\":\"2\"}]");
	/* Clear before Record */
	assert_records(tpl, "a 1 2\nclear\nn 3\nr\n", "[{\"a\":\"\",\"b\":\"3\"}]");
	/* Continue.Record saves, then the next rule fills the new record */
	assert_records(tpl, "a 1 2\ncr x\n", "[{\"a\":\"x\",\"b\":\"2\"},{\"a\":\"\",\"b\":\"x\"}]");
}

static void test_states(void **state)
{
	const char *tpl = "Value Name (\\S+)\n\nStart\n  ^begin -> Body\n\nBody\n  ^name ${Name} -> Record\n"
	                  "  ^end -> Start\n  ^stop -> End\n  ^eof -> EOF\n";

	(void)state;
	/* rules only in the current state */
	assert_records(tpl, "name a\nbegin\nname b\nend\nname c\n", "[{\"name\":\"b\"}]");
	/* End stops reading, and no record at the end */
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n  ^stop -> End\n", "a 1\nstop\na 2\n", "[]");
	/* EOF (not defined) stops reading, the implicit record is saved */
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n  ^stop -> EOF\n", "a 1\nstop\na 2\n", "[{\"a\":\"1\"}]");
	/* a defined EOF state: no implicit record */
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n\nEOF\n", "a 1\n", "[]");
	assert_records("Value A (\\S+)\n\nStart\n  ^a ${A}\n\nEnd\n", "a 1\n", "[{\"a\":\"1\"}]");
	/* Record with a new state */
	assert_records("Value A (\\S+)\n\nStart\n  ^${A} -> Record Two\n\nTwo\n  ^${A} -> Record Start\n", "x\ny\n",
	               "[{\"a\":\"x\"},{\"a\":\"y\"}]");
}

static void test_error_action(void **state)
{
	const char *tpl = "Value A (\\S+)\n\nStart\n  ^a ${A}\n  ^bad -> Error \"bad line\"\n  ^worse -> Error\n";

	(void)state;
	assert_parse_fails(tpl, "a 1\n\nbad\n", T_PATH ":5:", "bad line (input line 3)");
	assert_parse_fails(tpl, "worse\n", T_PATH ":6:", "Error action in state 'Start' (input line 1)");
	assert_parse_fails("Value A (x)\n\nStart\n  ^bad -> Error oops\n", "bad", T_PATH ":4:", "oops");
}

static void test_lines(void **state)
{
	const char *tpl = "Value List L (.*)\n\nStart\n  ^${L}\n";

	(void)state;
	/* as Python's splitlines: \r\n is one end; \r, \v, \f, \x1c, U+2028 end lines;
	 * no empty line after the last end */
	assert_records(tpl, "a\r\nb\rc\vd\fe\x1c" "f\xe2\x80\xa8g\n\nh",
	               "[{\"l\":[\"a\",\"b\",\"c\",\"d\",\"e\",\"f\",\"g\",\"\",\"h\"]}]");
	/* bytes that are not UTF-8 match nothing, but the rest of the line does */
	assert_records("Value A (\\w+)\n\nStart\n  ^x${A}\n", "x\xff\nxok\xfe\n", "[{\"a\":\"ok\"}]");
	/* NUL bytes are input like any other */
	{
		struct textfsm *t = compile_ok("Value A (\\S+)\n\nStart\n  ^${A}\n");
		struct textfsm_records r = TEXTFSM_RECORDS_INIT;
		struct err err;

		assert_int_equal(textfsm_parse(t, "a\0b\n", 4, &r, &err), 0);
		assert_int_equal(r.n, 1);
		assert_int_equal(r.cells[0].len, 3);
		assert_memory_equal(r.cells[0].str, "a\0b", 3);
		textfsm_records_free(&r);
		textfsm_free(t);
	}
}

static void assert_translates(const char *py, const char *want)
{
	char *pat = NULL, **names = NULL, why[256] = "";
	size_t ng = 0;

	if (textfsm_regex_translate(py, strlen(py), &pat, &ng, &names, why, sizeof(why)) < 0)
		print_error("'%s' refused: %s\n", py, why);
	assert_non_null(pat);
	assert_string_equal(pat, want);
	for (size_t g = 0; g <= ng; g++)
		free(names[g]);
	free(names);
	free(pat);
}

static void assert_untranslatable(const char *py, const char *needle)
{
	struct textfsm_regex re = {0};
	char why[512] = "";

	assert_int_equal(textfsm_regex_compile(py, strlen(py), &re, why, sizeof(why)), -1);
	assert_has(why, needle);
}

static void test_regex(void **state)
{
	char *pat = NULL, **names = NULL, why[256];
	size_t ng = 0;

	(void)state;
	assert_translates("^(?P<Name>\\w+)-(?P=Name)", "^(\\w+)-\\g{1}");
	assert_translates("(a)(?(1)b|c)(?P<x>y)(?(x)z)", "(a)(?(1)b|c)(y)(?(2)z)");
	assert_translates("a\\Z", "a\\z");
	assert_translates("a{,3}b{2,}c{1}d{}e{x}", "a{0,3}b{2,}c{1}d\\{}e\\{x}");
	assert_translates("\\v\\u00e9\\U0001F600\\x41\\101\\0", "\\x{B}\\x{E9}\\x{1F600}\\x{41}\\x{41}\\x{0}");
	assert_translates("(a)\\1\\012", "(a)\\g{1}\\x{A}");
	assert_untranslatable("(a)\\12", "invalid group reference 12");
	assert_translates("[[:alpha:]][]a][^]b]", "[\\[:alpha:]\\][\\]a][^\\]b]");
	assert_translates("(?i:a)(?s-i:b)(?u:c)(?#note)\\d\\.", "(?i:a)(?s-i:b)(?:c)\\d\\.");
	assert_translates("(?i)ab", "(?i)ab");
	/* names are kept by number: longer than PCRE2's 32 bytes is fine */
	assert_int_equal(textfsm_regex_translate("(?P<a>x)(y)(?P<b_1>z)", 21, &pat, &ng, &names, why, sizeof(why)), 0);
	assert_int_equal(ng, 3);
	assert_string_equal(names[1], "a");
	assert_null(names[2]);
	assert_string_equal(names[3], "b_1");
	for (size_t g = 0; g <= ng; g++)
		free(names[g]);
	free(names);
	free(pat);
	{
		char name[64];
		struct textfsm_regex re = {0};

		snprintf(name, sizeof(name), "(?P<%s>x)", "N123456789012345678901234567890123456789012345");
		assert_int_equal(textfsm_regex_compile(name, strlen(name), &re, why, sizeof(why)), 0);
		textfsm_regex_free(&re);
	}
	assert_untranslatable("^(?i)a", "global flags not at the start");
	assert_untranslatable("(?x:a b)", "flag 'x' is not supported");
	assert_untranslatable("\\e", "bad escape \\e");
	assert_untranslatable("[\\Z]", "bad escape \\Z");
	assert_untranslatable("(?<n>a)", "unknown extension");
	assert_untranslatable("\\N{DIGIT ONE}", "\\N{...}");
	assert_untranslatable("(a\\1)", "open group");
	assert_untranslatable("\\2(a)", "invalid group reference 2");
	assert_untranslatable("(?P<a>x)(?P<a>y)", "redefinition of group name 'a'");
	assert_untranslatable("(?P=zz)", "unknown group name 'zz'");
	assert_untranslatable("(a", "missing )");
	assert_untranslatable("a)", "unbalanced parenthesis");
	assert_untranslatable("[ab", "unterminated character set");
	assert_untranslatable("\\x4", "hex digits");
	assert_untranslatable("\\777", "outside of range");
	assert_untranslatable("a**", "PCRE2");
}

static void test_template_errors(void **state)
{
	const char *v = "Value A (\\S+)\n\n";
	char buf[512];

	(void)state;
	assert_refused("", T_PATH ":", "no 'Start' state");
	assert_refused("Value A\n", T_PATH ":1:", "at least 3 words");
	assert_refused("Value Sticky A (x)\n", T_PATH ":1:", "unknown option \"Sticky\"");
	assert_refused("Value  A (x)\n", T_PATH ":1:", "unknown option \"\"");
	assert_refused("# c\nValue Key,Key A (x)\n", T_PATH ":2:", "duplicate option \"Key\"");
	assert_refused("Value A x\n", T_PATH ":1:", "unknown option \"A\"");
	assert_refused("Value A (x\n", T_PATH ":1:", "within a '()' pair");
	assert_refused("Value A (\\(x)\n", T_PATH ":1:", "within a '()' pair");
	assert_refused("Value A (x)\nValue A (y)\n", T_PATH ":2:", "duplicate declarations for Value 'A'");
	assert_refused("Value Ab (x)\nValue aB (y)\n", T_PATH ":2:", "differ only in case");
	assert_refused("Value A (x)\nStart\n", T_PATH ":2:", "blank line after the last Value");
	assert_refused("Start\n", T_PATH ":1:", "Value definitions first");
	assert_refused("Value NNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNNN (x)\n", T_PATH ":1:", "longer than 48");
	assert_refused("Value List L ((?P<a>x)(?P<a>y))\n", T_PATH ":1:", "redefinition");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A}\n\nNext\n  ^x\n", v);
	assert_refused(buf, T_PATH ":6:", "invalid state name 'Next'");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A}\n\nStart\n", v);
	assert_refused(buf, T_PATH ":6:", "duplicate state name 'Start' (line 3)");
	snprintf(buf, sizeof(buf), "%sStart\n   ^${A}\n", v);
	assert_refused(buf, T_PATH ":4:", "expected a rule");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A}\n\nEnd\n  ^x\n", v);
	assert_refused(buf, T_PATH ":6:", "'End' state must be empty");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A}\n\nEOF\n  ^x\n", v);
	assert_refused(buf, T_PATH ":6:", "'EOF' state must be empty");
	snprintf(buf, sizeof(buf), "%sStart\n  ^x\n  ^${A} -> Nowhere\n", v);
	assert_refused(buf, T_PATH ":5:", "state 'Nowhere' not found");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A} -> Continue Start\n", v);
	assert_refused(buf, T_PATH ":4:", "Continue cannot change state");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A} ->Next\n", v);
	assert_refused(buf, T_PATH ":4:", "badly formatted action");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A} -> Next.Keep\n", v);
	assert_refused(buf, T_PATH ":4:", "badly formatted action");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A} -> \"Two\"\n", v);
	assert_refused(buf, T_PATH ":4:", "state name is letters");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${A}$\n", v);
	assert_refused(buf, T_PATH ":4:", "invalid '$'");
	snprintf(buf, sizeof(buf), "%sStart\n  ^${B}\n", v);
	assert_refused(buf, T_PATH ":4:", "unknown value 'B'");
	snprintf(buf, sizeof(buf), "%sStart\n  ^(?i)${A}\n", v);
	assert_refused(buf, T_PATH ":4:", "global flags not at the start");
	assert_refused("Value A (x)\n\nStart\n  ^\xff\n", T_PATH ":1:", "not UTF-8");
	{
		static const char nul[] = "Value A (x)\n\nSta\0rt\n";
		struct textfsm *t = NULL;
		struct err err;

		assert_int_equal(textfsm_compile(T_PATH, nul, sizeof(nul) - 1, &t, &err), -1);
		assert_has(err.msg, T_PATH ":3: a NUL byte");
	}
}

static void test_template_syntax(void **state)
{
	(void)state;
	/* comments, a tab before a rule, CRLF, trailing whitespace; the
	 * action after the last " ->" */
	assert_records("# head\r\nValue A (\\S+)  \r\n  # c\r\n\r\nStart\r\n\t^${A} ->  Record\r\n  # c\r\n", "x\n",
	               "[{\"a\":\"x\"}]");
	assert_records("Value A (\\S+)\n\nStart\n  ^${A} -> (\\S+) -> Record\n", "x -> y\n", "[{\"a\":\"x\"}]");
	/* the whitespace before "->" but one is part of the expression */
	assert_records("Value A (\\S+)\n\nStart\n  ^${A}  -> Record\n", "x\ny \n", "[{\"a\":\"y\"}]");
	/* a template without values: '$' is left alone */
	assert_records("\nStart\n  ^x$ -> Record\n", "x\n", "[]");
}

static void test_reuse(void **state)
{
	struct textfsm *t = compile_ok("Value A (\\S+)\n\nStart\n  ^a ${A} -> Record\n  ^bad -> Error\n");
	struct textfsm_records r = TEXTFSM_RECORDS_INIT;
	struct err err;

	(void)state;
	/* one program, many parses: nothing carries over, not even after an error */
	assert_records_t(t, "a 1\n", "[{\"a\":\"1\"}]");
	assert_int_equal(textfsm_parse(t, "a 2\nbad\n", 8, &r, &err), -1);
	assert_records_t(t, "a 3\na 4\n", "[{\"a\":\"3\"},{\"a\":\"4\"}]");
	assert_int_equal(textfsm_nvalues(t), 1);
	assert_string_equal(textfsm_value_name(t, 0), "A");
	assert_string_equal(textfsm_value_key(t, 0), "a");
	textfsm_free(t);
}

static void test_json(void **state)
{
	(void)state;
	assert_records("Value A (.+)\n\nStart\n  ^${A}\n", "q\"\\\t\xc3\xa9\n", "[{\"a\":\"q\\\"\\\\\\t\xc3\xa9\"}]");
}

static void assert_index_finds(const struct textfsm_index *ix, const char *platform, const char *command,
                               const char *want, size_t want_line)
{
	size_t line = 0;
	const char *got = textfsm_index_find(ix, platform, command, &line);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	assert_int_equal(line, want_line);
}

static void test_index(void **state)
{
	static const char text[] = "# the index  # header comment\r\n\n Template, Hostname,Platform , Command # c\n"
	                           "a.textfsm, .*, acme, sh[[ow]] ver[[sion]]\n"
	                           "# a comment\n"
	                           "too, few\n"
	                           "b.textfsm, , , sh[[ow]] i[[p]] [[]]]\n"
	                           "c.textfsm:d.textfsm, , \xce\xa9, [[\xce\xa9\xce\xb2]]\n";
	struct textfsm_index *ix = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(textfsm_index_parse("ix", text, sizeof(text) - 1, &ix, &err), 0);
	/* every abbreviation of each [[word]]; matched at the start */
	assert_index_finds(ix, "acme", "sh ver", "a.textfsm", 4);
	assert_index_finds(ix, "acme", "show version", "a.textfsm", 4);
	assert_index_finds(ix, "acme_x", "show versions", "a.textfsm", 4);
	assert_index_finds(ix, "acme", "s ver", NULL, 0);
	assert_index_finds(ix, "other", "sh ver", NULL, 0);
	/* an empty cell matches anything; the shortest [[...]] ("[[]]]" is "]") */
	assert_index_finds(ix, "other", "sho ip ]", "b.textfsm", 7);
	assert_index_finds(ix, "other", "sho i ", "b.textfsm", 7);
	/* completions by character, not by byte */
	assert_index_finds(ix, "\xce\xa9", "\xce\xa9", "c.textfsm:d.textfsm", 8);
	textfsm_index_free(ix);
	ix = NULL;
	assert_int_equal(textfsm_index_parse("ix", "# only\n\n", 8, &ix, &err), -1);
	assert_has(err.msg, "ix:2: no header line");
	assert_int_equal(textfsm_index_parse("ix", "Platform, Command\n", 18, &ix, &err), -1);
	assert_has(err.msg, "ix:1: no 'Template' column");
	assert_int_equal(textfsm_index_parse("ix", "Template, A, A\n", 15, &ix, &err), -1);
	assert_has(err.msg, "ix:1: duplicate column 'A'");
	assert_int_equal(textfsm_index_parse("ix", "Template, Command\nx, sh(\n", 24, &ix, &err), -1);
	assert_has(err.msg, "ix:2: column Command: ");
	assert_null(ix);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_record_basics),
		cmocka_unit_test(test_filldown),
		cmocka_unit_test(test_fillup),
		cmocka_unit_test(test_key_and_required),
		cmocka_unit_test(test_list),
		cmocka_unit_test(test_required_list_order),
		cmocka_unit_test(test_actions),
		cmocka_unit_test(test_states),
		cmocka_unit_test(test_error_action),
		cmocka_unit_test(test_lines),
		cmocka_unit_test(test_regex),
		cmocka_unit_test(test_template_errors),
		cmocka_unit_test(test_template_syntax),
		cmocka_unit_test(test_reuse),
		cmocka_unit_test(test_json),
		cmocka_unit_test(test_index),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
