/* task: one host's task as the supervisor tracks it until its record is
 * out, and the stable key that names a job on a host across runs.
 *
 * Apart from slot.c (a worker process) and pool.c (the scheduler): a task
 * lives longer than any one worker (a retry runs on another), waits in
 * the retry queue, and its key is what journals, --resume and
 * `hosts --from` match on. */
#ifndef FLEETRUN_TASK_H
#define FLEETRUN_TASK_H

#include <stdint.h>

#include "inventory.h"

struct task_rec {
	uint64_t seq;       /* position in target order, from 0: the task
	                       frame's id and the --ordered window's place */
	uint32_t attempt;   /* 1 for the first try */
	struct host host;   /* owned */
	int64_t started_wall_ms; /* when the current attempt was dispatched */
	int64_t started_mono_ms;
};

/* NULL is fine. */
void task_rec_free(struct task_rec *t);

/* The task key of a job on a host (the "task" member of records): a
 * 64-bit FNV-1a hash of both names, so it stays the same whatever the
 * inventory's order or content, and a journal written today resumes
 * later. Unlike seq, which only orders one run's targets. */
uint64_t task_key(const char *job, const char *host);

#endif
