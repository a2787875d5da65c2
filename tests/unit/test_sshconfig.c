/* Unit tests for common/sshconfig.c: Host patterns (*, ?, negation,
 * several on a line), first value wins, IdentityFile collecting, Match
 * (host after HostName, originalhost, user, localuser, all, exec never
 * taken), Include (relative, globs, inside a block, loops), the %-tokens
 * and the path guard, keyword syntax (case, =, quotes), the ignored list
 * and errors that name file:line. Files live in a temporary HOME. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "sshconfig.h"
#include "util.h"

static char home[64];

static int setup(void **state)
{
	char ssh[96];

	(void)state;
	snprintf(home, sizeof(home), "/tmp/test-sshconfig-XXXXXX");
	if (!mkdtemp(home))
		return -1;
	snprintf(ssh, sizeof(ssh), "%s/.ssh", home);
	mkdir(ssh, 0700);
	setenv("HOME", home, 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", home);
	return system(cmd) == 0 ? 0 : -1;
}

/* Write HOME/rel. */
static void put(const char *rel, const char *text)
{
	char path[256];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", home, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, 0600);
}

/* Parse text as "cfg" (a user file) and resolve host: 0 or -1. */
static int resolve(const char *text, const struct sshconfig_query *q, struct sshconfig_host *out, struct err *err)
{
	struct sshconfig cfg = {0};
	int r = sshconfig_parse_text(&cfg, "cfg", text, strlen(text), true, 0, err);

	if (r == 0)
		r = sshconfig_resolve(&cfg, q, out, err);
	sshconfig_free(&cfg);
	return r;
}

/* The value of kw for host (NULL when not set), from text. Static. */
static const char *val(const char *text, const char *host, enum sshconfig_kw kw)
{
	static char v[512];
	struct sshconfig_query q = {.host = host, .local_user = "me"};
	struct sshconfig_host h = {0};
	struct err err = {{0}};
	bool set;

	if (resolve(text, &q, &h, &err) < 0)
		fail_msg("%s", err.msg);
	set = h.val[kw] != NULL;
	snprintf(v, sizeof(v), "%s", set ? h.val[kw] : "");
	sshconfig_host_free(&h);
	return set ? v : NULL;
}

/* Parsing text fails with err holding needle. */
static void assert_fails(const char *text, const char *needle)
{
	struct sshconfig cfg = {0};
	struct err err = {{0}};

	assert_int_equal(sshconfig_parse_text(&cfg, "cfg", text, strlen(text), true, 0, &err), -1);
	if (!strstr(err.msg, needle))
		fail_msg("'%s' does not hold '%s'", err.msg, needle);
	sshconfig_free(&cfg);
}

static void test_host_patterns(void **state)
{
	const char *c = "Host web? !web9 db*.example\n  Port 2200\n";

	(void)state;
	assert_string_equal(val(c, "web1", SSHCONFIG_PORT), "2200");
	assert_null(val(c, "web9", SSHCONFIG_PORT));  /* negated */
	assert_null(val(c, "web10", SSHCONFIG_PORT)); /* ? is one character */
	assert_string_equal(val(c, "db1.example", SSHCONFIG_PORT), "2200");
	/* Host lines match the name lowercased, as ssh does */
	assert_string_equal(val(c, "WEB1", SSHCONFIG_PORT), "2200");
	/* a comma is part of a Host pattern, not a separator (ssh -G agrees) */
	assert_null(val("Host a,b\n Port 5\n", "b", SSHCONFIG_PORT));
	/* only a negation: nothing matches */
	assert_null(val("Host !x\n Port 5\n", "y", SSHCONFIG_PORT));
	/* a pathological pattern ends quickly */
	assert_null(val("Host *a*a*a*a*a*a*a*a*a*a*a*a*a*b\n Port 5\n", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
	                SSHCONFIG_PORT));
}

