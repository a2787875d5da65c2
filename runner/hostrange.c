/* hostrange: the host range notation, expanded lazily (-H, text and YAML
 * inventories) and folded (--gather). One file, because the two are
 * inverses of one notation: a change to what a group may hold is made to
 * both at once, and the unit tests check expand(fold(x)) == x. */
#include "hostrange.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"

/* A pattern may expand to more names than anyone will run against (a run
 * of 10^7 hosts is fine: names are produced lazily), but a total past 2^40
 * is a typo, such as a missing '-' between two numbers. */
#define HOSTRANGE_MAX_TOTAL ((uint64_t)1 << 40)

/* ------------------------------------------------------------------ */
/* Expanding: 'rtr[01-40].dc[1-2],fw1'                                 */

struct hostrange_span {    /* one number or range inside [ ] */
	uint64_t lo, hi, step;
	int width;                /* zero padding, or 0 for none */
};

struct hostrange_part {    /* literal text, or one bracket group */
	size_t off, len;          /* literal text in hostrange.pattern */
	struct hostrange_span *spans; /* NULL for literal text; else malloced, owned */
	size_t nspans;
	size_t si;                /* odometer: the span cur is in */
	uint64_t cur;             /* odometer: this group's current number */
};

struct hostrange_item {
	struct hostrange_part *parts; /* malloced, owned */
	size_t nparts;
};

struct hostrange {
	char *pattern;            /* malloced copy, owned; parts point into it */
	struct hostrange_item *items; /* malloced, owned */
	size_t nitems;
	size_t ii;                /* the item being expanded */
	int started;              /* items[ii] has given its first name */
	struct buf name;          /* the last name given out */
	uint64_t total;           /* names it expands to, saturated past 2^40 */
};

static uint64_t hostrange_sat_add(uint64_t a, uint64_t b)
{
	uint64_t cap = HOSTRANGE_MAX_TOTAL + 1;
	return a >= cap || b >= cap || a + b >= cap ? cap : a + b;
}

static uint64_t hostrange_sat_mul(uint64_t a, uint64_t b)
{
	uint64_t cap = HOSTRANGE_MAX_TOTAL + 1;
	if (a == 0 || b == 0)
		return 0;
	return a >= cap || b >= cap || b > cap / a ? cap : a * b;
}

/* Digits at s[*i]; 1 and the number, 0 when there are none, -1 when too
 * many. */
