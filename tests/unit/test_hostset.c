/* Unit tests for runner/hostset.c: host names folded into ranges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "hostset.h"

static void check(const char *want, const char *const *names, size_t n)
{
	struct buf b = BUF_INIT;

	hostset_fold(names, n, &b);
	assert_string_equal(b.data ? b.data : "", want);
	buf_free(&b);
}

#define CHECK(want, ...)                                                     \
	do {                                                                 \
		const char *const v_[] = {__VA_ARGS__};                      \
		check(want, v_, sizeof(v_) / sizeof(v_[0]));                  \
	} while (0)

static void test_fold(void **state)
{
	(void)state;
	CHECK("rtr[01-05,07].dc1", "rtr03.dc1", "rtr01.dc1", "rtr02.dc1", "rtr07.dc1", "rtr04.dc1", "rtr05.dc1");
	CHECK("web1", "web1");
	CHECK("a,b,c", "c", "a", "b", "a");
	CHECK("h[9-11]", "h10", "h9", "h11");
	/* padded width kept, and unpadded numbers of that width join it */
	CHECK("rtr[01-10]", "rtr01", "rtr02", "rtr03", "rtr04", "rtr05", "rtr06", "rtr07", "rtr08", "rtr09", "rtr10");
	/* 1 and 01 are different names */
	CHECK("h[01-02],h[1-2]", "h01", "h1", "h02", "h2");
	/* the run that folds best: the first one here */
	CHECK("sw[1-3].dc2", "sw1.dc2", "sw2.dc2", "sw3.dc2");
	CHECK("core[1-2].dc1,core[1-2].dc2", "core1.dc1", "core2.dc1", "core1.dc2", "core2.dc2");
	CHECK("10.0.0.[1-3]", "10.0.0.1", "10.0.0.3", "10.0.0.2");
	CHECK("fw,fw[1-2]", "fw2", "fw", "fw1");
	/* runs too long to be numbers stay as they are */
	CHECK("x1234567890123456789,x1234567890123456790", "x1234567890123456790", "x1234567890123456789");
}

static void test_empty(void **state)
{
	struct buf b = BUF_INIT;

	(void)state;
	hostset_fold(NULL, 0, &b);
	assert_int_equal(b.len, 0);
	buf_free(&b);
}

static void test_large(void **state)
{
	char **names = calloc(10000, sizeof(*names));
	struct buf b = BUF_INIT;

	(void)state;
	for (int i = 0; i < 10000; i++) {
		names[i] = malloc(32);
		/* in reverse, so the input order cannot help */
		snprintf(names[i], 32, "node%05d.rack%d", 9999 - i, (9999 - i) / 5000);
	}
	hostset_fold((const char *const *)names, 10000, &b);
	/* folded on the node number: one group per rack */
	assert_string_equal(b.data, "node[00000-04999].rack0,node[05000-09999].rack1");
	for (int i = 0; i < 10000; i++)
		free(names[i]);
	free(names);
	buf_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_large),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
