/* job: parse and validate a job file (see job.h, DESIGN.md "Job files").
 *
 * The walk follows the fixed shape of a job file (mapping -> steps list
 * -> step mappings -> scalars) over libyaml's document tree, with
 * yamlnode.c's helpers and its one mapping walker. Two parts live apart:
 * the http step (job_http.c, which also compiles jq) and the YAML -> JSON
 * body it may carry (yaml_json.c, the one place that descends into
 * arbitrary YAML); job_parse.h is what they share with this file.
 *
 * What a step may be is data, not code: a table of kinds, each with the
 * option keys allowed beside it. Adding a kind is an enum value, a row in
 * job_kinds[] naming its options, and a function that reads its value;
 * a new option is a row in job_step_options[] and its function. The
 * `ssh:` and `http:` sections are tables too: each row names a key, the
 * function that reads its kind of value, and where in the section's
 * struct the value goes. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "job_parse.h"
#include "jumpspec.h"
#include "platform.h"
#include "tmpl.h"
#include "yamldepth.h"

/* A job file is a few lines. The cap stops `fleetrun check /dev/zero` and
 * keeps the text small enough to travel in every worker's hello frame. */
#define JOB_MAX_FILE_BYTES (1024 * 1024)

#define JOB_HTTP_REDIRECTS_LIMIT 20
#define JOB_PING_MAX_COUNT 100

static const char job_port_expected[] = "a port number from 1 to 65535 or a template such as ${port}";

/* Reads a step kind's value (the text after `exec:`); step is the step's
 * mapping, for messages about the step as a whole. */
typedef int job_kind_parse_fn(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);

/* Every key's function has the walker's signature (yamlnode.h); obj is
 * the struct job for top-level keys, the struct step for a step's
 * options, a struct job_section_dst for a section's settings. */
static ymap_parse_fn job_top_description, job_top_timeout, job_top_retries, job_top_ssh, job_top_http, job_top_steps,
	job_top_inventory_may, job_top_cli;
static ymap_parse_fn job_option_name, job_option_expect, job_option_timeout, job_option_pty, job_option_http,
	job_option_config, job_option_capture;
static ymap_parse_fn job_setting_string, job_setting_command, job_setting_jump, job_setting_port, job_setting_bool, job_setting_policy, job_setting_duration,
	job_setting_deadline, job_setting_url, job_setting_headers, job_setting_pin, job_setting_redirects,
	job_setting_algorithms, job_setting_algorithm, job_setting_logins, job_setting_platform;
static job_kind_parse_fn job_kind_exec, job_kind_sleep, job_kind_ssh, job_kind_tcp, job_kind_ping, job_kind_cli;

static const struct ymap_key job_top_keys[] = {
	{"description", job_top_description, 0},
	{"timeout", job_top_timeout, 0},
	{"retries", job_top_retries, 0},
	{"ssh", job_top_ssh, 0},
	{"http", job_top_http, 0},
	{"cli", job_top_cli, 0},
	{"steps", job_top_steps, 0},
	{"inventory_may", job_top_inventory_may, 0},
	{"templates", job_text_templates, 0},
};

static const struct ymap job_top_map = {NULL, job_top_keys, ARRAY_LEN(job_top_keys), NULL, 0, NULL};

static const struct ymap_key job_step_options[] = {
	{"name", job_option_name, 0},
	{"expect", job_option_expect, 0},
	{"timeout", job_option_timeout, 0},
	{"pty", job_option_pty, 0},
	/* ssh and cli steps: what they make of stdout (job_text.c) */
	{"parse", job_text_parse, 0},
	/* an http step's own keys, beside `http: METHOD PATH` */
	{"headers", job_option_http, 0},
	{"body", job_option_http, 0},
	{"json", job_option_http, 0},
	{"expect_status", job_option_http, 0},
	{"check", job_option_http, 0},
	{"capture", job_option_capture, 0},
	/* a config step's own keys */
	{"save", job_option_config, 0},
	{"commit", job_option_config, 0},
	{"commit_confirmed", job_option_config, 0},
};

/* Options of one step that say the same thing two ways: refused, at
 * whichever of the two comes second in the file. */
static const char *const job_step_exclusive[][2] = {
	{"body", "json"},
};

static const char *const job_exec_options[] = {"name", "expect", "timeout", NULL};
static const char *const job_sleep_options[] = {"name", NULL};
static const char *const job_ssh_options[] = {"name", "expect", "timeout", "pty", "parse", "capture", NULL};
static const char *const job_http_line_options[] = {"name", "expect", "timeout", "headers", "body", "json",
                                                    "expect_status", "check", "capture", NULL};
static const char *const job_http_map_options[] = {"name", "expect", "timeout", NULL};
static const char *const job_tcp_options[] = {"name", "timeout", NULL};
static const char *const job_cli_options[] = {"name", "expect", "timeout", "parse", "capture", NULL};
static const char *const job_ping_options[] = {"name", "timeout", NULL};
static const char *const job_config_options[] = {"name", "expect", "timeout", "save", "commit", "commit_confirmed",
                                                 NULL};

static const struct job_kind {
	const char *key;
	enum step_kind kind;
	job_kind_parse_fn *parse;
	const char *const *options;     /* keys allowed beside the kind key */
	const char *const *map_options; /* NULL, or those allowed instead when
	                                   the kind key's value is a mapping
	                                   (the rest then go inside it) */
} job_kinds[] = {
	{"exec", STEP_EXEC, job_kind_exec, job_exec_options, NULL},
	{"sleep", STEP_SLEEP, job_kind_sleep, job_sleep_options, NULL},
	{"ssh", STEP_SSH, job_kind_ssh, job_ssh_options, NULL},
	{"http", STEP_HTTP, job_http_kind, job_http_line_options, job_http_map_options},
	{"tcp", STEP_TCP, job_kind_tcp, job_tcp_options, NULL},
	{"ping", STEP_PING, job_kind_ping, job_ping_options, NULL},
	{"cli", STEP_CLI, job_kind_cli, job_cli_options, NULL},
	{"config", STEP_CONFIG, job_config_kind, job_config_options, NULL},
};

