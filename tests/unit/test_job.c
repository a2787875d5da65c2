/* Unit tests for the job parser (common/job.c, job_http.c, yaml_json.c):
 * a good job, malformed jobs with the exact "file:line:column: message"
 * each must give, job_load, and garbage that must never crash the parser. */
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
#include "yamldepth.h"
#include "util.h"

#define BAD_PATH "jobs.d/bad.yaml"
/* a well-formed public key pin: the SHA-256 of nothing */
#define PIN "sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU="

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

/* ssh algorithms: each spec kept as written, the rest NULL (default). */
static void test_ssh_algorithms(void **state)
{
	static const char text[] = "ssh:\n"
	                           "  algorithms:\n"
	                           "    kex: ^diffie-hellman-group14-sha1\n"
	                           "    pubkey: -ssh-ed25519*\n"
	                           "steps:\n"
	                           "  - ssh: show version\n";
	struct job *job = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(parse("jobs.d/rtr.yaml", text, &job, &err), 0);
	assert_string_equal(job->ssh.algorithms[SSHALGS_KEX], "^diffie-hellman-group14-sha1");
	assert_string_equal(job->ssh.algorithms[SSHALGS_PUBKEY], "-ssh-ed25519*");
	assert_null(job->ssh.algorithms[SSHALGS_HOSTKEY]);
	assert_null(job->ssh.algorithms[SSHALGS_CIPHERS]);
	assert_null(job->ssh.algorithms[SSHALGS_MACS]);
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

/* The login limits (--max-logins): numbers, 0 for none. */
static void test_ssh_logins(void **state)
{
	struct job *job = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(parse("jobs.d/j.yaml", "ssh:\n  max_logins: 4\n  jump_max_logins: 0\nsteps:\n  - ssh: ls\n",
	                       &job, &err),
	                 0);
	assert_int_equal(job->ssh.max_logins, 4);
	assert_int_equal(job->ssh.jump_max_logins, 0);
	job_free(job);
	assert_int_equal(parse("jobs.d/j.yaml", "ssh:\n  max_logins: -1\nsteps:\n  - ssh: ls\n", &job, &err), -1);
	assert_non_null(strstr(err.msg, "j.yaml:2:15: "));
	assert_non_null(strstr(err.msg, "max_logins"));
	assert_int_equal(parse("jobs.d/j.yaml", "ssh:\n  jump_max_logins: many\nsteps:\n  - ssh: ls\n", &job, &err),
	                 -1);
	assert_non_null(strstr(err.msg, "jump_max_logins"));
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
		assert_int_equal(job->ssh.max_logins, 0);
		assert_int_equal(job->ssh.jump_max_logins, JOB_SSH_DEFAULT_JUMP_MAX_LOGINS);
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

/* One boolean grammar (util.h bool_parse): true/false, yes/no, on/off and
 * 1/0 in any case, for every boolean key of a job file; follow_redirects
 * reads a leading digit as a count of redirects. */
static void test_bool_grammar(void **state)
{
	static const char text[] =
		"ssh:\n"
		"  agent: on\n"
		"  pty: 1\n"
		"http:\n"
		"  insecure: OFF\n"
		"  follow_redirects: On\n"
		"steps:\n"
		"  - ssh: ls\n"
		"    pty: 0\n"
		"  - ssh: ls\n"
		"    pty: 'Off'\n";
	static const struct {
		const char *word;
		int value;
	} words[] = {
		{"true", 1}, {"True", 1}, {"yes", 1}, {"YES", 1}, {"on", 1}, {"ON", 1}, {"1", 1},
		{"false", 0}, {"FALSE", 0}, {"no", 0}, {"No", 0}, {"off", 0}, {"oFF", 0}, {"0", 0},
	};
	struct job *job = NULL;
	struct err err = {{0}};
	char buf[128];
	size_t i;

	(void)state;
	if (parse("jobs.d/b.yaml", text, &job, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(job->ssh.agent, 1);
	assert_int_equal(job->ssh.pty, 1);
	assert_int_equal(job->http.insecure, 0);
	assert_int_equal(job->http.follow_redirects, JOB_HTTP_MAX_REDIRECTS);
	assert_int_equal(job->steps[0].pty, 0);
	assert_int_equal(job->steps[1].pty, 0);
	job_free(job);
	for (i = 0; i < ARRAY_LEN(words); i++) {
		snprintf(buf, sizeof(buf), "http:\n  insecure: %s\nsteps:\n  - tcp: 22\n", words[i].word);
		if (parse("jobs.d/b.yaml", buf, &job, &err) < 0)
			fail_msg("insecure: %s: %s", words[i].word, err.msg);
		assert_int_equal(job->http.insecure, words[i].value);
		job_free(job);
	}
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

static void test_http_job(void **state)
{
	static const char text[] =
		"description: F5 status\n"
		"http:\n"
		"  base: https://${host}\n"
		"  user: admin\n"
		"  password: ${env:F5_PASSWORD}\n"
		"  token: ${token}\n"
		"  headers:\n"
		"    Accept: application/json\n"
		"    X-F5-Auth-Token: ${auth}\n"
		"  ca: /etc/fleetrun/f5-ca.pem\n"
		"  cert: /etc/fleetrun/client.pem\n"
		"  cert_key: /etc/fleetrun/client.key\n"
		"  pinned_key: " PIN ";" PIN "\n"
		"  insecure: yes\n"
		"  connect_timeout: 3s\n"
		"  follow_redirects: 3\n"
		"steps:\n"
		"  - http: GET /mgmt/tm/sys/version\n"
		"    capture: {version: '.entries[].nestedStats.entries.Version.description', _b2: .build}\n"
		"  - name: failover\n"
		"    http: POST https://${host}:8443/api?x=1\n"
		"    headers: {Content-Type: text/plain}\n"
		"    body: \"hello ${host}\"\n"
		"    expect_status: [200, 3xx, 404]\n"
		"    expect: 'ok'\n"
		"    timeout: 5s\n"
		"  - http:\n"
		"      method: PUT\n"
		"      path: /mgmt/tm/ltm/pool/${pool}\n"
		"      headers:\n"
		"        X-Req: \"1\"\n"
		"      json:\n"
		"        name: ${pool}\n"
		"        members: [a, \"b\", 1, -2.5, 0x1F, 1_000, 010, 1e3, .5, true, False, ~, null, \"true\", yes, '',\n"
		"                  [], {}]\n"
		"        nested: {k: {\"q\\\"uote\": \"a\\\\b\\t\u00e9\"}}\n"
		"      expect_status: 5XX\n"
		"      check: '.name == \"x\" and (.members | length) > 0'\n"
		"    timeout: 2s\n"
		"  - http: {url: \"http://${address}/health\"}\n"
		"  - http: PATCH /x\n"
		"    json: [1, {a: \"${v}\"}]\n";
	struct job *job = NULL;
	struct err err = {{0}};
	struct step_http *h;
	struct step *s;

	(void)state;
	if (parse("jobs.d/f5.yaml", text, &job, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(job->has_http, 1);
	assert_int_equal(job->has_ssh, 0);
	assert_string_equal(job->http.base, "https://${host}");
	assert_string_equal(job->http.user, "admin");
	assert_string_equal(job->http.password, "${env:F5_PASSWORD}");
	assert_null(job->http.password_file);
	assert_string_equal(job->http.token, "${token}");
	assert_int_equal(job->http.headers.len, 2);
	assert_string_equal(job->http.headers.items[0].key, "Accept");
	assert_string_equal(job->http.headers.items[0].value, "application/json");
	assert_string_equal(job->http.headers.items[1].key, "X-F5-Auth-Token");
	assert_string_equal(job->http.headers.items[1].value, "${auth}");
	assert_string_equal(job->http.ca, "/etc/fleetrun/f5-ca.pem");
	assert_string_equal(job->http.cert, "/etc/fleetrun/client.pem");
	assert_string_equal(job->http.cert_key, "/etc/fleetrun/client.key");
	assert_string_equal(job->http.pinned_key, PIN ";" PIN);
	assert_int_equal(job->http.insecure, 1);
	assert_int_equal(job->http.connect_timeout_ms, 3000);
	assert_int_equal(job->http.follow_redirects, 3);
	assert_int_equal(job->nsteps, 5);

	s = &job->steps[0];
	assert_int_equal(s->kind, STEP_HTTP);
	assert_string_equal(step_kind_name(s->kind), "http");
	assert_string_equal(s->text, "GET /mgmt/tm/sys/version");
	assert_string_equal(s->name, "GET /mgmt/tm/sys/version");
	assert_int_equal(s->timeout_ms, 0);
	h = s->http;
	assert_non_null(h);
	assert_string_equal(h->method, "GET");
	assert_string_equal(h->path, "/mgmt/tm/sys/version");
	assert_null(h->url);
	assert_int_equal(h->headers.len, 0);
	assert_null(h->body);
	assert_null(h->json);
	assert_null(h->check);
	assert_int_equal(h->expect_status[0], 2);
	assert_int_equal(h->expect_status[1], 0);
	assert_int_equal(h->capture.len, 2);
	assert_string_equal(h->capture.items[0].key, "version");
	assert_string_equal(h->capture.items[0].value, ".entries[].nestedStats.entries.Version.description");
	assert_string_equal(h->capture.items[1].key, "_b2");
	assert_string_equal(h->capture.items[1].value, ".build");

	s = &job->steps[1];
	assert_string_equal(s->text, "POST https://${host}:8443/api?x=1");
	assert_string_equal(s->name, "failover");
	assert_string_equal(s->expect, "ok");
	assert_int_equal(s->timeout_ms, 5000);
	h = s->http;
	assert_string_equal(h->method, "POST");
	assert_null(h->path);
	assert_string_equal(h->url, "https://${host}:8443/api?x=1");
	assert_int_equal(h->headers.len, 1);
	assert_string_equal(h->headers.items[0].key, "Content-Type");
	assert_string_equal(h->headers.items[0].value, "text/plain");
	assert_string_equal(h->body, "hello ${host}");
	assert_null(h->json);
	assert_int_equal(h->expect_status[0], 200);
	assert_int_equal(h->expect_status[1], 3);
	assert_int_equal(h->expect_status[2], 404);
	assert_int_equal(h->expect_status[3], 0);
	assert_int_equal(h->capture.len, 0);

	s = &job->steps[2];
	assert_string_equal(s->text, "PUT /mgmt/tm/ltm/pool/${pool}");
	assert_string_equal(s->name, s->text);
	assert_int_equal(s->timeout_ms, 2000);
	assert_int_equal(s->line, 27);
	assert_int_equal(s->column, 5);
	h = s->http;
	assert_string_equal(h->method, "PUT");
	assert_string_equal(h->path, "/mgmt/tm/ltm/pool/${pool}");
	assert_null(h->url);
	assert_int_equal(h->headers.len, 1);
	assert_string_equal(h->headers.items[0].key, "X-Req");
	assert_string_equal(h->headers.items[0].value, "1");
	assert_null(h->body);
	assert_string_equal(h->json, "{\"name\":\"${pool}\",\"members\":[\"a\",\"b\",1,-2.5,31,1000,8,1e3,0.5,true,false,null,"
	                             "null,\"true\",\"yes\",\"\",[],{}],\"nested\":{\"k\":{\"q\\\"uote\":\"a\\\\b\\t\u00e9\"}}}");
	assert_int_equal(h->expect_status[0], 5);
	assert_int_equal(h->expect_status[1], 0);
	assert_string_equal(h->check, ".name == \"x\" and (.members | length) > 0");

	s = &job->steps[3];
	assert_string_equal(s->text, "GET http://${address}/health");
	assert_string_equal(s->http->method, "GET");
	assert_null(s->http->path);
	assert_string_equal(s->http->url, "http://${address}/health");
	assert_int_equal(s->http->expect_status[0], 2);

	s = &job->steps[4];
	assert_string_equal(s->text, "PATCH /x");
	assert_string_equal(s->http->json, "[1,{\"a\":\"${v}\"}]");
	job_free(job);
}

/* Without the section every http setting has its default; a section
 * without a key means the same. */
static void test_http_defaults(void **state)
{
	static const char *const texts[] = {
		"steps:\n  - http: GET /\n",
		"http: {}\nsteps:\n  - http: GET /\n",
	};
	struct job *job = NULL;
	struct err err = {{0}};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(texts); i++) {
		assert_int_equal(parse("jobs.d/h.yaml", texts[i], &job, &err), 0);
		assert_int_equal(job->has_http, (int)i);
		assert_null(job->http.base);
		assert_null(job->http.user);
		assert_null(job->http.password);
		assert_null(job->http.password_file);
		assert_null(job->http.token);
		assert_int_equal(job->http.headers.len, 0);
		assert_null(job->http.ca);
		assert_null(job->http.cert);
		assert_null(job->http.cert_key);
		assert_null(job->http.pinned_key);
		assert_int_equal(job->http.insecure, 0);
		assert_int_equal(job->http.connect_timeout_ms, JOB_HTTP_DEFAULT_CONNECT_TIMEOUT_MS);
		assert_int_equal(job->http.follow_redirects, 0);
		assert_string_equal(job->steps[0].http->method, "GET");
		assert_string_equal(job->steps[0].http->path, "/");
		assert_int_equal(job->steps[0].pty, -1);
		assert_int_equal(job->steps[0].ping_count, 0);
		job_free(job);
	}
	/* steps of other kinds have no http part */
	assert_int_equal(parse("jobs.d/h.yaml", "steps:\n  - exec: ls\n", &job, &err), 0);
	assert_null(job->steps[0].http);
	job_free(job);
}

static void test_http_settings_values(void **state)
{
	static const struct {
		const char *text;
		int redirects;
		int insecure;
	} cases[] = {
		{"follow_redirects: true", JOB_HTTP_MAX_REDIRECTS, 0},
		{"follow_redirects: yes\ninsecure: false", JOB_HTTP_MAX_REDIRECTS, 0},
		{"follow_redirects: false\ninsecure: TRUE", 0, 1},
		{"follow_redirects: 0", 0, 0},
		{"follow_redirects: 1", 1, 0},
		{"follow_redirects: 20", 20, 0},
		{"follow_redirects: \"7\"", 7, 0},
		{"pinned_key: ${env:PIN}", 0, 0},
		{"pinned_key: sha256//${pin}", 0, 0},
		{"password_file: /etc/pw\nuser: ${user}", 0, 0},
		{"base: HTTPS://X", 0, 0},
		{"base: ${base}", 0, 0},
	};
	struct job *job = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		const char *line, *nl;

		buf_reset(&b);
		buf_puts(&b, "http:\n");
		for (line = cases[i].text; *line; line = *nl ? nl + 1 : nl) {
			nl = strchr(line, '\n');
			if (!nl)
				nl = line + strlen(line);
			buf_puts(&b, "  ");
			buf_append(&b, line, (size_t)(nl - line));
			buf_puts(&b, "\n");
		}
		buf_puts(&b, "steps:\n  - http: GET /\n");
		if (job_parse("jobs.d/v.yaml", b.data, b.len, &job, &err) < 0)
			fail_msg("case %zu: %s", i, err.msg);
		assert_int_equal(job->http.follow_redirects, cases[i].redirects);
		assert_int_equal(job->http.insecure, cases[i].insecure);
		job_free(job);
	}
	buf_free(&b);
}

/* json: a YAML value as JSON text; plain scalars typed as JSON reads
 * them, quoted ones always strings */
static void test_http_json_values(void **state)
{
	static const struct {
		const char *yaml;
		const char *json;
	} cases[] = {
		{"1", "1"}, {"-0", "-0"}, {"+12", "12"}, {"1_000", "1000"}, {"1_", "1"}, {"0", "0"}, {"00", "0"},
		{"0x1F", "31"}, {"-0x10", "-16"}, {"0o17", "15"}, {"0b101", "5"}, {"0755", "493"}, {"-0b0", "0"},
		{"99999999999999999999999", "99999999999999999999999"}, {"3.14", "3.14"}, {"1.", "1.0"},
		{".5", "0.5"}, {"-.5", "-0.5"}, {"1e3", "1e3"}, {"1.5E-3", "1.5e-3"}, {"6.02e+23", "6.02e+23"},
		{"007.5", "7.5"}, {"1_0.0_1", "10.01"},
		/* no number to JSON */
		{"08", "\"08\""}, {".inf", "\".inf\""}, {"-.inf", "\"-.inf\""}, {".nan", "\".nan\""},
		{"1.2.3", "\"1.2.3\""}, {"1e", "\"1e\""}, {"e5", "\"e5\""}, {".", "\".\""}, {"+", "\"+\""},
		{"0x", "\"0x\""}, {"0xZZ", "\"0xZZ\""}, {"0x_1", "\"0x_1\""}, {"_1", "\"_1\""},
		{"12:30", "\"12:30\""}, {"0x10000000000000000", "\"0x10000000000000000\""}, {"1 2", "\"1 2\""},
		/* quoted: always a string */
		{"'1'", "\"1\""}, {"\"true\"", "\"true\""}, {"'null'", "\"null\""}, {"''", "\"\""},
		/* words */
		{"true", "true"}, {"TRUE", "true"}, {"False", "false"}, {"tRuE", "\"tRuE\""}, {"yes", "\"yes\""},
		{"on", "\"on\""}, {"~", "null"}, {"null", "null"}, {"", "null"},
		/* strings that need escaping, and templates kept as written */
		{"\"tab\\there\"", "\"tab\\there\""}, {"\"\u00e9 ${host} $${x}\"", "\"\u00e9 ${host} $${x}\""},
		{"\"a/b\\\\c\\\"d\"", "\"a/b\\\\c\\\"d\""}, {"\"\\x01\"", "\"\\u0001\""},
		{"|\n      a\n      b", "\"a\\nb\\n\""},
		/* containers */
		{"[1, [2, [3]]]", "[1,[2,[3]]]"}, {"{a: 1, b: [x]}", "{\"a\":1,\"b\":[\"x\"]}"},
		{"{1: x, ~: y, 'k': true}", "{\"1\":\"x\",\"~\":\"y\",\"k\":true}"}, {"[]", "[]"}, {"{}", "{}"},
		{"{a: &x [1, 2], b: *x}", "{\"a\":[1,2],\"b\":[1,2]}"},
	};
	struct job *job = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_LEN(cases); i++) {
		buf_reset(&b);
		buf_printf(&b, "steps:\n  - http: POST /\n    json: %s\n", cases[i].yaml);
		if (job_parse("jobs.d/j.yaml", b.data, b.len, &job, &err) < 0)
			fail_msg("case %zu (%s): %s", i, cases[i].yaml, err.msg);
		if (strcmp(job->steps[0].http->json, cases[i].json) != 0)
			fail_msg("case %zu: json: %s gave %s, want %s", i, cases[i].yaml, job->steps[0].http->json,
			         cases[i].json);
		job_free(job);
	}
	buf_free(&b);
}

/* Aliases can repeat a subtree, or contain themselves: the walk is
 * bounded in depth and in output, and fails quickly. */
static void test_http_json_aliases(void **state)
{
	struct job *job = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	char prev = 'a', name;

	(void)state;
	assert_int_equal(parse(BAD_PATH, "steps:\n  - http: POST /\n    json: &a [*a]\n", &job, &err), -1);
	assert_string_equal(err.msg, BAD_PATH ":3:11: 'json': nested more than 64 levels deep");

	/* a billion laughs: 10^12 strings if expanded */
	buf_puts(&b, "steps:\n  - http: POST /\n    json:\n      a: &a [x, x, x, x, x, x, x, x, x, x]\n");
	for (name = 'b'; name <= 'm'; prev = name++)
		buf_printf(&b, "      %c: &%c [*%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c, *%c]\n", name, name, prev, prev,
		           prev, prev, prev, prev, prev, prev, prev, prev);
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), -1);
	assert_null(job);
	assert_non_null(strstr(err.msg, ": 'json': longer than 1048576 bytes as JSON"));
	buf_free(&b);
}

static void test_tcp_ping(void **state)
{
	static const char text[] =
		"steps:\n"
		"  - tcp: 443\n"
		"  - tcp: ${port}\n"
		"    name: port open\n"
		"    timeout: 1s\n"
		"  - tcp: \"65535\"\n"
		"  - ping:\n"
		"  - ping: {count: 5, timeout: 2s}\n"
		"  - ping: {count: 100}\n"
		"    timeout: 3s\n"
		"    name: ping100\n"
		"  - ping: {}\n"
		"  - ping: ~\n";
	struct job *job = NULL;
	struct err err = {{0}};
	struct step *s;

	(void)state;
	if (parse("jobs.d/net.yaml", text, &job, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(job->nsteps, 8);
	s = &job->steps[0];
	assert_int_equal(s->kind, STEP_TCP);
	assert_string_equal(step_kind_name(s->kind), "tcp");
	assert_string_equal(s->text, "443");
	assert_string_equal(s->name, "443");
	assert_int_equal(s->timeout_ms, 0);
	assert_null(s->http);
	s = &job->steps[1];
	assert_string_equal(s->text, "${port}");
	assert_string_equal(s->name, "port open");
	assert_int_equal(s->timeout_ms, 1000);
	assert_string_equal(job->steps[2].text, "65535");

	s = &job->steps[3];
	assert_int_equal(s->kind, STEP_PING);
	assert_string_equal(step_kind_name(s->kind), "ping");
	assert_string_equal(s->text, "ping");
	assert_string_equal(s->name, "ping");
	assert_int_equal(s->ping_count, 1);
	assert_int_equal(s->timeout_ms, 0);
	s = &job->steps[4];
	assert_int_equal(s->ping_count, 5);
	assert_int_equal(s->timeout_ms, 2000);
	s = &job->steps[5];
	assert_int_equal(s->ping_count, 100);
	assert_int_equal(s->timeout_ms, 3000);
	assert_string_equal(s->name, "ping100");
	assert_int_equal(job->steps[6].ping_count, 1);
	assert_int_equal(job->steps[7].ping_count, 1);
	assert_int_equal(job->steps[7].timeout_ms, 0);
	job_free(job);
}

/* config steps: a list or a block string (blank lines skipped, trailing
 * blanks dropped), save, commit, commit_confirmed in whole minutes. */
static void test_config_step(void **state)
{
	static const char text[] =
		"steps:\n"
		"  - config: [interface Gi1, ' description ${site}']\n"
		"    save: yes\n"
		"  - config: |\n"
		"      ntp server 10.0.0.1  \n"
		"\n"
		"      logging host 10.0.0.2\n"
		"    commit_confirmed: 10m\n"
		"    name: push\n"
		"  - config: []\n"
		"    commit: true\n";
	struct job *job = NULL;
	struct err err = {{0}};
	struct step *s;

	(void)state;
	if (parse("jobs.d/cfg.yaml", text, &job, &err) < 0)
		fail_msg("%s", err.msg);
	assert_int_equal(job->nsteps, 3);
	s = &job->steps[0];
	assert_int_equal(s->kind, STEP_CONFIG);
	assert_string_equal(step_kind_name(s->kind), "config");
	assert_int_equal(s->config->nlines, 2);
	assert_string_equal(s->config->lines[1], " description ${site}");
	assert_string_equal(s->name, "config: interface Gi1;  description ${site}");
	assert_true(s->config->save);
	assert_false(s->config->commit);
	s = &job->steps[1];
	assert_int_equal(s->config->nlines, 2);
	assert_string_equal(s->config->lines[0], "ntp server 10.0.0.1");
	assert_string_equal(s->config->lines[1], "logging host 10.0.0.2");
	assert_int_equal(s->config->commit_confirmed_ms, 600000);
	assert_string_equal(s->name, "push");
	s = &job->steps[2];
	assert_int_equal(s->config->nlines, 0);
	assert_true(s->config->commit);
	assert_null(job->steps[0].http);
	job_free(job);
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
	    "2:1: unknown key 'stpes' (expected one of: description, timeout, retries, ssh, http, cli, steps, inventory_may, templates)"),
	BAD("unknown step option", "steps:\n  - exec: ls\n    expcet: foo\n",
	    "3:5: unknown key 'expcet' in exec step (expected one of: name, expect, timeout)"),
	BAD("option of another kind", "steps:\n  - sleep: 1s\n    expect: x\n",
	    "3:5: unknown key 'expect' in sleep step (expected one of: name)"),
	BAD("two kind keys", "steps:\n  - exec: ls\n    sleep: 1s\n",
	    "3:5: two kind keys in one step, 'exec' and 'sleep' (a step has exactly one of: exec, sleep, ssh, http, tcp, ping, cli, config)"),
	BAD("no kind key", "steps:\n  - name: x\n",
	    "2:5: step has no kind key (expected exactly one of: exec, sleep, ssh, http, tcp, ping, cli, config)"),
	BAD("misspelt kind key", "steps:\n  - name: x\n    exce: ls\n",
	    "3:5: unknown key 'exce' in step (expected a kind key, one of: exec, sleep, ssh, http, tcp, ping, cli, config)"),
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
	    "1:1: expected a mapping at the top level (with keys description, timeout, retries, ssh, http, cli, steps, inventory_may, templates), got a list"),
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
	BAD("unknown ssh key", "ssh:\n  user: admin\n  username: admin\nsteps:\n  - ssh: ls\n",
	    "3:3: unknown key 'username' in ssh (expected one of: user, port, key, passphrase, passphrase_file, "
	    "password, password_file, agent, known_hosts, host_key_policy, connect_timeout, idle_timeout, "
	    "keepalive, pty, jump, jump_key, jump_password, jump_password_file, proxy_command, algorithms, max_logins, jump_max_logins, config)"),
	BAD("bad jump", "ssh:\n  jump: ops@b1,a@b@c\nsteps:\n  - ssh: ls\n",
	    "2:9: 'jump': jump hop 2: bad host (expected letters, digits, '.', '-', '_', or [IPv6]) (expected "
	    "[user@]host[:port][,...] or none)"),
	BAD("unknown algorithm", "ssh:\n  algorithms:\n    kex: +diffie-hellman-group1-sha1\n    macs: hmac-sha3\nsteps:\n  - ssh: ls\n",
	    "4:11: ssh algorithms macs: unknown algorithm 'hmac-sha3' (libssh2 1.11.1 knows: hmac-sha2-256-etm@openssh.com, "
	    "hmac-sha2-512-etm@openssh.com, hmac-sha1-etm@openssh.com, hmac-sha2-256, hmac-sha2-512, hmac-sha1, "
	    "hmac-sha1-96, hmac-md5, hmac-md5-96, hmac-ripemd160, hmac-ripemd160@openssh.com)"),
	BAD("unknown algorithm key", "ssh:\n  algorithms:\n    KexAlgorithms: curve25519-sha256\nsteps:\n  - ssh: ls\n",
	    "3:5: unknown key 'KexAlgorithms' in algorithms (expected one of: kex, hostkey, ciphers, macs, pubkey)"),
	BAD("algorithms a list", "ssh:\n  algorithms: [kex]\nsteps:\n  - ssh: ls\n",
	    "2:15: 'algorithms': expected a mapping of kex, hostkey, ciphers, macs and pubkey, got a list"),
	BAD("algorithms leave none", "ssh:\n  algorithms:\n    ciphers: -*\nsteps:\n  - ssh: ls\n",
	    "3:14: ssh algorithms ciphers: '-*' leaves no algorithm"),
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
	    "2:10: 'agent': expected true or false (also yes/no, on/off, 1/0), got 'maybe'"),
	BAD("agent a mapping", "ssh:\n  agent: {use: yes}\nsteps:\n  - ssh: ls\n",
	    "2:10: 'agent': expected true or false (also yes/no, on/off, 1/0), got a mapping"),
	BAD("agent one letter", "ssh:\n  agent: y\nsteps:\n  - ssh: ls\n",
	    "2:10: 'agent': expected true or false (also yes/no, on/off, 1/0), got 'y'"),
	BAD("bad connect_timeout", "ssh:\n  connect_timeout: soon\nsteps:\n  - ssh: ls\n",
	    "2:20: 'connect_timeout': expected a duration such as 30s, 500ms or 2m, got 'soon'"),
	BAD("zero connect_timeout", "ssh:\n  connect_timeout: 0s\nsteps:\n  - ssh: ls\n",
	    "2:20: 'connect_timeout': must be more than 0"),
	BAD("bad idle_timeout", "ssh:\n  idle_timeout: -1s\nsteps:\n  - ssh: ls\n",
	    "2:17: 'idle_timeout': expected a duration such as 30s, 500ms or 2m, got '-1s'"),
	BAD("bad keepalive", "ssh:\n  keepalive: ~\nsteps:\n  - ssh: ls\n",
	    "2:14: 'keepalive': expected a duration such as 30s, 500ms or 2m, got nothing"),
	BAD("bad ssh pty", "ssh:\n  pty: 2\nsteps:\n  - ssh: ls\n",
	    "2:8: 'pty': expected true or false (also yes/no, on/off, 1/0), got '2'"),
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
	    "3:5: unknown key 'exec_timeout' in ssh step (expected one of: name, expect, timeout, pty, parse, capture)"),
	BAD("bad parse value", "steps:\n  - ssh: ls\n    parse: ntc\n",
	    "3:12: 'parse': expected textfsm:FILE (a TextFSM template, relative to the job's directory) or auto, got 'ntc'"),
	BAD("parse on an http step", "steps:\n  - http: GET /\n    parse: auto\n",
	    "3:5: unknown key 'parse' in http step (expected one of: name, expect, timeout, headers, body, json, "
	    "expect_status, check, capture)"),
	BAD("capture not a mapping", "steps:\n  - cli: show version\n    capture: 'Version (.*)'\n",
	    "3:14: 'capture': expected a mapping of variable names to patterns such as 'version: \"Version ([^,]+),\"', "
	    "got 'Version (.*)'"),
	BAD("capture bad pattern", "steps:\n  - ssh: ls\n    capture: {v: 'a(b'}\n",
	    "3:18: 'capture': bad pattern for 'v': missing closing parenthesis (at position 4 of the pattern)"),
	BAD("capture twice", "steps:\n  - ssh: ls\n    capture: {v: a, v?: b}\n",
	    "3:21: 'capture': 'v' is captured twice"),
	BAD("capture bad name", "steps:\n  - ssh: ls\n    capture: {'?': a}\n",
	    "3:15: 'capture': '?' is not a variable name (a letter or _, then letters, digits or _, and a ? for a "
	    "value that may be missing)"),
	BAD("capture two keys", "steps:\n  - ssh: ls\n    capture: {v: {jq: ., regex: a}}\n",
	    "3:18: 'capture': 'v': expected one of regex: PATTERN or jq: EXPRESSION"),
	BAD("capture unknown key", "steps:\n  - ssh: ls\n    capture: {v: {re: a}}\n",
	    "3:19: 'capture': 'v': expected regex or jq, got 're'"),
	BAD("pty on an exec step", "steps:\n  - exec: ls\n    pty: true\n",
	    "3:5: unknown key 'pty' in exec step (expected one of: name, expect, timeout)"),
	BAD("bad step pty", "steps:\n  - ssh: ls\n    pty: sometimes\n",
	    "3:10: 'pty': expected true or false (also yes/no, on/off, 1/0), got 'sometimes'"),
	BAD("bad regex on an ssh step", "steps:\n  - ssh: ls\n    expect: '[a'\n",
	    "3:13: 'expect': bad regex: missing terminating ] for character class (at position 3 of the pattern)"),
	BAD("zero timeout on an ssh step", "steps:\n  - ssh: ls\n    timeout: 0\n", "3:14: 'timeout': must be more than 0"),
	BAD("exec and ssh in one step", "steps:\n  - ssh: ls\n    exec: ls\n",
	    "3:5: two kind keys in one step, 'ssh' and 'exec' (a step has exactly one of: exec, sleep, ssh, http, tcp, ping, cli, config)"),
	/* the http section */
	BAD("unknown http key", "http:\n  base: https://x\n  verify: no\nsteps:\n  - tcp: 22\n",
	    "3:3: unknown key 'verify' in http (expected one of: base, user, password, password_file, token, headers, "
	    "ca, cert, cert_key, pinned_key, insecure, connect_timeout, follow_redirects)"),
	BAD("http section not a mapping", "http: https://x\nsteps:\n  - tcp: 22\n",
	    "1:7: 'http': expected a mapping of connection settings such as 'base: https://${host}', got 'https://x'"),
	BAD("duplicate http section", "http: {}\nhttp: {}\nsteps:\n  - tcp: 22\n",
	    "2:1: duplicate key 'http' (first at line 1)"),
	BAD("http password and password_file",
	    "http:\n  password: ${env:P}\n  user: u\n  password_file: /p\nsteps:\n  - tcp: 22\n",
	    "4:3: give password or password_file, not both"),
	BAD("pinned_key without sha256//", "http:\n  pinned_key: 47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n"
	    "steps:\n  - tcp: 22\n",
	    "2:15: 'pinned_key': expected sha256// and the base64 SHA-256 of the server's public key (44 characters; "
	    "several joined with ;), got '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU='"),
	BAD("pinned_key too short", "http:\n  pinned_key: sha256//abc=\nsteps:\n  - tcp: 22\n",
	    "2:15: 'pinned_key': expected sha256// and the base64 SHA-256 of the server's public key (44 characters; "
	    "several joined with ;), got 'sha256//abc='"),
	BAD("pinned_key a file", "http:\n  pinned_key: " PIN ";/etc/pin.pem\nsteps:\n  - tcp: 22\n",
	    "2:15: 'pinned_key': expected sha256// and the base64 SHA-256 of the server's public key (44 characters; "
	    "several joined with ;), got 'sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=;/etc/pin.pem'"),
	BAD("base not a URL", "http:\n  base: example.com\nsteps:\n  - tcp: 22\n",
	    "2:9: 'base': expected a URL starting with http:// or https://, got 'example.com'"),
	BAD("base with a space", "http:\n  base: https://a b\nsteps:\n  - tcp: 22\n",
	    "2:9: 'base': contains a space or a control character (percent-encode it)"),
	BAD_PART("bad template in an http setting", "http:\n  token: ${env:T\nsteps:\n  - tcp: 22\n",
	    "2:10: bad template at position 1 of the http 'token' setting: ", "unterminated '${'"),
	BAD("bad header name", "http:\n  headers:\n    X Auth: 1\nsteps:\n  - tcp: 22\n",
	    "3:5: 'headers': 'X Auth' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)"),
	BAD("header name with a colon", "http:\n  headers: {\"X-A:\": 1}\nsteps:\n  - tcp: 22\n",
	    "2:13: 'headers': 'X-A:' is not a header name (letters, digits and !#$%&'*+-.^_`|~ only)"),
	BAD("header value with a line break", "http:\n  headers:\n    X-A: \"a\\r\\nX-B: b\"\nsteps:\n  - tcp: 22\n",
	    "3:10: 'X-A': a header value cannot hold a line break"),
	BAD("header given twice", "http:\n  headers:\n    Accept: a\n    accept: b\nsteps:\n  - tcp: 22\n",
	    "4:5: duplicate header 'accept'"),
	BAD("header value a list", "http:\n  headers:\n    Accept: [a, b]\nsteps:\n  - tcp: 22\n",
	    "3:13: 'Accept': expected a string, got a list"),
	BAD("headers a list", "http:\n  headers: [Accept: a]\nsteps:\n  - tcp: 22\n",
	    "2:12: 'headers': expected a mapping of header names to values such as 'Accept: text/plain', got a list"),
	BAD("insecure not a boolean", "http:\n  insecure: 01\nsteps:\n  - tcp: 22\n",
	    "2:13: 'insecure': expected true or false (also yes/no, on/off, 1/0), got '01'"),
	BAD("zero http connect_timeout", "http:\n  connect_timeout: 0\nsteps:\n  - tcp: 22\n",
	    "2:20: 'connect_timeout': must be more than 0"),
	BAD("follow_redirects 21", "http:\n  follow_redirects: 21\nsteps:\n  - tcp: 22\n",
	    "2:21: 'follow_redirects': expected true, false or a number of redirects from 0 to 20, got '21'"),
	BAD("follow_redirects a word", "http:\n  follow_redirects: always\nsteps:\n  - tcp: 22\n",
	    "2:21: 'follow_redirects': expected true, false or a number of redirects from 0 to 20, got 'always'"),
	BAD("follow_redirects negative", "http:\n  follow_redirects: -1\nsteps:\n  - tcp: 22\n",
	    "2:21: 'follow_redirects': expected true, false or a number of redirects from 0 to 20, got '-1'"),
	/* http steps */
	BAD("lower case method", "steps:\n  - http: get /x\n",
	    "2:11: 'http': expected an HTTP method in upper case such as GET or POST, got 'get'"),
	BAD("method without a path", "steps:\n  - http: GET\n",
	    "2:11: 'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version', got 'GET'"),
	BAD("three words", "steps:\n  - http: GET /x HTTP/1.1\n",
	    "2:11: 'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version', got 'GET /x HTTP/1.1'"),
	BAD("relative path", "steps:\n  - http: GET mgmt/tm\n",
	    "2:11: 'http': expected a path starting with / or a URL starting with http:// or https:// after the method, "
	    "got 'mgmt/tm'"),
	BAD("ftp URL", "steps:\n  - http: GET ftp://x/y\n",
	    "2:11: 'http': expected a path starting with / or a URL starting with http:// or https:// after the method, "
	    "got 'ftp://x/y'"),
	BAD_PART("bad template in an http path", "steps:\n  - http: GET /a/${b\n",
	    "2:11: bad template at position 4 of the http path: ", "unterminated '${'"),
	BAD("http a list", "steps:\n  - http: [GET, /]\n",
	    "2:11: 'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version' or a mapping with method and "
	    "path, got a list"),
	BAD("http nothing", "steps:\n  - http:\n",
	    "2:10: 'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version' or a mapping with method and "
	    "path, got nothing"),
	BAD("missing path", "steps:\n  - http: {method: POST}\n",
	    "2:11: 'http': missing path or url (a path is appended to the http section's base)"),
	BAD("path and url", "steps:\n  - http:\n      path: /a\n      url: http://x/a\n",
	    "4:7: give path or url, not both"),
	BAD("bad method in a mapping", "steps:\n  - http: {method: Get, path: /}\n",
	    "2:20: 'method': expected an HTTP method in upper case such as GET or POST, got 'Get'"),
	BAD("path without a slash", "steps:\n  - http: {path: x}\n",
	    "2:18: 'path': expected a path starting with /, got 'x'"),
	BAD("path with a space", "steps:\n  - http: {path: /a b}\n",
	    "2:18: 'path': contains a space or a control character (percent-encode it)"),
	BAD("url without a scheme", "steps:\n  - http: {url: x.example/a}\n",
	    "2:17: 'url': expected a URL starting with http:// or https://, got 'x.example/a'"),
	BAD("body and json beside", "steps:\n  - http: POST /a\n    body: x\n    json: {a: 1}\n",
	    "4:5: give body or json, not both"),
	BAD("json and body inside", "steps:\n  - http:\n      path: /a\n      json: [1]\n      body: x\n",
	    "5:7: give body or json, not both"),
	BAD("unknown key in an http mapping", "steps:\n  - http: {path: /a, verb: GET}\n",
	    "2:22: unknown key 'verb' in http step (expected one of: method, path, url, headers, body, json, "
	    "expect_status, check, capture)"),
	BAD("timeout inside an http mapping", "steps:\n  - http: {path: /a, timeout: 1s}\n",
	    "2:22: 'timeout' goes beside 'http:', not inside it"),
	BAD("body beside an http mapping", "steps:\n  - http: {path: /a}\n    body: x\n",
	    "3:5: 'body' goes inside 'http:' when that is a mapping"),
	BAD("unknown key beside http", "steps:\n  - http: GET /\n    verify: no\n",
	    "3:5: unknown key 'verify' in http step (expected one of: name, expect, timeout, headers, body, json, "
	    "expect_status, check, capture)"),
	BAD("pty beside http", "steps:\n  - http: GET /\n    pty: yes\n",
	    "3:5: unknown key 'pty' in http step (expected one of: name, expect, timeout, headers, body, json, "
	    "expect_status, check, capture)"),
	BAD("body a mapping", "steps:\n  - http: POST /\n    body: {a: 1}\n",
	    "3:11: 'body': expected a string (or json: for a JSON body), got a mapping"),
	BAD("json key a list", "steps:\n  - http: POST /\n    json: {? [a] : 1}\n",
	    "3:14: 'json': an object key must be a string, got a list"),
	BAD_PART("bad template in json", "steps:\n  - http: POST /\n    json: {a: [\"x ${y\"]}\n",
	    "3:16: bad template at position 3 of the json string: ", "unterminated '${'"),
	BAD("expect_status 99", "steps:\n  - http: GET /\n    expect_status: 99\n",
	    "3:20: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got '99'"),
	BAD("expect_status 600", "steps:\n  - http: GET /\n    expect_status: [200, 600]\n",
	    "3:26: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got '600'"),
	BAD("expect_status 7xx", "steps:\n  - http: {path: /, expect_status: 7xx}\n",
	    "2:36: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got '7xx'"),
	BAD("expect_status 2x", "steps:\n  - http: GET /\n    expect_status: 2x\n",
	    "3:20: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got '2x'"),
	BAD("expect_status signed", "steps:\n  - http: GET /\n    expect_status: +200\n",
	    "3:20: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got '+200'"),
	BAD("too many statuses",
	    "steps:\n  - http: GET /\n    expect_status: [200, 201, 202, 203, 204, 205, 206, 207, 208, 226, 300, 301, "
	    "302, 303, 304, 305]\n",
	    "3:20: 'expect_status': too many statuses (16; at most 15)"),
	BAD("no statuses", "steps:\n  - http: GET /\n    expect_status: []\n",
	    "3:20: 'expect_status': expected at least one status, got an empty list"),
	BAD("statuses nested", "steps:\n  - http: GET /\n    expect_status: [[200]]\n",
	    "3:21: 'expect_status': expected a status from 100 to 599 or a class such as 2xx, got a list"),
	BAD("check syntax error", "steps:\n  - http: GET /\n    check: '.a |'\n",
	    "3:12: 'check': bad jq expression: syntax error, unexpected $end"),
	BAD("check unknown function", "steps:\n  - http: GET /\n    check: 'nosuch(.a)'\n",
	    "3:12: 'check': bad jq expression: nosuch/1 is not defined"),
	BAD("check a template", "steps:\n  - http: GET /\n    check: '.v == ${v}'\n",
	    "3:12: 'check': bad jq expression: syntax error, unexpected '{', expecting IDENT or __loc__"),
	BAD("check imports a module", "steps:\n  - http: GET /\n    check: 'import \"m\" as m; m::f'\n",
	    "3:12: 'check': jq modules (module, import, include) cannot be used in a job file"),
	BAD("capture includes a module", "steps:\n  - http: GET /\n    capture:\n      v: \"# c\\n include \\\"m\\\"; f\"\n",
	    "4:10: 'capture': jq modules (module, import, include) cannot be used in a job file"),
	BAD("http line with a trailing space", "steps:\n  - http: \"GET /x \"\n",
	    "2:11: 'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version', got 'GET /x '"),
	BAD("capture bad jq", "steps:\n  - http: GET /\n    capture:\n      v: .a\n      w: '.[ '\n",
	    "5:10: 'capture': bad jq expression for 'w': syntax error, unexpected $end"),
	BAD("capture undefined variable", "steps:\n  - http: {path: /, capture: {v: $x}}\n",
	    "2:34: 'capture': bad jq expression for 'v': $x is not defined"),
	BAD("capture var name a number", "steps:\n  - http: GET /\n    capture: {1x: .a}\n",
	    "3:15: 'capture': '1x' is not a variable name (a letter or _, then letters, digits or _)"),
	BAD("capture var name with a dash", "steps:\n  - http: GET /\n    capture: {a-b: .a}\n",
	    "3:15: 'capture': 'a-b' is not a variable name (a letter or _, then letters, digits or _)"),
	BAD("capture a string", "steps:\n  - http: GET /\n    capture: .a\n",
	    "3:14: 'capture': expected a mapping of variable names to jq expressions such as 'version: .version', "
	    "got '.a'"),
	BAD("capture expression a list", "steps:\n  - http: GET /\n    capture: {v: [.a]}\n",
	    "3:18: 'v': expected a jq expression, got a list"),
	/* tcp and ping */
	BAD("tcp port 0", "steps:\n  - tcp: 0\n",
	    "2:10: 'tcp': expected a port number from 1 to 65535 or a template such as ${port}, got '0'"),
	BAD("tcp port 65536", "steps:\n  - tcp: 65536\n",
	    "2:10: 'tcp': expected a port number from 1 to 65535 or a template such as ${port}, got '65536'"),
	BAD("tcp port a name", "steps:\n  - tcp: https\n",
	    "2:10: 'tcp': expected a port number from 1 to 65535 or a template such as ${port}, got 'https'"),
	BAD("tcp nothing", "steps:\n  - tcp:\n",
	    "2:9: 'tcp': expected a port number from 1 to 65535 or a template such as ${port}, got nothing"),
	BAD_PART("tcp bad template", "steps:\n  - tcp: ${port\n", "2:10: bad template at position 1 of the tcp port: ",
	    "unterminated '${'"),
	BAD("expect beside tcp", "steps:\n  - tcp: 22\n    expect: x\n",
	    "3:5: unknown key 'expect' in tcp step (expected one of: name, timeout)"),
	BAD("ping count 0", "steps:\n  - ping: {count: 0}\n",
	    "2:19: 'count': expected a whole number from 1 to 100, got '0'"),
	BAD("ping count 101", "steps:\n  - ping:\n      count: 101\n",
	    "3:14: 'count': expected a whole number from 1 to 100, got '101'"),
	BAD("ping count a word", "steps:\n  - ping: {count: many}\n",
	    "2:19: 'count': expected a whole number from 1 to 100, got 'many'"),
	BAD("ping a number", "steps:\n  - ping: 3\n",
	    "2:11: 'ping': expected nothing or a mapping such as {count: 3, timeout: 2s}, got '3'"),
	BAD("unknown ping key", "steps:\n  - ping: {count: 1, interval: 1s}\n",
	    "2:22: unknown key 'interval' in ping (expected one of: count, timeout)"),
	BAD("zero ping timeout", "steps:\n  - ping: {timeout: 0s}\n", "2:21: 'timeout': must be more than 0"),
	BAD("ping timeout twice", "steps:\n  - ping: {timeout: 1s}\n    timeout: 2s\n",
	    "3:5: give timeout inside ping or beside it, not both"),
	BAD("duplicate ping key", "steps:\n  - ping: {count: 1, count: 2}\n",
	    "2:22: duplicate key 'count' (first at line 2)"),
	BAD("http and ping in one step", "steps:\n  - http: GET /\n    ping:\n",
	    "3:5: two kind keys in one step, 'http' and 'ping' (a step has exactly one of: exec, sleep, ssh, http, tcp, "
	    "ping, cli, config)"),
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
	    "1:1: unknown key 'a?b' (expected one of: description, timeout, retries, ssh, http, cli, steps, inventory_may, templates)"),
	BAD("inventory_may not a mapping", "inventory_may: [a]\nsteps:\n  - exec: ls\n",
	    "1:16: 'inventory_may': expected a mapping with env, files and settings, got a list"),
	BAD("inventory_may unknown key", "inventory_may: {paths: [/x/]}\nsteps:\n  - exec: ls\n",
	    "1:17: unknown key 'paths' in inventory_may (expected one of: env, files, settings)"),
	BAD("inventory_may key twice", "inventory_may:\n  env: [A]\n  env: [B]\nsteps:\n  - exec: ls\n",
	    "3:3: duplicate key 'env' (first at line 2)"),
	BAD_PART("inventory_may env a name", "inventory_may: {env: [A-B]}\nsteps:\n  - exec: ls\n",
	         "1:23: 'inventory_may env': expected environment variable names", "got 'A-B'"),
	BAD_PART("inventory_may env a scalar", "inventory_may: {env: A}\nsteps:\n  - exec: ls\n",
	         "1:22: 'inventory_may env': expected a list of environment variable names", "got 'A'"),
	BAD_PART("inventory_may files relative", "inventory_may: {files: [etc/ca/]}\nsteps:\n  - exec: ls\n",
	         "1:25: 'inventory_may files': expected directories", "got 'etc/ca/'"),
	BAD_PART("inventory_may files dotdot", "inventory_may: {files: [/etc/ca/../..]}\nsteps:\n  - exec: ls\n",
	         "1:25: 'inventory_may files': expected directories", "no '..'"),
	BAD_PART("inventory_may files template", "inventory_may: {files: ['/x/${host}']}\nsteps:\n  - exec: ls\n",
	         "1:25: 'inventory_may files': expected directories", "got '/x/${host}'"),
	BAD_PART("inventory_may settings other", "inventory_may: {settings: [password]}\nsteps:\n  - exec: ls\n",
	         "1:28: 'inventory_may settings': expected host_key_policy, insecure, kex, hostkey, ciphers, macs or pubkey",
	         "got 'password'"),
	BAD("long key cut short",
	    "steps:\n  - exec: ls\n    "
	    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
	    "3:5: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' in exec step "
	    "(expected one of: name, expect, timeout)"),
};

