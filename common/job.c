/* job: parse and validate a job file (see job.h, DESIGN.md "Job files").
 *
 * libyaml's document API gives a tree of nodes, each with its position in
 * the file, which is all validation needs. The walk follows the fixed shape
 * of a job file (mapping -> steps list -> step mappings -> scalars); the
 * one place it descends into arbitrary YAML, an http step's `json:` body,
 * is bounded in depth and in output, so aliases (which may even form a
 * cycle) and deep nesting in a hostile file cannot make it run away.
 *
 * What a step may be is data, not code: a table of kinds, each with the
 * option keys allowed beside it. Adding a kind is an enum value, a row in
 * step_kinds[] naming its options, and a function that reads its value;
 * a new option is a row in step_options[] and its function. The `ssh:`
 * and `http:` sections are tables too: each row names a key, the function
 * that reads its kind of value, and where in the section's struct the
 * value goes. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "job.h"

#include <errno.h>
#include <fcntl.h>
#include <jq.h>
#include <pcre2.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <yaml.h>

#include "buf.h"
#include "jqprog.h"
#include "tmpl.h"
#include "yamldepth.h"

/* A job file is a few lines. The cap stops `fleetrun check /dev/zero` and
 * keeps the text small enough to travel in every worker's hello frame. */
#define JOB_MAX_FILE_BYTES (1024 * 1024)

/* A `json:` body is built from the file, so it is no bigger than the file
 * unless aliases repeat parts of it; past these it is refused. */
#define JOB_JSON_MAX_BYTES JOB_MAX_FILE_BYTES
#define JOB_JSON_MAX_DEPTH 64

#define JOB_HTTP_MAX_STATUSES ((int)ARRAY_LEN(((struct step_http *)0)->expect_status) - 1)
#define JOB_HTTP_REDIRECTS_LIMIT 20
#define JOB_PING_MAX_COUNT 100

static const char duration_expected[] = "a duration such as 30s, 500ms or 2m";
static const char bool_expected[] = "true, false, yes or no";
static const char port_expected[] = "a port number from 1 to 65535 or a template such as ${port}";

struct pctx {
	const char *path;
	unsigned flags;         /* JOB_PARSE_* */
	yaml_document_t *doc;
	struct err *err;
	jq_state *jq;       /* NULL until the first jq expression; one per parse */
	char jq_msg[256];   /* the first thing jq said about the last compile */
	int jq_nmsg;
};