/* One key of a connection section. The parse function knows the type
 * behind offset: char * for strings and the port, int for booleans and
 * the redirect count, enum hostkey_policy, int64_t milliseconds for
 * durations (job_setting_deadline where 0 would fail every connection),
 * struct kvlist for headers. */
static const struct ymap_key job_settings_ssh[] = {
	{"user", job_setting_string, offsetof(struct job_ssh, user)},
	{"port", job_setting_port, offsetof(struct job_ssh, port)},
	{"key", job_setting_string, offsetof(struct job_ssh, key)},
	{"passphrase", job_setting_string, offsetof(struct job_ssh, passphrase)},
	{"passphrase_file", job_setting_string, offsetof(struct job_ssh, passphrase_file)},
	{"password", job_setting_string, offsetof(struct job_ssh, password)},
	{"password_file", job_setting_string, offsetof(struct job_ssh, password_file)},
	{"agent", job_setting_bool, offsetof(struct job_ssh, agent)},
	{"known_hosts", job_setting_string, offsetof(struct job_ssh, known_hosts)},
	{"host_key_policy", job_setting_policy, offsetof(struct job_ssh, host_key_policy)},
	{"connect_timeout", job_setting_deadline, offsetof(struct job_ssh, connect_timeout_ms)},
	{"idle_timeout", job_setting_duration, offsetof(struct job_ssh, idle_timeout_ms)},
	{"keepalive", job_setting_duration, offsetof(struct job_ssh, keepalive_ms)},
	{"pty", job_setting_bool, offsetof(struct job_ssh, pty)},
	{"jump", job_setting_jump, offsetof(struct job_ssh, jump)},
	{"jump_key", job_setting_string, offsetof(struct job_ssh, jump_key)},
	{"jump_password", job_setting_string, offsetof(struct job_ssh, jump_password)},
	{"jump_password_file", job_setting_string, offsetof(struct job_ssh, jump_password_file)},
	{"proxy_command", job_setting_command, offsetof(struct job_ssh, proxy_command)},
	{"algorithms", job_setting_algorithms, offsetof(struct job_ssh, algorithms)},
	{"max_logins", job_setting_logins, offsetof(struct job_ssh, max_logins)},
	{"jump_max_logins", job_setting_logins, offsetof(struct job_ssh, jump_max_logins)},
	{"config", job_setting_string, offsetof(struct job_ssh, config)},
}, job_settings_http[] = {
	{"base", job_setting_url, offsetof(struct job_http, base)},
	{"user", job_setting_string, offsetof(struct job_http, user)},
	{"password", job_setting_string, offsetof(struct job_http, password)},
	{"password_file", job_setting_string, offsetof(struct job_http, password_file)},
	{"token", job_setting_string, offsetof(struct job_http, token)},
	{"headers", job_setting_headers, offsetof(struct job_http, headers)},
	{"ca", job_setting_string, offsetof(struct job_http, ca)},
	{"cert", job_setting_string, offsetof(struct job_http, cert)},
	{"cert_key", job_setting_string, offsetof(struct job_http, cert_key)},
	{"pinned_key", job_setting_pin, offsetof(struct job_http, pinned_key)},
	{"insecure", job_setting_bool, offsetof(struct job_http, insecure)},
	{"connect_timeout", job_setting_deadline, offsetof(struct job_http, connect_timeout_ms)},
	{"follow_redirects", job_setting_redirects, offsetof(struct job_http, follow_redirects)},
};

static const struct ymap_key job_settings_cli[] = {
	{"platform", job_setting_platform, offsetof(struct job_cli, platform)},
	{"enable_secret", job_setting_string, offsetof(struct job_cli, enable_secret)},
	{"enable_secret_file", job_setting_string, offsetof(struct job_cli, enable_secret_file)},
	{"privileged", job_setting_bool, offsetof(struct job_cli, privileged)},
};

/* Two ways to give one secret: which of them should win would be a guess,
 * so a file giving both is refused. */
static const char *const job_ssh_exclusive[][2] = {
	{"password", "password_file"},
	{"passphrase", "passphrase_file"},
	{"jump_password", "jump_password_file"},
};
static const char *const job_http_section_exclusive[][2] = {
	{"password", "password_file"},
};
static const char *const job_cli_exclusive[][2] = {
	{"enable_secret", "enable_secret_file"},
};

/* A connection section: its schema (named for messages, keys in the order
 * messages list them, the pairs that exclude each other) and an example
 * for "expected ...". */
struct job_section {
	struct ymap map;
	const char *example;
};

/* What a section's walk fills: the struct its keys' offsets are into,
 * and the section's name for messages. */
struct job_section_dst {
	const char *name;
	void *base;
};

_Static_assert(ARRAY_LEN(job_settings_ssh) <= YMAP_MAX_KEYS, "job_settings_ssh");
_Static_assert(ARRAY_LEN(job_settings_http) <= YMAP_MAX_KEYS, "job_settings_http");
_Static_assert(ARRAY_LEN(job_step_options) <= YMAP_MAX_KEYS, "job_step_options");

static const struct job_section job_section_ssh = {
	{"ssh", job_settings_ssh, ARRAY_LEN(job_settings_ssh), job_ssh_exclusive, ARRAY_LEN(job_ssh_exclusive), NULL},
	"user: admin",
};
static const struct job_section job_section_http = {
	{"http", job_settings_http, ARRAY_LEN(job_settings_http), job_http_section_exclusive,
	 ARRAY_LEN(job_http_section_exclusive), NULL},
	"base: https://${host}",
};
static const struct job_section job_section_cli = {
	{"cli", job_settings_cli, ARRAY_LEN(job_settings_cli), job_cli_exclusive, ARRAY_LEN(job_cli_exclusive), NULL},
	"platform: cisco_ios",
};

static const char *const job_hostkey_policies[] = {
	[HOSTKEY_STRICT] = "strict",
	[HOSTKEY_ACCEPT_NEW] = "accept-new",
	[HOSTKEY_OFF] = "off",
};

