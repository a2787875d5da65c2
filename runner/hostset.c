/* hostset: folding host names into ranges. */
#include "hostset.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

/* Digit runs looked at per name, counted from its end. */
#define HOSTSET_RUNS 8
/* Longer runs are not numbers we fold (they would overflow). */
#define HOSTSET_DIGITS 18

struct hs_entry {
	const char *name;
	size_t start, len;     /* the digit run folded on; len 0: none */
	unsigned long long num;
	size_t width;          /* printed width: 0 for unpadded */
	bool padded;           /* the run has a leading zero */
};

/* The digit run k places from the end of name (k = 0: the last one). */
static bool hs_run(const char *name, int k, size_t *start, size_t *len)
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
			return e - b <= HOSTSET_DIGITS;
		}
	}
}

/* Order by the text around the run, then width, then number. */
static int hs_cmp_base(const struct hs_entry *a, const struct hs_entry *b)
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

static int hs_cmp(const void *pa, const void *pb)
{
	const struct hs_entry *a = pa, *b = pb;
	int c = hs_cmp_base(a, b);

	if (c || a->len == 0)
		return c;
	if (a->width != b->width)
		return a->width < b->width ? -1 : 1;
	return a->num < b->num ? -1 : a->num > b->num;
}

/* Fill e[] for run k; returns how many distinct groups that gives. */
static size_t hs_prepare(struct hs_entry *e, const char *const *names, size_t n, int k)
{
	size_t groups = 0;

	for (size_t i = 0; i < n; i++) {
		memset(&e[i], 0, sizeof(e[i]));
		e[i].name = names[i];
		if (!hs_run(names[i], k, &e[i].start, &e[i].len)) {
			e[i].len = 0;
			continue;
		}
		e[i].num = strtoull(names[i] + e[i].start, NULL, 10);
		e[i].padded = e[i].len > 1 && names[i][e[i].start] == '0';
	}
	qsort(e, n, sizeof(*e), hs_cmp);
	/* Widths: within one prefix/suffix, a padded run sets a fixed width,
	 * and unpadded numbers of that length belong with it (rtr01..rtr10);
	 * other unpadded numbers fold as they are (h9, h10). */
	for (size_t i = 0; i < n;) {
		size_t j = i + 1, pad = 0;
		while (j < n && hs_cmp_base(&e[i], &e[j]) == 0)
			j++;
		for (size_t m = i; m < j; m++)
			if (e[m].padded)
				pad = e[m].len;
		for (size_t m = i; m < j; m++)
			e[m].width = e[m].len && (e[m].padded || e[m].len == pad) ? e[m].len : 0;
		i = j;
	}
	qsort(e, n, sizeof(*e), hs_cmp);
	for (size_t i = 0; i < n; i++)
		if (i == 0 || e[i].len == 0 || hs_cmp_base(&e[i - 1], &e[i]) || e[i - 1].width != e[i].width)
			groups++;
	return groups;
}

static void hs_num(struct buf *out, unsigned long long v, size_t width)
{
	buf_printf(out, "%0*llu", (int)width, v);
}

/* The name with each digit run as '#': names of one skeleton fold along
 * the same run (rtr01.dc1 -> rtr#.dc#; sw1 -> sw#). */
static char *hs_skeleton(const char *name)
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

struct hs_piece {
	char *text;        /* malloced: one folded group */
	const char *first; /* its first name, for the order of the output */
};

/* Fold names of one skeleton (sorted, unique) into pieces. */
static void hs_fold_block(const char *const *names, size_t n, struct hs_piece **pieces, size_t *npieces)
{
	struct hs_entry *e = xcalloc(n, sizeof(*e));
	struct buf out = BUF_INIT;
	size_t best = SIZE_MAX;
	int best_k = 0;

	for (int k = 0; k < HOSTSET_RUNS; k++) {
		size_t g = hs_prepare(e, names, n, k);
		if (g <= best) { /* ties: the leftmost run, usually the device number */
			best = g;
			best_k = k;
		}
	}
	hs_prepare(e, names, n, best_k);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;

		buf_reset(&out);
		while (e[i].len && j < n && e[j].len && hs_cmp_base(&e[i], &e[j]) == 0 && e[i].width == e[j].width)
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
				hs_num(&out, e[m].num, e[m].width);
				if (r > m) {
					buf_putc(&out, '-');
					hs_num(&out, e[r].num, e[r].width);
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

struct hs_named {
	const char *name;
	char *skel;
};

static int hs_cmp_skel(const void *pa, const void *pb)
{
	const struct hs_named *a = pa, *b = pb;
	int c = strcmp(a->skel, b->skel);

	return c ? c : strcmp(a->name, b->name);
}

static int hs_cmp_piece(const void *pa, const void *pb)
{
	return strcmp(((const struct hs_piece *)pa)->first, ((const struct hs_piece *)pb)->first);
}

void hostset_fold(const char *const *names, size_t n, struct buf *out)
{
	struct hs_named *v = NULL;
	const char **block = NULL;
	struct hs_piece *pieces = NULL;
	size_t npieces = 0;

	if (n == 0)
		return;
	v = xcalloc(n, sizeof(*v));
	block = xcalloc(n, sizeof(*block));
	for (size_t i = 0; i < n; i++) {
		v[i].name = names[i];
		v[i].skel = hs_skeleton(names[i]);
	}
	qsort(v, n, sizeof(*v), hs_cmp_skel);
	for (size_t i = 0; i < n;) {
		size_t j = i, nb = 0;
		while (j < n && strcmp(v[j].skel, v[i].skel) == 0) {
			if (nb == 0 || strcmp(block[nb - 1], v[j].name) != 0)
				block[nb++] = v[j].name; /* duplicates once */
			j++;
		}
		hs_fold_block(block, nb, &pieces, &npieces);
		i = j;
	}
	qsort(pieces, npieces, sizeof(*pieces), hs_cmp_piece);
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
