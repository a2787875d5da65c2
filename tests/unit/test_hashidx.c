/* Unit tests for common/hashidx.c: insert and find, the free slot a
 * missing key gets, growth that keeps every entry at a load of at most
 * one half, keys whose hashes collide told apart by eq, insert as
 * find-or-add, identity keys
 * (eq NULL), many random keys from a fixed seed, and the guard against a
 * put without its reserve. */
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "hash.h"
#include "hashidx.h"
#include "util.h"

/* The caller's array: names, looked up by their text. */
struct names {
	char **v;
	size_t n;
};

static bool names_eq(const void *key, size_t pos, void *ctx)
{
	return strcmp(((struct names *)ctx)->v[pos], key) == 0;
}

/* The position of name, added when missing; the hash is h. */
static size_t names_add(struct hashidx *t, struct names *nm, uint64_t h, const char *name)
{
	struct hashidx_slot *s;

	hashidx_reserve(t, nm->n + 1);
	s = hashidx_find(t, h, names_eq, name, nm);
	assert_non_null(s);
	if (s->pos != HASHIDX_EMPTY)
		return s->pos;
	nm->v = xreallocarray(nm->v, nm->n + 1, sizeof(*nm->v));
	nm->v[nm->n] = xstrdup(name);
	hashidx_put(t, s, h, nm->n);
	return nm->n++;
}

static void names_free(struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		free(nm->v[i]);
	free(nm->v);
}

static void test_empty_table(void **state)
{
	struct hashidx t = HASHIDX_INIT;

	(void)state;
	assert_null(hashidx_find(&t, 7, NULL, NULL, NULL));
	assert_true(hashidx_get(&t, 7, NULL, NULL, NULL) == HASHIDX_EMPTY);
	hashidx_free(&t); /* of nothing: fine */
	assert_null(t.slots);
}

static void test_insert_find(void **state)
{
	static const char *const words[] = {"spine1", "leaf01", "leaf02", "rtr-a", "", "leaf01x"};
	struct hashidx t = HASHIDX_INIT;
	struct names nm = {0};
	struct hashidx_slot *s;

	(void)state;
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
		assert_int_equal(names_add(&t, &nm, hash_fnv1a_str(words[i]), words[i]), i);
	/* again: found, not added */
	for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++) {
		assert_int_equal(names_add(&t, &nm, hash_fnv1a_str(words[i]), words[i]), i);
		assert_int_equal(hashidx_get(&t, hash_fnv1a_str(words[i]), names_eq, words[i], &nm), i);
	}
	assert_int_equal(nm.n, 6);
	assert_int_equal(t.len, 6);
	/* a missing key: the free slot where it would go, and it goes there */
	s = hashidx_find(&t, hash_fnv1a_str("leaf03"), names_eq, "leaf03", &nm);
	assert_non_null(s);
	assert_true(s->pos == HASHIDX_EMPTY);
	assert_true(hashidx_get(&t, hash_fnv1a_str("leaf03"), names_eq, "leaf03", &nm) == HASHIDX_EMPTY);
	nm.v = xreallocarray(nm.v, nm.n + 1, sizeof(*nm.v));
	nm.v[nm.n] = xstrdup("leaf03");
	hashidx_put(&t, s, hash_fnv1a_str("leaf03"), nm.n++);
	assert_ptr_equal(hashidx_find(&t, hash_fnv1a_str("leaf03"), names_eq, "leaf03", &nm), s);
	assert_int_equal(hashidx_get(&t, hash_fnv1a_str("leaf03"), names_eq, "leaf03", &nm), 6);
	names_free(&nm);
	hashidx_free(&t);
	assert_null(t.slots);
	assert_int_equal(t.len, 0);
}

/* Every one of the first n names is where it was put. */
static void assert_all_found(const struct hashidx *t, struct names *nm)
{
	for (size_t i = 0; i < nm->n; i++)
		assert_int_equal(hashidx_get(t, hash_fnv1a_str(nm->v[i]), names_eq, nm->v[i], nm), i);
}

static void test_grow_keeps_every_entry(void **state)
{
	struct hashidx t = HASHIDX_INIT;
	struct names nm = {0};
	size_t grown = 0, mask = 0;
	char name[32];

	(void)state;
	for (int i = 0; i < 20000; i++) {
		snprintf(name, sizeof(name), "h%05d.dc1", i);
		assert_int_equal(names_add(&t, &nm, hash_fnv1a_str(name), name), (size_t)i);
		assert_true(t.len * 2 <= t.mask + 1);
		if (t.mask != mask) {
			/* it has just regrown: nothing was lost on the way */
			mask = t.mask;
			grown++;
			assert_all_found(&t, &nm);
		}
	}
	assert_true(grown >= 9); /* 64 slots first, then doubling to 65536 */
	assert_int_equal(t.mask + 1, 65536);
	assert_all_found(&t, &nm);
	/* a reserve for fewer than there are changes nothing */
	hashidx_reserve(&t, 5);
	assert_int_equal(t.mask + 1, 65536);
	names_free(&nm);
	hashidx_free(&t);
}

