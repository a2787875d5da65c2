/* Unit tests for common/job.c: a good job, malformed jobs with the exact
 * "file:line:column: message" each must give, job_load, and garbage that
 * must never crash the parser. */
#include <fcntl.h>
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
#include "job.h"
#include "util.h"

#define BAD_PATH "jobs.d/bad.yaml"

static int parse(const char *path, const char *text, struct job **job, struct err *err)
{
	return job_parse(path, text, strlen(text), job, err);
}

static void test_good_job(void **state)
{
	static const char text[] =
		"# a comment\n"
		"description: Read the uptime\n"
		"timeout: 2m\n"
		"retries: 3\n"
		"steps:\n"
		"  - exec: uptime\n"
		"    expect: 'load average: \\S+'\n"
		"    timeout: 500ms\n"
		"  - sleep: 1.5s\n"
		"    name: pause\n"
		"  - name: greet\n"
		"    exec: echo ${host} ${env:HOME} $PPID ${a.b-c_1}\n";
	struct job *job = NULL;
	struct err err = {{0}};
	struct step *s;

	(void)state;
	assert_int_equal(parse("jobs.d/uptime.yaml", text, &job, &err), 0);
	assert_non_null(job);
	assert_string_equal(job->name, "uptime");
	assert_string_equal(job->path, "jobs.d/uptime.yaml");
	assert_string_equal(job->description, "Read the uptime");
	assert_int_equal(job->timeout_ms, 120000);
	assert_int_equal(job->timeout_set, 1);
	assert_int_equal(job->retries, 3);
	assert_int_equal(job->source_len, strlen(text));
	assert_memory_equal(job->source, text, sizeof(text));
	assert_int_equal(job->nsteps, 3);

	s = &job->steps[0];
	assert_int_equal(s->kind, STEP_EXEC);
	assert_string_equal(step_kind_name(s->kind), "exec");
	assert_string_equal(s->text, "uptime");
	assert_string_equal(s->name, "uptime");
	assert_string_equal(s->expect, "load average: \\S+");
	assert_int_equal(s->timeout_ms, 500);
	assert_int_equal(s->line, 6);
	assert_int_equal(s->column, 5);

	s = &job->steps[1];
	assert_int_equal(s->kind, STEP_SLEEP);
	assert_string_equal(step_kind_name(s->kind), "sleep");
	assert_string_equal(s->text, "1.5s");
	assert_string_equal(s->name, "pause");
	assert_null(s->expect);
	assert_int_equal(s->timeout_ms, 0);
	assert_int_equal(s->sleep_ms, 1500);
	assert_int_equal(s->line, 9);
	assert_int_equal(s->column, 5);

	s = &job->steps[2];
	assert_int_equal(s->kind, STEP_EXEC);
	assert_string_equal(s->text, "echo ${host} ${env:HOME} $PPID ${a.b-c_1}");
	assert_string_equal(s->name, "greet");
	assert_int_equal(s->line, 11);
	job_free(job);
}

static void test_defaults(void **state)
{
	static const char text[] = "steps:\n- sleep: 0\n- exec: 42\n- {exec: \"ls -l\"}\n";
	struct job *job = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(parse("/etc/fleetrun/jobs.d/quick.yml", text, &job, &err), 0);
	assert_string_equal(job->name, "quick");
	assert_null(job->description);
	assert_int_equal(job->timeout_ms, JOB_DEFAULT_TIMEOUT_MS);
	assert_int_equal(job->timeout_set, 0);
	assert_int_equal(job->retries, 0);
	assert_int_equal(job->nsteps, 3);
	assert_int_equal(job->steps[0].kind, STEP_SLEEP);
	assert_int_equal(job->steps[0].sleep_ms, 0);
	assert_string_equal(job->steps[0].name, "0");
	assert_int_equal(job->steps[0].line, 2);
	assert_int_equal(job->steps[0].column, 3);
	assert_int_equal(job->steps[0].pty, -1);
	assert_int_equal(job->steps[1].pty, -1);
	/* a plain scalar is the text as written, whatever YAML would type it */
	assert_string_equal(job->steps[1].text, "42");
	assert_string_equal(job->steps[2].text, "ls -l");
	/* a name without a directory or a known extension is kept whole */
	job_free(job);
	assert_int_equal(parse("plain", text, &job, &err), 0);
	assert_string_equal(job->name, "plain");
	job_free(job);
}