static void test_first_wins(void **state)
{
	const char *c = "Host web1\n  User first\n  IdentityFile /k1\nHost *\n  User second\n  Port 1\n"
	                "  IdentityFile /k2\n";
	struct sshconfig_query q = {.host = "web1"};
	struct sshconfig_host h = {0};
	struct err err;

	(void)state;
	assert_string_equal(val(c, "web1", SSHCONFIG_USER), "first");
	assert_string_equal(val(c, "other", SSHCONFIG_USER), "second");
	assert_int_equal(resolve(c, &q, &h, &err), 0);
	assert_int_equal(h.nidentity_files, 2);
	assert_string_equal(h.identity_files[0], "/k1");
	assert_string_equal(h.identity_files[1], "/k2");
	assert_string_equal(h.where[SSHCONFIG_USER], "cfg:2");
	sshconfig_host_free(&h);
	/* ProxyJump and ProxyCommand exclude each other: the first wins */
	c = "Host *\n ProxyCommand nc %h %p\n ProxyJump b\n";
	assert_null(val(c, "x", SSHCONFIG_PROXYJUMP));
	assert_string_equal(val(c, "x", SSHCONFIG_PROXYCOMMAND), "nc %h %p");
}

static void test_syntax(void **state)
{
	(void)state;
	assert_string_equal(val("hOsTnAmE=10.0.0.1\n", "x", SSHCONFIG_HOSTNAME), "10.0.0.1");
	assert_string_equal(val("Port = 2222 # comment\n", "x", SSHCONFIG_PORT), "2222");
	assert_string_equal(val("\"User\" \"a b\"\n", "x", SSHCONFIG_USER), "a b");
	assert_string_equal(val("  # only a comment\n\nUser u\r\n", "x", SSHCONFIG_USER), "u");
	assert_string_equal(val("StrictHostKeyChecking no\n", "x", SSHCONFIG_STRICTHOSTKEYCHECKING), "false");
	assert_string_equal(val("ConnectTimeout 1m30s\n", "x", SSHCONFIG_CONNECTTIMEOUT), "90");
	assert_string_equal(val("IdentitiesOnly TRUE\n", "x", SSHCONFIG_IDENTITIESONLY), "yes");
	assert_string_equal(val("KexAlgorithms +diffie-hellman-group1-sha1\n", "x", SSHCONFIG_KEXALGORITHMS),
	                    "+diffie-hellman-group1-sha1");
	assert_string_equal(val("PubkeyAcceptedKeyTypes -ssh-rsa\n", "x", SSHCONFIG_PUBKEYACCEPTEDALGORITHMS),
	                    "-ssh-rsa");
}

static void test_match(void **state)
{
	const char *c = "Host alias\n  HostName real.example\n"
	                "Match host real.example\n  Port 1\n"
	                "Match originalhost alias user bob\n  Port 2\n"
	                "Match originalhost alias\n  Port 3\n";
	struct sshconfig_query q = {.host = "alias", .user = "bob"};
	struct sshconfig_host h = {0};
	struct err err;

	(void)state;
	/* Match host sees the HostName set above it */
	assert_string_equal(val(c, "alias", SSHCONFIG_PORT), "1");
	c = "Match originalhost alias user bob\n  Port 2\nMatch originalhost alias\n  Port 3\n";
	assert_string_equal(val(c, "alias", SSHCONFIG_PORT), "3"); /* user is "me" */
	assert_int_equal(resolve(c, &q, &h, &err), 0);                 /* user given: bob */
	assert_string_equal(h.val[SSHCONFIG_PORT], "2");
	sshconfig_host_free(&h);
	assert_string_equal(val("Match localuser me\n Port 4\n", "x", SSHCONFIG_PORT), "4");
	assert_string_equal(val("Match !host x*\n Port 5\n", "y", SSHCONFIG_PORT), "5");
	assert_null(val("Match !host x*\n Port 5\n", "xx", SSHCONFIG_PORT));
	assert_string_equal(val("Match host a,!b*,c*\n Port 6\n", "c1", SSHCONFIG_PORT), "6");
	assert_null(val("Match host a,!b*,b*\n Port 6\n", "b1", SSHCONFIG_PORT));
	assert_string_equal(val("Match all\n Port 7\n", "x", SSHCONFIG_PORT), "7");
	/* exec is never run: its block never applies */
	assert_null(val("Match exec \"touch /tmp/pwn\"\n Port 8\n", "x", SSHCONFIG_PORT));
	assert_null(val("Match !exec false host x\n Port 8\n", "x", SSHCONFIG_PORT));
}

