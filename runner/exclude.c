/* exclude: the set of names -x takes out; see exclude.h. */
#include "exclude.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "hashidx.h"
#include "hostname.h"
#include "hostrange.h"

struct exclude {
	char **names;        /* malloced, owned, each malloced */
	size_t n, cap;
	struct hashidx index; /* name hash -> position in names */
};

static bool exclude_same(const void *key, size_t pos, void *ctx)
{
	const struct exclude *ex = ctx;

	return strcmp(ex->names[pos], key) == 0;
}

static void exclude_add(struct exclude *ex, const char *name)
{
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, name, strlen(name));

	if (hashidx_insert(&ex->index, h, exclude_same, name, ex, ex->n) != ex->n)
		return; /* there already */
	if (ex->n == ex->cap) {
		ex->cap = ex->cap ? ex->cap * 2 : 16;
		ex->names = xreallocarray(ex->names, ex->cap, sizeof(*ex->names));
	}
	ex->names[ex->n++] = xstrdup(name);
}

/* One pattern's names into ex, counting against the bound. */
static int exclude_pattern(struct exclude *ex, const char *pattern, struct err *err)
{
	struct hostrange *r = NULL;
	struct err why;
	const char *name;
	size_t col = 0;
	char pt[200];
	int rc = -1;

	if (hostrange_open_flags(pattern, HOSTRANGE_LIST, &r, &col, &why) < 0) {
		err_set(err, "-x '%s': %s at column %zu", hostname_quote(pattern, pt, sizeof(pt)), why.msg, col + 1);
		goto out;
	}
	if (hostrange_total(r) > EXCLUDE_MAX_NAMES - ex->n) {
		err_set(err, "-x '%s': more than %d names to exclude; narrow it, or select with -l '!GLOB'",
		        hostname_quote(pattern, pt, sizeof(pt)), EXCLUDE_MAX_NAMES);
		goto out;
	}
	while (hostrange_next(r, &name) == 1)
		exclude_add(ex, name);
	rc = 0;
out:
	hostrange_close(r);
	return rc;
}

int exclude_open(const char *const *patterns, size_t n, struct exclude **out, struct err *err)
{
	struct exclude *ex = NULL;
	int rc = -1;

	*out = NULL;
	if (n == 0)
		return 0;
	ex = xcalloc(1, sizeof(*ex));
	for (size_t i = 0; i < n; i++)
		if (exclude_pattern(ex, patterns[i], err) < 0)
			goto out;
	*out = ex;
	ex = NULL;
	rc = 0;
out:
	exclude_close(ex);
	return rc;
}

bool exclude_has(const struct exclude *ex, const char *name)
{
	if (!ex)
		return false;
	return hashidx_get(&ex->index, hash_fnv1a(HASH_FNV_INIT, name, strlen(name)), exclude_same, name,
	                   (void *)ex) != HASHIDX_EMPTY;
}

void exclude_close(struct exclude *ex)
{
	if (!ex)
		return;
	for (size_t i = 0; i < ex->n; i++)
		free(ex->names[i]);
	free(ex->names);
	hashidx_free(&ex->index);
	free(ex);
}
