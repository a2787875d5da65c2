/* job_http: the http step of a job file (see job.h, struct step_http):
 * `http: METHOD PATH` with its options beside it, or a mapping with them
 * inside; the method, the path or URL, headers, a body (raw, or JSON built
 * from YAML by yaml_json.c), the statuses it accepts, a jq check and jq
 * captures. Also the pieces the job's `http:` section shares with it
 * (headers, URL text).
 *
 * Apart from job.c because it is a schema of its own, three times the
 * size of any other kind's, and the one part of a job that compiles jq.
 * job.c's step table names job_http_kind; job_parse.h is the seam. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jqprog.h"
#include "job_parse.h"
#include "tmpl.h"
#include "yaml_json.h"

#define JOB_HTTP_MAX_STATUSES ((int)ARRAY_LEN(((struct step_http *)0)->expect_status) - 1)


/* obj is the struct step_http */
static ymap_parse_fn job_http_key_method, job_http_key_path, job_http_key_url, job_http_key_headers, job_http_key_body,
	job_http_key_json, job_http_key_expect_status, job_http_key_check, job_http_key_capture;

/* The keys of an http step's mapping form; the same functions read those
 * of them given beside `http: METHOD PATH` (job_http_option). */
static const struct ymap_key job_http_keys[] = {
	{"method", job_http_key_method, 0},
	{"path", job_http_key_path, 0},
	{"url", job_http_key_url, 0},
	{"headers", job_http_key_headers, 0},
	{"body", job_http_key_body, 0},
	{"json", job_http_key_json, 0},
	{"expect_status", job_http_key_expect_status, 0},
	{"check", job_http_key_check, 0},
	{"capture", job_http_key_capture, 0},
};

static const char *const job_http_exclusive[][2] = {
	{"path", "url"},
	{"body", "json"},
};

static int job_http_has_space_or_control(const char *s)
{
	for (; *s; s++)
		if ((unsigned char)*s <= 0x20 || *s == 0x7f)
			return 1;
	return 0;
}

/* http:// or https://, in any case, and something after it. */
static int job_http_is_url(const char *s)
{
	return (strncasecmp(s, "http://", 7) == 0 && s[7]) || (strncasecmp(s, "https://", 8) == 0 && s[8]);
}

/* Only a rendered URL can be checked for the scheme when it starts with a
 * template; spaces and control bytes are wrong whatever the template
 * renders to. */
int job_http_check_url(struct ynode_ctx *c, const char *what, yaml_node_t *n, const char *s, int is_path)
{
	char desc[80];

	if (strncmp(s, "${", 2) != 0 && (is_path ? s[0] != '/' : !job_http_is_url(s)))
		return ynode_fail(c, n, "'%s': expected %s, got %s", what,
		                  is_path ? "a path starting with /" : "a URL starting with http:// or https://",
		                  ynode_desc(n, desc, sizeof(desc)));
	if (job_http_has_space_or_control(s))
		return ynode_fail(c, n, "'%s': contains a space or a control character (percent-encode it)", what);
	return 0;
}

/* RFC 9110's tchar: what a header name (and a method) is made of. */
static int job_http_is_token(const char *s)
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
int job_http_headers(struct ynode_ctx *c, yaml_node_t *value, struct kvlist *out)
{
	char desc[80], ex[80], what[96];
	yaml_node_pair_t *p;
	size_t i;

	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value,
		                  "'headers': expected a mapping of header names to values such as "
		                  "'Accept: text/plain', got %s",
		                  ynode_desc(value, desc, sizeof(desc)));
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode_at(c, p->key), *v = ynode_at(c, p->value);
		const char *name, *s;

		if (ynode_want_key(c, k) < 0)
			return -1;
		name = ynode_scalar(k);
		ynode_excerpt(name, k->data.scalar.length, ex, sizeof(ex));
		if (!job_http_is_token(name))
			return ynode_fail(c, k,
			                  "'headers': '%s' is not a header name (letters, digits and "
			                  "!#$%%&'*+-.^_`|~ only)", ex);
		for (i = 0; i < out->len; i++)
			if (strcasecmp(out->items[i].key, name) == 0)
				return ynode_fail(c, k, "duplicate header '%s'", ex);
		if (ynode_want_scalar(c, ex, v, "a string") < 0)
			return -1;
		s = ynode_scalar(v);
		if (strpbrk(s, "\r\n"))
			return ynode_fail(c, v, "'%s': a header value cannot hold a line break", ex);
		snprintf(what, sizeof(what), "'%s' header", ex);
		if (job_check_templates(c, v, what, s) < 0)
			return -1;
		kvlist_set(out, name, s);
	}
	return 0;
}

