/* Unit tests for the inventory sources and the targets over them:
 * runner/inventory_text.c, inventory_yaml.c, hostname.c (the one name
 * check), and targets.c (-l, and targets_open/next over a mix of sources).
 * Range expansion and folding are in test_hostrange.c. Files are written
 * under a mkdtemp directory that the group teardown removes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "hostname.h"
#include "targets.h"

/* No test expects more names than this from a small pattern or file. */
#define MAX_NAMES 1000

static char tmpdir[] = "/tmp/fleetrun-test-inventory-XXXXXX";
static char *tmpfiles[64];
static size_t ntmpfiles;

static int group_setup(void **state)
{
	(void)state;
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < ntmpfiles; i++) {
		unlink(tmpfiles[i]);
		free(tmpfiles[i]);
	}
	ntmpfiles = 0;
	return rmdir(tmpdir);
}

/* Writes text to a new file named NAME under the temp dir; returns its
 * path, which the teardown removes. */
static const char *write_file(const char *name, const char *text)
{
	char *path = xasprintf("%s/%zu-%s", tmpdir, ntmpfiles, name);
	FILE *fp = fopen(path, "w");

	assert_non_null(fp);
	assert_int_equal(fputs(text, fp) >= 0, 1);
	assert_int_equal(fclose(fp), 0);
	assert_true(ntmpfiles < sizeof(tmpfiles) / sizeof(tmpfiles[0]));
	tmpfiles[ntmpfiles++] = path;
	return path;
}

/* Opens the given sources; every host as "name" or "name(k=v,...)[g,...]"
 * on its own line (malloced). */
static char *collect(const char *const *inv, size_t ninv, const char *const *pat, size_t npat,
		     const char *limit)
{
	struct targets_opts o = {.inventories = inv, .ninventories = ninv, .patterns = pat, .npatterns = npat, .limit = limit};
	struct targets *t = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	struct host h;
	int k = 0, n = 0;

	if (targets_open(&o, &t, &err) < 0)
		fail_msg("targets_open: %s", err.msg);
	while (n++ < MAX_NAMES && (k = targets_next(t, &h, &err)) == 1) {
		buf_puts(&b, h.name);
		for (size_t i = 0; i < h.vars.len; i++)
			buf_printf(&b, "%s%s=%s", i ? "," : "(", h.vars.items[i].key, h.vars.items[i].value);
		if (h.vars.len)
			buf_putc(&b, ')');
		for (size_t i = 0; i < h.ngroups; i++)
			buf_printf(&b, "%s%s", i ? "," : "[", h.groups[i]);
		if (h.ngroups)
			buf_putc(&b, ']');
		buf_putc(&b, '\n');
		host_free(&h);
	}
	if (k < 0)
		fail_msg("targets_next: %s", err.msg);
	targets_close(t);
	return buf_steal(&b);
}

static void assert_targets(const char *const *inv, size_t ninv, const char *const *pat, size_t npat,
			   const char *limit, const char *want)
{
	char *got = collect(inv, ninv, pat, npat, limit);
	assert_string_equal(got, want);
	free(got);
}

/* The first error of an inventory file holding text; want has "%s" where
 * the path goes. */
static void assert_file_error(const char *name, const char *text, const char *want_fmt)
{
	const char *path = write_file(name, text);
	struct targets_opts o = {.inventories = &path, .ninventories = 1};
	struct targets *t = NULL;
	struct err err = {{0}};
	struct host h;
	char want[1024];
	int k = 0, n = 0;

	snprintf(want, sizeof(want), want_fmt, path);
	if (targets_open(&o, &t, &err) == 0) {
		while (n++ < MAX_NAMES && (k = targets_next(t, &h, &err)) == 1)
			host_free(&h);
		targets_close(t);
		assert_int_equal(k, -1);
	}
	assert_string_equal(err.msg, want);
}

/* ------------------------------------------------------------------ */

