/* Unit tests for runner/outdir.c: host names map one to one to directory
 * names that are one safe path component, names that collided before
 * (a/b and a_b, . and _., long names cut alike, names alike but for case)
 * included. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_plain_names_unchanged),
		cmocka_unit_test(test_one_to_one),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
