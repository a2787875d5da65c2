/* Unit tests for runner/parsedview.c (parsed records as the text line and
 * --gather-by show them) and gather_keys_parse (runner/gather.c). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <msgpack.h>

#include "buf.h"
#include "gather.h"
#include "parsedview.h"

/* Records written as "k=v;k=[a,b]|k=v": '|' between records, ';' between
 * pairs, [...] a List value (a '~' item: nil); packed, then unpacked as
 * the supervisor sees them. */
struct recs {
	msgpack_sbuffer sb;
	msgpack_unpacked up;
};

static void pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	msgpack_pack_str(pk, n);
	msgpack_pack_str_body(pk, s, n);
}

static void pack_value(msgpack_packer *pk, const char *v, size_t n)
{
	size_t items = 1;

	if (n < 2 || v[0] != '[' || v[n - 1] != ']') {
		pack_str(pk, v, n);
		return;
	}
	v++;
	n -= 2;
	for (size_t i = 0; i < n; i++)
		items += v[i] == ',';
	msgpack_pack_array(pk, n ? items : 0);
	while (n > 0) {
		const char *c = memchr(v, ',', n);
		size_t len = c ? (size_t)(c - v) : n;
		if (len == 1 && *v == '~')
			msgpack_pack_nil(pk);
		else
			pack_str(pk, v, len);
		v += len + (c ? 1 : 0);
		n -= len + (c ? 1 : 0);
	}
}

static const msgpack_object *recs_make(struct recs *r, const char *spec)
{
	msgpack_packer pk;
	char *copy = strdup(spec), *save = NULL;
	size_t nrec = *spec ? 1 : 0;

	msgpack_sbuffer_init(&r->sb);
	msgpack_packer_init(&pk, &r->sb, msgpack_sbuffer_write);
	for (const char *p = spec; *p; p++)
		nrec += *p == '|';
	msgpack_pack_array(&pk, nrec);
	for (char *rec = strtok_r(copy, "|", &save); rec; rec = strtok_r(NULL, "|", &save)) {
		size_t npairs = 1;
		for (const char *p = rec; *p; p++)
			npairs += *p == ';';
		msgpack_pack_map(&pk, npairs);
		for (char *pair = rec, *next; pair; pair = next) {
			char *eq = strchr(pair, '=');
			next = strchr(pair, ';');
			if (next)
				*next++ = '\0';
			pack_str(&pk, pair, (size_t)(eq - pair));
			pack_value(&pk, eq + 1, strlen(eq + 1));
		}
	}
	free(copy);
	msgpack_unpacked_init(&r->up);
	assert_int_equal(msgpack_unpack_next(&r->up, r->sb.data, r->sb.size, NULL), MSGPACK_UNPACK_SUCCESS);
	return &r->up.data;
}

static void recs_free(struct recs *r)
{
	msgpack_unpacked_destroy(&r->up);
	msgpack_sbuffer_destroy(&r->sb);
}

/* parsedview_line of spec in cols columns (malloced). */
static char *line(const char *spec, size_t cols)
{
	struct recs r;
	struct buf b = BUF_INIT;

	parsedview_line(&b, recs_make(&r, spec), cols);
	recs_free(&r);
	buf_putc(&b, '\0');
	return buf_steal(&b);
}

#define assert_line(spec, cols, want)                                                                          \
	do {                                                                                                   \
		char *got_ = line(spec, cols);                                                                 \
		assert_string_equal(got_, want);                                                               \
		free(got_);                                                                                    \
	} while (0)

static void test_line(void **state)
{
	(void)state;
	/* the template's order, List values as a,b, empty values left out */
	assert_line("version=17.3.4a;reload=;hardware=[C8000V];serial=[FLB1,FLB2]", 100,
	            "version=17.3.4a hardware=C8000V serial=FLB1,FLB2");
	/* a nil in a List is nothing */
	assert_line("serial=[a,~,b]", 100, "serial=a,,b");
	assert_line("serial=[]", 100, "(no values)");
	/* the rest of the records counted */
	assert_line("intf=Gi1;status=up|intf=Gi2;status=down", 100, "intf=Gi1 status=up (+1 record)");
	assert_line("intf=Gi1|intf=Gi2|intf=Gi3", 100, "intf=Gi1 (+2 records)");
	assert_line("", 100, "(no records)");
	/* spaces and quotes read apart */
	assert_line("uptime=4 weeks, 2 days;name=say \"hi\"", 100,
	            "uptime=\"4 weeks, 2 days\" name=\"say \\\"hi\\\"\"");
}