static void test_text_inventory(void **state)
{
	const char *path = write_file("hosts.txt",
		"# a comment line\n"
		"\n"
		"   \t\n"
		"admin@rtr1:2222 site=dc1 role=\"core router\"  # trailing comment\n"
		"rtr2 note=a#b empty= q=\"say \\\"hi\\\" \\\\ ok\"\n"
		"  [::1]:22 kind=v6\n"
		"::1\n"
		"fe80::1%eth0\n"
		"ops@[2001:db8::1]\n"
		"sw[01-03] site=dc2\n"
		"\trtr3\tansible_host=10.0.0.3 ansible_port=2200 ansible_user=x user=y\r\n"
		"a@b@rtr4 # user@ is up to the last '@'\n");

	(void)state;
	assert_targets(&path, 1, NULL, 0, NULL,
		"rtr1(user=admin,port=2222,site=dc1,role=core router)\n"
		"rtr2(note=a#b,empty=,q=say \"hi\" \\ ok)\n"
		"::1(port=22,kind=v6)\n"
		"::1\n"
		"fe80::1%eth0\n"
		"2001:db8::1(user=ops)\n"
		"sw01(site=dc2)\n"
		"sw02(site=dc2)\n"
		"sw03(site=dc2)\n"
		"rtr3(address=10.0.0.3,port=2200,user=y)\n"
		"rtr4(user=a@b)\n");
}

/* key="" is an empty value, not whatever the heap held (found by
 * tests/fuzz/fuzz_inventory; under ASan the old code read past the
 * buffer). */
static void test_text_quoted_empty(void **state)
{
	const char *path = write_file("empty.txt", "rtr1 a=\"\" b=x c=\"\"\n");

	(void)state;
	assert_targets(&path, 1, NULL, 0, NULL, "rtr1(a=,b=x,c=)\n");
}

static void test_text_errors(void **state)
{
	(void)state;
	assert_file_error("e1.txt", "rtr1:70000\n", "%s:1:6: bad port '70000' (expected a number in 1..65535)");
	assert_file_error("e2.txt", "ok\nrtr1:\n", "%s:2:6: bad port '' (expected a number in 1..65535)");
	assert_file_error("e3.txt", "ok\n\nrtr1 foo\n", "%s:3:9: end of line after 'foo' (expected key=value)");
	assert_file_error("e4.txt", "rtr1 a=\"x y\n", "%s:1:8: unterminated quoted value (expected a closing '\"')");
	assert_file_error("e5.txt", "rtr[5-1] a=b\n", "%s:1:5: reversed range '5-1' (expected start <= end)");
	assert_file_error("e6.txt", "rtr[01-\n", "%s:1:4: unbalanced '['");
	assert_file_error("e7.txt", "rtr1 1x=2\n",
			  "%s:1:6: unexpected '1' (expected key=value, with a key of letters, digits and '_')");
	assert_file_error("e8.txt", "rtr$1\n",
			  "%s:1:4: unexpected '$' in host name (expected letters, digits, '.', '-', '_', a range like [01-10] or an IPv4/IPv6 address)");
	assert_file_error("e9.txt", "x@[::zz]:22\n",
			  "%s:1:4: bad IPv6 address '::zz' (expected [ADDRESS] or [ADDRESS]:PORT)");
	assert_file_error("e10.txt", "@rtr1\n", "%s:1:1: empty user before '@' (expected user@host)");
	assert_file_error("e11.txt", "a,b\n",
			  "%s:1:2: unexpected ',' in host name (expected letters, digits, '.', '-', '_', a range like [01-10] or an IPv4/IPv6 address)");
	assert_file_error("e12.txt", "rtr1 port=0\n", "%s:1:11: bad port '0' (expected a number in 1..65535)");
	assert_file_error("e13.txt", "rtr1 a=\"b\"c\n", "%s:1:11: unexpected 'c' after quoted value (expected a space)");
	assert_file_error("e15.txt", "rtr1 a-b=1\n", "%s:1:7: unexpected '-' after 'a' (expected key=value)");
	assert_file_error("e14.txt", "[::1]x\n", "%s:1:6: unexpected 'x' after ']' (expected :PORT or a space)");
}

