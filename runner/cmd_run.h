/* cmd_run: `fleetrun run`'s options, apart from the command so that a
 * unit test can parse them without a process (tests/unit/test_cmd_run.c). */
#ifndef FLEETRUN_CMD_RUN_H
#define FLEETRUN_CMD_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "cli.h"
#include "cmd.h"
#include "run.h"
#include "summary.h"

/* What the command line says. run is what run_job gets: its job, targets,
 * shard, journal path and worker are filled in after parsing. The strings
 * are argv's. */
struct cmd_run_opts {
	struct run_opts run;
	struct cmd_targets targets;  /* -i, -H, -l, --shard, --shards; owned (cmd_run_opts_free) */
	const char *jobs_dir;        /* --jobs-dir, or NULL */
	const char *templates;       /* --templates: a TextFSM collection, or NULL */
	const char *gather_by;       /* --gather-by KEY[,KEY], or NULL */
	char **gather_keys;          /* its keys once parsed: malloced, owned
	                                (cmd_run_opts_free); run.gather_keys */
	int64_t timeout_ms;          /* -t, or 0: the job's timeout */
	int verbose;                 /* -v, counted */
	int color;                   /* --color: -1 auto, 1 always, 0 never */
	enum summary_format summary; /* --summary, or SUMMARY_NONE: not asked for */
	bool dry_run;                /* --dry-run */
	bool no_progress;            /* --no-progress */
};

/* run's own options (the targets' are cmd.h's). */
extern const struct cli_opt cmd_run_options[];

/* Fill o with the defaults, then parse argv's options into it. */
enum cli_result cmd_run_parse(int argc, char **argv, struct cmd_run_opts *o, struct err *err);
void cmd_run_opts_free(struct cmd_run_opts *o);

#endif
