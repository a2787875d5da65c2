/* Unit tests for common/tmpl.c and common/shctx.c: ${name} lookup and its
 * precedence, ${env:NAME} and the secrets it records, exec commands (every
 * quoting context of the shell, values through the environment), the
 * filters, what is left
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

/* tmpl_check(t): it passes when want_off is -1; else it fails at the
 * offset want_off with an error that says needle (when not NULL). */
static void assert_checks(const char *t, long want_off, const char *needle)
{
	struct err err = {{0}};
	size_t off = 999;

	if (want_off < 0) {
		assert_int_equal(tmpl_check(t, &off, &err), 0);
		assert_int_equal(off, 999);
		return;
	}
	assert_int_equal(tmpl_check(t, &off, &err), -1);
	assert_int_equal(off, (size_t)want_off);
	if (needle && !strstr(err.msg, needle))
		print_error("error '%s' does not mention '%s'\n", err.msg, needle);
	assert_true(!needle || strstr(err.msg, needle));
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

	(void)state;
	kvlist_set(&host, "host", "rtr1");
	assert_renders("$${HOME:-/tmp}", &sc, TMPL_ENV_VALUE, NULL, "${HOME:-/tmp}");
	assert_renders("echo $${x} ${host}", &sc, TMPL_ENV_VALUE, NULL, "echo ${x} rtr1");
	assert_renders("${host}$${host}", &sc, TMPL_ENV_VALUE, NULL, "rtr1${host}");
	assert_renders("a $${ b", &sc, TMPL_ENV_VALUE, NULL, "a ${ b");
	assert_renders("$${env:NOT_READ}", &sc, TMPL_ENV_VALUE, NULL, "${env:NOT_READ}");
	/* what follows an escape is still looked at */
	assert_render_fails("$${x} ${missing}", &sc, "'missing'");

	assert_checks("$${HOME:-/tmp} ${ok} $${", -1, NULL);
	assert_checks("$${a b} ${a b}", 8, NULL);
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
	assert_string_equal(kvlist_get(&secrets, "s3cr3t value"), "s3cr3t value");

	/* the values are secrets, once each */
	assert_renders("${env:FLEETRUN_TEST_TOKEN} ${env:FLEETRUN_TEST_OTHER}", &sc, TMPL_ENV_VALUE, &secrets,
	               "s3cr3t value two");
	assert_int_equal(secrets.len, 2);
	assert_string_equal(kvlist_get(&secrets, "two"), "two");

	/* an empty value renders as nothing and is no secret (masking "" is
	 * meaningless) */
	assert_renders("[${env:FLEETRUN_TEST_EMPTY}]", &sc, TMPL_ENV_VALUE, &secrets, "[]");
	assert_int_equal(secrets.len, 2);

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
	(void)state;
	assert_checks("", -1, NULL);
	assert_checks("plain $x $$ ${ok} ${env:HOME} ${a.b-c}", -1, NULL);
	assert_checks("echo ${x", 5, "unterminated");
	assert_checks("${ok} and ${bad name}", 10, "bad name");
	assert_checks("${}", 0, NULL);
	/* the second of two bad references is not reached */
	assert_checks("ab ${9} ${}", 3, NULL);
	/* a reference at the very end */
	assert_checks("xyz${", 3, NULL);
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

/* Render an exec command; compare the text and the values it put in the
 * environment (want_env: "name=value" strings, NULL-terminated). */
static void assert_shell(const char *t, const struct tmpl_scope *sc, const char *want,
                         const char *const *want_env)
{
	struct buf out = BUF_INIT;
	struct kvlist env = KVLIST_INIT;
	struct err err = {{0}};
	size_t n = 0, off = 999;

	if (tmpl_render_shell(t, sc, &out, &env, NULL, &err) != 0)
		print_error("render_shell('%s'): %s\n", t, err.msg);
	assert_int_equal(tmpl_check_shell(t, &off, &err), 0);
	if (strcmp(out.data ? out.data : "", want) != 0)
		print_error("render_shell('%s') = '%s', want '%s'\n", t, out.data, want);
	assert_string_equal(out.data ? out.data : "", want);
	for (; want_env && want_env[n]; n++) {
		const char *eq = strchr(want_env[n], '=');
		char name[64];
		snprintf(name, sizeof(name), "%.*s", (int)(eq - want_env[n]), want_env[n]);
		assert_non_null(kvlist_get(&env, name));
		assert_string_equal(kvlist_get(&env, name), eq + 1);
	}
	assert_int_equal(env.len, n);
	buf_free(&out);
	kvlist_free(&env);
}

static void assert_shell_fails(const char *t, const struct tmpl_scope *sc, const char *needle, long check_off)
{
	struct buf out = BUF_INIT;
	struct kvlist env = KVLIST_INIT;
	struct err err = {{0}};
	size_t off = 999;

	assert_int_equal(tmpl_render_shell(t, sc, &out, &env, NULL, &err), -1);
	if (!strstr(err.msg, needle))
		print_error("error '%s' does not mention '%s'\n", err.msg, needle);
	assert_non_null(strstr(err.msg, needle));
	if (check_off >= 0) {
		assert_int_equal(tmpl_check_shell(t, &off, &err), -1);
		assert_int_equal(off, (size_t)check_off);
		assert_non_null(strstr(err.msg, needle));
	} else {
		/* only the value is wrong: the text itself checks */
		assert_int_equal(tmpl_check_shell(t, &off, &err), 0);
	}
	buf_free(&out);
	kvlist_free(&env);
}

/* Every quoting context gets the reference that keeps the value one word,
 * and the values themselves never reach the text. */
static void test_shell_contexts(void **state)
{
	struct kvlist host = KVLIST_INIT, bi = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, &bi};
	const char *v1[] = {"fleetrun_v1=$(touch x); `id` 'a' \"b\"", NULL};
	const char *h1[] = {"fleetrun_v1=rtr1", NULL};
	const char *h2[] = {"fleetrun_v1=rtr1", "fleetrun_v2=rtr1", NULL};

	(void)state;
	kvlist_set(&host, "v", "$(touch x); `id` 'a' \"b\"");
	kvlist_set(&bi, "host", "rtr1");
	kvlist_set(&host, "n", "41");
	kvlist_set(&host, "neg", "-3");

	assert_shell("echo ${host}", &sc, "echo \"${fleetrun_v1}\"", h1);
	assert_shell("echo ${v}", &sc, "echo \"${fleetrun_v1}\"", v1);
	assert_shell("echo \"x ${v} y\"", &sc, "echo \"x ${fleetrun_v1} y\"", v1);
	assert_shell("echo 'x ${v} y'", &sc, "echo 'x '\"${fleetrun_v1}\"' y'", v1);
	assert_shell("echo x${host}y", &sc, "echo x\"${fleetrun_v1}\"y", h1);
	/* each reference its own variable */
	assert_shell("${host} ${host}", &sc, "\"${fleetrun_v1}\" \"${fleetrun_v2}\"", h2);
	/* escaped quotes do not open or close */
	assert_shell("echo \\' ${host}", &sc, "echo \\' \"${fleetrun_v1}\"", h1);
	assert_shell("echo \"a\\\" ${host}\"", &sc, "echo \"a\\\" ${fleetrun_v1}\"", h1);
	/* a backslash in single quotes is a plain byte */
	assert_shell("echo 'a\\' ${host}", &sc, "echo 'a\\' \"${fleetrun_v1}\"", h1);
	/* " inside '...' and ' inside "..." are plain bytes */
	assert_shell("echo '\"' ${host} \"'\" ${host}", &sc, "echo '\"' \"${fleetrun_v1}\" \"'\" \"${fleetrun_v2}\"", h2);
	/* $( ) and ` ` are commands again, even inside "..." */
	assert_shell("echo \"$(echo ${host})\"", &sc, "echo \"$(echo \"${fleetrun_v1}\")\"", h1);
	assert_shell("echo \"$(echo '(' ${host})\" ${host}", &sc,
	             "echo \"$(echo '(' \"${fleetrun_v1}\")\" \"${fleetrun_v2}\"", h2);
	assert_shell("echo \"`echo ${host}`\"", &sc, "echo \"`echo \"${fleetrun_v1}\"`\"", h1);
	assert_shell("echo $( (echo) ; echo ${host})", &sc, "echo $( (echo) ; echo \"${fleetrun_v1}\")", h1);
	/* integers inside $(( )) */
	assert_shell("echo $((${n} + 1)) $(( (${neg}) * 2 )) ${host}", &sc,
	             "echo $((${fleetrun_v1} + 1)) $(( (${fleetrun_v2}) * 2 )) \"${fleetrun_v3}\"",
	             (const char *const[]){"fleetrun_v1=41", "fleetrun_v2=-3", "fleetrun_v3=rtr1", NULL});
	/* a comment: its quote is no quote */
	assert_shell("echo # it's\necho ${host}", &sc, "echo # it's\necho \"${fleetrun_v1}\"", h1);
	assert_shell("echo a#'${host}'", &sc, "echo a#''\"${fleetrun_v1}\"''", h1);
	/* here-documents: the body expands like "..." but " is a byte */
	assert_shell("cat <<EOF\n\"${host}\" 'x'\nEOF\necho '${host}'", &sc,
	             "cat <<EOF\n\"${fleetrun_v1}\" 'x'\nEOF\necho ''\"${fleetrun_v2}\"''", h2);
	assert_shell("cat <<-E1 <<E2; echo ${host}\n\t${host}\n\tE1\n'${host}\nE2\necho 'x'", &sc,
	             "cat <<-E1 <<E2; echo \"${fleetrun_v1}\"\n\t${fleetrun_v2}\n\tE1\n'${fleetrun_v3}\nE2\necho 'x'",
	             (const char *const[]){"fleetrun_v1=rtr1", "fleetrun_v2=rtr1", "fleetrun_v3=rtr1", NULL});
	/* a quoted here-document without templates is fine */
	assert_shell("cat <<'EOF'\n'\"$x\nEOF\necho ${host}", &sc, "cat <<'EOF'\n'\"$x\nEOF\necho \"${fleetrun_v1}\"", h1);
	/* $${ stays the shell's */
	assert_shell("echo $${HOME:-/} '$${x}' ${host}", &sc, "echo ${HOME:-/} '${x}' \"${fleetrun_v1}\"", h1);
	/* a backslash before a template: joined to a newline, dropped */
	assert_shell("echo \\${host}", &sc, "echo \\\n\"${fleetrun_v1}\"", h1);
	/* no template: the text as it is, nothing in env */
	assert_shell("awk '{print $1}' | sort -u", &sc, "awk '{print $1}' | sort -u", NULL);
	assert_shell("", &sc, "", NULL);

	kvlist_free(&host);
	kvlist_free(&bi);
}