/* The first thing jq says when a compile fails, kept for the message. */
static void job_http_jq_error_cb(void *data, jv msg)
{
	struct job_pctx *c = data;

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
static const char *job_http_jq_message(struct job_pctx *c)
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
static int job_http_jq_has_module(const char *s)
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
int job_http_check_jq(struct ynode_ctx *y, yaml_node_t *n, const char *what, const char *for_var, const char *expr)
{
	struct job_pctx *c = job_pctx(y);
	char ex[sizeof(c->jq_msg) + 8];
	const char *m;

	if (job_http_jq_has_module(expr))
		return ynode_fail(y, n, "'%s': jq modules (module, import, include) cannot be used in a job file",
		                  what);
	if (c->flags & JOB_PARSE_NO_JQ)
		return 0;
	if (!c->jq) {
		c->jq = jqprog_new();
		if (!c->jq)
			return ynode_fail(y, n, "'%s': cannot start jq to check the expression", what);
		jq_set_error_cb(c->jq, job_http_jq_error_cb, c);
	}
	c->jq_nmsg = 0;
	c->jq_msg[0] = '\0';
	if (jqprog_compile(c->jq, expr))
		return 0;
	m = job_http_jq_message(c);
	ynode_excerpt(m, strlen(m), ex, sizeof(ex));
	if (for_var)
		return ynode_fail(y, n, "'%s': bad jq expression for '%s': %s", what, for_var, ex);
	return ynode_fail(y, n, "'%s': bad jq expression: %s", what, ex);
}

/* GET, POST, PROPFIND...: a token, and upper case because methods are
 * case-sensitive and every server spells the standard ones so. */
static int job_http_check_method(struct ynode_ctx *c, const char *what, yaml_node_t *n, const char *s, size_t len)
{
	char ex[80];
	size_t i;

	for (i = 0; i < len; i++)
		if (s[i] < 'A' || s[i] > 'Z')
			break;
	if (len == 0 || i < len)
		return ynode_fail(c, n, "'%s': expected an HTTP method in upper case such as GET or POST, got '%s'",
		                  what, ynode_excerpt(s, len, ex, sizeof(ex)));
	return 0;
}

/* `http: GET /mgmt/tm/sys/version` or `http: POST https://x/y`: a method,
 * white space, then a path (appended to the http section's base) or a
 * whole URL. */
static int job_http_line(struct ynode_ctx *c, yaml_node_t *value, struct step_http *h)
{
	static const char expected[] = "\"METHOD PATH\" such as 'GET /mgmt/tm/sys/version'";
	const char *s = ynode_scalar(value), *target;
	size_t mlen, tlen;
	char desc[80];

	mlen = strcspn(s, " \t");
	target = s + mlen + strspn(s + mlen, " \t");
	tlen = strcspn(target, " \t");
	if (mlen == 0 || tlen == 0 || target[tlen] != '\0')
		return ynode_fail(c, value, "'http': expected %s, got %s", expected,
		                  ynode_desc(value, desc, sizeof(desc)));
	if (job_http_check_method(c, "http", value, s, mlen) < 0)
		return -1;
	if (target[0] != '/' && !job_http_is_url(target))
		return ynode_fail(c, value, "'http': expected a path starting with / or a URL starting with http:// or "
		                  "https:// after the method, got '%s'",
		                  ynode_excerpt(target, tlen, desc, sizeof(desc)));
	if (job_http_has_space_or_control(target))
		return ynode_fail(c, value, "'http': contains a control character (percent-encode it)");
	if (job_check_templates(c, value, "http path", target) < 0)
		return -1;
	h->method = xstrndup(s, mlen);
	if (target[0] == '/')
		h->path = xstrdup(target);
	else
		h->url = xstrdup(target);
	return 0;
}

/* Keys of the step's own options (name, expect, timeout) belong beside
 * `http:`, not in its mapping. */
static int job_http_map_other(struct ynode_ctx *c, yaml_node_t *k, void *obj)
{
	char ex[80];

	if (!job_step_option_known(ynode_scalar(k)))
		return 0;
	return ynode_fail(c, k, "'%s' goes beside 'http:', not inside it",
	                  ynode_excerpt(ynode_scalar(k), k->data.scalar.length, ex, sizeof(ex)));
}

/* `http: {method: POST, path: /x, json: {...}}` */
static int job_http_map(struct ynode_ctx *c, yaml_node_t *value, struct step_http *h)
{
	static const struct ymap map = {
		"http step", job_http_keys, ARRAY_LEN(job_http_keys), job_http_exclusive, ARRAY_LEN(job_http_exclusive),
		job_http_map_other,
	};

	if (ymap_walk(c, value, &map, h) < 0)
		return -1;
	if (!h->path && !h->url)
		return ynode_fail(c, value,
		                  "'http': missing path or url (a path is appended to the http section's base)");
	if (!h->method)
		h->method = xstrdup("GET");
	return 0;
}

int job_http_kind(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	char desc[80];

	(void)step;
	/* allocated first so that job_free frees what a failed parse left */
	st->http = xcalloc(1, sizeof(*st->http));
	st->http->expect_status[0] = 2; /* 2xx unless expect_status says */
	if (value->type == YAML_MAPPING_NODE) {
		if (job_http_map(c, value, st->http) < 0)
			return -1;
		st->text = xasprintf("%s %s", st->http->method, st->http->path ? st->http->path : st->http->url);
		return 0;
	}
	if (value->type != YAML_SCALAR_NODE || ynode_is_null(value))
		return ynode_fail(c, value,
		                  "'http': expected \"METHOD PATH\" such as 'GET /mgmt/tm/sys/version' or a mapping "
		                  "with method and path, got %s", ynode_desc(value, desc, sizeof(desc)));
	if (ynode_want_scalar(c, "http", value, "\"METHOD PATH\"") < 0 || job_http_line(c, value, st->http) < 0)
		return -1;
	st->text = xstrdup(ynode_scalar(value));
	return 0;
}

int job_http_option(struct ynode_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h)
{
	size_t i;

	for (i = 0; i < ARRAY_LEN(job_http_keys); i++)
		if (strcmp(job_http_keys[i].name, key) == 0)
			return job_http_keys[i].parse(c, &job_http_keys[i], k, value, h);
	return ynode_fail(c, k, "'%s' is not an http step key", key); /* job.c's tables name only ours */
}

static int job_http_key_method(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                               void *obj)
{
	struct step_http *h = obj;

	if (ynode_want_scalar(c, key->name, value, "an HTTP method such as GET or POST") < 0 ||
	    job_http_check_method(c, key->name, value, ynode_scalar(value), value->data.scalar.length) < 0)
		return -1;
	h->method = xstrdup(ynode_scalar(value));
	return 0;
}

static int job_http_url_part(struct ynode_ctx *c, const char *key, yaml_node_t *value, int is_path, char **out)
{
	const char *expected = is_path ? "a path starting with /" : "a URL starting with http:// or https://";
	char what[32];

	if (ynode_want_scalar(c, key, value, expected) < 0 ||
	    job_http_check_url(c, key, value, ynode_scalar(value), is_path) < 0)
		return -1;
	snprintf(what, sizeof(what), "http %s", key);
	if (job_check_templates(c, value, what, ynode_scalar(value)) < 0)
		return -1;
	*out = xstrdup(ynode_scalar(value));
	return 0;
}

static int job_http_key_path(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                             void *obj)
{
	struct step_http *h = obj;

	return job_http_url_part(c, key->name, value, 1, &h->path);
}

static int job_http_key_url(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                            void *obj)
{
	struct step_http *h = obj;

	return job_http_url_part(c, key->name, value, 0, &h->url);
}

static int job_http_key_headers(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                void *obj)
{
	struct step_http *h = obj;

	return job_http_headers(c, value, &h->headers);
}

static int job_http_key_body(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                             void *obj)
{
	struct step_http *h = obj;

	if (ynode_want_scalar(c, key->name, value, "a string (or json: for a JSON body)") < 0 ||
	    job_check_templates(c, value, "http body", ynode_scalar(value)) < 0)
		return -1;
	h->body = xstrdup(ynode_scalar(value));
	return 0;
}

/* A json string may hold templates, rendered per host with JSON escaping. */
static int job_http_json_string(struct ynode_ctx *c, yaml_node_t *n)
{
	return job_check_templates(c, n, "json string", ynode_scalar(n));
}

static int job_http_key_json(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                             void *obj)
{
	struct step_http *h = obj;

	return yaml_json_write(c, key->name, value, job_http_json_string, &h->json);
}

/* 200, or a class: "2xx" is stored as 2. */
static int job_http_status(struct ynode_ctx *c, yaml_node_t *n, int *out)
{
	static const char expected[] = "a status from 100 to 599 or a class such as 2xx";
	char desc[80];
	const char *s;
	long long v;

	if (ynode_want_scalar(c, "expect_status", n, expected) < 0)
		return -1;
	s = ynode_scalar(n);
	if (strlen(s) == 3 && s[0] >= '1' && s[0] <= '5' && (s[1] == 'x' || s[1] == 'X') &&
	    (s[2] == 'x' || s[2] == 'X')) {
		*out = s[0] - '0';
		return 0;
	}
	if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, 100, 599, &v) < 0)
		return ynode_fail(c, n, "'expect_status': expected %s, got %s", expected,
		                  ynode_desc(n, desc, sizeof(desc)));
	*out = (int)v;
	return 0;
}

