/* run: `fleetrun run`: the event loop that drives the worker pool over
 * the targets and hands results to the sinks. The scheduling decisions
 * (dispatch, retries, recycling, the exit policy) are pool.h's. */
#ifndef FLEETRUN_RUN_H
#define FLEETRUN_RUN_H

#include <stdbool.h>
#include <stdint.h>

#include "job.h"
#include "shard.h"
#include "slot.h"
#include "stdout_out.h"
#include "summary.h"
#include "targets.h"

#define RUN_DEFAULT_WORKERS 64
#define RUN_MAX_WORKERS 4096
#define RUN_DEFAULT_GRACE_MS 2000
/* Attempts a task gets when its worker crashes, unless retries allow more. */
#define RUN_CRASH_ATTEMPTS 2
#define RUN_DEFAULT_RETRY_DELAY_MS 1000

struct run_opts {
	const struct job *job;
	struct targets_opts targets;
	int workers;            /* -w */
	int64_t timeout_ms;     /* -t, or the job's timeout */
	int64_t grace_ms;       /* --grace */
	uint64_t output_cap;    /* --max-output */
	const char *journal;    /* -o */
	bool resume;            /* --resume: skip hosts with a final record in the journal */
	bool retry_failed;      /* --retry-failed: run hosts whose last record is not ok */
	int retries;            /* --retries, or -1 for the job's retries */
	int64_t retry_delay_ms; /* --retry-delay: the first backoff */
	struct slot_limits limits; /* --worker-mem, --worker-files */
	int64_t worker_cpu_ms;  /* --worker-cpu: CPU per task, 0 for no limit */
	uint64_t max_tasks_per_worker; /* --max-tasks-per-worker, 0 for no limit */
	double rate;            /* --rate: tasks started per second, 0 for no limit */
	int max_logins;         /* --max-logins, else the job's: SSH logins in
	                           progress at once, 0 for no limit */
	int jump_max_logins;    /* --jump-max-logins, else the job's: of them to
	                           one jump host, 0 for no limit */
	const char *outdir;     /* --outdir: per-host files, or NULL */
	const char *transcript; /* --transcript: DIR/HOST sessions, or NULL */
	bool gather;            /* --gather: identical outputs grouped at the end */
	char *const *gather_keys; /* --gather-by (implies gather): the parsed
	                             values hosts are grouped by; NULL: none */
	size_t ngather_keys;
	bool progress;          /* the live line on stderr (a terminal, not -q) */
	bool color;             /* escapes allowed on the terminal */
	bool ordered;
	struct shard shard;     /* --shard: the part of the targets this run is (count 0: all) */
	enum stdout_out_format format;
	bool quiet;
	enum summary_format summary; /* --summary; SUMMARY_NONE with -q */
	const char *worker_path;
	int argc;               /* the command line ("run" first), for the */
	char *const *argv;      /* journal's start line and the resume line */
};

/* Run the job over the targets. Returns the exit code: 0 all ok, 1 some
 * host not ok, 2 configuration error, 3 the run was cut short. */
int run_job(const struct run_opts *o);


#endif
