/* step_http: HTTP/REST calls with libcurl; captures and checks with libjq.
 *
 * One easy handle per worker, reused from request to request: libcurl
 * keeps the connection (keep-alive, HTTP/2 when the server offers it) for
 * the next step of the same host, and keeps the parsed CA store, which
 * costs more than a TLS handshake to load. Only one connection is kept, so
 * moving to the next host closes the previous one.
 *
 * Credentials (basic auth, token, client certificate, every job and step
 * header) go only to the origins the job names (http_named_origins): not
 * to a URL a device's captured value points elsewhere, nor to a redirect
 * that leaves them. Redirects are followed here, not by libcurl, for that
 * rule: libcurl would forward custom headers such as F5's X-F5-Auth-Token.
 *
 * libcurl is loaded (dlopen) by a worker whose job has HTTP steps, not
 * linked into every worker: Debian's libcurl brings ~40 libraries (librtmp
 * and GnuTLS, OpenLDAP, Kerberos) that cost a worker ~5 ms of CPU to bind
 * at each start and ~0.75 MiB of private memory, which SSH and exec jobs
 * need not pay. */
#define PCRE2_CODE_UNIT_WIDTH 8
/* libcurl's functions are called through lc (below): its macros that check
 * curl_easy_setopt's argument types would not apply to them. */
#define CURL_DISABLE_TYPECHECK
#include <ctype.h>
#include <curl/curl.h>
#include <dlfcn.h>
#include <jq.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "base64.h"
#include "clock.h"
#include "jqprog.h"
#include "log.h"
#include "setting.h"
#include "step.h"
#include "tmpl.h"
#include "util.h"

/* Response headers beyond this are an attack or a bug, not an API. */
#define HTTP_MAX_HEADER_BYTES (64 * 1024)
/* Below this many bytes a second for HTTP_LOW_SPEED_S, a transfer is
 * given up: a server trickling a byte a second cannot hold a worker. */
#define HTTP_LOW_SPEED_BYTES 16
#define HTTP_LOW_SPEED_S 10

/* The Makefile's, which fleetrun --version names too. */
#define HTTP_LIBCURL FLEETRUN_LIBCURL_SONAME

static CURL *http_handle;

/* The libcurl functions this file calls, from dlopen. */
static struct {
	CURLcode (*global_init)(long flags);
	CURL *(*easy_init)(void);
	CURLcode (*easy_setopt)(CURL *h, CURLoption option, ...);
	CURLcode (*easy_perform)(CURL *h);
	CURLcode (*easy_getinfo)(CURL *h, CURLINFO info, ...);
	void (*easy_reset)(CURL *h);
	const char *(*easy_strerror)(CURLcode rc);
	void (*free)(void *p);
	struct curl_slist *(*slist_append)(struct curl_slist *l, const char *s);
	void (*slist_free_all)(struct curl_slist *l);
	CURLU *(*url)(void);
	void (*url_cleanup)(CURLU *u);
	CURLUcode (*url_get)(const CURLU *u, CURLUPart what, char **part, unsigned int flags);
	CURLUcode (*url_set)(CURLU *u, CURLUPart what, const char *part, unsigned int flags);
} lc;

/* Load libcurl (the soname the build compiled against) and its functions.
 * The library stays loaded for the worker's life. */
static int http_curl_load(struct err *err)
{
	static const struct {
		const char *name;
		size_t offset;
	} fns[] = {
#define LC_FN(f) {"curl_" #f, offsetof(__typeof__(lc), f)}
		LC_FN(global_init), LC_FN(easy_init), LC_FN(easy_setopt), LC_FN(easy_perform), LC_FN(easy_getinfo),
		LC_FN(easy_reset), LC_FN(easy_strerror), LC_FN(free), LC_FN(slist_append), LC_FN(slist_free_all),
		LC_FN(url), LC_FN(url_cleanup), LC_FN(url_get), LC_FN(url_set),
#undef LC_FN
	};
	void *so = dlopen(HTTP_LIBCURL, RTLD_NOW | RTLD_LOCAL);
	int r = -1;

	if (!so) {
		err_set(err, "HTTP steps need libcurl: %s", dlerror());
		goto out;
	}
	for (size_t i = 0; i < sizeof(fns) / sizeof(fns[0]); i++) {
		void *f = dlsym(so, fns[i].name);
		if (!f) {
			err_set(err, "HTTP steps need libcurl: %s has no %s", HTTP_LIBCURL, fns[i].name);
			goto out;
		}
		memcpy((char *)&lc + fns[i].offset, &f, sizeof(f));
	}
	if (lc.global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		err_set(err, "libcurl did not initialise");
		goto out;
	}
	r = 0;
out:
	if (r < 0 && so)
		dlclose(so);
	return r;
}

/* The job's jq expressions, compiled for the worker's life (the job does
 * not change). jq 1.6 parses its whole builtin library at each
 * jq_compile (~40 ms), so every expression of the job goes into one
 * program, compiled once, that picks the expression by its index:
 *
 *   .[0] as $i | .[1] | if $i == 0 then (E0) elif $i == 1 then (E1) ... end
 *
 * and runs on [index, body]. When that program does not compile, each
 * expression gets a program of its own. All are compiled when the worker
 * starts (step_http_prepare), before any transfer: no compile in a task's
 * time, and no thread of libcurl's resolver running while jqprog_compile
 * takes HOME out of the environment. */