static void test_shell_env(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	struct kvlist env = KVLIST_INIT, secrets = KVLIST_INIT;
	struct buf out = BUF_INIT;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(setenv("FR_TEST_TOK", "s3 cr'et", 1), 0);
	assert_int_equal(setenv("FLEETRUN_TEST_X", "x", 1), 0);
	assert_int_equal(setenv("fr.dotted", "d", 1), 0);
	/* ${env:NAME} is the shell's own ${NAME}, quoted for where it is */
	assert_shell("echo ${env:FR_TEST_TOK} \"${env:FR_TEST_TOK}\" '${env:FR_TEST_TOK}'", &sc,
	             "echo \"${FR_TEST_TOK}\" \"${FR_TEST_TOK}\" ''\"${FR_TEST_TOK}\"''", NULL);
	/* unless the shell cannot name it, a FLEETRUN_ var could shadow it,
	 * or it is filtered */
	assert_shell("${env:fr.dotted} ${env:FLEETRUN_TEST_X} ${env:FR_TEST_TOK|sh}", &sc,
	             "\"${fleetrun_v1}\" \"${fleetrun_v2}\" \"${fleetrun_v3}\"",
	             (const char *const[]){"fleetrun_v1=d", "fleetrun_v2=x", "fleetrun_v3='s3 cr'\\''et'", NULL});
	/* the values, raw and filtered, are secrets */
	assert_int_equal(tmpl_render_shell("${env:FR_TEST_TOK} ${env:FR_TEST_TOK|url}", &sc, &out, &env, &secrets, &err),
	                 0);
	assert_non_null(kvlist_get(&secrets, "s3 cr'et"));
	assert_non_null(kvlist_get(&secrets, "s3%20cr%27et"));
	unsetenv("FR_TEST_TOK");
	unsetenv("FLEETRUN_TEST_X");
	unsetenv("fr.dotted");
	buf_free(&out);
	kvlist_free(&env);
	kvlist_free(&secrets);
	kvlist_free(&host);
}

