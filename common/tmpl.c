/* tmpl: ${name} templates; see tmpl.h. Written by hand because the syntax
 * is three rules long and a template library would bring its own syntax
 * (loops, conditions, arbitrary filters) that job files must not grow into:
 * the three filters here are escapers, not logic. */
#include "tmpl.h"

#include "shctx.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdint.h>
#include <pwd.h>
#include <stdio.h>
#include <unistd.h>
#include <yajl/yajl_gen.h>
#include <stdlib.h>
#include <string.h>

static int tmpl_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '.' || c == '-';
}

enum tmpl_filter { TMPL_F_SH, TMPL_F_URL, TMPL_F_JSON };

static const struct {
	const char *name;
	enum tmpl_filter f;
} tmpl_filters[] = {
	{"sh", TMPL_F_SH},
	{"url", TMPL_F_URL},
	{"json", TMPL_F_JSON},
};

#define TMPL_FILTERS_MAX 4

/* One ${...} reference, parsed. */
struct tmpl_ref {
	char name[TMPL_NAME_MAX + 1];
	bool is_env;
	enum tmpl_filter filters[TMPL_FILTERS_MAX];
	size_t nfilters;
	size_t len; /* bytes of the whole reference */
};

/* Parse the reference that starts at t[0] == '$', t[1] == '{':
 * ${[env:]NAME[|FILTER]...}. 0, or -1 with err and *bad the offset in t of
 * what is wrong (the '$', or the unknown filter). */
static int tmpl_ref_parse(const char *t, struct tmpl_ref *ref, size_t *bad, struct err *err)
{
	const char *p = t + 2;
	const char *close = strchr(p, '}');
	const char *end;

	*bad = 0;
	if (!close) {
		err_set(err, "unterminated '${' (expected '}')");
		return -1;
	}
	ref->is_env = false;
	ref->nfilters = 0;
	if (strncmp(p, "env:", 4) == 0) {
		ref->is_env = true;
		p += 4;
	}
	end = memchr(p, '|', (size_t)(close - p));
	if (!end)
		end = close;
	if (p == end) {
		err_set(err, "empty variable name in '${%.*s}'", (int)(close - t - 2), t + 2);
		return -1;
	}
	if (!isalpha((unsigned char)*p) && *p != '_') {
		err_set(err, "bad variable name '%.*s' (expected a letter or '_' first)", (int)(end - p), p);
		return -1;
	}
	for (const char *c = p; c < end; c++) {
		if (!tmpl_name_char(*c)) {
			err_set(err, "bad variable name '%.*s' (expected letters, digits, '_', '.', '-')",
			        (int)(close - p), p);
			return -1;
		}
	}
	if (end - p > TMPL_NAME_MAX) {
		err_set(err, "variable name longer than %d characters", TMPL_NAME_MAX);
		return -1;
	}
	memcpy(ref->name, p, (size_t)(end - p));
	ref->name[end - p] = '\0';
	while (end < close) {
		const char *f = end + 1, *fe = memchr(f, '|', (size_t)(close - f));
		size_t k;

		if (!fe)
			fe = close;
		for (k = 0; k < ARRAY_LEN(tmpl_filters); k++)
			if (strlen(tmpl_filters[k].name) == (size_t)(fe - f) &&
			    memcmp(tmpl_filters[k].name, f, (size_t)(fe - f)) == 0)
				break;
		if (k == ARRAY_LEN(tmpl_filters)) {
			*bad = (size_t)(f - t);
			err_set(err, "unknown filter '%.*s' (expected sh, url or json)", (int)(fe - f), f);
			return -1;
		}
		if (ref->nfilters == TMPL_FILTERS_MAX) {
			*bad = (size_t)(f - t);
			err_set(err, "more than %d filters in one reference", TMPL_FILTERS_MAX);
			return -1;
		}
		ref->filters[ref->nfilters++] = tmpl_filters[k].f;
		end = fe;
	}
	ref->len = (size_t)(close - t) + 1;
	return 0;
}

static const char *tmpl_lookup(const struct tmpl_scope *sc, const char *name)
{
	const char *v = NULL;

	if (sc->captured)
		v = kvlist_get(sc->captured, name);
	if (!v && sc->hostvars)
		v = kvlist_get(sc->hostvars, name);
	if (!v && sc->builtins)
		v = kvlist_get(sc->builtins, name);
	return v;
}

/* Append v escaped for the inside of a JSON string, with yajl's escaper
 * (quotes kept when whole). */
static void tmpl_put_json_string(struct buf *out, const char *v, size_t vlen, bool whole)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *p;
	size_t n;

	if (!g)
		abort();
	yajl_gen_string(g, (const unsigned char *)v, vlen);
	yajl_gen_get_buf(g, &p, &n);
	if (whole)
		buf_append(out, p, n);
	else if (n >= 2)
		buf_append(out, p + 1, n - 2);
	yajl_gen_free(g);
}