static void test_ssh_job(void **state)
{
	static const char text[] =
		"ssh:\n"
		"  user: ${user}\n"
		"  port: 2222\n"
		"  key: ~/.ssh/id_fleet\n"
		"  passphrase_file: /etc/fleetrun/key.pass\n"
		"  password: ${env:RTR_PASSWORD}\n"
		"  agent: no\n"
		"  known_hosts: /etc/fleetrun/known_hosts\n"
		"  host_key_policy: accept-new\n"
		"  connect_timeout: 5s\n"
		"  idle_timeout: 1m\n"
		"  keepalive: 0\n"
		"  pty: yes\n"
		"steps:\n"
		"  - ssh: show version\n"
		"    expect: 'Version \\S+'\n"
		"    timeout: 20s\n"
		"  - name: clock\n"
		"    ssh: show clock ${host}\n"
		"    pty: false\n"
		"  - ssh: terminal length 0\n"
		"    pty: \"TRUE\"\n"
		"  - exec: ls\n";
	struct job *job = NULL;
	struct err err = {{0}};
	struct step *s;

	(void)state;
	assert_int_equal(parse("jobs.d/rtr.yaml", text, &job, &err), 0);
	assert_int_equal(job->has_ssh, 1);
	assert_string_equal(job->ssh.user, "${user}");
	assert_string_equal(job->ssh.port, "2222");
	assert_string_equal(job->ssh.key, "~/.ssh/id_fleet");
	assert_null(job->ssh.passphrase);
	assert_string_equal(job->ssh.passphrase_file, "/etc/fleetrun/key.pass");
	assert_string_equal(job->ssh.password, "${env:RTR_PASSWORD}");
	assert_null(job->ssh.password_file);
	assert_int_equal(job->ssh.agent, 0);
	assert_string_equal(job->ssh.known_hosts, "/etc/fleetrun/known_hosts");
	assert_int_equal(job->ssh.host_key_policy, HOSTKEY_ACCEPT_NEW);
	assert_int_equal(job->ssh.connect_timeout_ms, 5000);
	assert_int_equal(job->ssh.idle_timeout_ms, 60000);
	assert_int_equal(job->ssh.keepalive_ms, 0);
	assert_int_equal(job->ssh.pty, 1);
	assert_int_equal(job->nsteps, 4);

	s = &job->steps[0];
	assert_int_equal(s->kind, STEP_SSH);
	assert_string_equal(step_kind_name(s->kind), "ssh");
	assert_string_equal(s->text, "show version");
	assert_string_equal(s->name, "show version");
	assert_string_equal(s->expect, "Version \\S+");
	assert_int_equal(s->timeout_ms, 20000);
	assert_int_equal(s->pty, -1);
	assert_int_equal(s->line, 15);
	assert_int_equal(s->column, 5);

	s = &job->steps[1];
	assert_int_equal(s->kind, STEP_SSH);
	assert_string_equal(s->text, "show clock ${host}");
	assert_string_equal(s->name, "clock");
	assert_null(s->expect);
	assert_int_equal(s->timeout_ms, 0);
	assert_int_equal(s->pty, 0);

	/* a quoted boolean is read by its text, as a quoted port is */
	assert_int_equal(job->steps[2].pty, 1);
	assert_int_equal(job->steps[3].kind, STEP_EXEC);
	assert_int_equal(job->steps[3].pty, -1);
	job_free(job);
}

/* A job without the section still has every connection setting, so the
 * worker never asks whether it was given. */
static void test_ssh_defaults(void **state)
{
	static const char *const texts[] = {
		"steps:\n  - ssh: uptime\n",
		"ssh: {}\nsteps:\n  - ssh: uptime\n",
	};
	struct job *job = NULL;
	struct err err = {{0}};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		assert_int_equal(parse("jobs.d/up.yaml", texts[i], &job, &err), 0);
		assert_int_equal(job->has_ssh, (int)i);
		assert_null(job->ssh.user);
		assert_null(job->ssh.port);
		assert_null(job->ssh.key);
		assert_null(job->ssh.passphrase);
		assert_null(job->ssh.passphrase_file);
		assert_null(job->ssh.password);
		assert_null(job->ssh.password_file);
		assert_null(job->ssh.known_hosts);
		assert_int_equal(job->ssh.agent, -1);
		assert_int_equal(job->ssh.host_key_policy, HOSTKEY_STRICT);
		assert_int_equal(job->ssh.connect_timeout_ms, JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS);
		assert_int_equal(job->ssh.idle_timeout_ms, 0);
		assert_int_equal(job->ssh.keepalive_ms, JOB_SSH_DEFAULT_KEEPALIVE_MS);
		assert_int_equal(job->ssh.pty, 0);
		assert_int_equal(job->steps[0].kind, STEP_SSH);
		assert_int_equal(job->steps[0].pty, -1);
		job_free(job);
	}
}