/* The worker expands templates per host with tmpl_render; here each ${...}
 * only has to be well formed, by tmpl's own rules, so a typo fails
 * `fleetrun check` instead of every host at run time. */
int job_check_templates(struct ynode_ctx *c, yaml_node_t *at, const char *what, const char *s)
{
	struct err terr = {{0}};
	size_t off = 0;
	char ex[sizeof(terr.msg)];

	if (tmpl_check(s, &off, &terr) == 0)
		return 0;
	return ynode_fail(c, at, "bad template at position %zu of the %s: %s", ynode_char_position(s, off), what,
	                  ynode_excerpt(terr.msg, strlen(terr.msg), ex, sizeof(ex)));
}

/* Whether s has a ${...} reference ($${ is an escaped one, by tmpl's
 * rule), i.e. whether what it means is only known per host. */
static int job_has_template(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "${")) != NULL) {
		if (p == s || p[-1] != '$')
			return 1;
		p += 2;
	}
	return 0;
}

/* A number is checked now; a template such as ${port} (an inventory var)
 * can only be checked per host, once the worker has rendered it. tmpl_what
 * names the value in template errors. */
static int job_get_port(struct ynode_ctx *c, const char *what, const char *tmpl_what, yaml_node_t *n, char **out)
{
	char desc[80];
	const char *s;
	long long v;

	if (ynode_want_scalar(c, what, n, job_port_expected) < 0)
		return -1;
	s = ynode_scalar(n);
	if (strstr(s, "${")) {
		if (job_check_templates(c, n, tmpl_what, s) < 0)
			return -1;
	} else if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, 1, 65535, &v) < 0) {
		return ynode_fail(c, n, "'%s': expected %s, got %s", what, job_port_expected,
		                  ynode_desc(n, desc, sizeof(desc)));
	}
	*out = xstrdup(s);
	return 0;
}

static int job_top_description(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                               void *obj)
{
	struct job *job = obj;

	if (ynode_want_scalar(c, "description", value, "a string") < 0)
		return -1;
	job->description = xstrdup(ynode_scalar(value));
	return 0;
}

static int job_top_timeout(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	struct job *job = obj;
	int64_t ms;

	if (ynode_get_deadline(c, "timeout", value, &ms) < 0)
		return -1;
	job->timeout_ms = ms;
	job->timeout_set = 1;
	return 0;
}

static int job_top_retries(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	static const char expected[] = "a whole number from 0 to 100";
	struct job *job = obj;
	char desc[80];
	long long n;

	if (ynode_want_scalar(c, "retries", value, expected) < 0)
		return -1;
	if (int_parse(ynode_scalar(value), 0, 100, &n) < 0)
		return ynode_fail(c, value, "'retries': expected %s, got %s", expected,
		                  ynode_desc(value, desc, sizeof(desc)));
	job->retries = (int)n;
	return 0;
}

/* A list of scalars, each checked by ok(); its items as keys of out. */
static int job_get_name_list(struct ynode_ctx *c, const char *what, yaml_node_t *value, int (*ok)(const char *),
                             const char *expected, struct kvlist *out)
{
	char desc[80];

	if (value->type != YAML_SEQUENCE_NODE)
		return ynode_fail(c, value, "'%s': expected a list of %s, got %s", what, expected,
		                  ynode_desc(value, desc, sizeof(desc)));
	for (yaml_node_item_t *it = value->data.sequence.items.start; it < value->data.sequence.items.top; it++) {
		yaml_node_t *n = ynode_at(c, *it);

		if (ynode_want_scalar(c, what, n, expected) < 0)
			return -1;
		if (!ok(ynode_scalar(n)))
			return ynode_fail(c, n, "'%s': expected %s, got %s", what, expected,
			                  ynode_desc(n, desc, sizeof(desc)));
		kvlist_set(out, ynode_scalar(n), "");
	}
	return 0;
}

static int job_is_env_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

/* A directory as the operator writes it: absolute or ~/, no template (it
 * is compared, not rendered), no '..' part, no control character. */
static int job_is_dir_path(const char *s)
{
	const char *p;

	if (s[0] != '/' && strncmp(s, "~/", 2) != 0)
		return 0;
	if (strstr(s, "${"))
		return 0;
	for (p = s; *p; p++)
		if ((unsigned char)*p < 0x20 || *p == 0x7f)
			return 0;
	for (p = s; (p = strstr(p, "..")); p += 2)
		if ((p == s || p[-1] == '/') && (p[2] == '/' || !p[2]))
			return 0;
	return 1;
}

/* The settings whose host var may turn a check off (hostcfg.h): and the
 * SSH algorithm settings, whose host var may enable a weak algorithm the
 * job's own list does not (hostcfg_algs). */
static int job_is_loosening_setting(const char *s)
{
	enum sshalgs_method m;

	return strcmp(s, "host_key_policy") == 0 || strcmp(s, "insecure") == 0 || sshalgs_method_parse(s, &m) == 0;
}

/* inventory_may's keys; obj is the struct job_inventory_may. */
static int job_may_env(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job_inventory_may *may = obj;

	return job_get_name_list(c, "inventory_may env", value, job_is_env_name,
	                         "environment variable names such as NETBOX_TOKEN", &may->env);
}

static int job_may_files(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job_inventory_may *may = obj;

	return job_get_name_list(c, "inventory_may files", value, job_is_dir_path,
	                         "directories such as /etc/fleetrun/ca/ or ~/.ssh/fleet/ (absolute or ~/, no '..')",
	                         &may->files);
}

static int job_may_settings(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	struct job_inventory_may *may = obj;

	return job_get_name_list(c, "inventory_may settings", value, job_is_loosening_setting,
	                         "host_key_policy, insecure, kex, hostkey, ciphers, macs or pubkey", &may->settings);
}

/* inventory_may: {env: [NAME, ...], files: [DIR, ...], settings: [...]}. The job is code
 * and the inventory data: what a host var may read here is the job's
 * to say (see struct job_inventory_may). */
