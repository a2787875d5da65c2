/* Unit tests for common/hostcfg.c: which value a host uses for a setting
 * (host var over the job's template, the template rendered; secrets: the
 * value over the _file form, the host's pair over the job's), the one
 * boolean grammar (every word in every case; any other word an error that
 * says what was expected), what a host var may reach (${env:...} and
 * files under inventory_may, a check turned off only with inventory_may
 * settings), and the known_hosts file, which the supervisor's
 * knownhosts_target must name exactly as the worker does. Files live
 * under a mkdtemp directory that the group teardown removes. */
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

#include "hostcfg.h"
#include "inventory.h"
#include "job.h"
#include "knownhosts.h"
#include "kv.h"
#include "tmpl.h"
#include "util.h"

static char tmpdir[] = "/tmp/fleetrun-test-hostcfg-XXXXXX";
/* tmpdir resolved (realpath), as hostcfg hands resolved paths on */
static char *realdir;

/* made under tmpdir: allowed/ (the job's inventory_may files), outside/,
 * home/ ($HOME), and a file in each */
static const char *const tmp_dirs[] = {"allowed", "outside", "home", "home/.ssh"};
static const char *const tmp_files[][2] = {
	{"allowed/pw", "from-allowed-file\n"},
	{"allowed/empty", ""},
	{"outside/pw", "from-outside-file\n"},
	{"home/pw", "from-home-file\r\n"},
};

static char *tmp_path(const char *rel)
{
	return xasprintf("%s/%s", tmpdir, rel);
}

static int group_setup(void **state)
{
	(void)state;
	if (!mkdtemp(tmpdir))
		return -1;
	for (size_t i = 0; i < ARRAY_LEN(tmp_dirs); i++) {
		char *p = tmp_path(tmp_dirs[i]);
		int r = mkdir(p, 0700);
		free(p);
		if (r < 0)
			return -1;
	}
	for (size_t i = 0; i < ARRAY_LEN(tmp_files); i++) {
		char *p = tmp_path(tmp_files[i][0]);
		FILE *f = fopen(p, "w");
		free(p);
		if (!f)
			return -1;
		fputs(tmp_files[i][1], f);
		fclose(f);
	}
	realdir = realpath(tmpdir, NULL);
	return realdir ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(tmp_files); i++) {
		char *p = tmp_path(tmp_files[i][0]);
		unlink(p);
		free(p);
	}
	for (size_t i = ARRAY_LEN(tmp_dirs); i-- > 0;) {
		char *p = tmp_path(tmp_dirs[i]);
		rmdir(p);
		free(p);
	}
	free(realdir);
	return rmdir(tmpdir);
}

/* One host as a step sees it: host vars, captured vars, built-ins, the
 * job's inventory_may, secrets. */
struct fx {
	struct job_inventory_may may;
	struct kvlist vars, captured, builtins, secrets;
	struct tmpl_scope scope;
	struct hostcfg h;
};

static struct fx *fx_new(void)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	char *home = tmp_path("home");

	setenv("HOME", home, 1);
	free(home);
	kvlist_set(&f->builtins, "host", "rtr1");
	kvlist_set(&f->builtins, "user", "op");
	f->scope = (struct tmpl_scope){&f->captured, &f->vars, &f->builtins};
	f->h = (struct hostcfg){&f->may, &f->vars, &f->scope, &f->secrets};
	return f;
}

static void fx_free(struct fx *f)
{
	kvlist_free(&f->may.env);
	kvlist_free(&f->may.files);
	kvlist_free(&f->may.settings);
	kvlist_free(&f->vars);
	kvlist_free(&f->captured);
	kvlist_free(&f->builtins);
	kvlist_free(&f->secrets);
	free(f);
}

static void fx_allow_dir(struct fx *f, const char *rel)
{
	char *p = tmp_path(rel);
	kvlist_set(&f->may.files, p, "");
	free(p);
}

/* hostcfg_str must succeed with want (NULL: no value). */
static void assert_str(struct fx *f, const char *name, const char *job_value, const char *want)
{
	struct err err = {{0}};
	char *out = (char *)"untouched";

	if (hostcfg_str(&f->h, name, job_value, &out, &err) < 0)
		fail_msg("%s: %s", name, err.msg);
	if (!want)
		assert_null(out);
	else
		assert_string_equal(out, want);
	free(out);
}