static void tmpl_put_json(struct buf *out, const char *v)
{
	tmpl_put_json_string(out, v, strlen(v), false);
}

/* The filters, for the contexts that the exec rule does not cover: a
 * command for a remote POSIX shell (sh), a URL part (url), JSON text
 * (json). */
static void tmpl_filter(enum tmpl_filter f, const char *v, size_t vlen, struct buf *out)
{
	static const char hex[] = "0123456789ABCDEF";

	switch (f) {
	case TMPL_F_SH:
		/* POSIX single quotes take everything literally but ', which
		 * becomes '\'' (close, an escaped quote, reopen) */
		buf_putc(out, '\'');
		for (size_t i = 0; i < vlen; i++) {
			if (v[i] == '\'')
				buf_puts(out, "'\\''");
			else
				buf_putc(out, v[i]);
		}
		buf_putc(out, '\'');
		break;
	case TMPL_F_URL:
		/* RFC 3986: all but the unreserved characters */
		for (size_t i = 0; i < vlen; i++) {
			unsigned char c = (unsigned char)v[i];
			if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
				buf_putc(out, (char)c);
			} else {
				char pct[3] = {'%', hex[c >> 4], hex[c & 15]};
				buf_append(out, pct, 3);
			}
		}
		break;
	case TMPL_F_JSON:
		tmpl_put_json_string(out, v, vlen, true);
		break;
	}
}

void tmpl_secret_add(struct kvlist *secrets, const char *value)
{
	struct buf esc = BUF_INIT, esc2 = BUF_INIT;

	if (!secrets || !value || !*value)
		return;
	/* keyed by the value itself: two secrets of one name (a host var and
	 * a capture) must both stay masked */
	kvlist_set(secrets, value, value);
	/* A device may give it back JSON-escaped (a JSON answer), or twice (a
	 * JSON body it echoes inside its JSON answer). */
	tmpl_put_json(&esc, value);
	if (strcmp(esc.data, value) != 0) {
		kvlist_set(secrets, esc.data, esc.data);
		tmpl_put_json(&esc2, esc.data);
		if (strcmp(esc2.data, esc.data) != 0)
			kvlist_set(secrets, esc2.data, esc2.data);
	}
	buf_free(&esc);
	buf_free(&esc2);
}

/* The value of a reference, filtered, into val. A value that is a secret
 * (from the environment, or a var named like one) is registered in
 * secrets in every form it takes. 0, or -1 with err. */
static int tmpl_value(const struct tmpl_ref *ref, const struct tmpl_scope *scope, struct buf *val,
                      struct kvlist *secrets, struct err *err)
{
	struct buf tmp = BUF_INIT;
	const char *v;
	bool secret;

	buf_reset(val);
	if (ref->is_env) {
		v = getenv(ref->name);
		if (!v) {
			err_set(err, "missing environment variable '%s'", ref->name);
			return -1;
		}
	} else {
		v = tmpl_lookup(scope, ref->name);
		if (!v) {
			err_set(err, "missing variable '%s'", ref->name);
			return -1;
		}
	}
	secret = ref->is_env || tmpl_is_secret_name(ref->name);
	if (secret)
		tmpl_secret_add(secrets, v);
	buf_puts(val, v); /* (val->data is never NULL after an append) */
	for (size_t i = 0; i < ref->nfilters; i++) {
		buf_reset(&tmp);
		tmpl_filter(ref->filters[i], val->data, val->len, &tmp);
		buf_reset(val);
		buf_append(val, tmp.data, tmp.len);
		if (secret)
			tmpl_secret_add(secrets, val->data);
	}
	buf_free(&tmp);
	return 0;
}

static int tmpl_render_impl(const char *t, const struct tmpl_scope *scope, bool json, struct buf *out,
                            struct kvlist *secrets, struct err *err)
{
	struct tmpl_ref ref;
	struct buf val = BUF_INIT;
	int r = -1;

	while (*t) {
		const char *dollar = strstr(t, "${");
		size_t bad;

		if (!dollar) {
			buf_puts(out, t);
			break;
		}
		if (dollar > t && dollar[-1] == '$') {
			/* $${ is an escaped ${, for shell text such as $${HOME:-/}
			 * that must reach the shell as it is */
			buf_append(out, t, (size_t)(dollar - t) - 1);
			buf_puts(out, "${");
			t = dollar + 2;
			continue;
		}
		buf_append(out, t, (size_t)(dollar - t));
		if (tmpl_ref_parse(dollar, &ref, &bad, err) < 0 || tmpl_value(&ref, scope, &val, secrets, err) < 0)
			goto out;
		if (json)
			tmpl_put_json_string(out, val.data, val.len, false);
		else
			buf_append(out, val.data, val.len);
		t = dollar + ref.len;
	}
	r = 0;
out:
	buf_free(&val);
	return r;
}

