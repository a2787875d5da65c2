/* task: run the steps of the job for one host and build the result: the
 * worker's one task loop, over the table of step kinds. */
#ifndef FLEETRUN_TASK_H
#define FLEETRUN_TASK_H

#include "buf.h"
#include "job.h"
#include "proto.h"
#include "util.h"

/* At start-up, before any task: each step kind's prepare for the job.
 * 0, or -1 with err. */
int task_prepare(const struct job *job, struct err *err);
/* At exit: each step kind's finish. */
void task_finish(void);

/* Run every step of the job for one task and append the result frame to
 * out. expect_res holds each step's compiled `expect` (or NULL). */
void task_run(const struct job *job, void *const *expect_res, const struct proto_settings *settings,
              const struct proto_task *task, int frame_fd, struct buf *out);

#endif
