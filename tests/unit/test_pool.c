/* Unit tests for runner/pool.c, the scheduler's decisions, driven with
 * fake hooks (struct pool_io) and a fake clock, without processes: the
 * exit policy (the fatal exit code while starting and after ready, the
 * restart intensity window and its reset on a result, startup failures),
 * retries (a first crash at once, a second one with backoff; unreachable
 * with backoff), the moment --max-tasks-per-worker recycles a worker, what
 * an interrupt during start-up does to queued retries, the idle list's
 * order, the loop's wake-up, and --max-logins (a waiting worker's hang
 * timer paused and moved by the wait, the room of a worker that dies
 * given to the next, an interrupt stopping the waiting).
 *
 * The fake slots get pids above PID_MAX_LIMIT (2^22), which no process can
 * have: the pool's slot_stop and slot_kill reach kill(2), which fails with
 * ESRCH. Their exec-status pipe is /dev/null (the exec worked) or a pipe
 * holding an errno (it failed), as slot_spawn leaves it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "log.h"
#include "pool.h"
#include "proto.h"

#define FAKE_PID_BASE (1 << 22)
#define T0 1000000 /* the fake clock's start: 0 means "no deadline" */
#define W_EXIT(code) ((code) << 8)
#define W_SIGNAL(sig) (sig)

struct fake_rec {
	char host[32];
	enum status st;
	char error[256];
	bool interrupted;
	uint32_t attempt;
	int worker;
};

struct fake {
	struct pool p;
	int64_t now;
	int pids;               /* pids handed out */
	int starts;             /* io.start calls */
	bool start_fails;       /* io.start says no worker can start */
	int exec_errno;         /* the next workers' exec fails with it */
	int sent;               /* tasks sent */
	uint64_t targets;       /* hosts h0 .. h<targets-1> */
	uint64_t next_target;
	struct fake_rec recs[64]; /* records the supervisor made */
	int nrecs;
	int granted[64];        /* slots granted a login, in order */
	int64_t waited[64];     /* and how long each waited */
	int ngrants;
};

static int fake_start(void *ctx, struct slot *s)
{
	struct fake *f = ctx;
	int fds[2];

	f->starts++;
	if (f->start_fails)
		return -1;
	s->pid = FAKE_PID_BASE + ++f->pids;
	s->state = SLOT_STARTING;
	s->stop_reason = STOP_NONE;
	s->tasks_done = 0;
	if (f->exec_errno) {
		assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
		assert_int_equal(write(fds[1], &f->exec_errno, sizeof(int)), sizeof(int));
		close(fds[1]);
		s->exec_status = fds[0];
	} else {
		s->exec_status = open("/dev/null", O_RDONLY | O_CLOEXEC);
		assert_true(s->exec_status >= 0);
	}
	return 0;
}

static void fake_send_task(void *ctx, struct slot *s, struct task_rec *t)
{
	struct fake *f = ctx;

	(void)s;
	f->sent++;
	t->started_wall_ms = 0;
}

static void fake_drain(void *ctx, struct slot *s)
{
	(void)ctx;
	(void)s;
}

static void fake_finish(void *ctx, struct task_rec *t, int worker, enum status st, const char *error)
{
	struct fake *f = ctx;
	struct fake_rec *r;

	assert_true(f->nrecs < 64);
	r = &f->recs[f->nrecs++];
	snprintf(r->host, sizeof(r->host), "%s", t->host.name);
	snprintf(r->error, sizeof(r->error), "%s", error ? error : "");
	r->st = st;
	r->interrupted = error == pool_interrupted;
	r->attempt = t->attempt;
	r->worker = worker;
	task_rec_free(t);
}

static int fake_next_target(void *ctx, uint64_t seq, struct task_rec **out)
{
	struct fake *f = ctx;
	struct task_rec *t;
	char name[32];

	if (f->next_target >= f->targets)
		return -1;
	t = xcalloc(1, sizeof(*t));
	snprintf(name, sizeof(name), "h%llu", (unsigned long long)f->next_target++);
	t->host.name = xstrdup(name);
	t->seq = seq;
	t->attempt = 1;
	*out = t;
	return 1;
}