static void test_inventory_may(void **state)
{
	struct job *job = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(parse("jobs.d/x.yaml",
	                       "inventory_may:\n  env: [NETBOX_TOKEN, _B2]\n  files: [~/.ssh/fleet/, /etc/fleetrun/ca]\n"
	                       "  settings: [insecure, host_key_policy]\nsteps:\n  - exec: ls\n", &job, &err), 0);
	assert_int_equal(job->inventory_may.env.len, 2);
	assert_string_equal(job->inventory_may.env.items[0].key, "NETBOX_TOKEN");
	assert_non_null(kvlist_get(&job->inventory_may.env, "_B2"));
	assert_int_equal(job->inventory_may.files.len, 2);
	assert_string_equal(job->inventory_may.files.items[0].key, "~/.ssh/fleet/");
	assert_string_equal(job->inventory_may.files.items[1].key, "/etc/fleetrun/ca");
	assert_int_equal(job->inventory_may.settings.len, 2);
	assert_non_null(kvlist_get(&job->inventory_may.settings, "host_key_policy"));
	job_free(job);
	/* absent or null: nothing allowed */
	job = NULL;
	assert_int_equal(parse("jobs.d/x.yaml", "inventory_may:\nsteps:\n  - exec: ls\n", &job, &err), 0);
	assert_int_equal(job->inventory_may.env.len + job->inventory_may.files.len + job->inventory_may.settings.len, 0);
	job_free(job);
}

