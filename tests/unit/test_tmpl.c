/* Unit tests for common/tmpl.c: ${name} lookup and its precedence,
 * ${env:NAME} in both modes and the secrets it records, what is left
 * alone ($name, $$), syntax errors and their offsets, masking of secrets,
 * and the built-in variables of a host. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "kv.h"
#include "tmpl.h"
#include "util.h"

/* Render t and compare with want; the rendering must succeed. */
static void assert_renders(const char *t, const struct tmpl_scope *sc, enum tmpl_env_mode mode,
                           struct kvlist *secrets, const char *want)
{
	struct buf out = BUF_INIT;
	struct err err = {{0}};

	assert_int_equal(tmpl_render(t, sc, mode, &out, secrets, &err), 0);
	assert_int_equal(out.len, strlen(want));
	if (out.len)
		assert_string_equal(out.data, want);
	buf_free(&out);
}

/* Render t expecting an error whose text contains needle. */
static void assert_render_fails(const char *t, const struct tmpl_scope *sc, const char *needle)
{
	struct buf out = BUF_INIT;
	struct err err = {{0}};

	assert_int_equal(tmpl_render(t, sc, TMPL_ENV_VALUE, &out, NULL, &err), -1);
	if (!strstr(err.msg, needle))
		print_error("error '%s' does not mention '%s'\n", err.msg, needle);
	assert_non_null(strstr(err.msg, needle));
	buf_free(&out);
}

static void test_precedence(void **state)
{
	struct kvlist cap = KVLIST_INIT, host = KVLIST_INIT, bi = KVLIST_INIT;
	struct tmpl_scope sc = {&cap, &host, &bi};

	(void)state;
	kvlist_set(&cap, "x", "captured");
	kvlist_set(&host, "x", "hostvar");
	kvlist_set(&bi, "x", "builtin");
	kvlist_set(&host, "y", "host-y");
	kvlist_set(&bi, "y", "builtin-y");
	kvlist_set(&bi, "z", "builtin-z");

	assert_renders("${x}", &sc, TMPL_ENV_VALUE, NULL, "captured");
	assert_renders("${y}", &sc, TMPL_ENV_VALUE, NULL, "host-y");
	assert_renders("${z}", &sc, TMPL_ENV_VALUE, NULL, "builtin-z");
	assert_renders("<${x}|${y}|${z}>", &sc, TMPL_ENV_VALUE, NULL, "<captured|host-y|builtin-z>");

	/* without the captured list, host vars win over built-ins */
	sc.captured = NULL;
	assert_renders("${x}", &sc, TMPL_ENV_VALUE, NULL, "hostvar");
	sc.hostvars = NULL;
	assert_renders("${x}", &sc, TMPL_ENV_VALUE, NULL, "builtin");
	/* captured over built-ins with no host vars at all */
	sc.captured = &cap;
	assert_renders("${x}${z}", &sc, TMPL_ENV_VALUE, NULL, "capturedbuiltin-z");

	kvlist_free(&cap);
	kvlist_free(&host);
	kvlist_free(&bi);
}

static void test_plain_and_names(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};

	(void)state;
	kvlist_set(&host, "a.b-c_1", "dotted");
	kvlist_set(&host, "_u", "under");
	kvlist_set(&host, "empty", "");
	kvlist_set(&host, "v", "${notexpanded}");

	assert_renders("", &sc, TMPL_ENV_VALUE, NULL, "");
	assert_renders("no references at all", &sc, TMPL_ENV_VALUE, NULL, "no references at all");
	assert_renders("${a.b-c_1}", &sc, TMPL_ENV_VALUE, NULL, "dotted");
	assert_renders("${_u}", &sc, TMPL_ENV_VALUE, NULL, "under");
	assert_renders("[${empty}]", &sc, TMPL_ENV_VALUE, NULL, "[]");
	/* values are not expanded again */
	assert_renders("${v}", &sc, TMPL_ENV_VALUE, NULL, "${notexpanded}");
	/* a stray closing brace is text */
	assert_renders("a } b", &sc, TMPL_ENV_VALUE, NULL, "a } b");
	kvlist_free(&host);
}

static void test_left_alone(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};

	(void)state;
	kvlist_set(&host, "host", "rtr1");
	assert_renders("echo $name $PPID", &sc, TMPL_ENV_VALUE, NULL, "echo $name $PPID");
	assert_renders("kill -SEGV $PPID", &sc, TMPL_ENV_VALUE, NULL, "kill -SEGV $PPID");
	assert_renders("echo $$", &sc, TMPL_ENV_VALUE, NULL, "echo $$");
	assert_renders("$$$", &sc, TMPL_ENV_VALUE, NULL, "$$$");
	assert_renders("$", &sc, TMPL_ENV_VALUE, NULL, "$");
	assert_renders("cost: 5$ {x}", &sc, TMPL_ENV_VALUE, NULL, "cost: 5$ {x}");
	assert_renders("$host ${host} $(hostname) $((1+2))", &sc, TMPL_ENV_VALUE, NULL,
	               "$host rtr1 $(hostname) $((1+2))");
	assert_renders("awk '{print $1}'", &sc, TMPL_ENV_VALUE, NULL, "awk '{print $1}'");
	kvlist_free(&host);
}

