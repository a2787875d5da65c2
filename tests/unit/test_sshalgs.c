/* Unit tests for common/sshalgs.c: OpenSSH's algorithm-list grammar
 * (a plain list replaces the default, +list appends, -list removes,
 * ^list puts first; * and ? patterns expanded in the table's order),
 * unknown names and empty results refused with the setting named and the
 * known names listed, the weak names a list enables beyond the default,
 * and the defaults themselves (no weak name, none of libssh2's own SHA-1
 * defaults), checked against the libssh2 the worker links: every name
 * the tables know, libssh2 knows. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <libssh2.h>

#include "sshalgs.h"
#include "util.h"

/* spec applied to method m gives list and weak (NULL: none). */
static void check(enum sshalgs_method m, const char *spec, const char *list, const char *weak)
{
	char *l = NULL, *w = NULL;
	struct err err = {{0}};

	if (sshalgs_apply(m, spec, &l, &w, &err) < 0)
		fail_msg("%s '%s': %s", sshalgs_setting(m), spec ? spec : "(null)", err.msg);
	assert_string_equal(l, list);
	if (weak)
		assert_non_null(w);
	if (weak)
		assert_string_equal(w, weak);
	else
		assert_null(w);
	free(l);
	free(w);
}

/* spec is refused with a message holding each of the words. */
static void check_error(enum sshalgs_method m, const char *spec, const char *word1, const char *word2)
{
	char *l = (char *)"untouched", *w = (char *)"untouched";
	struct err err = {{0}};

	assert_int_equal(sshalgs_apply(m, spec, &l, &w, &err), -1);
	assert_string_equal(l, "untouched");
	assert_string_equal(w, "untouched");
	if (!strstr(err.msg, word1) || (word2 && !strstr(err.msg, word2)))
		fail_msg("'%s': '%s' lacks '%s' / '%s'", spec, err.msg, word1, word2 ? word2 : "");
}

static void test_defaults(void **state)
{
	(void)state;
	check(SSHALGS_KEX, NULL, sshalgs_default(SSHALGS_KEX), NULL);
	check(SSHALGS_KEX, "", sshalgs_default(SSHALGS_KEX), NULL);
	assert_string_equal(sshalgs_default(SSHALGS_CIPHERS), "chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,"
	                                                      "aes256-ctr,aes128-gcm@openssh.com,aes256-gcm@openssh.com");
	/* libssh2's own default offers these; ours must not */
	for (int m = 0; m < SSHALGS_NMETHODS; m++) {
		const char *d = sshalgs_default((enum sshalgs_method)m);
		const char *p = d;
		while (p && *p) {
			const char *comma = strchr(p, ',');
			char name[64];
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			memcpy(name, p, n);
			name[n] = '\0';
			if (sshalgs_weak_why((enum sshalgs_method)m, name))
				fail_msg("default %s has weak %s", sshalgs_setting((enum sshalgs_method)m), name);
			assert_true(sshalgs_list_has(sshalgs_known((enum sshalgs_method)m), name, n));
			p = comma ? comma + 1 : NULL;
		}
	}
	assert_false(sshalgs_list_has(sshalgs_default(SSHALGS_KEX), "diffie-hellman-group14-sha1", 27));
	assert_false(sshalgs_list_has(sshalgs_default(SSHALGS_HOSTKEY), "ssh-rsa", 7));
	assert_true(sshalgs_list_has(sshalgs_default(SSHALGS_HOSTKEY), "rsa-sha2-256", 12));
}

static void test_replace(void **state)
{
	(void)state;
	check(SSHALGS_KEX, "curve25519-sha256", "curve25519-sha256", NULL);
	check(SSHALGS_HOSTKEY, "ssh-rsa,ssh-ed25519", "ssh-rsa,ssh-ed25519", "ssh-rsa");
	/* a name given twice is offered once */
	check(SSHALGS_CIPHERS, "aes128-cbc,aes128-cbc", "aes128-cbc", "aes128-cbc");
}

static void test_append(void **state)
{
	char *want = xasprintf("%s,diffie-hellman-group1-sha1", sshalgs_default(SSHALGS_KEX));

	(void)state;
	check(SSHALGS_KEX, "+diffie-hellman-group1-sha1", want, "diffie-hellman-group1-sha1");
	/* a default name appended stays where it was */
	check(SSHALGS_KEX, "+curve25519-sha256", sshalgs_default(SSHALGS_KEX), NULL);
	free(want);
}

static void test_remove(void **state)
{
	(void)state;
	check(SSHALGS_MACS, "-hmac-sha1*,hmac-sha2-512*",
	      "hmac-sha2-256-etm@openssh.com,hmac-sha2-256", NULL);
	/* a known name the default lacks removes nothing, and is no error */
	check(SSHALGS_HOSTKEY, "-ssh-rsa", sshalgs_default(SSHALGS_HOSTKEY), NULL);
	check_error(SSHALGS_CIPHERS, "-*", "ciphers", "leaves no algorithm");
}

static void test_first(void **state)
{
	(void)state;
	check(SSHALGS_CIPHERS, "^aes256-ctr,aes128-cbc",
	      "aes256-ctr,aes128-cbc,chacha20-poly1305@openssh.com,aes128-ctr,aes192-ctr,aes128-gcm@openssh.com,"
	      "aes256-gcm@openssh.com",
	      "aes128-cbc");
}

