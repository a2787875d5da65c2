/* job: parse and validate a job file (see job.h, DESIGN.md "Job files").
 *
 * libyaml's document API gives a tree of nodes, each with its position in
 * the file, which is all validation needs. The walk follows the fixed shape
 * of a job file (mapping -> steps list -> step mappings -> scalars) and
 * never recurses into arbitrary YAML, so aliases and deep nesting in a
 * hostile file cost the walk nothing.
 *
 * What a step may be is data, not code: a table of kinds, each with the
 * option keys allowed beside it. Adding a kind is an enum value, a row in
 * step_kinds[] naming its options, and a function that reads its value;
 * a new option is a row in step_options[] and its function. The `ssh:`
 * section is a table too: each row names a key, the function that reads
 * its kind of value, and where in struct job_ssh the value goes. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "tmpl.h"

/* A job file is a few lines. The cap stops `fleetrun check /dev/zero` and
 * keeps the text small enough to travel in every worker's hello frame. */
#define JOB_MAX_FILE_BYTES (1024 * 1024)

static const char duration_expected[] = "a duration such as 30s, 500ms or 2m";
static const char bool_expected[] = "true, false, yes or no";

struct pctx {
	const char *path;
	yaml_document_t *doc;
	struct err *err;
};

typedef int (*top_parse_fn)(struct pctx *c, yaml_node_t *value, struct job *job);
typedef int (*kind_parse_fn)(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
typedef int (*option_parse_fn)(struct pctx *c, yaml_node_t *value, struct step *st);

static int top_description(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_timeout(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_retries(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_ssh(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_steps(struct pctx *c, yaml_node_t *value, struct job *job);
static int kind_exec(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_sleep(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_ssh(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int option_name(struct pctx *c, yaml_node_t *value, struct step *st);
static int option_expect(struct pctx *c, yaml_node_t *value, struct step *st);
static int option_timeout(struct pctx *c, yaml_node_t *value, struct step *st);
static int option_pty(struct pctx *c, yaml_node_t *value, struct step *st);

/* Rows with a NULL parse are keys the design has but this build does not:
 * they get a "not available" error instead of "unknown key", so a job
 * written for a later build fails with a message that says why. */
static const struct top_key {
	const char *key;
	top_parse_fn parse;
} top_keys[] = {
	{"description", top_description},
	{"timeout", top_timeout},
	{"retries", top_retries},
	{"ssh", top_ssh},
	{"steps", top_steps},
	{"http", NULL},
};

static const struct step_option {
	const char *key;
	option_parse_fn parse;
} step_options[] = {
	{"name", option_name},
	{"expect", option_expect},
	{"timeout", option_timeout},
	{"pty", option_pty},
};

static const char *const exec_options[] = {"name", "expect", "timeout", NULL};
static const char *const sleep_options[] = {"name", NULL};
static const char *const ssh_options[] = {"name", "expect", "timeout", "pty", NULL};

static const struct step_kind_desc {
	const char *key;
	enum step_kind kind;       /* meaningful only when parse is set */
	kind_parse_fn parse;       /* NULL: planned, not in this build */
	const char *const *options; /* keys allowed beside the kind key */
} step_kinds[] = {
	{"exec", STEP_EXEC, kind_exec, exec_options},
	{"sleep", STEP_SLEEP, kind_sleep, sleep_options},
	{"ssh", STEP_SSH, kind_ssh, ssh_options},
	{"http", 0, NULL, NULL},
	{"tcp", 0, NULL, NULL},
	{"ping", 0, NULL, NULL},
};

struct ssh_key;
typedef int (*ssh_parse_fn)(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);

static int ssh_string(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);
static int ssh_port(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);
static int ssh_bool(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);
static int ssh_policy(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);
static int ssh_duration(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);
static int ssh_deadline(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh);

/* Keys of the `ssh:` section, in the order the error message lists them.
 * The parse function knows the type behind offset: char * for strings and
 * the port, int for booleans, enum hostkey_policy, int64_t milliseconds
 * for durations (ssh_deadline where 0 would fail every connection). */
static const struct ssh_key {
	const char *key;
	ssh_parse_fn parse;
	size_t offset;
} ssh_keys[] = {
	{"user", ssh_string, offsetof(struct job_ssh, user)},
	{"port", ssh_port, offsetof(struct job_ssh, port)},
	{"key", ssh_string, offsetof(struct job_ssh, key)},
	{"passphrase", ssh_string, offsetof(struct job_ssh, passphrase)},
	{"passphrase_file", ssh_string, offsetof(struct job_ssh, passphrase_file)},
	{"password", ssh_string, offsetof(struct job_ssh, password)},
	{"password_file", ssh_string, offsetof(struct job_ssh, password_file)},
	{"agent", ssh_bool, offsetof(struct job_ssh, agent)},
	{"known_hosts", ssh_string, offsetof(struct job_ssh, known_hosts)},
	{"host_key_policy", ssh_policy, offsetof(struct job_ssh, host_key_policy)},
	{"connect_timeout", ssh_deadline, offsetof(struct job_ssh, connect_timeout_ms)},
	{"idle_timeout", ssh_duration, offsetof(struct job_ssh, idle_timeout_ms)},
	{"keepalive", ssh_duration, offsetof(struct job_ssh, keepalive_ms)},
	{"pty", ssh_bool, offsetof(struct job_ssh, pty)},
};

/* Two ways to give one secret: which of them should win would be a guess,
 * so a file giving both is refused. */
static const char *const ssh_exclusive[][2] = {
	{"password", "password_file"},
	{"passphrase", "passphrase_file"},
};

static const char *const hostkey_policies[] = {
	[HOSTKEY_STRICT] = "strict",
	[HOSTKEY_ACCEPT_NEW] = "accept-new",
	[HOSTKEY_OFF] = "off",
};

static int vfail_at(struct pctx *c, yaml_mark_t mark, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_set(c->err, "%s:%zu:%zu: %s", c->path, mark.line + 1, mark.column + 1, msg);
	return -1;
}

/* Set the error at node n and return -1, so callers can `return fail(...)`. */
static int fail(struct pctx *c, yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(struct pctx *c, yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(c, n->start_mark, fmt, ap);
	va_end(ap);
	return -1;
}

static int fail_mark(struct pctx *c, yaml_mark_t mark, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail_mark(struct pctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vfail_at(c, mark, fmt, ap);
	va_end(ap);
	return -1;
}

static int is_utf8_continuation(char ch)
{
	return ((unsigned char)ch & 0xC0) == 0x80;
}

/* User text quoted in a message: bounded, cut only between characters, and
 * control bytes shown as '?' so a hostile key cannot forge log lines. */
static const char *excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t max = outlen > 8 ? outlen - 8 : 0; /* room for "...", NUL and a
	                                              character's tail */
	size_t i, n = 0;

	for (i = 0; i < len && (n < max || is_utf8_continuation(s[i])); i++) {
		unsigned char ch = (unsigned char)s[i];
		out[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

/* 1-based character position of byte offset off in s, for messages about a
 * place inside a command or pattern. */
static size_t char_position(const char *s, size_t off)
{
	size_t i, pos = 1;

	for (i = 0; i < off && s[i]; i++)
		if (!is_utf8_continuation(s[i]))
			pos++;
	return pos;
}

static const char *scalar(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* An unquoted empty value, `~` or `null`: YAML's null. A job file never
 * means the string "null" when it writes `description: null`. */
static int is_null(yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (i = 0; i < ARRAY_LEN(nulls); i++)
		if (strcmp(scalar(n), nulls[i]) == 0)
			return 1;
	return 0;
}

/* "a mapping", "a list", "nothing" or the quoted text, for "got ..." */
static const char *node_desc(yaml_node_t *n, char *out, size_t outlen)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (is_null(n))
			return "nothing";
		out[0] = '\'';
		excerpt(scalar(n), n->data.scalar.length, out + 1, outlen - 2);
		strcat(out, "'");
		return out;
	default:
		return "nothing";
	}
}

static yaml_node_t *node_at(struct pctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

/* Ensure n is a non-null scalar usable as a C string; what names the key
 * and expected what it should have been, for the message. */
static int want_scalar(struct pctx *c, const char *what, yaml_node_t *n, const char *expected)
{
	char desc[80];

	if (n->type != YAML_SCALAR_NODE || is_null(n))
		return fail(c, n, "'%s': expected %s, got %s", what, expected, node_desc(n, desc, sizeof(desc)));
	/* "\0" in a quoted scalar would silently cut the C string short */
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return fail(c, n, "'%s': contains a NUL character", what);
	return 0;
}

static int want_key(struct pctx *c, yaml_node_t *k)
{
	char desc[80];

	if (k->type != YAML_SCALAR_NODE)
		return fail(c, k, "expected a key name, got %s", node_desc(k, desc, sizeof(desc)));
	if (memchr(k->data.scalar.value, '\0', k->data.scalar.length))
		return fail(c, k, "a key name contains a NUL character");
	return 0;
}

static int get_duration(struct pctx *c, const char *what, yaml_node_t *n, int64_t *ms)
{
	char desc[80];

	if (want_scalar(c, what, n, duration_expected) < 0)
		return -1;
	if (duration_parse(scalar(n), ms) < 0)
		return fail(c, n, "'%s': expected %s, got %s", what, duration_expected,
		            node_desc(n, desc, sizeof(desc)));
	return 0;
}

/* A deadline of 0 would expire before anything ran. */
static int get_deadline(struct pctx *c, const char *what, yaml_node_t *n, int64_t *ms)
{
	if (get_duration(c, what, n, ms) < 0)
		return -1;
	if (*ms == 0)
		return fail(c, n, "'%s': must be more than 0", what);
	return 0;
}

/* YAML 1.1's true/false and yes/no, in any case. on/off are left out:
 * `host_key_policy: off` is a word there, and one word should not be a
 * boolean in one key and a policy in the next. A quoted "yes" counts too,
 * as a quoted "22" is a port: a value is its text, whatever its style. */
static int get_bool(struct pctx *c, const char *what, yaml_node_t *n, int *out)
{
	static const struct {
		const char *word;
		int value;
	} words[] = {{"true", 1}, {"yes", 1}, {"false", 0}, {"no", 0}};
	char desc[80];
	size_t i;

	if (want_scalar(c, what, n, bool_expected) < 0)
		return -1;
	for (i = 0; i < ARRAY_LEN(words); i++) {
		if (strcasecmp(scalar(n), words[i].word) == 0) {
			*out = words[i].value;
			return 0;
		}
	}
	return fail(c, n, "'%s': expected %s, got %s", what, bool_expected, node_desc(n, desc, sizeof(desc)));
}

static void list_append(char *out, size_t outlen, const char *name)
{
	size_t n = strlen(out);

	snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", name);
}

static const char *available_kinds(char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(step_kinds); i++)
		if (step_kinds[i].parse)
			list_append(out, outlen, step_kinds[i].key);
	return out;
}

static const char *available_top_keys(char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(top_keys); i++)
		if (top_keys[i].parse)
			list_append(out, outlen, top_keys[i].key);
	return out;
}

static const char *option_list(const char *const *options, char *out, size_t outlen)
{
	out[0] = '\0';
	for (; *options; options++)
		list_append(out, outlen, *options);
	return out;
}

/* The worker expands templates per host with tmpl_render; here each ${...}
 * only has to be well formed, by tmpl's own rules, so a typo fails
 * `fleetrun check` instead of every host at run time. */
static int check_templates(struct pctx *c, yaml_node_t *at, const char *what, const char *s)
{
	struct err terr = {{0}};
	size_t off = 0;
	char ex[sizeof(terr.msg)];

	if (tmpl_check(s, &off, &terr) == 0)
		return 0;
	return fail(c, at, "bad template at position %zu of the %s: %s", char_position(s, off), what,
	            excerpt(terr.msg, strlen(terr.msg), ex, sizeof(ex)));
}

static int top_description(struct pctx *c, yaml_node_t *value, struct job *job)
{
	if (want_scalar(c, "description", value, "a string") < 0)
		return -1;
	job->description = xstrdup(scalar(value));
	return 0;
}

static int top_timeout(struct pctx *c, yaml_node_t *value, struct job *job)
{
	int64_t ms;

	if (get_deadline(c, "timeout", value, &ms) < 0)
		return -1;
	job->timeout_ms = ms;
	job->timeout_set = 1;
	return 0;
}

static int top_retries(struct pctx *c, yaml_node_t *value, struct job *job)
{
	static const char expected[] = "a whole number from 0 to 100";
	char desc[80];
	long long n;

	if (want_scalar(c, "retries", value, expected) < 0)
		return -1;
	if (int_parse(scalar(value), 0, 100, &n) < 0)
		return fail(c, value, "'retries': expected %s, got %s", expected, node_desc(value, desc, sizeof(desc)));
	job->retries = (int)n;
	return 0;
}

/* The strings are templates rendered per host by the worker; here they
 * only have to be well formed. A literal password or passphrase is
 * accepted: the job file is the user's to protect, and ${env:NAME} or a
 * _file key is there for whoever wants the secret out of it. */
static int ssh_string(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	char **slot = (char **)(void *)((char *)ssh + key->offset);
	char what[64];

	if (want_scalar(c, key->key, value, "a string") < 0)
		return -1;
	snprintf(what, sizeof(what), "ssh '%s' setting", key->key);
	if (check_templates(c, value, what, scalar(value)) < 0)
		return -1;
	*slot = xstrdup(scalar(value));
	return 0;
}

/* A number is checked now; a template such as ${port} (an inventory var)
 * can only be checked per host, once the worker has rendered it. */
static int ssh_port(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	static const char expected[] = "a port number from 1 to 65535 or a template such as ${port}";
	char **slot = (char **)(void *)((char *)ssh + key->offset);
	char desc[80];
	const char *s;
	long long n;

	if (want_scalar(c, key->key, value, expected) < 0)
		return -1;
	s = scalar(value);
	if (strstr(s, "${")) {
		if (check_templates(c, value, "ssh 'port' setting", s) < 0)
			return -1;
	} else if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, 1, 65535, &n) < 0) {
		/* digits only: strtoll would also take " 22" and "+22" */
		return fail(c, value, "'%s': expected %s, got %s", key->key, expected,
		            node_desc(value, desc, sizeof(desc)));
	}
	*slot = xstrdup(s);
	return 0;
}

static int ssh_bool(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	return get_bool(c, key->key, value, (int *)(void *)((char *)ssh + key->offset));
}

static int ssh_policy(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	enum hostkey_policy *slot = (enum hostkey_policy *)(void *)((char *)ssh + key->offset);
	char desc[80], expected[64] = "one of ";
	size_t i;

	for (i = 0; i < ARRAY_LEN(hostkey_policies); i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s", i ? ", " : "",
		         hostkey_policies[i]);
	if (want_scalar(c, key->key, value, expected) < 0)
		return -1;
	if (hostkey_policy_parse(scalar(value), slot) < 0)
		return fail(c, value, "'%s': expected %s, got %s", key->key, expected,
		            node_desc(value, desc, sizeof(desc)));
	return 0;
}

static int ssh_duration(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	return get_duration(c, key->key, value, (int64_t *)(void *)((char *)ssh + key->offset));
}

static int ssh_deadline(struct pctx *c, const struct ssh_key *key, yaml_node_t *value, struct job_ssh *ssh)
{
	return get_deadline(c, key->key, value, (int64_t *)(void *)((char *)ssh + key->offset));
}

static size_t ssh_key_index(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(ssh_keys); i++)
		if (strcmp(ssh_keys[i].key, key) == 0)
			break;
	return i;
}

/* What job_parse puts in job->ssh before the file is read, so a job
 * without the section, or a section without a key, means the defaults. */
static void ssh_defaults(struct job_ssh *ssh)
{
	ssh->agent = -1;
	ssh->host_key_policy = HOSTKEY_STRICT;
	ssh->connect_timeout_ms = JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS;
	ssh->idle_timeout_ms = 0;
	ssh->keepalive_ms = JOB_SSH_DEFAULT_KEEPALIVE_MS;
	ssh->pty = 0;
}

static int top_ssh(struct pctx *c, yaml_node_t *value, struct job *job)
{
	yaml_node_t *seen[ARRAY_LEN(ssh_keys)] = {NULL};
	char desc[80], ex[80], keys[256];
	yaml_node_pair_t *p;
	size_t i;

	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value, "'ssh': expected a mapping of connection settings such as 'user: admin', got %s",
		            node_desc(value, desc, sizeof(desc)));
	/* Strings parsed before an error stay in job->ssh for job_free;
	 * duplicates are refused before a second parse could leak the first. */
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (want_key(c, k) < 0)
			return -1;
		i = ssh_key_index(scalar(k));
		if (i == ARRAY_LEN(ssh_keys)) {
			keys[0] = '\0';
			for (i = 0; i < ARRAY_LEN(ssh_keys); i++)
				list_append(keys, sizeof(keys), ssh_keys[i].key);
			return fail(c, k, "unknown key '%s' in ssh (expected one of: %s)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)), keys);
		}
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", ssh_keys[i].key,
			            seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (ssh_keys[i].parse(c, &ssh_keys[i], node_at(c, p->value), &job->ssh) < 0)
			return -1;
	}
	/* reported at whichever of the two comes second in the file */
	for (i = 0; i < ARRAY_LEN(ssh_exclusive); i++) {
		yaml_node_t *a = seen[ssh_key_index(ssh_exclusive[i][0])];
		yaml_node_t *b = seen[ssh_key_index(ssh_exclusive[i][1])];

		if (a && b)
			return fail(c, a->start_mark.index > b->start_mark.index ? a : b, "give %s or %s, not both",
			            ssh_exclusive[i][0], ssh_exclusive[i][1]);
	}
	job->has_ssh = 1;
	return 0;
}

static const struct step_kind_desc *kind_lookup(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(step_kinds); i++)
		if (strcmp(step_kinds[i].key, key) == 0)
			return &step_kinds[i];
	return NULL;
}

/* Index in step_options[] of key if kind allows it, else -1. */
static int option_lookup(const struct step_kind_desc *kind, const char *key)
{
	const char *const *o;
	size_t i;

	for (o = kind->options; *o; o++) {
		if (strcmp(*o, key) != 0)
			continue;
		for (i = 0; i < ARRAY_LEN(step_options); i++)
			if (strcmp(step_options[i].key, key) == 0)
				return (int)i;
	}
	return -1;
}

static int is_any_option(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(step_options); i++)
		if (strcmp(step_options[i].key, key) == 0)
			return 1;
	return 0;
}

/* Which kind a step is, found first because the options allowed depend on
 * it and YAML does not order keys: `name:` may come before `exec:`. */
static int find_kind(struct pctx *c, yaml_node_t *n, const struct step_kind_desc **kind_out,
                     yaml_node_pair_t **pair_out)
{
	const struct step_kind_desc *kind = NULL;
	yaml_node_pair_t *kind_pair = NULL, *p;
	yaml_node_t *kind_key = NULL;
	char kinds[128], ex[80];

	available_kinds(kinds, sizeof(kinds));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const struct step_kind_desc *d;

		if (want_key(c, k) < 0)
			return -1;
		d = kind_lookup(scalar(k));
		if (!d)
			continue;
		if (!d->parse)
			return fail(c, k, "step kind '%s' is not available in this build (available: %s)", d->key, kinds);
		if (kind == d)
			return fail(c, k, "duplicate key '%s' (first at line %zu)", d->key, kind_key->start_mark.line + 1);
		if (kind)
			return fail(c, k, "two kind keys in one step, '%s' and '%s' (a step has exactly one of: %s)",
			            kind->key, d->key, kinds);
		kind = d;
		kind_key = k;
		kind_pair = p;
	}
	if (!kind) {
		/* A key that is no option of any kind is likely a misspelt kind */
		for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node_at(c, p->key);
			if (!is_any_option(scalar(k)))
				return fail(c, k, "unknown key '%s' in step (expected a kind key, one of: %s)",
				            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)), kinds);
		}
		return fail(c, n, "step has no kind key (expected exactly one of: %s)", kinds);
	}
	*kind_out = kind;
	*pair_out = kind_pair;
	return 0;
}