static void fake_grant(void *ctx, struct slot *s, int64_t waited_ms)
{
	struct fake *f = ctx;

	assert_true(f->ngrants < 64);
	f->waited[f->ngrants] = waited_ms;
	f->granted[f->ngrants++] = s->index;
}

static const struct pool_config fake_config = {
	.workers = 1,
	.timeout_ms = 10000,
	.grace_ms = 2000,
	.retry_delay_ms = 1000,
	.attempts = 1,
	.crash_attempts = 2,
	.worker_path = "/fake/worker",
	.seed = 42,
};

static struct fake *fake_new(const struct pool_config *cf, uint64_t targets)
{
	struct fake *f = xcalloc(1, sizeof(*f));
	struct pool_io io = {f, fake_start, fake_send_task, fake_drain, fake_drain, fake_finish, fake_next_target,
	                      fake_grant};

	f->now = T0;
	f->targets = targets;
	pool_init(&f->p, cf ? cf : &fake_config, &io);
	return f;
}

static void fake_free(struct fake *f)
{
	pool_free(&f->p);
	free(f);
}

static struct pool_config config_with(int workers, uint32_t crash_attempts)
{
	struct pool_config cf = fake_config;

	cf.workers = workers;
	cf.crash_attempts = crash_attempts;
	return cf;
}

/* Every STARTING slot says ready. */
static void fake_ready_all(struct fake *f)
{
	for (int i = 0; i < f->p.nslots; i++)
		if (f->p.slots[i].state == SLOT_STARTING)
			pool_on_ready(&f->p, &f->p.slots[i], f->now);
}

/* One turn of the loop, without the waiting: start, ready, dispatch. */
static void fake_turn(struct fake *f)
{
	pool_fill(&f->p, f->now);
	fake_ready_all(f);
	pool_dispatch(&f->p, f->now);
}

static void fake_exit(struct fake *f, struct slot *s, int wstatus)
{
	pool_on_exit(&f->p, s, wstatus, f->now);
}

/* What the pool says on stderr while fn runs, into out. */
static void capture_stderr(struct fake *f, void (*fn)(struct fake *f, void *arg), void *arg, char *out, size_t n)
{
	FILE *tmp = tmpfile();
	int saved = dup(STDERR_FILENO);
	size_t got;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	dup2(fileno(tmp), STDERR_FILENO);
	fn(f, arg);
	dup2(saved, STDERR_FILENO);
	close(saved);
	rewind(tmp);
	got = fread(out, 1, n - 1, tmp);
	out[got] = '\0';
	fclose(tmp);
}

static void crash_slot(struct fake *f, void *arg)
{
	fake_exit(f, arg, W_SIGNAL(SIGSEGV));
}

static void fatal_exit_slot(struct fake *f, void *arg)
{
	fake_exit(f, arg, W_EXIT(WORKER_EXIT_FATAL));
}

/* ------------------------------------------------------------ exit policy */

static void test_fatal_exit_while_starting(void **state)
{
	struct fake *f = fake_new(NULL, 5);
	char err[1024];

	(void)state;
	pool_fill(&f->p, f->now);
	assert_int_equal(f->starts, 1);
	assert_int_equal(f->p.starting, 1);
	capture_stderr(f, fatal_exit_slot, &f->p.slots[0], err, sizeof(err));
	assert_non_null(strstr(err, "the worker refused to start (worker exited with code 2 without a result)"));
	assert_true(f->p.fatal);
	assert_int_equal(f->p.starting, 0);
	assert_int_equal(f->starts, 1); /* not respawned */
	assert_true(pool_done(&f->p));
	fake_free(f);
}

static void test_exec_failure_stops_the_run(void **state)
{
	struct fake *f = fake_new(NULL, 5);
	char err[1024];

	(void)state;
	f->exec_errno = ENOENT;
	pool_fill(&f->p, f->now);
	capture_stderr(f, fatal_exit_slot, &f->p.slots[0], err, sizeof(err));
	assert_non_null(strstr(err, "cannot run worker /fake/worker: No such file or directory"));
	assert_true(f->p.fatal);
	fake_free(f);
}

