/* Unit tests for common/taskscope.c, the one builder of a task's template
 * scope (the worker's and --dry-run's): the built-ins, the lookup order
 * (captured, host vars, built-ins), and the host vars that are secrets
 * from the start, masked whether a template uses them or not. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "buf.h"
#include "kv.h"
#include "taskscope.h"
#include "tmpl.h"
#include "util.h"

/* t rendered in ts and masked with its secrets, as the worker and the dry
 * run show it. */
static void assert_shows(struct taskscope *ts, const char *t, const char *want)
{
	struct buf out = BUF_INIT;
	struct err err = {{0}};

	assert_int_equal(tmpl_render(t, &ts->scope, TMPL_ENV_VALUE, &out, &ts->secrets, &err), 0);
	tmpl_mask(&out, &ts->secrets);
	assert_string_equal(out.data ? out.data : "", want);
	buf_free(&out);
}

static void test_builtins_and_order(void **state)
{
	struct kvlist vars = KVLIST_INIT;
	struct taskscope ts;

	(void)state;
	kvlist_set(&vars, "address", "10.0.0.1");
	kvlist_set(&vars, "x", "hostvar");
	taskscope_init(&ts, "show-version", "rtr1", &vars);
	assert_shows(&ts, "${host} ${address} ${port} ${job}", "rtr1 10.0.0.1 22 show-version");
	assert_non_null(kvlist_get(&ts.builtins, "user"));
	/* a host var over a built-in of the same name; a captured var over
	 * both, visible through the scope as soon as a step captures it */
	assert_shows(&ts, "${x}", "hostvar");
	kvlist_set(&vars, "host", "from-inventory");
	assert_shows(&ts, "${host}", "from-inventory");
	kvlist_set(&ts.captured, "x", "captured");
	assert_shows(&ts, "${x}", "captured");
	assert_int_equal(ts.secrets.len, 0);
	taskscope_free(&ts);
	kvlist_free(&vars);
}

static void test_secret_host_vars(void **state)
{
	struct kvlist vars = KVLIST_INIT;
	struct taskscope ts;

	(void)state;
	kvlist_set(&vars, "api_token", "tok123");
	kvlist_set(&vars, "enable_password", "en\"able");
	kvlist_set(&vars, "site", "dc1");
	taskscope_init(&ts, "j", "rtr1", &vars);
	/* masked without a template naming them: a command may print its
	 * FLEETRUN_API_TOKEN, a device may echo the JSON-escaped form */
	assert_shows(&ts, "site dc1 tok123 en\"able en\\\"able", "site dc1 *** *** ***");
	assert_null(kvlist_get(&ts.secrets, "dc1"));
	taskscope_free(&ts);
	kvlist_free(&vars);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_builtins_and_order),
		cmocka_unit_test(test_secret_host_vars),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
