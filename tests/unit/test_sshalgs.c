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
	/* one table, two defaults: user certificates, no host certificates */
	assert_string_equal(sshalgs_known(SSHALGS_HOSTKEY), sshalgs_known(SSHALGS_PUBKEY));
	assert_true(sshalgs_list_has(sshalgs_default(SSHALGS_PUBKEY), "ssh-ed25519-cert-v01@openssh.com", 32));
	assert_false(sshalgs_list_has(sshalgs_default(SSHALGS_HOSTKEY), "ssh-ed25519-cert-v01@openssh.com", 32));
	assert_false(sshalgs_list_has(sshalgs_default(SSHALGS_PUBKEY), "ssh-rsa", 7));
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

/* A server's first bytes: a line before the identification, the
 * identification, then a KEXINIT with the given lists (kex, host key,
 * cipher both ways, mac both ways, the rest empty). */
static size_t kexinit(unsigned char *out, const char *const lists[6])
{
	size_t pos = 0, start;
	const char *pre = "hello\r\nSSH-2.0-OpenSSH_4.3\r\n";

	memcpy(out, pre, strlen(pre));
	pos = strlen(pre);
	start = pos;
	pos += 4;
	out[pos++] = 4;  /* padding length */
	out[pos++] = 20; /* SSH_MSG_KEXINIT */
	memset(out + pos, 0xAA, 16);
	pos += 16;
	for (int i = 0; i < 10; i++) {
		const char *l = i < 6 ? lists[i] : "";
		uint32_t n = (uint32_t)strlen(l);
		out[pos] = (unsigned char)(n >> 24), out[pos + 1] = (unsigned char)(n >> 16);
		out[pos + 2] = (unsigned char)(n >> 8), out[pos + 3] = (unsigned char)n;
		memcpy(out + pos + 4, l, n);
		pos += 4 + n;
	}
	out[pos++] = 0; /* first_kex_packet_follows */
	memset(out + pos, 0, 8); /* reserved + padding */
	pos += 8;
	{
		uint32_t plen = (uint32_t)(pos - start - 4);
		out[start] = (unsigned char)(plen >> 24), out[start + 1] = (unsigned char)(plen >> 16);
		out[start + 2] = (unsigned char)(plen >> 8), out[start + 3] = (unsigned char)plen;
	}
	return pos;
}

static void test_offer(void **state)
{
	static const char *const legacy[6] = {"diffie-hellman-group1-sha1,kex-strict-s-v00@openssh.com", "ssh-rsa",
	                                      "aes128-cbc,3des-cbc", "aes128-cbc", "hmac-sha1", "hmac-sha1"};
	static const char *const hostile[6] = {"curve25519-sha256", "ssh-rsa\x1b[2J", "x", "x", "y", "y"};
	const char *specs[SSHALGS_NMETHODS] = {NULL, NULL, NULL, NULL, NULL};
	unsigned char bytes[2048];
	struct sshalgs_offer o;
	struct buf why = BUF_INIT;
	size_t n = kexinit(bytes, legacy);

	(void)state;
	assert_int_equal(sshalgs_offer_parse(bytes, n, &o), 0);
	assert_string_equal(o.names[SSHALGS_KEX], "diffie-hellman-group1-sha1");
	assert_string_equal(o.names[SSHALGS_CIPHERS], "aes128-cbc,3des-cbc");
	assert_null(o.names[SSHALGS_PUBKEY]);
	sshalgs_offer_explain(&o, specs, &why);
	assert_non_null(strstr(why.data, "kex: the device offers only diffie-hellman-group1-sha1 (kex: "
	                                 "+diffie-hellman-group1-sha1 would reach it, a weak algorithm)"));
	assert_non_null(strstr(why.data, "; ciphers: the device offers only aes128-cbc,3des-cbc (ciphers: +aes128-cbc"));
	assert_null(strstr(why.data, "macs"));
	/* with the legacy names enabled, nothing to say */
	buf_reset(&why);
	specs[SSHALGS_KEX] = "+diffie-hellman-group1-sha1";
	specs[SSHALGS_HOSTKEY] = "ssh-rsa";
	specs[SSHALGS_CIPHERS] = "^3des-cbc";
	sshalgs_offer_explain(&o, specs, &why);
	assert_int_equal(why.len, 0);
	sshalgs_offer_free(&o);
	/* cut anywhere: no offer, no crash */
	for (size_t k = 0; k < n; k++)
		if (sshalgs_offer_parse(bytes, k, &o) == 0)
			fail_msg("parsed a KEXINIT cut at %zu of %zu", k, n);
	/* a device's escape sequence never comes back */
	n = kexinit(bytes, hostile);
	assert_int_equal(sshalgs_offer_parse(bytes, n, &o), 0);
	assert_null(o.names[SSHALGS_HOSTKEY]);
	sshalgs_offer_free(&o);
	buf_free(&why);
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
		cmocka_unit_test(test_offer),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