static void assert_has(const char *msg, const char *needle)
{
	if (!strstr(msg, needle))
		fail_msg("error '%s' does not say '%s'", msg, needle);
}

/* hostcfg_str must fail with an error saying each of the needles. */
static void assert_str_fails(struct fx *f, const char *name, const char *job_value, const char *needle)
{
	struct err err = {{0}};
	char *out = (char *)"untouched";

	assert_int_equal(hostcfg_str(&f->h, name, job_value, &out, &err), -1);
	assert_string_equal(out, "untouched");
	assert_has(err.msg, needle);
}

static void test_str_precedence(void **state)
{
	struct fx *f = fx_new();

	(void)state;
	/* neither: nothing; the job's value alone: its template rendered
	 * with captured vars, host vars and built-ins */
	assert_str(f, "user", NULL, NULL);
	kvlist_set(&f->captured, "site", "dc1");
	kvlist_set(&f->vars, "role", "core");
	assert_str(f, "user", "adm-${host}-${role}-${site}", "adm-rtr1-core-dc1");
	/* the host var wins, taken as written: no template in it */
	kvlist_set(&f->vars, "user", "bob-${host}");
	assert_str(f, "user", "adm-${host}", "bob-${host}");
	assert_str(f, "user", NULL, "bob-${host}");
	/* a job template naming a var nobody has: that host's error */
	assert_str_fails(f, "port", "${nope}", "missing variable 'nope'");
	fx_free(f);
}

static void test_str_env(void **state)
{
	struct fx *f = fx_new();

	(void)state;
	setenv("FR_HOSTCFG_T", "tok-123", 1);
	kvlist_set(&f->vars, "token", "Bearer ${env:FR_HOSTCFG_T}");
	assert_str_fails(f, "token", NULL,
	                 "host var 'token' reads the environment variable FR_HOSTCFG_T (${env:...}), which the job "
	                 "does not allow (inventory_may env: none)");
	kvlist_set(&f->may.env, "FR_HOSTCFG_T", "");
	assert_str(f, "token", NULL, "Bearer tok-123");
	assert_non_null(kvlist_get(&f->secrets, "tok-123"));
	/* the job's own templates read any variable */
	assert_str(f, "other", "${env:FR_HOSTCFG_T}", "tok-123");
	fx_free(f);
}

static void test_str_paths(void **state)
{
	struct fx *f = fx_new();
	char *inside = tmp_path("allowed/pw"), *outside = tmp_path("outside/pw"), *dotdot = tmp_path("allowed/../outside/pw");
	char *want = xasprintf("%s/allowed/pw", realdir);

	(void)state;
	/* no inventory_may files: no file at all */
	kvlist_set(&f->vars, "ca", inside);
	assert_str_fails(f, "ca", NULL, "outside the directories the job allows (inventory_may files: none)");
	fx_allow_dir(f, "allowed");
	assert_str(f, "ca", NULL, want);
	kvlist_set(&f->vars, "ca", outside);
	assert_str_fails(f, "ca", NULL, "host var 'ca' names");
	kvlist_set(&f->vars, "ca", dotdot);
	assert_str_fails(f, "ca", NULL, "outside the directories");
	kvlist_set(&f->vars, "key", "allowed/pw");
	assert_str_fails(f, "key", NULL, "is not an absolute path");
	/* not a file setting: taken as written */
	kvlist_set(&f->vars, "user", outside);
	assert_str(f, "user", NULL, outside);
	/* the job's own value names any file */
	assert_str(f, "cert", outside, outside);
	free(inside);
	free(outside);
	free(dotdot);
	free(want);
	fx_free(f);
}

/* The words of bool_parse, each as written, upper case and capitalised. */
static const struct {
	const char *word;
	int value;
} bool_words[] = {
	{"true", 1}, {"yes", 1}, {"on", 1}, {"1", 1}, {"false", 0}, {"no", 0}, {"off", 0}, {"0", 0},
};

