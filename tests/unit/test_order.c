/* Unit tests for runner/order.c (--ordered): records come out in sequence
 * whatever order their tasks finish in, a task starts only within the
 * window, and at the end the records still held come out in order. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "order.h"
#include "util.h"

/* Hold the record of id, its json "r<id>" (and text "t<id>" for even ids). */
static void hold(struct order *o, uint64_t id)
{
	struct order_held h = {xasprintf("r%llu", (unsigned long long)id), NULL};

	if (id % 2 == 0)
		h.text = xasprintf("t%llu", (unsigned long long)id);
	/* may_start kept the ring from overflowing: the slot is free */
	assert_null(o->ring[id % o->window].json);
	order_hold(o, id, h);
}

/* Every record order_next lets go now, as ids appended to out[*n]. */
static void release(struct order *o, uint64_t *out, size_t *n)
{
	struct order_held h;

	while (order_next(o, &h)) {
		unsigned long long id;
		assert_int_equal(sscanf(h.json, "r%llu", &id), 1);
		if (id % 2 == 0) {
			char want[32];
			snprintf(want, sizeof(want), "t%llu", id);
			assert_string_equal(h.text, want);
		} else {
			assert_null(h.text);
		}
		out[(*n)++] = id;
		free(h.json);
		free(h.text);
	}
}

static void test_in_sequence(void **state)
{
	struct order o;
	uint64_t out[16];
	size_t n = 0;

	(void)state;
	order_init(&o, 8);
	hold(&o, 3);
	hold(&o, 1);
	release(&o, out, &n);
	assert_int_equal(n, 0); /* 0 not finished: nothing goes out */
	hold(&o, 0);
	release(&o, out, &n);
	assert_int_equal(n, 2); /* 0 and 1; 3 waits for 2 */
	hold(&o, 5);
	hold(&o, 2);
	release(&o, out, &n);
	assert_int_equal(n, 4);
	hold(&o, 4);
	release(&o, out, &n);
	assert_int_equal(n, 6);
	for (size_t i = 0; i < n; i++)
		assert_int_equal(out[i], i);
	assert_int_equal(o.next_id, 6);
	order_free(&o);
}

static void test_may_start_window(void **state)
{
	struct order o;
	uint64_t out[8];
	size_t n = 0;

	(void)state;
	order_init(&o, 4);
	for (uint64_t id = 0; id < 4; id++)
		assert_true(order_may_start(&o, id));
	assert_false(order_may_start(&o, 4));
	/* 1..3 done: the ring is full behind 0, nothing more may start */
	hold(&o, 1);
	hold(&o, 2);
	hold(&o, 3);
	release(&o, out, &n);
	assert_int_equal(n, 0);
	assert_false(order_may_start(&o, 4));
	/* 0 done: all four out, the window moves by four */
	hold(&o, 0);
	release(&o, out, &n);
	assert_int_equal(n, 4);
	assert_true(order_may_start(&o, 7));
	assert_false(order_may_start(&o, 8));
	order_free(&o);
}

/* A pool of tasks started while may_start allows, finishing in a
 * pseudo-random order: every record comes out once, in sequence, and
 * the ring's slot is always free when a record comes (hold checks). */
static void test_random_completion(void **state)
{
	enum { N = 2000, WINDOW = 16 };
	struct order o;
	uint64_t *out = xcalloc(N, sizeof(*out)), running[WINDOW], next = 0;
	size_t n = 0, nrun = 0;
	unsigned seed = 7;

	(void)state;
	order_init(&o, WINDOW);
	while (n < N) {
		while (next < N && order_may_start(&o, next)) {
			assert_true(nrun < WINDOW);
			running[nrun++] = next++;
		}
		assert_true(nrun > 0);
		seed = seed * 1103515245 + 12345;
		size_t k = (seed >> 16) % nrun;
		hold(&o, running[k]);
		running[k] = running[--nrun];
		release(&o, out, &n);
	}
	for (size_t i = 0; i < N; i++)
		assert_int_equal(out[i], i);
	order_free(&o);
	free(out);
}

/* The end of a run: tasks that never finished leave gaps; the records
 * behind them come out in order, once. */
static void test_drain_at_finish(void **state)
{
	struct order o;
	struct order_held h;
	uint64_t out[8];
	size_t n = 0;
	const char *want[] = {"r2", "r3", "r6", "r8"};

	(void)state;
	order_init(&o, 8);
	hold(&o, 0);
	release(&o, out, &n);
	assert_int_equal(n, 1);
	/* 1, 4, 5 and 7 never finish; 8, the last the window lets start,
	 * takes 0's slot in the ring */
	assert_true(order_may_start(&o, 8));
	assert_false(order_may_start(&o, 9));
	hold(&o, 6);
	hold(&o, 8);
	hold(&o, 2);
	hold(&o, 3);
	release(&o, out, &n);
	assert_int_equal(n, 1);
	for (size_t i = 0; i < 4; i++) {
		assert_true(order_drain(&o, &h));
		assert_string_equal(h.json, want[i]);
		free(h.json);
		free(h.text);
	}
	assert_false(order_drain(&o, &h));
	assert_false(order_drain(&o, &h));
	order_free(&o);
}

/* What is still held when the run is torn down is freed (ASan checks). */
static void test_free_held(void **state)
{
	struct order o;

	(void)state;
	order_init(&o, 4);
	hold(&o, 2);
	hold(&o, 3);
	order_free(&o);
	assert_null(o.ring);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_in_sequence),
		cmocka_unit_test(test_may_start_window),
		cmocka_unit_test(test_random_completion),
		cmocka_unit_test(test_drain_at_finish),
		cmocka_unit_test(test_free_held),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
