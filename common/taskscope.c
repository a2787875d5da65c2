/* taskscope: a task's template scope and secrets; see taskscope.h. */
#include "taskscope.h"

void taskscope_init(struct taskscope *ts, const char *job, const char *host, const struct kvlist *vars)
{
	*ts = (struct taskscope){
		.captured = KVLIST_INIT,
		.builtins = KVLIST_INIT,
		.secrets = KVLIST_INIT,
	};
	ts->scope = (struct tmpl_scope){&ts->captured, vars, &ts->builtins};
	tmpl_builtins(&ts->builtins, job, host, vars);
	for (size_t i = 0; i < vars->len; i++)
		if (tmpl_is_secret_name(vars->items[i].key))
			tmpl_secret_add(&ts->secrets, vars->items[i].value);
}

void taskscope_free(struct taskscope *ts)
{
	kvlist_free(&ts->captured);
	kvlist_free(&ts->builtins);
	kvlist_free(&ts->secrets);
}