/* A bad line is reported, and the next call goes on after it. */
static void test_text_error_then_more(void **state)
{
	const char *path = write_file("cont.txt", "a\nb:0\nc\n");
	struct targets_opts o = {.inventories = &path, .ninventories = 1};
	struct targets *t = NULL;
	struct err err = {{0}};
	struct host h;
	char want[512];

	(void)state;
	assert_int_equal(targets_open(&o, &t, &err), 0);
	assert_int_equal(targets_next(t, &h, &err), 1);
	assert_string_equal(h.name, "a");
	host_free(&h);
	assert_int_equal(targets_next(t, &h, &err), -1);
	snprintf(want, sizeof(want), "%s:2:3: bad port '0' (expected a number in 1..65535)", path);
	assert_string_equal(err.msg, want);
	assert_int_equal(targets_next(t, &h, &err), 1);
	assert_string_equal(h.name, "c");
	host_free(&h);
	assert_int_equal(targets_next(t, &h, &err), 0);
	targets_close(t);
}

/* ------------------------------------------------------------------ */

static const char yaml_inv[] =
	"all:\n"
	"  vars:\n"
	"    ntp: 10.0.0.1\n"
	"    site: global\n"
	"    ansible_user: ops\n"
	"  hosts:\n"
	"    jump1:\n"
	"      ansible_host: 192.0.2.10\n"
	"      ansible_port: 2222\n"
	"  children:\n"
	"    routers:\n"
	"      vars:\n"
	"        site: routers\n"
	"        platform: ios\n"
	"      hosts:\n"
	"        rtr1:\n"
	"          site: rtr1-own\n"
	"        dual:\n"
	"        rtr2:\n"
	"      children:\n"
	"        core:\n"
	"          vars: {platform: iosxr}\n"
	"          hosts:\n"
	"            rtr2:\n"
	"              ansible_user: admin\n"
	"            rtr3: ~\n"
	"    web:\n"
	"      hosts:\n"
	"        www[01:03].example.com:\n"
	"          tier: front\n"
	"        rtr1:\n"
	"        dual: {}\n"
	"      vars:\n"
	"        list_var: [1, 2]\n"
	"        site: web\n";

static void test_yaml_inventory(void **state)
{
	const char *path = write_file("inv.yml", yaml_inv);

	(void)state;
	/* Precedence: all < routers/web (same depth, by name) < core <
	 * the host's own vars. A host in two groups comes once. */
	assert_targets(&path, 1, NULL, 0, NULL,
		"jump1(ntp=10.0.0.1,site=global,user=ops,address=192.0.2.10,port=2222)\n"
		"rtr1(ntp=10.0.0.1,site=rtr1-own,user=ops,platform=ios)[routers,web]\n"
		"dual(ntp=10.0.0.1,site=web,user=ops,platform=ios)[routers,web]\n"
		"rtr2(ntp=10.0.0.1,site=routers,user=admin,platform=iosxr)[routers,core]\n"
		"rtr3(ntp=10.0.0.1,site=routers,user=ops,platform=iosxr)[routers,core]\n"
		"www01.example.com(ntp=10.0.0.1,site=web,user=ops,tier=front)[web]\n"
		"www02.example.com(ntp=10.0.0.1,site=web,user=ops,tier=front)[web]\n"
		"www03.example.com(ntp=10.0.0.1,site=web,user=ops,tier=front)[web]\n");
	/* A parent group selects the hosts of its children. */
	assert_targets(&path, 1, NULL, 0, "routers:!core", "rtr1(ntp=10.0.0.1,site=rtr1-own,user=ops,platform=ios)[routers,web]\n"
		"dual(ntp=10.0.0.1,site=web,user=ops,platform=ios)[routers,web]\n");
}