static int parse_step(struct pctx *c, yaml_node_t *n, size_t index, struct step *st)
{
	yaml_node_t *seen[ARRAY_LEN(step_options)] = {NULL};
	const struct step_kind_desc *kind = NULL;
	yaml_node_pair_t *kind_pair = NULL, *p;
	char desc[80], ex[80], opts[128];

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "step %zu: expected a mapping with a kind key such as 'exec: CMD', got %s", index + 1,
		            node_desc(n, desc, sizeof(desc)));
	st->line = (int)n->start_mark.line + 1;
	st->column = (int)n->start_mark.column + 1;
	st->pty = -1; /* only an ssh step has the option; the rest never ask */
	if (find_kind(c, n, &kind, &kind_pair) < 0)
		return -1;
	st->kind = kind->kind;
	if (kind->parse(c, n, node_at(c, kind_pair->value), st) < 0)
		return -1;

	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		int i;

		if (p == kind_pair)
			continue;
		i = option_lookup(kind, scalar(k));
		if (i < 0)
			return fail(c, k, "unknown key '%s' in %s step (expected one of: %s)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)), kind->key,
			            option_list(kind->options, opts, sizeof(opts)));
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", step_options[i].key,
			            seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (step_options[i].parse(c, node_at(c, p->value), st) < 0)
			return -1;
	}
	if (!st->name)
		st->name = xstrdup(st->text);
	return 0;
}