static struct http_jq {
	jq_state *jq;      /* the shared program, or NULL */
	char *error;       /* NULL or what jq said compiling it */
	const char **exprs; /* the job's expressions (into the job), by index */
	size_t nexprs;
} http_jq;

/* Programs of their own, for expressions the shared one could not take. */
static struct http_jq_one {
	const char *expr;
	jq_state *jq;
	char *error;
} *http_jq_ones;
static size_t http_jq_nones;

struct http_body {
	struct buf *b;
	size_t cap;
	bool *truncated;
};

struct http_head {
	size_t bytes;
	bool too_big;
};

static size_t http_on_body(char *p, size_t size, size_t n, void *ud)
{
	struct http_body *hb = ud;
	size_t len = size * n;

	/* past the cap: stop the transfer; what we have is the body */
	return buf_append_capped(hb->b, p, len, hb->cap, hb->truncated) < len ? 0 : len;
}

static size_t http_on_header(char *p, size_t size, size_t n, void *ud)
{
	struct http_head *hh = ud;

	(void)p;
	hh->bytes += size * n;
	if (hh->bytes > HTTP_MAX_HEADER_BYTES) {
		hh->too_big = true;
		return 0;
	}
	return size * n;
}

static void http_jq_error(void *ud, jv msg)
{
	char **out = ud;

	if (!*out && jv_get_kind(msg) == JV_KIND_STRING)
		*out = xstrdup(jv_string_value(msg));
	else if (!*out)
		*out = xstrdup("jq error");
	jv_free(msg);
}

static jq_state *http_jq_compile(const char *program, char **error)
{
	jq_state *jq = jqprog_new();

	if (!jq) {
		*error = xstrdup("cannot start jq");
		return NULL;
	}
	jq_set_error_cb(jq, http_jq_error, error);
	if (!jqprog_compile(jq, program)) {
		if (!*error)
			*error = xstrdup("does not compile");
		jq_teardown(&jq);
	}
	return jq;
}

/* Collect the job's expressions and compile them: one shared program, or
 * when it does not compile, one program each. */
static void http_jq_prepare(const struct job *job)
{
	struct buf prog = BUF_INIT;

	for (size_t i = 0; i < job->nsteps; i++) {
		const struct step_http *sh = job->steps[i].http;
		if (!sh)
			continue;
		http_jq.exprs = xreallocarray(http_jq.exprs, http_jq.nexprs + sh->capture.len + 1, sizeof(char *));
		if (sh->check)
			http_jq.exprs[http_jq.nexprs++] = sh->check;
		for (size_t k = 0; k < sh->capture.len; k++)
			http_jq.exprs[http_jq.nexprs++] = sh->capture.items[k].value;
	}
	if (!http_jq.nexprs)
		return;
	buf_puts(&prog, ".[0] as $fleetrun_i | .[1] | ");
	for (size_t i = 0; i < http_jq.nexprs; i++)
		/* newlines: a comment in an expression ends at its line */
		buf_printf(&prog, "%sif $fleetrun_i == %zu then (\n%s\n)", i ? " else " : "", i, http_jq.exprs[i]);
	buf_puts(&prog, " else empty");
	for (size_t i = 0; i < http_jq.nexprs; i++)
		buf_puts(&prog, " end");
	http_jq.jq = http_jq_compile(prog.data, &http_jq.error);
	buf_free(&prog);
	if (http_jq.jq)
		return;
	log_debug("jq: the job's expressions as one program: %s; compiling them one by one",
	          http_jq.error ? http_jq.error : "?");
	http_jq_ones = xreallocarray(NULL, http_jq.nexprs, sizeof(*http_jq_ones));
	for (size_t i = 0; i < http_jq.nexprs; i++) {
		struct http_jq_one *one = &http_jq_ones[http_jq_nones++];
		memset(one, 0, sizeof(*one));
		one->expr = http_jq.exprs[i];
		one->jq = http_jq_compile(one->expr, &one->error);
	}
}

/* For a job with HTTP steps: load libcurl and compile the job's jq
 * expressions (checks, captures), once. -1 with err when libcurl cannot
 * be loaded. */
static int step_http_prepare(const struct job *job, struct err *err)
{
	bool has_http_step = false;

	for (size_t i = 0; i < job->nsteps; i++)
		has_http_step = has_http_step || job->steps[i].http;
	if (!has_http_step)
		return 0;
	if (http_curl_load(err) < 0)
		return -1;
	http_handle = lc.easy_init();
	if (!http_handle) {
		err_set(err, "cannot create a libcurl handle");
		return -1;
	}
	http_jq_prepare(job);
	return 0;
}

/* The program to run expr with, and the input to give it. */
static jq_state *http_jq_for(const char *expr, jv *input, const char **error)
{
	for (size_t i = 0; http_jq.jq && i < http_jq.nexprs; i++) {
		if (http_jq.exprs[i] == expr) {
			*input = jv_array_append(jv_array_append(jv_array(), jv_number((double)i)), *input);
			return http_jq.jq;
		}
	}
	for (size_t i = 0; i < http_jq_nones; i++)
		if (http_jq_ones[i].expr == expr) {
			*error = http_jq_ones[i].error;
			return http_jq_ones[i].jq;
		}
	*error = "not among the job's expressions";
	return NULL;
}