static void test_bool_words(void **state)
{
	struct fx *f = fx_new();
	struct err err = {{0}};

	(void)state;
	kvlist_set(&f->may.settings, "insecure", "");
	for (size_t i = 0; i < ARRAY_LEN(bool_words); i++) {
		for (int form = 0; form < 3; form++) {
			char w[16];

			snprintf(w, sizeof(w), "%s", bool_words[i].word);
			for (char *c = w; *c; c++)
				if (form == 1 || (form == 2 && c == w))
					*c = (char)(*c >= 'a' && *c <= 'z' ? *c - 32 : *c);
			kvlist_set(&f->vars, "pty", w);
			kvlist_set(&f->vars, "agent", w);
			kvlist_set(&f->vars, "insecure", w);
			for (int job = -1; job <= 1; job++) {
				int pty = 7, agent = 7, ins = 7;

				if (hostcfg_bool(&f->h, "pty", job, &pty, &err) < 0 ||
				    hostcfg_bool(&f->h, "agent", job, &agent, &err) < 0 ||
				    hostcfg_bool(&f->h, "insecure", job, &ins, &err) < 0)
					fail_msg("'%s': %s", w, err.msg);
				if (pty != bool_words[i].value || agent != pty || ins != pty)
					fail_msg("'%s' read as pty %d agent %d insecure %d", w, pty, agent, ins);
			}
		}
	}
	fx_free(f);
}

static void test_bool_job_value(void **state)
{
	struct fx *f = fx_new();
	struct err err = {{0}};

	(void)state;
	/* no host var: the job's value as it is, -1 ("not given") too */
	for (int job = -1; job <= 1; job++) {
		int out = 7;

		assert_int_equal(hostcfg_bool(&f->h, "agent", job, &out, &err), 0);
		assert_int_equal(out, job);
	}
	fx_free(f);
}

static void test_bool_bad_words(void **state)
{
	static const char *const bad[] = {"maybe", "", "ture", "2", "enabled", "y", "n", "true ", "O N"};
	struct fx *f = fx_new();

	(void)state;
	kvlist_set(&f->may.settings, "insecure", "");
	for (size_t i = 0; i < ARRAY_LEN(bad); i++) {
		const char *names[] = {"insecure", "agent", "pty"};

		for (size_t k = 0; k < ARRAY_LEN(names); k++) {
			struct err err = {{0}};
			char want[128];
			int out = 7;

			kvlist_set(&f->vars, names[k], bad[i]);
			/* never a quiet false, whatever the job says */
			assert_int_equal(hostcfg_bool(&f->h, names[k], 0, &out, &err), -1);
			assert_int_equal(out, 7);
			snprintf(want, sizeof(want), "host var %s='%s': expected %s", names[k], bad[i], UTIL_BOOL_EXPECTED);
			assert_string_equal(err.msg, want);
		}
	}
	assert_string_equal(UTIL_BOOL_EXPECTED, "true or false (also yes/no, on/off, 1/0)");
	fx_free(f);
}

