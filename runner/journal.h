/* journal: JSON Lines journals read back (--resume, --retry-failed,
 * `hosts --from`, `report`, `merge`), the stable task key records carry,
 * and whether a file is a journal at all (what -o and merge may append
 * to). Writing one (the lock, the torn-line cut, group sync) is
 * journal_out.c's.
 *
 * A journal is append-only. The record that counts for a task is its last
 * final one: a record is final unless the run was interrupted before the
 * task finished ("interrupted": true). A last line without its newline is
 * a record the supervisor was killed while writing; it is ignored. Each
 * run also writes a start and an end line around its records
 * (journal_run.h), which are not records. */
#ifndef FLEETRUN_JOURNAL_H
#define FLEETRUN_JOURNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <yajl/yajl_tree.h>

#include "hashidx.h"
#include "proto.h"
#include "status.h"
#include "util.h"

/* One record, as journal_read hands it to its callback. Pointers are valid
 * during the call only. */
struct journal_entry {
	const char *path;
	unsigned long lineno;
	const char *line;        /* the record's text, without the newline */
	size_t len;
	yajl_val root;           /* the parsed object */
	const char *host;        /* never NULL */
	const char *job;         /* never NULL */
	enum status status;
	uint64_t task;           /* the "task" member, or task_key(job, host) */
	long long attempt;       /* 0 when absent */
	bool final;              /* false for a task the run was stopped on */
};

/* Return 0 to go on, anything else to stop reading (returned as is). */
typedef int (*journal_fn)(const struct journal_entry *e, void *ctx);

/* Every record of the file in order. A line that is not a record is
 * skipped with a warning naming file:line; a torn last line is skipped
 * with a note. Returns 0, the callback's non-zero value, or -1 with err
 * when the file cannot be read. */
int journal_read(const char *path, journal_fn fn, void *ctx, struct err *err);

/* A run's start or end line (journal_run.h), with its line number. Return
 * 0 to go on. */
typedef int (*journal_run_fn)(yajl_val root, unsigned long lineno, void *ctx);
/* journal_read, and the run lines to run_fn (journal_read skips them;
 * run_fn NULL does the same). */
int journal_read_all(const char *path, journal_fn fn, journal_run_fn run_fn, void *ctx, struct err *err);

/* A record's member: a string (NULL when absent or not a string), an
 * integer (0 when absent or not an integer). */
const char *journal_get_str(yajl_val obj, const char *key);
int64_t journal_get_int(yajl_val obj, const char *key);
/* "2026-11-22T01:20:50.476Z", a record's "started", as milliseconds
 * since the epoch: 0, or -1 when the text is not such a time. */
int journal_time_ms(const char *iso, int64_t *out);

/* A record's duration: 0 when absent, negative or not an integer, at most
 * JOURNAL_MAX_DURATION_MS (a journal is data: sums of times stay in
 * range). */
#define JOURNAL_MAX_DURATION_MS (100LL * 366 * 24 * 3600 * 1000)
int64_t journal_get_duration_ms(yajl_val obj, const char *key);

/* No record nests deeper than the worker message it came from. */
#define JOURNAL_MAX_DEPTH PROTO_MAX_DEPTH
/* The deepest nesting of arrays and objects in the JSON text p[0..n)
 * (strings skipped), counted up to just past JOURNAL_MAX_DEPTH. */
int journal_nesting(const char *p, size_t n);

/* A task key (task_key() in task.h) as the "task" member of a record: 16
 * hex digits and a NUL. */
void journal_task_hex(uint64_t id, char out[17]);

/* Which record counts for a task: does a record read after the one held
 * so far (held_final: whether that one is final) take its place? A final
 * record beats an interrupted one and is never undone by one; of two
 * alike, the later wins (a journal is append-only: later in the file is
 * later in time). So what counts is the last final record, or, for a task
 * with none, its last interrupted one. The index below, and through it
 * `report`, `hosts --from`, --resume and --retry-failed, follow this
 * rule; `merge` follows it within each journal and breaks ties between
 * journals on its own (merge.c). */
bool journal_record_replaces(bool final, bool held_final);

/* The record that counts for each task of a journal: what resume,
 * retry-failed, `hosts --from` and `report` ask about. */
struct journal_last {
	uint64_t task;
	char *host;               /* of its first record; malloced, owned */
	enum status status;       /* of the record that counts */
	bool final;               /* that record is final: some final record exists */
	unsigned long line;       /* where that record is in the file (from 1) */
};

struct journal_index {
	struct journal_last *last; /* len of them, in order first seen; malloced, owned */
	size_t len, cap;
	struct hashidx map;       /* task -> its entry in last */
	char *job;                /* the job of the records, or NULL; malloced */
	bool mixed_jobs;          /* records of more than one job */
};

/* Read path into idx (which starts zeroed). Only the records of job count
 * when job is not NULL. 0, or -1 with err. */
int journal_index_load(struct journal_index *idx, const char *path, const char *job, struct err *err);
const struct journal_last *journal_index_get(const struct journal_index *idx, uint64_t task);
void journal_index_free(struct journal_index *idx);

/* Is the file at fd (not empty) a journal? Its first line that is not
 * blank must be a run's start line, a result record (host, job, status),
 * or a torn start of one; anything else (a binary file, JSON that is not records) is
 * another file -o must not touch. Reads it from offset 0 without moving
 * the offset. 0, or -1 with err. */
int journal_check_head(int fd, const char *path, struct err *err);

/* The same checks on the file at path, before a run reads it or decides
 * it has nothing to do: 0 when there is no such file, or it is not a
 * regular file, or it is a journal; -1 with err for a symbolic link or
 * another file. */
int journal_check_path(const char *path, struct err *err);

#endif
