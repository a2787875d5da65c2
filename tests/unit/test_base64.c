/* test_base64: base64_append against RFC 4648's test vectors (section 10),
 * with bytes past ASCII and appending after what a buffer holds. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "base64.h"

static void check(const char *in, size_t n, const char *want)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "<");
	base64_append(&b, in, n);
	assert_string_equal(b.data + 1, want);
	assert_int_equal(b.len, 1 + strlen(want));
	buf_free(&b);
}

static void test_rfc4648_vectors(void **state)
{
	(void)state;
	check("", 0, "");
	check("f", 1, "Zg==");
	check("fo", 2, "Zm8=");
	check("foo", 3, "Zm9v");
	check("foob", 4, "Zm9vYg==");
	check("fooba", 5, "Zm9vYmE=");
	check("foobar", 6, "Zm9vYmFy");
}

static void test_binary(void **state)
{
	(void)state;
	check("\xff\xfe\x00\x80", 4, "//4AgA==");
	check("admin:s3cr3t", 12, "YWRtaW46czNjcjN0");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rfc4648_vectors),
		cmocka_unit_test(test_binary),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
