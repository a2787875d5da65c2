/* cmd_merge: `fleetrun merge JOURNAL... -o FILE`: its options; the merge
 * is merge.c's. */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "merge.h"

static const char cmd_merge_usage[] =
	"usage: fleetrun merge JOURNAL... -o FILE [-q] [-v]\n"
	"\n"
	"Merge the journals of one job (the per-shard journals of a sharded run)\n"
	"into FILE: one record per host, the latest final record of each (a\n"
	"record marked interrupted is not final), then the summary of the whole\n"
	"run on stderr. Torn last lines are ignored. Journals of different jobs\n"
	"are refused. FILE (mode 0600) is written beside itself and renamed into\n"
	"place, replacing an older merge; it must not be one of the journals.\n"
	"\n"
	"  -o, --output FILE   the merged journal\n"
	"  -q, --quiet         no summary\n"
	"  -v, --verbose       say more (torn lines, duplicates)\n"
	"\n"
	"example:\n"
	"  fleetrun merge results-*.jsonl -o all.jsonl\n"
	"\n"
	"exit: 0 every host ok, 1 some host not ok or without a final record,\n"
	"2 usage error, 3 the merged journal could not be written\n";

struct cmd_merge_opts {
	struct merge_opts merge;
	int verbose; /* -v */
};

#define MERGE(member) CLI_FIELD(struct cmd_merge_opts, member)

static const struct cli_opt cmd_merge_options[] = {
	{"output", 'o', true, cli_string, MERGE(merge.output), 0, 0, NULL, NULL},
	{"quiet", 'q', false, cli_flag, MERGE(merge.quiet), 0, 0, NULL, NULL},
	{"verbose", 'v', false, cli_count, MERGE(verbose), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_merge_tables[] = {
	{cmd_merge_options, 0},
};

int cmd_merge(int argc, char **argv)
{
	struct cmd_merge_opts o = {0};
	int rc;

	if ((rc = cli_command(argc, argv, cmd_merge_usage, cmd_merge_tables, ARRAY_LEN(cmd_merge_tables), &o)) >= 0)
		return rc;
	log_init("fleetrun", o.verbose ? LOG_INFO : LOG_WARN);
	if (optind >= argc) {
		log_error("merge: which journals? name them: fleetrun merge results-*.jsonl -o all.jsonl");
		return CLI_EXIT_USAGE;
	}
	if (!o.merge.output || !*o.merge.output) {
		log_error("merge: where to? give the merged journal with -o FILE");
		return CLI_EXIT_USAGE;
	}
	o.merge.inputs = (const char *const *)(argv + optind);
	o.merge.ninputs = (size_t)(argc - optind);
	return merge_journals(&o.merge);
}