/* Every value each ssh key takes, at its edges */
static void test_ssh_values(void **state)
{
	static const struct {
		const char *text;
		const char *port;
		int agent;
		enum hostkey_policy policy;
		int64_t connect_ms;
	} cases[] = {
		{"port: 1\nagent: true\nhost_key_policy: strict\nconnect_timeout: 1ms", "1", 1, HOSTKEY_STRICT, 1},
		{"port: 65535\nagent: YES\nhost_key_policy: off\nconnect_timeout: 2m", "65535", 1, HOSTKEY_OFF, 120000},
		{"port: '${port}'\nagent: False\nhost_key_policy: accept-new", "${port}", 0, HOSTKEY_ACCEPT_NEW,
		 JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS},
		{"port: \"22\"\nagent: no\npassword: hunter2\npassphrase: s3cret", "22", 0, HOSTKEY_STRICT,
		 JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS},
	};
	struct job *job = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *line, *nl;

		buf_reset(&b);
		buf_puts(&b, "ssh:\n");
		for (line = cases[i].text; *line; line = *nl ? nl + 1 : nl) {
			nl = strchr(line, '\n');
			if (!nl)
				nl = line + strlen(line);
			buf_puts(&b, "  ");
			buf_append(&b, line, (size_t)(nl - line));
			buf_puts(&b, "\n");
		}
		buf_puts(&b, "steps:\n  - ssh: ls\n");
		if (job_parse("jobs.d/v.yaml", b.data, b.len, &job, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_string_equal(job->ssh.port, cases[i].port);
		assert_int_equal(job->ssh.agent, cases[i].agent);
		assert_int_equal(job->ssh.host_key_policy, cases[i].policy);
		assert_int_equal(job->ssh.connect_timeout_ms, cases[i].connect_ms);
		job_free(job);
	}
	buf_free(&b);
}

static void test_hostkey_policy(void **state)
{
	static const enum hostkey_policy all[] = {HOSTKEY_STRICT, HOSTKEY_ACCEPT_NEW, HOSTKEY_OFF};
	enum hostkey_policy p = HOSTKEY_OFF;
	size_t i;

	(void)state;
	assert_string_equal(hostkey_policy_name(HOSTKEY_STRICT), "strict");
	assert_string_equal(hostkey_policy_name(HOSTKEY_ACCEPT_NEW), "accept-new");
	assert_string_equal(hostkey_policy_name(HOSTKEY_OFF), "off");
	for (i = 0; i < ARRAY_LEN(all); i++) {
		assert_int_equal(hostkey_policy_parse(hostkey_policy_name(all[i]), &p), 0);
		assert_int_equal(p, all[i]);
	}
	p = HOSTKEY_ACCEPT_NEW;
	assert_int_equal(hostkey_policy_parse("Strict", &p), -1);
	assert_int_equal(hostkey_policy_parse("accept_new", &p), -1);
	assert_int_equal(hostkey_policy_parse("", &p), -1);
	assert_int_equal(p, HOSTKEY_ACCEPT_NEW); /* untouched on error */
}

/* The parser takes a length, not a C string: text after len is not read,
 * and the source keeps exactly len bytes. */
static void test_length_bounded(void **state)
{
	static const char text[] = "steps:\n  - exec: ls\nthis is not yaml: [";
	size_t len = strlen("steps:\n  - exec: ls\n");
	struct job *job = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(job_parse("x.yaml", text, len, &job, &err), 0);
	assert_int_equal(job->source_len, len);
	assert_int_equal(strlen(job->source), len);
	job_free(job);
}

static void test_too_many_steps(void **state)
{
	struct buf b = BUF_INIT;
	struct job *job = NULL;
	struct err err = {{0}};
	int i;

	(void)state;
	buf_puts(&b, "steps:\n");
	for (i = 0; i < JOB_MAX_STEPS; i++)
		buf_puts(&b, "  - sleep: 0\n");
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), 0);
	assert_int_equal(job->nsteps, JOB_MAX_STEPS);
	job_free(job);
	job = NULL;

	buf_puts(&b, "  - sleep: 0\n");
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), -1);
	assert_null(job);
	assert_string_equal(err.msg, BAD_PATH ":2:3: too many steps (257; at most 256)");
	buf_free(&b);
}