/* On main the fatal code after ready was a crash like any other: the
 * worker respawned at once and its task retried. */
static void test_fatal_exit_after_ready_stops_the_run(void **state)
{
	struct fake *f = fake_new(NULL, 5);
	struct slot *s = &f->p.slots[0];
	char err[1024];

	(void)state;
	fake_turn(f);
	assert_int_equal(s->state, SLOT_BUSY);
	assert_int_equal(f->p.in_flight, 1);
	capture_stderr(f, fatal_exit_slot, s, err, sizeof(err));
	assert_non_null(strstr(err, "exited with code 2: it says another would fail the same way"));
	assert_true(f->p.fatal);
	assert_int_equal(f->starts, 1); /* not respawned */
	assert_int_equal(s->state, SLOT_EMPTY);
	assert_false(pool_more_work(&f->p));
	assert_true(pool_done(&f->p));
	/* its task is recorded interrupted (the host was not to blame):
	 * --resume runs it again */
	assert_int_equal(f->p.retries.len, 0);
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].host, "h0");
	assert_true(f->recs[0].interrupted);
	assert_int_equal(f->next_target, 1); /* no other host was tried */
	fake_free(f);
}

static void test_fatal_exit_of_an_idle_worker(void **state)
{
	struct fake *f = fake_new(NULL, 0);

	(void)state;
	pool_fill(&f->p, f->now);
	fake_ready_all(f);
	assert_int_equal(f->p.slots[0].state, SLOT_IDLE);
	fake_exit(f, &f->p.slots[0], W_EXIT(WORKER_EXIT_FATAL));
	assert_true(f->p.fatal);
	fake_free(f);
}

static void test_startup_failures_back_off_then_stop(void **state)
{
	struct fake *f = fake_new(NULL, 5);
	struct slot *s = &f->p.slots[0];
	int64_t backoff = 100;

	(void)state;
	pool_fill(&f->p, f->now);
	for (int i = 1; i < POOL_STARTUP_FAILURES; i++) {
		fake_exit(f, s, W_EXIT(1));
		assert_false(f->p.fatal);
		backoff *= 2;
		/* respawned only when its backoff timer is due */
		assert_int_equal(s->state, SLOT_EMPTY);
		assert_int_equal(s->timer_ms, f->now + backoff);
		f->now = s->timer_ms - 1;
		pool_check_timers(&f->p, f->now);
		assert_int_equal(f->starts, i);
		f->now++;
		pool_check_timers(&f->p, f->now);
		assert_int_equal(f->starts, i + 1);
	}
	fake_exit(f, s, W_EXIT(1));
	assert_true(f->p.fatal);
	fake_free(f);
}

/* Two workers crash in turn on the hosts they get, and come back ready. */
static void crash_n(struct fake *f, int n)
{
	for (int i = 0; i < n; i++) {
		struct slot *s = &f->p.slots[i % f->p.nslots];
		fake_turn(f);
		assert_int_equal(s->state, SLOT_BUSY);
		fake_exit(f, s, W_SIGNAL(SIGSEGV));
		f->now += 100;
	}
}

/* On main nothing stopped the run: ready workers crashing on every task
 * were respawned for ever. */
static void test_crash_intensity_trips(void **state)
{
	struct pool_config cf = config_with(2, 2);
	struct fake *f = fake_new(&cf, 1000);
	char err[1024];

	(void)state;
	crash_n(f, POOL_CRASH_BURST - 1);
	assert_false(f->p.fatal);
	fake_turn(f);
	capture_stderr(f, crash_slot, &f->p.slots[(POOL_CRASH_BURST - 1) % 2], err, sizeof(err));
	assert_true(f->p.fatal);
	assert_non_null(strstr(err, "workers keep crashing: 10 crashes of ready workers in 0.9s with no result in "
	                            "between (at most 10 in 10s; last: worker killed by SIGSEGV); stopping the run"));
	assert_true(f->next_target < 20);
	fake_free(f);
}