static int job_top_inventory_may(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                 void *obj)
{
	static const struct ymap_key keys[] = {
		{"env", job_may_env, 0},
		{"files", job_may_files, 0},
		{"settings", job_may_settings, 0},
	};
	static const struct ymap map = {"inventory_may", keys, ARRAY_LEN(keys), NULL, 0, NULL};
	struct job *job = obj;
	char desc[80];

	if (ynode_is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value, "'inventory_may': expected a mapping with env, files and settings, got %s",
		                  ynode_desc(value, desc, sizeof(desc)));
	return ymap_walk(c, value, &map, &job->inventory_may);
}

static void *job_setting_slot(void *obj, const struct ymap_key *key)
{
	return (char *)((struct job_section_dst *)obj)->base + key->offset;
}

/* The strings are templates rendered per host by the worker; here they
 * only have to be well formed. A literal password or passphrase is
 * accepted: the job file is the user's to protect, and ${env:NAME} or a
 * _file key is there for whoever wants the secret out of it. */
static int job_setting_string(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	char what[64];

	if (ynode_want_scalar(c, key->name, value, "a string") < 0)
		return -1;
	snprintf(what, sizeof(what), "%s '%s' setting", ((struct job_section_dst *)obj)->name, key->name);
	if (job_check_templates(c, value, what, ynode_scalar(value)) < 0)
		return -1;
	*(char **)job_setting_slot(obj, key) = xstrdup(ynode_scalar(value));
	return 0;
}

/* A platform is a name, not a template: the file it names is checked
 * with the job (fleetrun check), and a host may choose another with its
 * platform host var. */
static int job_setting_platform(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                void *obj)
{
	if (ynode_want_scalar(c, key->name, value, "a platform name such as cisco_ios") < 0)
		return -1;
	if (!platform_name_ok(ynode_scalar(value)))
		return ynode_fail(c, value, "'platform': expected a platform name such as cisco_ios (letters, digits, "
		                  "_ . -), not a path");
	*(char **)job_setting_slot(obj, key) = xstrdup(ynode_scalar(value));
	return 0;
}

/* A jump chain: a template, or checked here when it is none, so that a
 * typo fails `fleetrun check` rather than every host. */
static int job_setting_jump(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	struct jumpspec js;
	struct err err;

	if (job_setting_string(c, key, k, value, obj) < 0)
		return -1;
	if (strstr(ynode_scalar(value), "${"))
		return 0;
	if (jumpspec_parse(ynode_scalar(value), &js, &err) < 0)
		return ynode_fail(c, value, "'jump': %s (expected [user@]host[:port][,...] or none)", err.msg);
	jumpspec_free(&js);
	return 0;
}

/* A shell command as written: no template (its own %-tokens are
 * substituted, shell-quoted, where it is used). */
static int job_setting_command(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                               void *obj)
{
	if (ynode_want_scalar(c, key->name, value, "a shell command") < 0)
		return -1;
	*(char **)job_setting_slot(obj, key) = xstrdup(ynode_scalar(value));
	return 0;
}

static int job_setting_port(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	char what[64];

	snprintf(what, sizeof(what), "%s '%s' setting", ((struct job_section_dst *)obj)->name, key->name);
	return job_get_port(c, key->name, what, value, (char **)job_setting_slot(obj, key));
}

static int job_setting_bool(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	return ynode_get_bool(c, key->name, value, (int *)job_setting_slot(obj, key));
}

static int job_setting_policy(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	enum hostkey_policy *slot = job_setting_slot(obj, key);
	char desc[80], expected[64] = "one of ";
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_hostkey_policies); i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s", i ? ", " : "",
		         job_hostkey_policies[i]);
	if (ynode_want_scalar(c, key->name, value, expected) < 0)
		return -1;
	if (hostkey_policy_parse(ynode_scalar(value), slot) < 0)
		return ynode_fail(c, value, "'%s': expected %s, got %s", key->name, expected,
		                  ynode_desc(value, desc, sizeof(desc)));
	return 0;
}

/* One method's spec under ssh algorithms: checked now against what
 * libssh2 knows (sshalgs.h), so a typo fails `fleetrun check`, at its
 * line, instead of every host. obj is the job_ssh algorithms array. */
static int job_setting_algorithm(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                 void *obj)
{
	enum sshalgs_method m = (enum sshalgs_method)key->offset;
	char *list = NULL;
	struct err aerr;

	if (ynode_want_scalar(c, key->name, value, "algorithm names such as +diffie-hellman-group14-sha1 or "
	                                           "curve25519-sha256") < 0)
		return -1;
	if (sshalgs_apply(m, ynode_scalar(value), &list, NULL, &aerr) < 0)
		return ynode_fail(c, value, "ssh algorithms %s", aerr.msg);
	free(list);
	((char **)obj)[m] = xstrdup(ynode_scalar(value));
	return 0;
}

/* ssh algorithms: {kex, hostkey, ciphers, macs, pubkey}; each key's
 * offset is its enum sshalgs_method. */
static int job_setting_algorithms(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                  void *obj)
{
	static const struct ymap_key keys[] = {
		{"kex", job_setting_algorithm, SSHALGS_KEX},
		{"hostkey", job_setting_algorithm, SSHALGS_HOSTKEY},
		{"ciphers", job_setting_algorithm, SSHALGS_CIPHERS},
		{"macs", job_setting_algorithm, SSHALGS_MACS},
		{"pubkey", job_setting_algorithm, SSHALGS_PUBKEY},
	};
	static const struct ymap map = {"algorithms", keys, ARRAY_LEN(keys), NULL, 0, NULL};
	char desc[80];

	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value, "'algorithms': expected a mapping of kex, hostkey, ciphers, macs and pubkey, "
		                  "got %s", ynode_desc(value, desc, sizeof(desc)));
	return ymap_walk(c, value, &map, job_setting_slot(obj, key));
}

static int job_setting_duration(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                void *obj)
{
	return ynode_get_duration(c, key->name, value, (int64_t *)job_setting_slot(obj, key));
}