static void test_yaml_shapes(void **state)
{
	const char *a = write_file("a.yaml",
		"all:\n"
		"  hosts:\n"
		"    'n[1-2]':\n"
		"    \"[::1]\":\n"
		"    w[1:5:2]:\n"
		"other:\n"
		"  vars: {site: x}\n"
		"  hosts: {o1: null}\n");
	/* A group reached again through an alias adds its parent, once. */
	const char *alias = write_file("alias.yml",
		"all:\n"
		"  children:\n"
		"    g: &g\n"
		"      hosts: {h1: {v: 1}}\n"
		"    k:\n"
		"      children:\n"
		"        g2: *g\n"
		"        g3: *g\n");
	const char *empty = write_file("empty.yml", "");
	const char *only_all = write_file("all.yml", "all:\n");

	(void)state;
	assert_targets(&a, 1, NULL, 0, NULL, "n1\nn2\n[::1]\nw1\nw3\nw5\no1(site=x)[other]\n");
	assert_targets(&alias, 1, NULL, 0, NULL, "h1(v=1)[g,k,g2,g3]\n");
	assert_targets(&empty, 1, NULL, 0, NULL, "");
	assert_targets(&only_all, 1, NULL, 0, NULL, "");
}

/* The one host-name check: 0, or the 1-based column and the message. */
static void assert_name(const char *name, unsigned flags, int want_col, const char *want_part)
{
	struct err why = {{0}};
	size_t col = 99;
	int k = hostname_check(name, strlen(name), flags, &col, &why);

	if (want_col == 0) {
		if (k != 0)
			fail_msg("'%s' refused: %s", name, why.msg);
		return;
	}
	if (k != -1)
		fail_msg("'%s' accepted", name);
	assert_int_equal((int)col + 1, want_col);
	if (!strstr(why.msg, want_part))
		fail_msg("'%s': got \"%s\", want \"...%s...\"", name, why.msg, want_part);
}

static void test_host_name_check(void **state)
{
	char long_name[HOSTNAME_MAX_LEN + 2];

	(void)state;
	/* names, IPv4, IPv6 bare, bracketed and with a zone */
	assert_name("core-rtr_01.dc1", 0, 0, NULL);
	assert_name("10.0.0.1", 0, 0, NULL);
	assert_name("::1", 0, 0, NULL);
	assert_name("[2001:db8::1]", 0, 0, NULL);
	assert_name("fe80::1%eth0", 0, 0, NULL);
	assert_name("rtr[01-40].dc[1-2]", HOSTNAME_RANGES, 0, NULL);
	assert_name("www[01:50:2]", HOSTNAME_RANGES, 0, NULL);
	/* every refused class, at its column */
	assert_name("", 0, 1, "empty host name");
	assert_name("a\001b", 0, 2, "unexpected control character 0x01 in host name");
	assert_name("a\033]0;x\007", 0, 2, "control character 0x1B");
	assert_name("a\177", 0, 2, "control character 0x7F");
	assert_name("a b", 0, 2, "unexpected space in host name");
	assert_name("a\tb", 0, 2, "unexpected tab in host name");
	assert_name("a\nb", 0, 2, "control character 0x0A");
	assert_name("a\"b", 0, 2, "unexpected '\"'");
	assert_name("a'b", 0, 2, "unexpected '''");
	assert_name("a`b`", 0, 2, "unexpected '`'");
	assert_name("../etc/passwd", 0, 1, "starting with '.'");
	assert_name("etc/passwd", 0, 4, "unexpected '/'");
	assert_name("a$(id)", 0, 2, "unexpected '$'");
	assert_name("a;id", 0, 2, "unexpected ';'");
	assert_name("caf\303\251", 0, 4, "non-ASCII byte 0xC3");
	assert_name("-oProxyCommand=x", 0, 1, "starting with '-'");
	assert_name("..", 0, 1, "starting with '.'");
	assert_name(".hidden", 0, 1, "starting with '.'");
	assert_name("a:b", 0, 2, "unexpected ':'");
	assert_name("fe80::1%e;x", 0, 5, "unexpected ':'"); /* a zone is a name too */
	assert_name("rtr[1-2]", 0, 4, "unexpected '['");  /* no ranges where none are taken */
	assert_name("r$[1-2]", HOSTNAME_RANGES, 2, "unexpected '$'");
	memset(long_name, 'a', sizeof(long_name) - 1);
	long_name[sizeof(long_name) - 1] = '\0';
	assert_name(long_name, 0, HOSTNAME_MAX_LEN + 1, "longer than 255 characters");
	long_name[HOSTNAME_MAX_LEN] = '\0';
	assert_name(long_name, 0, 0, NULL);
}

