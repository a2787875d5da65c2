/* inventory_text: the plain text inventory, one host (or one range of
 * hosts) a line: '[user@]host[:port] [key=value ...]', '#' comments. Read
 * a line at a time, so a million-line file costs one line of memory; a
 * range on a line is expanded lazily (hostrange.h), each name with the
 * line's vars. */
#include "inventory.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hostname.h"
#include "hostrange.h"

struct inventory_text {
	char *path;              /* malloced, owned: for messages */
	FILE *fp;                /* owned */
	char *line;              /* getline's buffer, malloced, owned */
	size_t cap;
	size_t lineno;
	struct hostrange *range; /* the current line's names, or NULL */
	struct kvlist vars;      /* the current line's vars, for each of them */
};

/* Everything the parser of one line needs to name a fault. */
struct inventory_text_loc {
	const char *path;
	size_t lineno;
	const char *line;
};

static void inventory_text_err(struct err *err, const struct inventory_text_loc *loc, const char *at,
			       const char *fmt, ...) __attribute__((format(printf, 4, 5)));

static void inventory_text_err(struct err *err, const struct inventory_text_loc *loc, const char *at,
			       const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inventory_verr(err, loc->path, loc->lineno, (size_t)(at - loc->line) + 1, fmt, ap);
	va_end(ap);
}

static int inventory_text_space(char c)
{
	return c == ' ' || c == '\t';
}

/* h[0..end) as an IPv6 address: '[ADDRESS]', '[ADDRESS]:PORT', or bare
 * (two colons or more and no '['), which leaves no room for a port. What
 * tells it from a range: '[::1]:22' holds a ':' inside its brackets,
 * 'rtr[1-3]' does not. 1 with *name (malloced) and *port (NULL, or where
 * the port starts in h); 0 when the field is no IPv6 address; -1 and err. */
static int inventory_text_ipv6_parse(const struct inventory_text_loc *loc, const char *h, const char *end,
				     char **name, const char **port, struct err *err)
{
	const char *close = memchr(h, ']', (size_t)(end - h));
	size_t ncolons = 0;

	for (const char *p = h; p < end; p++)
		ncolons += *p == ':';

	if (h < end && *h == '[' && close && memchr(h, ':', (size_t)(close - h))) {
		if (!hostname_is_ipv6(h + 1, (size_t)(close - h - 1))) {
			inventory_text_err(err, loc, h + 1,
					   "bad IPv6 address '%.*s' (expected [ADDRESS] or [ADDRESS]:PORT)",
					   (int)(close - h - 1), h + 1);
			return -1;
		}
		if (close + 1 < end && close[1] != ':') {
			inventory_text_err(err, loc, close + 1, "unexpected '%c' after ']' (expected :PORT or a space)",
					   close[1]);
			return -1;
		}
		*port = close + 1 < end ? close + 2 : NULL;
		*name = xstrndup(h + 1, (size_t)(close - h - 1));
		return 1;
	}
	if (ncolons >= 2 && !memchr(h, '[', (size_t)(end - h))) {
		/* A bare IPv6 address has no room for a port: write [::1]:22. */
		if (!hostname_is_ipv6(h, (size_t)(end - h))) {
			inventory_text_err(err, loc, h,
					   "bad IPv6 address '%.*s' (expected host:port, [ADDRESS]:PORT or a bare "
					   "IPv6 address)", (int)(end - h), h);
			return -1;
		}
		*port = NULL;
		*name = xstrndup(h, (size_t)(end - h));
		return 1;
	}
	return 0;
}

/* h[0..end) as 'host[:port]', the host maybe with ranges, checked now to
 * be reported at their column. 0 with *name (malloced), *port (NULL, or
 * where the port starts in h) and *is_range; -1 and err. */
static int inventory_text_name_parse(const struct inventory_text_loc *loc, const char *h, const char *end,
				     char **name, const char **port, int *is_range, struct err *err)
{
	const char *colon = memchr(h, ':', (size_t)(end - h)), *hend = colon ? colon : end;
	struct hostrange *hr = NULL;
	struct err why;
	size_t bad = 0, col = 0;
	int range;

	if (hend == h) {
		inventory_text_err(err, loc, h, "empty host name (expected [user@]host[:port])");
		return -1;
	}
	if (hostname_check(h, (size_t)(hend - h), HOSTNAME_RANGES, &bad, &why) < 0) {
		inventory_text_err(err, loc, h + bad, "%s", why.msg);
		return -1;
	}
	range = memchr(h, '[', (size_t)(hend - h)) != NULL;
	*name = xstrndup(h, (size_t)(hend - h));
	if (range) {
		if (hostrange_open_flags(*name, HOSTRANGE_LIST, &hr, &col, &why) < 0) {
			inventory_text_err(err, loc, h + col, "%s", why.msg);
			free(*name);
			*name = NULL;
			return -1;
		}
		hostrange_close(hr);
	}
	*port = colon ? colon + 1 : NULL;
	*is_range = range;
	return 0;
}