/* Run expr on the parsed body: 0 and its first output (owned by the
 * caller), or -1 with err. */
static int http_jq_run(const char *expr, jv input, jv *out, struct err *err)
{
	const char *error = NULL;
	jq_state *jq = http_jq_for(expr, &input, &error);
	jv v;

	if (!jq) {
		err_set(err, "jq '%s': %s", expr, error ? error : "unusable");
		jv_free(input);
		return -1;
	}
	jq_start(jq, input, 0);
	v = jq_next(jq);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		if (jv_get_kind(msg) == JV_KIND_STRING)
			err_set(err, "jq '%s': %s", expr, jv_string_value(msg));
		else
			err_set(err, "jq '%s' gave no value", expr);
		jv_free(msg);
		return -1;
	}
	*out = v;
	return 0;
}

/* The URL of the step: url, or the base (host var base over the job's)
 * followed by path. */
static int http_url(struct step_ctx *ctx, struct buf *url, struct err *err)
{
	const struct step_http *sh = ctx->step->http;
	const struct hostcfg hc = setting_hostcfg(ctx);
	char *base = NULL;

	if (sh->url)
		return tmpl_render(sh->url, ctx->scope, TMPL_ENV_VALUE, url, ctx->secrets, err);
	/* A host var base is data, not a template (hostcfg.h). */
	if (hostcfg_str(&hc, "base", ctx->job->http.base, &base, err) < 0)
		return -1;
	if (!base) {
		err_set(err, "the step gives a path but the job has no http base (base: https://${address})");
		return -1;
	}
	buf_puts(url, base);
	free(base);
	while (url->len && url->data[url->len - 1] == '/' && sh->path && sh->path[0] == '/')
		url->data[--url->len] = '\0';
	return sh->path ? tmpl_render(sh->path, ctx->scope, TMPL_ENV_VALUE, url, ctx->secrets, err) : 0;
}

/* Done with a parsed URL: the parts taken from it (NULL or libcurl's),
 * then the URL itself (NULL or libcurl's). */
static void http_url_done(CURLU *u, char *part1, char *part2, char *part3)
{
	lc.free(part1);
	lc.free(part2);
	lc.free(part3);
	if (u)
		lc.url_cleanup(u);
}

/* "scheme://host:port" of a URL (scheme and host in lower case, the
 * scheme's default port when none is given), parsed by libcurl as it will
 * parse the URL it sends to: NULL when it does not parse. */