static int job_http_key_expect_status(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k,
                                      yaml_node_t *value, void *obj)
{
	struct step_http *h = obj;
	int statuses[ARRAY_LEN(h->expect_status)] = {0};
	size_t n, i;

	if (value->type != YAML_SEQUENCE_NODE) {
		if (job_http_status(c, value, &statuses[0]) < 0)
			return -1;
	} else {
		n = (size_t)(value->data.sequence.items.top - value->data.sequence.items.start);
		if (n == 0)
			return ynode_fail(c, value, "'expect_status': expected at least one status, got an empty list");
		if (n > (size_t)JOB_HTTP_MAX_STATUSES)
			return ynode_fail(c, value, "'expect_status': too many statuses (%zu; at most %d)", n,
			                  JOB_HTTP_MAX_STATUSES);
		for (i = 0; i < n; i++)
			if (job_http_status(c, ynode_at(c, value->data.sequence.items.start[i]), &statuses[i]) < 0)
				return -1;
	}
	memcpy(h->expect_status, statuses, sizeof(statuses));
	return 0;
}

static int job_http_key_check(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                              void *obj)
{
	struct step_http *h = obj;

	if (ynode_want_scalar(c, key->name, value, "a jq expression") < 0 ||
	    job_http_check_jq(c, value, key->name, NULL, ynode_scalar(value)) < 0)
		return -1;
	h->check = xstrdup(ynode_scalar(value));
	return 0;
}

