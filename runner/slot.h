/* slot: one worker process as the supervisor sees it: spawning it,
 * feeding it frames, stopping it. No policy: which slot gets which task,
 * and what a worker's exit means, are pool.c's.
 *
 * What the worker *is* (state) is kept apart from why the supervisor is
 * stopping it (stop_reason), as runit keeps state apart from want. */
#ifndef FLEETRUN_SLOT_H
#define FLEETRUN_SLOT_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"
#include "frame.h"
#include "task.h"
#include "util.h"

enum slot_state {
	SLOT_EMPTY,    /* no process; respawned at timer_ms when set */
	SLOT_STARTING, /* forked and exec'd, hello sent, waiting for ready */
	SLOT_IDLE,     /* ready, no task */
	SLOT_BUSY,     /* one task in flight */
	SLOT_STOPPING, /* TERM sent; KILL at timer_ms; waiting to reap */
};

enum slot_stop {
	STOP_NONE,
	STOP_TIMEOUT,   /* its task passed deadline + grace */
	STOP_PROTOCOL,  /* it sent something we cannot trust */
	STOP_INTERRUPT, /* the run was interrupted */
	STOP_STARTUP,   /* it did not get ready in time */
	STOP_SHUTDOWN,  /* the run is over */
	STOP_RECYCLE,   /* it ran --max-tasks-per-worker tasks */
};

struct slot {
	int index;
	pid_t pid;              /* 0 when there is no process */
	int to_worker;          /* -1 or our end of the worker's fd 3 */
	int from_worker;        /* -1 or our end of the worker's fd 4 */
	int exec_status;        /* -1 or, while it starts, the read end of a
	                           close-on-exec pipe: EOF once the exec worked,
	                           the exec's errno if it failed */
	enum slot_state state;
	enum slot_stop stop_reason;
	char *stop_detail;      /* NULL or malloced: why, for the record */
	struct frame_reader rd; /* frames from the worker */
	struct buf wbuf;        /* frames to the worker not yet written */
	size_t wpos;            /* bytes of wbuf already written */
	int want_write;         /* EPOLLOUT registered */
	struct task_rec *task;  /* NULL, or the task in flight: owned */
	pid_t child_pgid;       /* process group a step of the task runs, or 0 */
	int64_t timer_ms;       /* monotonic: the next thing to do for this slot
	                           (deadline + grace, KILL, respawn), 0 for none */
	int64_t started_ms;     /* when the process was started */
	int64_t login_paused_ms; /* waiting for a login slot (logins.h): what was
	                           left of timer_ms, which is paused meanwhile */
	uint64_t tasks_done;
	/* pool.c's idle list runs through the slots (pool_idle_*): */
	bool idle_listed;       /* in the list (its state may have moved on) */
	int idle_prev, idle_next; /* neighbours' indexes, -1 at the ends */
};

/* Resource limits every worker starts with (0: not set). The worker also
 * has RLIMIT_CORE 0 whatever these say (worker/main.c). */
struct slot_limits {
	uint64_t mem_bytes;  /* RLIMIT_AS */
	uint64_t files;      /* RLIMIT_NOFILE */
};

/* A slot with no process, safe to slot_free: fds -1, nothing owned. */
void slot_init(struct slot *s, int index);
/* What a slot owns (its task, buffers, pipes, stop_detail); the process,
 * if any, is not waited for. The slot is left as slot_init leaves it. */
void slot_free(struct slot *s);

/* Fork and exec the worker with the two pipes on fd 3 and 4. Returns at
 * once, without waiting for the child to be scheduled: under load (a
 * thousand workers linking their libraries on 2 CPUs) that wait is what
 * kept tasks from being dispatched. Whether the exec worked is asked later
 * with slot_exec_errno(). Returns 0 with the slot STARTING, or -1 with err
 * (pipe or fork failed) and the slot left EMPTY. */
int slot_spawn(struct slot *s, const char *worker_path, const struct slot_limits *lim, struct err *err);
/* For a worker that exited while starting: the errno of its failed exec,
 * or 0 when the exec worked (or it did not say). Never blocks. */
int slot_exec_errno(struct slot *s);
/* The worker is past its start (ready, or reaped): forget the exec-status
 * pipe. True when the slot was still counted as starting. */
bool slot_exec_done(struct slot *s);

/* Queue a whole frame for the worker and try to write it now. -1 when the
 * pipe is broken (the worker is gone; its reaping will tell why). */
int slot_send(struct slot *s, const void *frame, size_t len);
/* Write what is queued; 0 when all of it is out, 1 when some is left,
 * -1 on a broken pipe. */
int slot_flush(struct slot *s);

/* TERM the worker (and the process group of its step), CONT it in case it
 * is stopped, and move it to STOPPING with KILL due at now + kill_after. */
void slot_stop(struct slot *s, enum slot_stop reason, const char *detail, int64_t now, int64_t kill_after_ms);
/* KILL it and its step's process group now. */
void slot_kill(struct slot *s);

/* After the process was reaped: close the pipes, free the buffers and go
 * back to EMPTY. The task, if any, is handed to the caller through *task. */
void slot_clear(struct slot *s, struct task_rec **task);

#endif