static void test_crash_intensity_resets_on_a_result(void **state)
{
	struct pool_config cf = config_with(2, 2);
	struct fake *f = fake_new(&cf, 1000);
	struct slot *s;
	struct task_rec *t;

	(void)state;
	crash_n(f, POOL_CRASH_BURST - 1);
	/* one worker answers (its host failed: an answer all the same) */
	fake_turn(f);
	s = &f->p.slots[0];
	assert_int_equal(s->state, SLOT_BUSY);
	t = pool_on_result(&f->p, s, STATUS_FAILED, f->now);
	assert_non_null(t);
	task_rec_free(t);
	crash_n(f, POOL_CRASH_BURST - 1);
	assert_false(f->p.fatal);
	crash_n(f, 1);
	assert_true(f->p.fatal);
	fake_free(f);
}

static void test_crash_intensity_window(void **state)
{
	struct pool_config cf = config_with(2, 2);
	struct fake *f = fake_new(&cf, 1000);

	(void)state;
	/* one crash every 1.2 s: never 10 within 10 s */
	for (int i = 0; i < 2 * POOL_CRASH_BURST; i++) {
		crash_n(f, 1);
		f->now += 1100;
	}
	assert_false(f->p.fatal);
	/* 11 s later, a burst: it trips once 10 of its own are within 10 s
	 * (with the slow crashes before it, any 10 span more) */
	f->now += 11000;
	crash_n(f, POOL_CRASH_BURST - 1);
	assert_false(f->p.fatal);
	crash_n(f, 1);
	assert_true(f->p.fatal);
	fake_free(f);
}

/* One host may crash every worker it touches as often as its attempts
 * allow without stopping the run, however many attempts that is. */
static void test_crash_burst_above_a_hosts_attempts(void **state)
{
	struct pool_config cf = config_with(1, 20);
	struct fake *f = fake_new(&cf, 1);

	(void)state;
	assert_int_equal(f->p.crash_burst, 21);
	f->p.cf.retry_delay_ms = 0;
	crash_n(f, 20);
	assert_false(f->p.fatal);
	assert_int_equal(f->nrecs, 1);
	assert_int_equal(f->recs[0].st, STATUS_CRASHED);
	assert_string_equal(f->recs[0].error, "worker killed by SIGSEGV (attempt 20 of 20)");
	fake_free(f);
}

/* Workers the supervisor stopped (a timeout, a recycle) are not crashes. */
static void test_timeouts_are_not_crashes(void **state)
{
	struct pool_config cf = config_with(1, 2);
	struct fake *f;
	struct slot *s;

	(void)state;
	cf.attempts = 100;
	cf.retry_delay_ms = 0;
	f = fake_new(&cf, 1);
	s = &f->p.slots[0];
	for (int i = 0; i < 3 * POOL_CRASH_BURST; i++) {
		fake_turn(f);
		assert_int_equal(s->state, SLOT_BUSY);
		f->now += cf.timeout_ms + cf.grace_ms;
		pool_check_timers(&f->p, f->now);
		assert_int_equal(s->state, SLOT_STOPPING);
		assert_int_equal(s->stop_reason, STOP_TIMEOUT);
		fake_exit(f, s, W_SIGNAL(SIGTERM));
	}
	assert_false(f->p.fatal);
	assert_int_equal(f->p.crashes, 0);
	fake_free(f);
}

/* ----------------------------------------------------------------- retries */

static void test_crash_retried_at_once_then_with_backoff(void **state)
{
	struct pool_config cf = config_with(1, 3);
	struct fake *f = fake_new(&cf, 1);
	struct slot *s = &f->p.slots[0];
	int64_t at;

	(void)state;
	fake_turn(f);
	fake_exit(f, s, W_SIGNAL(SIGSEGV));
	/* a first crash: at once, on a fresh worker */
	assert_int_equal(f->starts, 2);
	assert_int_equal(f->p.retries.len, 1);
	assert_int_equal(retryq_next_ms(&f->p.retries), f->now);
	fake_turn(f);
	assert_int_equal(s->state, SLOT_BUSY);
	assert_int_equal(s->task->attempt, 2);
	fake_exit(f, s, W_SIGNAL(SIGSEGV));
	/* a second: backs off, base * [0.5, 1) */
	at = retryq_next_ms(&f->p.retries);
	assert_true(at >= f->now + cf.retry_delay_ms / 2 && at <= f->now + cf.retry_delay_ms);
	fake_turn(f);
	assert_int_equal(s->state, SLOT_IDLE); /* not before its time */
	f->now = at;
	pool_dispatch(&f->p, f->now);
	assert_int_equal(s->state, SLOT_BUSY);
	assert_int_equal(s->task->attempt, 3);
	/* the last allowed: its record, with the count */
	fake_exit(f, s, W_SIGNAL(SIGSEGV));
	assert_int_equal(f->nrecs, 1);
	assert_int_equal(f->recs[0].st, STATUS_CRASHED);
	assert_string_equal(f->recs[0].error, "worker killed by SIGSEGV (attempt 3 of 3)");
	fake_free(f);
}

