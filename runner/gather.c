/* gather: identical outputs folded together. */
#include "gather.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hostrange.h"
#include "parsedview.h"
#include "proto.h"
#include "termtext.h"
#include "util.h"

int gather_keys_parse(const char *list, char ***keys, size_t *nkeys, struct err *err)
{
	char **k = xcalloc(GATHER_MAX_KEYS, sizeof(*k));
	size_t n = 0;
	int r = -1;

	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		if (len == 0) {
			err_set(err, "--gather-by: expected value names separated by commas (version,hardware), got '%s'",
			        list);
			goto out;
		}
		if (len > GATHER_MAX_KEY_LEN) {
			err_set(err, "--gather-by: a value name of more than %d characters", GATHER_MAX_KEY_LEN);
			goto out;
		}
		if (n == GATHER_MAX_KEYS) {
			err_set(err, "--gather-by: at most %d keys", GATHER_MAX_KEYS);
			goto out;
		}
		k[n] = xstrndup(p, len);
		for (char *c = k[n++]; *c; c++) {
			if (!isalnum((unsigned char)*c) && *c != '_') {
				err_set(err, "--gather-by: '%.*s' is not a value name (letters, digits and _)", (int)len, p);
				goto out;
			}
			*c = (char)tolower((unsigned char)*c);
		}
		p += len;
		if (!*p)
			break;
	}
	*keys = k;
	*nkeys = n;
	k = NULL;
	r = 0;
out:
	gather_keys_free(k, n);
	return r;
}

void gather_keys_free(char **keys, size_t nkeys)
{
	for (size_t i = 0; keys && i < nkeys; i++)
		free(keys[i]);
	free(keys);
}

void gather_init(struct gather *g)
{
	memset(g, 0, sizeof(*g));
}

/* A text to look for, for gather_same. */
struct gather_key {
	const char *text;
	size_t len;
};

static bool gather_same(const void *key, size_t pos, void *ctx)
{
	const struct gather_key *k = key;
	const struct gather_group *grp = &((const struct gather *)ctx)->groups[pos];

	return grp->len == k->len && memcmp(grp->text, k->text, k->len) == 0;
}

/* The group holding this text, made when there is none. */
static struct gather_group *gather_group(struct gather *g, const char *text, size_t len)
{
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, text, len);
	struct gather_key key = {text, len};
	struct gather_group *grp;
	size_t pos;

	pos = hashidx_insert(&g->index, h, gather_same, &key, g, g->ngroups);
	if (pos < g->ngroups)
		return &g->groups[pos];
	if (g->ngroups == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 16;
		g->groups = xreallocarray(g->groups, g->cap, sizeof(*g->groups));
	}
	grp = &g->groups[g->ngroups++];
	memset(grp, 0, sizeof(*grp));
	grp->text = xstrndup(text, len);
	grp->len = len;
	return grp;
}

void gather_add(struct gather *g, const char *host, enum status st, const struct proto_result *res,
                const char *error)
{
	struct gather_group *grp;
	const msgpack_object *parsed;

	buf_reset(&g->text);
	if (g->nkeys && st == STATUS_OK) {
		parsed = parsedview_first(res);
		if (!parsed || !parsedview_select(&g->text, parsed, g->keys, g->nkeys)) {
			buf_puts(&g->text, "(no parsed ");
			for (size_t i = 0; i < g->nkeys; i++)
				buf_printf(&g->text, "%s%s", i ? "," : "", g->keys[i]);
			buf_putc(&g->text, ')');
		}
		buf_putc(&g->text, '\n');
	}
	for (size_t i = 0; !g->nkeys && res && i < res->nsteps; i++)
		if (res->steps[i].has & PROTO_STEP_OUTPUT)
			buf_append(&g->text, res->steps[i].out.p, res->steps[i].out.n);
	if (st != STATUS_OK) {
		if (g->text.len && g->text.data[g->text.len - 1] != '\n')
			buf_putc(&g->text, '\n');
		/* one line, whatever the error holds */
		buf_printf(&g->text, "fleetrun: %s: ", status_name(st));
		termtext_puts(&g->text, error, 0);
		buf_putc(&g->text, '\n');
	}
	grp = gather_group(g, g->text.data ? g->text.data : "", g->text.len);
	if (grp->nhosts == grp->cap) {
		grp->cap = grp->cap ? grp->cap * 2 : 4;
		grp->hosts = xreallocarray(grp->hosts, grp->cap, sizeof(*grp->hosts));
	}
	grp->hosts[grp->nhosts++] = xstrdup(host);
}

struct gather_order {
	const struct gather_group *grp;
	const char *first; /* its smallest host name: ties go in name order */
};

static int gather_cmp(const void *pa, const void *pb)
{
	const struct gather_order *a = pa, *b = pb;

	if (a->grp->nhosts != b->grp->nhosts)
		return a->grp->nhosts > b->grp->nhosts ? -1 : 1;
	return strcmp(a->first, b->first);
}

void gather_print(struct gather *g, FILE *f, bool color)
{
	struct gather_order *order = xcalloc(g->ngroups + 1, sizeof(*order));
	struct buf names = BUF_INIT, shown = BUF_INIT;

	for (size_t i = 0; i < g->ngroups; i++) {
		order[i].grp = &g->groups[i];
		order[i].first = g->groups[i].hosts[0];
		for (size_t h = 1; h < g->groups[i].nhosts; h++)
			if (strcmp(g->groups[i].hosts[h], order[i].first) < 0)
				order[i].first = g->groups[i].hosts[h];
	}
	qsort(order, g->ngroups, sizeof(*order), gather_cmp);
	for (size_t i = 0; i < g->ngroups; i++) {
		const struct gather_group *grp = order[i].grp;
		buf_reset(&names);
		hostrange_fold((const char *const *)grp->hosts, grp->nhosts, &names);
		/* Groups are made of the bytes (hosts whose outputs differ
		 * only in control bytes are told apart); what is printed is
		 * terminal-safe text: devices are hostile, inventories data. */
		buf_reset(&shown);
		termtext_append(&shown, names.data, names.len, 0);
		fprintf(f, "%s---------------- %s (%zu)%s\n", color ? "\033[1m" : "", shown.data, grp->nhosts,
		        color ? "\033[0m" : "");
		buf_reset(&shown);
		termtext_append(&shown, grp->text, grp->len, TERMTEXT_KEEP_NL | TERMTEXT_KEEP_TAB);
		fwrite(shown.data ? shown.data : "", 1, shown.len, f);
		if (shown.len && shown.data[shown.len - 1] != '\n')
			fputc('\n', f);
	}
	fflush(f);
	buf_free(&names);
	buf_free(&shown);
	free(order);
}

void gather_free(struct gather *g)
{
	for (size_t i = 0; i < g->ngroups; i++) {
		for (size_t h = 0; h < g->groups[i].nhosts; h++)
			free(g->groups[i].hosts[h]);
		free(g->groups[i].hosts);
		free(g->groups[i].text);
	}
	free(g->groups);
	hashidx_free(&g->index);
	buf_free(&g->text);
	memset(g, 0, sizeof(*g));
}