struct bad_case {
	const char *name;
	const char *text;
	const char *msg;  /* the message after "jobs.d/bad.yaml:", whole or ... */
	const char *part; /* ... when set, its start, and this is in the rest */
};

/* BAD: the whole message must match; BAD_PART: its start, then a part */
#define BAD(name, text, msg) {name, text, msg, NULL}
#define BAD_PART(name, text, msg, part) {name, text, msg, part}

static const struct bad_case bad_cases[] = {
	BAD("unknown top-level key", "description: x\nstpes:\n  - exec: ls\n",
	    "2:1: unknown key 'stpes' (expected one of: description, timeout, retries, ssh, steps)"),
	BAD("unknown step option", "steps:\n  - exec: ls\n    expcet: foo\n",
	    "3:5: unknown key 'expcet' in exec step (expected one of: name, expect, timeout)"),
	BAD("option of another kind", "steps:\n  - sleep: 1s\n    expect: x\n",
	    "3:5: unknown key 'expect' in sleep step (expected one of: name)"),
	BAD("two kind keys", "steps:\n  - exec: ls\n    sleep: 1s\n",
	    "3:5: two kind keys in one step, 'exec' and 'sleep' (a step has exactly one of: exec, sleep, ssh)"),
	BAD("no kind key", "steps:\n  - name: x\n",
	    "2:5: step has no kind key (expected exactly one of: exec, sleep, ssh)"),
	BAD("misspelt kind key", "steps:\n  - name: x\n    exce: ls\n",
	    "3:5: unknown key 'exce' in step (expected a kind key, one of: exec, sleep, ssh)"),
	BAD("bad sleep duration", "steps:\n  - sleep: 5 parsecs\n",
	    "2:12: 'sleep': expected a duration such as 30s, 500ms or 2m, got '5 parsecs'"),
	BAD("bad timeout duration", "timeout: 5 parsecs\nsteps:\n  - exec: ls\n",
	    "1:10: 'timeout': expected a duration such as 30s, 500ms or 2m, got '5 parsecs'"),
	BAD("timeout of wrong type", "timeout: [1, 2]\nsteps:\n  - exec: ls\n",
	    "1:10: 'timeout': expected a duration such as 30s, 500ms or 2m, got a list"),
	BAD("zero timeout", "steps:\n- exec: ls\n  timeout: 0\n", "3:12: 'timeout': must be more than 0"),
	BAD("retries not a number", "retries: abc\nsteps:\n  - exec: ls\n",
	    "1:10: 'retries': expected a whole number from 0 to 100, got 'abc'"),
	BAD("retries out of range", "retries: 101\nsteps:\n  - exec: ls\n",
	    "1:10: 'retries': expected a whole number from 0 to 100, got '101'"),
	BAD("bad regex", "steps:\n  - exec: ls\n    expect: 'a(b'\n",
	    "3:13: 'expect': bad regex: missing closing parenthesis (at position 4 of the pattern)"),
	BAD("step not a mapping", "steps:\n  - ls\n",
	    "2:5: step 1: expected a mapping with a kind key such as 'exec: CMD', got 'ls'"),
	BAD("steps not a list", "steps: ls\n", "1:8: 'steps': expected a list of steps, got 'ls'"),
	BAD("steps a mapping", "steps:\n  exec: ls\n", "2:3: 'steps': expected a list of steps, got a mapping"),
	BAD("empty steps", "steps: []\n", "1:8: 'steps' is empty (expected at least one step)"),
	BAD("missing steps", "description: x\n", "1:1: missing 'steps' (expected a list of steps)"),
	BAD("top level a list", "- exec: ls\n",
	    "1:1: expected a mapping at the top level (with keys description, timeout, retries, ssh, steps), got a list"),
	BAD("unterminated quote", "steps:\n  - exec: 'ls\n",
	    "3:1: invalid YAML: found unexpected end of stream (while scanning a quoted scalar at line 2 column 11)"),
	BAD("bad indentation", "steps:\n  - exec: ls\n  bad: x: y\n",
	    "3:3: invalid YAML: did not find expected '-' indicator (while parsing a block collection at line 2 column 3)"),
	BAD("invalid UTF-8", "steps:\n  - exec: \"\xff\"\n", "2:12: invalid YAML: invalid leading UTF-8 octet (0xFF)"),
	BAD("duplicate top-level key", "timeout: 1s\ntimeout: 2s\nsteps:\n  - exec: ls\n",
	    "2:1: duplicate key 'timeout' (first at line 1)"),
	BAD("duplicate step option", "steps:\n  - exec: ls\n    name: a\n    name: b\n",
	    "4:5: duplicate key 'name' (first at line 3)"),
	BAD("duplicate kind key", "steps:\n  - exec: ls\n    exec: pwd\n", "3:5: duplicate key 'exec' (first at line 2)"),
	/* the template rules and their wording belong to tmpl.c; here only
	 * where the error is reported and that it says what kind of error */
	BAD_PART("unterminated template", "steps:\n  - exec: echo ${host\n",
	    "2:5: bad template at position 6 of the exec command: ", "unterminated '${'"),
	BAD_PART("empty template", "steps:\n  - exec: echo ${}\n",
	    "2:5: bad template at position 6 of the exec command: ", "empty"),
	BAD_PART("bad template name", "steps:\n  - exec: echo ${env:HOME} \u00e9${a b}\n",
	    "2:5: bad template at position 19 of the exec command: ", "'a b'"),
	BAD("unsupported kind http", "steps:\n  - http: GET /\n",
	    "2:5: step kind 'http' is not available in this build (available: exec, sleep, ssh)"),
	BAD("unsupported kind ping", "steps:\n  - exec: ls\n  - ping: {count: 3}\n",
	    "3:5: step kind 'ping' is not available in this build (available: exec, sleep, ssh)"),
	BAD("unsupported top-level http", "http:\n  base: https://x\nsteps:\n  - exec: ls\n",
	    "1:1: 'http' settings are not available in this build (step kinds available: exec, sleep, ssh)"),
	BAD("unknown ssh key", "ssh:\n  user: admin\n  username: admin\nsteps:\n  - ssh: ls\n",
	    "3:3: unknown key 'username' in ssh (expected one of: user, port, key, passphrase, passphrase_file, "
	    "password, password_file, agent, known_hosts, host_key_policy, connect_timeout, idle_timeout, "
	    "keepalive, pty)"),
	BAD("bad host key policy", "ssh:\n  host_key_policy: loose\nsteps:\n  - ssh: ls\n",
	    "2:20: 'host_key_policy': expected one of strict, accept-new, off, got 'loose'"),
	BAD("host key policy a list", "ssh:\n  host_key_policy: [strict]\nsteps:\n  - ssh: ls\n",
	    "2:20: 'host_key_policy': expected one of strict, accept-new, off, got a list"),
	BAD("port 0", "ssh:\n  port: 0\nsteps:\n  - ssh: ls\n",
	    "2:9: 'port': expected a port number from 1 to 65535 or a template such as ${port}, got '0'"),
	BAD("port 70000", "ssh:\n  port: 70000\nsteps:\n  - ssh: ls\n",
	    "2:9: 'port': expected a port number from 1 to 65535 or a template such as ${port}, got '70000'"),
	BAD("port not a number", "ssh:\n  port: abc\nsteps:\n  - ssh: ls\n",
	    "2:9: 'port': expected a port number from 1 to 65535 or a template such as ${port}, got 'abc'"),
	BAD("port with a sign", "ssh:\n  port: +22\nsteps:\n  - ssh: ls\n",
	    "2:9: 'port': expected a port number from 1 to 65535 or a template such as ${port}, got '+22'"),
	BAD_PART("port a bad template", "ssh:\n  port: ${port\nsteps:\n  - ssh: ls\n",
	    "2:9: bad template at position 1 of the ssh 'port' setting: ", "unterminated '${'"),
	BAD("agent not a boolean", "ssh:\n  agent: maybe\nsteps:\n  - ssh: ls\n",
	    "2:10: 'agent': expected true, false, yes or no, got 'maybe'"),
	BAD("agent on", "ssh:\n  agent: on\nsteps:\n  - ssh: ls\n",
	    "2:10: 'agent': expected true, false, yes or no, got 'on'"),
	BAD("agent a mapping", "ssh:\n  agent: {use: yes}\nsteps:\n  - ssh: ls\n",
	    "2:10: 'agent': expected true, false, yes or no, got a mapping"),
	BAD("bad connect_timeout", "ssh:\n  connect_timeout: soon\nsteps:\n  - ssh: ls\n",
	    "2:20: 'connect_timeout': expected a duration such as 30s, 500ms or 2m, got 'soon'"),
	BAD("zero connect_timeout", "ssh:\n  connect_timeout: 0s\nsteps:\n  - ssh: ls\n",
	    "2:20: 'connect_timeout': must be more than 0"),
	BAD("bad idle_timeout", "ssh:\n  idle_timeout: -1s\nsteps:\n  - ssh: ls\n",
	    "2:17: 'idle_timeout': expected a duration such as 30s, 500ms or 2m, got '-1s'"),
	BAD("bad keepalive", "ssh:\n  keepalive: ~\nsteps:\n  - ssh: ls\n",
	    "2:14: 'keepalive': expected a duration such as 30s, 500ms or 2m, got nothing"),
	BAD("bad ssh pty", "ssh:\n  pty: 1\nsteps:\n  - ssh: ls\n",
	    "2:8: 'pty': expected true, false, yes or no, got '1'"),
	BAD("user a list", "ssh:\n  user: [a, b]\nsteps:\n  - ssh: ls\n",
	    "2:9: 'user': expected a string, got a list"),
	BAD_PART("bad template in an ssh setting", "ssh:\n  key: /keys/${host\nsteps:\n  - ssh: ls\n",
	    "2:8: bad template at position 7 of the ssh 'key' setting: ", "unterminated '${'"),
	BAD("password and password_file", "ssh:\n  password_file: /p\n  user: u\n  password: x\nsteps:\n  - ssh: ls\n",
	    "4:3: give password or password_file, not both"),
	BAD("passphrase and passphrase_file",
	    "ssh:\n  passphrase: ${env:P}\n  passphrase_file: /p\nsteps:\n  - ssh: ls\n",
	    "3:3: give passphrase or passphrase_file, not both"),
	BAD("duplicate ssh key", "ssh:\n  user: a\n  user: b\nsteps:\n  - ssh: ls\n",
	    "3:3: duplicate key 'user' (first at line 2)"),
	BAD("duplicate ssh section", "ssh: {}\nssh: {}\nsteps:\n  - ssh: ls\n",
	    "2:1: duplicate key 'ssh' (first at line 1)"),
	BAD("ssh section not a mapping", "ssh: admin@rtr1\nsteps:\n  - ssh: ls\n",
	    "1:6: 'ssh': expected a mapping of connection settings such as 'user: admin', got 'admin@rtr1'"),
	BAD("ssh section a list", "ssh:\n  - user: admin\nsteps:\n  - ssh: ls\n",
	    "2:3: 'ssh': expected a mapping of connection settings such as 'user: admin', got a list"),
	BAD("ssh section empty", "ssh:\nsteps:\n  - ssh: ls\n",
	    "1:5: 'ssh': expected a mapping of connection settings such as 'user: admin', got nothing"),
	BAD("empty ssh command", "steps:\n  - ssh: ''\n", "2:10: 'ssh': the command is empty"),
	BAD("blank ssh command", "steps:\n  - ssh: \"  \"\n", "2:10: 'ssh': the command is empty"),
	BAD("null ssh command", "steps:\n  - ssh:\n    name: x\n", "2:9: 'ssh': expected a command, got nothing"),
	BAD_PART("bad template in an ssh command", "steps:\n  - ssh: show ${host\n",
	    "2:5: bad template at position 6 of the ssh command: ", "unterminated '${'"),
	BAD("unknown option on an ssh step", "steps:\n  - ssh: ls\n    exec_timeout: 5s\n",
	    "3:5: unknown key 'exec_timeout' in ssh step (expected one of: name, expect, timeout, pty)"),
	BAD("pty on an exec step", "steps:\n  - exec: ls\n    pty: true\n",
	    "3:5: unknown key 'pty' in exec step (expected one of: name, expect, timeout)"),
	BAD("bad step pty", "steps:\n  - ssh: ls\n    pty: sometimes\n",
	    "3:10: 'pty': expected true, false, yes or no, got 'sometimes'"),
	BAD("bad regex on an ssh step", "steps:\n  - ssh: ls\n    expect: '[a'\n",
	    "3:13: 'expect': bad regex: missing terminating ] for character class (at position 3 of the pattern)"),
	BAD("zero timeout on an ssh step", "steps:\n  - ssh: ls\n    timeout: 0\n", "3:14: 'timeout': must be more than 0"),
	BAD("exec and ssh in one step", "steps:\n  - ssh: ls\n    exec: ls\n",
	    "3:5: two kind keys in one step, 'ssh' and 'exec' (a step has exactly one of: exec, sleep, ssh)"),
	BAD("empty file", "", "1:1: empty job file (expected a mapping with steps)"),
	BAD("only comments", "# nothing here\n\n", "1:1: empty job file (expected a mapping with steps)"),
	BAD("empty command", "steps:\n  - exec: \"  \"\n", "2:11: 'exec': the command is empty"),
	BAD("command a list", "steps:\n  - exec: [ls]\n", "2:11: 'exec': expected a command, got a list"),
	BAD("description a mapping", "description: {a: b}\nsteps:\n  - exec: ls\n",
	    "1:14: 'description': expected a string, got a mapping"),
	BAD("null name", "steps:\n  - exec: ls\n    name: ~\n", "3:11: 'name': expected a string, got nothing"),
	BAD("NUL in a string", "steps:\n  - exec: \"a\\0b\"\n", "2:11: 'exec': contains a NUL character"),
	BAD("key not a string", "? [a]\n: b\n", "1:3: expected a key name, got a list"),
	BAD("second document", "steps:\n  - exec: ls\n---\nsteps: []\n",
	    "3:1: a second YAML document (a job file holds one)"),
	BAD("control characters in a key", "\"a\\tb\": 1\n",
	    "1:1: unknown key 'a?b' (expected one of: description, timeout, retries, ssh, steps)"),
	BAD("long key cut short",
	    "steps:\n  - exec: ls\n    "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
	    "3:5: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in exec step "
	    "(expected one of: name, expect, timeout)"),
};