static void test_result_retried_or_returned(void **state)
{
	struct pool_config cf = config_with(1, 2);
	struct fake *f;
	struct slot *s;
	struct task_rec *t;
	int64_t at;

	(void)state;
	cf.attempts = 2;
	f = fake_new(&cf, 2);
	s = &f->p.slots[0];
	fake_turn(f);
	assert_null(pool_on_result(&f->p, s, STATUS_UNREACHABLE, f->now));
	at = retryq_next_ms(&f->p.retries);
	assert_true(at >= f->now + cf.retry_delay_ms / 2 && at <= f->now + cf.retry_delay_ms);
	/* meanwhile the next host */
	pool_dispatch(&f->p, f->now);
	assert_string_equal(s->task->host.name, "h1");
	t = pool_on_result(&f->p, s, STATUS_OK, f->now);
	assert_non_null(t);
	assert_string_equal(t->host.name, "h1");
	task_rec_free(t);
	f->now = at;
	pool_dispatch(&f->p, f->now);
	assert_string_equal(s->task->host.name, "h0");
	t = pool_on_result(&f->p, s, STATUS_UNREACHABLE, f->now);
	assert_non_null(t); /* attempts used up: its record */
	assert_int_equal(t->attempt, 2);
	task_rec_free(t);
	pool_dispatch(&f->p, f->now); /* finds the targets done */
	assert_true(pool_done(&f->p));
	fake_free(f);
}

/* ----------------------------------------------------------------- recycle */

static void test_recycle_after_max_tasks(void **state)
{
	struct pool_config cf = config_with(1, 2);
	struct fake *f;
	struct slot *s;

	(void)state;
	cf.max_tasks_per_worker = 3;
	f = fake_new(&cf, 10);
	s = &f->p.slots[0];
	for (int i = 1; i <= 3; i++) {
		fake_turn(f);
		assert_int_equal(s->state, SLOT_BUSY);
		task_rec_free(pool_on_result(&f->p, s, STATUS_OK, f->now));
		if (i < 3)
			assert_int_equal(s->state, SLOT_IDLE);
	}
	/* the third result: TERM now, KILL if it has not exited by then */
	assert_int_equal(s->state, SLOT_STOPPING);
	assert_int_equal(s->stop_reason, STOP_RECYCLE);
	assert_int_equal(s->timer_ms, f->now + POOL_KILL_AFTER_MS);
	assert_int_equal(f->p.next_timer_ms, f->now + POOL_KILL_AFTER_MS);
	pool_dispatch(&f->p, f->now);
	assert_int_equal(f->sent, 3); /* no fourth task for it */
	fake_exit(f, s, W_EXIT(1));
	assert_int_equal(f->starts, 2); /* replaced at once */
	assert_int_equal(s->tasks_done, 0);
	assert_int_equal(f->p.crashes, 0);
	fake_ready_all(f);
	pool_dispatch(&f->p, f->now);
	assert_int_equal(f->sent, 4);
	fake_free(f);
}

/* --------------------------------------------------------------- interrupt */

/* SIGINT while workers still start, with a retry queued: no task starts
 * any more, the retry ends with an interrupted record (--resume runs it
 * again), and the run is done once nothing is in flight. */
