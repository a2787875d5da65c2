/* Unit tests for common/known_hosts.c: names, host patterns (lists,
 * wildcards, negation, hashed names), line parsing, the verdict for a
 * key (match, revoked, changed, unreadable, unknown), the supervisor's
 * check of a line to append. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>

#include "known_hosts.h"
#include "util.h"

/* An SSH wire-format key: string type, string body (fill x 32). */
static size_t blob_of(const char *type, unsigned char fill, unsigned char *out)
{
	size_t tl = strlen(type), n = 0;

	out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = (unsigned char)tl;
	memcpy(out + n, type, tl);
	n += tl;
	out[n++] = 0, out[n++] = 0, out[n++] = 0, out[n++] = 32;
	memset(out + n, fill, 32);
	return n + 32;
}

/* "type base64" of that key; malloced. */
static char *pub_of(const char *type, unsigned char fill)
{
	unsigned char blob[128];
	char b64[256];
	size_t n = blob_of(type, fill, blob);

	EVP_EncodeBlock((unsigned char *)b64, blob, (int)n);
	return xasprintf("%s %s", type, b64);
}

static char *hashed(const char *name)
{
	unsigned char salt[20], md[20];
	char s64[64], h64[64];
	unsigned int mdlen = 0;

	memset(salt, 7, sizeof(salt));
	HMAC(EVP_sha1(), salt, sizeof(salt), (const unsigned char *)name, strlen(name), md, &mdlen);
	EVP_EncodeBlock((unsigned char *)s64, salt, 20);
	EVP_EncodeBlock((unsigned char *)h64, md, 20);
	return xasprintf("|1|%s|%s", s64, h64);
}

static void test_name(void **state)
{
	char *a = kh_name("Router1.Example", "22"), *b = kh_name("10.0.0.1", "2222");

	(void)state;
	assert_string_equal(a, "router1.example");
	assert_string_equal(b, "[10.0.0.1]:2222");
	free(a);
	free(b);
}

static void test_patterns(void **state)
{
	char *h = hashed("[10.0.0.7]:2222");

	(void)state;
	assert_true(kh_hosts_match("a,b,c", "b"));
	assert_false(kh_hosts_match("a,b,c", "d"));
	assert_true(kh_hosts_match("*.example.net", "r1.example.net"));
	assert_false(kh_hosts_match("!bad.example.net,*.example.net", "bad.example.net"));
	assert_true(kh_hosts_match("!bad.example.net,*.example.net", "good.example.net"));
	assert_true(kh_hosts_match("[10.0.0.?]:2222", "[10.0.0.7]:2222"));
	assert_true(kh_hosts_match("ROUTER1", "router1"));
	assert_false(kh_hosts_match("10.0.0.7", "[10.0.0.7]:2222"));
	assert_false(kh_hosts_match("[10.0.0.7]:2222", "10.0.0.7"));
	assert_true(kh_hosts_match("*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab"));
	assert_false(kh_hosts_match("*a*a*a*a*a*a*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"));
	assert_true(kh_hosts_match(h, "[10.0.0.7]:2222"));
	assert_false(kh_hosts_match(h, "[10.0.0.8]:2222"));
	assert_false(kh_hosts_match("|1|!!|!!", "x"));
	free(h);
}