static void test_shell_errors(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};

	(void)state;
	kvlist_set(&host, "x", "1+1");
	kvlist_set(&host, "h", "rtr1");
	/* a quoted here-document takes its body as text */
	assert_shell_fails("cat <<'EOF'\n${h}\nEOF\n", &sc, "quoted here-document", 12);
	assert_shell_fails("cat <<\"E\"F\na ${h}\nEF\n", &sc, "quoted here-document", 13);
	assert_shell_fails("cat <<E${h}\n", &sc, "here-document delimiter", 4);
	/* shell text it cannot follow fails only when a template comes after */
	assert_shell("cat << ; echo ok", &sc, "cat << ; echo ok", NULL);
	assert_shell_fails("cat << ; echo ${h}", &sc, "'<<' without a here-document delimiter", 4);
	/* only integers inside $(( )) */
	assert_shell_fails("echo $((${x}))", &sc, "not an integer", -1);
	kvlist_set(&host, "x", "a[$(touch y)]");
	assert_shell_fails("echo $((${x} + 1))", &sc, "not an integer", -1);
	/* the usual reference errors */
	assert_shell_fails("echo ${missing}", &sc, "missing variable", -1);
	assert_shell_fails("echo 'a' ${h|nope}", &sc, "unknown filter 'nope'", 13);
	kvlist_free(&host);
}