static void test_sigint_during_startup_drops_queued_retries(void **state)
{
	struct pool_config cf = config_with(3, 3);
	struct fake *f = fake_new(&cf, 100);
	struct slot *s = &f->p.slots[0];

	(void)state;
	pool_fill(&f->p, f->now);
	assert_int_equal(f->p.starting, 3);
	pool_on_ready(&f->p, s, f->now);
	pool_dispatch(&f->p, f->now);
	fake_exit(f, s, W_SIGNAL(SIGSEGV));     /* h0: retried at once ... */
	pool_on_ready(&f->p, s, f->now);
	pool_dispatch(&f->p, f->now);
	assert_int_equal(s->task->attempt, 2);
	fake_exit(f, s, W_SIGNAL(SIGSEGV));     /* ... and then after a backoff */
	assert_int_equal(f->p.retries.len, 1);
	assert_int_equal(f->p.starting, 3);     /* slots 1 and 2 still starting, 0 again */

	pool_interrupt(&f->p, SIGINT, f->now);
	assert_false(pool_more_work(&f->p));
	fake_ready_all(f);
	f->now += 60000;
	pool_dispatch(&f->p, f->now);
	assert_int_equal(f->sent, 2);           /* nothing more started */
	assert_true(pool_done(&f->p));
	pool_drop_retries(&f->p, pool_interrupted);
	assert_int_equal(f->p.retries.len, 0);
	assert_int_equal(f->nrecs, 1);
	assert_string_equal(f->recs[0].host, "h0");
	assert_int_equal(f->recs[0].st, STATUS_ERROR);
	assert_true(f->recs[0].interrupted);
	assert_int_equal(f->recs[0].attempt, 3);
	fake_free(f);
}

static void test_interrupt_gives_grace_then_stops(void **state)
{
	struct pool_config cf = config_with(2, 2);
	struct fake *f = fake_new(&cf, 100);

	(void)state;
	fake_turn(f);
	assert_int_equal(f->p.in_flight, 2);
	pool_interrupt(&f->p, SIGINT, f->now);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->p.slots[i].state, SLOT_BUSY);
		assert_int_equal(f->p.slots[i].timer_ms, f->now + cf.grace_ms);
	}
	/* the grace passed: stopped as interrupted, not timed out */
	f->now += cf.grace_ms;
	pool_check_timers(&f->p, f->now);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->p.slots[i].state, SLOT_STOPPING);
		assert_int_equal(f->p.slots[i].stop_reason, STOP_INTERRUPT);
		fake_exit(f, &f->p.slots[i], W_SIGNAL(SIGTERM));
		assert_true(f->recs[i].interrupted);
	}
	assert_int_equal(f->starts, 2); /* nothing respawned */
	assert_true(pool_done(&f->p));
	fake_free(f);

	/* a second signal within the grace: stopped at once */
	f = fake_new(&cf, 100);
	fake_turn(f);
	pool_interrupt(&f->p, SIGINT, f->now);
	f->now += cf.grace_ms - 1;
	pool_check_timers(&f->p, f->now);
	assert_int_equal(f->p.slots[0].state, SLOT_BUSY);
	pool_interrupt(&f->p, SIGTERM, f->now);
	for (int i = 0; i < 2; i++) {
		assert_int_equal(f->p.slots[i].state, SLOT_STOPPING);
		assert_int_equal(f->p.slots[i].stop_reason, STOP_INTERRUPT);
	}
	fake_free(f);
}

/* ------------------------------------------------------------- logins */

