/* tmpl: ${name} templates; see tmpl.h. Written by hand because the syntax
 * is three rules long and a template library would bring its own syntax
 * (loops, filters) that job files must not grow into. */
#include "tmpl.h"

#include <ctype.h>
#include <stdbool.h>
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

/* Parse the reference that starts at t[0] == '$', t[1] == '{'. On success
 * sets the name span and whether it is env:, and returns the length of the
 * whole reference. -1 when malformed. */
static long tmpl_ref(const char *t, const char **name, size_t *nlen, int *is_env, struct err *err)
{
	const char *p = t + 2;
	const char *close = strchr(p, '}');

	if (!close) {
		err_set(err, "unterminated '${' (expected '}')");
		return -1;
	}
	*is_env = 0;
	if (strncmp(p, "env:", 4) == 0) {
		*is_env = 1;
		p += 4;
	}
	if (p == close) {
		err_set(err, "empty variable name in '${}'");
		return -1;
	}
	if (!isalpha((unsigned char)*p) && *p != '_') {
		err_set(err, "bad variable name '%.*s' (expected a letter or '_' first)", (int)(close - p), p);
		return -1;
	}
	for (const char *c = p; c < close; c++) {
		if (!tmpl_name_char(*c)) {
			err_set(err, "bad variable name '%.*s' (expected letters, digits, '_', '.', '-')",
			        (int)(close - p), p);
			return -1;
		}
	}
	if (close - p > TMPL_NAME_MAX) {
		err_set(err, "variable name longer than %d characters", TMPL_NAME_MAX);
		return -1;
	}
	*name = p;
	*nlen = (size_t)(close - p);
	return close - t + 1;
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
 * (the quotes it adds are dropped). */
static void tmpl_put_json(struct buf *out, const char *v)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *p;
	size_t n;

	if (!g)
		abort();
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
	yajl_gen_get_buf(g, &p, &n);
	if (n >= 2)
		buf_append(out, p + 1, n - 2);
	yajl_gen_free(g);
}

static int tmpl_render_impl(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode, bool json,
                            struct buf *out, struct kvlist *secrets, struct err *err);

int tmpl_render(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode,
                struct buf *out, struct kvlist *secrets, struct err *err)
{
	return tmpl_render_impl(t, scope, mode, false, out, secrets, err);
}

int tmpl_render_json(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *secrets,
                     struct err *err)
{
	return tmpl_render_impl(t, scope, TMPL_ENV_VALUE, true, out, secrets, err);
}

static int tmpl_render_impl(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode, bool json,
                            struct buf *out, struct kvlist *secrets, struct err *err)
{
	char name[TMPL_NAME_MAX + 1];

	while (*t) {
		const char *dollar = strstr(t, "${");
		const char *nm, *v;
		size_t nlen;
		int is_env;
		long len;

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
		len = tmpl_ref(dollar, &nm, &nlen, &is_env, err);
		if (len < 0)
			return -1;
		memcpy(name, nm, nlen);
		name[nlen] = '\0';
		if (is_env) {
			v = getenv(name);
			if (!v) {
				err_set(err, "missing environment variable '%s'", name);
				return -1;
			}
			if (secrets && *v)
				kvlist_set(secrets, name, v);
			if (mode == TMPL_ENV_SHELL)
				buf_printf(out, "${%s}", name);
			else if (json)
				tmpl_put_json(out, v);
			else
				buf_puts(out, v);
		} else {
			v = tmpl_lookup(scope, name);
			if (!v) {
				err_set(err, "missing variable '%s'", name);
				return -1;
			}
			if (json)
				tmpl_put_json(out, v);
			else
				buf_puts(out, v);
		}
		t = dollar + len;
	}
	return 0;
}

int tmpl_check(const char *t, size_t *offset, struct err *err)
{
	const char *s = t;

	while ((s = strstr(s, "${")) != NULL) {
		const char *nm;
		size_t nlen;
		int is_env;
		long len;

		if (s > t && s[-1] == '$') {
			s += 2; /* escaped: $${ */
			continue;
		}
		len = tmpl_ref(s, &nm, &nlen, &is_env, err);

		if (len < 0) {
			*offset = (size_t)(s - t);
			return -1;
		}
		s += len;
	}
	return 0;
}

void tmpl_mask(struct buf *b, const struct kvlist *secrets)
{
	struct buf masked = BUF_INIT;
	unsigned char *hidden = NULL;
	bool any = false;

	if (!secrets || !secrets->len || !b->data || !b->len)
		return;
	/* Mark every byte covered by any occurrence of any secret, searching
	 * from every position so overlapping occurrences and secrets that
	 * contain one another are all covered; then write *** once per run of
	 * marked bytes. */
	for (size_t i = 0; i < secrets->len; i++) {
		const char *sec = secrets->items[i].value;
		size_t slen = strlen(sec);
		const char *p = b->data, *end = b->data + b->len, *hit;

		if (slen == 0)
			continue;
		while ((size_t)(end - p) >= slen && (hit = memmem(p, (size_t)(end - p), sec, slen)) != NULL) {
			if (!hidden)
				hidden = xcalloc(b->len, 1);
			memset(hidden + (hit - b->data), 1, slen);
			any = true;
			p = hit + 1;
		}
	}
	if (!any)
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

static const char *tmpl_login_name(void)
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
	return strcasestr(name, "password") || strcasestr(name, "passphrase") || strcasestr(name, "token") ||
	       strcasestr(name, "secret");
}
