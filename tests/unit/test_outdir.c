/* Unit tests for runner/outdir.c: host names map one to one to directory
 * names that are one safe path component, names that collided before
 * (a/b and a_b, . and _., long names cut alike, names alike but for case)
 * included; a decoded result's outputs land in one file per step. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "outdir.h"
#include "util.h"

static char *mapped(const char *host)
{
	struct buf b = BUF_INIT;

	outdir_host_name(&b, host);
	return buf_steal(&b);
}

static void assert_safe(const char *name)
{
	assert_true(name[0] != '\0');
	assert_null(strchr(name, '/'));
	assert_true(strcmp(name, ".") != 0 && strcmp(name, "..") != 0);
	assert_true(name[0] != '.');
	assert_true(strcmp(name, "ok.txt") != 0 && strcmp(name, "failed.txt") != 0);
	assert_true(strlen(name) < 200);
	for (const char *p = name; *p; p++)
		assert_true((unsigned char)*p > 0x20 && (unsigned char)*p < 0x7f);
}

static void test_plain_names_unchanged(void **state)
{
	const char *plain[] = {"rtr1", "core-rtr01.dc1", "10.0.0.1", "fe80::1", "a_b", "user@h", "x=y"};

	(void)state;
	for (size_t i = 0; i < sizeof(plain) / sizeof(plain[0]); i++) {
		char *m = mapped(plain[i]);
		assert_string_equal(m, plain[i]);
		free(m);
	}
}

static void test_one_to_one(void **state)
{
	char long_a[301], long_b[301];
	const char *names[] = {"a/b", "a_b", "a b", "a\nb", ".", "..", "_.", "_..", ".x", "_.x", "", "Web1",
	                       "web1", "WEB1", "ok.txt", "failed.txt", "OK.TXT", "a~b", "%2F", "../x", "_.._x",
	                       "\xff\xfe", "__", long_a, long_b};
	size_t n = sizeof(names) / sizeof(names[0]);
	char **m = xcalloc(n, sizeof(*m));

	(void)state;
	memset(long_a, 'n', 300);
	memcpy(long_b, long_a, 300);
	long_a[300] = long_b[300] = '\0';
	long_b[299] = 'm';
	for (size_t i = 0; i < n; i++) {
		m[i] = mapped(names[i]);
		assert_safe(m[i]);
	}
	/* distinct, even where a file system folds case */
	for (size_t i = 0; i < n; i++)
		for (size_t k = i + 1; k < n; k++)
			if (strcasecmp(m[i], m[k]) == 0)
				fail_msg("'%s' and '%s' both map to '%s' / '%s'", names[i], names[k], m[i], m[k]);
	/* a changed name keeps its readable part */
	assert_true(strncmp(m[0], "a_b~", 4) == 0);
	assert_true(strncmp(m[4], "_.~", 3) == 0);
	for (size_t i = 0; i < n; i++)
		free(m[i]);
	free(m);
}

/* DIR/REL's bytes, or NULL when there is no such file. */
static char *slurp(const char *dir, const char *rel)
{
	char *path = xasprintf("%s/%s", dir, rel);
	FILE *f = fopen(path, "r");
	struct buf b = BUF_INIT;
	char chunk[256];
	size_t n;

	free(path);
	if (!f)
		return NULL;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		buf_append(&b, chunk, n);
	fclose(f);
	return buf_steal(&b);
}

static void assert_file(const char *dir, const char *rel, const char *want)
{
	char *got = slurp(dir, rel);

	if (!want) {
		assert_null(got);
		return;
	}
	assert_non_null(got);
	assert_string_equal(got, want);
	free(got);
}

/* A command's stdout and stderr, an HTTP body, a step without output or
 * a name: what the view says each step has, each in its file. */
static void test_put_steps(void **state)
{
	char dir[] = "/tmp/fleetrun-outdir-unit-XXXXXX";
	struct proto_step steps[3] = {
		{.has = PROTO_STEP_NAME | PROTO_STEP_STDOUT | PROTO_STEP_STDERR,
		 .name = proto_cstr("show version"), .out = proto_cstr("v1\n"), .err = proto_cstr("warn\n")},
		{.has = PROTO_STEP_NAME | PROTO_STEP_BODY, .name = proto_cstr("api/x"), .out = proto_cstr("{}")},
		{.has = PROTO_STEP_KIND, .kind = proto_cstr("sleep")},
	};
	struct proto_result res = {.status = STATUS_OK, .steps = steps, .nsteps = 3};
	struct outdir d;
	struct err err;
	char *cmd;

	(void)state;
	assert_non_null(mkdtemp(dir));
	assert_int_equal(outdir_open(&d, dir, &err), 0);
	outdir_put(&d, "rtr1", STATUS_OK, &res);
	outdir_put(&d, "rtr2", STATUS_FAILED, NULL);
	outdir_close(&d);
	assert_file(dir, "rtr1/01-show_version.out", "v1\n");
	assert_file(dir, "rtr1/01-show_version.err", "warn\n");
	assert_file(dir, "rtr1/02-api_x.out", "{}");
	assert_file(dir, "rtr1/02-api_x.err", NULL);
	assert_file(dir, "rtr1/03-step.out", NULL);
	assert_file(dir, "ok.txt", "rtr1\n");
	assert_file(dir, "failed.txt", "rtr2\n");
	assert_null(slurp(dir, "rtr2"));
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_unchanged),
		cmocka_unit_test(test_one_to_one),
		cmocka_unit_test(test_put_steps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