/* $${ is a literal ${: shell parameter expansion reaches the shell. */
static void test_escape(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	struct err err = {{0}};
	size_t off = 999;

	(void)state;
	kvlist_set(&host, "host", "rtr1");
	assert_renders("$${HOME:-/tmp}", &sc, TMPL_ENV_VALUE, NULL, "${HOME:-/tmp}");
	assert_renders("echo $${x} ${host}", &sc, TMPL_ENV_VALUE, NULL, "echo ${x} rtr1");
	assert_renders("${host}$${host}", &sc, TMPL_ENV_VALUE, NULL, "rtr1${host}");
	assert_renders("a $${ b", &sc, TMPL_ENV_VALUE, NULL, "a ${ b");
	assert_renders("$${env:NOT_READ}", &sc, TMPL_ENV_SHELL, NULL, "${env:NOT_READ}");
	/* what follows an escape is still looked at */
	assert_render_fails("$${x} ${missing}", &sc, "'missing'");

	assert_int_equal(tmpl_check("$${HOME:-/tmp} ${ok} $${", &off, &err), 0);
	assert_int_equal(off, 999);
	assert_int_equal(tmpl_check("$${a b} ${a b}", &off, &err), -1);
	assert_int_equal(off, 8);
	kvlist_free(&host);
}

static void test_env(void **state)
{
	struct kvlist secrets = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, NULL, NULL};

	(void)state;
	assert_int_equal(setenv("FLEETRUN_TEST_TOKEN", "s3cr3t value", 1), 0);
	assert_int_equal(setenv("FLEETRUN_TEST_OTHER", "two", 1), 0);
	assert_int_equal(setenv("FLEETRUN_TEST_EMPTY", "", 1), 0);

	assert_renders("curl -H 'X: ${env:FLEETRUN_TEST_TOKEN}'", &sc, TMPL_ENV_VALUE, &secrets,
	               "curl -H 'X: s3cr3t value'");
	assert_int_equal(secrets.len, 1);
	assert_string_equal(kvlist_get(&secrets, "FLEETRUN_TEST_TOKEN"), "s3cr3t value");

	/* shell mode: the reference, never the value, goes into the text */
	assert_renders("curl -H 'X: ${env:FLEETRUN_TEST_TOKEN}' ${env:FLEETRUN_TEST_OTHER}", &sc,
	               TMPL_ENV_SHELL, &secrets, "curl -H 'X: ${FLEETRUN_TEST_TOKEN}' ${FLEETRUN_TEST_OTHER}");
	/* the values are still secrets, once each */
	assert_int_equal(secrets.len, 2);
	assert_string_equal(kvlist_get(&secrets, "FLEETRUN_TEST_TOKEN"), "s3cr3t value");
	assert_string_equal(kvlist_get(&secrets, "FLEETRUN_TEST_OTHER"), "two");

	/* an empty value renders as nothing and is no secret (masking "" is
	 * meaningless) */
	assert_renders("[${env:FLEETRUN_TEST_EMPTY}]", &sc, TMPL_ENV_VALUE, &secrets, "[]");
	assert_null(kvlist_get(&secrets, "FLEETRUN_TEST_EMPTY"));

	/* secrets may be NULL */
	assert_renders("${env:FLEETRUN_TEST_OTHER}", &sc, TMPL_ENV_VALUE, NULL, "two");

	/* env: does not look in the vars, and vars do not look in env */
	assert_int_equal(unsetenv("FLEETRUN_TEST_MISSING"), 0);
	assert_render_fails("x ${env:FLEETRUN_TEST_MISSING} y", &sc, "FLEETRUN_TEST_MISSING");
	assert_render_fails("${FLEETRUN_TEST_OTHER}", &sc, "FLEETRUN_TEST_OTHER");

	unsetenv("FLEETRUN_TEST_TOKEN");
	unsetenv("FLEETRUN_TEST_OTHER");
	unsetenv("FLEETRUN_TEST_EMPTY");
	kvlist_free(&secrets);
}

static void test_missing(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	struct buf out = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	kvlist_set(&host, "present", "yes");
	assert_int_equal(tmpl_render("a ${present} ${absent_one} b", &sc, TMPL_ENV_VALUE, &out, NULL, &err), -1);
	assert_string_equal(err.msg, "missing variable 'absent_one'");
	buf_free(&out);

	/* an empty scope */
	sc.hostvars = NULL;
	assert_render_fails("${present}", &sc, "'present'");
	kvlist_free(&host);
}

