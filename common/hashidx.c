/* hashidx: a hash to a position in the caller's array (hashidx.h). */
#include "hashidx.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"
#include "util.h"

/* The smallest table: a few hundred bytes, so that a table of a handful
 * of entries does not regrow three times on its way there. */
#define HASHIDX_MIN_SLOTS 64

struct hashidx_slot *hashidx_find(const struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key,
                                  void *ctx)
{
	size_t i;

	if (!t->slots)
		return NULL;
	/* The load stays at most one half: a free slot ends every probe. */
	for (i = hash_slot(h, t->mask); t->slots[i].pos != HASHIDX_EMPTY; i = (i + 1) & t->mask)
		if (t->slots[i].h == h && (!eq || eq(key, t->slots[i].pos, ctx)))
			break;
	return &t->slots[i];
}

size_t hashidx_get(const struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key, void *ctx)
{
	const struct hashidx_slot *s = hashidx_find(t, h, eq, key, ctx);

	return s ? s->pos : HASHIDX_EMPTY;
}

size_t hashidx_insert(struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key, void *ctx, size_t pos)
{
	struct hashidx_slot *s;

	hashidx_reserve(t, t->len + 1);
	s = hashidx_find(t, h, eq, key, ctx);
	if (s->pos != HASHIDX_EMPTY)
		return s->pos;
	hashidx_put(t, s, h, pos);
	return pos;
}

void hashidx_reserve(struct hashidx *t, size_t n)
{
	struct hashidx_slot *old = t->slots;
	size_t oldcap = old ? t->mask + 1 : 0, cap = oldcap ? oldcap : HASHIDX_MIN_SLOTS;

	if (n <= oldcap / 2)
		return;
	/* n entries of the caller's own array exist already: n this large
	 * is memory no process has, not a table to size */
	if (n > SIZE_MAX / 4 / sizeof(*old))
		abort();
	while (cap / 2 < n)
		cap *= 2;
	t->slots = xreallocarray(NULL, cap, sizeof(*t->slots));
	memset(t->slots, 0xff, cap * sizeof(*t->slots)); /* every pos HASHIDX_EMPTY */
	t->mask = cap - 1;
	/* The entries are distinct already: each goes to the first free
	 * slot of its probe, no key compared. */
	for (size_t i = 0; i < oldcap; i++) {
		size_t k;

		if (old[i].pos == HASHIDX_EMPTY)
			continue;
		for (k = hash_slot(old[i].h, t->mask); t->slots[k].pos != HASHIDX_EMPTY; k = (k + 1) & t->mask)
			;
		t->slots[k] = old[i];
	}
	free(old);
}

void hashidx_put(struct hashidx *t, struct hashidx_slot *s, uint64_t h, size_t pos)
{
	/* a put without its reserve: past this load a probe for a missing
	 * key might never meet a free slot */
	if ((t->len + 1) * 2 > t->mask + 1)
		abort();
	s->h = h;
	s->pos = pos;
	t->len++;
}

void hashidx_free(struct hashidx *t)
{
	free(t->slots);
	memset(t, 0, sizeof(*t));
}
