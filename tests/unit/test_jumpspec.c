/* Unit tests for common/jumpspec.c: the jump chain grammar (users, host
 * names, [IPv6], ports, several hops, none) and what it refuses, since a
 * host var (data) may choose the chain: nothing that looks like an ssh
 * option or shell syntax passes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "jumpspec.h"

static void test_good(void **state)
{
	struct jumpspec j;
	struct err err;

	(void)state;
	assert_int_equal(jumpspec_parse("none", &j, &err), 0);
	assert_int_equal(j.n, 0);
	assert_int_equal(jumpspec_parse("", &j, &err), 0);
	assert_int_equal(j.n, 0);
	assert_int_equal(jumpspec_parse("ops@bastion1.example.com:2222,10.2.0.1,[fd00::1]:22,u_1@[::1]", &j, &err),
	                 0);
	assert_int_equal(j.n, 4);
	assert_string_equal(j.hops[0].user, "ops");
	assert_string_equal(j.hops[0].host, "bastion1.example.com");
	assert_string_equal(j.hops[0].port, "2222");
	assert_null(j.hops[1].user);
	assert_string_equal(j.hops[1].host, "10.2.0.1");
	assert_string_equal(j.hops[1].port, "22");
	assert_string_equal(j.hops[2].host, "fd00::1");
	assert_string_equal(j.hops[3].user, "u_1");
	assert_string_equal(j.hops[3].host, "::1");
	jumpspec_free(&j);
}

static void test_bad(void **state)
{
	static const struct {
		const char *spec, *want;
	} bad[] = {
		{"-oProxyCommand=touch", "jump hop 1: bad host"},
		{"a@b@c", "jump hop 1: bad host"},
		{"b1,", "jump hop 2: bad host"},
		{",b1", "jump hop 1: bad host"},
		{"b1:0", "jump hop 1: bad port"},
		{"b1:65536", "jump hop 1: bad port"},
		{"b1:22x", "jump hop 1: bad port"},
		{"b1:", "jump hop 1: bad port"},
		{"fd00::1", "jump hop 1: bad port"}, /* IPv6 needs [brackets] */
		{"[fd00::1", "jump hop 1: bad IPv6"},
		{"[nothex]:22", "jump hop 1: bad IPv6"},
		{"[::1]x", "jump hop 1: expected ':port'"},
		{"x y", "jump hop 1: bad host"},
		{"b1;touch /tmp/x", "jump hop 1: bad host"},
		{"$(id)@b1", "jump hop 1: bad user"},
		{"@b1", "jump hop 1: bad user"},
		{"a,b,c,d,e,f,g,h,i", "jump: more than 8 hops"},
	};
	struct jumpspec j;
	struct err err;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (jumpspec_parse(bad[i].spec, &j, &err) != -1)
			fail_msg("'%s' was accepted", bad[i].spec);
		if (strncmp(err.msg, bad[i].want, strlen(bad[i].want)) != 0)
			fail_msg("'%s': got '%s', want '%s...'", bad[i].spec, err.msg, bad[i].want);
		assert_int_equal(j.n, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