static int top_steps(struct pctx *c, yaml_node_t *value, struct job *job)
{
	char desc[80];
	size_t i, n;

	if (value->type != YAML_SEQUENCE_NODE)
		return fail(c, value, "'steps': expected a list of steps, got %s", node_desc(value, desc, sizeof(desc)));
	n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
	if (n == 0)
		return fail(c, value, "'steps' is empty (expected at least one step)");
	if (n > JOB_MAX_STEPS)
		return fail(c, value, "too many steps (%zu; at most %d)", n, JOB_MAX_STEPS);
	/* nsteps is set first so that job_free frees a half-parsed list */
	job->steps = xcalloc(n, sizeof(*job->steps));
	job->nsteps = n;
	for (i = 0; i < n; i++)
		if (parse_step(c, node_at(c, value->data.sequence.items.start[i]), i, &job->steps[i]) < 0)
			return -1;
	return 0;
}

/* exec and ssh steps: a command template, rendered per host later. */
static int get_command(struct pctx *c, const char *kind, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	char what[32];
	const char *s;

	if (want_scalar(c, kind, value, "a command") < 0)
		return -1;
	s = scalar(value);
	if (s[strspn(s, " \t\r\n")] == '\0')
		return fail(c, value, "'%s': the command is empty", kind);
	snprintf(what, sizeof(what), "%s command", kind);
	if (check_templates(c, step, what, s) < 0)
		return -1;
	st->text = xstrdup(s);
	return 0;
}