static int job_setting_deadline(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                void *obj)
{
	return ynode_get_deadline(c, key->name, value, (int64_t *)job_setting_slot(obj, key));
}

/* A number of logins at once (runner/logins.h); 0: no limit. */
static int job_setting_logins(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	long long n;

	if (ynode_get_count(c, key->name, value, 0, JOB_SSH_LOGINS_MAX, &n) < 0)
		return -1;
	*(int *)job_setting_slot(obj, key) = (int)n;
	return 0;
}

static int job_setting_url(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	if (ynode_want_scalar(c, key->name, value, "a URL starting with http:// or https://") < 0 ||
	    job_http_check_url(c, key->name, value, ynode_scalar(value), 0) < 0)
		return -1;
	return job_setting_string(c, key, k, value, obj);
}

static int job_setting_headers(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                               void *obj)
{
	return job_http_headers(c, value, (struct kvlist *)job_setting_slot(obj, key));
}

/* libcurl's CURLOPT_PINNEDPUBKEY compares the base64 text it computes
 * with this one, so anything but sha256// and 44 base64 characters
 * (several such pins joined by ;) could never match. */
static int job_setting_pin(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	static const char expected[] =
		"sha256// and the base64 SHA-256 of the server's public key (44 characters; several joined with ;)";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char desc[80];
	const char *p;

	if (ynode_want_scalar(c, key->name, value, expected) < 0)
		return -1;
	if (!job_has_template(ynode_scalar(value))) {
		for (p = ynode_scalar(value);; p += 8 + 44 + 1) {
			if (strncmp(p, "sha256//", 8) != 0 || strspn(p + 8, b64) != 43 || p[8 + 43] != '=' ||
			    (p[8 + 44] != '\0' && p[8 + 44] != ';'))
				return ynode_fail(c, value, "'%s': expected %s, got %s", key->name, expected,
				                  ynode_desc(value, desc, sizeof(desc)));
			if (p[8 + 44] == '\0')
				break;
		}
	}
	return job_setting_string(c, key, k, value, obj);
}

/* true: up to JOB_HTTP_MAX_REDIRECTS; a number: up to that many (so `1`
 * is one redirect, not true). */
static int job_setting_redirects(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                 void *obj)
{
	static const char expected[] = "true, false or a number of redirects from 0 to 20";
	int *slot = job_setting_slot(obj, key);
	char desc[80];
	const char *t;
	long long n;
	int b;

	if (ynode_want_scalar(c, key->name, value, expected) < 0)
		return -1;
	t = ynode_scalar(value);
	if (t[0] >= '0' && t[0] <= '9') {
		if (t[strspn(t, "0123456789")] != '\0' || int_parse(t, 0, JOB_HTTP_REDIRECTS_LIMIT, &n) < 0)
			return ynode_fail(c, value, "'%s': expected %s, got %s", key->name, expected,
			                  ynode_desc(value, desc, sizeof(desc)));
		*slot = (int)n;
		return 0;
	}
	if (ynode_get_bool(c, key->name, value, &b) < 0) /* its message would not mention numbers */
		return ynode_fail(c, value, "'%s': expected %s, got %s", key->name, expected,
		                  ynode_desc(value, desc, sizeof(desc)));
	*slot = b ? JOB_HTTP_MAX_REDIRECTS : 0;
	return 0;
}

/* What job_parse puts in job->ssh and job->http before the file is read,
 * so a job without the section, or a section without a key, means the
 * defaults. */
static void job_defaults_ssh(struct job_ssh *ssh)
{
	ssh->agent = -1;
	ssh->host_key_policy = HOSTKEY_STRICT;
	ssh->connect_timeout_ms = JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS;
	ssh->idle_timeout_ms = 0;
	ssh->keepalive_ms = JOB_SSH_DEFAULT_KEEPALIVE_MS;
	ssh->pty = 0;
	ssh->max_logins = 0;
	ssh->jump_max_logins = JOB_SSH_DEFAULT_JUMP_MAX_LOGINS;
}

static void job_defaults_http(struct job_http *http)
{
	http->insecure = 0;
	http->connect_timeout_ms = JOB_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	http->follow_redirects = 0;
}

/* Strings parsed before an error stay in the struct for job_free. */
static int job_section_parse(struct ynode_ctx *c, const struct job_section *sec, yaml_node_t *value, void *base)
{
	struct job_section_dst dst = {sec->map.what, base};
	char desc[80];

	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value, "'%s': expected a mapping of connection settings such as '%s', got %s",
		                  sec->map.what, sec->example, ynode_desc(value, desc, sizeof(desc)));
	return ymap_walk(c, value, &sec->map, &dst);
}

static int job_top_ssh(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job *job = obj;

	static const struct {
		const char *key;
		unsigned bit;
	} given[] = {
		{"host_key_policy", JOB_SSH_GIVEN_POLICY},
		{"connect_timeout", JOB_SSH_GIVEN_CONNECT_TIMEOUT},
		{"keepalive", JOB_SSH_GIVEN_KEEPALIVE},
	};

	if (job_section_parse(c, &job_section_ssh, value, &job->ssh) < 0)
		return -1;
	/* the keys whose default ssh_config may replace, when the file
	 * does not set them (the walk checked they are scalars) */
	for (yaml_node_pair_t *p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		const char *name = ynode_scalar(ynode_at(c, p->key));
		for (size_t i = 0; name && i < ARRAY_LEN(given); i++)
			if (!strcmp(name, given[i].key))
				job->ssh.given |= given[i].bit;
	}
	job->has_ssh = 1;
	return 0;
}

static int job_top_http(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job *job = obj;

	if (job_section_parse(c, &job_section_http, value, &job->http) < 0)
		return -1;
	job->has_http = 1;
	return 0;
}

static int job_top_cli(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job *job = obj;

	if (job_section_parse(c, &job_section_cli, value, &job->cli) < 0)
		return -1;
	job->has_cli = 1;
	return 0;
}

static const struct job_kind *job_kind_lookup(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_kinds); i++)
		if (strcmp(job_kinds[i].key, key) == 0)
			return &job_kinds[i];
	return NULL;
}