static void test_ignored(void **state)
{
	const char *c = "Host *\n SendEnv LANG\n ForwardX11Timeout 5\n Match exec true\n"
	                "  RemoteCommand ls\n  forwardx11timeout 6\n";
	struct sshconfig cfg = {0};
	struct err err;

	(void)state;
	assert_int_equal(sshconfig_parse_text(&cfg, "cfg", c, strlen(c), true, 0, &err), 0);
	/* each once, with where it was first met; SendEnv is quiet */
	assert_string_equal(sshconfig_ignored(&cfg),
	                    "ForwardX11Timeout (cfg:3), Match exec (cfg:4), RemoteCommand (cfg:5)");
	sshconfig_free(&cfg);
}

static void test_tokens(void **state)
{
	const char *c = "Host *\n HostName %h.example\n User bob\n Port 2022\n"
	                " IdentityFile ~/.ssh/%h_%r_%p_%n_%u_%%\n IdentityFile %d/k\n"
	                " UserKnownHostsFile ~/kh/%n \"/a b/kh\"\n";
	struct sshconfig_query q = {.host = "web1", .local_user = "me"};
	struct sshconfig_host h = {0};
	struct err err;
	char want[256];

	(void)state;
	assert_int_equal(resolve(c, &q, &h, &err), 0);
	assert_string_equal(h.val[SSHCONFIG_HOSTNAME], "web1.example");
	snprintf(want, sizeof(want), "%s/.ssh/web1.example_bob_2022_web1_me_%%", home);
	assert_string_equal(h.identity_files[0], want);
	snprintf(want, sizeof(want), "%s/k", home);
	assert_string_equal(h.identity_files[1], want);
	snprintf(want, sizeof(want), "%s/kh/web1", home);
	assert_string_equal(h.known_hosts, want);
	sshconfig_host_free(&h);
	/* given values win and are what the tokens see */
	q.user = "given";
	q.hostname = "10.0.0.9";
	assert_int_equal(resolve("IdentityFile /k/%h-%r\n", &q, &h, &err), 0);
	assert_string_equal(h.identity_files[0], "/k/10.0.0.9-given");
	sshconfig_host_free(&h);
	/* unknown token: an error naming file:line */
	assert_int_equal(resolve("\nIdentityFile /k/%Z\n", &q, &h, &err), -1);
	assert_non_null(strstr(err.msg, "cfg:2"));
	/* a name that would climb out of the directory is refused */
	q.user = "..";
	assert_int_equal(resolve("IdentityFile /keys/%r/id\n", &q, &h, &err), -1);
	assert_non_null(strstr(err.msg, "cannot be part of a file name"));
	q.user = NULL;
	q.host = "..";
	assert_int_equal(resolve("UserKnownHostsFile /kh/%n\n", &q, &h, &err), -1);
}