/* Nesting past YAMLDEPTH_MAX is refused before libyaml builds the tree
 * (whose scanner is quadratic in the depth of flow collections): 10,000
 * levels, closed or not, fail at the level that crosses the bound. */
static void test_yaml_depth_bound(void **state)
{
	struct job *job = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	char want[200];

	(void)state;
	buf_puts(&b, "steps:\n  - exec: ls\n    name: ");
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < 10000; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), -1);
	assert_null(job);
	/* three levels are open around it (the file's mapping, steps, the
	 * step), so the '[' that crosses the bound is number YAMLDEPTH_MAX - 2,
	 * and the first is at column 11 */
	snprintf(want, sizeof(want), "%s:3:%d: YAML nested more than %d levels deep", BAD_PATH, 11 + YAMLDEPTH_MAX - 3,
	         YAMLDEPTH_MAX);
	assert_int_equal(strncmp(err.msg, want, strlen(want)), 0);
	buf_free(&b);

	/* block mappings count the same */
	buf_puts(&b, "steps:\n  - exec: ls\nx:\n");
	for (int i = 0; i < 200; i++) {
		for (int k = 0; k <= i; k++)
			buf_puts(&b, " ");
		buf_printf(&b, "k%d:\n", i);
	}
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), -1);
	assert_non_null(strstr(err.msg, "YAML nested more than"));
	buf_free(&b);

	/* at the bound: parsed (then refused for what it is, an unknown key) */
	buf_puts(&b, "steps:\n  - exec: ls\nx: ");
	for (int i = 0; i < YAMLDEPTH_MAX - 1; i++)
		buf_putc(&b, '[');
	for (int i = 0; i < YAMLDEPTH_MAX - 1; i++)
		buf_putc(&b, ']');
	buf_putc(&b, '\n');
	assert_int_equal(job_parse(BAD_PATH, b.data, b.len, &job, &err), -1);
	assert_non_null(strstr(err.msg, "unknown key 'x'"));
	buf_free(&b);
}