static const struct job_kind *job_kind_of(enum step_kind k)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_kinds); i++)
		if (job_kinds[i].kind == k)
			return &job_kinds[i];
	return NULL;
}

static const char *job_kind_list(char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(job_kinds); i++)
		ynode_list_append(out, outlen, job_kinds[i].key);
	return out;
}

static int job_step_option_index(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_step_options); i++)
		if (strcmp(job_step_options[i].name, key) == 0)
			return (int)i;
	return -1;
}

int job_step_option_known(const char *key)
{
	return job_step_option_index(key) >= 0;
}

static int job_in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
			return 1;
	return 0;
}

/* Which kind a step is, found first because the options allowed depend on
 * it and YAML does not order keys: `name:` may come before `exec:`. */
static int job_step_find_kind(struct ynode_ctx *c, yaml_node_t *n, const struct job_kind **kind_out,
                              yaml_node_pair_t **pair_out)
{
	const struct job_kind *kind = NULL;
	yaml_node_pair_t *kind_pair = NULL, *p;
	yaml_node_t *kind_key = NULL;
	char kinds[128], ex[80];

	job_kind_list(kinds, sizeof(kinds));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode_at(c, p->key);
		const struct job_kind *d;

		if (ynode_want_key(c, k) < 0)
			return -1;
		d = job_kind_lookup(ynode_scalar(k));
		if (!d)
			continue;
		if (kind == d)
			return ymap_fail_duplicate(c, k, d->key, kind_key);
		if (kind)
			return ynode_fail(c, k,
			                  "two kind keys in one step, '%s' and '%s' (a step has exactly one of: %s)",
			                  kind->key, d->key, kinds);
		kind = d;
		kind_key = k;
		kind_pair = p;
	}
	if (!kind) {
		/* A key that is no option of any kind is likely a misspelt kind */
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = ynode_at(c, p->key);

			ynode_excerpt(ynode_scalar(k), k->data.scalar.length, ex, sizeof(ex));
			if (job_step_option_index(ynode_scalar(k)) < 0)
				return ynode_fail(c, k, "unknown key '%s' in step (expected a kind key, one of: %s)",
				                  ex, kinds);
		}
		return ynode_fail(c, n, "step has no kind key (expected exactly one of: %s)", kinds);
	}
	*kind_out = kind;
	*pair_out = kind_pair;
	return 0;
}

/* The options a step of this kind may have beside its kind key, as a
 * walk's table, in the order its messages list them. */
static size_t job_step_keys(const struct job_kind *kind, int map_form, struct ymap_key *keys)
{
	const char *const *name = map_form && kind->map_options ? kind->map_options : kind->options;
	size_t n = 0;

	for (; *name; name++)
		keys[n++] = job_step_options[job_step_option_index(*name)];
	return n;
}

/* A key beside the kind key that is no option of this step: the kind key
 * itself (read already), or one of the kind's options that goes inside
 * the kind key's mapping. */
static int job_step_other(struct ynode_ctx *c, yaml_node_t *k, void *obj)
{
	const struct job_kind *kind = job_kind_of(((struct step *)obj)->kind);
	char ex[80];

	if (strcmp(ynode_scalar(k), kind->key) == 0)
		return 1;
	if (!job_in_list(kind->options, ynode_scalar(k)))
		return 0;
	return ynode_fail(c, k, "'%s' goes inside '%s:' when that is a mapping",
	                  ynode_excerpt(ynode_scalar(k), k->data.scalar.length, ex, sizeof(ex)), kind->key);
}

static int job_step_parse(struct ynode_ctx *c, yaml_node_t *n, size_t index, struct step *st)
{
	struct ymap_key keys[ARRAY_LEN(job_step_options)];
	struct ymap map = {NULL, keys, 0, job_step_exclusive, ARRAY_LEN(job_step_exclusive), job_step_other};
	const struct job_kind *kind = NULL;
	yaml_node_pair_t *kind_pair = NULL;
	yaml_node_t *value;
	char desc[80], what[32];

	if (n->type != YAML_MAPPING_NODE)
		return ynode_fail(c, n, "step %zu: expected a mapping with a kind key such as 'exec: CMD', got %s",
		                  index + 1, ynode_desc(n, desc, sizeof(desc)));
	st->line = (int)n->start_mark.line + 1;
	st->column = (int)n->start_mark.column + 1;
	st->pty = -1; /* only an ssh step has the option; the rest never ask */
	if (job_step_find_kind(c, n, &kind, &kind_pair) < 0)
		return -1;
	st->kind = kind->kind;
	value = ynode_at(c, kind_pair->value);
	if (kind->parse(c, n, value, st) < 0)
		return -1;
	snprintf(what, sizeof(what), "%s step", kind->key);
	map.what = what;
	map.nkeys = job_step_keys(kind, value->type == YAML_MAPPING_NODE, keys);
	if (ymap_walk(c, n, &map, st) < 0)
		return -1;
	if (st->config && job_config_check(c, n, st->config) < 0)
		return -1;
	if (!st->name)
		st->name = xstrdup(st->text);
	return 0;
}

static int job_top_steps(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	struct job *job = obj;
	char desc[80];
	size_t i, n;

	if (value->type != YAML_SEQUENCE_NODE)
		return ynode_fail(c, value, "'steps': expected a list of steps, got %s",
		                  ynode_desc(value, desc, sizeof(desc)));
	n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n == 0)
		return ynode_fail(c, value, "'steps' is empty (expected at least one step)");
	if (n > JOB_MAX_STEPS)
		return ynode_fail(c, value, "too many steps (%zu; at most %d)", n, JOB_MAX_STEPS);
	/* nsteps is set first so that job_free frees a half-parsed list */
	job->steps = xcalloc(n, sizeof(*job->steps));
	job->nsteps = n;
	for (i = 0; i < n; i++)
		if (job_step_parse(c, ynode_at(c, value->data.sequence.items.start[i]), i, &job->steps[i]) < 0)
			return -1;
	return 0;
}