static void test_may_not_loosen(void **state)
{
	static const char *const on[] = {"true", "on", "True", "YES", "1", "On"};
	static const char *const off[] = {"false", "off", "No", "0"};
	struct fx *f = fx_new();
	struct err err = {{0}};
	enum hostkey_policy pol;
	int ins;

	(void)state;
	/* without inventory_may settings: a check may be tightened, never
	 * turned off, in any word for true */
	for (size_t i = 0; i < ARRAY_LEN(on); i++) {
		char want[200];

		kvlist_set(&f->vars, "insecure", on[i]);
		ins = 7;
		assert_int_equal(hostcfg_bool(&f->h, "insecure", 0, &ins, &err), -1);
		assert_int_equal(ins, 7);
		snprintf(want, sizeof(want),
		         "host var insecure=%s turns a check off, which the job does not allow (inventory_may settings: none)",
		         on[i]);
		assert_string_equal(err.msg, want);
		/* the string getter refuses it the same */
		assert_str_fails(f, "insecure", NULL, "turns a check off");
	}
	for (size_t i = 0; i < ARRAY_LEN(off); i++) {
		kvlist_set(&f->vars, "insecure", off[i]);
		assert_int_equal(hostcfg_bool(&f->h, "insecure", 1, &ins, &err), 0);
		assert_int_equal(ins, 0);
	}
	kvlist_set(&f->vars, "host_key_policy", "off");
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_STRICT, &pol, &err), -1);
	assert_has(err.msg, "host var host_key_policy=off turns a check off");
	kvlist_set(&f->vars, "host_key_policy", "accept-new");
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_STRICT, &pol, &err), -1);
	assert_has(err.msg, "inventory_may settings: none");
	kvlist_set(&f->vars, "host_key_policy", "strict");
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_OFF, &pol, &err), 0);
	assert_int_equal(pol, HOSTKEY_STRICT);

	/* with them: the inventory decides, for the setting named only */
	kvlist_set(&f->may.settings, "insecure", "");
	kvlist_set(&f->vars, "insecure", "on");
	kvlist_set(&f->vars, "host_key_policy", "off");
	assert_int_equal(hostcfg_bool(&f->h, "insecure", 0, &ins, &err), 0);
	assert_int_equal(ins, 1);
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_STRICT, &pol, &err), -1);
	assert_has(err.msg, "(inventory_may settings: insecure)");
	kvlist_set(&f->may.settings, "host_key_policy", "");
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_STRICT, &pol, &err), 0);
	assert_int_equal(pol, HOSTKEY_OFF);
	kvlist_set(&f->vars, "host_key_policy", "accept-new");
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_STRICT, &pol, &err), 0);
	assert_int_equal(pol, HOSTKEY_ACCEPT_NEW);
	fx_free(f);
}

static void test_policy(void **state)
{
	struct fx *f = fx_new();
	struct err err = {{0}};
	enum hostkey_policy pol = HOSTKEY_STRICT;

	(void)state;
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_ACCEPT_NEW, &pol, &err), 0);
	assert_int_equal(pol, HOSTKEY_ACCEPT_NEW);
	kvlist_set(&f->vars, "host_key_policy", "loose");
	pol = HOSTKEY_STRICT;
	assert_int_equal(hostcfg_policy(&f->h, HOSTKEY_OFF, &pol, &err), -1);
	assert_int_equal(pol, HOSTKEY_STRICT);
	assert_string_equal(err.msg, "host var host_key_policy='loose': expected strict, accept-new or off");
	fx_free(f);
}

/* hostcfg_secret must give want (NULL: none) and register it. */
static void assert_secret(struct fx *f, const char *job_value, const char *job_file, const char *want)
{
	struct err err = {{0}};
	char *out = (char *)"untouched";

	if (hostcfg_secret(&f->h, "password", job_value, job_file, &out, &err) < 0)
		fail_msg("%s", err.msg);
	if (!want) {
		assert_null(out);
		return;
	}
	assert_string_equal(out, want);
	assert_non_null(kvlist_get(&f->secrets, want));
	hostcfg_secret_free(out);
}

static void test_secret_precedence(void **state)
{
	struct fx *f = fx_new();
	char *allowed = tmp_path("allowed/pw"), *outside = tmp_path("outside/pw");
	struct err err = {{0}};
	char *out = NULL;

	(void)state;
	assert_secret(f, NULL, NULL, NULL);
	/* the job's pair: the value (a template) over the file (~/ is home) */
	assert_secret(f, NULL, "~/pw", "from-home-file");
	assert_secret(f, "job-${host}", "~/pw", "job-rtr1");
	/* the host's pair over the job's, its file too */
	fx_allow_dir(f, "allowed");
	kvlist_set(&f->vars, "password_file", allowed);
	assert_secret(f, "job-${host}", "~/pw", "from-allowed-file");
	/* and within the host's pair the value over the file */
	kvlist_set(&f->vars, "password", "host-${host}");
	assert_secret(f, "job", NULL, "host-${host}");

	/* a host file outside inventory_may files is never read */
	kvlist_free(&f->vars);
	kvlist_set(&f->vars, "password_file", outside);
	assert_int_equal(hostcfg_secret(&f->h, "password", "job", NULL, &out, &err), -1);
	assert_null(out);
	assert_has(err.msg, "host var 'password_file' names");
	assert_null(kvlist_get(&f->secrets, "from-outside-file"));
	/* an empty file is an error, not an empty password */
	kvlist_free(&f->vars);
	assert_int_equal(hostcfg_secret(&f->h, "password", NULL, "~/../allowed/empty", &out, &err), -1);
	assert_has(err.msg, "password_file");
	assert_has(err.msg, "empty");
	free(allowed);
	free(outside);
	fx_free(f);
}

