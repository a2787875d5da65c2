/* journal_run: the two lines a run writes around its records in the
 * journal, and reading them back.
 *
 *   {"run":"start","job":...,"job_sha256":...,"targets":200,"to_run":200,
 *    "argv":[...],"options":{...},"fleetrun":"0.x","started":"...Z"}
 *   ... the run's records ...
 *   {"run":"end","job":...,"state":"finished"|"interrupted"|"cut",
 *    "counts":{"ok":80,...},"not_started":120,"started":...,"ended":...,
 *    "wall_ms":...}
 *
 * So `report` can say how a run ended, how many hosts it never reached,
 * how to resume it, and each run's own wall time when several runs
 * (--resume, --retry-failed) appended to one journal. Neither line has a
 * host or a status: every reader of records (journal.c) skips them, and
 * journals written before them read as they always did.
 *
 * Apart from journal_out.c (bytes to the file) and journal.c (records
 * back): this is what the two run lines say. */
#ifndef FLEETRUN_JOURNAL_RUN_H
#define FLEETRUN_JOURNAL_RUN_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "status.h"

/* What the start line says. */
struct journal_run_start {
	const char *job;          /* the job's name */
	const char *job_path;     /* its file: hashed (job_sha256) */
	uint64_t targets;         /* every target of the run (shard), done or not */
	uint64_t to_run;          /* those this run was to run (--resume skips) */
	const char *shard;        /* "K/N", or NULL */
	int argc;                 /* the command line, for the resume line */
	char *const *argv;
	int workers;
	int64_t timeout_ms;
	bool resume, retry_failed;
	int64_t started_wall_ms;
};

enum journal_run_state {
	JOURNAL_RUN_FINISHED,    /* every host it was to run got a record */
	JOURNAL_RUN_INTERRUPTED, /* a signal stopped it */
	JOURNAL_RUN_CUT,         /* it stopped itself: workers, output errors */
};

/* What the end line says. */
struct journal_run_end {
	const char *job;
	enum journal_run_state state;
	const uint64_t *counts;   /* STATUS_COUNT of them: records of this run */
	uint64_t not_started;     /* of to_run, the hosts never started */
	int64_t started_wall_ms, ended_wall_ms;
	int64_t wall_ms;          /* monotonic: the run's own length */
};

/* The lines, as JSON without the newline, appended to out. */
void journal_run_start_json(const struct journal_run_start *s, struct buf *out);
void journal_run_end_json(const struct journal_run_end *e, struct buf *out);

/* A run line read back (valid while its tree is). */
struct journal_run_mark {
	bool start;               /* a start line; else an end line */
	const char *job;          /* never NULL */
	uint64_t targets;         /* start: 0 when absent */
	yajl_val argv;            /* start: an array of strings, or NULL */
	const char *state;        /* end: "finished", "interrupted", "cut" */
	uint64_t not_started;     /* end */
	int64_t wall_ms;          /* end: 0 when absent */
	int64_t started_ms;       /* the "started" time, 0 when absent */
};

/* Is root a run line? 1 and *m, or 0 (a record, which has a host, or
 * anything else). */
int journal_run_parse(yajl_val root, struct journal_run_mark *m);

/* "fleetrun ARGV... --resume": a run's command line (argv[0] is "run"),
 * shell-quoted, into out; --resume added unless there. */
void journal_run_resume_line(const char *const *argv, size_t argc, struct buf *out);
/* The same for a start line's argv (a JSON array of strings). 0, or -1
 * when it has none. */
int journal_run_resume_json(yajl_val argv, struct buf *out);

#endif
