/* jobdir: where jobs are found, and which places may hold them; and,
 * since the installed jobs are found from it, where this program is
 * (/proc/self/exe) and the worker program beside it.
 *
 * Job files are code: a job runs commands here with every credential of
 * the fleet. So a job is taken by name only from a directory the invoking
 * user (or root) owns and no one else can write, and only when the file
 * itself is owned by the user or root and writable by no one else, as
 * OpenSSH takes ~/.ssh/config. The places, in order: --jobs-dir,
 * $FLEETRUN_JOBS_DIR, ./jobs.d, the installed share/fleetrun/jobs.d. A
 * directory that fails the check is skipped with a warning that says
 * why; a job file in a trusted directory that fails it is an error.
 *
 * --jobs-dir DIR and a path to a .yaml file are the operator's own choice:
 * owner and group are not asked about (a team's group-writable directory
 * is theirs to share), but, as OpenSSH's StrictModes, a place anyone on
 * the machine can write is refused: a file writable by others, or a
 * directory writable by others unless it is sticky (/tmp) and the file is
 * the user's or root's.
 *
 * The checks are made on the opened directory and file (fstat), and the
 * job is read from the file checked, so nothing can be swapped in between. */
#ifndef FLEETRUN_JOBDIR_H
#define FLEETRUN_JOBDIR_H

#include <stdbool.h>
#include <stddef.h>

#include "job.h"
#include "util.h"

#define JOBDIR_MAX 4

struct jobdir {
	const char *path;
	bool chosen; /* --jobs-dir: the operator's choice, checked as such */
};

/* The places job names are looked up, in order; their number. opt is
 * --jobs-dir or NULL. The strings live as long as the program. */
size_t jobdir_list(const char *opt, struct jobdir out[JOBDIR_MAX]);

/* This program's absolute path (malloced), or NULL when unknown: what
 * submit's batch script runs. */
char *jobdir_self_exe(void);
/* The directory this program is in (malloced), or NULL: jobs installed
 * beside it, and the worker program. */
char *jobdir_self(void);
/* The worker program (malloced): $FLEETRUN_WORKER, else fleetrun-worker
 * beside this program (bin/, or PREFIX/bin), else looked up in PATH. */
char *jobdir_worker_path(void);

/* Is arg a path (a '/', or a name ending in .yaml or .yml) rather than a
 * job name? */
bool jobdir_is_path(const char *arg);

/* The job arg names: by name in the places of jobdir_list(opt), or by
 * path. 0 and *out (job_free), or -1 with err ("no job named ...", the
 * file's check or parse error); skipped directories are warned about. */
int jobdir_load(const char *arg, const char *opt, struct job **out, struct err *err);

/* One job of a listing. */
struct jobdir_entry {
	char *name;     /* malloced, owned */
	const char *dir; /* the place it comes from (jobdir_list's string) */
	struct job *job; /* NULL when it could not be used; owned */
	char *problem;  /* NULL, or why not (malloced, owned) */
};

/* Every job in the places of jobdir_list(opt), a name once (the first
 * place that has it, as lookup would take it), sorted by name within each
 * place: a malloced array of *n entries (jobdir_entries_free). Skipped
 * directories are warned about. */
struct jobdir_entry *jobdir_entries(const char *opt, size_t *n);
void jobdir_entries_free(struct jobdir_entry *e, size_t n);

#endif