static char *http_origin(const char *url)
{
	CURLU *u = lc.url();
	char *scheme = NULL, *host = NULL, *port = NULL, *origin = NULL;

	if (u && lc.url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    lc.url_get(u, CURLUPART_SCHEME, &scheme, 0) == CURLUE_OK &&
	    lc.url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
	    lc.url_get(u, CURLUPART_PORT, &port, CURLU_DEFAULT_PORT) == CURLUE_OK) {
		origin = xasprintf("%s://%s:%s", scheme, host, port);
		for (char *c = origin; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	http_url_done(u, scheme, host, port);
	return origin;
}

/* url without user:password@ (a URL that goes without the job's
 * credentials must not carry them in its authority either): 1 when there
 * was one to drop, 0 when there was none or the URL does not parse. */
static int http_url_drop_userinfo(struct buf *url)
{
	CURLU *u = lc.url();
	char *user = NULL, *password = NULL, *bare = NULL;
	int r = 0;

	if (!u || lc.url_set(u, CURLUPART_URL, url->data, 0) != CURLUE_OK)
		goto out;
	if (lc.url_get(u, CURLUPART_USER, &user, 0) != CURLUE_OK &&
	    lc.url_get(u, CURLUPART_PASSWORD, &password, 0) != CURLUE_OK)
		goto out;
	if (lc.url_set(u, CURLUPART_USER, NULL, 0) != CURLUE_OK ||
	    lc.url_set(u, CURLUPART_PASSWORD, NULL, 0) != CURLUE_OK ||
	    lc.url_get(u, CURLUPART_URL, &bare, 0) != CURLUE_OK)
		goto out;
	buf_reset(url);
	buf_puts(url, bare);
	r = 1;
out:
	if (password)
		explicit_bzero(password, strlen(password));
	http_url_done(u, user, password, bare);
	return r;
}

/* The origins the job names for this step, for this host: the base's (the
 * host's `base` var, else the job's) and the step url's, each rendered as
 * the job text, host vars, built-ins and environment make it, with every
 * captured value replaced by a constant. A captured value is what a device
 * sent ("devices are hostile"): an origin it could move is no origin the
 * job named. When the constant and the real values give the same origin,
 * that origin never depended on the device. At most two, malloced. */
static size_t http_named_origins(struct step_ctx *ctx, char *named[2])
{
	const struct step_http *sh = ctx->step->http;
	const char *tmpls[2] = {kvlist_get(&ctx->task->vars, "base"), sh->url};
	struct kvlist neutral = KVLIST_INIT;
	struct tmpl_scope scope = *ctx->scope;
	size_t n = 0;

	if (!tmpls[0])
		tmpls[0] = ctx->job->http.base;
	for (size_t i = 0; ctx->captured && i < ctx->captured->len; i++)
		kvlist_set(&neutral, ctx->captured->items[i].key, "/");
	scope.captured = &neutral;
	for (int i = 0; i < 2; i++) {
		struct buf b = BUF_INIT;
		struct err err;
		if (tmpls[i] && tmpl_render(tmpls[i], &scope, TMPL_ENV_VALUE, &b, ctx->secrets, &err) == 0 && b.data)
			named[n] = http_origin(b.data);
		if (tmpls[i] && named[n])
			n++;
		buf_free(&b);
	}
	kvlist_free(&neutral);
	return n;
}

/* The name of a control byte, for messages that must not print it. */
static const char *http_ctl_name(unsigned char c, char tmp[8])
{
	switch (c) {
	case '\r':
		return "CR";
	case '\n':
		return "LF";
	case '\t':
		return "TAB";
	case 0x7f:
		return "DEL";
	default:
		snprintf(tmp, 8, "0x%02x", c);
		return tmp;
	}
}

/* A rendered method, URL, header or token goes into the request as it is:
 * a CR or LF in it would end a line of the request and start another the
 * device (or whoever sent the captured value) wrote. Any control byte (a
 * TAB is fine inside a header value) fails the host before anything is
 * sent. (A NUL cannot get this far: values are C strings.) */
static int http_check_text(const char *what, const char *s, bool tab_ok, struct err *err)
{
	char tmp[8];

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if ((*p < 0x20 && !(tab_ok && *p == '\t')) || *p == 0x7f) {
			size_t at = (size_t)(p - (const unsigned char *)s);
			err_set(err, "%s: the rendered text holds a control byte (%s at byte %zu), which cannot go "
			        "into a request; nothing was sent", what, http_ctl_name(*p, tmp), at);
			return -1;
		}
	}
	return 0;
}

/* Methods and header names are HTTP tokens (RFC 9110, 5.6.2): a space or
 * a colon in one would rewrite the request line or the header. */
static int http_check_token(const char *what, const char *s, struct err *err)
{
	static const char tchar[] = "!#$%&'*+-.^_`|~";
	char tmp[8];

	if (http_check_text(what, s, false, err) < 0)
		return -1;
	if (!*s) {
		err_set(err, "%s is empty (expected an HTTP token such as GET or X-Name); nothing was sent", what);
		return -1;
	}
	for (const char *p = s; *p; p++) {
		if (!isalnum((unsigned char)*p) && !strchr(tchar, *p)) {
			err_set(err, "%s '%s': '%s' at byte %zu is not allowed (expected an HTTP token: letters, digits, "
			        "%s); nothing was sent", what, s, *p == ' ' ? "space" : (snprintf(tmp, 8, "%c", *p), tmp),
			        (size_t)(p - s), tchar);
			return -1;
		}
	}
	return 0;
}

/* The request's headers, rendered and checked: the job's, then the
 * step's, a step header replacing a job header of the same name (names
 * are case-insensitive). 0, or -1 with err. */
static int http_headers(struct step_ctx *ctx, struct kvlist *out, struct err *err)
{
	const struct kvlist *lists[2] = {&ctx->job->http.headers, &ctx->step->http->headers};
	int r = -1;

	for (int l = 0; l < 2; l++) {
		for (size_t i = 0; i < lists[l]->len; i++) {
			const char *name = lists[l]->items[i].key;
			struct buf value = BUF_INIT, what = BUF_INIT;
			bool replaced = false;
			int bad;

			if (l == 0)
				for (size_t k = 0; k < lists[1]->len; k++)
					replaced |= !strcasecmp(lists[1]->items[k].key, name);
			if (replaced)
				continue;
			bad = http_check_token("header name", name, err) < 0;
			buf_printf(&what, "header %s", name);
			bad = bad || tmpl_render(lists[l]->items[i].value, ctx->scope, TMPL_ENV_VALUE, &value,
			                         ctx->secrets, err) < 0;
			bad = bad || http_check_text(what.data, value.data ? value.data : "", true, err) < 0;
			if (!bad)
				kvlist_set(out, name, value.data ? value.data : "");
			buf_free(&value);
			buf_free(&what);
			if (bad)
				goto out;
		}
	}
	r = 0;
out:
	return r;
}

/* A curl header list: the given headers (NULL: none), then Content-Type
 * for a json body unless one was given, then Accept. */
static struct curl_slist *http_header_list(const struct kvlist *h, bool json)
{
	struct curl_slist *list = NULL;
	bool has_type = false;

	for (size_t i = 0; h && i < h->len; i++) {
		char *line = xasprintf("%s: %s", h->items[i].key, h->items[i].value);
		has_type |= !strcasecmp(h->items[i].key, "Content-Type");
		list = lc.slist_append(list, line);
		explicit_bzero(line, strlen(line));
		free(line);
	}
	if (json && !has_type)
		list = lc.slist_append(list, "Content-Type: application/json");
	return lc.slist_append(list, "Accept: application/json, */*");
}

static bool http_status_ok(const struct step_http *sh, int code)
{
	if (!sh->expect_status[0])
		return code >= 200 && code < 300;
	for (size_t i = 0; i < ARRAY_LEN(sh->expect_status) && sh->expect_status[i]; i++) {
		int want = sh->expect_status[i];
		if (want < 10 ? code / 100 == want : code == want)
			return true;
	}
	return false;
}

/* What a libcurl error means for the task. A timeout before a connection
 * was made is an unreachable host; after, a slow one. */
static enum status http_curl_status(CURLcode rc, bool connected)
{
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_SEND_ERROR:
	case CURLE_GOT_NOTHING:
		return STATUS_UNREACHABLE;
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
	case CURLE_SSL_PINNEDPUBKEYNOTMATCH:
	case CURLE_SSL_ISSUER_ERROR:
		return STATUS_HOSTKEY;
	case CURLE_OPERATION_TIMEDOUT:
		return connected ? STATUS_TIMEOUT : STATUS_UNREACHABLE;
	default:
		return STATUS_FAILED;
	}
}

