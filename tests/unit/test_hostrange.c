/* Unit tests for runner/hostrange.c: the range notation expanded (-H,
 * inventories) and folded (--gather), and the two as inverses. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "hostrange.h"

/* No test expects more names than this from a small pattern. */
#define MAX_NAMES 1000

/* ------------------------------------------------------------------ */
/* Expanding                                                           */

/* Every name of a pattern, space separated (malloced). */
static char *expand(const char *pattern)
{
	struct hostrange *r = NULL;
	struct err err = {{0}};
	struct buf b = BUF_INIT;
	const char *name;
	int n = 0;

	if (hostrange_open(pattern, &r, &err) < 0)
		fail_msg("hostrange_open('%s'): %s", pattern, err.msg);
	while (n < MAX_NAMES && hostrange_next(r, &name) == 1) {
		if (n++)
			buf_putc(&b, ' ');
		buf_puts(&b, name);
	}
	assert_int_equal(hostrange_next(r, &name), 0);
	hostrange_close(r);
	return buf_steal(&b);
}

static void assert_expands(const char *pattern, const char *want)
{
	char *got = expand(pattern);
	assert_string_equal(got, want);
	free(got);
}

static void assert_range_error(const char *pattern, const char *want)
{
	struct hostrange *r = NULL;
	struct err err = {{0}};

	assert_int_equal(hostrange_open(pattern, &r, &err), -1);
	assert_null(r);
	assert_string_equal(err.msg, want);
}

static void test_range_padding(void **state)
{
	(void)state;
	assert_expands("n[01-03]", "n01 n02 n03");
	assert_expands("n[8-10]", "n8 n9 n10");
	assert_expands("n[098-101]", "n098 n099 n100 n101");
	assert_expands("n[001-2]", "n001 n002");
	assert_expands("n[0-2]", "n0 n1 n2");
	assert_expands("n[07]", "n07");
	assert_expands("n[9-11,05]", "n9 n10 n11 n05");
}

static void test_range_groups_and_lists(void **state)
{
	(void)state;
	assert_expands("rtr[01-02].dc[1-2],fw1", "rtr01.dc1 rtr01.dc2 rtr02.dc1 rtr02.dc2 fw1");
	assert_expands("n[1-3,7,10-12]", "n1 n2 n3 n7 n10 n11 n12");
	assert_expands("[1-2]x[3,5]y", "1x3y 1x5y 2x3y 2x5y");
	assert_expands("a, b ,c", "a b c");
	assert_expands("plain", "plain");
	assert_expands("10.0.0.[1-3]", "10.0.0.1 10.0.0.2 10.0.0.3");
	assert_expands("a[1-2],b[1,1]", "a1 a2 b1 b1");
}

static void test_range_errors(void **state)
{
	(void)state;
	assert_range_error("rtr[01-", "'rtr[01-': unbalanced '[' at column 4");
	assert_range_error("a]b", "'a]b': unbalanced ']' at column 2");
	assert_range_error("a,,b", "'a,,b': empty item (expected a host name between commas) at column 3");
	assert_range_error("a,", "'a,': empty item (expected a host name between commas) at column 3");
	assert_range_error("", "'': empty item (expected a host name between commas) at column 1");
	assert_range_error("n[5-1]", "'n[5-1]': reversed range '5-1' (expected start <= end) at column 3");
	assert_range_error("x,n[1,9-3]", "'x,n[1,9-3]': reversed range '9-3' (expected start <= end) at column 7");
	assert_range_error("n[a-c]",
			   "'n[a-c]': non-numeric range 'a-c' (expected numbers such as [1-9], [01-10] or [1,3,5]) at column 3");
	assert_range_error("n[1-x]",
			   "'n[1-x]': non-numeric range '1-x' (expected numbers such as [1-9], [01-10] or [1,3,5]) at column 5");
	assert_range_error("n[1:3]",
			   "'n[1:3]': non-numeric range '1:3' (expected numbers such as [1-9], [01-10] or [1,3,5]) at column 4");
	assert_range_error("n[]", "'n[]': empty range (expected a number such as [1-9] or [01-10]) at column 3");
	assert_range_error("n[1,]", "'n[1,]': empty range (expected a number such as [1-9] or [01-10]) at column 5");
	assert_range_error("n[1[2]]", "'n[1[2]]': nested '[' at column 4");
	assert_range_error("a b", "'a b': unexpected space in host name (expected letters, digits, '.', '-', '_', "
			   "a range like [01-10] or an IPv4/IPv6 address) at column 2");
	assert_range_error("n[1-1234567890123456789]",
			   "'n[1-1234567890123456789]': number too long in '1-1234567890123456789' (expected at most 18 digits) at column 3");
	/* 2 * 10^12 > 2^40; 10^12 alone is below it and allowed (lazily). */
	assert_range_error("ok,h[1-2000000].[1-1000000]",
			   "'ok,h[1-2000000].[1-1000000]': expands to more than 2^40 names at column 4");
}