/* The host field of a line, s[0..n): '[user@]' then an IPv6 address or a
 * 'host[:port]'. Sets *name (malloced) and adds user and port to vars, the
 * caller's scratch list for this line (dropped on error); *is_range when
 * the name holds a bracket range. */
static int inventory_text_host_parse(const struct inventory_text_loc *loc, const char *s, size_t n,
				     char **name, int *is_range, struct kvlist *vars, struct err *err)
{
	int r = -1, k;
	const char *at = memrchr(s, '@', n), *h = s, *end = s + n, *port = NULL;
	char *nm = NULL, *portstr = NULL;
	struct err why;
	int range = 0;

	if (at) {
		if (at == s) {
			inventory_text_err(err, loc, s, "empty user before '@' (expected user@host)");
			goto out;
		}
		kvlist_setn(vars, "user", 4, s, (size_t)(at - s));
		h = at + 1;
	}
	k = inventory_text_ipv6_parse(loc, h, end, &nm, &port, err);
	if (k < 0)
		goto out;
	if (k == 0 && inventory_text_name_parse(loc, h, end, &nm, &port, &range, err) < 0)
		goto out;
	if (port) {
		portstr = xstrndup(port, (size_t)(end - port));
		if (inventory_var_check("port", portstr, &why) < 0) {
			inventory_text_err(err, loc, port, "%s", why.msg);
			goto out;
		}
		kvlist_set(vars, "port", portstr);
	}
	*name = nm;
	nm = NULL;
	*is_range = range;
	r = 0;
out:
	free(nm);
	free(portstr);
	return r;
}

/* One 'key=value' or 'key="quoted value"' at *pp; *pp moves past it. */
static int inventory_text_var_parse(const struct inventory_text_loc *loc, const char **pp, struct kvlist *vars,
				    struct err *err)
{
	int r = -1;
	const char *p = *pp, *key = p, *val;
	struct buf v = BUF_INIT;
	char *k = NULL;
	struct err why;

	if (!isalpha((unsigned char)*p) && *p != '_') {
		inventory_text_err(err, loc, p,
				   "unexpected '%c' (expected key=value, with a key of letters, digits and '_')", *p);
		goto out;
	}
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (!*p) {
		inventory_text_err(err, loc, p, "end of line after '%.*s' (expected key=value)", (int)(p - key),
				   key);
		goto out;
	}
	if (*p != '=') {
		inventory_text_err(err, loc, p, "unexpected '%c' after '%.*s' (expected key=value)", *p,
				   (int)(p - key), key);
		goto out;
	}
	k = xstrndup(key, (size_t)(p - key));
	val = ++p;
	if (*p == '"') {
		/* \" and \\ are the only escapes, so that a backslash
		 * anywhere else (a Windows path, a regex) stays as written. */
		p++;
		while (*p && *p != '"') {
			if (*p == '\\' && (p[1] == '"' || p[1] == '\\'))
				p++;
			buf_putc(&v, *p++);
		}
		if (*p != '"') {
			inventory_text_err(err, loc, val, "unterminated quoted value (expected a closing '\"')");
			goto out;
		}
		p++;
		if (*p && !inventory_text_space(*p)) {
			inventory_text_err(err, loc, p, "unexpected '%c' after quoted value (expected a space)", *p);
			goto out;
		}
	} else {
		while (*p && !inventory_text_space(*p))
			p++;
		buf_append(&v, val, (size_t)(p - val));
	}
	/* data is never NULL below and always a string, even for key= and
	 * key="": buf_reserve alone would leave a fresh buffer without its
	 * NUL (found by tests/fuzz/fuzz_inventory: key="" read heap garbage). */
	buf_append(&v, "", 0);
	if (inventory_var_check(inventory_var_name(k), v.data, &why) < 0) {
		inventory_text_err(err, loc, val, "%s", why.msg);
		goto out;
	}
	kvlist_set(vars, inventory_var_name(k), v.data);
	*pp = p;
	r = 0;
out:
	free(k);
	buf_free(&v);
	return r;
}