static void test_login_wait_pauses_the_hang_timer(void **state)
{
	struct pool_config cf = config_with(3, 2);
	struct fake *f;
	struct slot *s;

	(void)state;
	cf.max_logins = 1;
	f = fake_new(&cf, 3);
	fake_turn(f);
	for (int i = 0; i < 3; i++)
		pool_login_enter(&f->p, &f->p.slots[i], NULL, 0, f->now);
	assert_int_equal(f->ngrants, 1);
	assert_int_equal(f->granted[0], 0);
	assert_int_equal(f->waited[0], 0);
	s = &f->p.slots[2];
	assert_int_equal(s->timer_ms, 0); /* waiting is not hanging */
	/* far past the deadline: the waiting are still there */
	f->now += cf.timeout_ms + cf.grace_ms + 5000;
	pool_check_timers(&f->p, f->now);
	assert_int_equal(f->p.slots[0].state, SLOT_STOPPING); /* the holder did hang */
	assert_int_equal(f->p.slots[1].state, SLOT_BUSY);
	assert_int_equal(s->state, SLOT_BUSY);
	/* the holder is killed: its room goes to the next, whose timer
	 * goes on from where it was, moved by the wait */
	fake_exit(f, &f->p.slots[0], W_SIGNAL(SIGKILL));
	assert_int_equal(f->ngrants, 2);
	assert_int_equal(f->granted[1], 1);
	assert_int_equal(f->waited[1], cf.timeout_ms + cf.grace_ms + 5000);
	assert_int_equal(f->p.slots[1].timer_ms, f->now + cf.timeout_ms + cf.grace_ms);
	/* its login ends: the last one's turn */
	pool_login_leave(&f->p, &f->p.slots[1], f->now);
	assert_int_equal(f->ngrants, 3);
	assert_int_equal(f->granted[2], 2);
	/* a second login at once is a protocol error */
	pool_login_enter(&f->p, s, NULL, 0, f->now);
	assert_int_equal(s->state, SLOT_STOPPING);
	assert_int_equal(s->stop_reason, STOP_PROTOCOL);
	fake_free(f);
}

static void test_login_result_and_interrupt(void **state)
{
	struct pool_config cf = config_with(3, 2);
	struct fake *f;
	struct task_rec *t;

	(void)state;
	cf.max_logins = 1;
	f = fake_new(&cf, 10);
	fake_turn(f);
	for (int i = 0; i < 3; i++)
		pool_login_enter(&f->p, &f->p.slots[i], NULL, 0, f->now);
	assert_int_equal(f->ngrants, 1);
	/* a result ends the task's login, said or not */
	t = pool_on_result(&f->p, &f->p.slots[0], STATUS_OK, f->now);
	task_rec_free(t);
	assert_int_equal(f->ngrants, 2);
	assert_int_equal(f->granted[1], 1);
	/* the run stops: the waiting worker is stopped now, the one
	 * logging in gets the grace */
	pool_interrupt(&f->p, SIGINT, f->now);
	assert_int_equal(f->p.slots[2].state, SLOT_STOPPING);
	assert_int_equal(f->p.slots[2].stop_reason, STOP_INTERRUPT);
	assert_int_equal(f->p.slots[1].state, SLOT_BUSY);
	assert_int_equal(f->p.logins.nqueue, 0);
	fake_exit(f, &f->p.slots[2], W_SIGNAL(SIGTERM));
	assert_true(f->recs[f->nrecs - 1].interrupted);
	fake_free(f);
}

/* ---------------------------------------------------- idle list, deadline */

static void test_idle_list_most_recent_first(void **state)
{
	struct pool_config cf = config_with(3, 2);
	struct fake *f = fake_new(&cf, 1000);
	struct slot *sl = f->p.slots;

	(void)state;
	pool_fill(&f->p, f->now);
	for (int i = 0; i < 3; i++)
		pool_on_ready(&f->p, &sl[i], f->now);
	assert_int_equal(f->p.nidle, 3);
	assert_int_equal(f->p.idle_head, 2);
	/* slots 0 and 1 die while idle and are respawned; 0 is ready again
	 * first: at the front, listed once */
	fake_exit(f, &sl[0], W_SIGNAL(SIGKILL));
	fake_exit(f, &sl[1], W_SIGNAL(SIGKILL));
	pool_on_ready(&f->p, &sl[0], f->now);
	assert_int_equal(f->p.nidle, 3); /* 0, 2, and 1 no longer idle */
	pool_dispatch(&f->p, f->now);
	assert_string_equal(sl[0].task->host.name, "h0");
	assert_string_equal(sl[2].task->host.name, "h1");
	assert_int_equal(sl[1].state, SLOT_STARTING); /* skipped, and dropped */
	assert_int_equal(f->p.nidle, 0);
	assert_int_equal(f->p.idle_head, -1);
	/* the warm worker gets the next task, and the list never holds more
	 * than the slots */
	for (int round = 0; round < 100; round++) {
		task_rec_free(pool_on_result(&f->p, &sl[2], STATUS_OK, f->now));
		assert_true(f->p.nidle <= (size_t)f->p.nslots);
		pool_dispatch(&f->p, f->now);
		assert_int_equal(sl[2].state, SLOT_BUSY);
	}
	assert_int_equal(f->sent, 102);
	fake_free(f);
}