static void test_colliding_hashes(void **state)
{
	struct hashidx t = HASHIDX_INIT;
	struct names nm = {0};
	char name[16];

	(void)state;
	/* every key the same hash: eq alone tells them apart, through
	 * regrowth too (200 entries: four tables) */
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(names_add(&t, &nm, 42, name), (size_t)i);
	}
	for (int i = 0; i < 200; i++) {
		snprintf(name, sizeof(name), "k%d", i);
		assert_int_equal(hashidx_get(&t, 42, names_eq, name, &nm), (size_t)i);
		assert_int_equal(names_add(&t, &nm, 42, name), (size_t)i);
	}
	assert_true(hashidx_get(&t, 42, names_eq, "k200", &nm) == HASHIDX_EMPTY);
	/* hashes that differ but start at the same slot (the same low bits
	 * after hash_slot's fold) */
	assert_int_equal(hash_slot(43 + ((uint64_t)1 << 40), t.mask), hash_slot(43, t.mask));
	assert_int_equal(names_add(&t, &nm, 43, "a"), 200);
	assert_int_equal(names_add(&t, &nm, 43 + ((uint64_t)1 << 40), "b"), 201);
	assert_int_equal(hashidx_get(&t, 43, names_eq, "a", &nm), 200);
	assert_int_equal(hashidx_get(&t, 43 + ((uint64_t)1 << 40), names_eq, "b", &nm), 201);
	/* the same name under another hash is another key: the hash is
	 * compared before eq is asked */
	assert_true(hashidx_get(&t, 44, names_eq, "a", &nm) == HASHIDX_EMPTY);
	names_free(&nm);
	hashidx_free(&t);
}

static void test_insert_adds_once(void **state)
{
	struct hashidx t = HASHIDX_INIT;
	struct names nm = {0};
	char name[16];

	(void)state;
	/* each name twice: the first time it is added at the position
	 * offered, the second time found where it was (no new position) */
	for (int round = 0; round < 2; round++) {
		for (int i = 0; i < 1000; i++) {
			size_t pos;

			snprintf(name, sizeof(name), "n%d", i);
			pos = hashidx_insert(&t, hash_fnv1a_str(name) % 97, names_eq, name, &nm, nm.n);
			if (round == 0) {
				assert_int_equal(pos, nm.n);
				nm.v = xreallocarray(nm.v, nm.n + 1, sizeof(*nm.v));
				nm.v[nm.n++] = xstrdup(name);
			} else {
				assert_int_equal(pos, i);
			}
		}
	}
	assert_int_equal(nm.n, 1000);
	assert_int_equal(t.len, 1000);
	assert_true(t.len * 2 <= t.mask + 1);
	names_free(&nm);
	hashidx_free(&t);
}

/* xorshift64*: the same keys on every run. */
static uint64_t rand_next(uint64_t *s)
{
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 0x2545f4914f6cdd1dULL;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void test_many_identity_keys(void **state)
{
	enum { N = 100000 };
	struct hashidx t = HASHIDX_INIT;
	uint64_t *keys = xcalloc(N, sizeof(*keys)), *sorted = xcalloc(N, sizeof(*sorted));
	size_t n = 0, distinct = 0;
	uint64_t seed = 0x9e3779b97f4a7c15ULL;

	(void)state;
	/* keys drawn from 50,000 values, so that about a third come twice:
	 * eq NULL, an equal hash is the same key */
	for (int i = 0; i < N; i++) {
		uint64_t k = hash_mix64(rand_next(&seed) % 50000);
		struct hashidx_slot *s;

		hashidx_reserve(&t, n + 1);
		s = hashidx_find(&t, k, NULL, NULL, NULL);
		if (s->pos == HASHIDX_EMPTY) {
			keys[n] = k;
			hashidx_put(&t, s, k, n++);
		} else {
			assert_true(keys[s->pos] == k);
		}
	}
	assert_int_equal(t.len, n);
	assert_true(t.len * 2 <= t.mask + 1);
	/* as many as the distinct values drawn */
	seed = 0x9e3779b97f4a7c15ULL;
	for (int i = 0; i < N; i++)
		sorted[i] = hash_mix64(rand_next(&seed) % 50000);
	qsort(sorted, N, sizeof(*sorted), cmp_u64);
	for (int i = 0; i < N; i++)
		distinct += i == 0 || sorted[i] != sorted[i - 1];
	assert_int_equal(n, distinct);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(hashidx_get(&t, keys[i], NULL, NULL, NULL), i);
	/* values never drawn are not there */
	for (uint64_t v = 50000; v < 60000; v++)
		assert_true(hashidx_get(&t, hash_mix64(v), NULL, NULL, NULL) == HASHIDX_EMPTY);
	free(keys);
	free(sorted);
	hashidx_free(&t);
}

static void test_put_without_reserve_aborts(void **state)
{
	int st;
	pid_t pid;

	(void)state;
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct hashidx t = HASHIDX_INIT;

		/* room for 1 in a 64-slot table: 32 entries fit, the 33rd
		 * would leave no free slot to end a probe for a missing key */
		hashidx_reserve(&t, 1);
		for (uint64_t k = 0; k < 33; k++)
			hashidx_put(&t, hashidx_find(&t, k, NULL, NULL, NULL), k, (size_t)k);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &st, 0), pid);
	assert_true(WIFSIGNALED(st));
	assert_int_equal(WTERMSIG(st), SIGABRT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_empty_table),
		cmocka_unit_test(test_insert_find),
		cmocka_unit_test(test_grow_keeps_every_entry),
		cmocka_unit_test(test_colliding_hashes),
		cmocka_unit_test(test_insert_adds_once),
		cmocka_unit_test(test_many_identity_keys),
		cmocka_unit_test(test_put_without_reserve_aborts),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