/* The same check in every source, with its place. */
static void test_host_names_everywhere(void **state)
{
	const char *pats[] = {"ok1,r\033[31m"};
	struct targets_opts o = {.patterns = pats, .npatterns = 1};
	struct targets *t = NULL;
	struct err err = {{0}};

	(void)state;
	assert_file_error("n1.txt", "ok\nr;x\n",
			  "%s:2:2: unexpected ';' in host name (expected letters, digits, '.', '-', '_', a range like "
			  "[01-10] or an IPv4/IPv6 address)");
	assert_file_error("n2.yml", "all:\n  hosts:\n    ok:\n    \"r/x\":\n",
			  "%s:4:7: host 'r/x': unexpected '/' in host name (expected letters, digits, '.', '-', '_' or "
			  "an IPv4/IPv6 address)");
	assert_file_error("n3.yml", "all:\n  hosts:\n    \"a\\x1b[1-2]\":\n",
			  "%s:3:7: host 'a?[1-2]': unexpected control character 0x1B in host name (expected letters, "
			  "digits, '.', '-', '_', a range like [01-10] or an IPv4/IPv6 address)");
	assert_file_error("n4.yml", "all:\n  hosts:\n    h1: {address: 'x y'}\n",
			  "%s:3:19: address 'x y': unexpected space in host name (expected letters, digits, '.', '-', "
			  "'_' or an IPv4/IPv6 address) at character 2");
	/* -H: the argument named, its control bytes not echoed */
	assert_int_equal(targets_open(&o, &t, &err), -1);
	assert_string_equal(err.msg, "-H 'ok1,r?[31m': unexpected control character 0x1B in host name (expected "
			    "letters, digits, '.', '-', '_', a range like [01-10] or an IPv4/IPv6 address) at column 6");
}

/* Nesting past YAMLDEPTH_MAX is refused before the tree is built; a range
 * repeated under many groups is refused before it expands. */
static void test_yaml_bounds(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	buf_puts(&b, "all:\n  vars:\n    x: ");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, '[');
	buf_putc(&b, '\n');
	/* three levels open around it; the first '[' is at column 8 */
	assert_file_error("d1.yml", b.data, "%s:3:133: YAML nested more than 128 levels deep (expected groups with "
			  "hosts, children and vars)");
	buf_free(&b);

	buf_puts(&b, "all:\n  children:\n    g0: &g\n      hosts:\n        'h[1:900000]':\n");
	for (int i = 1; i < 10; i++)
		buf_printf(&b, "    g%d: *g\n", i);
	assert_file_error("x1.yml", b.data, "%s:5:9: host 'h[1:900000]' in group 'g4': more than 4000000 host "
			  "listings in one YAML inventory (a host or range under N groups counts N times; expected "
			  "fewer groups or smaller ranges)");
	buf_free(&b);
}