/* exec and ssh steps: a command template, rendered per host later. */
static int job_get_command(struct ynode_ctx *c, const char *kind, yaml_node_t *step, yaml_node_t *value,
                           struct step *st)
{
	char what[32];
	const char *s;

	if (ynode_want_scalar(c, kind, value, "a command") < 0)
		return -1;
	s = ynode_scalar(value);
	if (s[strspn(s, " \t\r\n")] == '\0')
		return ynode_fail(c, value, "'%s': the command is empty", kind);
	snprintf(what, sizeof(what), "%s command", kind);
	if (job_check_templates(c, step, what, s) < 0)
		return -1;
	st->text = xstrdup(s);
	return 0;
}

static int job_kind_exec(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	struct err terr = {{0}};
	size_t off = 0;

	if (job_get_command(c, "exec", step, value, st) < 0)
		return -1;
	/* where a value cannot be kept out of the shell's parsing: at check
	 * time, not per host */
	if (tmpl_check_shell(st->text, &off, &terr) < 0)
		return ynode_fail(c, step, "bad template at position %zu of the exec command: %s",
		                  ynode_char_position(st->text, off), terr.msg);
	return 0;
}

static int job_kind_ssh(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	return job_get_command(c, "ssh", step, value, st);
}

static int job_kind_cli(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	if (job_get_command(c, "cli", step, value, st) < 0)
		return -1;
	/* one line typed at the prompt: a line break would type two */
	if (strpbrk(st->text, "\r\n"))
		return ynode_fail(c, value, "'cli': expected one command line, got a line break");
	return 0;
}

static int job_kind_sleep(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	int64_t ms;

	(void)step;
	if (ynode_get_duration(c, "sleep", value, &ms) < 0)
		return -1;
	st->text = xstrdup(ynode_scalar(value));
	st->sleep_ms = ms;
	return 0;
}

static int job_kind_tcp(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	(void)step;
	return job_get_port(c, "tcp", "tcp port", value, &st->text);
}

/* ping's own keys; obj is the struct step. */
static int job_ping_count(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                          void *obj)
{
	struct step *st = obj;
	long long n;

	if (ynode_get_count(c, "count", value, 1, JOB_PING_MAX_COUNT, &n) < 0)
		return -1;
	st->ping_count = (int)n;
	return 0;
}

static int job_ping_timeout(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	return ynode_get_deadline(c, "timeout", value, &((struct step *)obj)->timeout_ms);
}

/* `ping:` alone, or with {count, timeout}. The timeout may also stand
 * beside the kind key, as every step's may, but not in both places. */
static int job_kind_ping(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	static const struct ymap_key keys[] = {
		{"count", job_ping_count, 0},
		{"timeout", job_ping_timeout, 0},
	};
	static const struct ymap map = {"ping", keys, ARRAY_LEN(keys), NULL, 0, NULL};
	char desc[80];

	(void)step;
	st->ping_count = 1;
	st->text = xstrdup("ping");
	if (ynode_is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value,
		                  "'ping': expected nothing or a mapping such as {count: 3, timeout: 2s}, got %s",
		                  ynode_desc(value, desc, sizeof(desc)));
	return ymap_walk(c, value, &map, st);
}

static int job_option_name(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	struct step *st = obj;

	if (ynode_want_scalar(c, "name", value, "a string") < 0)
		return -1;
	st->name = xstrdup(ynode_scalar(value));
	return 0;
}

/* Compiled here only to reject a bad pattern before any host runs; the
 * worker compiles it again (with the same options: none) to match. */
static int job_option_expect(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                             void *obj)
{
	struct step *st = obj;
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int code;

	if (ynode_want_scalar(c, "expect", value, "a regular expression") < 0)
		return -1;
	re = pcre2_compile((PCRE2_SPTR)ynode_scalar(value), value->data.scalar.length, 0, &code, &off, NULL);
	if (!re) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", code);
		return ynode_fail(c, value, "'expect': bad regex: %s (at position %zu of the pattern)", (char *)msg,
		                  ynode_char_position(ynode_scalar(value), off));
	}
	pcre2_code_free(re);
	st->expect = xstrdup(ynode_scalar(value));
	return 0;
}

/* 0 in timeout_ms means "not given", so ynode_get_deadline's refusal of 0
 * also keeps the two apart: a ping step's inner timeout is the only way
 * it can be set already. */
static int job_option_timeout(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	struct step *st = obj;

	if (st->timeout_ms)
		return ynode_fail(c, k, "give timeout inside ping or beside it, not both");
	return ynode_get_deadline(c, "timeout", value, &st->timeout_ms);
}

static int job_option_pty(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                          void *obj)
{
	return ynode_get_bool(c, "pty", value, &((struct step *)obj)->pty);
}

/* save, commit, commit_confirmed beside `config:` */
static int job_option_config(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                             void *obj)
{
	return job_config_option(c, key->name, k, value, ((struct step *)obj)->config);
}

/* headers, body, json, ... beside `http: METHOD PATH` */
static int job_option_http(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                           void *obj)
{
	return job_http_option(c, key->name, k, value, ((struct step *)obj)->http);
}

/* capture: jq on an http step's JSON; patterns (or jq on the parsed
 * records) on an ssh or cli step's text */
static int job_option_capture(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	struct step *st = obj;

	if (st->kind == STEP_HTTP)
		return job_http_option(c, key->name, k, value, st->http);
	return job_text_capture(c, value, st);
}

static int job_top_parse(struct ynode_ctx *c, yaml_node_t *root, struct job *job)
{
	char desc[80], keys[256];

	ymap_key_list(&job_top_map, keys, sizeof(keys));
	if (root->type != YAML_MAPPING_NODE)
		return ynode_fail(c, root, "expected a mapping at the top level (with keys %s), got %s", keys,
		                  ynode_desc(root, desc, sizeof(desc)));
	if (ymap_walk(c, root, &job_top_map, job) < 0)
		return -1;
	/* an empty list is rejected where it is, so no steps means no key */
	if (job->nsteps == 0)
		return ynode_fail(c, root, "missing 'steps' (expected a list of steps)");
	return 0;
}