static void test_parse(void **state)
{
	struct kh_entry e;
	struct err err;
	char *pub = pub_of("ssh-ed25519", 1), *line;

	(void)state;
	assert_int_equal(kh_parse_line("", 0, 1, &e, &err), 0);
	assert_int_equal(kh_parse_line("  # comment", 11, 1, &e, &err), 0);
	line = xasprintf("@revoked * %s a comment", pub);
	assert_int_equal(kh_parse_line(line, strlen(line), 3, &e, &err), 1);
	assert_int_equal(e.marker, KH_MARK_REVOKED);
	assert_string_equal(e.hosts, "*");
	assert_string_equal(e.type, "ssh-ed25519");
	assert_int_equal(e.line, 3);
	kh_entry_free(&e);
	free(line);
	/* the key says it is ed25519, the line says RSA */
	line = xasprintf("h1 ssh-rsa %s", strchr(pub, ' ') + 1);
	assert_int_equal(kh_parse_line(line, strlen(line), 1, &e, &err), -1);
	assert_string_equal(e.hosts, "h1");
	assert_null(e.type);
	kh_entry_free(&e);
	free(line);
	assert_int_equal(kh_parse_line("h1 ssh-ed25519 !!!!", 19, 1, &e, &err), -1);
	assert_string_equal(e.hosts, "h1");
	kh_entry_free(&e);
	assert_int_equal(kh_parse_line("@bogus h2 ssh-ed25519 AAAA", 26, 1, &e, &err), -1);
	assert_string_equal(e.hosts, "h2");
	kh_entry_free(&e);
	free(pub);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static void test_check(void **state)
{
	char path[] = "/tmp/fleetrun-kh-unit-XXXXXX";
	int fd = mkstemp(path);
	unsigned char k1[128], k2[128];
	size_t n1 = blob_of("ssh-ed25519", 1, k1), n2 = blob_of("ssh-ed25519", 2, k2), line = 0;
	char *p1 = pub_of("ssh-ed25519", 1), *p2 = pub_of("ssh-ed25519", 2), *text, *aliases;
	struct kh_file f = {0};
	char *al = xstrdup("");

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* a 10 KB line of aliases first: it hides nothing */
	for (int i = 0; i < 500; i++) {
		char *x = xasprintf("%s%salias%03d.example", al, i ? "," : "", i);
		free(al);
		al = x;
	}
	aliases = al;
	text = xasprintf("%s %s\n"
	                 "lonely-token\n"
	                 "[r1]:2222 %s\n"
	                 "r1 %s\n"
	                 "@revoked [r2]:2222 %s\n"
	                 "[r2]:2222 %s\n"
	                 "[r3]:2222 ssh-ed25519 !!!!\n"
	                 "@cert-authority [r4]:2222 %s\n",
	                 aliases, p2, p1, p2, p1, p1, p1);
	write_file(path, text);
	assert_int_equal(kh_load(&f, path, false), 1);
	assert_int_equal(kh_load(&f, path, true), 0);
	assert_int_equal(kh_check(&f, "[r1]:2222", k1, n1, &line), KH_MATCH);
	assert_int_equal(line, 3);
	/* the plain r1 entry says k2, but only [r1]:2222 applies */
	assert_int_equal(kh_check(&f, "[r1]:2222", k2, n2, &line), KH_CHANGED);
	assert_int_equal(kh_check(&f, "r1", k2, n2, &line), KH_MATCH);
	assert_int_equal(kh_check(&f, "[r2]:2222", k1, n1, &line), KH_REVOKED);
	assert_int_equal(line, 5);
	assert_int_equal(kh_check(&f, "[r2]:2222", k2, n2, &line), KH_CHANGED);
	assert_int_equal(kh_check(&f, "[r3]:2222", k1, n1, &line), KH_UNREADABLE);
	assert_int_equal(line, 7);
	assert_int_equal(kh_check(&f, "[r4]:2222", k1, n1, &line), KH_CHANGED);
	assert_int_equal(kh_check(&f, "[r5]:2222", k1, n1, &line), KH_UNKNOWN);
	assert_int_equal(kh_check(&f, "alias499.example", k2, n2, &line), KH_MATCH);
	assert_true(kh_has_type(&f, "[r1]:2222", "ssh-ed25519"));
	assert_false(kh_has_type(&f, "[r1]:2222", "ssh-rsa"));
	assert_false(kh_has_type(&f, "[r4]:2222", "ssh-ed25519"));
	kh_free(&f);
	unlink(path);
	/* a missing file: every host unknown */
	assert_int_equal(kh_load(&f, path, false), 1);
	assert_int_equal(kh_check(&f, "[r1]:2222", k1, n1, &line), KH_UNKNOWN);
	kh_free(&f);
	free(text);
	free(aliases);
	free(p1);
	free(p2);
}

static void test_line_check(void **state)
{
	char *pub = pub_of("ssh-ed25519", 3), *l;
	struct err err;

	(void)state;
#define CHECK(want, ...)                                                              \
	do {                                                                          \
		l = xasprintf(__VA_ARGS__);                                           \
		assert_int_equal(kh_line_check(l, strlen(l), "[10.0.0.1]:2222", &err), want); \
		free(l);                                                              \
	} while (0)
	CHECK(0, "[10.0.0.1]:2222 %s", pub);
	CHECK(-1, "[10.0.0.2]:2222 %s", pub);
	CHECK(-1, "10.0.0.1 %s", pub);
	CHECK(-1, "* %s", pub);
	CHECK(-1, "[10.0.0.1]:2222,evil %s", pub);
	CHECK(-1, "@cert-authority [10.0.0.1]:2222 %s", pub);
	CHECK(-1, "[10.0.0.1]:2222 %s comment", pub);
	CHECK(-1, "[10.0.0.1]:2222  %s", pub);
	CHECK(-1, "[10.0.0.1]:2222 %s\n* %s", pub, pub);
	CHECK(-1, "[10.0.0.1]:2222 ssh-ed25519 AAAA");
#undef CHECK
	/* a name that would be read as patterns: never appended */
	l = xasprintf("* %s", pub);
	assert_int_equal(kh_line_check(l, strlen(l), "*", &err), -1);
	free(l);
	l = xasprintf("[a,b]:2222 %s", pub);
	assert_int_equal(kh_line_check(l, strlen(l), "[a,b]:2222", &err), -1);
	free(l);
	l = xasprintf("|1|x|y %s", pub);
	assert_int_equal(kh_line_check(l, strlen(l), "|1|x|y", &err), -1);
	free(l);
	l = xasprintf("router-1.example %s", pub);
	assert_int_equal(kh_line_check(l, strlen(l), "router-1.example", &err), 0);
	free(l);
	free(pub);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_name),
		cmocka_unit_test(test_patterns),
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_check),
		cmocka_unit_test(test_line_check),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
