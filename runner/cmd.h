/* cmd: the subcommands of fleetrun, one cmd_*.c each (main.c's table
 * names them), and the options several of them share: the targets (-i,
 * -H, -l, --shard, --shards: run and hosts) and --summary's words (run and
 * report). As git's builtin.h, this header is the list of commands; each
 * takes argv with its own name as argv[0] and returns the exit code. */
#ifndef FLEETRUN_CMD_H
#define FLEETRUN_CMD_H

#include <stddef.h>

#include "cli.h"
#include "targets.h"
#include "util.h"

int cmd_run(int argc, char **argv);    /* cmd_run.c */
int cmd_hosts(int argc, char **argv);  /* cmd_hosts.c */
int cmd_jobs(int argc, char **argv);   /* cmd_jobs.c */
int cmd_check(int argc, char **argv);  /* cmd_jobs.c: it shares jobs' --jobs-dir */
int cmd_report(int argc, char **argv); /* cmd_report.c */
int cmd_merge(int argc, char **argv);  /* cmd_merge.c */
int cmd_submit(int argc, char **argv); /* cmd_submit.c */
int cmd_parse(int argc, char **argv);  /* cmd_parse.c */

/* The target options, as given. The strings are argv's. */
struct cmd_targets {
	struct cli_list inventories; /* -i */
	struct cli_list patterns;    /* -H */
	const char *limit;           /* -l, or NULL */
	struct cli_list excludes;    /* -x */
	const char *shard;           /* --shard, or NULL */
	const char *shards;          /* --shards, or NULL */
};

/* Their table, for a command's cli_tables at offsetof its cmd_targets. */
extern const struct cli_opt cmd_targets_options[];

/* The targets to open; valid while t is. */
void cmd_targets_opts(const struct cmd_targets *t, struct targets_opts *o);
void cmd_targets_free(struct cmd_targets *t);

/* --summary text|json, for cli_enum. */
extern const struct cli_word cmd_summary_words[];
#define CMD_SUMMARY_EXPECTED "text or json"

#endif