/* One line, NUL-terminated without its newline. 1: *name and vars are a
 * host line; 0: blank or comment; -1: err. */
static int inventory_text_line_parse(const struct inventory_text_loc *loc, char **name, int *is_range,
				     struct kvlist *vars, struct err *err)
{
	int r = -1;
	const char *p = loc->line, *field;
	struct kvlist v = KVLIST_INIT;
	char *nm = NULL;
	int range = 0;

	while (inventory_text_space(*p))
		p++;
	if (!*p || *p == '#') {
		r = 0;
		goto out;
	}
	field = p;
	while (*p && !inventory_text_space(*p))
		p++;
	if (inventory_text_host_parse(loc, field, (size_t)(p - field), &nm, &range, &v, err) < 0)
		goto out;
	/* Each turn consumes a var or ends the line. */
	for (;;) {
		while (inventory_text_space(*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (inventory_text_var_parse(loc, &p, &v, err) < 0)
			goto out;
	}
	*name = nm;
	nm = NULL;
	*is_range = range;
	kvlist_free(vars);
	*vars = v;
	memset(&v, 0, sizeof(v));
	r = 1;
out:
	free(nm);
	kvlist_free(&v);
	return r;
}

/* Reads nothing yet: lines are parsed as the run asks for hosts. */
int inventory_text_open(const char *path, FILE *fp, struct inventory_text **out, struct err *err)
{
	struct inventory_text *ts = xcalloc(1, sizeof(*ts));

	ts->path = xstrdup(path);
	ts->fp = fp;
	*out = ts;
	return 0;
}

/* 1: *h; 0: end of file; -1: err (the bad line is skipped, so the next
 * call goes on with the line after it). */
int inventory_text_next(struct inventory_text *ts, struct host *h, struct err *err)
{
	const char *nm;

	/* Each turn reads one line. */
	for (;;) {
		struct inventory_text_loc loc;
		char *name = NULL;
		int is_range = 0, k;
		ssize_t n;

		if (ts->range) {
			if (hostrange_next(ts->range, &nm) == 1) {
				memset(h, 0, sizeof(*h));
				h->name = xstrdup(nm);
				inventory_vars_copy(&h->vars, &ts->vars);
				return 1;
			}
			hostrange_close(ts->range);
			ts->range = NULL;
		}

		errno = 0;
		n = getline(&ts->line, &ts->cap, ts->fp);
		if (n < 0) {
			if (ferror(ts->fp)) {
				err_set(err, "%s: read error: %s", ts->path, strerror(errno ? errno : EIO));
				return -1;
			}
			return 0;
		}
		ts->lineno++;
		while (n > 0 && (ts->line[n - 1] == '\n' || ts->line[n - 1] == '\r'))
			ts->line[--n] = '\0';
		loc = (struct inventory_text_loc){ts->path, ts->lineno, ts->line};
		if (strlen(ts->line) != (size_t)n) {
			inventory_text_err(err, &loc, ts->line + strlen(ts->line), "NUL byte (expected a text file)");
			return -1;
		}
		/* A UTF-8 byte order mark, as some Windows editors write. */
		if (ts->lineno == 1 && strncmp(ts->line, "\xef\xbb\xbf", 3) == 0)
			memset(ts->line, ' ', 3);

		k = inventory_text_line_parse(&loc, &name, &is_range, &ts->vars, err);
		if (k < 0)
			return -1;
		if (k == 0)
			continue;
		if (is_range) {
			struct err why;
			size_t col;

			/* Checked by inventory_text_line_parse already. */
			if (hostrange_open_flags(name, HOSTRANGE_LIST, &ts->range, &col, &why) < 0) {
				inventory_text_err(err, &loc, ts->line, "%s", why.msg);
				free(name);
				return -1;
			}
			free(name);
			continue;
		}
		memset(h, 0, sizeof(*h));
		h->name = name;
		h->vars = ts->vars;
		memset(&ts->vars, 0, sizeof(ts->vars));
		return 1;
	}
}

void inventory_text_close(struct inventory_text *ts)
{
	if (!ts)
		return;
	if (ts->fp)
		fclose(ts->fp);
	free(ts->path);
	free(ts->line);
	hostrange_close(ts->range);
	kvlist_free(&ts->vars);
	free(ts);
}