/* Captures and check on the JSON body. */
static void http_json(struct step_ctx *ctx, struct step_result *r)
{
	const struct step_http *sh = ctx->step->http;
	struct err err;
	jv body;

	if (!sh->check && !sh->capture.len)
		return;
	body = jv_parse_sized(r->out.data ? r->out.data : "", (int)r->out.len);
	if (!jv_is_valid(body)) {
		jv msg = jv_invalid_get_msg(body);
		r->status = STATUS_FAILED;
		r->error = xasprintf("the response is not JSON%s%s%s", r->truncated ? " (truncated)" : "",
		                     jv_get_kind(msg) == JV_KIND_STRING ? ": " : "",
		                     jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "");
		jv_free(msg);
		return;
	}
	for (size_t i = 0; i < sh->capture.len; i++) {
		jv v;
		if (http_jq_run(sh->capture.items[i].value, jv_copy(body), &v, &err) < 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("capture %s: %s", sh->capture.items[i].key, err.msg);
			goto out;
		}
		if (jv_get_kind(v) == JV_KIND_NULL) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("capture %s: '%s' is null", sh->capture.items[i].key,
			                     sh->capture.items[i].value);
			jv_free(v);
			goto out;
		}
		if (jv_get_kind(v) != JV_KIND_STRING)
			v = jv_dump_string(v, 0);
		/* a value is a C string, and reaches exec commands through the
		 * environment: a NUL byte fits in neither */
		if ((size_t)jv_string_length_bytes(jv_copy(v)) != strlen(jv_string_value(v))) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("capture %s: the value holds a NUL byte", sh->capture.items[i].key);
			jv_free(v);
			goto out;
		}
		kvlist_set(ctx->captured, sh->capture.items[i].key, jv_string_value(v));
		/* a captured token is a secret from here on: masked in what
		 * later steps record, and in the record's vars */
		if (tmpl_is_secret_name(sh->capture.items[i].key) && *jv_string_value(v))
			tmpl_secret_add(ctx->secrets, jv_string_value(v));
		jv_free(v);
	}
	if (sh->check) {
		jv v;
		if (http_jq_run(sh->check, jv_copy(body), &v, &err) < 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("check: %s", err.msg);
			goto out;
		}
		if (jv_get_kind(v) != JV_KIND_TRUE) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("check '%s' is not true", sh->check);
		}
		jv_free(v);
	}
out:
	jv_free(body);
}

static void step_http_close(struct task_state *state)
{
	/* The next task is another host. Reset drops this host's options,
	 * credentials among them; the handle itself lives on for its cached CA
	 * store, and its one cached connection is replaced by the next host's
	 * (CURLOPT_MAXCONNECTS 1). */
	if (state->http_used && http_handle)
		lc.easy_reset(http_handle);
	state->http_used = false;
}

/* Does the URL's origin belong to the job's named origins? */
static bool http_origin_named(char *const *named, size_t nnamed, const char *origin)
{
	for (size_t i = 0; origin && i < nnamed; i++)
		if (!strcmp(named[i], origin))
			return true;
	return false;
}

/* One HTTP step's request, resolved for its host before anything is sent,
 * and what changes from request to request as redirects are followed.
 * Everything in it is owned (http_req_free). */
struct http_req {
	struct buf url, body, method;
	struct kvlist hdrs; /* the job's and the step's headers, rendered */
	char *user, *password, *token, *ca, *cert, *cert_key, *pin; /* NULL or malloced */
	int insecure;
	bool has_body; /* a body goes (dropped when a redirect turns it into GET) */
	struct curl_slist *headers;        /* hdrs, Content-Type, Accept: for a named origin */
	struct curl_slist *public_headers; /* Content-Type, Accept: for any other */
	char *named[2];                    /* the origins the job names (http_named_origins) */
	size_t nnamed;
	bool creds; /* credentials still go: no request left the named origins */
};

#define HTTP_REQ_INIT {.url = BUF_INIT, .body = BUF_INIT, .method = BUF_INIT, .hdrs = KVLIST_INIT, .creds = true}