static void test_include(void **state)
{
	struct sshconfig cfg = {0};
	struct sshconfig_query q = {.host = "web1"};
	struct sshconfig_host h = {0};
	struct err err;
	char path[256];

	(void)state;
	put(".ssh/a.conf", "Host web*\n  Port 2001\nHost *\n  User fromA\n");
	put(".ssh/b.conf", "User fromB\nCiphers aes128-ctr\n");
	/* relative to ~/.ssh, globbed in order; inside a block that does not
	 * apply, an included file's blocks never apply either */
	put(".ssh/config", "Host nomatch\n  Include b.conf\nHost *\n  Include *.conf\n  User last\n");
	snprintf(path, sizeof(path), "%s/.ssh/config", home);
	assert_int_equal(sshconfig_load(&cfg, path, &err), 0);
	assert_int_equal(sshconfig_resolve(&cfg, &q, &h, &err), 0);
	assert_string_equal(h.val[SSHCONFIG_PORT], "2001");
	assert_string_equal(h.val[SSHCONFIG_USER], "fromA");
	assert_string_equal(h.val[SSHCONFIG_CIPHERS], "aes128-ctr");
	snprintf(path, sizeof(path), "%s/.ssh/a.conf:2", home);
	assert_string_equal(h.where[SSHCONFIG_PORT], path);
	sshconfig_host_free(&h);
	sshconfig_free(&cfg);
	/* the default: ~/.ssh/config first */
	assert_int_equal(sshconfig_load(&cfg, NULL, &err), 0);
	assert_int_equal(sshconfig_resolve(&cfg, &q, &h, &err), 0);
	assert_string_equal(h.val[SSHCONFIG_PORT], "2001");
	sshconfig_host_free(&h);
	sshconfig_free(&cfg);
	/* none reads nothing */
	assert_int_equal(sshconfig_load(&cfg, "none", &err), 0);
	assert_int_equal(cfg.ndirs, 0);
	sshconfig_free(&cfg);
	/* a loop is an error naming the file */
	put(".ssh/loop.conf", "Port 1\nInclude loop2.conf\n");
	put(".ssh/loop2.conf", "\nInclude loop.conf\n");
	assert_int_equal(sshconfig_load(&cfg, "~/.ssh/loop.conf", &err), -1);
	snprintf(path, sizeof(path), "%s/.ssh/loop2.conf:2: Include loop", home);
	if (!strstr(err.msg, path))
		fail_msg("%s", err.msg);
	sshconfig_free(&cfg);
	/* a file others may write is refused: it could hold a ProxyCommand */
	put(".ssh/open.conf", "Port 1\n");
	snprintf(path, sizeof(path), "%s/.ssh/open.conf", home);
	chmod(path, 0666);
	assert_int_equal(sshconfig_load(&cfg, path, &err), -1);
	assert_non_null(strstr(err.msg, "bad owner or permissions"));
	sshconfig_free(&cfg);
	/* a file the job names must exist */
	assert_int_equal(sshconfig_load(&cfg, "~/.ssh/missing", &err), -1);
	sshconfig_free(&cfg);
}

static void test_errors(void **state)
{
	(void)state;
	assert_fails("Host x\n  Port 0\n", "cfg:2: bad port '0'");
	assert_fails("Port 70000\n", "cfg:1: bad port");
	assert_fails("\n\nUser \"abc\n", "cfg:3: unterminated quote");
	assert_fails("Match foo x\n", "cfg:1: unsupported Match criterion 'foo'");
	assert_fails("Match all host x\n", "cfg:1: Match all cannot be combined");
	assert_fails("Match host\n", "cfg:1: Match host needs an argument");
	assert_fails("Host\n", "cfg:1: no argument after keyword 'Host'");
	assert_fails("User a b\n", "cfg:1: User: expected one value");
	assert_fails("IdentitiesOnly maybe\n", "cfg:1: IdentitiesOnly 'maybe': expected yes or no");
	assert_fails("StrictHostKeyChecking sometimes\n", "expected yes, no, off, ask or accept-new");
	assert_fails("ConnectTimeout soon\n", "cfg:1: ConnectTimeout 'soon': expected a time");
	{
		static const char nul[] = "User a\0b\n";
		struct sshconfig cfg = {0};
		struct err err;

		assert_int_equal(sshconfig_parse_text(&cfg, "cfg", nul, sizeof(nul) - 1, true, 0, &err), -1);
		assert_non_null(strstr(err.msg, "NUL"));
		sshconfig_free(&cfg);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_host_patterns),
		cmocka_unit_test(test_first_wins),
		cmocka_unit_test(test_syntax),
		cmocka_unit_test(test_match),
		cmocka_unit_test(test_ignored),
		cmocka_unit_test(test_tokens),
		cmocka_unit_test(test_include),
		cmocka_unit_test(test_errors),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