static void test_line_escaped_and_cut(void **state)
{
	(void)state;
	/* a device's control bytes, escaped; bidi overrides too */
	assert_line("banner=\x1b[2J\x07", 100, "banner=\\x1b[2J\\x07");
	assert_line("name=ab\xe2\x80\xaeyz", 100, "name=ab\\u202eyz");
	/* cut at the bound, the ellipsis included; wide characters count two */
	assert_line("v=0123456789", 8, "v=01234…");
	assert_line("v=0123456", 9, "v=0123456");
	assert_line("v=日本語の", 8, "v=日本…");
	assert_line("v=0123456789|v=1", 8, "v=01234… (+1 record)");
	/* no space before the ellipsis */
	assert_line("a=1234;b=5678", 8, "a=1234…");
}

static bool select_(const char *spec, const char *keys_list, char **out)
{
	struct recs r;
	struct buf b = BUF_INIT;
	char **keys;
	size_t nkeys;
	struct err err;
	bool found;

	assert_int_equal(gather_keys_parse(keys_list, &keys, &nkeys, &err), 0);
	found = parsedview_select(&b, recs_make(&r, spec), keys, nkeys);
	recs_free(&r);
	gather_keys_free(keys, nkeys);
	buf_putc(&b, '\0');
	*out = buf_steal(&b);
	return found;
}

#define assert_select(spec, keys, want)                                                                        \
	do {                                                                                                   \
		char *got_;                                                                                    \
		assert_true(select_(spec, keys, &got_));                                                       \
		assert_string_equal(got_, want);                                                               \
		free(got_);                                                                                    \
	} while (0)

#define assert_no_select(spec, keys)                                                                           \
	do {                                                                                                   \
		char *got_;                                                                                    \
		assert_false(select_(spec, keys, &got_));                                                      \
		assert_string_equal(got_, "");                                                                 \
		free(got_);                                                                                    \
	} while (0)

static void test_select(void **state)
{
	(void)state;
	/* the keys' order, not the records' */
	assert_select("version=17.3.4a;hardware=[C8000V]", "Hardware,VERSION", "hardware=C8000V version=17.3.4a");
	/* over all records: distinct values, sorted */
	assert_select("intf=Gi1;status=up|intf=Gi2;status=down|intf=Gi3;status=up", "status", "status=down,up");
	/* a value with a space quoted, a control byte escaped */
	assert_select("status=administratively down|status=up", "status", "status=\"administratively down,up\"");
	assert_select("v=a\x1b[2Jb", "v", "v=a\\x1b[2Jb");
	/* a key with no non-empty value anywhere: the host is without it */
	assert_no_select("version=;hardware=x", "version");
	assert_no_select("version=1", "version,serial");
	assert_no_select("", "version");
}

static void test_keys_parse(void **state)
{
	char **keys = NULL;
	size_t n = 0;
	struct err err;
	static const char *const bad[] = {"", ",", "a,", ",a", "a,,b", "a b", "a;b", "a-b", "é"};
	char long_key[GATHER_MAX_KEY_LEN + 2];

	(void)state;
	assert_int_equal(gather_keys_parse("Version,hardware,UP_time9", &keys, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(keys[0], "version");
	assert_string_equal(keys[1], "hardware");
	assert_string_equal(keys[2], "up_time9");
	gather_keys_free(keys, n);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		keys = NULL;
		assert_int_equal(gather_keys_parse(bad[i], &keys, &n, &err), -1);
		assert_null(keys);
		assert_non_null(strstr(err.msg, "--gather-by"));
	}
	assert_int_equal(gather_keys_parse("a,b,c,d,e,f,g,h,i,j,k,l,m,n,o,p,q", &keys, &n, &err), -1);
	assert_string_equal(err.msg, "--gather-by: at most 16 keys");
	memset(long_key, 'a', sizeof(long_key) - 1);
	long_key[sizeof(long_key) - 1] = '\0';
	assert_int_equal(gather_keys_parse(long_key, &keys, &n, &err), -1);
	assert_string_equal(err.msg, "--gather-by: a value name of more than 64 characters");
	long_key[GATHER_MAX_KEY_LEN] = '\0';
	assert_int_equal(gather_keys_parse(long_key, &keys, &n, &err), 0);
	gather_keys_free(keys, n);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_line),
		cmocka_unit_test(test_line_escaped_and_cut),
		cmocka_unit_test(test_select),
		cmocka_unit_test(test_keys_parse),
	};
	return cmocka_run_group_tests_name("parsedview", tests, NULL, NULL);
}