static void test_filters(void **state)
{
	struct kvlist host = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	struct err err = {{0}};

	(void)state;
	kvlist_set(&host, "q", "it's a \"b\" $(x)\n");
	kvlist_set(&host, "e", "");
	kvlist_set(&host, "u", "a b/c?d=e&f#~._-\xc3\xa9");
	assert_renders("${q|sh}", &sc, TMPL_ENV_VALUE, NULL, "'it'\\''s a \"b\" $(x)\n'");
	assert_renders("${e|sh}", &sc, TMPL_ENV_VALUE, NULL, "''");
	assert_renders("${u|url}", &sc, TMPL_ENV_VALUE, NULL, "a%20b%2Fc%3Fd%3De%26f%23~._-%C3%A9");
	assert_renders("${e|url}", &sc, TMPL_ENV_VALUE, NULL, "");
	assert_renders("${q|json}", &sc, TMPL_ENV_VALUE, NULL, "\"it's a \\\"b\\\" $(x)\\n\"");
	assert_renders("${e|json}", &sc, TMPL_ENV_VALUE, NULL, "\"\"");
	/* in a row, left to right */
	assert_renders("${e|sh|json}", &sc, TMPL_ENV_VALUE, NULL, "\"''\"");
	assert_renders("${e|json|url}", &sc, TMPL_ENV_VALUE, NULL, "%22%22");
	/* in a JSON body's string the filtered text is escaped again */
	{
		struct buf out = BUF_INIT;
		assert_int_equal(tmpl_render_json("${e|json}", &sc, &out, NULL, &err), 0);
		assert_string_equal(out.data, "\\\"\\\"");
		buf_free(&out);
	}
	/* tmpl_check knows them, and points at the unknown one */
	assert_checks("${q|sh} ${q|url} ${q|json} ${env:HOME|sh|url}", -1, NULL);
	assert_checks("ab ${q|sh|shell}", 10, "unknown filter 'shell' (expected sh, url or json)");
	assert_checks("${q|}", 4, NULL);
	assert_checks("${|sh}", 0, NULL);
	assert_checks("${q|sh|sh|sh|sh|sh}", 16, "more than 4 filters");
	kvlist_free(&host);
}

static void test_secrets(void **state)
{
	struct kvlist host = KVLIST_INIT, secrets = KVLIST_INIT;
	struct tmpl_scope sc = {NULL, &host, NULL};
	struct buf b = BUF_INIT;

	(void)state;
	assert_true(tmpl_is_secret_name("password"));
	assert_true(tmpl_is_secret_name("ansible_ssh_pass"));
	assert_true(tmpl_is_secret_name("my_PASS"));
	assert_true(tmpl_is_secret_name("passwd"));
	assert_true(tmpl_is_secret_name("enable_secret"));
	assert_true(tmpl_is_secret_name("api_token"));
	assert_false(tmpl_is_secret_name("pass"));
	assert_false(tmpl_is_secret_name("passage"));
	assert_false(tmpl_is_secret_name("bypass_"));
	assert_false(tmpl_is_secret_name("host"));

	/* the JSON-escaped form is masked too */
	tmpl_secret_add(&secrets, "p\"w\\1");
	tmpl_secret_add(&secrets, "");
	tmpl_secret_add(&secrets, NULL);
	assert_int_equal(secrets.len, 3);
	buf_puts(&b, "raw p\"w\\1 json {\"x\":\"p\\\"w\\\\1\"} twice \"{\\\"x\\\":\\\"p\\\\\\\"w\\\\\\\\1\\\"}\"");
	tmpl_mask(&b, &secrets);
	assert_string_equal(b.data, "raw *** json {\"x\":\"***\"} twice \"{\\\"x\\\":\\\"***\\\"}\"");
	/* a value JSON leaves as it is is registered once */
	tmpl_secret_add(&secrets, "plain");
	assert_int_equal(secrets.len, 4);
	/* two secrets of one name both stay */
	tmpl_secret_add(&secrets, "other");
	assert_int_equal(secrets.len, 5);

	/* a var named like a secret is registered when a template uses it */
	kvlist_free(&secrets);
	kvlist_set(&host, "my_pass", "hunter2");
	assert_renders("x ${my_pass|url}", &sc, TMPL_ENV_VALUE, &secrets, "x hunter2");
	assert_non_null(kvlist_get(&secrets, "hunter2"));
	buf_free(&b);
	kvlist_free(&secrets);
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
		cmocka_unit_test(test_shell_contexts),
		cmocka_unit_test(test_shell_env),
		cmocka_unit_test(test_shell_errors),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_secrets),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