/* Captured names are used as ${name} in later steps: a C identifier, so
 * that no name a capture makes can mean something else in a template. */
int job_http_is_var_name(const char *s)
{
	if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || *s == '_'))
		return 0;
	for (s++; *s; s++)
		if (!((*s >= 'A' && *s <= 'Z') || (*s >= 'a' && *s <= 'z') || (*s >= '0' && *s <= '9') || *s == '_'))
			return 0;
	return 1;
}

static int job_http_key_capture(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                                void *obj)
{
	struct step_http *h = obj;
	char desc[80], ex[80];
	yaml_node_pair_t *p;

	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value,
		                  "'capture': expected a mapping of variable names to jq expressions such as "
		                  "'version: .version', got %s", ynode_desc(value, desc, sizeof(desc)));
	for (p = value->data.mapping.pairs.start; p < value->data.mapping.pairs.top; p++) {
		yaml_node_t *vk = ynode_at(c, p->key), *v = ynode_at(c, p->value);

		if (ynode_want_key(c, vk) < 0)
			return -1;
		ynode_excerpt(ynode_scalar(vk), vk->data.scalar.length, ex, sizeof(ex));
		if (!job_http_is_var_name(ynode_scalar(vk)) || vk->data.scalar.length > TMPL_NAME_MAX)
			return ynode_fail(c, vk, "'capture': '%s' is not a variable name (a letter or _, then letters, "
			                  "digits or _)", ex);
		if (kvlist_get(&h->capture, ynode_scalar(vk)))
			return ynode_fail(c, vk, "duplicate key '%s'", ex);
		if (ynode_want_scalar(c, ex, v, "a jq expression") < 0 ||
		    job_http_check_jq(c, v, key->name, ex, ynode_scalar(v)) < 0)
			return -1;
		kvlist_set(&h->capture, ynode_scalar(vk), ynode_scalar(v));
	}
	return 0;
}

void job_http_free(struct step_http *h)
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