int tmpl_render(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode, struct buf *out,
                struct kvlist *secrets, struct err *err)
{
	(void)mode; /* the one mode left: exec commands have tmpl_render_shell */
	return tmpl_render_impl(t, scope, false, out, secrets, err);
}

int tmpl_render_json(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *secrets,
                     struct err *err)
{
	return tmpl_render_impl(t, scope, true, out, secrets, err);
}

int tmpl_check(const char *t, size_t *offset, struct err *err)
{
	const char *s = t;

	while ((s = strstr(s, "${")) != NULL) {
		struct tmpl_ref ref;
		size_t bad;

		if (s > t && s[-1] == '$') {
			s += 2; /* escaped: $${ */
			continue;
		}
		if (tmpl_ref_parse(s, &ref, &bad, err) < 0) {
			*offset = (size_t)(s - t) + bad;
			return -1;
		}
		s += ref.len;
	}
	return 0;
}

/* A name the shell can expand as ${NAME}. */
static bool tmpl_shell_name(const char *n)
{
	if (!isalpha((unsigned char)*n) && *n != '_')
		return false;
	for (; *n; n++)
		if (!isalnum((unsigned char)*n) && *n != '_')
			return false;
	return true;
}

/* A decimal integer, the only value let into $((...)): bash (the /bin/sh
 * of some systems) runs the $(...) of an array subscript in there. */
static bool tmpl_integer(const char *v)
{
	if (*v == '-' || *v == '+')
		v++;
	if (!*v)
		return false;
	for (; *v; v++)
		if (!isdigit((unsigned char)*v))
			return false;
	return true;
}

/* Write one reference's value, val, into an exec command as a reference
 * to an environment variable, in the form that keeps it one word where it
 * stands; the variable and its value go into env (*nvars counts them).
 * escaped: a backslash in the text just before. */
static void tmpl_shell_put(const struct tmpl_ref *ref, const char *val, enum shctx_where where, bool escaped,
                           struct buf *out, struct kvlist *env, size_t *nvars)
{
	char var[TMPL_NAME_MAX + 16];
	const char *name;

	/* ${env:NAME} stays the shell's own ${NAME} when the shell can name
	 * it and the command's FLEETRUN_ vars cannot shadow it; every other
	 * value goes into a variable of ours */
	if (ref->is_env && !ref->nfilters && tmpl_shell_name(ref->name) && strncasecmp(ref->name, "FLEETRUN", 8) != 0) {
		name = ref->name;
	} else {
		snprintf(var, sizeof(var), TMPL_SHELL_VAR "%zu", ++*nvars);
		kvlist_set(env, var, val);
		name = var;
	}
	/* a backslash just before would escape the first byte of what is
	 * written here: a newline after it makes the pair a line
	 * continuation, which the shell drops */
	if (escaped)
		buf_putc(out, '\n');
	switch (where) {
	case SHCTX_DQUOTE:
	case SHCTX_HEREDOC:
	case SHCTX_ARITH:
		buf_printf(out, "${%s}", name);
		break;
	case SHCTX_SQUOTE:
		buf_printf(out, "'\"${%s}\"'", name);
		break;
	default:
		buf_printf(out, "\"${%s}\"", name);
		break;
	}
}

/* The exec walk (tmpl_render_shell; tmpl_check_shell when scope is NULL):
 * the text goes to out as it is, each reference as a reference to an
 * environment variable, in the form that keeps it one word where it
 * stands. */
static int tmpl_shell_walk(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *env,
                           struct kvlist *secrets, size_t *offset, struct err *err)
{
	struct shctx sh;
	struct tmpl_ref ref;
	struct buf val = BUF_INIT;
	size_t i = 0, nvars = 0, bad = 0, lost = SIZE_MAX;
	int r = -1;