static void test_syntax_errors(void **state)
{
	struct tmpl_scope sc = {NULL, NULL, NULL};

	(void)state;
	assert_render_fails("echo ${host", &sc, "unterminated");
	assert_render_fails("${", &sc, "unterminated");
	assert_render_fails("${}", &sc, "empty");
	assert_render_fails("${env:}", &sc, "empty");
	assert_render_fails("${1abc}", &sc, "1abc");
	assert_render_fails("${a b}", &sc, "a b");
	assert_render_fails("${a$b}", &sc, "a$b");
	assert_render_fails("${-x}", &sc, "-x");
}

static void test_check(void **state)
{
	struct err err = {{0}};
	size_t off = 999;

	(void)state;
	assert_int_equal(tmpl_check("", &off, &err), 0);
	assert_int_equal(tmpl_check("plain $x $$ ${ok} ${env:HOME} ${a.b-c}", &off, &err), 0);
	assert_int_equal(off, 999);

	assert_int_equal(tmpl_check("echo ${x", &off, &err), -1);
	assert_int_equal(off, 5);
	assert_non_null(strstr(err.msg, "unterminated"));

	assert_int_equal(tmpl_check("${ok} and ${bad name}", &off, &err), -1);
	assert_int_equal(off, 10);
	assert_non_null(strstr(err.msg, "bad name"));

	assert_int_equal(tmpl_check("${}", &off, &err), -1);
	assert_int_equal(off, 0);

	/* the second of two bad references is not reached */
	assert_int_equal(tmpl_check("ab ${9} ${}", &off, &err), -1);
	assert_int_equal(off, 3);

	/* a reference at the very end */
	assert_int_equal(tmpl_check("xyz${", &off, &err), -1);
	assert_int_equal(off, 3);
}

