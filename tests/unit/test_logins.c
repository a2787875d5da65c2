/* Unit tests for runner/logins.c, the count of SSH logins in progress:
 * the overall limit, a jump host's limit, first come first served with
 * a full jump host skipped (not holding up logins elsewhere), a released
 * wait leaving the queue, a worker asking twice, no limits, and the wait
 * each grant reports. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "logins.h"

#define K(s) (s), strlen(s)

/* Grants everything there is room for at now into out[]; their count. */
static int grant_all(struct logins *l, int64_t now, int *out, int64_t *waited)
{
	int n = 0, s;
	int64_t w;

	while ((s = logins_grant(l, now, &w)) >= 0) {
		out[n] = s;
		if (waited)
			waited[n] = w;
		n++;
	}
	return n;
}

static void test_logins_overall_fifo(void **state)
{
	struct logins l;
	int got[8];
	int64_t waited[8];

	(void)state;
	logins_init(&l, 5, 2, 0);
	assert_true(logins_enabled(&l));
	for (int i = 0; i < 5; i++)
		assert_int_equal(logins_request(&l, i, NULL, 0, 100 + i), 0);
	assert_int_equal(grant_all(&l, 100, got, NULL), 2);
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	assert_int_equal(l.active, 2);
	assert_int_equal(logins_state_of(&l, 2), LOGINS_WAITING);
	/* one ends: the next in line, with the time it waited */
	logins_release(&l, 1);
	assert_int_equal(grant_all(&l, 150, got, waited), 1);
	assert_int_equal(got[0], 2);
	assert_int_equal(waited[0], 150 - 102);
	logins_release(&l, 0);
	logins_release(&l, 2);
	assert_int_equal(grant_all(&l, 200, got, NULL), 2);
	assert_int_equal(got[0], 3);
	assert_int_equal(got[1], 4);
	assert_int_equal(l.active, 2);
	logins_free(&l);
}

static void test_logins_jump_key(void **state)
{
	struct logins l;
	int got[8];

	(void)state;
	/* no overall limit; 2 per jump host */
	logins_init(&l, 6, 0, 2);
	assert_int_equal(logins_request(&l, 0, K("bastion:22"), 0), 0);
	assert_int_equal(logins_request(&l, 1, K("bastion:22"), 0), 0);
	assert_int_equal(logins_request(&l, 2, K("bastion:22"), 0), 0);
	assert_int_equal(logins_request(&l, 3, K("other:2222"), 0), 0);
	assert_int_equal(logins_request(&l, 4, NULL, 0, 0), 0); /* a device: only the overall limit */
	assert_int_equal(grant_all(&l, 0, got, NULL), 4);
	/* slot 2 waits for the full bastion; those behind it went on */
	assert_int_equal(got[0], 0);
	assert_int_equal(got[1], 1);
	assert_int_equal(got[2], 3);
	assert_int_equal(got[3], 4);
	assert_int_equal(logins_state_of(&l, 2), LOGINS_WAITING);
	/* the other jump host's end frees nothing for the bastion */
	logins_release(&l, 3);
	assert_int_equal(grant_all(&l, 0, got, NULL), 0);
	logins_release(&l, 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 1);
	assert_int_equal(got[0], 2);
	logins_free(&l);
}

static void test_logins_both_limits(void **state)
{
	struct logins l;
	int got[8];

	(void)state;
	logins_init(&l, 4, 3, 1);
	assert_int_equal(logins_request(&l, 0, K("b:22"), 0), 0);
	assert_int_equal(logins_request(&l, 1, K("b:22"), 0), 0);
	assert_int_equal(logins_request(&l, 2, NULL, 0, 0), 0);
	assert_int_equal(logins_request(&l, 3, NULL, 0, 0), 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 3); /* 0, 2, 3: the overall limit is reached */
	assert_int_equal(got[1], 2);
	assert_int_equal(got[2], 3);
	/* room overall, but not at b:22 */
	logins_release(&l, 2);
	assert_int_equal(grant_all(&l, 0, got, NULL), 0);
	logins_release(&l, 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 1);
	assert_int_equal(got[0], 1);
	logins_free(&l);
}

static void test_logins_release_waiting(void **state)
{
	struct logins l;
	int got[8];

	(void)state;
	logins_init(&l, 4, 1, 0);
	for (int i = 0; i < 4; i++)
		assert_int_equal(logins_request(&l, i, K("j:22"), 0), 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 1);
	/* a waiting worker that dies leaves the queue; the holder's end
	 * goes to the next one still there */
	logins_release(&l, 1);
	assert_int_equal(logins_state_of(&l, 1), LOGINS_NONE);
	logins_release(&l, 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 1);
	assert_int_equal(got[0], 2);
	/* releasing a slot with nothing is nothing */
	logins_release(&l, 0);
	logins_release(&l, 99);
	assert_int_equal(l.active, 1);
	/* the keys' table keeps only live keys: one entry, reused */
	logins_release(&l, 2);
	logins_release(&l, 3);
	assert_int_equal(l.active, 0);
	assert_int_equal(l.nqueue, 0);
	for (int i = 0; i < l.nkeys; i++)
		assert_null(l.keys[i].name);
	assert_int_equal(logins_request(&l, 0, K("k:1"), 0), 0);
	assert_int_equal(l.nkeys, 1);
	logins_free(&l);
}

static void test_logins_twice_and_off(void **state)
{
	struct logins l;
	int got[4];

	(void)state;
	logins_init(&l, 2, 1, 0);
	assert_int_equal(logins_request(&l, 0, NULL, 0, 0), 0);
	assert_int_equal(logins_request(&l, 0, NULL, 0, 0), -1); /* waiting already */
	assert_int_equal(grant_all(&l, 0, got, NULL), 1);
	assert_int_equal(logins_request(&l, 0, NULL, 0, 0), -1); /* holding */
	assert_int_equal(logins_request(&l, 7, NULL, 0, 0), -1); /* no such slot */
	logins_free(&l);

	logins_init(&l, 3, 0, 0);
	assert_false(logins_enabled(&l));
	for (int i = 0; i < 3; i++)
		assert_int_equal(logins_request(&l, i, K("j:22"), 0), 0);
	assert_int_equal(grant_all(&l, 0, got, NULL), 3);
	logins_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_logins_overall_fifo),  cmocka_unit_test(test_logins_jump_key),
		cmocka_unit_test(test_logins_both_limits),   cmocka_unit_test(test_logins_release_waiting),
		cmocka_unit_test(test_logins_twice_and_off),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