	shctx_init(&sh);
	while (t[i]) {
		enum shctx_where where;

		if (t[i] == '$' && t[i + 1] == '$' && t[i + 2] == '{') {
			/* $${: a literal ${ for the shell */
			if (out)
				buf_puts(out, "${");
			shctx_feed(&sh, "$");
			shctx_feed(&sh, "{");
			i += 3;
			continue;
		}
		if (t[i] != '$' || t[i + 1] != '{') {
			size_t n = shctx_feed(&sh, t + i);
			/* text it cannot follow matters only to a template after it */
			if (sh.error && lost == SIZE_MAX)
				lost = i;
			if (n > 2 && memmem(t + i, n, "${", 2)) {
				err_set(err, "a template in a here-document delimiter (expected a fixed word)");
				goto out;
			}
			if (out)
				buf_append(out, t + i, n);
			i += n;
			continue;
		}
		if (tmpl_ref_parse(t + i, &ref, &bad, err) < 0)
			goto out;
		if (lost != SIZE_MAX) {
			err_set(err, "'${%s}' follows shell text whose quoting cannot be followed: %s", ref.name,
			        sh.error);
			i = lost;
			goto out;
		}
		where = shctx_where(&sh);
		if (where == SHCTX_HEREDOC_QUOTED) {
			err_set(err, "'${%s}' in a quoted here-document (<<'WORD') would reach the command as text "
			        "(expected <<WORD, whose body expands it)", ref.name);
			goto out;
		}
		if (!scope) {
			shctx_inserted(&sh);
			i += ref.len;
			continue;
		}
		if (tmpl_value(&ref, scope, &val, secrets, err) < 0)
			goto out;
		if (where == SHCTX_ARITH && !tmpl_integer(val.data)) {
			err_set(err, "the value of '%s' is not an integer, and inside $((...)) the shell would "
			        "evaluate it", ref.name);
			goto out;
		}
		tmpl_shell_put(&ref, val.data, where, sh.escaped, out, env, &nvars);
		shctx_inserted(&sh);
		i += ref.len;
	}
	r = 0;
out:
	if (r < 0 && offset)
		*offset = i + bad;
	buf_free(&val);
	return r;
}

int tmpl_render_shell(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *env,
                      struct kvlist *secrets, struct err *err)
{
	return tmpl_shell_walk(t, scope, out, env, secrets, NULL, err);
}

int tmpl_check_shell(const char *t, size_t *offset, struct err *err)
{
	return tmpl_shell_walk(t, NULL, NULL, NULL, NULL, offset, err);
}

bool tmpl_secret_marks(const char *p, size_t n, const struct kvlist *secrets, unsigned char *hidden)
{
	bool any = false;

	/* searching from every position, so overlapping occurrences and
	 * secrets that contain one another are all covered */
	for (size_t i = 0; secrets && i < secrets->len; i++) {
		const char *sec = secrets->items[i].value;
		size_t slen = strlen(sec);
		const char *at = p, *end = p + n, *hit;

		if (slen == 0)
			continue;
		while ((size_t)(end - at) >= slen && (hit = memmem(at, (size_t)(end - at), sec, slen)) != NULL) {
			memset(hidden + (hit - p), 1, slen);
			any = true;
			at = hit + 1;
		}
	}
	return any;
}

void tmpl_mask(struct buf *b, const struct kvlist *secrets)
{
	struct buf masked = BUF_INIT;
	unsigned char *hidden = NULL;

	if (!secrets || !secrets->len || !b->data || !b->len)
		return;
	/* Mark every byte covered by any occurrence of any secret, then
	 * write *** once per run of marked bytes. */
	hidden = xcalloc(b->len, 1);
	if (!tmpl_secret_marks(b->data, b->len, secrets, hidden))
		goto out;
	for (size_t i = 0; i < b->len;) {
		if (!hidden[i]) {
			size_t j = i;
			while (j < b->len && !hidden[j])
				j++;
			buf_append(&masked, b->data + i, j - i);
			i = j;
		} else {
			while (i < b->len && hidden[i])
				i++;
			buf_puts(&masked, "***");
		}
	}
	buf_free(b);
	*b = masked;
	masked = (struct buf)BUF_INIT;
out:
	free(hidden);
	buf_free(&masked);
}

const char *tmpl_login_name(void)
{
	static char name[256];
	struct passwd *pw;

	if (name[0])
		return name;
	pw = getpwuid(getuid());
	snprintf(name, sizeof(name), "%s", pw ? pw->pw_name : "root");
	return name;
}

void tmpl_builtins(struct kvlist *b, const char *job, const char *host, const struct kvlist *vars)
{
	const char *v;

	kvlist_set(b, "host", host);
	v = kvlist_get(vars, "address");
	kvlist_set(b, "address", v ? v : host);
	v = kvlist_get(vars, "port");
	kvlist_set(b, "port", v ? v : "22");
	v = kvlist_get(vars, "user");
	kvlist_set(b, "user", v ? v : tmpl_login_name());
	kvlist_set(b, "job", job);
}

bool tmpl_is_secret_name(const char *name)
{
	size_t n = strlen(name);

	return strcasestr(name, "password") || strcasestr(name, "passphrase") || strcasestr(name, "passwd") ||
	       strcasestr(name, "token") || strcasestr(name, "secret") ||
	       (n >= 5 && strcasecmp(name + n - 5, "_pass") == 0);
}