static void http_req_free(struct http_req *q)
{
	free(q->user);
	hostcfg_secret_free(q->password);
	hostcfg_secret_free(q->token);
	free(q->ca);
	free(q->cert);
	free(q->cert_key);
	free(q->pin);
	free(q->named[0]);
	free(q->named[1]);
	kvlist_free(&q->hdrs);
	lc.slist_free_all(q->headers);
	lc.slist_free_all(q->public_headers);
	buf_free(&q->url);
	buf_free(&q->body);
	buf_free(&q->method);
}

/* The step's URL and method, and the host's settings (hostcfg.h: host var
 * over the job's value); the secrets among them registered for masking.
 * 0, or -1 with err. */
static int http_req_resolve(struct step_ctx *ctx, struct http_req *q, struct err *err)
{
	const struct step_http *sh = ctx->step->http;
	const struct job_http *jh = &ctx->job->http;
	const struct hostcfg hc = setting_hostcfg(ctx);

	q->insecure = jh->insecure;
	if (http_url(ctx, &q->url, err) < 0 || hostcfg_str(&hc, "user", jh->user, &q->user, err) < 0 ||
	    hostcfg_secret(&hc, "password", jh->password, jh->password_file, &q->password, err) < 0 ||
	    hostcfg_str(&hc, "token", jh->token, &q->token, err) < 0 ||
	    hostcfg_str(&hc, "ca", jh->ca, &q->ca, err) < 0 ||
	    hostcfg_str(&hc, "cert", jh->cert, &q->cert, err) < 0 ||
	    hostcfg_str(&hc, "cert_key", jh->cert_key, &q->cert_key, err) < 0 ||
	    hostcfg_str(&hc, "pinned_key", jh->pinned_key, &q->pin, err) < 0 ||
	    hostcfg_bool(&hc, "insecure", jh->insecure, &q->insecure, err) < 0 ||
	    tmpl_render(sh->method ? sh->method : "GET", ctx->scope, TMPL_ENV_VALUE, &q->method, ctx->secrets, err) < 0)
		return -1;
	/* ~/ as for ssh's key and known_hosts (a host var's file is already
	 * resolved, under inventory_may) */
	hostcfg_expand_home(&q->ca);
	hostcfg_expand_home(&q->cert);
	hostcfg_expand_home(&q->cert_key);
	if (q->token && *q->token)
		tmpl_secret_add(ctx->secrets, q->token);
	if (q->user && q->password && *q->password) {
		/* libcurl sends base64(user:password): a device that echoes
		 * the Authorization header must show *** there too */
		char *pair = xasprintf("%s:%s", q->user, q->password), *b64;
		struct buf b = BUF_INIT;

		/* base64_append reserves the whole encoding first: no copy
		 * of the secret is left behind by a realloc */
		base64_append(&b, pair, strlen(pair));
		b64 = buf_steal(&b);
		tmpl_secret_add(ctx->secrets, b64);
		hostcfg_secret_free(pair);
		hostcfg_secret_free(b64);
	}
	return 0;
}

/* The request's body and headers, rendered, and its head checked; the
 * two header lists; the origins the job names. 0, or -1 with err. */
static int http_req_build(struct step_ctx *ctx, struct http_req *q, struct err *err)
{
	const struct step_http *sh = ctx->step->http;

	q->has_body = sh->body || sh->json;
	if (sh->json) {
		if (tmpl_render_json(sh->json, ctx->scope, &q->body, ctx->secrets, err) < 0)
			return -1;
	} else if (sh->body && tmpl_render(sh->body, ctx->scope, TMPL_ENV_VALUE, &q->body, ctx->secrets, err) < 0) {
		return -1;
	}
	/* Everything that goes into the request's head is checked before
	 * anything is sent: a CR or LF from a captured value or a host var
	 * must not add a line to the request. */
	if (http_check_token("method", q->method.data, err) < 0 ||
	    http_check_text("url", q->url.data ? q->url.data : "", false, err) < 0 ||
	    (q->token && http_check_text("token", q->token, false, err) < 0) || http_headers(ctx, &q->hdrs, err) < 0)
		return -1;
	q->headers = http_header_list(&q->hdrs, sh->json != NULL);
	/* what goes to an origin the job did not name: no credential at all */
	q->public_headers = http_header_list(NULL, sh->json != NULL);
	q->nnamed = http_named_origins(ctx, q->named);
	return 0;
}

/* One rule for the first request and every redirect: credentials go only
 * to an origin the job names; once a request went elsewhere, none goes
 * for the rest. */
static void http_req_creds(struct http_req *q, struct step_result *r)
{
	char *origin;

	if (!q->creds)
		return;
	origin = http_origin(q->url.data);
	q->creds = http_origin_named(q->named, q->nnamed, origin);
	/* the record says so when there was anything to withhold */
	if (!q->creds && (http_url_drop_userinfo(&q->url) > 0 || q->user || q->token || q->cert || q->cert_key ||
	                  q->hdrs.len)) {
		r->withheld = origin ? origin : xstrdup("(a URL that does not parse)");
		origin = NULL;
	}
	free(origin);
}

/* Set up the handle, afresh, for the next request of q. */
static void http_setopts(CURL *h, const struct step_ctx *ctx, const struct http_req *q, struct http_body *hb,
                         struct http_head *hh, char *errbuf, int64_t left_ms)
{
	const struct job_http *jh = &ctx->job->http;