/* A name as long as the internal buffer allows: found, no overflow. */
static void test_long_name(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	char name[256], t[300];

	(void)state;
	memset(name, 'n', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	kvlist_set(&host, name, "long");
	snprintf(t, sizeof(t), "${%s}", name);
	assert_renders(t, &sc, TMPL_ENV_VALUE, NULL, "long");
	kvlist_free(&host);
}

/* Mask text with the given secrets (NULL-terminated values). */
static void check_mask(const char *text, const char *const *values, const char *want)
{
	struct kvlist secrets = KVLIST_INIT;
	struct buf b = BUF_INIT;

	for (size_t i = 0; values[i]; i++) {
		char key[32];
		snprintf(key, sizeof(key), "S%zu", i);
		kvlist_set(&secrets, key, values[i]);
	}
	buf_puts(&b, text);
	tmpl_mask(&b, &secrets);
	if (strcmp(b.data, want) != 0)
		print_error("mask('%s') = '%s', want '%s'\n", text, b.data, want);
	assert_string_equal(b.data, want);
	assert_int_equal(b.len, strlen(want));
	buf_free(&b);
	kvlist_free(&secrets);
}

static void test_mask(void **state)
{
	static const char *const one[] = {"hunter2", NULL};
	static const char *const two[] = {"alpha", "beta", NULL};
	static const char *const empty[] = {"", NULL};

	(void)state;
	check_mask("password is hunter2.", one, "password is ***.");
	check_mask("hunter2", one, "***");
	check_mask("hunter2 at start", one, "*** at start");
	check_mask("at the end hunter2", one, "at the end ***");
	check_mask("hunter2 x hunter2 y hunter2", one, "*** x *** y ***");
	/* adjacent occurrences: one run of secret bytes, one *** (how many
	 * there were is not told either) */
	check_mask("hunter2hunter2", one, "***");
	check_mask("<hunter2hunter2hunter2>", one, "<***>");
	/* almost a secret is not a secret */
	check_mask("hunter hunter3 unter2", one, "hunter hunter3 unter2");
	check_mask("nothing here", one, "nothing here");
	check_mask("", one, "");
	/* several secrets */
	check_mask("alpha and beta and alphabeta", two, "*** and *** and ***");
	/* an empty secret masks nothing */
	check_mask("abc", empty, "abc");
}

/* Bytes that were part of an occurrence of a secret must not survive in
 * the masked text. Overlapping occurrences ("aaa" holds "aa" twice) and
 * secrets that contain one another (an env var "admin" and another
 * "admin123") must not leave part of a secret visible. */
static int secret_bytes_left(const char *text, const char *const *values, const char *prefix,
                                  const char *suffix, const char *forbidden)
{
	struct kvlist secrets = KVLIST_INIT;
	struct buf b = BUF_INIT;
	size_t pl = strlen(prefix), sl = strlen(suffix);
	int leaked = 0;

	for (size_t i = 0; values[i]; i++) {
		char key[32];
		snprintf(key, sizeof(key), "S%zu", i);
		kvlist_set(&secrets, key, values[i]);
	}
	buf_puts(&b, text);
	tmpl_mask(&b, &secrets);
	assert_true(b.len >= pl + sl);
	assert_memory_equal(b.data, prefix, pl);
	assert_memory_equal(b.data + b.len - sl, suffix, sl);
	for (size_t i = pl; i < b.len - sl; i++)
		if (strchr(forbidden, b.data[i]))
			leaked = 1;
	if (leaked)
		print_error("mask('%s') = '%s': part of a secret is left\n", text, b.data);
	assert_non_null(strstr(b.data, "***"));
	buf_free(&b);
	kvlist_free(&secrets);
	return leaked;
}

static void test_mask_overlapping(void **state)
{
	static const char *const aa[] = {"aa", NULL};
	static const char *const abab[] = {"abab", NULL};

	int left = 0;

	(void)state;
	left += secret_bytes_left("aaa", aa, "", "", "a");
	left += secret_bytes_left("x aaaaa y", aa, "x ", " y", "a");
	left += secret_bytes_left("ababab", abab, "", "", "ab");
	left += secret_bytes_left("<abababab>", abab, "<", ">", "ab");
	assert_int_equal(left, 0);
}

static void test_mask_nested_secrets(void **state)
{
	/* the shorter one first: the order of ${env:...} in the job */
	static const char *const short_first[] = {"admin", "admin123", NULL};
	static const char *const long_first[] = {"admin123", "admin", NULL};

	int left = 0;

	(void)state;
	left += secret_bytes_left("user admin pass admin123.", long_first, "user ", ".", "0123456789");
	left += secret_bytes_left("user admin pass admin123.", short_first, "user ", ".", "0123456789");
	assert_int_equal(left, 0);
}

static void test_mask_null(void **state)
{
	struct buf b = BUF_INIT;
	struct kvlist secrets = KVLIST_INIT;

	(void)state;
	/* no secrets, no text: nothing happens */
	tmpl_mask(&b, NULL);
	tmpl_mask(&b, &secrets);
	kvlist_set(&secrets, "S", "x");
	tmpl_mask(&b, &secrets);
	assert_int_equal(b.len, 0);
	buf_puts(&b, "x");
	tmpl_mask(&b, NULL);
	assert_string_equal(b.data, "x");
	/* binary text: masking works past a NUL */
	buf_reset(&b);
	buf_append(&b, "a\0x\0b", 5);
	tmpl_mask(&b, &secrets);
	assert_int_equal(b.len, 7);
	assert_memory_equal(b.data, "a\0***\0b", 7);
	buf_free(&b);
	kvlist_free(&secrets);
}

static void test_builtins(void **state)
{
	struct kvlist vars = KVLIST_INIT, none = KVLIST_INIT, b = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, NULL, &b};

	(void)state;
	kvlist_set(&vars, "address", "127.0.1.7");
	kvlist_set(&vars, "port", "2222");
	kvlist_set(&vars, "user", "netops");
	tmpl_builtins(&b, "show-version", "rtr1", &vars);
	assert_string_equal(kvlist_get(&b, "host"), "rtr1");
	assert_string_equal(kvlist_get(&b, "address"), "127.0.1.7");
	assert_string_equal(kvlist_get(&b, "port"), "2222");
	assert_string_equal(kvlist_get(&b, "user"), "netops");
	assert_string_equal(kvlist_get(&b, "job"), "show-version");
	assert_renders("ssh -p ${port} ${user}@${address} # ${host} ${job}", &sc, TMPL_ENV_VALUE, NULL,
	               "ssh -p 2222 netops@127.0.1.7 # rtr1 show-version");

	/* the same list reused for the next host, which has no vars: the
	 * fallbacks replace the previous host's values */
	tmpl_builtins(&b, "show-version", "sw2", &none);
	assert_string_equal(kvlist_get(&b, "host"), "sw2");
	assert_string_equal(kvlist_get(&b, "address"), "sw2");
	assert_string_equal(kvlist_get(&b, "port"), "22");
	assert_non_null(kvlist_get(&b, "user"));
	assert_true(kvlist_get(&b, "user")[0] != '\0');
	assert_string_not_equal(kvlist_get(&b, "user"), "netops");
	assert_int_equal(b.len, 5);

	kvlist_free(&vars);
	kvlist_free(&none);
	kvlist_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_precedence),
		cmocka_unit_test(test_plain_and_names),
		cmocka_unit_test(test_left_alone),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_env),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_syntax_errors),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_long_name),
		cmocka_unit_test(test_mask),
		cmocka_unit_test(test_mask_overlapping),
		cmocka_unit_test(test_mask_nested_secrets),
		cmocka_unit_test(test_mask_null),
		cmocka_unit_test(test_builtins),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
