/* worker: the worker program's shared state: which local process group a
 * step is running, so that a TERM from the supervisor takes it down too. */
#ifndef FLEETRUN_WORKER_H
#define FLEETRUN_WORKER_H

#include <stdint.h>
#include <sys/types.h>

#include "frame.h"
#include "step.h"

/* The worker's exit codes are part of the protocol: proto.h. */

/* A step started (or ended) a local process group: remember it for the
 * TERM handler and tell the supervisor, which kills it along with this
 * worker if the task overruns. */
void worker_child_started(struct step_ctx *ctx, pid_t pgid);
void worker_child_ended(struct step_ctx *ctx);

/* Block until a whole frame from the supervisor is in rd (fd 3): the
 * task loop's, and login_gate's wait for a grant. 1 and the payload; 0 at
 * EOF; -1 on an error, logged. */
int worker_read_frame(struct frame_reader *rd, const char **p, size_t *n);

#endif