static int kind_exec(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	return get_command(c, "exec", step, value, st);
}

static int kind_ssh(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	return get_command(c, "ssh", step, value, st);
}

static int kind_sleep(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	int64_t ms;

	(void)step;
	if (get_duration(c, "sleep", value, &ms) < 0)
		return -1;
	st->text = xstrdup(scalar(value));
	st->sleep_ms = ms;
	return 0;
}

static int option_name(struct pctx *c, yaml_node_t *value, struct step *st)
{
	if (want_scalar(c, "name", value, "a string") < 0)
		return -1;
	st->name = xstrdup(scalar(value));
	return 0;
}

/* Compiled here only to reject a bad pattern before any host runs; the
 * worker compiles it again (with the same options: none) to match. */
static int option_expect(struct pctx *c, yaml_node_t *value, struct step *st)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	pcre2_code *re;
	int code;

	if (want_scalar(c, "expect", value, "a regular expression") < 0)
		return -1;
	re = pcre2_compile((PCRE2_SPTR)scalar(value), value->data.scalar.length, 0, &code, &off, NULL);
	if (!re) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", code);
		return fail(c, value, "'expect': bad regex: %s (at position %zu of the pattern)", (char *)msg,
		            char_position(scalar(value), off));
	}
	pcre2_code_free(re);
	st->expect = xstrdup(scalar(value));
	return 0;
}

