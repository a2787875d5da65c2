/* pool: the scheduler. Its state (the worker slots, the retry queue, the
 * idle list, the counts) and its decisions:
 *
 *   dispatch   which idle worker gets which task: a retry whose time has
 *              come first, then the next target, paced by --rate;
 *   result     a result ends its task (the caller writes the record) or
 *              queues another attempt with backoff; the worker goes idle,
 *              or is recycled after --max-tasks-per-worker tasks;
 *   timers     a task past deadline + grace, a worker not ready in time,
 *              KILL after TERM, a respawn after backoff;
 *   interrupt  the first signal stops new tasks and gives the running
 *              ones --grace; a second stops them now;
 *   logins     --max-logins: a worker asks before an SSH login and waits
 *              for the grant, its hang timer paused meanwhile (logins.h);
 *   exit       what a worker's exit means for its task, and whether the
 *              worker is respawned now, later, or the run stops (the exit
 *              policy, pool_exit_policy).
 *
 * Mechanism apart from policy (runit's is/want; Erlang/OTP's supervisor):
 * every function here is a function of the pool's state and the `now` it
 * is given. It touches processes only through slot_*() (stop, kill,
 * clear) and the hooks of struct pool_io, which run.c implements with
 * fork, epoll and the sinks. So tests/unit/test_pool.c drives the
 * policies with fake hooks and a fake clock, without processes. */
#ifndef FLEETRUN_POOL_H
#define FLEETRUN_POOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "logins.h"
#include "retryq.h"
#include "slot.h"
#include "status.h"
#include "task.h"

/* Between TERM and KILL. */
#define POOL_KILL_AFTER_MS 500
/* A worker that has not said ready by then is broken. */
#define POOL_STARTUP_MS 20000
/* Workers dying before ready this many times in a row stop the run. */
#define POOL_STARTUP_FAILURES 5
/* Workers starting at once while the pool fills: the next one is forked
 * when one of them is ready. Starting one costs ~5 ms of CPU (exec, and
 * the dynamic linker binding the ~40 libraries libcurl brings); started
 * all at once on 2 CPUs, 256 workers would share the CPUs and all be
 * ready late, where a few at a time are at work one by one. */
#define POOL_STARTING_MAX 16
/* The restart intensity (Erlang/OTP's intensity and period, systemd's
 * StartLimitBurst and StartLimitIntervalSec): this many crashes of ready
 * workers within this period, with no result in between, stop the run.
 * The burst is at least one more than a task's crash attempts, so one
 * host that crashes every worker it touches never reaches it alone. */
#define POOL_CRASH_BURST 10
#define POOL_CRASH_PERIOD_MS 10000

/* The error of a task the run was stopped on: pool_io.finish gets this
 * very string (compare the pointer) for a record marked interrupted,
 * which is not final: --resume runs the task again. */
extern const char pool_interrupted[];

/* What the pool does to the world. run.c: fork, epoll, frames, records;
 * tests/unit/test_pool.c: fakes. */
struct pool_io {
	void *ctx;
	/* Fork and exec a worker in the EMPTY slot s, watch its pipes, send
	 * it the hello. 0 (s STARTING), or -1, said, when no worker can be
	 * started at all: the run stops. */
	int (*start)(void *ctx, struct slot *s);
	/* Send t, s's task now, to its worker; set t->started_wall_ms. */
	void (*send_task)(void *ctx, struct slot *s, struct task_rec *t);
	/* Handle every whole frame s's worker wrote, while the slot still
	 * trusts it (a frame comes back here as pool_on_ready, pool_on_result
	 * or pool_protocol_error). */
	void (*drain)(void *ctx, struct slot *s);
	/* s's process was reaped: drain it, then take its pipes out of the
	 * loop (pool_on_exit closes them after, with slot_clear). */
	void (*reaped)(void *ctx, struct slot *s);
	/* The record of a task the supervisor ends itself (timeout, crash,
	 * interrupt); takes t. worker: its pid, 0 for none. */
	void (*finish)(void *ctx, struct task_rec *t, int worker, enum status st, const char *error);
	/* The next target as a task numbered seq: 1 with *t set, 0 when none
	 * may start now (--ordered waits for earlier records), -1 when the
	 * targets are done (or cannot be read: said, and the run's exit code
	 * set). */
	int (*next_target)(void *ctx, uint64_t seq, struct task_rec **t);
	/* Tell s's worker its login may start, after waited_ms. */
	void (*grant)(void *ctx, struct slot *s, int64_t waited_ms);
};

