/* submit: `fleetrun submit --slurm`: a sharded run as a Slurm job array,
 * one array task per shard, each writing its own journal, merged
 * afterwards with `fleetrun merge`.
 *
 * The batch script carries the command line and nothing of the
 * environment: secrets that jobs read with ${env:NAME} reach the tasks
 * the way Slurm passes the submitter's environment (sbatch --export,
 * ALL by default), never through the script's text. */
#ifndef FLEETRUN_SUBMIT_H
#define FLEETRUN_SUBMIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

struct submit_opts {
	const char *fleetrun;                 /* this program, an absolute path */
	const char *job;                      /* JOB as given to submit */
	const char *job_name;                 /* its name, for the Slurm job name */
	const char *dir;                      /* the journals' directory, absolute */
	const char *cwd;                      /* where the tasks start */
	uint32_t shards;
	const char *const *run_args;          /* run options after JOB */
	size_t nrun_args;
	const char *const *sbatch_args;       /* --sbatch OPT: extra #SBATCH lines */
	size_t nsbatch_args;
	bool resume;                          /* --resume among run_args: an earlier dir's journals go on */
};

/* The batch script, into out. */
void submit_script(const struct submit_opts *o, struct buf *out);

/* Run options submit sets itself (-o, --shard, --shards) or that would
 * make the array do nothing (--dry-run, --help) are refused. 0, or -1
 * with err naming the option. */
int submit_check_run_args(const char *const *args, size_t n, struct err *err);

/* Is s usable as is in an #SBATCH line and a file name pattern (no
 * space, quote, backslash, $, ` or %)? */
int submit_plain_path(const char *s);

/* A dry run of shard 0 with the run options: the job, the options and the
 * targets are checked here, not in a queue an hour later. 0, or -1 with
 * err; the dry run's own messages, which say what is wrong, have gone to
 * stderr. */
int submit_validate(const struct submit_opts *o, struct err *err);

/* The journals' directory: created (0700), or an earlier one whose
 * journals this submission may continue only when asked (o->resume). 0,
 * or -1 with err. */
int submit_prepare_dir(const struct submit_opts *o, struct err *err);

/* The script b into path (0600). 0, or -1 with err. */
int submit_write_file(const char *path, const struct buf *b, struct err *err);

/* sbatch --parsable SCRIPT: the job id into id. 0, or -1 with err
 * (sbatch's own message has gone to stderr). */
int submit_sbatch(const char *script, struct buf *id, struct err *err);

#endif