/* 0 in timeout_ms means "not given", so get_deadline's refusal of 0 also
 * keeps the two apart. */
static int option_timeout(struct pctx *c, yaml_node_t *value, struct step *st)
{
	return get_deadline(c, "timeout", value, &st->timeout_ms);
}

static int option_pty(struct pctx *c, yaml_node_t *value, struct step *st)
{
	return get_bool(c, "pty", value, &st->pty);
}

static int parse_top(struct pctx *c, yaml_node_t *root, struct job *job)
{
	yaml_node_t *seen[ARRAY_LEN(top_keys)] = {NULL};
	char desc[80], ex[80], keys[128], kinds[128];
	yaml_node_pair_t *p;

	available_top_keys(keys, sizeof(keys));
	if (root->type != YAML_MAPPING_NODE)
		return fail(c, root, "expected a mapping at the top level (with keys %s), got %s", keys,
		            node_desc(root, desc, sizeof(desc)));
	for (p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		size_t i;

		if (want_key(c, k) < 0)
			return -1;
		for (i = 0; i < ARRAY_LEN(top_keys); i++)
			if (strcmp(top_keys[i].key, scalar(k)) == 0)
				break;
		if (i == ARRAY_LEN(top_keys))
			return fail(c, k, "unknown key '%s' (expected one of: %s)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)), keys);
		if (!top_keys[i].parse)
			return fail(c, k, "'%s' settings are not available in this build (step kinds available: %s)",
			            top_keys[i].key, available_kinds(kinds, sizeof(kinds)));
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", top_keys[i].key,
			            seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (top_keys[i].parse(c, node_at(c, p->value), job) < 0)
			return -1;
	}
	/* an empty list is rejected where it is, so no steps means no key */
	if (job->nsteps == 0)
		return fail(c, root, "missing 'steps' (expected a list of steps)");
	return 0;
}

/* libyaml's reader (bad UTF-8, control characters) reports a byte offset
 * rather than a mark; count lines and characters up to it ourselves. */
static yaml_mark_t mark_at_offset(const char *text, size_t len, size_t off)
{
	yaml_mark_t m = {0, 0, 0};
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			m.line++;
			m.column = 0;
		} else if (text[i] != '\r' && !is_utf8_continuation(text[i])) {
			m.column++;
		}
	}
	m.index = i;
	return m;
}