struct pool_config {
	int workers;               /* slots, at least 1 */
	int64_t timeout_ms;        /* a task's deadline */
	int64_t grace_ms;          /* the worker's after it; the first interrupt's wait */
	int64_t retry_delay_ms;    /* the first backoff */
	uint32_t attempts;         /* in all, for unreachable and timeout */
	uint32_t crash_attempts;   /* in all, for crashed */
	uint64_t max_tasks_per_worker; /* 0: no limit */
	double rate;               /* tasks started a second, 0: no limit */
	int64_t worker_cpu_ms;     /* the workers' limits, to word an exit */
	uint64_t worker_mem_bytes;
	const char *worker_path;   /* for messages */
	uint64_t seed;             /* of the retries' jitter */
	int max_logins;            /* SSH logins at once, 0: no limit */
	int jump_max_logins;       /* of them to one jump host, 0: no limit */
};

struct pool {
	struct pool_config cf;
	struct pool_io io;
	struct slot *slots;        /* cf.workers of them, owned */
	int nslots;
	int spawned;               /* slots started once: the pool fills in steps */
	struct retryq retries;     /* tasks waiting for another attempt */
	bool targets_done;
	uint64_t next_seq;         /* the next target's */
	int idle_head;             /* the idle list (pool.c), -1 when empty */
	size_t nidle;              /* slots on it, some maybe no longer idle */
	int64_t next_timer_ms;     /* the earliest slot timer, 0 for none */
	double rate_next_ms;       /* --rate: the next task may start then */
	int in_flight;             /* slots with a task */
	int starting;              /* slots forked, neither ready nor reaped */
	int interrupts;            /* SIGINT/SIGTERM/SIGHUP/SIGQUIT received */
	bool fatal;                /* stop the run: workers cannot start or keep crashing */
	bool shutting_down;
	int startup_failures;      /* in a row */
	int crash_burst;           /* the restart intensity: crashes ... */
	int64_t *crash_ms;         /* ... and when the last crash_burst came: a ring, owned */
	uint64_t crashes;          /* of ready workers since the last result */
	struct logins logins;      /* SSH logins in progress and waiting */
};

/* An empty pool of cf->workers slots (no process yet). */
void pool_init(struct pool *p, const struct pool_config *cf, const struct pool_io *io);
/* Frees the slots (their tasks, buffers, pipes) and queued retries; the
 * processes are not waited for. A zeroed pool is fine too. */
void pool_free(struct pool *p);

/* Tasks may still start: not stopped, targets or retries left. */
bool pool_more_work(const struct pool *p);
/* No task in flight and none to start: the run's loop ends. */
bool pool_done(const struct pool *p);
/* Start workers in slots never started yet, POOL_STARTING_MAX at a time. */
void pool_fill(struct pool *p, int64_t now);
/* Give tasks to idle workers while there are both. */
void pool_dispatch(struct pool *p, int64_t now);
/* Fold the pool's next deadline into *wake (clock_deadline_min): slot
 * timers, the retries, --rate, or now while workers are still to start. */
void pool_deadline(const struct pool *p, int64_t now, int64_t *wake);
/* Handle every slot timer due at now. */
void pool_check_timers(struct pool *p, int64_t now);