static void test_yaml_errors(void **state)
{
	(void)state;
	assert_file_error("y1.yml", "all:\n  hosts:\n    a: [1,\n",
			  "%s:4:1: invalid YAML: did not find expected node content (while parsing a flow node at line 4 column 1)");
	assert_file_error("y2.yml", "all:\n  hots:\n    a:\n",
			  "%s:2:3: unknown key 'hots' in group 'all' (expected one of: hosts, children, vars)");
	assert_file_error("y3.yml", "all:\n  hosts:\n    a:\n      ansible_port: 99999\n",
			  "%s:4:21: bad port '99999' (expected a number in 1..65535)");
	assert_file_error("y4.yml", "all:\n  hosts:\n    - a\n",
			  "%s:3:5: hosts of group 'all': expected a mapping of host names, got a list");
	assert_file_error("y5.yml", "all:\n  hosts:\n    www[05:01]:\n",
			  "%s:3:9: host 'www[05:01]': reversed range '05:01' (expected start <= end)");
	assert_file_error("y6.yml", "all:\n  children:\n    a:\n      children:\n        b:\n          children:\n            a:\n",
			  "%s:3:5: group 'a' is its own ancestor (expected no cycle through children)");
	/* Aliases to an ancestor: a cycle, found without walking it forever
	 * (nor 3^depth times). */
	assert_file_error("y6b.yml", "all: &a\n  hosts: {h1: }\n  children:\n    x: *a\n    y: *a\n    z: *a\n",
			  "%s:4:5: group 'x' is its own ancestor (expected no cycle through children)");
	assert_file_error("y7.yml", "- a\n", "%s:1:1: expected a mapping of groups, such as 'all:', got a list");
	assert_file_error("y8.yml", "all:\n  hosts:\n    a: 5\n",
			  "%s:3:8: host 'a': expected a mapping of vars or nothing, got '5'");
	assert_file_error("y9.yaml", "all:\n  children:\n    g: [x]\n",
			  "%s:3:8: group 'g': expected a mapping with hosts, children or vars, got a list");
	/* Held whole, a YAML inventory is bounded: refused before expanding
	 * (found while fuzzing the inventory: 30M names took 4 GB). */
	assert_file_error("y10.yml", "all:\n  hosts:\n    h[1:100000000]:\n",
			  "%s:3:5: host 'h[1:100000000]': more than 1000000 hosts in one YAML inventory (expected a "
			  "smaller range; -H and text inventories take any number)");
}

/* The words of common/yamlnode, as a job file has them: a group's keys
 * are walked by ymap_walk (a key given twice is refused, as Ansible would
 * silently keep only the last), and the names the file chooses must be
 * non-empty scalars without a NUL. */
static void test_yaml_keys(void **state)
{
	(void)state;
	assert_file_error("k1.yml", "all:\n  hosts:\n    a:\n  hosts:\n    b:\n",
			  "%s:4:3: duplicate key 'hosts' (first at line 2)");
	assert_file_error("k2.yml", "all:\n  vars: {x: 1}\n  children:\n    g:\n      vars: {}\n      vars: {y: 2}\n",
			  "%s:6:7: duplicate key 'vars' (first at line 5)");
	assert_file_error("k3.yml", "all:\n  [a]: 1\n", "%s:2:3: expected a key name, got a list");
	assert_file_error("k4.yml", "all:\n  \"hosts\\0x\": {h: }\n", "%s:2:3: a key name contains a NUL character");
	assert_file_error("k5.yml", "all:\n  hosts:\n    '':\n", "%s:3:5: expected a host name, got ''");
	assert_file_error("k6.yml", "all:\n  hosts:\n    {a: 1}: 1\n", "%s:3:5: expected a host name, got a mapping");
	assert_file_error("k7.yml", "all:\n  vars:\n    [a]: 1\n", "%s:3:5: expected a var name, got a list");
	assert_file_error("k8.yml", "all:\n  vars:\n    \"a\\0b\": 1\n", "%s:3:5: a var name contains a NUL character");
	assert_file_error("k9.yml", "all:\n  children:\n    \"g\\0x\": {hosts: {h: }}\n",
			  "%s:3:5: a group name contains a NUL character");
	assert_file_error("k10.yml", "? \n: {hosts: {h: }}\n", "%s:1:2: expected a group name, got nothing");
	/* a value described as a job's is: its text, quoted */
	assert_file_error("k11.yml", "all:\n  hosts: 'null'\n",
			  "%s:2:10: hosts of group 'all': expected a mapping of host names, got 'null'");
	assert_file_error("k12.yml", "all:\n  children: a\n",
			  "%s:2:13: children of group 'all': expected a mapping of group names, got 'a'");
	assert_file_error("k13.yml", "all:\n  vars: [a]\n",
			  "%s:2:9: vars of group 'all': expected a mapping of name: value, got a list");
	/* libyaml's reader reports an offset: the message has the place */
	assert_file_error("k14.yml", "all:\n  hosts:\n    \"x\xff\":\n",
			  "%s:3:7: invalid YAML: invalid leading UTF-8 octet (0xFF)");
}

