/* hash: the one FNV-1a and the one 64-bit mixer, for every table and
 * every stable name in the tree (task keys, shards, out-dir names, the
 * inventory's name maps). Header-only: each call site is a few cycles. */
#ifndef FLEETRUN_HASH_H
#define FLEETRUN_HASH_H

#include <stddef.h>
#include <stdint.h>

#define HASH_FNV_INIT 0xcbf29ce484222325ULL
#define HASH_FNV_PRIME 0x100000001b3ULL

/* FNV-1a over n bytes, continuing from h (HASH_FNV_INIT to start). */
static inline uint64_t hash_fnv1a(uint64_t h, const void *p, size_t n)
{
	const unsigned char *s = p;

	for (size_t i = 0; i < n; i++)
		h = (h ^ s[i]) * HASH_FNV_PRIME;
	return h;
}

static inline uint64_t hash_fnv1a_str(const char *s)
{
	uint64_t h = HASH_FNV_INIT;

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * HASH_FNV_PRIME;
	return h;
}

/* Two byte strings as one key: 0xff, a byte UTF-8 text never holds,
 * keeps ("ab", "c") apart from ("a", "bc"). */
static inline uint64_t hash_fnv1a_pair(const void *a, size_t an, const void *b, size_t bn)
{
	uint64_t h = hash_fnv1a(HASH_FNV_INIT, a, an);

	h = (h ^ 0xffu) * HASH_FNV_PRIME;
	return hash_fnv1a(h, b, bn);
}

/* MurmurHash3's 64-bit finalizer: FNV leaves keys that differ in their
 * last byte close together in the high bits; this spreads them over all
 * 64. */
static inline uint64_t hash_mix64(uint64_t h)
{
	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

/* The first slot of key h in an open-addressing table of mask + 1 slots
 * (a power of two): the high bits folded in, so keys that differ only
 * there still spread. */
static inline size_t hash_slot(uint64_t h, size_t mask)
{
	return (size_t)(h ^ h >> 29) & mask;
}

#endif