/* s's worker said ready. */
void pool_on_ready(struct pool *p, struct slot *s, int64_t now);
/* Is a result for task seq what s's worker owes? */
bool pool_expects_result(const struct slot *s, uint64_t seq);
/* s's worker sent the result of its task, with status st: the task is
 * queued for another attempt (NULL), or returned for its record (the
 * caller writes it and frees the task). Either way the worker goes idle,
 * or is recycled after --max-tasks-per-worker tasks. A result also
 * resets the restart intensity's count. */
struct task_rec *pool_on_result(struct pool *p, struct slot *s, enum status st, int64_t now);
/* s's worker sent something it must not: it is stopped, and its task
 * counts as a crash (a startup failure before ready). */
void pool_protocol_error(struct pool *p, struct slot *s, const char *what, int64_t now);

/* s's worker asks to start an SSH login with key (n bytes; logins.h):
 * granted now or when there is room, its hang timer paused while it
 * waits. A worker already waiting or holding one, or with no task, is a
 * protocol error; once the run is stopping, it is stopped instead. */
void pool_login_enter(struct pool *p, struct slot *s, const char *key, size_t n, int64_t now);
/* s's worker's login ended (or s's worker is gone): its room goes to
 * the next waiting. */
void pool_login_leave(struct pool *p, struct slot *s, int64_t now);

/* A worker's exit, as the policy sees it. */
struct pool_exit {
	int pid;
	enum slot_state was;       /* the slot's state when it was reaped */
	enum slot_stop reason;     /* why the supervisor stopped it; STOP_NONE: it did not */
	int wstatus;               /* from waitpid */
	int exec_errno;            /* its exec's errno, 0 when the exec worked */
	const char *how;           /* the exit in words */
};
enum pool_exit_action {
	POOL_LEAVE,                /* leave the slot empty: no more work, or the run ends */
	POOL_RESPAWN,              /* start a worker in it now */
	POOL_RESPAWN_LATER,        /* after the startup backoff */
	POOL_STOP_RUN,             /* workers cannot start or keep crashing */
};
/* The exit policy (STYLE.md #5, as nginx, Erlang/OTP and systemd have it):
 *  - a worker whose exec failed, or that exits with WORKER_EXIT_FATAL
 *    whenever it comes (it says the next one would fail the same way),
 *    stops the run;
 *  - a worker dying before ready is respawned after a backoff (100 ms,
 *    200 ms, ... 6.4 s); POOL_STARTUP_FAILURES in a row stop the run;
 *  - a ready worker that dies unbidden (a signal, an exit without a
 *    result, a protocol error: a crash) is respawned at once, unless
 *    crash_burst crashes came within POOL_CRASH_PERIOD_MS with no result
 *    in between: the workers keep crashing (a worker bug, a --worker-mem
 *    too low for the job), and the run stops rather than grind through
 *    every host. A result resets the count: a crashy device among
 *    devices that answer never stops a run;
 *  - a worker the supervisor stopped (timeout, recycle, interrupt) is
 *    respawned at once; nothing is respawned once the run ends.
 * Counts the startup failure or the crash; says why when it stops the
 * run. */
enum pool_exit_action pool_exit_policy(struct pool *p, const struct pool_exit *e, int64_t now);
/* s's process was reaped with wstatus: its task's record or retry, then
 * the exit policy, applied. */
void pool_on_exit(struct pool *p, struct slot *s, int wstatus, int64_t now);

/* A stop signal (signo) came: the first stops new tasks and gives running
 * ones --grace, the next stops them at once. */
void pool_interrupt(struct pool *p, int signo, int64_t now);
/* Give the tasks waiting for a retry their record now, with error why
 * (the run was cut short). */
void pool_drop_retries(struct pool *p, const char *why);
/* The end of the run: nothing is respawned from now on, and the workers
 * still on a task are stopped (STOP_SHUTDOWN). */
void pool_shutdown(struct pool *p, int64_t now);
/* Slots with a process, reaped or not. */
int pool_alive(const struct pool *p);

#endif