static void yaml_fail(struct pctx *c, yaml_parser_t *parser, const char *text, size_t len)
{
	yaml_mark_t m;

	switch (parser->error) {
	case YAML_READER_ERROR:
		m = mark_at_offset(text, len, parser->problem_offset);
		if (parser->problem_value != -1)
			fail_mark(c, m, "invalid YAML: %s (0x%X)", parser->problem, (unsigned)parser->problem_value);
		else
			fail_mark(c, m, "invalid YAML: %s", parser->problem);
		break;
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (parser->context)
			fail_mark(c, parser->problem_mark, "invalid YAML: %s (%s at line %zu column %zu)",
			          parser->problem ? parser->problem : "error", parser->context,
			          parser->context_mark.line + 1, parser->context_mark.column + 1);
		else
			fail_mark(c, parser->problem_mark, "invalid YAML: %s",
			          parser->problem ? parser->problem : "error");
		break;
	default:
		err_set(c->err, "%s: cannot parse YAML: out of memory", c->path);
		break;
	}
}

static char *name_from_path(const char *path)
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
	yaml_parser_t parser;
	yaml_document_t doc, extra;
	struct pctx c = {path, &doc, err};
	struct job *job = NULL;
	int have_parser = 0, have_doc = 0;
	yaml_node_t *root;
	int r = -1;

	if (!yaml_parser_initialize(&parser)) {
		err_set(err, "%s: cannot parse YAML: out of memory", path);
		goto out;
	}
	have_parser = 1;
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	/* on failure yaml_parser_load has already freed the document */
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_fail(&c, &parser, text, len);
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || is_null(root)) {
		err_set(err, "%s:1:1: empty job file (expected a mapping with steps)", path);
		goto out;
	}
	/* A second document would be silently ignored otherwise; loading it
	 * also reports syntax errors anywhere in the rest of the file. */
	if (!yaml_parser_load(&parser, &extra)) {
		yaml_fail(&c, &parser, text, len);
		goto out;
	}
	if (yaml_document_get_root_node(&extra)) {
		fail_mark(&c, extra.start_mark, "a second YAML document (a job file holds one)");
		yaml_document_delete(&extra);
		goto out;
	}
	yaml_document_delete(&extra);

	job = xcalloc(1, sizeof(*job));
	job->path = xstrdup(path);
	job->name = name_from_path(path);
	job->source = xstrndup(text, len);
	job->source_len = len;
	job->timeout_ms = JOB_DEFAULT_TIMEOUT_MS;
	ssh_defaults(&job->ssh);
	if (parse_top(&c, root, job) < 0)
		goto out;
	*out = job;
	job = NULL;
	r = 0;