char *job_name_from_path(const char *path)
{
	const char *base = strrchr(path, '/');
	size_t len;

	base = base ? base + 1 : path;
	len = strlen(base);
	if (len > 5 && strcmp(base + len - 5, ".yaml") == 0)
		len -= 5;
	else if (len > 4 && strcmp(base + len - 4, ".yml") == 0)
		len -= 4;
	return xstrndup(base, len);
}

int job_parse(const char *path, const char *text, size_t len, struct job **out, struct err *err)
{
	return job_parse_flags(path, text, len, 0, out, err);
}

int job_parse_flags(const char *path, const char *text, size_t len, unsigned flags, struct job **out,
                    struct err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct job_pctx c = {.y = {.path = path, .doc = &doc, .err = err}, .flags = flags};
	struct job *job = NULL;
	int have_parser = 0, have_doc = 0;
	yaml_node_t *root;
	yaml_mark_t deep;
	int r = -1;

	if (!yaml_parser_initialize(&parser)) {
		err_set(err, "%s: cannot parse YAML: out of memory", path);
		goto out;
	}
	have_parser = 1;
	if (yamldepth_exceeded(text, len, YAMLDEPTH_MAX, &deep)) {
		ynode_fail_mark(&c.y, deep, "YAML nested more than %d levels deep (expected a job file: a mapping of "
		                "settings and a list of steps)", YAMLDEPTH_MAX);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* on failure yaml_parser_load has already freed the document */
	if (!yaml_parser_load(&parser, &doc)) {
		ynode_fail_load(&c.y, &parser, text, len);
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || ynode_is_null(root)) {
		err_set(err, "%s:1:1: empty job file (expected a mapping with steps)", path);
		goto out;
	}
	/* A second document would be silently ignored otherwise; loading it
	 * also reports syntax errors anywhere in the rest of the file. */
	if (!yaml_parser_load(&parser, &extra)) {
		ynode_fail_load(&c.y, &parser, text, len);
		goto out;
	}
	if (yaml_document_get_root_node(&extra)) {
		ynode_fail_mark(&c.y, extra.start_mark, "a second YAML document (a job file holds one)");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);

	job = xcalloc(1, sizeof(*job));
	job->path = xstrdup(path);
	job->name = job_name_from_path(path);
	job->source = xstrndup(text, len);
	job->source_len = len;
	job->timeout_ms = JOB_DEFAULT_TIMEOUT_MS;
	job_defaults_ssh(&job->ssh);
	job_defaults_http(&job->http);
	job->cli.privileged = 1;
	if (job_top_parse(&c.y, root, job) < 0)
		goto out;
	*out = job;
	job = NULL;
	r = 0;
out:
	job_free(job);
	if (c.jq)
		jq_teardown(&c.jq);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return r;
}

int job_read_fd(int fd, const char *path, size_t max, const char *why, struct buf *out, struct err *err)
{
	char chunk[8192];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, "%s: cannot read: %s", path, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		buf_append(out, chunk, (size_t)n);
		if (out->len > max) {
			err_set(err, "%s: cannot read: larger than %zu bytes%s", path, max, why);
			return -1;
		}
	}
}

int job_load_fd(int fd, const char *path, struct job **out, struct err *err)
{
	struct buf text = BUF_INIT;
	int r = -1;

	if (job_read_fd(fd, path, JOB_MAX_FILE_BYTES, " (a job file is a few lines)", &text, err) < 0)
		goto out;
	r = job_parse(path, text.data ? text.data : "", text.len, out, err);
out:
	buf_free(&text);
	return r;
}

int job_load(const char *path, struct job **out, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	r = job_load_fd(fd, path, out, err);
	close(fd);
	return r;
}

void job_free(struct job *job)
{
	size_t i;

	if (!job)
		return;
	for (i = 0; i < job->nsteps; i++) {
		free(job->steps[i].text);
		free(job->steps[i].name);
		free(job->steps[i].expect);
		job_http_free(job->steps[i].http);
		job_config_free(job->steps[i].config);
		job_text_free(job->steps[i].parse);
	}
	free(job->steps);
	free(job->name);
	free(job->path);
	free(job->description);
	free(job->ssh.user);
	free(job->ssh.port);
	free(job->ssh.key);
	free(job->ssh.passphrase);
	free(job->ssh.passphrase_file);
	free(job->ssh.password);
	free(job->ssh.password_file);
	free(job->ssh.known_hosts);
	free(job->ssh.jump);
	free(job->ssh.jump_key);
	free(job->ssh.jump_password);
	free(job->ssh.jump_password_file);
	free(job->ssh.proxy_command);
	for (size_t m = 0; m < SSHALGS_NMETHODS; m++)
		free(job->ssh.algorithms[m]);
	free(job->ssh.config);
	free(job->http.base);
	free(job->http.user);
	free(job->http.password);
	free(job->http.password_file);
	free(job->http.token);
	kvlist_free(&job->http.headers);
	free(job->http.ca);
	free(job->http.cert);
	free(job->http.cert_key);
	free(job->http.pinned_key);
	free(job->cli.platform);
	free(job->cli.enable_secret);
	free(job->cli.enable_secret_file);
	kvlist_free(&job->inventory_may.env);
	kvlist_free(&job->inventory_may.files);
	kvlist_free(&job->inventory_may.settings);
	free(job->templates);
	free(job->source);
	free(job);
}

const char *step_kind_name(enum step_kind k)
{
	const struct job_kind *d = job_kind_of(k);

	return d ? d->key : "unknown";
}

const char *hostkey_policy_name(enum hostkey_policy p)
{
	if ((size_t)p < ARRAY_LEN(job_hostkey_policies))
		return job_hostkey_policies[p];
	return "unknown";
}

int hostkey_policy_parse(const char *s, enum hostkey_policy *p)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_hostkey_policies); i++) {
		if (strcmp(s, job_hostkey_policies[i]) == 0) {
			*p = (enum hostkey_policy)i;
			return 0;
		}
	}
	return -1;
}