/* capture: on ssh and cli steps: the variable without its ?, the group
 * that becomes the value (named like the variable, else the first, else
 * the whole match), or a jq expression; parse: modes. */
static void test_text_captures(void **state)
{
	static const char text[] =
		"steps:\n"
		"  - ssh: show version\n"
		"    parse: auto\n"
		"    capture:\n"
		"      first: 'Version ([^,]+), (x)'\n"
		"      version: 'a(b)(?<version>c)'\n"
		"      whole?: 'Version \\S+'\n"
		"      sn: {jq: '.parsed[0].serial[0]'}\n"
		"      re: {regex: '(y)'}\n"
		"  - cli: show clock\n"
		"    parse: textfsm:t/clock.textfsm\n";
	struct job *job = NULL;
	struct err err = {{0}};
	const struct step_capture *c;

	(void)state;
	/* NO_JQ: the template file is not read */
	assert_int_equal(job_parse_flags("/srv/jobs/x.yaml", text, strlen(text), JOB_PARSE_NO_JQ, &job, &err), 0);
	assert_int_equal(job->steps[0].parse->mode, STEP_PARSE_AUTO);
	assert_int_equal(job->steps[0].parse->ncaptures, 5);
	c = job->steps[0].parse->captures;
	assert_string_equal(c[0].var, "first");
	assert_false(c[0].optional);
	assert_int_equal(c[0].group, 1);
	assert_string_equal(c[1].var, "version");
	assert_int_equal(c[1].group, 2);
	assert_string_equal(c[2].var, "whole");
	assert_true(c[2].optional);
	assert_int_equal(c[2].group, 0);
	assert_null(c[3].re);
	assert_string_equal(c[3].jq, ".parsed[0].serial[0]");
	assert_non_null(c[4].re);
	assert_int_equal(c[4].line, 9);
	assert_int_equal(job->steps[1].parse->mode, STEP_PARSE_FILE);
	assert_string_equal(job->steps[1].parse->template, "/srv/jobs/t/clock.textfsm");
	assert_string_equal(job->steps[1].parse->written, "t/clock.textfsm");
	assert_int_equal(job->steps[1].parse->ncaptures, 0);
	job_free(job);
}

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
		"http: ", "tcp: ", "ping: ", "GET /", "POST https://x/", "method: ", "path: ", "url: ", "json: ",
		"body: ", "headers: ", "expect_status: ", "2xx", "base: ", "pinned_key: ", "follow_redirects: ",
		"count: ", "capture: ", "check: ", ".a", "0x1F", "1e3", "&j ", "*j",
	};
	/* good jobs to flip bytes in; jq stays out of them, as each compile
	 * costs tens of milliseconds */
	static const char good[] =
		"description: x\ntimeout: 30s\nretries: 1\nssh:\n  user: ${u}\n  port: 22\n  agent: no\n"
		"  password: ${env:P}\n  host_key_policy: off\n  keepalive: 5s\nsteps:\n  - exec: echo ${host}\n"
		"    expect: 'a+(b|c)'\n    timeout: 1s\n  - sleep: 0\n    name: nap\n  - ssh: show ${x}\n    pty: yes\n"
		"  - http: GET /x/${y}\n    expect_status: [200, 3xx]\n    headers: {X-A: b}\n"
		"  - http: {method: POST, url: \"https://h/${x}\", json: {a: [1, 0x1F, ~, \"s\", {b: .5}]}}\n"
		"  - tcp: 22\n  - ping: {count: 2, timeout: 1s}\n";
	static const char good_http[] =
		"http:\n  base: https://${host}\n  headers: {Accept: a/b}\n  follow_redirects: 2\n"
		"  pinned_key: " PIN "\n  password_file: /p\nsteps:\n  - http: PUT /a\n    body: x\n"
		"  - http:\n      path: /b\n      json: [1, {c: d}]\n      expect_status: 2xx\n";
	/* bytes that mean something to YAML, templates or durations, so that
	 * flipped jobs get past the scanner into the validation */
	static const char yamlish[] = "ab0s :-,{}[]'\"${}#\n\t&*?|>!~(\\\0\xff";
	uint64_t seed = 0x9e3779b97f4a7c15ULL;
	struct buf b = BUF_INIT;
	char raw[512];
	int round;

	(void)state;
	for (round = 0; round < 2; round++) {
		struct job *job = NULL;
		struct err err = {{0}};

		if (parse("good.yaml", round ? good_http : good, &job, &err) < 0)
			fail_msg("%s", err.msg);
		job_free(job);
	}
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
	for (round = 0; round < 400; round++) {
		size_t flips = 1 + rng_next(&seed) % 3, i;
		buf_reset(&b);
		buf_puts(&b, round % 4 == 3 ? good_http : good);
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
		cmocka_unit_test(test_ssh_algorithms),
		cmocka_unit_test(test_ssh_defaults),
		cmocka_unit_test(test_ssh_logins),
		cmocka_unit_test(test_ssh_values),
		cmocka_unit_test(test_bool_grammar),
		cmocka_unit_test(test_hostkey_policy),
		cmocka_unit_test(test_http_job),
		cmocka_unit_test(test_http_defaults),
		cmocka_unit_test(test_http_settings_values),
		cmocka_unit_test(test_http_json_values),
		cmocka_unit_test(test_http_json_aliases),
		cmocka_unit_test(test_tcp_ping),
		cmocka_unit_test(test_config_step),
		cmocka_unit_test(test_length_bounded),
		cmocka_unit_test(test_too_many_steps),
		cmocka_unit_test(test_inventory_may),
		cmocka_unit_test(test_text_captures),
		cmocka_unit_test(test_yaml_depth_bound),
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