out:
	job_free(job);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return r;
}

int job_load(const char *path, struct job **out, struct err *err)
{
	struct buf text = BUF_INIT;
	char chunk[8192];
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			err_set(err, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		buf_append(&text, chunk, (size_t)n);
		if (text.len > JOB_MAX_FILE_BYTES) {
			err_set(err, "%s: cannot read: larger than %d bytes (a job file is a few lines)", path,
			        JOB_MAX_FILE_BYTES);
			goto out;
		}
	}
	r = job_parse(path, text.data ? text.data : "", text.len, out, err);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&text);
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
	free(job->source);
	free(job);
}

const char *step_kind_name(enum step_kind k)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(step_kinds); i++)
		if (step_kinds[i].parse && step_kinds[i].kind == k)
			return step_kinds[i].key;
	return "unknown";
}

const char *hostkey_policy_name(enum hostkey_policy p)
{
	if ((size_t)p < ARRAY_LEN(hostkey_policies))
		return hostkey_policies[p];
	return "unknown";
}

int hostkey_policy_parse(const char *s, enum hostkey_policy *p)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(hostkey_policies); i++) {
		if (strcmp(s, hostkey_policies[i]) == 0) {
			*p = (enum hostkey_policy)i;
			return 0;
		}
	}
	return -1;
}
