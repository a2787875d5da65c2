/* jqprog: compiling a job's jq expressions the same for every user. */
#include "jqprog.h"

#include <stdlib.h>

#include "util.h"

jq_state *jqprog_new(void)
{
	jq_state *jq = jq_init();

	if (jq)
		jq_set_attr(jq, jv_string("JQ_LIBRARY_PATH"), jv_array());
	return jq;
}

int jqprog_compile(jq_state *jq, const char *program)
{
	const char *home = getenv("HOME");
	char *saved = home ? xstrdup(home) : NULL;
	int ok;

	if (saved)
		unsetenv("HOME");
	ok = jq_compile(jq, program);
	if (saved)
		setenv("HOME", saved, 1);
	free(saved);
	return ok;
}
