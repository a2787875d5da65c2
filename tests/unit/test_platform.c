/* Unit tests for common/platform.c: a platform file parsed and compiled
 * (every key, lists given as one scalar), prompt patterns anchored at
 * both ends of the last line, and each mistake named file:line:column
 * with what was expected; platform names that could be paths refused. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <pcre2.h>

#include "platform.h"

static const char full[] =
	"description: test\n"
	"prompts:\n"
	"  user: '[\\w-]+>'\n"
	"  privileged: '[\\w-]+#'\n"
	"  config: '[\\w-]+\\(config[\\w-]*\\)#'\n"
	"on_login: [terminal length 0, terminal width 511]\n"
	"enable: {command: enable, password_prompt: '^Password:'}\n"
	"disable: disable\n"
	"config: {enter: configure terminal, exit: end}\n"
	"exit: exit\n"
	"pager: {patterns: '--More--', continue: ' '}\n"
	"errors: ['(?m)^% Invalid', '(?m)^% Incomplete']\n"
	"questions:\n"
	"  - {pattern: '\\[confirm\\]', answer: ''}\n"
	"save: write memory\n";

static int matches(const struct platform_re *r, const char *s)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(r->re, NULL);
	int rc = pcre2_match(r->re, (PCRE2_SPTR)s, strlen(s), 0, 0, md, NULL);

	pcre2_match_data_free(md);
	return rc >= 0;
}

static void test_full(void **state)
{
	struct platform *p = NULL;
	struct err err = {{0}};

	assert_int_equal(platform_parse("dir/ios.yaml", full, strlen(full), &p, &err), 0);
	assert_string_equal(p->name, "ios");
	assert_int_equal(p->non_login, 2);
	assert_string_equal(p->on_login[1], "terminal width 511");
	assert_string_equal(p->enable, "enable");
	assert_string_equal(p->config_enter, "configure terminal");
	assert_int_equal(p->npager, 1);
	assert_string_equal(p->pager_continue, " ");
	assert_int_equal(p->nerror, 2);
	assert_int_equal(p->nquestion, 1);
	assert_string_equal(p->question[0].answer, "");
	assert_string_equal(p->save, "write memory");
	/* a prompt is the whole line: not a banner line ending like one */
	assert_true(matches(&p->prompt[PLATFORM_MODE_PRIVILEGED], "rtr-1#"));
	assert_false(matches(&p->prompt[PLATFORM_MODE_PRIVILEGED], "### rtr-1#"));
	assert_false(matches(&p->prompt[PLATFORM_MODE_PRIVILEGED], "rtr-1# x"));
	assert_true(matches(&p->prompt[PLATFORM_MODE_CONFIG], "rtr-1(config-if)#"));
	assert_false(matches(&p->prompt[PLATFORM_MODE_USER], "rtr-1#"));
	assert_true(matches(&p->error[0], "x\n% Invalid input\n"));
	platform_free(p);
}

/* above_prompt: whole lines, as prompts are (Junos's [edit] must not cut
 * an output line that merely ends in brackets). */
static void test_above_prompt(void **state)
{
	static const char text[] = "prompts: {user: 'u@h>'}\nabove_prompt: ['\\s*', '\\[edit( [^\\]]*)?\\]']\n";
	struct platform *p = NULL;
	struct err err = {{0}};

	assert_int_equal(platform_parse("junos.yaml", text, strlen(text), &p, &err), 0);
	assert_int_equal(p->nabove_prompt, 2);
	assert_true(matches(&p->above_prompt[0], ""));
	assert_true(matches(&p->above_prompt[0], "  "));
	assert_false(matches(&p->above_prompt[0], " x"));
	assert_true(matches(&p->above_prompt[1], "[edit interfaces ge-0/0/0]"));
	assert_false(matches(&p->above_prompt[1], "ge-0/0/0 [edit]"));
	assert_false(matches(&p->above_prompt[1], "[edit] x"));
	platform_free(p);
}

static void check_bad(const char *text, const char *want)
{
	struct platform *p = NULL;
	struct err err = {{0}};

	assert_int_equal(platform_parse("p.yaml", text, strlen(text), &p, &err), -1);
	assert_null(p);
	if (!strstr(err.msg, want))
		print_error("got  [%s]\nwant [%s]\n", err.msg, want);
	assert_non_null(strstr(err.msg, want));
}