/* Nothing scrubs a whole message any more: what each quotes from the
 * file has its control bytes shown as '?', and a long name is cut. */
static void test_yaml_quoting(void **state)
{
	char text[512], want[512];
	char g[151];

	(void)state;
	assert_file_error("q1.yml", "all:\n  children:\n    \"g\\e]0;x\\a\":\n      bad: 1\n",
			  "%s:4:7: unknown key 'bad' in group 'g?]0;x?' (expected one of: hosts, children, vars)");
	assert_file_error("q2.yml", "all:\n  \"\\e[2J\": {}\n",
			  "%s:2:3: unknown key '?[2J' in group 'all' (expected one of: hosts, children, vars)");
	assert_file_error("q3.yml", "all:\n  hosts:\n    \"a[\\e]\":\n",
			  "%s:3:8: host 'a[?]': non-numeric range '?' (expected numbers such as [1-9], [01-10] or [1,3,5])");
	assert_file_error("q4.yml", "\"a\\e[1m\":\n  children:\n    b:\n      children:\n        \"a\\e[1m\":\n",
			  "%s:1:1: group 'a?[1m' is its own ancestor (expected no cycle through children)");
	memset(g, 'g', sizeof(g) - 1);
	g[sizeof(g) - 1] = '\0';
	snprintf(text, sizeof(text), "all:\n  children:\n    %s: [x]\n", g);
	snprintf(want, sizeof(want), "%%s:3:157: group '%.72s...': expected a mapping with hosts, children or vars, got a list",
		 g);
	assert_file_error("q5.yml", text, want);
}

/* ------------------------------------------------------------------ */

static void test_limit_match(void **state)
{
	char *groups[] = {"core", "dc1"};
	struct host rtr = {.name = "rtr1", .groups = groups, .ngroups = 2};
	struct host fw = {.name = "fw1"};

	(void)state;
	assert_true(targets_limit_match(NULL, &rtr));
	assert_true(targets_limit_match("", &fw));
	assert_true(targets_limit_match("rtr*", &rtr));
	assert_false(targets_limit_match("rtr*", &fw));
	assert_true(targets_limit_match("core", &rtr));
	assert_false(targets_limit_match("core", &fw));
	assert_true(targets_limit_match("dc?", &rtr));
	assert_true(targets_limit_match("fw1,core", &rtr));
	assert_true(targets_limit_match("fw1:core", &fw));
	assert_false(targets_limit_match("!core", &rtr));
	assert_true(targets_limit_match("!core", &fw));
	assert_false(targets_limit_match("rtr*:!dc1", &rtr));
	assert_false(targets_limit_match("rtr*:!dc1", &fw));
	assert_false(targets_limit_match("!dc1,rtr*", &rtr));
	assert_true(targets_limit_match("all", &fw));
	assert_true(targets_limit_match("all:!fw*", &rtr));
	assert_false(targets_limit_match("all:!fw*", &fw));
	assert_true(targets_limit_match("*", &fw));
	assert_true(targets_limit_match("[fr]*1", &fw));
	assert_false(targets_limit_match("RTR1", &rtr));
}