static int hostrange_num_parse(const char *s, size_t *i, uint64_t *v, size_t *ndigits)
{
	size_t j = *i;
	uint64_t n = 0;

	while (isdigit((unsigned char)s[j])) {
		if (j - *i == HOSTRANGE_MAX_DIGITS)
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

static void hostrange_part_add(struct hostrange_item *it, struct hostrange_part p)
{
	it->parts = xreallocarray(it->parts, it->nparts + 1, sizeof(*it->parts));
	it->parts[it->nparts++] = p;
}

static void hostrange_literal_add(struct hostrange_item *it, size_t off, size_t len)
{
	if (len > 0)
		hostrange_part_add(it, (struct hostrange_part){.off = off, .len = len});
}

static void hostrange_item_free(struct hostrange_item *it)
{
	for (size_t i = 0; i < it->nparts; i++)
		free(it->parts[i].spans);
	free(it->parts);
	memset(it, 0, sizeof(*it));
}

/* The bracket group whose '[' is at s[*pi]: on success *pi is past its ']',
 * *size is how many numbers it holds (saturated). On error *col is the
 * 0-based offset of the fault. */
static int hostrange_group_parse(const char *s, size_t *pi, int flags, struct hostrange_part *out,
		       uint64_t *size, size_t *col, struct err *why)
{
	int r = -1;
	size_t open = *pi, close = open + 1, j;
	struct hostrange_part p = {0};
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
		struct hostrange_span sp;
		int k;

		while (end < close && s[end] != ',')
			end++;
		if (end == start) {
			*col = start;
			err_set(why, "empty range (expected a number such as [1-9] or [01-10])");
			goto out;
		}
		k = hostrange_num_parse(s, &j, &sp.lo, &nd);
		if (k > 0) {
			sp.hi = sp.lo;
			if (s[j] == '-' || (s[j] == ':' && (flags & HOSTRANGE_NAME))) {
				char sep = s[j++];
				k = hostrange_num_parse(s, &j, &sp.hi, &nd2);
				if (k > 0 && sep == ':' && s[j] == ':') {
					j++;
					k = hostrange_num_parse(s, &j, &step, &nd2);
				}
			}
		}
		if (k < 0) {
			*col = start;
			err_set(why, "number too long in '%.*s' (expected at most %d digits)",
				(int)(end - start), s + start, HOSTRANGE_MAX_DIGITS);
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
		total = hostrange_sat_add(total, (sp.hi - sp.lo) / step + 1);
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
 * HOSTRANGE_NAME), less trailing spaces. */
static int hostrange_item_check(const char *s, size_t first, int flags, size_t *col, struct err *why)
{
	size_t end = first, c = 0;
	int depth = 0;

	while (s[end] && (s[end] != ',' || depth > 0 || (flags & HOSTRANGE_NAME))) {
		depth += s[end] == '[' ? 1 : s[end] == ']' && depth > 0 ? -1 : 0;
		end++;
	}
	while (end > first && isspace((unsigned char)s[end - 1]) && !(flags & HOSTRANGE_NAME))
		end--;
	if (end > first && hostname_check(s + first, end - first, HOSTNAME_RANGES, &c, why) < 0) {
		*col = first + c;
		return -1;
	}
	return 0;
}

/* Splits hr->pattern into items and their parts, and checks the whole
 * total. On error *col is the 0-based offset of the fault. */
static int hostrange_pattern_parse(struct hostrange *hr, int flags, size_t *col, struct err *why)
{
	int r = -1;
	const char *s = hr->pattern;
	size_t i = 0;
	uint64_t total = 0;
	struct hostrange_item it = {0};

	for (;;) {
		size_t lit, first;
		uint64_t count = 1;

		if (!(flags & HOSTRANGE_NAME))
			while (isspace((unsigned char)s[i]))
				i++;
		first = lit = i;
		if (hostrange_item_check(s, first, flags, col, why) < 0)
			goto out;
		while (s[i] && (s[i] != ',' || (flags & HOSTRANGE_NAME))) {
			if (s[i] == '[') {
				struct hostrange_part p;
				uint64_t size;

				hostrange_literal_add(&it, lit, i - lit);
				if (hostrange_group_parse(s, &i, flags, &p, &size, col, why) < 0)
					goto out;
				hostrange_part_add(&it, p);
				count = hostrange_sat_mul(count, size);
				lit = i;
			} else if (s[i] == ']') {
				*col = i;
				err_set(why, "unbalanced ']'");
				goto out;
			} else if (isspace((unsigned char)s[i]) && !(flags & HOSTRANGE_NAME)) {
				/* Spaces may follow an item ('a, b'), not split a name. */
				size_t ws = i;
				hostrange_literal_add(&it, lit, i - lit);
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
		hostrange_literal_add(&it, lit, i - lit);
		if (it.nparts == 0) {
			*col = i;
			err_set(why, "empty item (expected a host name between commas)");
			goto out;
		}

		total = hostrange_sat_add(total, count);
		if (total > HOSTRANGE_MAX_TOTAL) {
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
	hostrange_item_free(&it);
	return r;
}

/* *col is 0-based; callers put it in their own frame (pattern, line). */
int hostrange_open_flags(const char *pattern, int flags, struct hostrange **out, size_t *col,
			 struct err *why)
{
	int r = -1;
	struct hostrange *hr = xcalloc(1, sizeof(*hr));

	hr->pattern = xstrdup(pattern);
	if (hostrange_pattern_parse(hr, flags, col, why) < 0)
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

	if (hostrange_open_flags(pattern, HOSTRANGE_LIST, out, &col, &why) < 0) {
		char t[200];

		err_set(err, "'%s': %s at column %zu", hostname_quote(pattern, t, sizeof(t)), why.msg, col + 1);
		return -1;
	}
	return 0;
}

uint64_t hostrange_total(const struct hostrange *r)
{
	return r->total;
}

/* The odometer: the rightmost group turns fastest, so the leftmost varies
 * slowest (rtr01.dc1, rtr01.dc2, rtr02.dc1, ...). 0 when every group has
 * wrapped around, which leaves them all back at their first number. */
static int hostrange_item_advance(struct hostrange_item *it)
{
	for (size_t k = it->nparts; k-- > 0;) {
		struct hostrange_part *p = &it->parts[k];
		const struct hostrange_span *sp;

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

static void hostrange_num_put(struct buf *b, uint64_t v, int width)
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

static const char *hostrange_item_name(struct hostrange *r, const struct hostrange_item *it)
{
	buf_reset(&r->name);
	for (size_t k = 0; k < it->nparts; k++) {
		const struct hostrange_part *p = &it->parts[k];
		if (p->spans)
			hostrange_num_put(&r->name, p->cur, p->spans[p->si].width);
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
		struct hostrange_item *it = &r->items[r->ii];

		if (!r->started) {
			r->started = 1;
			*name = hostrange_item_name(r, it);
			return 1;
		}
		if (hostrange_item_advance(it)) {
			*name = hostrange_item_name(r, it);
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
		hostrange_item_free(&r->items[i]);
	free(r->items);
	free(r->pattern);
	buf_free(&r->name);
	free(r);
}

/* ------------------------------------------------------------------ */
/* Folding: rtr01.dc1 rtr02.dc1 rtr03.dc1 -> rtr[01-03].dc1            */

/* Digit runs looked at per name, counted from its end. */
#define HOSTRANGE_FOLD_RUNS 8

struct hostrange_fold_entry {
	const char *name;
	size_t start, len;     /* the digit run folded on; len 0: none */
	unsigned long long num;
	size_t width;          /* printed width: 0 for unpadded */
	bool padded;           /* the run has a leading zero */
};

/* The digit run k places from the end of name (k = 0: the last one).
 * false for a run longer than a group may hold: it stays as it is. */
static bool hostrange_fold_run(const char *name, int k, size_t *start, size_t *len)
{
	size_t end = strlen(name);

	for (int i = 0;; i++) {
		size_t e, b;
		while (end > 0 && (name[end - 1] < '0' || name[end - 1] > '9'))
			end--;
		if (end == 0)
			return false;
		e = end;
		while (end > 0 && name[end - 1] >= '0' && name[end - 1] <= '9')
			end--;
		b = end;
		if (i == k) {
			*start = b;
			*len = e - b;
			return e - b <= HOSTRANGE_MAX_DIGITS;
		}
	}
}

/* Order by the text around the run, then width, then number. */
static int hostrange_fold_cmp_base(const struct hostrange_fold_entry *a, const struct hostrange_fold_entry *b)
{
	int c;

	if (a->len == 0 || b->len == 0) {
		if (a->len != b->len)
			return a->len == 0 ? -1 : 1;
		return strcmp(a->name, b->name);
	}
	/* prefix, then suffix */
	c = memcmp(a->name, b->name, a->start < b->start ? a->start : b->start);
	if (c || a->start != b->start)
		return c ? c : (a->start < b->start ? -1 : 1);
	return strcmp(a->name + a->start + a->len, b->name + b->start + b->len);
}

static int hostrange_fold_cmp(const void *pa, const void *pb)
{
	const struct hostrange_fold_entry *a = pa, *b = pb;
	int c = hostrange_fold_cmp_base(a, b);

	if (c || a->len == 0)
		return c;
	if (a->width != b->width)
		return a->width < b->width ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

/* Fill e[] for run k; returns how many distinct groups that gives. */
static size_t hostrange_fold_prepare(struct hostrange_fold_entry *e, const char *const *names, size_t n, int k)
{
	size_t groups = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].name = names[i];
		if (!hostrange_fold_run(names[i], k, &e[i].start, &e[i].len)) {
			e[i].len = 0;
			continue;
		}
		e[i].num = strtoull(names[i] + e[i].start, NULL, 10);
		e[i].padded = e[i].len > 1 && names[i][e[i].start] == '0';
	}
	qsort(e, n, sizeof(*e), hostrange_fold_cmp);
	/* Widths: within one prefix/suffix, a padded run sets a fixed width,
	 * and unpadded numbers of that length belong with it (rtr01..rtr10);
	 * other unpadded numbers fold as they are (h9, h10). */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1, pad = 0;
		while (j < n && hostrange_fold_cmp_base(&e[i], &e[j]) == 0)
			j++;
		for (size_t m = i; m < j; m++)
			if (e[m].padded)
				pad = e[m].len;
		for (size_t m = i; m < j; m++)
			e[m].width = e[m].len && (e[m].padded || e[m].len == pad) ? e[m].len : 0;
		i = j;
	}
	qsort(e, n, sizeof(*e), hostrange_fold_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || e[i].len == 0 || hostrange_fold_cmp_base(&e[i - 1], &e[i]) || e[i - 1].width != e[i].width)
			groups++;
	return groups;
}

static void hostrange_fold_num(struct buf *out, unsigned long long v, size_t width)
{
	buf_printf(out, "%0*llu", (int)width, v);
}

/* The name with each digit run as '#': names of one skeleton fold along
 * the same run (rtr01.dc1 -> rtr#.dc#; sw1 -> sw#). */
static char *hostrange_fold_skeleton(const char *name)
{
	char *k = xstrdup(name), *w = k;

	for (const char *r = name; *r;) {
		if (*r >= '0' && *r <= '9') {
			*w++ = '#';
			while (*r >= '0' && *r <= '9')
				r++;
		} else {
			*w++ = *r++;
		}
	}
	*w = '\0';
	return k;
}

struct hostrange_fold_piece {
	char *text;        /* malloced: one folded group */
	const char *first; /* its first name, for the order of the output */
};

/* Fold names of one skeleton (sorted, unique) into pieces. */
static void hostrange_fold_block(const char *const *names, size_t n, struct hostrange_fold_piece **pieces, size_t *npieces)
{
	struct hostrange_fold_entry *e = xcalloc(n, sizeof(*e));
	struct buf out = BUF_INIT;
	size_t best = SIZE_MAX;
	int best_k = 0;

	for (int k = 0; k < HOSTRANGE_FOLD_RUNS; k++) {
		size_t g = hostrange_fold_prepare(e, names, n, k);
		if (g <= best) { /* ties: the leftmost run, usually the device number */
			best = g;
			best_k = k;
		}
	}
	hostrange_fold_prepare(e, names, n, best_k);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		buf_reset(&out);
		while (e[i].len && j < n && e[j].len && hostrange_fold_cmp_base(&e[i], &e[j]) == 0 && e[i].width == e[j].width)
			j++;
		if (j == i + 1) {
			buf_append(&out, e[i].name, strlen(e[i].name));
		} else {
			/* prefix[a-b,c]suffix */
			buf_append(&out, e[i].name, e[i].start);
			buf_putc(&out, '[');
			for (size_t m = i; m < j;) {
				size_t r = m;
				while (r + 1 < j && e[r + 1].num == e[r].num + 1)
					r++;
				if (m > i)
					buf_putc(&out, ',');
				hostrange_fold_num(&out, e[m].num, e[m].width);
				if (r > m) {
					buf_putc(&out, '-');
					hostrange_fold_num(&out, e[r].num, e[r].width);
				}
				m = r + 1;
			}
			buf_putc(&out, ']');
			buf_puts(&out, e[i].name + e[i].start + e[i].len);
		}
		*pieces = xreallocarray(*pieces, *npieces + 1, sizeof(**pieces));
		(*pieces)[*npieces].text = out.data ? buf_steal(&out) : xstrdup("");
		(*pieces)[(*npieces)++].first = e[i].name;
		i = j;
	}
	buf_free(&out);
	free(e);
}

struct hostrange_fold_named {
	const char *name;
	char *skel;
};

static int hostrange_fold_cmp_skel(const void *pa, const void *pb)
{
	const struct hostrange_fold_named *a = pa, *b = pb;
	int c = strcmp(a->skel, b->skel);

	return c ? c : strcmp(a->name, b->name);
}

static int hostrange_fold_cmp_piece(const void *pa, const void *pb)
{
	return strcmp(((const struct hostrange_fold_piece *)pa)->first, ((const struct hostrange_fold_piece *)pb)->first);
}

void hostrange_fold(const char *const *names, size_t n, struct buf *out)
{
	struct hostrange_fold_named *v = NULL;
	const char **block = NULL;
	struct hostrange_fold_piece *pieces = NULL;
	size_t npieces = 0;

	if (n == 0)
		return;
	v = xcalloc(n, sizeof(*v));
	block = xcalloc(n, sizeof(*block));
	for (size_t i = 0; i < n; i++) {
		v[i].name = names[i];
		v[i].skel = hostrange_fold_skeleton(names[i]);
	}
	qsort(v, n, sizeof(*v), hostrange_fold_cmp_skel);
	for (size_t i = 0; i < n;) {
		size_t j = i, nb = 0;
		while (j < n && strcmp(v[j].skel, v[i].skel) == 0) {
			if (nb == 0 || strcmp(block[nb - 1], v[j].name) != 0)
				block[nb++] = v[j].name; /* duplicates once */
			j++;
		}
		hostrange_fold_block(block, nb, &pieces, &npieces);
		i = j;
	}
	qsort(pieces, npieces, sizeof(*pieces), hostrange_fold_cmp_piece);
	for (size_t i = 0; i < npieces; i++) {
		if (i)
			buf_putc(out, ',');
		buf_puts(out, pieces[i].text);
		free(pieces[i].text);
	}
	for (size_t i = 0; i < n; i++)
		free(v[i].skel);
	free(pieces);
	free(block);
	free(v);
}