/* hostcfg_known_hosts must give want. */
static void assert_kh(struct fx *f, const char *job_value, const char *want)
{
	struct err err = {{0}};
	char *out = NULL;

	if (hostcfg_known_hosts(&f->h, job_value, &out, &err) < 0)
		fail_msg("%s", err.msg);
	assert_string_equal(out, want);
	free(out);
}

static void test_known_hosts(void **state)
{
	struct fx *f = fx_new();
	char *home_kh = tmp_path("home/.ssh/known_hosts"), *mine = tmp_path("home/mine"),
	     *tmpl_kh = tmp_path("home/kh-rtr1-core"), *host_kh = tmp_path("allowed/new_kh"),
	     *resolved = xasprintf("%s/allowed/new_kh", realdir);
	struct err err = {{0}};
	char *out = NULL;

	(void)state;
	/* nothing given: ~/.ssh/known_hosts */
	assert_kh(f, NULL, home_kh);
	/* the job's: ~/ is home; a template over host vars and built-ins */
	assert_kh(f, "~/mine", mine);
	kvlist_set(&f->vars, "role", "core");
	assert_kh(f, "~/kh-${host}-${role}", tmpl_kh);
	/* never over captured vars: a device's output chooses no file */
	kvlist_set(&f->captured, "dir", "/tmp");
	assert_int_equal(hostcfg_known_hosts(&f->h, "${dir}/kh", &out, &err), -1);
	assert_has(err.msg, "missing variable 'dir'");
	kvlist_set(&f->vars, "role", "");
	assert_int_equal(hostcfg_known_hosts(&f->h, "${role}", &out, &err), -1);
	assert_string_equal(err.msg, "known_hosts is empty (expected a file name)");
	/* the host's var: a file under inventory_may files only, resolved
	 * (one accept-new will create is resolved by its directory) */
	kvlist_set(&f->vars, "known_hosts", host_kh);
	assert_int_equal(hostcfg_known_hosts(&f->h, "~/mine", &out, &err), -1);
	assert_has(err.msg, "host var 'known_hosts' names");
	assert_null(out);
	fx_allow_dir(f, "allowed");
	assert_kh(f, "~/mine", resolved);
	free(home_kh);
	free(mine);
	free(tmpl_kh);
	free(host_kh);
	free(resolved);
	fx_free(f);
}

/* The supervisor appends under accept-new to the file it derives itself:
 * the one the worker reads for the same host, through the same function. */
static void test_supervisor_names_the_worker_file(void **state)
{
	struct fx *f = fx_new();
	struct job job = {0};
	struct host h = {0};
	char *path = NULL, *name = NULL, *worker = NULL, *host_kh = tmp_path("allowed/kh");
	struct err err = {{0}};

	(void)state;
	job.name = (char *)"show-version";
	job.ssh.known_hosts = (char *)"~/kh-${host}";
	job.ssh.port = (char *)"${p}";
	h.name = (char *)"rtr1";
	kvlist_set(&h.vars, "p", "2222");
	kvlist_set(&h.vars, "address", "10.0.0.9");
	/* the worker's view of the same host: a captured var of the same
	 * name as a host var must not change the file */
	kvlist_set(&f->vars, "p", "2222");
	kvlist_set(&f->vars, "address", "10.0.0.9");
	kvlist_set(&f->captured, "host", "evil");
	tmpl_builtins(&f->builtins, job.name, h.name, &f->vars);
	assert_int_equal(hostcfg_known_hosts(&f->h, job.ssh.known_hosts, &worker, &err), 0);
	assert_int_equal(knownhosts_target(&job, NULL, &h, &path, &name, &err), 0);
	assert_string_equal(path, worker);
	assert_string_equal(name, "[10.0.0.9]:2222");
	free(path);
	free(name);
	free(worker);
	worker = path = name = NULL;

	/* the host's var, checked the same on both sides */
	kvlist_set(&h.vars, "known_hosts", host_kh);
	kvlist_set(&f->vars, "known_hosts", host_kh);
	assert_int_equal(knownhosts_target(&job, NULL, &h, &path, &name, &err), -1);
	assert_has(err.msg, "outside the directories the job allows");
	assert_int_equal(hostcfg_known_hosts(&f->h, job.ssh.known_hosts, &worker, &err), -1);
	kvlist_set(&job.inventory_may.files, tmpdir, "");
	fx_allow_dir(f, "");
	assert_int_equal(knownhosts_target(&job, NULL, &h, &path, &name, &err), 0);
	assert_int_equal(hostcfg_known_hosts(&f->h, job.ssh.known_hosts, &worker, &err), 0);
	assert_string_equal(path, worker);
	free(path);
	free(name);
	free(worker);
	free(host_kh);
	kvlist_free(&job.inventory_may.files);
	kvlist_free(&h.vars);
	fx_free(f);
}