static void test_patterns(void **state)
{
	(void)state;
	/* expanded in the table's order, whatever order they match in */
	check(SSHALGS_CIPHERS, "aes*-cbc", "aes128-cbc,aes192-cbc,aes256-cbc", "aes128-cbc,aes192-cbc,aes256-cbc");
	check(SSHALGS_KEX, "curve25519-sha256?libssh.org", "curve25519-sha256@libssh.org", NULL);
	check(SSHALGS_KEX, "diffie-hellman-group1?-sha*",
	      "diffie-hellman-group16-sha512,diffie-hellman-group18-sha512,diffie-hellman-group14-sha256,"
	      "diffie-hellman-group14-sha1",
	      "diffie-hellman-group14-sha1");
	check(SSHALGS_MACS, "+hmac-md5*", "hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,"
	      "hmac-sha1-etm@openssh.com,hmac-sha2-256,hmac-sha2-512,hmac-sha1,hmac-md5,hmac-md5-96",
	      "hmac-md5,hmac-md5-96");
	/* no [...] or \ as fnmatch would read them: literal, so unknown */
	check_error(SSHALGS_CIPHERS, "aes[12]28-ctr", "unknown algorithm 'aes[12]28-ctr'", NULL);
}

static void test_errors(void **state)
{
	(void)state;
	check_error(SSHALGS_KEX, "+diffie-hellman-group1-sha2", "kex: unknown algorithm 'diffie-hellman-group1-sha2'",
	            "knows: curve25519-sha256, ");
	check_error(SSHALGS_HOSTKEY, "ssh-dss", "hostkey: unknown algorithm 'ssh-dss'", "ssh-rsa");
	check_error(SSHALGS_MACS, "hmac-sha1,,hmac-sha2-256", "macs: an empty name", NULL);
	check_error(SSHALGS_MACS, "+", "macs: an empty name", NULL);
	check_error(SSHALGS_PUBKEY, "!ssh-rsa", "pubkey: unknown algorithm '!ssh-rsa'", NULL);
	check_error(SSHALGS_CIPHERS, "nomatch*", "unknown algorithm 'nomatch*'", NULL);
	/* a host var's bytes are shown, not passed through */
	check_error(SSHALGS_KEX, "bad\nline", "unknown algorithm 'bad?line'", NULL);
}

static void test_weak_why(void **state)
{
	enum sshalgs_method m;

	(void)state;
	assert_non_null(sshalgs_weak_why(SSHALGS_KEX, "diffie-hellman-group1-sha1"));
	assert_non_null(sshalgs_weak_why(SSHALGS_PUBKEY, "ssh-rsa"));
	assert_non_null(sshalgs_weak_why(SSHALGS_CIPHERS, "3des-cbc"));
	assert_null(sshalgs_weak_why(SSHALGS_MACS, "hmac-sha1"));
	assert_null(sshalgs_weak_why(SSHALGS_MACS, "no-such"));
	assert_int_equal(sshalgs_method_parse("pubkey", &m), 0);
	assert_int_equal(m, SSHALGS_PUBKEY);
	assert_int_equal(sshalgs_method_parse("kexalgorithms", &m), -1);
}

/* Every known name is one libssh2 lists for its method (pubkey: its
 * host key list, as libssh2 has no list of signature algorithms). */
static void test_libssh2_knows(void **state)
{
	static const int methods[SSHALGS_NMETHODS] = {
		[SSHALGS_KEX] = LIBSSH2_METHOD_KEX,         [SSHALGS_HOSTKEY] = LIBSSH2_METHOD_HOSTKEY,
		[SSHALGS_CIPHERS] = LIBSSH2_METHOD_CRYPT_CS, [SSHALGS_MACS] = LIBSSH2_METHOD_MAC_CS,
		[SSHALGS_PUBKEY] = LIBSSH2_METHOD_HOSTKEY,
	};
	LIBSSH2_SESSION *s;

	(void)state;
	assert_int_equal(libssh2_init(0), 0);
	s = libssh2_session_init();
	assert_non_null(s);
	for (int m = 0; m < SSHALGS_NMETHODS; m++) {
		const char **algs = NULL, *p = sshalgs_known((enum sshalgs_method)m);
		int n = libssh2_session_supported_algs(s, methods[m], &algs);

		assert_true(n > 0);
		while (p && *p) {
			const char *comma = strchr(p, ',');
			size_t len = comma ? (size_t)(comma - p) : strlen(p);
			bool found = false;
			for (int k = 0; k < n; k++)
				found |= strlen(algs[k]) == len && !memcmp(algs[k], p, len);
			if (!found)
				fail_msg("%s: libssh2 does not know %.*s", sshalgs_setting((enum sshalgs_method)m), (int)len, p);
			p = comma ? comma + 1 : NULL;
		}
		libssh2_free(s, algs);
	}
	libssh2_session_free(s);
	libssh2_exit();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults), cmocka_unit_test(test_replace),  cmocka_unit_test(test_append),
		cmocka_unit_test(test_remove),   cmocka_unit_test(test_first),    cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_errors),   cmocka_unit_test(test_weak_why), cmocka_unit_test(test_libssh2_knows),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