static void test_range_large_lazy(void **state)
{
	struct hostrange *r = NULL;
	struct err err = {{0}};
	const char *name;
	char last[32] = "";
	size_t n = 0;

	(void)state;
	assert_int_equal(hostrange_open("h[1-1000000]", &r, &err), 0);
	assert_int_equal(hostrange_next(r, &name), 1);
	assert_string_equal(name, "h1");
	n = 1;
	while (n < 2000000 && hostrange_next(r, &name) == 1) {
		n++;
		if (n == 1000000)
			snprintf(last, sizeof(last), "%s", name);
	}
	assert_int_equal(n, 1000000);
	assert_string_equal(last, "h1000000");
	assert_int_equal(hostrange_next(r, &name), 0);
	hostrange_close(r);

	/* 10^12 names: only an odometer can open this. */
	assert_int_equal(hostrange_open("h[1-1000000].[000001-1000000]", &r, &err), 0);
	assert_int_equal(hostrange_next(r, &name), 1);
	assert_string_equal(name, "h1.000001");
	assert_int_equal(hostrange_next(r, &name), 1);
	assert_string_equal(name, "h1.000002");
	hostrange_close(r);
}

static void test_range_total(void **state)
{
	struct hostrange *r = NULL;
	struct err err = {{0}};

	(void)state;
	assert_int_equal(hostrange_open("rtr[01-02].dc[1-2],fw1", &r, &err), 0);
	assert_int_equal(hostrange_total(r), 5);
	hostrange_close(r);
	/* counted, never listed: 10^12 names */
	assert_int_equal(hostrange_open("h[1-1000000].[1-1000000]", &r, &err), 0);
	assert_int_equal(hostrange_total(r), 1000000000000ULL);
	hostrange_close(r);
	/* HOSTRANGE_NAME: one name, commas included, Ansible's a:b:step */
	assert_int_equal(hostrange_open_flags("www[01:09:2].x", HOSTRANGE_NAME, &r, &(size_t){0}, &err), 0);
	assert_int_equal(hostrange_total(r), 5);
	hostrange_close(r);
}

/* ------------------------------------------------------------------ */
/* Folding                                                             */

static void check(const char *want, const char *const *names, size_t n)
{
	struct buf b = BUF_INIT;

	hostrange_fold(names, n, &b);
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
	hostrange_fold(NULL, 0, &b);
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
	hostrange_fold((const char *const *)names, 10000, &b);
	/* folded on the node number: one group per rack */
	assert_string_equal(b.data, "node[00000-04999].rack0,node[05000-09999].rack1");
	for (int i = 0; i < 10000; i++)
		free(names[i]);
	free(names);
	buf_free(&b);
}

/* ------------------------------------------------------------------ */
/* Folding then expanding                                              */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* expand(fold(names)) is the set of names: sorted, each name once (a
 * name the expansion gives twice is a failure too). */
