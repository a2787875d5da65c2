/* inventory: host patterns (-H), plain text and YAML inventories (-i), and
 * the -l filter, behind one lazy iterator (targets_next).
 *
 * Memory stays flat for the sources that can be huge: a -H pattern is an
 * odometer over its bracket groups, never a list of names, and a text
 * inventory is read one line at a time. YAML inventories are the exception:
 * a host may be listed under several groups anywhere in the file, so the
 * file has to be read whole before its first host can be given out; they
 * are Ansible inventories, which are not million-line files.
 *
 * Hosts are not deduplicated across sources: a host given by two -i files,
 * or by a file and a -H pattern, is produced twice (remembering every name
 * seen would defeat the flat memory). Within one YAML inventory a host
 * listed under several groups is produced once, in all its groups. */
#include "inventory.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fnmatch.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <yaml.h>

#include "buf.h"
#include "hash.h"
#include "yamldepth.h"

/* A pattern may expand to more names than anyone will run against (a run
 * of 10^7 hosts is fine: names are produced lazily), but a total past 2^40
 * is a typo, such as a missing '-' between two numbers. */
#define RANGE_MAX_TOTAL ((uint64_t)1 << 40)
/* 18 digits keep every bound and count of a range inside uint64_t. */
#define RANGE_MAX_DIGITS 18
/* YAML group nesting deeper than this is a cycle through aliases or a
 * hostile file, not an inventory. */
#define YAML_MAX_DEPTH 1000
/* A YAML inventory is held whole (above), and one line such as
 * 'h[1:100000000]:' would expand into gigabytes (30M names took 4 GB and
 * a minute). -H and text inventories are lazy and take any number. */
#define YAML_MAX_HOSTS 1000000
/* Listing a host costs time whether it is new or not, and aliases let one
 * line list a whole range under another group: 40 aliases of a
 * 'h[1:900000]' group took 25 s. A few groups per host are normal; past
 * this many listings in all, the file is refused before expanding them. */
#define YAML_MAX_LISTINGS (4 * YAML_MAX_HOSTS)

void host_free(struct host *h)
{
	if (!h)
		return;
	free(h->name);
	kvlist_free(&h->vars);
	for (size_t i = 0; i < h->ngroups; i++)
		free(h->groups[i]);
	free(h->groups);
	memset(h, 0, sizeof(*h));
}

/* ------------------------------------------------------------------ */
/* Host names: one check for every source                              */

static int name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* An IPv6 literal, with an optional %zone (an interface name, so the same
 * characters as a host name). */
