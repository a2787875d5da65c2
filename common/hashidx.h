/* hashidx: the one open-addressing hash table of the tree, an index from
 * a 64-bit hash to a position in the caller's own array (the journal's
 * last records, merge's winners, --gather's groups, the YAML inventory's
 * group and host names).
 *
 * The caller keeps its records dense, in the order it made them; the
 * index holds (hash, position) pairs only. So it regrows from the hashes
 * it stored, without asking the caller for its keys, and one probe loop
 * and one load factor (at most one half) serve every table. Linear
 * probing from hash_slot(); entries are never removed. */
#ifndef FLEETRUN_HASHIDX_H
#define FLEETRUN_HASHIDX_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* The position of a free slot. */
#define HASHIDX_EMPTY SIZE_MAX

struct hashidx_slot {
	uint64_t h;  /* the key's hash */
	size_t pos;  /* into the caller's array; HASHIDX_EMPTY when free */
};

struct hashidx {
	struct hashidx_slot *slots; /* NULL, or mask + 1 of them (a power of two); malloced, owned */
	size_t mask;
	size_t len;                 /* slots in use */
};

#define HASHIDX_INIT {NULL, 0, 0}

/* Is the entry at pos of the caller's array the one key names? ctx is
 * the caller's (its array, say). */
typedef bool (*hashidx_eq_fn)(const void *key, size_t pos, void *ctx);

/* The slot of key, whose hash is h: the one holding it, or else the free
 * slot where it would go (pos HASHIDX_EMPTY); NULL when t has no slots
 * yet. eq NULL: h itself is the key (a task key is the identity of its
 * task, and equal hashes are the same task). Otherwise an entry matches
 * when its hash is h and eq says so. */
struct hashidx_slot *hashidx_find(const struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key,
                                  void *ctx);

/* The position of key, or HASHIDX_EMPTY when it is not there: a lookup
 * that never adds (t may have no slots). */
size_t hashidx_get(const struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key, void *ctx);

/* The position of key (hash h); when it is not there it is added at pos,
 * the caller's next free position, and pos is returned: a caller that
 * gets pos back makes its record there before it looks up another key
 * (eq may be asked about pos then). reserve, find and put in one. */
size_t hashidx_insert(struct hashidx *t, uint64_t h, hashidx_eq_fn eq, const void *key, void *ctx, size_t pos);

/* Room for n entries at a load of at most one half, regrown from the
 * stored hashes. Slots hashidx_find returned before are stale after it:
 * reserve for one more entry, then find, then put. */
void hashidx_reserve(struct hashidx *t, size_t n);

/* Fill s, a free slot hashidx_find returned for h since the last
 * reserve, with pos. */
void hashidx_put(struct hashidx *t, struct hashidx_slot *s, uint64_t h, size_t pos);

/* Frees the slots; t is empty (HASHIDX_INIT) after. */
void hashidx_free(struct hashidx *t);

#endif