static void test_targets_mix(void **state)
{
	const char *inv[2];
	const char *pat[] = {"a[3-4],b2", "c1", "a1"};

	(void)state;
	inv[0] = write_file("mix.txt", "a1\nb1 x=1\n");
	inv[1] = write_file("mix.yml", "all:\n  children:\n    g:\n      hosts: {a2: {y: 2}}\n");
	/* Files in order, then patterns in order; a1 twice: no dedup. */
	assert_targets(inv, 2, pat, 3, NULL, "a1\nb1(x=1)\na2(y=2)[g]\na3\na4\nb2\nc1\na1\n");
	assert_targets(inv, 2, pat, 3, "a*:c*:!a4", "a1\na2(y=2)[g]\na3\nc1\na1\n");
	assert_targets(inv, 2, pat, 3, "g,b*", "b1(x=1)\na2(y=2)[g]\nb2\n");
	assert_targets(NULL, 0, pat, 1, "nothing", "");
}

static void test_targets_open_errors(void **state)
{
	const char *missing = "/nonexistent/fleetrun/inv.txt";
	const char *bad[] = {"ok", "rtr[01-"};
	const char *good = "h1";
	const char *dir = tmpdir;
	struct targets_opts o = {.inventories = &missing, .ninventories = 1};
	struct targets *t = NULL;
	struct err err = {{0}};
	char want[512];

	(void)state;
	assert_int_equal(targets_open(&o, &t, &err), -1);
	assert_string_equal(err.msg, "/nonexistent/fleetrun/inv.txt: cannot open: No such file or directory");

	o = (struct targets_opts){.patterns = bad, .npatterns = 2};
	assert_int_equal(targets_open(&o, &t, &err), -1);
	assert_string_equal(err.msg, "-H 'rtr[01-': unbalanced '[' at column 4");

	o = (struct targets_opts){.patterns = &good, .npatterns = 1, .limit = "a,,b"};
	assert_int_equal(targets_open(&o, &t, &err), -1);
	assert_string_equal(err.msg, "-l 'a,,b': empty pattern at column 3 (expected a name or group glob)");
	o.limit = "a:!";
	assert_int_equal(targets_open(&o, &t, &err), -1);
	assert_string_equal(err.msg, "-l 'a:!': empty pattern at column 3 (expected a name or group glob)");

	o = (struct targets_opts){.inventories = &dir, .ninventories = 1};
	assert_int_equal(targets_open(&o, &t, &err), -1);
	snprintf(want, sizeof(want), "%s: cannot open: Is a directory", tmpdir);
	assert_string_equal(err.msg, want);
	assert_null(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_text_inventory),
		cmocka_unit_test(test_text_quoted_empty),
		cmocka_unit_test(test_text_errors),
		cmocka_unit_test(test_text_error_then_more),
		cmocka_unit_test(test_yaml_inventory),
		cmocka_unit_test(test_yaml_shapes),
		cmocka_unit_test(test_yaml_errors),
		cmocka_unit_test(test_yaml_keys),
		cmocka_unit_test(test_yaml_quoting),
		cmocka_unit_test(test_limit_match),
		cmocka_unit_test(test_targets_mix),
		cmocka_unit_test(test_targets_open_errors),
		cmocka_unit_test(test_host_name_check),
		cmocka_unit_test(test_host_names_everywhere),
		cmocka_unit_test(test_yaml_bounds),
	};

	return cmocka_run_group_tests_name("inventory", tests, group_setup, group_teardown);
}
