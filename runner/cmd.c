/* cmd: the options several subcommands share (see cmd.h). */
#include "cmd.h"

#include "summary.h"

#define CMD_TARGETS(member) CLI_FIELD(struct cmd_targets, member)

const struct cli_opt cmd_targets_options[] = {
	{"inventory", 'i', true, cli_list, CMD_TARGETS(inventories), 0, 0, NULL, NULL},
	{"hosts", 'H', true, cli_list, CMD_TARGETS(patterns), 0, 0, NULL, NULL},
	{"limit", 'l', true, cli_string, CMD_TARGETS(limit), 0, 0, NULL, NULL},
	{"exclude", 'x', true, cli_list, CMD_TARGETS(excludes), 0, 0, NULL, NULL},
	/* checked together, once both are known (shard_resolve) */
	{"shard", 0, true, cli_string, CMD_TARGETS(shard), 0, 0, NULL, NULL},
	{"shards", 0, true, cli_string, CMD_TARGETS(shards), 0, 0, NULL, NULL},
	{NULL},
};

const struct cli_word cmd_summary_words[] = {
	{"text", SUMMARY_TEXT},
	{"json", SUMMARY_JSON},
	{NULL, 0},
};

void cmd_targets_opts(const struct cmd_targets *t, struct targets_opts *o)
{
	o->inventories = t->inventories.v;
	o->ninventories = t->inventories.n;
	o->patterns = t->patterns.v;
	o->npatterns = t->patterns.n;
	o->limit = t->limit;
	o->excludes = t->excludes.v;
	o->nexcludes = t->excludes.n;
}

void cmd_targets_free(struct cmd_targets *t)
{
	cli_list_free(&t->inventories);
	cli_list_free(&t->patterns);
	cli_list_free(&t->excludes);
}