static void test_bad_case(void **state)
{
	const struct bad_case *bc = *state;
	struct job *job = NULL;
	struct err err = {{0}};
	char want[1024];

	snprintf(want, sizeof(want), "%s:%s", BAD_PATH, bc->msg);
	assert_int_equal(parse(BAD_PATH, bc->text, &job, &err), -1);
	assert_null(job); /* untouched on error */
	if (!bc->part) {
		assert_string_equal(err.msg, want);
		return;
	}
	if (strncmp(err.msg, want, strlen(want)) != 0 || !strstr(err.msg + strlen(want), bc->part))
		fail_msg("got \"%s\", want \"%s...%s...\"", err.msg, want, bc->part);
}

static void test_load(void **state)
{
	static const char text[] = "description: loaded\nsteps:\n  - exec: ls\n";
	char path[] = "/tmp/fleetrun-test-job-XXXXXX.yaml";
	struct job *job = NULL;
	struct err err = {{0}};
	char want[1024];
	int fd;

	(void)state;
	fd = mkstemps(path, 5);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	assert_int_equal(job_load(path, &job, &err), 0);
	assert_string_equal(job->description, "loaded");
	assert_string_equal(job->path, path);
	assert_string_equal(job->source, text);
	assert_int_equal(strncmp(job->name, "fleetrun-test-job-", 18), 0);
	assert_null(strstr(job->name, ".yaml"));
	job_free(job);
	job = NULL;

	/* errors from the parse name the file */
	fd = open(path, O_WRONLY | O_TRUNC);
	assert_true(fd >= 0);
	close(fd);
	assert_int_equal(job_load(path, &job, &err), -1);
	snprintf(want, sizeof(want), "%s:1:1: empty job file (expected a mapping with steps)", path);
	assert_string_equal(err.msg, want);
	unlink(path);

	assert_int_equal(job_load(path, &job, &err), -1);
	assert_null(job);
	snprintf(want, sizeof(want), "%s: cannot read: No such file or directory", path);
	assert_string_equal(err.msg, want);

	assert_int_equal(job_load("/tmp", &job, &err), -1);
	assert_string_equal(err.msg, "/tmp: cannot read: Is a directory");
}