/* The SSH algorithm settings: the host var over the job's spec; a bad
 * name is the host var's error; a host var enabling a weak algorithm
 * beyond the job's list needs inventory_may settings naming it. */
static void test_algs(void **state)
{
	struct fx *f = fx_new();
	struct err err = {{0}};
	char *spec = (char *)"untouched", *weak = NULL;

	(void)state;
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, NULL, &spec, &weak, &err), 0);
	assert_null(spec);
	assert_null(weak);
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, "+diffie-hellman-group14-sha1", &spec, &weak, &err), 0);
	assert_string_equal(spec, "+diffie-hellman-group14-sha1");
	assert_string_equal(weak, "diffie-hellman-group14-sha1");
	free(spec);
	free(weak);
	/* a strong choice needs no leave, and wins over the job's */
	kvlist_set(&f->vars, "kex", "curve25519-sha256");
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, "+diffie-hellman-group14-sha1", &spec, &weak, &err), 0);
	assert_string_equal(spec, "curve25519-sha256");
	assert_null(weak);
	free(spec);
	/* a weak one the job does not allow: refused */
	kvlist_set(&f->vars, "kex", "diffie-hellman-group1-sha1,curve25519-sha256");
	spec = (char *)"untouched";
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, "+diffie-hellman-group14-sha1", &spec, &weak, &err), -1);
	assert_string_equal(spec, "untouched");
	assert_string_equal(err.msg, "host var kex enables the weak algorithm(s) diffie-hellman-group1-sha1, which the "
	                             "job does not allow (inventory_may settings: none)");
	/* ... one the job allows: no leave needed */
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, "+diffie-hellman-group1-sha1", &spec, &weak, &err), 0);
	assert_string_equal(weak, "diffie-hellman-group1-sha1");
	free(spec);
	free(weak);
	/* ... or with the leave, for that setting only */
	kvlist_set(&f->may.settings, "ciphers", "");
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, NULL, &spec, &weak, &err), -1);
	kvlist_set(&f->may.settings, "kex", "");
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_KEX, NULL, &spec, NULL, &err), 0);
	free(spec);
	/* an unknown name is the host var's */
	kvlist_set(&f->vars, "macs", "hmac-sha3");
	assert_int_equal(hostcfg_algs(&f->h, SSHALGS_MACS, NULL, &spec, NULL, &err), -1);
	assert_has(err.msg, "host var macs: unknown algorithm 'hmac-sha3' (libssh2 1.11.1 knows: ");
	fx_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_str_precedence),
		cmocka_unit_test(test_str_env),
		cmocka_unit_test(test_str_paths),
		cmocka_unit_test(test_bool_words),
		cmocka_unit_test(test_bool_job_value),
		cmocka_unit_test(test_bool_bad_words),
		cmocka_unit_test(test_may_not_loosen),
		cmocka_unit_test(test_algs),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_secret_precedence),
		cmocka_unit_test(test_known_hosts),
		cmocka_unit_test(test_supervisor_names_the_worker_file),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
