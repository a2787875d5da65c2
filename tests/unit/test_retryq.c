/* Unit tests for runner/retryq.c: the backoff's bounds and jitter, and the
 * heap's order (the earliest task whose time has come first). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include "retryq.h"
#include "task.h"
#include "util.h"

static void test_retry_delays(void **state)
{
	struct retryq q;

	(void)state;
	retryq_init(&q, 42);
	for (int i = 0; i < 1000; i++) {
		int64_t d2 = retryq_delay_ms(&q, 1000, 2), d3 = retryq_delay_ms(&q, 1000, 3);
		int64_t dmax = retryq_delay_ms(&q, 1000, 40);
		assert_true(d2 >= 500 && d2 <= 1000);
		assert_true(d3 >= 1000 && d3 <= 2000);
		assert_true(dmax >= RETRYQ_MAX_DELAY_MS / 2 && dmax <= RETRYQ_MAX_DELAY_MS);
	}
	assert_int_equal(retryq_delay_ms(&q, 0, 5), 0);
	retryq_free(&q);
}

static void test_retry_heap_order(void **state)
{
	struct retryq q;
	int64_t at[] = {50, 10, 40, 10, 30, 20, 60, 0};
	int64_t last = -1;
	size_t n = 0;

	(void)state;
	retryq_init(&q, 1);
	for (size_t i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		struct task_rec *t = xcalloc(1, sizeof(*t));
		t->seq = (uint64_t)at[i];
		retryq_push(&q, t, at[i]);
	}
	assert_int_equal(retryq_next_ms(&q), 0);
	assert_null(retryq_pop(&q, -1)); /* nothing is due before 0 */
	for (struct task_rec *t; (t = retryq_pop(&q, 45)) != NULL; n++) {
		assert_true((int64_t)t->seq >= last);
		last = (int64_t)t->seq;
		task_rec_free(t);
	}
	assert_int_equal(n, 6); /* 0 10 10 20 30 40 */
	assert_int_equal(retryq_next_ms(&q), 50);
	retryq_free(&q); /* frees the two still queued */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_retry_delays),
		cmocka_unit_test(test_retry_heap_order),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