static void test_errors(void **state)
{
	check_bad("", "p.yaml:1:1: expected a mapping with prompts");
	check_bad("description: x\n", "p.yaml:1:1: expected 'prompts'");
	check_bad("prompts: {user: '(a'}\n", "p.yaml:1:17: 'prompts: user': bad regular expression: missing closing "
	          "parenthesis (at position 3 of the pattern)");
	check_bad("prompts: {}\n", "p.yaml:1:10: 'prompts': expected at least one of user, privileged, config");
	check_bad("prompts: {user: 'a>'}\nenable: {command: enable}\n",
	          "p.yaml:1:1: 'enable' needs both the user and the privileged prompt");
	check_bad("prompts: {user: 'a>'}\nenable: {password_prompt: x}\n", "p.yaml:2:9: 'enable': expected 'command'");
	check_bad("prompts: {user: 'a>'}\nsave: \"write\\nmemory\"\n", "p.yaml:2:7: 'save': expected one line");
	check_bad("prompts: {user: 'a>'}\npager: {patterns: [x], continue: ''}\n",
	          "p.yaml:2:34: 'pager: continue': expected 1 to 8 characters");
	check_bad("prompts: {user: 'a>'}\nquestions: [{pattern: x}]\n",
	          "p.yaml:2:13: 'questions': expected both 'pattern' and 'answer'");
	check_bad("prompts: {user: 'a>'}\nquestions: [{pattern: '(', answer: y}]\n",
	          "p.yaml:2:23: 'questions: pattern': bad regular expression");
	check_bad("prompts: {user: 'a>'}\nerrors: [a, b, c, d, e, f, g, h, i, j, k, l, m, n, o, p, q]\n",
	          "p.yaml:2:9: 'errors': expected at most 16 items, got 17");
	check_bad("prompts: {user: 'a>'}\nprompts: {user: 'b>'}\n", "p.yaml:2:1: duplicate key 'prompts'");
	check_bad("prompts: {user: 'a>'}\npagr: x\n", "p.yaml:2:1: unknown key 'pagr'");
	check_bad("prompts: {user: 'a>'}\nabove_prompt: {a: b}\n", "p.yaml:2:15: 'above_prompt': expected a list");
}

/* commit_confirmed: its holes filled with the time; config discard
 * read; commit keys need config mode. */
static void test_commit_confirmed(void **state)
{
	static const char text[] = "prompts: {user: 'a>', config: 'a#'}\n"
	                           "config: {enter: configure, exit: exit configuration-mode, discard: rollback 0}\n"
	                           "commit: commit\n"
	                           "commit_confirmed: commit confirmed {minutes} comment {seconds}s\n";
	struct platform *p = NULL;
	struct err err = {{0}};
	char *c;

	assert_int_equal(platform_parse("j.yaml", text, strlen(text), &p, &err), 0);
	assert_string_equal(p->config_discard, "rollback 0");
	c = platform_commit_confirmed(p, 5);
	assert_string_equal(c, "commit confirmed 5 comment 300s");
	free(c);
	platform_free(p);
	check_bad("prompts: {user: 'a>', config: 'a#'}\nconfig: {enter: c, exit: e}\ncommit_confirmed: commit confirmed\n",
	          "p.yaml:3:19: 'commit_confirmed': expected {minutes} or {seconds} in the command");
	check_bad("prompts: {user: 'a>', config: 'a#'}\nconfig: {enter: c, exit: e}\ncommit_confirmed: 'c {min}'\n",
	          "p.yaml:3:19: 'commit_confirmed': expected {minutes} or {seconds} after '{'");
	check_bad("prompts: {user: 'a>'}\ncommit: commit\n", "p.yaml:1:1: 'commit' and 'commit_confirmed' need 'config'");
}

static void test_names(void **state)
{
	assert_true(platform_name_ok("cisco_ios"));
	assert_true(platform_name_ok("arista-eos.4"));
	assert_false(platform_name_ok(""));
	assert_false(platform_name_ok("../etc/passwd"));
	assert_false(platform_name_ok("a/b"));
	assert_false(platform_name_ok(".hidden"));
	assert_false(platform_name_ok("a b"));
}

static void test_find_missing(void **state)
{
	char *path = NULL;
	struct err err = {{0}};

	assert_int_equal(platform_find("/nonexistent/dir/job.yaml", "nope", &path, &err), -1);
	assert_non_null(strstr(err.msg, "platform 'nope': no nope.yaml in /nonexistent/dir/platforms"));
	assert_int_equal(platform_find("/x/job.yaml", "../../etc/passwd", &path, &err), -1);
	assert_non_null(strstr(err.msg, "not a path"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full),
		cmocka_unit_test(test_above_prompt),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_commit_confirmed),
		cmocka_unit_test(test_find_missing),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