	lc.easy_reset(h);
	lc.easy_setopt(h, CURLOPT_URL, q->url.data);
	lc.easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	lc.easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	lc.easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	lc.easy_setopt(h, CURLOPT_MAXCONNECTS, 1L);
	lc.easy_setopt(h, CURLOPT_TCP_NODELAY, 1L);
	lc.easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	lc.easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS);
	lc.easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	               (long)(jh->connect_timeout_ms < left_ms ? jh->connect_timeout_ms : left_ms));
	lc.easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)left_ms);
	lc.easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, (long)HTTP_LOW_SPEED_BYTES);
	lc.easy_setopt(h, CURLOPT_LOW_SPEED_TIME, (long)HTTP_LOW_SPEED_S);
	lc.easy_setopt(h, CURLOPT_WRITEFUNCTION, http_on_body);
	lc.easy_setopt(h, CURLOPT_WRITEDATA, hb);
	lc.easy_setopt(h, CURLOPT_HEADERFUNCTION, http_on_header);
	lc.easy_setopt(h, CURLOPT_HEADERDATA, hh);
	lc.easy_setopt(h, CURLOPT_HTTPHEADER, q->creds ? q->headers : q->public_headers);
	lc.easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method.data);
	if (!strcmp(q->method.data, "HEAD"))
		lc.easy_setopt(h, CURLOPT_NOBODY, 1L);
	if (q->has_body) {
		lc.easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)q->body.len);
		lc.easy_setopt(h, CURLOPT_COPYPOSTFIELDS, q->body.data ? q->body.data : "");
		lc.easy_setopt(h, CURLOPT_CUSTOMREQUEST, q->method.data);
	}
	if (q->creds && q->user) {
		lc.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
		lc.easy_setopt(h, CURLOPT_USERNAME, q->user);
		lc.easy_setopt(h, CURLOPT_PASSWORD, q->password ? q->password : "");
	} else if (q->creds && q->token) {
		lc.easy_setopt(h, CURLOPT_HTTPAUTH, (long)CURLAUTH_BEARER);
		lc.easy_setopt(h, CURLOPT_XOAUTH2_BEARER, q->token);
	}
	if (q->ca)
		lc.easy_setopt(h, CURLOPT_CAINFO, q->ca);
	/* Trust comes from one CA file: the job's, or the system bundle
	 * (Debian's libcurl default, which holds every system CA). No CA
	 * directory: with one, libcurl neither caches the CA store between
	 * connections nor spares a directory lookup per certificate, and a
	 * TLS connection costs twice the CPU. */
	lc.easy_setopt(h, CURLOPT_CAPATH, NULL);
	if (q->pin) {
		lc.easy_setopt(h, CURLOPT_PINNEDPUBLICKEY, q->pin);
		/* a pin without a CA is how a self-signed device is trusted:
		 * the pin replaces the chain check */
		if (!q->ca) {
			lc.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
			lc.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
		}
	}
	/* a client certificate is a credential too */
	if (q->creds && q->cert)
		lc.easy_setopt(h, CURLOPT_SSLCERT, q->cert);
	if (q->creds && q->cert_key)
		lc.easy_setopt(h, CURLOPT_SSLKEY, q->cert_key);
	if (q->insecure) {
		lc.easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 0L);
		lc.easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 0L);
	}
}

/* One request (the first, or one redirect's) and its response, into r. 0
 * when a response came (its code in *code, maybe a redirect), or -1 with
 * r's status and error set. */
static int http_transfer(struct step_ctx *ctx, struct http_req *q, struct step_result *r, long *code)
{
	CURL *h = http_handle;
	struct http_body hb = {&r->out, ctx->output_cap, &r->truncated};
	struct http_head hh = {0, false};
	int64_t now = clock_mono_us(), left_ms = (ctx->deadline_us - now) / 1000;
	char errbuf[CURL_ERROR_SIZE];
	curl_off_t connected_us = 0;
	CURLcode rc;

	if (left_ms <= 0) {
		r->status = STATUS_TIMEOUT;
		r->error = xasprintf("no response before the %s deadline", ctx->deadline_is_task ? "task" : "step");
		return -1;
	}
	http_req_creds(q, r);
	buf_reset(&r->out);
	r->truncated = false;
	errbuf[0] = '\0';
	http_setopts(h, ctx, q, &hb, &hh, errbuf, left_ms);
	rc = lc.easy_perform(h);
	lc.easy_getinfo(h, CURLINFO_RESPONSE_CODE, code);
	r->http_status = (int)*code;
	if (rc == CURLE_WRITE_ERROR && hh.too_big) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("response headers over %d bytes", HTTP_MAX_HEADER_BYTES);
		return -1;
	}
	if (rc != CURLE_OK && !(rc == CURLE_WRITE_ERROR && r->truncated)) {
		long fresh = 1;
		/* connected: a connection was made, or an open one reused */
		lc.easy_getinfo(h, CURLINFO_CONNECT_TIME_T, &connected_us);
		lc.easy_getinfo(h, CURLINFO_NUM_CONNECTS, &fresh);
		r->status = http_curl_status(rc, connected_us > 0 || fresh == 0);
		if (rc == CURLE_OPERATION_TIMEDOUT && clock_mono_us() >= ctx->deadline_us - 20000)
			r->status = STATUS_TIMEOUT;
		r->error = xasprintf("%s %s: %s", q->method.data, q->url.data,
		                     errbuf[0] ? errbuf : lc.easy_strerror(rc));
		return -1;
	}
	return 0;
}