static void assert_round_trip(const char *const *names, size_t n)
{
	struct buf folded = BUF_INIT;
	struct hostrange *r = NULL;
	struct err err = {{0}};
	const char **want = calloc(n ? n : 1, sizeof(*want));
	char **got = calloc(n + 1, sizeof(*got));
	const char *name;
	size_t nwant = 0, ngot = 0;

	assert_non_null(want);
	assert_non_null(got);
	memcpy(want, names, n * sizeof(*want));
	qsort(want, n, sizeof(*want), cmp_str);
	for (size_t i = 0; i < n; i++)
		if (nwant == 0 || strcmp(want[nwant - 1], want[i]) != 0)
			want[nwant++] = want[i];

	hostrange_fold(names, n, &folded);
	if (hostrange_open(folded.data ? folded.data : "", &r, &err) < 0)
		fail_msg("fold gave '%s', which does not expand: %s", folded.data, err.msg);
	while (hostrange_next(r, &name) == 1) {
		if (ngot == n)
			fail_msg("'%s' expands to more than the %zu names folded", folded.data, n);
		got[ngot++] = strdup(name);
	}
	hostrange_close(r);
	qsort(got, ngot, sizeof(*got), cmp_str);
	if (ngot != nwant)
		fail_msg("'%s' expands to %zu names, folded from %zu", folded.data, ngot, nwant);
	for (size_t i = 0; i < ngot; i++)
		if (strcmp(got[i], want[i]) != 0)
			fail_msg("'%s' expands to '%s' where '%s' was folded", folded.data, got[i], want[i]);
	for (size_t i = 0; i < ngot; i++)
		free(got[i]);
	free(got);
	free(want);
	buf_free(&folded);
}

#define ROUND_TRIP(...)                                                      \
	do {                                                                 \
		const char *const v_[] = {__VA_ARGS__};                      \
		assert_round_trip(v_, sizeof(v_) / sizeof(v_[0]));            \
	} while (0)

static void test_round_trip(void **state)
{
	(void)state;
	ROUND_TRIP("rtr03.dc1", "rtr01.dc1", "rtr02.dc1", "rtr07.dc1", "rtr04.dc1", "rtr05.dc1");
	ROUND_TRIP("web1");
	ROUND_TRIP("c", "a", "b", "a");
	ROUND_TRIP("h10", "h9", "h11");
	ROUND_TRIP("h01", "h1", "h02", "h2", "h010", "h10", "h100", "h0", "h00");
	ROUND_TRIP("rtr09", "rtr10", "rtr11", "rtr099", "rtr100");
	ROUND_TRIP("core1.dc1", "core2.dc1", "core1.dc2", "core2.dc2", "core3.dc2");
	ROUND_TRIP("10.0.0.1", "10.0.0.3", "10.0.0.2", "10.0.1.1");
	ROUND_TRIP("fw2", "fw", "fw1", "fw-a", "fw_1b");
	ROUND_TRIP("x1234567890123456790", "x1234567890123456789", "x123456789012345678", "x123456789012345679");
	ROUND_TRIP("a1b2c3", "a1b2c4", "a1b3c3", "a2b2c3");
}

/* Sets drawn from a fixed seed over a few name shapes: padded and not,
 * one run or several, numbers that cross a power of ten. */
static void test_round_trip_drawn(void **state)
{
	static const char *const shapes[] = {"rtr%02u.dc%u", "h%u", "sw%03u-%u", "10.0.%u.%u", "n%u.r%02u", "h%04u"};
	uint64_t seed = 0x2545f4914f6cdd1dULL;
	char *names[64];

	(void)state;
	for (int set = 0; set < 300; set++) {
		size_t n = 1 + set % 60;

		for (size_t i = 0; i < n; i++) {
			unsigned a, b, s;

			seed = seed * 6364136223846793005ULL + 1442695040888963407ULL;
			s = (unsigned)(seed >> 60) % (sizeof(shapes) / sizeof(shapes[0]));
			a = (unsigned)(seed >> 33) % (set % 3 ? 120 : 12);
			b = (unsigned)(seed >> 20) % 4;
			names[i] = malloc(48);
			assert_non_null(names[i]);
			snprintf(names[i], 48, shapes[s], a, b);
		}
		assert_round_trip((const char *const *)names, n);
		for (size_t i = 0; i < n; i++)
			free(names[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_range_padding),
		cmocka_unit_test(test_range_groups_and_lists),
		cmocka_unit_test(test_range_errors),
		cmocka_unit_test(test_range_large_lazy),
		cmocka_unit_test(test_range_total),
		cmocka_unit_test(test_fold),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_large),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_round_trip_drawn),
	};
	return cmocka_run_group_tests_name("hostrange", tests, NULL, NULL);
}