/* xorshift64: the same "random" inputs on every run and every machine */
static uint64_t rng_next(uint64_t *s)
{
	*s ^= *s << 13;
	*s ^= *s >> 7;
	*s ^= *s << 17;
	return *s;
}

static void check_garbage(const char *text, size_t len)
{
	struct job *job = NULL;
	struct err err = {{0}};

	if (job_parse(BAD_PATH, text, len, &job, &err) == 0) {
		assert_non_null(job);
		assert_true(job->nsteps > 0 && job->nsteps <= JOB_MAX_STEPS);
		job_free(job);
	} else {
		assert_null(job);
		assert_int_equal(strncmp(err.msg, BAD_PATH ":", strlen(BAD_PATH) + 1), 0);
	}
}

/* Garbage of three sorts: raw bytes, shuffled YAML-ish tokens, and a good
 * job with bytes flipped. None may crash; under ASan or valgrind none may
 * leak. Counts are fixed, so the test is bounded in time. */
static void test_garbage(void **state)
{
	static const char *const tokens[] = {
		"steps:", "- ", "exec: ", "sleep: ", "name: ", "expect: ", "timeout: ", "retries: ",
		"description: ", "ssh: ", "user: ", "port: ", "agent: ", "pty: ", "password: ",
		"password_file: ", "host_key_policy: ", "keepalive: ", "\n", "  ", "{", "}", "[", "]", ",", ":", "'", "\"", "&a ",
		"*a", "? ", "---\n", "${", "}", "${env:X}", "(", "1s", "0", "ls", "~", "#", "!!str ",
		"\\", "\t", "|\n", ">\n", "%YAML 1.1\n", "\xc3\xa9", "\xff",
	};
	static const char good[] =
		"description: x\ntimeout: 30s\nretries: 1\nssh:\n  user: ${u}\n  port: 22\n  agent: no\n"
		"  password: ${env:P}\n  host_key_policy: off\n  keepalive: 5s\nsteps:\n  - exec: echo ${host}\n"
		"    expect: 'a+(b|c)'\n    timeout: 1s\n  - sleep: 0\n    name: nap\n  - ssh: show ${x}\n    pty: yes\n";
	/* bytes that mean something to YAML, templates or durations, so that
	 * flipped jobs get past the scanner into the validation */
	static const char yamlish[] = "ab0s :-,{}[]'\"${}#\n\t&*?|>!~(\\\0\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct buf b = BUF_INIT;
	char raw[512];
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t len = rng_next(&seed) % sizeof(raw), i;
		for (i = 0; i < len; i++)
			raw[i] = (char)rng_next(&seed);
		check_garbage(raw, len);
	}
	for (round = 0; round < 300; round++) {
		size_t n = rng_next(&seed) % 60, i;
		buf_reset(&b);
		for (i = 0; i < n; i++)
			buf_puts(&b, tokens[rng_next(&seed) % ARRAY_LEN(tokens)]);
		check_garbage(b.data ? b.data : "", b.len);
	}
	for (round = 0; round < 300; round++) {
		size_t flips = 1 + rng_next(&seed) % 3, i;
		buf_reset(&b);
		buf_puts(&b, good);
		for (i = 0; i < flips; i++)
			b.data[rng_next(&seed) % b.len] = yamlish[rng_next(&seed) % (sizeof(yamlish) - 1)];
		check_garbage(b.data, b.len);
	}
	buf_free(&b);
}

int main(void)
{
	static const struct CMUnitTest fixed[] = {
		cmocka_unit_test(test_good_job),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_ssh_job),
		cmocka_unit_test(test_ssh_defaults),
		cmocka_unit_test(test_ssh_values),
		cmocka_unit_test(test_hostkey_policy),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_too_many_steps),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_garbage),
	};
	/* one named test per malformed job, so a failure says which */
	struct CMUnitTest tests[ARRAY_LEN(fixed) + ARRAY_LEN(bad_cases)];
	size_t i;

	for (i = 0; i < ARRAY_LEN(fixed); i++)
		tests[i] = fixed[i];
	for (i = 0; i < ARRAY_LEN(bad_cases); i++) {
		struct CMUnitTest t = {
			.name = bad_cases[i].name,
			.test_func = test_bad_case,
			.initial_state = (void *)&bad_cases[i],
		};
		tests[ARRAY_LEN(fixed) + i] = t;
	}
	return cmocka_run_group_tests_name("job", tests, NULL, NULL);
}