typedef int (*top_parse_fn)(struct pctx *c, yaml_node_t *value, struct job *job);
typedef int (*kind_parse_fn)(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
/* k is the option's key node, for messages about the option as a whole */
typedef int (*option_parse_fn)(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
typedef int (*http_step_parse_fn)(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value,
                                  struct step_http *h);

static int top_description(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_timeout(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_retries(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_ssh(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_http(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_steps(struct pctx *c, yaml_node_t *value, struct job *job);
static int top_inventory_may(struct pctx *c, yaml_node_t *value, struct job *job);
static int kind_exec(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_sleep(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_ssh(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_http(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_tcp(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int kind_ping(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
static int option_name(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
static int option_expect(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
static int option_timeout(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
static int option_pty(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
static int option_http(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st);
static int hstep_method(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_path(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_url(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_headers(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_body(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_json(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_expect_status(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value,
                               struct step_http *h);
static int hstep_check(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
static int hstep_capture(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);

static const struct top_key {
	const char *key;
	top_parse_fn parse;
} top_keys[] = {
	{"description", top_description},
	{"timeout", top_timeout},
	{"retries", top_retries},
	{"ssh", top_ssh},
	{"http", top_http},
	{"steps", top_steps},
	{"inventory_may", top_inventory_may},
};

static const struct step_option {
	const char *key;
	option_parse_fn parse;
} step_options[] = {
	{"name", option_name},
	{"expect", option_expect},
	{"timeout", option_timeout},
	{"pty", option_pty},
	/* an http step's own keys, beside `http: METHOD PATH` */
	{"headers", option_http},
	{"body", option_http},
	{"json", option_http},
	{"expect_status", option_http},
	{"check", option_http},
	{"capture", option_http},
};

/* Options of one step that say the same thing two ways: refused, at
 * whichever of the two comes second in the file. */
static const char *const step_exclusive[][2] = {
	{"body", "json"},
};

static const char *const exec_options[] = {"name", "expect", "timeout", NULL};
static const char *const sleep_options[] = {"name", NULL};
static const char *const ssh_options[] = {"name", "expect", "timeout", "pty", NULL};
static const char *const http_line_options[] = {"name", "expect", "timeout", "headers", "body", "json",
                                                "expect_status", "check", "capture", NULL};
static const char *const http_map_options[] = {"name", "expect", "timeout", NULL};
static const char *const tcp_options[] = {"name", "timeout", NULL};
static const char *const ping_options[] = {"name", "timeout", NULL};

static const struct step_kind_desc {
	const char *key;
	enum step_kind kind;
	kind_parse_fn parse;
	const char *const *options;     /* keys allowed beside the kind key */
	const char *const *map_options; /* NULL, or those allowed instead when
	                                   the kind key's value is a mapping
	                                   (the rest then go inside it) */
} step_kinds[] = {
	{"exec", STEP_EXEC, kind_exec, exec_options, NULL},
	{"sleep", STEP_SLEEP, kind_sleep, sleep_options, NULL},
	{"ssh", STEP_SSH, kind_ssh, ssh_options, NULL},
	{"http", STEP_HTTP, kind_http, http_line_options, http_map_options},
	{"tcp", STEP_TCP, kind_tcp, tcp_options, NULL},
	{"ping", STEP_PING, kind_ping, ping_options, NULL},
};

/* The keys of an http step's mapping form; the same functions read those
 * of them given beside `http: METHOD PATH`. */
static const struct http_step_key {
	const char *key;
	http_step_parse_fn parse;
} http_step_keys[] = {
	{"method", hstep_method},
	{"path", hstep_path},
	{"url", hstep_url},
	{"headers", hstep_headers},
	{"body", hstep_body},
	{"json", hstep_json},
	{"expect_status", hstep_expect_status},
	{"check", hstep_check},
	{"capture", hstep_capture},
};

static const char *const http_step_exclusive[][2] = {
	{"path", "url"},
	{"body", "json"},
};

struct setting;
typedef int (*setting_parse_fn)(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                                void *obj);

static int setting_string(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_port(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_bool(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_policy(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_duration(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                            void *obj);
static int setting_deadline(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                            void *obj);
static int setting_url(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_headers(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                           void *obj);
static int setting_pin(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj);
static int setting_redirects(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                             void *obj);

/* One key of a connection section. The parse function knows the type
 * behind offset: char * for strings and the port, int for booleans and
 * the redirect count, enum hostkey_policy, int64_t milliseconds for
 * durations (setting_deadline where 0 would fail every connection),
 * struct kvlist for headers. */
static const struct setting {
	const char *key;
	setting_parse_fn parse;
	size_t offset;
} ssh_keys[] = {
	{"user", setting_string, offsetof(struct job_ssh, user)},
	{"port", setting_port, offsetof(struct job_ssh, port)},
	{"key", setting_string, offsetof(struct job_ssh, key)},
	{"passphrase", setting_string, offsetof(struct job_ssh, passphrase)},
	{"passphrase_file", setting_string, offsetof(struct job_ssh, passphrase_file)},
	{"password", setting_string, offsetof(struct job_ssh, password)},
	{"password_file", setting_string, offsetof(struct job_ssh, password_file)},
	{"agent", setting_bool, offsetof(struct job_ssh, agent)},
	{"known_hosts", setting_string, offsetof(struct job_ssh, known_hosts)},
	{"host_key_policy", setting_policy, offsetof(struct job_ssh, host_key_policy)},
	{"connect_timeout", setting_deadline, offsetof(struct job_ssh, connect_timeout_ms)},
	{"idle_timeout", setting_duration, offsetof(struct job_ssh, idle_timeout_ms)},
	{"keepalive", setting_duration, offsetof(struct job_ssh, keepalive_ms)},
	{"pty", setting_bool, offsetof(struct job_ssh, pty)},
}, http_keys[] = {
	{"base", setting_url, offsetof(struct job_http, base)},
	{"user", setting_string, offsetof(struct job_http, user)},
	{"password", setting_string, offsetof(struct job_http, password)},
	{"password_file", setting_string, offsetof(struct job_http, password_file)},
	{"token", setting_string, offsetof(struct job_http, token)},
	{"headers", setting_headers, offsetof(struct job_http, headers)},
	{"ca", setting_string, offsetof(struct job_http, ca)},
	{"cert", setting_string, offsetof(struct job_http, cert)},
	{"cert_key", setting_string, offsetof(struct job_http, cert_key)},
	{"pinned_key", setting_pin, offsetof(struct job_http, pinned_key)},
	{"insecure", setting_bool, offsetof(struct job_http, insecure)},
	{"connect_timeout", setting_deadline, offsetof(struct job_http, connect_timeout_ms)},
	{"follow_redirects", setting_redirects, offsetof(struct job_http, follow_redirects)},
};

/* Two ways to give one secret: which of them should win would be a guess,
 * so a file giving both is refused. */
static const char *const ssh_exclusive[][2] = {
	{"password", "password_file"},
	{"passphrase", "passphrase_file"},
};
static const char *const http_exclusive[][2] = {
	{"password", "password_file"},
};

/* A connection section: its keys in the order messages list them, the
 * pairs that exclude each other, and an example for "expected ...". */
struct section {
	const char *name;
	const char *example;
	const struct setting *keys;
	size_t nkeys;
	const char *const (*exclusive)[2];
	size_t nexclusive;
};

#define SECTION_MAX_KEYS 16
_Static_assert(ARRAY_LEN(ssh_keys) <= SECTION_MAX_KEYS, "ssh_keys");
_Static_assert(ARRAY_LEN(http_keys) <= SECTION_MAX_KEYS, "http_keys");

static const struct section ssh_section = {
	"ssh", "user: admin", ssh_keys, ARRAY_LEN(ssh_keys), ssh_exclusive, ARRAY_LEN(ssh_exclusive),
};
static const struct section http_section = {
	"http", "base: https://${host}", http_keys, ARRAY_LEN(http_keys), http_exclusive, ARRAY_LEN(http_exclusive),
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

static const char *all_kinds(char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(step_kinds); i++)
		list_append(out, outlen, step_kinds[i].key);
	return out;
}

static const char *all_top_keys(char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < ARRAY_LEN(top_keys); i++)
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

/* Whether s has a ${...} reference ($${ is an escaped one, by tmpl's
 * rule), i.e. whether what it means is only known per host. */
static int has_template(const char *s)
{
	const char *p = s;

	while ((p = strstr(p, "${")) != NULL) {
		if (p == s || p[-1] != '$')
			return 1;
		p += 2;
	}
	return 0;
}

static int has_space_or_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* http:// or https://, in any case, and something after it. */
static int is_http_url(const char *s)
{
	return (strncasecmp(s, "http://", 7) == 0 && s[7]) || (strncasecmp(s, "https://", 8) == 0 && s[8]);
}

/* Only a rendered URL can be checked for the scheme when it starts with a
 * template; spaces and control bytes are wrong whatever the template
 * renders to. */
static int check_url_text(struct pctx *c, const char *what, yaml_node_t *n, const char *s, int is_path)
{
	char desc[80];

	if (strncmp(s, "${", 2) != 0 && (is_path ? s[0] != '/' : !is_http_url(s)))
		return fail(c, n, "'%s': expected %s, got %s", what,
		            is_path ? "a path starting with /" : "a URL starting with http:// or https://",
		            node_desc(n, desc, sizeof(desc)));
	if (has_space_or_control(s))
		return fail(c, n, "'%s': contains a space or a control character (percent-encode it)", what);
	return 0;
}

/* Digits only: strtoll would also take " 22" and "+22". */
static int get_count(struct pctx *c, const char *what, yaml_node_t *n, long long min, long long max, long long *out)
{
	char desc[80], expected[64];
	const char *s;

	snprintf(expected, sizeof(expected), "a whole number from %lld to %lld", min, max);
	if (want_scalar(c, what, n, expected) < 0)
		return -1;
	s = scalar(n);
	if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, min, max, out) < 0)
		return fail(c, n, "'%s': expected %s, got %s", what, expected, node_desc(n, desc, sizeof(desc)));
	return 0;
}

/* A number is checked now; a template such as ${port} (an inventory var)
 * can only be checked per host, once the worker has rendered it. tmpl_what
 * names the value in template errors. */
static int get_port(struct pctx *c, const char *what, const char *tmpl_what, yaml_node_t *n, char **out)
{
	char desc[80];
	const char *s;
	long long v;

	if (want_scalar(c, what, n, port_expected) < 0)
		return -1;
	s = scalar(n);
	if (strstr(s, "${")) {
		if (check_templates(c, n, tmpl_what, s) < 0)
			return -1;
	} else if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, 1, 65535, &v) < 0) {
		return fail(c, n, "'%s': expected %s, got %s", what, port_expected, node_desc(n, desc, sizeof(desc)));
	}
	*out = xstrdup(s);
	return 0;
}

/* RFC 9110's tchar: what a header name (and a method) is made of. */
static int is_token(const char *s)
{
	static const char extra[] = "!#$%&'*+-.^_`|~";

	if (!*s)
		return 0;
	for (; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') ||
		      strchr(extra, *s)))
			return 0;
	return 1;
}

/* `headers:` of the http section or of a step: header name -> template.
 * Names are compared without case, as HTTP does, so a file cannot give
 * one header twice; a line break in a value would start a header of its
 * own. */
static int get_headers(struct pctx *c, yaml_node_t *value, struct kvlist *out)
{
	char desc[80], ex[80], what[96];
	yaml_node_pair_t *p;
	size_t i;

	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value,
		            "'headers': expected a mapping of header names to values such as 'Accept: text/plain', got %s",
		            node_desc(value, desc, sizeof(desc)));
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
		const char *name, *s;

		if (want_key(c, k) < 0)
			return -1;
		name = scalar(k);
		excerpt(name, k->data.scalar.length, ex, sizeof(ex));
		if (!is_token(name))
			return fail(c, k, "'headers': '%s' is not a header name (letters, digits and !#$%%&'*+-.^_`|~ only)",
			            ex);
		for (i = 0; i < out->len; i++)
			if (strcasecmp(out->items[i].key, name) == 0)
				return fail(c, k, "duplicate header '%s'", ex);
		if (want_scalar(c, ex, v, "a string") < 0)
			return -1;
		s = scalar(v);
		if (strpbrk(s, "\r\n"))
			return fail(c, v, "'%s': a header value cannot hold a line break", ex);
		snprintf(what, sizeof(what), "'%s' header", ex);
		if (check_templates(c, v, what, s) < 0)
			return -1;
		kvlist_set(out, name, s);
	}
	return 0;
}

/* The first thing jq says when a compile fails, kept for the message. */
static void jq_error_cb(void *data, jv msg)
{
	struct pctx *c = data;

	if (c->jq_nmsg++ == 0) {
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			snprintf(c->jq_msg, sizeof(c->jq_msg), "%s", jv_string_value(msg));
		} else if (jv_get_kind(msg) != JV_KIND_INVALID) {
			jv s = jv_dump_string(jv_copy(msg), 0);
			snprintf(c->jq_msg, sizeof(c->jq_msg), "%s", jv_string_value(s));
			jv_free(s);
		}
	}
	jv_free(msg);
}

/* jq's "jq: error: syntax error, unexpected $end (Unix shell quoting
 * issues?) at <top-level>, line 1:\n.a |" says, in a job file's terms,
 * "syntax error, unexpected $end". */
static const char *jq_message(struct pctx *c)
{
	static const char prefix[] = "jq: error: ";
	static const char *const cut[] = {" (Unix shell quoting issues?)", " at <top-level>", "\n"};
	char *m = c->jq_msg, *e;
	size_t i;

	if (!c->jq_nmsg || !*m)
		return "it does not compile";
	if (strncmp(m, prefix, strlen(prefix)) == 0)
		memmove(m, m + strlen(prefix), strlen(m + strlen(prefix)) + 1);
	for (i = 0; i < ARRAY_LEN(cut); i++)
		if ((e = strstr(m, cut[i])) != NULL && e > m)
			*e = '\0';
	return m;
}

/* jq's module directives come before anything else in a program. */
static int jq_has_module(const char *s)
{
	static const char *const words[] = {"module", "import", "include"};
	size_t i, n;

	for (;;) {
		s += strspn(s, " \t\r\n");
		if (*s != '#')
			break;
		s += strcspn(s, "\n");
	}
	for (i = 0; i < ARRAY_LEN(words); i++) {
		n = strlen(words[i]);
		if (strncmp(s, words[i], n) == 0 && !(s[n] == '_' || (s[n] >= '0' && s[n] <= '9') ||
		                                       (s[n] >= 'A' && s[n] <= 'Z') || (s[n] >= 'a' && s[n] <= 'z')))
			return 1;
	}
	return 0;
}

/* A jq expression (check, capture) is compiled here only to reject a bad
 * one before any host runs; the worker compiles it again, as written (jq
 * expressions are not templates: jq has variables of its own). One
 * jq_state serves the whole parse: each compile costs tens of
 * milliseconds in jq 1.6, most of it jq's own builtins, and a job without
 * jq never starts one.
 *
 * Modules are refused: the workers get the job's text and nothing else,
 * and jq 1.6 would read them from the current directory, or abort the
 * process when no library path is set. The empty path is set anyway
 * (jqprog_new), so that nothing the check above misses can abort; and
 * ~/.jq is kept out (jqprog_compile). */
static int check_jq(struct pctx *c, yaml_node_t *n, const char *what, const char *for_var, const char *expr)
{
	char ex[sizeof(c->jq_msg) + 8];
	const char *m;

	if (jq_has_module(expr))
		return fail(c, n, "'%s': jq modules (module, import, include) cannot be used in a job file", what);
	if (c->flags & JOB_PARSE_NO_JQ)
		return 0;
	if (!c->jq) {
		c->jq = jqprog_new();
		if (!c->jq)
			return fail(c, n, "'%s': cannot start jq to check the expression", what);
		jq_set_error_cb(c->jq, jq_error_cb, c);
	}
	c->jq_nmsg = 0;
	c->jq_msg[0] = '\0';
	if (jqprog_compile(c->jq, expr))
		return 0;
	m = jq_message(c);
	excerpt(m, strlen(m), ex, sizeof(ex));
	if (for_var)
		return fail(c, n, "'%s': bad jq expression for '%s': %s", what, for_var, ex);
	return fail(c, n, "'%s': bad jq expression: %s", what, ex);
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

/* A list of scalars, each checked by ok(); its items as keys of out. */
static int get_name_list(struct pctx *c, const char *what, yaml_node_t *value, int (*ok)(const char *),
                         const char *expected, struct kvlist *out)
{
	char desc[80];

	if (value->type != YAML_SEQUENCE_NODE)
		return fail(c, value, "'%s': expected a list of %s, got %s", what, expected,
		            node_desc(value, desc, sizeof(desc)));
	for (yaml_node_item_t *it = value->data.sequence.items.start; it < value->data.sequence.items.top; it++) {
		yaml_node_t *n = node_at(c, *it);

		if (want_scalar(c, what, n, expected) < 0)
			return -1;
		if (!ok(scalar(n)))
			return fail(c, n, "'%s': expected %s, got %s", what, expected, node_desc(n, desc, sizeof(desc)));
		kvlist_set(out, scalar(n), "");
	}
	return 0;
}

static int is_env_name(const char *s)
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
static int is_dir_path(const char *s)
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

/* The settings whose host var may turn a check off (hostvar.h). */
static int is_loosening_setting(const char *s)
{
	return strcmp(s, "host_key_policy") == 0 || strcmp(s, "insecure") == 0;
}

/* inventory_may: {env: [NAME, ...], files: [DIR, ...], settings: [...]}. The job is code
 * and the inventory data: what a host var may read here is the job's
 * to say (see struct job_inventory_may). */
static int top_inventory_may(struct pctx *c, yaml_node_t *value, struct job *job)
{
	char desc[80], ex[80];

	if (is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value, "'inventory_may': expected a mapping with env, files and settings, got %s",
		            node_desc(value, desc, sizeof(desc)));
	for (yaml_node_pair_t *p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);

		if (want_key(c, k) < 0)
			return -1;
		if (strcmp(scalar(k), "env") == 0) {
			if (get_name_list(c, "inventory_may env", v, is_env_name,
			                  "environment variable names such as NETBOX_TOKEN", &job->inventory_may.env) < 0)
				return -1;
		} else if (strcmp(scalar(k), "files") == 0) {
			if (get_name_list(c, "inventory_may files", v, is_dir_path,
			                  "directories such as /etc/fleetrun/ca/ or ~/.ssh/fleet/ (absolute or ~/, "
			                  "no '..')", &job->inventory_may.files) < 0)
				return -1;
		} else if (strcmp(scalar(k), "settings") == 0) {
			if (get_name_list(c, "inventory_may settings", v, is_loosening_setting,
			                  "host_key_policy or insecure", &job->inventory_may.settings) < 0)
				return -1;
		} else {
			return fail(c, k, "unknown key '%s' in inventory_may (expected env, files or settings)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)));
		}
	}
	return 0;
}

static void *setting_slot(void *obj, const struct setting *s)
{
	return (char *)obj + s->offset;
}

/* The strings are templates rendered per host by the worker; here they
 * only have to be well formed. A literal password or passphrase is
 * accepted: the job file is the user's to protect, and ${env:NAME} or a
 * _file key is there for whoever wants the secret out of it. */
static int setting_string(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	char what[64];

	if (want_scalar(c, s->key, value, "a string") < 0)
		return -1;
	snprintf(what, sizeof(what), "%s '%s' setting", section, s->key);
	if (check_templates(c, value, what, scalar(value)) < 0)
		return -1;
	*(char **)setting_slot(obj, s) = xstrdup(scalar(value));
	return 0;
}

static int setting_port(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	char what[64];

	snprintf(what, sizeof(what), "%s '%s' setting", section, s->key);
	return get_port(c, s->key, what, value, (char **)setting_slot(obj, s));
}

static int setting_bool(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	return get_bool(c, s->key, value, (int *)setting_slot(obj, s));
}

static int setting_policy(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	enum hostkey_policy *slot = setting_slot(obj, s);
	char desc[80], expected[64] = "one of ";
	size_t i;

	for (i = 0; i < ARRAY_LEN(hostkey_policies); i++)
		snprintf(expected + strlen(expected), sizeof(expected) - strlen(expected), "%s%s", i ? ", " : "",
		         hostkey_policies[i]);
	if (want_scalar(c, s->key, value, expected) < 0)
		return -1;
	if (hostkey_policy_parse(scalar(value), slot) < 0)
		return fail(c, value, "'%s': expected %s, got %s", s->key, expected, node_desc(value, desc, sizeof(desc)));
	return 0;
}

static int setting_duration(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                            void *obj)
{
	return get_duration(c, s->key, value, (int64_t *)setting_slot(obj, s));
}

static int setting_deadline(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                            void *obj)
{
	return get_deadline(c, s->key, value, (int64_t *)setting_slot(obj, s));
}

static int setting_url(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	if (want_scalar(c, s->key, value, "a URL starting with http:// or https://") < 0 ||
	    check_url_text(c, s->key, value, scalar(value), 0) < 0)
		return -1;
	return setting_string(c, section, s, value, obj);
}

static int setting_headers(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                           void *obj)
{
	return get_headers(c, value, (struct kvlist *)setting_slot(obj, s));
}

/* libcurl's CURLOPT_PINNEDPUBKEY compares the base64 text it computes
 * with this one, so anything but sha256// and 44 base64 characters
 * (several such pins joined by ;) could never match. */
static int setting_pin(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value, void *obj)
{
	static const char expected[] =
		"sha256// and the base64 SHA-256 of the server's public key (44 characters; several joined with ;)";
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char desc[80];
	const char *p;

	if (want_scalar(c, s->key, value, expected) < 0)
		return -1;
	if (!has_template(scalar(value))) {
		for (p = scalar(value);; p += 8 + 44 + 1) {
			if (strncmp(p, "sha256//", 8) != 0 || strspn(p + 8, b64) != 43 || p[8 + 43] != '=' ||
			    (p[8 + 44] != '\0' && p[8 + 44] != ';'))
				return fail(c, value, "'%s': expected %s, got %s", s->key, expected,
				            node_desc(value, desc, sizeof(desc)));
			if (p[8 + 44] == '\0')
				break;
		}
	}
	return setting_string(c, section, s, value, obj);
}

/* true: up to JOB_HTTP_MAX_REDIRECTS; a number: up to that many. */
static int setting_redirects(struct pctx *c, const char *section, const struct setting *s, yaml_node_t *value,
                             void *obj)
{
	static const char expected[] = "true, false or a number of redirects from 0 to 20";
	int *slot = setting_slot(obj, s);
	char desc[80];
	const char *t;
	long long n;
	int b;

	if (want_scalar(c, s->key, value, expected) < 0)
		return -1;
	t = scalar(value);
	if (t[0] >= '0' && t[0] <= '9') {
		if (t[strspn(t, "0123456789")] != '\0' || int_parse(t, 0, JOB_HTTP_REDIRECTS_LIMIT, &n) < 0)
			return fail(c, value, "'%s': expected %s, got %s", s->key, expected,
			            node_desc(value, desc, sizeof(desc)));
		*slot = (int)n;
		return 0;
	}
	if (get_bool(c, s->key, value, &b) < 0) /* its message would not mention numbers */
		return fail(c, value, "'%s': expected %s, got %s", s->key, expected, node_desc(value, desc, sizeof(desc)));
	*slot = b ? JOB_HTTP_MAX_REDIRECTS : 0;
	return 0;
}

static size_t setting_index(const struct section *sec, const char *key)
{
	size_t i;

	for (i = 0; i < sec->nkeys; i++)
		if (strcmp(sec->keys[i].key, key) == 0)
			break;
	return i;
}

/* What job_parse puts in job->ssh and job->http before the file is read,
 * so a job without the section, or a section without a key, means the
 * defaults. */
static void ssh_defaults(struct job_ssh *ssh)
{
	ssh->agent = -1;
	ssh->host_key_policy = HOSTKEY_STRICT;
	ssh->connect_timeout_ms = JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS;
	ssh->idle_timeout_ms = 0;
	ssh->keepalive_ms = JOB_SSH_DEFAULT_KEEPALIVE_MS;
	ssh->pty = 0;
}

static void http_defaults(struct job_http *http)
{
	http->insecure = 0;
	http->connect_timeout_ms = JOB_HTTP_DEFAULT_CONNECT_TIMEOUT_MS;
	http->follow_redirects = 0;
}

static int parse_section(struct pctx *c, const struct section *sec, yaml_node_t *value, void *obj)
{
	yaml_node_t *seen[SECTION_MAX_KEYS] = {NULL};
	char desc[80], ex[80], keys[256];
	yaml_node_pair_t *p;
	size_t i;

	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value, "'%s': expected a mapping of connection settings such as '%s', got %s", sec->name,
		            sec->example, node_desc(value, desc, sizeof(desc)));
	/* Strings parsed before an error stay in the struct for job_free;
	 * duplicates are refused before a second parse could leak the first. */
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);

		if (want_key(c, k) < 0)
			return -1;
		i = setting_index(sec, scalar(k));
		if (i == sec->nkeys) {
			keys[0] = '\0';
			for (i = 0; i < sec->nkeys; i++)
				list_append(keys, sizeof(keys), sec->keys[i].key);
			return fail(c, k, "unknown key '%s' in %s (expected one of: %s)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)), sec->name, keys);
		}
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", sec->keys[i].key,
			            seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (sec->keys[i].parse(c, sec->name, &sec->keys[i], node_at(c, p->value), obj) < 0)
			return -1;
	}
	/* reported at whichever of the two comes second in the file */
	for (i = 0; i < sec->nexclusive; i++) {
		yaml_node_t *a = seen[setting_index(sec, sec->exclusive[i][0])];
		yaml_node_t *b = seen[setting_index(sec, sec->exclusive[i][1])];

		if (a && b)
			return fail(c, a->start_mark.index > b->start_mark.index ? a : b, "give %s or %s, not both",
			            sec->exclusive[i][0], sec->exclusive[i][1]);
	}
	return 0;
}

static int top_ssh(struct pctx *c, yaml_node_t *value, struct job *job)
{
	if (parse_section(c, &ssh_section, value, &job->ssh) < 0)
		return -1;
	job->has_ssh = 1;
	return 0;
}

static int top_http(struct pctx *c, yaml_node_t *value, struct job *job)
{
	if (parse_section(c, &http_section, value, &job->http) < 0)
		return -1;
	job->has_http = 1;
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

static int step_option_index(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(step_options); i++)
		if (strcmp(step_options[i].key, key) == 0)
			return (int)i;
	return -1;
}

static int in_list(const char *const *list, const char *key)
{
	for (; *list; list++)
		if (strcmp(*list, key) == 0)
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

	all_kinds(kinds, sizeof(kinds));
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const struct step_kind_desc *d;

		if (want_key(c, k) < 0)
			return -1;
		d = kind_lookup(scalar(k));
		if (!d)
			continue;
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
			if (step_option_index(scalar(k)) < 0)
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
	const char *const *options;
	yaml_node_pair_t *kind_pair = NULL, *p;
	yaml_node_t *value;
	char desc[80], ex[80], opts[160];
	size_t j;

	if (n->type != YAML_MAPPING_NODE)
		return fail(c, n, "step %zu: expected a mapping with a kind key such as 'exec: CMD', got %s", index + 1,
		            node_desc(n, desc, sizeof(desc)));
	st->line = (int)n->start_mark.line + 1;
	st->column = (int)n->start_mark.column + 1;
	st->pty = -1; /* only an ssh step has the option; the rest never ask */
	if (find_kind(c, n, &kind, &kind_pair) < 0)
		return -1;
	st->kind = kind->kind;
	value = node_at(c, kind_pair->value);
	if (kind->parse(c, n, value, st) < 0)
		return -1;

	options = kind->map_options && value->type == YAML_MAPPING_NODE ? kind->map_options : kind->options;
	for (p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		int i;

		if (p == kind_pair)
			continue;
		excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex));
		i = in_list(options, scalar(k)) ? step_option_index(scalar(k)) : -1;
		if (i < 0 && options != kind->options && in_list(kind->options, scalar(k)))
			return fail(c, k, "'%s' goes inside '%s:' when that is a mapping", ex, kind->key);
		if (i < 0)
			return fail(c, k, "unknown key '%s' in %s step (expected one of: %s)", ex, kind->key,
			            option_list(options, opts, sizeof(opts)));
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", step_options[i].key,
			            seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (step_options[i].parse(c, step_options[i].key, k, node_at(c, p->value), st) < 0)
			return -1;
	}
	for (j = 0; j < ARRAY_LEN(step_exclusive); j++) {
		yaml_node_t *a = seen[step_option_index(step_exclusive[j][0])];
		yaml_node_t *b = seen[step_option_index(step_exclusive[j][1])];

		if (a && b)
			return fail(c, a->start_mark.index > b->start_mark.index ? a : b, "give %s or %s, not both",
			            step_exclusive[j][0], step_exclusive[j][1]);
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
	struct err terr = {{0}};
	size_t off = 0;

	if (get_command(c, "exec", step, value, st) < 0)
		return -1;
	/* where a value cannot be kept out of the shell's parsing: at check
	 * time, not per host */
	if (tmpl_check_shell(st->text, &off, &terr) < 0)
		return fail(c, step, "bad template at position %zu of the exec command: %s",
		            char_position(st->text, off), terr.msg);
	return 0;
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

/* GET, POST, PROPFIND...: a token, and upper case because methods are
 * case-sensitive and every server spells the standard ones so. */
static int check_method(struct pctx *c, const char *what, yaml_node_t *n, const char *s, size_t len)
{
	char ex[80];
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			break;
	if (len == 0 || i < len)
		return fail(c, n, "'%s': expected an HTTP method in upper case such as GET or POST, got '%s'", what,
		            excerpt(s, len, ex, sizeof(ex)));
	return 0;
}

/* `http: GET /mgmt/tm/sys/version` or `http: POST https://x/y`: a method,
 * white space, then a path (appended to the http section's base) or a
 * whole URL. */
static int http_line(struct pctx *c, yaml_node_t *value, struct step_http *h)
{
	static const char expected[] = "\"METHOD PATH\" such as 'GET /mgmt/tm/sys/version'";
	const char *s = scalar(value), *target;
	size_t mlen, tlen;
	char desc[80];

	mlen = strcspn(s, " \t");
	target = s + mlen + strspn(s + mlen, " \t");
	tlen = strcspn(target, " \t");
	if (mlen == 0 || tlen == 0 || target[tlen] != '\0')
		return fail(c, value, "'http': expected %s, got %s", expected, node_desc(value, desc, sizeof(desc)));
	if (check_method(c, "http", value, s, mlen) < 0)
		return -1;
	if (target[0] != '/' && !is_http_url(target))
		return fail(c, value, "'http': expected a path starting with / or a URL starting with http:// or "
		            "https:// after the method, got '%s'", excerpt(target, tlen, desc, sizeof(desc)));
	if (has_space_or_control(target))
		return fail(c, value, "'http': contains a control character (percent-encode it)");
	if (check_templates(c, value, "http path", target) < 0)
		return -1;
	h->method = xstrndup(s, mlen);
	if (target[0] == '/')
		h->path = xstrdup(target);
	else
		h->url = xstrdup(target);
	return 0;
}

static const struct http_step_key *http_step_key_lookup(const char *key)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(http_step_keys); i++)
		if (strcmp(http_step_keys[i].key, key) == 0)
			return &http_step_keys[i];
	return NULL;
}

/* `http: {method: POST, path: /x, json: {...}}` */
static int http_map(struct pctx *c, yaml_node_t *value, struct step_http *h)
{
	yaml_node_t *seen[ARRAY_LEN(http_step_keys)] = {NULL};
	char ex[80], keys[160];
	yaml_node_pair_t *p;
	size_t i;

	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key);
		const struct http_step_key *hk;

		if (want_key(c, k) < 0)
			return -1;
		excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex));
		hk = http_step_key_lookup(scalar(k));
		if (!hk && step_option_index(scalar(k)) >= 0)
			return fail(c, k, "'%s' goes beside 'http:', not inside it", ex);
		if (!hk) {
			keys[0] = '\0';
			for (i = 0; i < ARRAY_LEN(http_step_keys); i++)
				list_append(keys, sizeof(keys), http_step_keys[i].key);
			return fail(c, k, "unknown key '%s' in http step (expected one of: %s)", ex, keys);
		}
		i = (size_t)(hk - http_step_keys);
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", hk->key, seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (hk->parse(c, hk->key, k, node_at(c, p->value), h) < 0)
			return -1;
	}
	for (i = 0; i < ARRAY_LEN(http_step_exclusive); i++) {
		yaml_node_t *a = seen[http_step_key_lookup(http_step_exclusive[i][0]) - http_step_keys];
		yaml_node_t *b = seen[http_step_key_lookup(http_step_exclusive[i][1]) - http_step_keys];

		if (a && b)
			return fail(c, a->start_mark.index > b->start_mark.index ? a : b, "give %s or %s, not both",
			            http_step_exclusive[i][0], http_step_exclusive[i][1]);
	}
	if (!h->path && !h->url)
		return fail(c, value, "'http': missing path or url (a path is appended to the http section's base)");
	if (!h->method)
		h->method = xstrdup("GET");
	return 0;
}

static int kind_http(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	char desc[80];

	(void)step;
	/* allocated first so that job_free frees what a failed parse left */
	st->http = xcalloc(1, sizeof(*st->http));
	st->http->expect_status[0] = 2; /* 2xx unless expect_status says */
	if (value->type == YAML_MAPPING_NODE) {
		if (http_map(c, value, st->http) < 0)
			return -1;
		st->text = xasprintf("%s %s", st->http->method, st->http->path ? st->http->path : st->http->url);
		return 0;
	}
	if (value->type != YAML_SCALAR_NODE || is_null(value))
		return fail(c, value,
		            "'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version' or a mapping with "
		            "method and path, got %s", node_desc(value, desc, sizeof(desc)));
	if (want_scalar(c, "http", value, "\"METHOD PATH\"") < 0 || http_line(c, value, st->http) < 0)
		return -1;
	st->text = xstrdup(scalar(value));
	return 0;
}

static int kind_tcp(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	(void)step;
	return get_port(c, "tcp", "tcp port", value, &st->text);
}

/* `ping:` alone, or with {count, timeout}. The timeout may also stand
 * beside the kind key, as every step's may, but not in both places. */
static int kind_ping(struct pctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	yaml_node_t *seen[2] = {NULL};
	char desc[80], ex[80];
	yaml_node_pair_t *p;
	long long n;

	(void)step;
	st->ping_count = 1;
	st->text = xstrdup("ping");
	if (is_null(value))
		return 0;
	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value, "'ping': expected nothing or a mapping such as {count: 3, timeout: 2s}, got %s",
		            node_desc(value, desc, sizeof(desc)));
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = node_at(c, p->key), *v = node_at(c, p->value);
		int i;

		if (want_key(c, k) < 0)
			return -1;
		i = strcmp(scalar(k), "count") == 0 ? 0 : strcmp(scalar(k), "timeout") == 0 ? 1 : -1;
		if (i < 0)
			return fail(c, k, "unknown key '%s' in ping (expected one of: count, timeout)",
			            excerpt(scalar(k), k->data.scalar.length, ex, sizeof(ex)));
		if (seen[i])
			return fail(c, k, "duplicate key '%s' (first at line %zu)", scalar(k), seen[i]->start_mark.line + 1);
		seen[i] = k;
		if (i == 0) {
			if (get_count(c, "count", v, 1, JOB_PING_MAX_COUNT, &n) < 0)
				return -1;
			st->ping_count = (int)n;
		} else if (get_deadline(c, "timeout", v, &st->timeout_ms) < 0) {
			return -1;
		}
	}
	return 0;
}

static int option_name(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st)
{
	if (want_scalar(c, "name", value, "a string") < 0)
		return -1;
	st->name = xstrdup(scalar(value));
	return 0;
}

/* Compiled here only to reject a bad pattern before any host runs; the
 * worker compiles it again (with the same options: none) to match. */
static int option_expect(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st)
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
 * keeps the two apart: a ping step's inner timeout is the only way it can
 * be set already. */
static int option_timeout(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st)
{
	if (st->timeout_ms)
		return fail(c, k, "give timeout inside ping or beside it, not both");
	return get_deadline(c, "timeout", value, &st->timeout_ms);
}

static int option_pty(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st)
{
	return get_bool(c, "pty", value, &st->pty);
}

/* headers, body, json, ... beside `http: METHOD PATH` */
static int option_http(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step *st)
{
	return http_step_key_lookup(key)->parse(c, key, k, value, st->http);
}

static int hstep_method(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	if (want_scalar(c, key, value, "an HTTP method such as GET or POST") < 0 ||
	    check_method(c, key, value, scalar(value), value->data.scalar.length) < 0)
		return -1;
	h->method = xstrdup(scalar(value));
	return 0;
}

static int get_url_part(struct pctx *c, const char *key, yaml_node_t *value, int is_path, char **out)
{
	const char *expected = is_path ? "a path starting with /" : "a URL starting with http:// or https://";
	char what[32];

	if (want_scalar(c, key, value, expected) < 0 || check_url_text(c, key, value, scalar(value), is_path) < 0)
		return -1;
	snprintf(what, sizeof(what), "http %s", key);
	if (check_templates(c, value, what, scalar(value)) < 0)
		return -1;
	*out = xstrdup(scalar(value));
	return 0;
}

static int hstep_path(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	return get_url_part(c, key, value, 1, &h->path);
}

static int hstep_url(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	return get_url_part(c, key, value, 0, &h->url);
}

static int hstep_headers(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	return get_headers(c, value, &h->headers);
}

static int hstep_body(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	if (want_scalar(c, key, value, "a string (or json: for a JSON body)") < 0 ||
	    check_templates(c, value, "http body", scalar(value)) < 0)
		return -1;
	h->body = xstrdup(scalar(value));
	return 0;
}

/* YAML 1.1 reads these plain scalars as numbers: decimal with _ between
 * digits, 0x hex, 0b binary, 0o and leading-0 octal, and floats (also
 * YAML 1.2's 1e5 and 1.). Appends the JSON spelling of the number to out
 * and returns 1, or returns 0: not a number (.inf and .nan, which JSON
 * cannot spell, included), and so a string. */
static int json_number(const char *s, struct buf *out)
{
	const char *p = s, *ip, *fp = NULL, *xp = NULL;
	char digits[72];
	size_t nd = 0, ni = 0, nf = 0;
	int neg = 0, base = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b'))
		base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2, p += 2;
	if (base) {
		unsigned long long v;
		char *end;

		for (; *p; p++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			        *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : *p == '_' && nd ? -2 : -1;
			if (d == -2)
				continue;
			if (d < 0 || d >= base || nd + 1 >= sizeof(digits))
				return 0;
			digits[nd++] = *p;
		}
		if (!nd)
			return 0;
		digits[nd] = '\0';
		errno = 0;
		v = strtoull(digits, &end, base);
		if (errno)
			return 0;
		buf_printf(out, "%s%llu", neg && v ? "-" : "", v);
		return 1;
	}
	/* [0-9][0-9_]* then .[0-9_]* then [eE][-+]?[0-9]+ */
	ip = p;
	if (*p >= '0' && *p <= '9')
		while ((*p >= '0' && *p <= '9') || *p == '_')
			ni += *p++ != '_';
	if (*p == '.') {
		fp = ++p;
		while ((*p >= '0' && *p <= '9') || *p == '_')
			nf += *p++ != '_';
	}
	if ((*p == 'e' || *p == 'E') && ni + nf) {
		xp = ++p;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p || ni + nf == 0)
		return 0;
	if (!fp && !xp && *ip == '0' && ni > 1) {
		/* 0755: YAML 1.1 octal, or (with an 8 or 9) no number at all */
		unsigned long long v = 0;

		for (p = ip; *p; p++) {
			if (*p == '_')
				continue;
			if (*p > '7' || v > (~0ULL >> 3))
				return 0;
			v = v * 8 + (unsigned)(*p - '0');
		}
		buf_printf(out, "%s%llu", neg && v ? "-" : "", v);
		return 1;
	}
	/* JSON wants no + sign, no _, no leading zeros, digits on both sides
	 * of the point */
	if (neg)
		buf_putc(out, '-');
	while (*ip == '0' || *ip == '_')
		if (*ip++ == '0')
			ni--;
	if (ni == 0)
		buf_putc(out, '0');
	for (p = ip; (*p >= '0' && *p <= '9') || *p == '_'; p++)
		if (*p != '_')
			buf_putc(out, *p);
	if (fp) {
		buf_putc(out, '.');
		if (nf == 0)
			buf_putc(out, '0');
		for (p = fp; (*p >= '0' && *p <= '9') || *p == '_'; p++)
			if (*p != '_')
				buf_putc(out, *p);
	}
	if (xp) {
		buf_putc(out, 'e');
		buf_puts(out, xp);
	}
	return 1;
}

static int json_plain(yaml_node_t *n, const char *word)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(scalar(n), word) == 0;
}

static int json_string(struct pctx *c, yajl_gen g, yaml_node_t *n)
{
	yajl_gen_status st;

	if (check_templates(c, n, "json string", scalar(n)) < 0)
		return -1;
	st = yajl_gen_string(g, n->data.scalar.value, n->data.scalar.length);
	if (st != yajl_gen_status_ok)
		return fail(c, n, "'json': cannot write this value as JSON (yajl status %d)", (int)st);
	return 0;
}

/* One YAML node as JSON. Plain scalars are typed as JSON would read them
 * (null, true, false, numbers; yes/no/on/off stay strings: a JSON body
 * means the word), quoted ones are always strings. */
static int json_node(struct pctx *c, yajl_gen g, yaml_node_t *n, int depth, struct buf *num)
{
	static const char *const trues[] = {"true", "True", "TRUE"}, *const falses[] = {"false", "False", "FALSE"};
	yajl_gen_status st = yajl_gen_status_ok;
	const unsigned char *out;
	char desc[80];
	size_t len, i;

	if (depth > JOB_JSON_MAX_DEPTH)
		return fail(c, n, "'json': nested more than %d levels deep", JOB_JSON_MAX_DEPTH);
	switch (n->type) {
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;

		st = yajl_gen_map_open(g);
		for (p = n->data.mapping.pairs.start; st == yajl_gen_status_ok && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = node_at(c, p->key);

			if (k->type != YAML_SCALAR_NODE)
				return fail(c, k, "'json': an object key must be a string, got %s",
				            node_desc(k, desc, sizeof(desc)));
			if (json_string(c, g, k) < 0 || json_node(c, g, node_at(c, p->value), depth + 1, num) < 0)
				return -1;
		}
		if (st == yajl_gen_status_ok)
			st = yajl_gen_map_close(g);
		break;
	}
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		st = yajl_gen_array_open(g);
		for (it = n->data.sequence.items.start; st == yajl_gen_status_ok && it < n->data.sequence.items.top; it++)
			if (json_node(c, g, node_at(c, *it), depth + 1, num) < 0)
				return -1;
		if (st == yajl_gen_status_ok)
			st = yajl_gen_array_close(g);
		break;
	}
	case YAML_SCALAR_NODE:
		if (is_null(n)) {
			st = yajl_gen_null(g);
			break;
		}
		for (i = 0; i < ARRAY_LEN(trues); i++)
			if (json_plain(n, trues[i]) || json_plain(n, falses[i]))
				break;
		if (i < ARRAY_LEN(trues)) {
			st = yajl_gen_bool(g, json_plain(n, trues[i]));
			break;
		}
		buf_reset(num);
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && json_number(scalar(n), num)) {
			st = yajl_gen_number(g, num->data, num->len);
			break;
		}
		if (json_string(c, g, n) < 0)
			return -1;
		break;
	default:
		return fail(c, n, "'json': cannot write this value as JSON");
	}
	if (st != yajl_gen_status_ok)
		return fail(c, n, "'json': cannot write this value as JSON (yajl status %d)", (int)st);
	/* each node writes at least a byte, so this also bounds the walk
	 * when aliases repeat a subtree */
	yajl_gen_get_buf(g, &out, &len);
	if (len > JOB_JSON_MAX_BYTES)
		return fail(c, n, "'json': longer than %d bytes as JSON", JOB_JSON_MAX_BYTES);
	return 0;
}

static int hstep_json(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	struct buf num = BUF_INIT;
	const unsigned char *out;
	yajl_gen g;
	size_t len;
	int r = -1;

	g = yajl_gen_alloc(NULL);
	if (!g) {
		fail(c, value, "'json': out of memory");
		goto out;
	}
	if (json_node(c, g, value, 0, &num) < 0)
		goto out;
	yajl_gen_get_buf(g, &out, &len);
	h->json = xstrndup((const char *)out, len);
	r = 0;
out:
	if (g)
		yajl_gen_free(g);
	buf_free(&num);
	return r;
}

/* 200, or a class: "2xx" is stored as 2. */
static int get_status(struct pctx *c, yaml_node_t *n, int *out)
{
	static const char expected[] = "a status from 100 to 599 or a class such as 2xx";
	char desc[80];
	const char *s;
	long long v;

	if (want_scalar(c, "expect_status", n, expected) < 0)
		return -1;
	s = scalar(n);
	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
	    (s[2] == 'x' || s[2] == 'X')) {
		*out = s[0] - '0';
		return 0;
	}
	if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, 100, 599, &v) < 0)
		return fail(c, n, "'expect_status': expected %s, got %s", expected, node_desc(n, desc, sizeof(desc)));
	*out = (int)v;
	return 0;
}

static int hstep_expect_status(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value,
                               struct step_http *h)
{
	int statuses[ARRAY_LEN(h->expect_status)] = {0};
	size_t n, i;

	if (value->type != YAML_SEQUENCE_NODE) {
		if (get_status(c, value, &statuses[0]) < 0)
			return -1;
	} else {
		n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
		if (n == 0)
			return fail(c, value, "'expect_status': expected at least one status, got an empty list");
		if (n > (size_t)JOB_HTTP_MAX_STATUSES)
			return fail(c, value, "'expect_status': too many statuses (%zu; at most %d)", n,
			            JOB_HTTP_MAX_STATUSES);
		for (i = 0; i < n; i++)
			if (get_status(c, node_at(c, value->data.sequence.items.start[i]), &statuses[i]) < 0)
				return -1;
	}
	memcpy(h->expect_status, statuses, sizeof(statuses));
	return 0;
}

static int hstep_check(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	if (want_scalar(c, key, value, "a jq expression") < 0 || check_jq(c, value, key, NULL, scalar(value)) < 0)
		return -1;
	h->check = xstrdup(scalar(value));
	return 0;
}

/* Captured names are used as ${name} in later steps: a C identifier, so
 * that no name a capture makes can mean something else in a template. */
static int is_var_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int hstep_capture(struct pctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	char desc[80], ex[80];
	yaml_node_pair_t *p;

	if (value->type != YAML_MAPPING_NODE)
		return fail(c, value,
		            "'capture': expected a mapping of variable names to jq expressions such as "
		            "'version: .version', got %s", node_desc(value, desc, sizeof(desc)));
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *vk = node_at(c, p->key), *v = node_at(c, p->value);

		if (want_key(c, vk) < 0)
			return -1;
		excerpt(scalar(vk), vk->data.scalar.length, ex, sizeof(ex));
		if (!is_var_name(scalar(vk)) || vk->data.scalar.length > TMPL_NAME_MAX)
			return fail(c, vk, "'capture': '%s' is not a variable name (a letter or _, then letters, digits "
			            "or _)", ex);
		if (kvlist_get(&h->capture, scalar(vk)))
			return fail(c, vk, "duplicate key '%s'", ex);
		if (want_scalar(c, ex, v, "a jq expression") < 0 || check_jq(c, v, key, ex, scalar(v)) < 0)
			return -1;
		kvlist_set(&h->capture, scalar(vk), scalar(v));
	}
	return 0;
}

static int parse_top(struct pctx *c, yaml_node_t *root, struct job *job)
{
	yaml_node_t *seen[ARRAY_LEN(top_keys)] = {NULL};
	char desc[80], ex[80], keys[256];
	yaml_node_pair_t *p;

	all_top_keys(keys, sizeof(keys));
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
	struct pctx c = {.path = path, .flags = flags, .doc = &doc, .err = err};
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
		fail_mark(&c, deep, "YAML nested more than %d levels deep (expected a job file: a mapping of "
		          "settings and a list of steps)", YAMLDEPTH_MAX);
		goto out;
	}
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
	job->name = job_name_from_path(path);
	job->source = xstrndup(text, len);
	job->source_len = len;
	job->timeout_ms = JOB_DEFAULT_TIMEOUT_MS;
	ssh_defaults(&job->ssh);
	http_defaults(&job->http);
	if (parse_top(&c, root, job) < 0)
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

int job_load_fd(int fd, const char *path, struct job **out, struct err *err)
{
	struct buf text = BUF_INIT;
	char chunk[8192];
	int r = -1;

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

static void step_http_free(struct step_http *h)
{
	if (!h)
		return;
	free(h->method);
	free(h->path);
	free(h->url);
	kvlist_free(&h->headers);
	free(h->body);
	free(h->json);
	free(h->check);
	kvlist_free(&h->capture);
	free(h);
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
		step_http_free(job->steps[i].http);
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
	kvlist_free(&job->inventory_may.env);
	kvlist_free(&job->inventory_may.files);
	kvlist_free(&job->inventory_may.settings);
	free(job->source);
	free(job);
}

const char *step_kind_name(enum step_kind k)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(step_kinds); i++)
		if (step_kinds[i].kind == k)
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