static int ipv6_ok(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	const char *pct = memchr(s, '%', n);
	size_t alen = pct ? (size_t)(pct - s) : n;

	if (alen >= sizeof(tmp) || (pct && pct + 1 == s + n))
		return 0;
	for (const char *z = pct ? pct + 1 : s + n; z < s + n; z++)
		if (!name_char(*z))
			return 0;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* A character of a message about a bad name: never the raw byte, which
 * could be a terminal escape or a line break forging a log line. */
static const char *char_desc(char c, char *out, size_t outlen)
{
	unsigned char u = (unsigned char)c;

	if (c == ' ')
		return "space";
	if (c == '\t')
		return "tab";
	if (u < 0x20 || u == 0x7f)
		snprintf(out, outlen, "control character 0x%02X", u);
	else if (u >= 0x80)
		snprintf(out, outlen, "non-ASCII byte 0x%02X", u);
	else
		snprintf(out, outlen, "'%c'", c);
	return out;
}

/* User text quoted in a message: bounded, control and non-ASCII bytes as
 * '?', for the same reason. */
static const char *safe_text(const char *s, char *out, size_t outlen)
{
	size_t n = 0, max = outlen > 4 ? outlen - 4 : 0;

	for (; *s && n < max; s++) {
		unsigned char u = (unsigned char)*s;
		out[n++] = u < 0x20 || u >= 0x7f ? '?' : *s;
	}
	if (*s && outlen > 4) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	if (outlen)
		out[n] = '\0';
	return out;
}

/* A message about a line or a YAML node may quote any of its text (a
 * group name, a key): control bytes become '?' there too. */
static void msg_scrub(char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			*msg = '?';
}

int host_name_check(const char *s, size_t n, unsigned flags, size_t *col, struct err *why)
{
	char d[48];

	if (n == 0) {
		*col = 0;
		err_set(why, "empty host name");
		return -1;
	}
	if (memchr(s, ':', n) && (ipv6_ok(s, n) || (n > 2 && s[0] == '[' && s[n - 1] == ']' && ipv6_ok(s + 1, n - 2))))
		return 0;
	/* A name is an argument to commands (ping, ssh, nslookup, ...): one
	 * starting with '-' would be read as an option. */
	if (s[0] == '-') {
		*col = 0;
		err_set(why, "host name starting with '-' (expected a letter or a digit first)");
		return -1;
	}
	/* '.' and '..' would be directories where a name becomes a path
	 * (--outdir), and no DNS name starts with a dot. */
	if (s[0] == '.') {
		*col = 0;
		err_set(why, "host name starting with '.' (expected a letter or a digit first)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '[' || s[i] == ']') && (flags & HOST_NAME_RANGES)) {
			/* Range syntax: the range parser checks what is inside,
			 * and that the brackets balance. */
			const char *close = s[i] == '[' ? memchr(s + i, ']', n - i) : s + i;
			if (!close)
				break;
			i = (size_t)(close - s);
			continue;
		}
		if (!name_char(s[i])) {
			*col = i;
			err_set(why, "unexpected %s in host name (expected letters, digits, '.', '-', '_'%s or an "
				"IPv4/IPv6 address)", char_desc(s[i], d, sizeof(d)),
				(flags & HOST_NAME_RANGES) ? ", a range like [01-10]" : "");
			return -1;
		}
	}
	if (n > HOST_NAME_MAX_LEN) {
		*col = HOST_NAME_MAX_LEN;
		err_set(why, "host name longer than %d characters", HOST_NAME_MAX_LEN);
		return -1;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Host vars shared by every source                                    */

/* Ansible's connection vars are stored under the names job templates use
 * (${address}, ${port}, ${user}), so an Ansible inventory works as it is. */
static const char *var_name(const char *key)
{
	if (strcmp(key, "ansible_host") == 0)
		return "address";
	if (strcmp(key, "ansible_port") == 0)
		return "port";
	if (strcmp(key, "ansible_user") == 0)
		return "user";
	return key;
}

/* A bad port is caught where it is written, with its line and column,
 * rather than when a worker fails to connect to it. 0 or -1. */
static int var_check(const char *name, const char *value, struct err *why)
{
	long long port;
	size_t col;
	struct err bad;
	char t[80];

	if (strcmp(name, "port") == 0 && int_parse(value, 1, 65535, &port) < 0) {
		err_set(why, "bad port '%s' (expected a number in 1..65535)", safe_text(value, t, sizeof(t)));
		return -1;
	}
	/* address is where to connect: a host name, held to the same rules. */
	if (strcmp(name, "address") == 0 && host_name_check(value, strlen(value), 0, &col, &bad) < 0) {
		err_set(why, "address '%s': %s at character %zu", safe_text(value, t, sizeof(t)), bad.msg, col + 1);
		return -1;
	}
	return 0;
}

static void kvlist_copy(struct kvlist *dst, const struct kvlist *src)
{
	for (size_t i = 0; i < src->len; i++)
		kvlist_set(dst, src->items[i].key, src->items[i].value);
}

/* ------------------------------------------------------------------ */
/* Host patterns: 'rtr[01-40].dc[1-2],fw1'                             */

enum {
	/* -H: a comma list of names; spaces around items are ignored. */
	HR_LIST = 0,
	/* A YAML host name: one name (a comma is just a character), and
	 * Ansible's [01:50] and [01:50:2] ranges besides [01-50]. */
	HR_NAME = 1,
};

struct span {          /* one number or range inside [ ] */
	uint64_t lo, hi, step;
	int width;           /* zero padding, or 0 for none */
};

struct part {          /* literal text, or one bracket group */
	size_t off, len;     /* literal text in hostrange.pattern */
	struct span *spans;  /* NULL for literal text; else malloced, owned */
	size_t nspans;
	size_t si;           /* odometer: the span cur is in */
	uint64_t cur;        /* odometer: this group's current number */
};

struct item {
	struct part *parts;  /* malloced, owned */
	size_t nparts;
};

struct hostrange {
	char *pattern;       /* malloced copy, owned; parts point into it */
	struct item *items;  /* malloced, owned */
	size_t nitems;
	size_t ii;           /* the item being expanded */
	int started;         /* items[ii] has given its first name */
	struct buf name;     /* the last name given out */
	uint64_t total;      /* names it expands to, saturated past 2^40 */
};

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	uint64_t cap = RANGE_MAX_TOTAL + 1;
	return a >= cap || b >= cap || a + b >= cap ? cap : a + b;
}

static uint64_t sat_mul(uint64_t a, uint64_t b)
{
	uint64_t cap = RANGE_MAX_TOTAL + 1;
	if (a == 0 || b == 0)
		return 0;
	return a >= cap || b >= cap || b > cap / a ? cap : a * b;
}

/* Digits at s[*i]; 1 and the number, 0 when there are none, -1 when too
 * many. */
static int parse_num(const char *s, size_t *i, uint64_t *v, size_t *ndigits)
{
	size_t j = *i;
	uint64_t n = 0;

	while (isdigit((unsigned char)s[j])) {
		if (j - *i == RANGE_MAX_DIGITS)
			return -1;
		n = n * 10 + (uint64_t)(s[j] - '0');
		j++;
	}
	if (j == *i)
		return 0;
	*ndigits = j - *i;
	*i = j;
	*v = n;
	return 1;
}

static void part_add(struct item *it, struct part p)
{
	it->parts = xreallocarray(it->parts, it->nparts + 1, sizeof(*it->parts));
	it->parts[it->nparts++] = p;
}

static void literal_add(struct item *it, size_t off, size_t len)
{
	if (len > 0)
		part_add(it, (struct part){.off = off, .len = len});
}

static void item_free(struct item *it)
{
	for (size_t i = 0; i < it->nparts; i++)
		free(it->parts[i].spans);
	free(it->parts);
	memset(it, 0, sizeof(*it));
}

/* The bracket group whose '[' is at s[*pi]: on success *pi is past its ']',
 * *size is how many numbers it holds (saturated). On error *col is the
 * 0-based offset of the fault. */
static int group_parse(const char *s, size_t *pi, int flags, struct part *out,
		       uint64_t *size, size_t *col, struct err *why)
{
	int r = -1;
	size_t open = *pi, close = open + 1, j;
	struct part p = {0};
	uint64_t total = 0;

	/* Find the ']' first, so that 'rtr[01-' reports the bracket rather
	 * than a number missing after the '-'. */
	while (s[close] && s[close] != ']' && s[close] != '[')
		close++;
	if (s[close] != ']') {
		*col = s[close] == '[' ? close : open;
		err_set(why, s[close] == '[' ? "nested '['" : "unbalanced '['");
		goto out;
	}

	j = open + 1;
	for (;;) {
		size_t start = j, end = j, nd = 0, nd2;
		uint64_t step = 1;
		struct span sp;
		int k;

		while (end < close && s[end] != ',')
			end++;
		if (end == start) {
			*col = start;
			err_set(why, "empty range (expected a number such as [1-9] or [01-10])");
			goto out;
		}
		k = parse_num(s, &j, &sp.lo, &nd);
		if (k > 0) {
			sp.hi = sp.lo;
			if (s[j] == '-' || (s[j] == ':' && (flags & HR_NAME))) {
				char sep = s[j++];
				k = parse_num(s, &j, &sp.hi, &nd2);
				if (k > 0 && sep == ':' && s[j] == ':') {
					j++;
					k = parse_num(s, &j, &step, &nd2);
				}
			}
		}
		if (k < 0) {
			*col = start;
			err_set(why, "number too long in '%.*s' (expected at most %d digits)",
				(int)(end - start), s + start, RANGE_MAX_DIGITS);
			goto out;
		}
		if (k == 0 || j != end) {
			*col = j;
			err_set(why, "non-numeric range '%.*s' (expected numbers such as [1-9], [01-10] or [1,3,5])",
				(int)(end - start < 40 ? end - start : 40), s + start);
			goto out;
		}
		if (sp.lo > sp.hi) {
			*col = start;
			err_set(why, "reversed range '%.*s' (expected start <= end)",
				(int)(end - start), s + start);
			goto out;
		}
		if (step == 0) {
			*col = start;
			err_set(why, "zero step in '%.*s' (expected a step of 1 or more)",
				(int)(end - start), s + start);
			goto out;
		}
		sp.step = step;
		/* [01-10] pads to the width of its start; [8-10] does not pad. */
		sp.width = nd > 1 && s[start] == '0' ? (int)nd : 0;
		total = sat_add(total, (sp.hi - sp.lo) / step + 1);
		p.spans = xreallocarray(p.spans, p.nspans + 1, sizeof(*p.spans));
		p.spans[p.nspans++] = sp;
		/* A ',' right before the ']' leaves an empty range: caught by
		 * the next turn, which sees end == start. */
		if (j == close)
			break;
		j++;
	}

	p.si = 0;
	p.cur = p.spans[0].lo;
	*out = p;
	p.spans = NULL;
	*size = total;
	*pi = close + 1;
	r = 0;
out:
	free(p.spans);
	return r;
}

/* The item that starts at s[first] is a host name (with ranges): checked
 * before its ranges are parsed, so that what is wrong with a hostile name
 * is said first. Its end is the next ',' outside brackets (or the end, for
 * HR_NAME), less trailing spaces. */
static int item_name_check(const char *s, size_t first, int flags, size_t *col, struct err *why)
{
	size_t end = first, c = 0;
	int depth = 0;

	while (s[end] && (s[end] != ',' || depth > 0 || (flags & HR_NAME))) {
		depth += s[end] == '[' ? 1 : s[end] == ']' && depth > 0 ? -1 : 0;
		end++;
	}
	while (end > first && isspace((unsigned char)s[end - 1]) && !(flags & HR_NAME))
		end--;
	if (end > first && host_name_check(s + first, end - first, HOST_NAME_RANGES, &c, why) < 0) {
		*col = first + c;
		return -1;
	}
	return 0;
}

/* Splits hr->pattern into items and their parts, and checks the whole
 * total. On error *col is the 0-based offset of the fault. */
static int pattern_parse(struct hostrange *hr, int flags, size_t *col, struct err *why)
{
	int r = -1;
	const char *s = hr->pattern;
	size_t i = 0;
	uint64_t total = 0;
	struct item it = {0};

	for (;;) {
		size_t lit, first;
		uint64_t count = 1;

		if (!(flags & HR_NAME))
			while (isspace((unsigned char)s[i]))
				i++;
		first = lit = i;
		if (item_name_check(s, first, flags, col, why) < 0)
			goto out;
		while (s[i] && (s[i] != ',' || (flags & HR_NAME))) {
			if (s[i] == '[') {
				struct part p;
				uint64_t size;

				literal_add(&it, lit, i - lit);
				if (group_parse(s, &i, flags, &p, &size, col, why) < 0)
					goto out;
				part_add(&it, p);
				count = sat_mul(count, size);
				lit = i;
			} else if (s[i] == ']') {
				*col = i;
				err_set(why, "unbalanced ']'");
				goto out;
			} else if (isspace((unsigned char)s[i]) && !(flags & HR_NAME)) {
				/* Spaces may follow an item ('a, b'), not split a name. */
				size_t ws = i;
				literal_add(&it, lit, i - lit);
				while (isspace((unsigned char)s[i]))
					i++;
				if (s[i] && s[i] != ',') {
					*col = ws;
					err_set(why, "space inside a host name");
					goto out;
				}
				lit = i;
			} else {
				i++;
			}
		}
		literal_add(&it, lit, i - lit);
		if (it.nparts == 0) {
			*col = i;
			err_set(why, "empty item (expected a host name between commas)");
			goto out;
		}

		total = sat_add(total, count);
		if (total > RANGE_MAX_TOTAL) {
			*col = first;
			err_set(why, "expands to more than 2^40 names");
			goto out;
		}
		hr->items = xreallocarray(hr->items, hr->nitems + 1, sizeof(*hr->items));
		hr->items[hr->nitems++] = it;
		memset(&it, 0, sizeof(it));
		if (!s[i])
			break;
		i++; /* the ',' */
	}
	hr->total = total;
	r = 0;
out:
	item_free(&it);
	return r;
}

/* *col is 0-based; callers put it in their own frame (pattern, line). */
static int hostrange_open_flags(const char *pattern, int flags, struct hostrange **out,
				size_t *col, struct err *why)
{
	int r = -1;
	struct hostrange *hr = xcalloc(1, sizeof(*hr));

	hr->pattern = xstrdup(pattern);
	if (pattern_parse(hr, flags, col, why) < 0)
		goto out;
	*out = hr;
	hr = NULL;
	r = 0;
out:
	hostrange_close(hr);
	return r;
}

int hostrange_open(const char *pattern, struct hostrange **out, struct err *err)
{
	struct err why;
	size_t col = 0;

	if (hostrange_open_flags(pattern, HR_LIST, out, &col, &why) < 0) {
		char t[200];

		err_set(err, "'%s': %s at column %zu", safe_text(pattern, t, sizeof(t)), why.msg, col + 1);
		return -1;
	}
	return 0;
}

/* The odometer: the rightmost group turns fastest, so the leftmost varies
 * slowest (rtr01.dc1, rtr01.dc2, rtr02.dc1, ...). 0 when every group has
 * wrapped around, which leaves them all back at their first number. */
static int item_advance(struct item *it)
{
	for (size_t k = it->nparts; k-- > 0;) {
		struct part *p = &it->parts[k];
		const struct span *sp;

		if (!p->spans)
			continue;
		sp = &p->spans[p->si];
		if (sp->hi - p->cur >= sp->step) {
			p->cur += sp->step;
			return 1;
		}
		if (p->si + 1 < p->nspans) {
			p->si++;
			p->cur = p->spans[p->si].lo;
			return 1;
		}
		p->si = 0;
		p->cur = p->spans[0].lo;
	}
	return 0;
}

static void num_put(struct buf *b, uint64_t v, int width)
{
	char tmp[24];
	int n = 0;

	do {
		tmp[n++] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	for (int k = n; k < width; k++)
		buf_putc(b, '0');
	while (n > 0)
		buf_putc(b, tmp[--n]);
}

static const char *item_name(struct hostrange *r, const struct item *it)
{
	buf_reset(&r->name);
	for (size_t k = 0; k < it->nparts; k++) {
		const struct part *p = &it->parts[k];
		if (p->spans)
			num_put(&r->name, p->cur, p->spans[p->si].width);
		else
			buf_append(&r->name, r->pattern + p->off, p->len);
	}
	return r->name.data;
}

int hostrange_next(struct hostrange *r, const char **name)
{
	/* Each turn gives a name or moves to the next item: bounded by the
	 * number of items, since no item is empty. */
	while (r->ii < r->nitems) {
		struct item *it = &r->items[r->ii];

		if (!r->started) {
			r->started = 1;
			*name = item_name(r, it);
			return 1;
		}
		if (item_advance(it)) {
			*name = item_name(r, it);
			return 1;
		}
		r->ii++;
		r->started = 0;
	}
	return 0;
}

void hostrange_close(struct hostrange *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->nitems; i++)
		item_free(&r->items[i]);
	free(r->items);
	free(r->pattern);
	buf_free(&r->name);
	free(r);
}

/* ------------------------------------------------------------------ */
/* -l                                                                  */

static int glob_matches(const char *glob, const struct host *h)
{
	/* Ansible's habit: 'all' is every host, grouped or not. */
	if (strcmp(glob, "all") == 0)
		return 1;
	if (fnmatch(glob, h->name, 0) == 0)
		return 1;
	for (size_t i = 0; i < h->ngroups; i++)
		if (fnmatch(glob, h->groups[i], 0) == 0)
			return 1;
	return 0;
}

int limit_match(const char *limit, const struct host *h)
{
	char *copy, *save = NULL;
	int any_include = 0, included = 0, excluded = 0;

	if (!limit || !*limit)
		return 1;
	/* fnmatch wants each glob NUL-terminated. */
	copy = xstrdup(limit);
	for (char *g = strtok_r(copy, ",:", &save); g; g = strtok_r(NULL, ",:", &save)) {
		if (g[0] == '!') {
			if (g[1] && glob_matches(g + 1, h))
				excluded = 1;
		} else {
			any_include = 1;
			if (!included && glob_matches(g, h))
				included = 1;
		}
	}
	free(copy);
	return (included || !any_include) && !excluded;
}

/* Empty globs ('a,,b', 'a:', '!') are typos that would silently match
 * nothing or everything. */
static int limit_check(const char *limit, struct err *err)
{
	size_t i = 0, start;

	if (!limit || !*limit)
		return 0;
	for (;;) {
		start = i;
		if (limit[i] == '!')
			i++;
		while (limit[i] && limit[i] != ',' && limit[i] != ':')
			i++;
		if (i == start || (limit[start] == '!' && i == start + 1)) {
			err_set(err, "-l '%s': empty pattern at column %zu (expected a name or group glob)",
				limit, start + 1);
			return -1;
		}
		if (!limit[i])
			return 0;
		i++;
	}
}

/* ------------------------------------------------------------------ */
/* Plain text inventory: '[user@]host[:port] [key=value ...]'          */

struct textsrc {
	FILE *fp;                /* owned */
	char *line;              /* getline's buffer, malloced, owned */
	size_t cap;
	size_t lineno;
	struct hostrange *range; /* the current line's names, or NULL */
	struct kvlist vars;      /* the current line's vars, for each of them */
};

/* Everything the parser of one line needs to name a fault. */
struct lineloc {
	const char *path;
	size_t lineno;
	const char *line;
};

static void line_err(struct err *err, const struct lineloc *loc, const char *at, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void line_err(struct err *err, const struct lineloc *loc, const char *at, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg_scrub(msg);
	err_set(err, "%s:%zu:%zu: %s", loc->path, loc->lineno, (size_t)(at - loc->line) + 1, msg);
}

static int is_space(char c)
{
	return c == ' ' || c == '\t';
}


/* The host field of a line, s[0..n). Sets *name (malloced) and adds user
 * and port to vars, the caller's scratch list for this line (dropped on
 * error); *is_range when the name holds a bracket range. */
static int host_field_parse(const struct lineloc *loc, const char *s, size_t n,
			    char **name, int *is_range, struct kvlist *vars, struct err *err)
{
	int r = -1;
	const char *at = memrchr(s, '@', n), *h = s, *end = s + n, *port = NULL;
	const char *hend;
	char *nm = NULL, *portstr = NULL;
	struct err why;
	int range = 0;

	if (at) {
		if (at == s) {
			line_err(err, loc, s, "empty user before '@' (expected user@host)");
			goto out;
		}
		kvlist_setn(vars, "user", 4, s, (size_t)(at - s));
		h = at + 1;
	}
	hend = end;

	/* IPv6 or a range: '[::1]:22' holds a ':', 'rtr[1-3]' does not. */
	const char *close = memchr(h, ']', (size_t)(end - h));
	size_t ncolons = 0;
	for (const char *p = h; p < end; p++)
		ncolons += *p == ':';

	if (h < end && *h == '[' && close && memchr(h, ':', (size_t)(close - h))) {
		if (!ipv6_ok(h + 1, (size_t)(close - h - 1))) {
			line_err(err, loc, h + 1, "bad IPv6 address '%.*s' (expected [ADDRESS] or [ADDRESS]:PORT)",
				 (int)(close - h - 1), h + 1);
			goto out;
		}
		if (close + 1 < end && close[1] != ':') {
			line_err(err, loc, close + 1, "unexpected '%c' after ']' (expected :PORT or a space)", close[1]);
			goto out;
		}
		if (close + 1 < end)
			port = close + 2;
		nm = xstrndup(h + 1, (size_t)(close - h - 1));
	} else if (ncolons >= 2 && !memchr(h, '[', (size_t)(end - h))) {
		/* A bare IPv6 address has no room for a port: write [::1]:22. */
		if (!ipv6_ok(h, (size_t)(end - h))) {
			line_err(err, loc, h, "bad IPv6 address '%.*s' (expected host:port, [ADDRESS]:PORT or a bare IPv6 address)",
				 (int)(end - h), h);
			goto out;
		}
		nm = xstrndup(h, (size_t)(end - h));
	} else {
		const char *colon = memchr(h, ':', (size_t)(end - h));

		if (colon) {
			hend = colon;
			port = colon + 1;
		}
		if (hend == h) {
			line_err(err, loc, h, "empty host name (expected [user@]host[:port])");
			goto out;
		}
		size_t bad = 0;

		if (host_name_check(h, (size_t)(hend - h), HOST_NAME_RANGES, &bad, &why) < 0) {
			line_err(err, loc, h + bad, "%s", why.msg);
			goto out;
		}
		range = memchr(h, '[', (size_t)(hend - h)) != NULL;
		nm = xstrndup(h, (size_t)(hend - h));
		if (range) {
			/* Check the range now, to report it at its column. */
			struct hostrange *hr = NULL;
			size_t col = 0;

			if (hostrange_open_flags(nm, HR_LIST, &hr, &col, &why) < 0) {
				line_err(err, loc, h + col, "%s", why.msg);
				goto out;
			}
			hostrange_close(hr);
		}
	}

	if (port) {
		portstr = xstrndup(port, (size_t)(end - port));
		if (var_check("port", portstr, &why) < 0) {
			line_err(err, loc, port, "%s", why.msg);
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
static int var_parse(const struct lineloc *loc, const char **pp, struct kvlist *vars, struct err *err)
{
	int r = -1;
	const char *p = *pp, *key = p, *val;
	struct buf v = BUF_INIT;
	char *k = NULL;
	struct err why;

	if (!isalpha((unsigned char)*p) && *p != '_') {
		line_err(err, loc, p, "unexpected '%c' (expected key=value, with a key of letters, digits and '_')", *p);
		goto out;
	}
	while (isalnum((unsigned char)*p) || *p == '_')
		p++;
	if (!*p) {
		line_err(err, loc, p, "end of line after '%.*s' (expected key=value)", (int)(p - key), key);
		goto out;
	}
	if (*p != '=') {
		line_err(err, loc, p, "unexpected '%c' after '%.*s' (expected key=value)",
			 *p, (int)(p - key), key);
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
			line_err(err, loc, val, "unterminated quoted value (expected a closing '\"')");
			goto out;
		}
		p++;
		if (*p && !is_space(*p)) {
			line_err(err, loc, p, "unexpected '%c' after quoted value (expected a space)", *p);
			goto out;
		}
	} else {
		while (*p && !is_space(*p))
			p++;
		buf_append(&v, val, (size_t)(p - val));
	}
	/* data is never NULL below and always a string, even for key= and
	 * key="": buf_reserve alone would leave a fresh buffer without its
	 * NUL (found by tests/fuzz/fuzz_inventory: key="" read heap garbage). */
	buf_append(&v, "", 0);
	if (var_check(var_name(k), v.data, &why) < 0) {
		line_err(err, loc, val, "%s", why.msg);
		goto out;
	}
	kvlist_set(vars, var_name(k), v.data);
	*pp = p;
	r = 0;
out:
	free(k);
	buf_free(&v);
	return r;
}

/* One line, NUL-terminated without its newline. 1: *name and vars are a
 * host line; 0: blank or comment; -1: err. */
static int text_line_parse(const struct lineloc *loc, char **name, int *is_range,
			   struct kvlist *vars, struct err *err)
{
	int r = -1;
	const char *p = loc->line, *field;
	struct kvlist v = KVLIST_INIT;
	char *nm = NULL;
	int range = 0;

	while (is_space(*p))
		p++;
	if (!*p || *p == '#') {
		r = 0;
		goto out;
	}
	field = p;
	while (*p && !is_space(*p))
		p++;
	if (host_field_parse(loc, field, (size_t)(p - field), &nm, &range, &v, err) < 0)
		goto out;
	/* Each turn consumes a var or ends the line. */
	for (;;) {
		while (is_space(*p))
			p++;
		if (!*p || *p == '#')
			break;
		if (var_parse(loc, &p, &v, err) < 0)
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

/* 1: *h; 0: end of file; -1: err (the bad line is skipped, so the next
 * call goes on with the line after it). */
static int text_next(struct textsrc *ts, const char *path, struct host *h, struct err *err)
{
	const char *nm;

	/* Each turn reads one line. */
	for (;;) {
		struct lineloc loc;
		char *name = NULL;
		int is_range = 0, k;
		ssize_t n;

		if (ts->range) {
			if (hostrange_next(ts->range, &nm) == 1) {
				memset(h, 0, sizeof(*h));
				h->name = xstrdup(nm);
				kvlist_copy(&h->vars, &ts->vars);
				return 1;
			}
			hostrange_close(ts->range);
			ts->range = NULL;
		}

		errno = 0;
		n = getline(&ts->line, &ts->cap, ts->fp);
		if (n < 0) {
			if (ferror(ts->fp)) {
				err_set(err, "%s: read error: %s", path, strerror(errno ? errno : EIO));
				return -1;
			}
			return 0;
		}
		ts->lineno++;
		while (n > 0 && (ts->line[n - 1] == '\n' || ts->line[n - 1] == '\r'))
			ts->line[--n] = '\0';
		loc = (struct lineloc){path, ts->lineno, ts->line};
		if (strlen(ts->line) != (size_t)n) {
			line_err(err, &loc, ts->line + strlen(ts->line), "NUL byte (expected a text file)");
			return -1;
		}
		/* A UTF-8 byte order mark, as some Windows editors write. */
		if (ts->lineno == 1 && strncmp(ts->line, "\xef\xbb\xbf", 3) == 0)
			memset(ts->line, ' ', 3);

		k = text_line_parse(&loc, &name, &is_range, &ts->vars, err);
		if (k < 0)
			return -1;
		if (k == 0)
			continue;
		if (is_range) {
			struct err why;
			size_t col;

			/* Checked by text_line_parse already. */
			if (hostrange_open_flags(name, HR_LIST, &ts->range, &col, &why) < 0) {
				line_err(err, &loc, ts->line, "%s", why.msg);
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

static void textsrc_free(struct textsrc *ts)
{
	if (ts->fp)
		fclose(ts->fp);
	free(ts->line);
	hostrange_close(ts->range);
	kvlist_free(&ts->vars);
	memset(ts, 0, sizeof(*ts));
}

/* ------------------------------------------------------------------ */
/* YAML inventory, in the shape of Ansible's:                          */
/*   all: {hosts: {NAME: {VAR: VALUE} | null}, children: {GROUP: ...}, */
/*         vars: {VAR: VALUE}}                                         */

/* Name -> index, open addressing. A 100,000-host Ansible inventory is not
 * rare, and a linear search per host would be quadratic. */
struct strmap_slot {
	const char *key;     /* borrowed from the group or host it names */
	size_t val;
};

struct strmap {
	struct strmap_slot *slots; /* NULL or malloced, owned */
	size_t cap, len;           /* cap: 0 or a power of two */
};

static size_t *strmap_get(const struct strmap *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash_fnv1a_str(key) & (m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return NULL;
		if (strcmp(m->slots[i].key, key) == 0)
			return &m->slots[i].val;
	}
}

static void strmap_put(struct strmap *m, const char *key, size_t val)
{
	if ((m->len + 1) * 2 > m->cap) {
		struct strmap old = *m;

		m->cap = m->cap ? m->cap * 2 : 64;
		m->slots = xcalloc(m->cap, sizeof(*m->slots));
		m->len = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].key)
				strmap_put(m, old.slots[i].key, old.slots[i].val);
		free(old.slots);
	}
	size_t i = hash_fnv1a_str(key) & (m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct strmap_slot){key, val};
	m->len++;
}

struct ygroup {
	char *name;          /* malloced, owned */
	struct kvlist vars;
	size_t *parents;     /* malloced indices into yinv.groups, owned */
	size_t nparents;
	size_t *nodes;       /* malloced ids of the YAML nodes loaded into it,
	                        owned: an alias may repeat a node, and walking it
	                        again would add nothing but time (exponential,
	                        for a hostile file) */
	size_t nnodes;
	yaml_mark_t mark;    /* where it first appears, for errors */
	int depth;           /* all: 0, its children: 1, theirs: 2, ... */
	int state;           /* group_rank: 0 new, 1 on the path, 2 done */
	unsigned stamp;      /* yinv_emit: collected for the current host */
};

struct yhost {
	char *name;          /* malloced, owned */
	struct kvlist vars;  /* its own vars, from every listing of it */
	size_t *groups;      /* malloced indices of the groups listing it, owned */
	size_t ngroups;
};

struct yinv {
	struct ygroup *groups; /* malloced, owned */
	size_t ngroups;
	struct yhost *hosts;   /* malloced, owned, in order of first listing */
	size_t nhosts, hosts_cap;
	struct strmap gmap, hmap;
	size_t next;           /* the next host to give out */
	unsigned stamp;
	uint64_t listings;     /* hosts listed so far, counted per group */
};

static void yinv_free(struct yinv *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->ngroups; i++) {
		free(y->groups[i].name);
		kvlist_free(&y->groups[i].vars);
		free(y->groups[i].parents);
		free(y->groups[i].nodes);
	}
	for (size_t i = 0; i < y->nhosts; i++) {
		free(y->hosts[i].name);
		kvlist_free(&y->hosts[i].vars);
		free(y->hosts[i].groups);
	}
	free(y->groups);
	free(y->hosts);
	free(y->gmap.slots);
	free(y->hmap.slots);
	free(y);
}

/* 1 when v was added, 0 when it was there already. */
static int idx_add_unique(size_t **arr, size_t *n, size_t v)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i] == v)
			return 0;
	*arr = xreallocarray(*arr, *n + 1, sizeof(**arr));
	(*arr)[(*n)++] = v;
	return 1;
}

struct yload {
	const char *path;
	yaml_document_t *doc;
	struct yinv *y;
	struct err *err;
};

static void yaml_err(struct yload *L, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void yaml_err(struct yload *L, yaml_mark_t m, const char *fmt, ...)
{
	char msg[768];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	msg_scrub(msg);
	err_set(L->err, "%s:%zu:%zu: %s", L->path, m.line + 1, m.column + 1, msg);
}

static const char *node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* libyaml does not resolve tags: a plain '', '~' or 'null' is YAML's null. */
static int node_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static yaml_node_t *node(struct yload *L, int id)
{
	return yaml_document_get_node(L->doc, id);
}

/* A mapping key must be a non-empty scalar; its text, or NULL and err. */
static const char *key_text(struct yload *L, const yaml_node_t *k, const char *what)
{
	if (k->type != YAML_SCALAR_NODE || !k->data.scalar.length) {
		yaml_err(L, k->start_mark, "expected %s (got %s)", what,
			 k->type == YAML_SCALAR_NODE ? "an empty key" : node_kind(k));
		return NULL;
	}
	return (const char *)k->data.scalar.value;
}

/* Vars of a group or a host: a mapping of scalars, or null. Values that
 * are lists or mappings are skipped: host vars are strings for templates,
 * and an Ansible inventory may well hold such vars for its playbooks. */
static int vars_load(struct yload *L, const yaml_node_t *n, struct kvlist *dst, const char *owner)
{
	struct err why;

	if (node_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		yaml_err(L, n->start_mark, "vars of %s: expected a mapping of name: value (got %s)",
			 owner, node_kind(n));
		return -1;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
		const char *key = key_text(L, k, "a var name");
		const char *val;

		if (!key)
			return -1;
		if (v->type != YAML_SCALAR_NODE)
			continue;
		val = node_null(v) ? "" : (const char *)v->data.scalar.value;
		if (var_check(var_name(key), val, &why) < 0) {
			yaml_err(L, v->start_mark, "%s", why.msg);
			return -1;
		}
		kvlist_set(dst, var_name(key), val);
	}
	return 0;
}

static size_t group_get(struct yload *L, const char *name, yaml_mark_t mark)
{
	struct yinv *y = L->y;
	size_t *found = strmap_get(&y->gmap, name);
	struct ygroup *g;

	if (found)
		return *found;
	y->groups = xreallocarray(y->groups, y->ngroups + 1, sizeof(*y->groups));
	g = &y->groups[y->ngroups];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->mark = mark;
	strmap_put(&y->gmap, g->name, y->ngroups);
	return y->ngroups++;
}

static void host_add(struct yload *L, const char *name, size_t group, const struct kvlist *vars)
{
	struct yinv *y = L->y;
	size_t *found = strmap_get(&y->hmap, name);
	struct yhost *h;

	if (found) {
		h = &y->hosts[*found];
	} else {
		/* Doubling: a range adds up to YAML_MAX_HOSTS hosts, and a
		 * realloc per host copies them all each time where realloc
		 * cannot grow in place (ASan never does: 1M hosts took hours). */
		if (y->nhosts == y->hosts_cap) {
			y->hosts_cap = y->hosts_cap ? y->hosts_cap * 2 : 64;
			y->hosts = xreallocarray(y->hosts, y->hosts_cap, sizeof(*y->hosts));
		}
		h = &y->hosts[y->nhosts];
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		strmap_put(&y->hmap, h->name, y->nhosts++);
	}
	idx_add_unique(&h->groups, &h->ngroups, group);
	kvlist_copy(&h->vars, vars);
}

/* '[::1]' is an address, 'www[01:50]' a range of names. */
static int yaml_name_is_range(const char *s)
{
	size_t n = strlen(s);

	if (!strchr(s, '['))
		return 0;
	return !(s[0] == '[' && s[n - 1] == ']' && ipv6_ok(s + 1, n - 2));
}

/* Counts the host listings (a host under N groups, or a range under N
 * groups, counts N times): the work of loading grows with them, not with
 * the distinct hosts. 0, or -1 past YAML_MAX_LISTINGS. */
static int listings_add(struct yload *L, const yaml_node_t *k, const char *name, const char *gname, uint64_t n)
{
	struct yinv *y = L->y;
	char g[80];

	if (n > YAML_MAX_LISTINGS || y->listings > YAML_MAX_LISTINGS - n) {
		yaml_err(L, k->start_mark, "host '%s' in group '%s': more than %d host listings in one YAML "
			 "inventory (a host or range under N groups counts N times; expected fewer groups or "
			 "smaller ranges)", name, safe_text(gname, g, sizeof(g)), YAML_MAX_LISTINGS);
		return -1;
	}
	y->listings += n;
	return 0;
}

static int hosts_load(struct yload *L, const yaml_node_t *n, size_t group)
{
	int r = -1;
	struct kvlist vars = KVLIST_INIT;
	struct hostrange *hr = NULL;
	const char *gname = L->y->groups[group].name;

	if (node_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		yaml_err(L, n->start_mark, "hosts of group '%s': expected a mapping of host names (got %s)",
			 gname, node_kind(n));
		goto out;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = node(L, pr->key), *v = node(L, pr->value);
		const char *name = key_text(L, k, "a host name"), *one;
		char owner[300];

		struct err why;
		size_t col = 0;
		yaml_mark_t m;
		char t[80];

		if (!name)
			goto out;
		m = k->start_mark;
		/* The column is exact for a plain key, one off for a quoted
		 * one (and approximate past an escape in a quoted one). */
		m.column += k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
		safe_text(name, t, sizeof(t));
		if (host_name_check(name, k->data.scalar.length, yaml_name_is_range(name) ? HOST_NAME_RANGES : 0,
				    &col, &why) < 0) {
			m.column += col;
			yaml_err(L, m, "host '%s': %s", t, why.msg);
			goto out;
		}
		snprintf(owner, sizeof(owner), "host '%s'", t);
		kvlist_free(&vars);
		if (!node_null(v) && v->type != YAML_MAPPING_NODE) {
			yaml_err(L, v->start_mark, "host '%s': expected a mapping of vars or nothing (got %s)",
				 t, node_kind(v));
			goto out;
		}
		if (vars_load(L, v, &vars, owner) < 0)
			goto out;
		if (!yaml_name_is_range(name)) {
			if (listings_add(L, k, t, gname, 1) < 0)
				goto out;
			host_add(L, name, group, &vars);
			continue;
		}
		if (hostrange_open_flags(name, HR_NAME, &hr, &col, &why) < 0) {
			m.column += col;
			yaml_err(L, m, "host '%s': %s", t, why.msg);
			goto out;
		}
		/* The counts come first, so that a huge range, or a range
		 * repeated under many groups (aliases make that one line
		 * each), fails before any of it expands. */
		if (hr->total <= YAML_MAX_HOSTS && listings_add(L, k, t, gname, hr->total) < 0)
			goto out;
		/* Each turn adds a name; the range and the hosts so far are
		 * both bounded. */
		while (hr->total <= YAML_MAX_HOSTS && L->y->nhosts <= YAML_MAX_HOSTS && hostrange_next(hr, &one) == 1)
			host_add(L, one, group, &vars);
		if (hr->total > YAML_MAX_HOSTS || L->y->nhosts > YAML_MAX_HOSTS) {
			yaml_err(L, k->start_mark, "host '%s': more than %d hosts in one YAML inventory (expected a "
				 "smaller range; -H and text inventories take any number)", t, YAML_MAX_HOSTS);
			goto out;
		}
		hostrange_close(hr);
		hr = NULL;
	}
	r = 0;
out:
	hostrange_close(hr);
	kvlist_free(&vars);
	return r;
}

/* One group, 'NAME: {hosts:, children:, vars:}' or 'NAME:' alone, under
 * parent (SIZE_MAX at the top level). */
static int group_load(struct yload *L, const yaml_node_t *k, const yaml_node_t *v, size_t parent, int level)
{
	const char *name = key_text(L, k, "a group name");
	size_t g;

	if (!name)
		return -1;
	if (level > YAML_MAX_DEPTH) {
		yaml_err(L, k->start_mark, "groups nested deeper than %d", YAML_MAX_DEPTH);
		return -1;
	}
	g = group_get(L, name, k->start_mark);
	if (parent != SIZE_MAX)
		idx_add_unique(&L->y->groups[g].parents, &L->y->groups[g].nparents, parent);
	if (node_null(v))
		return 0;
	if (!idx_add_unique(&L->y->groups[g].nodes, &L->y->groups[g].nnodes,
			    (size_t)(v - L->doc->nodes.start)))
		return 0;
	if (v->type != YAML_MAPPING_NODE) {
		yaml_err(L, v->start_mark, "group '%s': expected a mapping with hosts, children or vars (got %s)",
			 name, node_kind(v));
		return -1;
	}
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *kk = node(L, pr->key), *vv = node(L, pr->value);
		const char *key = key_text(L, kk, "hosts, children or vars");
		char owner[300];

		if (!key)
			return -1;
		if (strcmp(key, "hosts") == 0) {
			if (hosts_load(L, vv, g) < 0)
				return -1;
		} else if (strcmp(key, "vars") == 0) {
			snprintf(owner, sizeof(owner), "group '%.200s'", name);
			if (vars_load(L, vv, &L->y->groups[g].vars, owner) < 0)
				return -1;
		} else if (strcmp(key, "children") == 0) {
			if (node_null(vv))
				continue;
			if (vv->type != YAML_MAPPING_NODE) {
				yaml_err(L, vv->start_mark, "children of group '%s': expected a mapping of group names (got %s)",
					 name, node_kind(vv));
				return -1;
			}
			for (yaml_node_pair_t *c = vv->data.mapping.pairs.start; c < vv->data.mapping.pairs.top; c++)
				if (group_load(L, node(L, c->key), node(L, c->value), g, level + 1) < 0)
					return -1;
		} else {
			yaml_err(L, kk->start_mark, "unknown key '%s' in group '%s' (expected hosts, children or vars)",
				 key, name);
			return -1;
		}
	}
	return 0;
}

/* Depth decides var precedence: a group's vars override its parents'.
 * Groups other than 'all' at the top level are children of 'all', as in
 * Ansible. A cycle (a child of its own child) is an error. */
static int group_rank(struct yload *L, size_t gi, int level)
{
	struct ygroup *g = &L->y->groups[gi];
	int depth = strcmp(g->name, "all") == 0 ? 0 : 1;

	if (g->state == 2)
		return 0;
	if (g->state == 1) {
		yaml_err(L, g->mark, "group '%s' is its own ancestor (expected no cycle through children)", g->name);
		return -1;
	}
	if (level > YAML_MAX_DEPTH) {
		yaml_err(L, g->mark, "groups nested deeper than %d", YAML_MAX_DEPTH);
		return -1;
	}
	g->state = 1;
	for (size_t i = 0; i < g->nparents; i++) {
		size_t p = g->parents[i];
		if (group_rank(L, p, level + 1) < 0)
			return -1;
		if (L->y->groups[p].depth + 1 > depth)
			depth = L->y->groups[p].depth + 1;
	}
	g->depth = depth;
	g->state = 2;
	return 0;
}

/* The whole file: the depth check and the load both read it. 0 or -1. */
static int file_slurp(const char *path, FILE *fp, struct buf *b, struct err *err)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(b, chunk, n);
	if (ferror(fp)) {
		err_set(err, "%s: read error: %s", path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

static int yaml_load(const char *path, FILE *fp, struct yinv **out, struct err *err)
{
	int r = -1;
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_doc = 0;
	struct yinv *y = xcalloc(1, sizeof(*y));
	struct yload L = {path, &doc, y, err};
	yaml_node_t *root;
	yaml_mark_t deep;
	struct buf text = BUF_INIT;

	if (!yaml_parser_initialize(&parser))
		abort(); /* only fails on ENOMEM, like xmalloc */
	if (file_slurp(path, fp, &text, err) < 0)
		goto out;
	/* An inventory is data, maybe generated by someone else's tool: a
	 * nesting bound before libyaml builds the tree (see yamldepth.h). */
	if (yamldepth_exceeded(text.data ? text.data : "", text.len, YAMLDEPTH_MAX, &deep)) {
		yaml_err(&L, deep, "YAML nested more than %d levels deep (expected groups with hosts, "
			 "children and vars)", YAMLDEPTH_MAX);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text.data ? text.data : ""), text.len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_mark_t m = parser.error == YAML_READER_ERROR ? parser.mark : parser.problem_mark;
		err_set(err, "%s:%zu:%zu: YAML syntax error: %s%s%s%s", path, m.line + 1, m.column + 1,
			parser.problem ? parser.problem : "unknown error",
			parser.context ? " (" : "", parser.context ? parser.context : "",
			parser.context ? ")" : "");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root && !node_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			yaml_err(&L, root->start_mark, "expected a mapping of groups, such as 'all:' (got %s)",
				 node_kind(root));
			goto out;
		}
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++)
			if (group_load(&L, node(&L, pr->key), node(&L, pr->value), SIZE_MAX, 0) < 0)
				goto out;
	}
	for (size_t i = 0; i < y->ngroups; i++)
		if (group_rank(&L, i, 0) < 0)
			goto out;
	*out = y;
	y = NULL;
	r = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	buf_free(&text);
	yinv_free(y);
	return r;
}

static void ancestors_collect(struct yinv *y, size_t gi, size_t **list, size_t *n)
{
	struct ygroup *g = &y->groups[gi];

	if (g->stamp == y->stamp)
		return;
	g->stamp = y->stamp;
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = gi;
	for (size_t i = 0; i < g->nparents; i++)
		ancestors_collect(y, g->parents[i], list, n);
}

/* Outermost first; groups of one depth by name, as Ansible merges them. */
static int group_order(const void *a, const void *b, void *arg)
{
	const struct yinv *y = arg;
	const struct ygroup *ga = &y->groups[*(const size_t *)a], *gb = &y->groups[*(const size_t *)b];

	if (ga->depth != gb->depth)
		return ga->depth < gb->depth ? -1 : 1;
	return strcmp(ga->name, gb->name);
}

/* 1 and *h, or 0 when every host has been given out. The vars are merged
 * here rather than at load time, so that only one host's copy exists. */
static int yinv_next(struct yinv *y, struct host *h)
{
	const struct yhost *yh;
	size_t *list = NULL, n = 0;

	if (y->next >= y->nhosts)
		return 0;
	yh = &y->hosts[y->next++];
	y->stamp++;
	for (size_t i = 0; i < yh->ngroups; i++)
		ancestors_collect(y, yh->groups[i], &list, &n);
	if (n > 1)
		qsort_r(list, n, sizeof(*list), group_order, y);

	memset(h, 0, sizeof(*h));
	h->name = xstrdup(yh->name);
	h->groups = n ? xreallocarray(NULL, n, sizeof(*h->groups)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct ygroup *g = &y->groups[list[i]];
		kvlist_copy(&h->vars, &g->vars);
		/* Every host is in 'all'; limit_match knows that already. */
		if (strcmp(g->name, "all") != 0)
			h->groups[h->ngroups++] = xstrdup(g->name);
	}
	kvlist_copy(&h->vars, &yh->vars);
	free(list);
	return 1;
}

/* ------------------------------------------------------------------ */
/* targets                                                             */

enum src_kind { SRC_TEXT, SRC_YAML, SRC_PATTERN };

struct source {
	enum src_kind kind;
	char *name;               /* the path or pattern, malloced, owned */
	struct textsrc text;      /* SRC_TEXT */
	struct yinv *yaml;        /* SRC_YAML, owned */
	struct hostrange *range;  /* SRC_PATTERN, owned */
};

struct targets {
	struct source *srcs;      /* malloced, owned: -i files, then -H patterns */
	size_t nsrcs;
	size_t cur;               /* the source being read */
	char *limit;              /* NULL or malloced, owned */
};

static int is_yaml_path(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcasecmp(path + n - 4, ".yml") == 0) ||
	       (n > 5 && strcasecmp(path + n - 5, ".yaml") == 0);
}

/* Opens every file now, so that a missing one stops the run before any
 * host is touched; a YAML inventory is also read now, for the same
 * reason (text inventories are read as the run goes). */
static int source_open_file(struct source *src, const char *path, struct err *err)
{
	int r = -1;
	FILE *fp = fopen(path, "re");
	struct stat st;

	src->name = xstrdup(path);
	if (!fp) {
		err_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, "%s: cannot open: %s", path, strerror(EISDIR));
		goto out;
	}
	if (is_yaml_path(path)) {
		src->kind = SRC_YAML;
		if (yaml_load(path, fp, &src->yaml, err) < 0)
			goto out;
	} else {
		src->kind = SRC_TEXT;
		src->text.fp = fp;
		fp = NULL;
	}
	r = 0;
out:
	if (fp)
		fclose(fp);
	return r;
}

void targets_close(struct targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsrcs; i++) {
		struct source *s = &t->srcs[i];
		free(s->name);
		textsrc_free(&s->text);
		yinv_free(s->yaml);
		hostrange_close(s->range);
	}
	free(t->srcs);
	free(t->limit);
	free(t);
}

int targets_open(const struct targets_opts *o, struct targets **out, struct err *err)
{
	int r = -1;
	struct targets *t = xcalloc(1, sizeof(*t));

	if (limit_check(o->limit, err) < 0)
		goto out;
	t->limit = o->limit && *o->limit ? xstrdup(o->limit) : NULL;
	t->srcs = xcalloc(o->ninventories + o->npatterns, sizeof(*t->srcs));
	/* Patterns first: they are cheap to check and their errors do not
	 * depend on any file. */
	for (size_t i = 0; i < o->npatterns; i++) {
		struct source *s = &t->srcs[o->ninventories + i];
		struct err why;
		size_t col = 0;

		s->kind = SRC_PATTERN;
		s->name = xstrdup(o->patterns[i]);
		if (hostrange_open_flags(o->patterns[i], HR_LIST, &s->range, &col, &why) < 0) {
			char pt[200];

			err_set(err, "-H '%s': %s at column %zu", safe_text(o->patterns[i], pt, sizeof(pt)), why.msg,
				col + 1);
			t->nsrcs = o->ninventories + o->npatterns;
			goto out;
		}
	}
	t->nsrcs = o->ninventories + o->npatterns;
	for (size_t i = 0; i < o->ninventories; i++)
		if (source_open_file(&t->srcs[i], o->inventories[i], err) < 0)
			goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	targets_close(t);
	return r;
}

static int source_next(struct source *s, struct host *h, struct err *err)
{
	const char *name;

	switch (s->kind) {
	case SRC_TEXT:
		return text_next(&s->text, s->name, h, err);
	case SRC_YAML:
		return yinv_next(s->yaml, h);
	case SRC_PATTERN:
		if (hostrange_next(s->range, &name) != 1)
			return 0;
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		return 1;
	}
	return 0;
}

int targets_next(struct targets *t, struct host *h, struct err *err)
{
	/* Each turn takes one host from a source, or moves past an empty
	 * source. */
	while (t->cur < t->nsrcs) {
		struct host cand;
		int k = source_next(&t->srcs[t->cur], &cand, err);

		if (k < 0)
			return -1;
		if (k == 0) {
			t->cur++;
			continue;
		}
		if (limit_match(t->limit, &cand)) {
			*h = cand;
			return 1;
		}
		host_free(&cand);
	}
	return 0;
}