static void test_deadline(void **state)
{
	struct pool_config cf = config_with(1, 3);
	struct fake *f = fake_new(&cf, 2);
	struct slot *s = &f->p.slots[0];
	int64_t wake = 0;

	(void)state;
	/* still starting workers: do not sleep */
	pool_deadline(&f->p, f->now, &wake);
	assert_int_equal(wake, f->now);
	fake_turn(f);
	wake = 0;
	pool_deadline(&f->p, f->now, &wake);
	assert_int_equal(wake, f->now + cf.timeout_ms + cf.grace_ms);
	/* a second crash queues a retry with backoff */
	fake_exit(f, s, W_SIGNAL(SIGSEGV));
	fake_turn(f);
	fake_exit(f, s, W_SIGNAL(SIGSEGV));
	fake_ready_all(f);
	pool_dispatch(&f->p, f->now); /* h1 */
	assert_int_equal(s->state, SLOT_BUSY);
	/* the retry's time comes while no worker is idle: the deadline is the
	 * busy worker's, not the retry's (that would spin the loop) */
	f->now = retryq_next_ms(&f->p.retries) + 1;
	wake = 0;
	pool_deadline(&f->p, f->now, &wake);
	assert_int_equal(wake, s->timer_ms);
	/* an idle worker: wake for the retry */
	task_rec_free(pool_on_result(&f->p, s, STATUS_OK, f->now - 2));
	f->now = retryq_next_ms(&f->p.retries) - 10;
	wake = 0;
	pool_deadline(&f->p, f->now, &wake);
	assert_int_equal(wake, retryq_next_ms(&f->p.retries));
	fake_free(f);
}

static void test_rate_paces_dispatch(void **state)
{
	struct pool_config cf = config_with(4, 2);
	struct fake *f;
	int64_t wake = 0;

	(void)state;
	cf.rate = 2; /* one start every 500 ms */
	f = fake_new(&cf, 10);
	fake_turn(f);
	assert_int_equal(f->sent, 1);
	pool_deadline(&f->p, f->now, &wake);
	assert_int_equal(wake, f->now + 501);
	f->now += 499;
	pool_dispatch(&f->p, f->now);
	assert_int_equal(f->sent, 1);
	f->now += 1;
	pool_dispatch(&f->p, f->now);
	assert_int_equal(f->sent, 2);
	fake_free(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fatal_exit_while_starting),
		cmocka_unit_test(test_exec_failure_stops_the_run),
		cmocka_unit_test(test_fatal_exit_after_ready_stops_the_run),
		cmocka_unit_test(test_fatal_exit_of_an_idle_worker),
		cmocka_unit_test(test_startup_failures_back_off_then_stop),
		cmocka_unit_test(test_crash_intensity_trips),
		cmocka_unit_test(test_crash_intensity_resets_on_a_result),
		cmocka_unit_test(test_crash_intensity_window),
		cmocka_unit_test(test_crash_burst_above_a_hosts_attempts),
		cmocka_unit_test(test_timeouts_are_not_crashes),
		cmocka_unit_test(test_crash_retried_at_once_then_with_backoff),
		cmocka_unit_test(test_result_retried_or_returned),
		cmocka_unit_test(test_recycle_after_max_tasks),
		cmocka_unit_test(test_sigint_during_startup_drops_queued_retries),
		cmocka_unit_test(test_interrupt_gives_grace_then_stops),
		cmocka_unit_test(test_login_wait_pauses_the_hang_timer),
		cmocka_unit_test(test_login_result_and_interrupt),
		cmocka_unit_test(test_idle_list_most_recent_first),
		cmocka_unit_test(test_deadline),
		cmocka_unit_test(test_rate_paces_dispatch),
	};

	/* errors only: the tests that look at a message capture stderr */
	log_init("fleetrun", LOG_ERROR);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