/* After a response with this code: follow its redirect, when it is one
 * and the job follows them (by hand: see the top of this file). 0 when q
 * now holds the next request, 1 when the response is the final one, or
 * -1 with r's status and error set. */
static int http_redirect(struct step_ctx *ctx, struct http_req *q, struct step_result *r, long code, int *redirects)
{
	const struct job_http *jh = &ctx->job->http;
	char *where = NULL; /* the handle's, until its next reset */
	struct err err;

	if (code < 300 || code >= 400 || jh->follow_redirects <= 0)
		return 1;
	lc.easy_getinfo(http_handle, CURLINFO_REDIRECT_URL, &where);
	if (!where)
		return 1;
	if (++*redirects > jh->follow_redirects) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("more than %d redirects (last to %s)", jh->follow_redirects, where);
		return -1;
	}
	if (http_check_text("the redirect's Location", where, false, &err) < 0) {
		r->status = STATUS_FAILED;
		r->error = xstrdup(err.msg);
		return -1;
	}
	buf_reset(&q->url);
	buf_puts(&q->url, where);
	/* 301/302/303 turn into GET, as browsers and curl -L do */
	if (code == 301 || code == 302 || code == 303) {
		buf_reset(&q->method);
		buf_puts(&q->method, "GET");
		buf_reset(&q->body);
		q->has_body = false;
	}
	return 0;
}

/* The final response's status as the step's verdict; an accepted one then
 * goes through the step's expect, captures and check. */
static void http_verdict(struct step_ctx *ctx, const struct http_req *q, struct step_result *r)
{
	const struct step_http *sh = ctx->step->http;

	/* a 401 the step expects (expect_status: 401) is not an auth failure */
	if ((r->http_status == 401 || r->http_status == 403) && !http_status_ok(sh, r->http_status)) {
		r->status = STATUS_AUTH;
		r->error = xasprintf("%s %s: HTTP %d%s", q->method.data, q->url.data, r->http_status,
		                     r->withheld ? " (sent without the job's credentials: not an origin the job names)"
		                                 : "");
	} else if (!http_status_ok(sh, r->http_status)) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("%s %s: HTTP %d not accepted", q->method.data, q->url.data, r->http_status);
	} else {
		step_check_expect(ctx, r);
		if (r->status == STATUS_OK)
			http_json(ctx, r);
	}
}

/* Resolve, build and check the request; send it and follow its
 * redirects; judge the final response. */
static void step_http_run(struct step_ctx *ctx, struct step_result *r)
{
	struct http_req q = HTTP_REQ_INIT;
	struct err err;
	int redirects = 0, more = 0;

	if (!http_handle) {
		/* step_http_prepare made it when the worker started */
		r->status = STATUS_ERROR;
		r->error = xstrdup("no libcurl handle");
		goto out;
	}
	ctx->state->http_used = true;
	if (http_req_resolve(ctx, &q, &err) < 0 || http_req_build(ctx, &q, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	do {
		long code = 0;
		if (http_transfer(ctx, &q, r, &code) < 0 || (more = http_redirect(ctx, &q, r, code, &redirects)) < 0)
			goto out;
	} while (more == 0);
	http_verdict(ctx, &q, r);
out:
	http_req_free(&q);
}

/* An HTTP step records the final response's status, its body, and the
 * origin that got no credentials, if one did not. */
static void step_http_pack(const struct step_result *r, struct proto_step *v)
{
	v->has |= PROTO_STEP_HTTP_STATUS | PROTO_STEP_BODY | PROTO_STEP_TRUNCATED;
	v->http_status = r->http_status;
	v->out = (struct proto_str){r->out.data, r->out.len};
	v->truncated = r->truncated;
	if (r->withheld) {
		v->has |= PROTO_STEP_WITHHELD;
		v->withheld = proto_cstr(r->withheld);
	}
}

/* The jq programs prepare compiled. (libjq keeps a run's stack until the
 * program is torn down: LeakSanitizer calls it lost otherwise.) */
static void step_http_finish(void)
{
	if (http_jq.jq)
		jq_teardown(&http_jq.jq);
	free(http_jq.error);
	free(http_jq.exprs);
	for (size_t i = 0; i < http_jq_nones; i++) {
		if (http_jq_ones[i].jq)
			jq_teardown(&http_jq_ones[i].jq);
		free(http_jq_ones[i].error);
	}
	free(http_jq_ones);
	memset(&http_jq, 0, sizeof(http_jq));
	http_jq_ones = NULL;
	http_jq_nones = 0;
}

const struct step_ops step_http_ops = {
	.kind = STEP_HTTP,
	.prepare = step_http_prepare,
	.run = step_http_run,
	.close = step_http_close,
	.pack = step_http_pack,
	.finish = step_http_finish,
};
