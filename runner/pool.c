/* pool: the scheduler's decisions, as functions of its state and now.
 * Nothing here reads a clock, forks or polls (pool.h). */
#include "pool.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>

#include "clock.h"
#include "log.h"
#include "proto.h"

const char pool_interrupted[] = "interrupted: the run was stopped before the task finished";

void pool_init(struct pool *p, const struct pool_config *cf, const struct pool_io *io)
{
	memset(p, 0, sizeof(*p));
	p->cf = *cf;
	p->io = *io;
	p->nslots = cf->workers;
	p->slots = xcalloc((size_t)p->nslots, sizeof(*p->slots));
	for (int i = 0; i < p->nslots; i++)
		slot_init(&p->slots[i], i);
	p->idle_head = -1;
	retryq_init(&p->retries, cf->seed);
	p->crash_burst = cf->crash_attempts >= POOL_CRASH_BURST ? (int)cf->crash_attempts + 1 : POOL_CRASH_BURST;
	p->crash_ms = xcalloc((size_t)p->crash_burst, sizeof(*p->crash_ms));
	logins_init(&p->logins, p->nslots, cf->max_logins, cf->jump_max_logins);
}

void pool_free(struct pool *p)
{
	for (int i = 0; i < p->nslots; i++)
		slot_free(&p->slots[i]);
	free(p->slots);
	retryq_free(&p->retries);
	free(p->crash_ms);
	logins_free(&p->logins);
	memset(p, 0, sizeof(*p));
	p->idle_head = -1;
}

static void pool_timer(struct pool *p, struct slot *s, int64_t when)
{
	s->timer_ms = when;
	clock_deadline_min(&p->next_timer_ms, when);
}

bool pool_more_work(const struct pool *p)
{
	return !p->fatal && !p->interrupts && (!p->targets_done || p->retries.len > 0);
}

bool pool_done(const struct pool *p)
{
	return p->in_flight == 0 && !pool_more_work(p);
}

/* The idle list: the slots a task may go to, the most recently idle first
 * (its worker is warm). It is doubly linked through the slots themselves
 * (idle_listed, idle_prev, idle_next), so it holds each slot at most once
 * and never more entries than there are slots: no bound to argue, nothing
 * to compact. A slot is pushed when it becomes IDLE (moved to the front if
 * it is still listed) and unlinked when it gets a task. One that leaves
 * IDLE otherwise (its worker died or was stopped while idle) stays listed
 * until it reaches the front, where pool_idle_peek drops it, or until it
 * is idle again. */
static void pool_idle_unlink(struct pool *p, struct slot *s)
{
	if (!s->idle_listed)
		return;
	if (s->idle_prev >= 0)
		p->slots[s->idle_prev].idle_next = s->idle_next;
	else
		p->idle_head = s->idle_next;
	if (s->idle_next >= 0)
		p->slots[s->idle_next].idle_prev = s->idle_prev;
	s->idle_prev = s->idle_next = -1;
	s->idle_listed = false;
	p->nidle--;
}

static void pool_idle_push(struct pool *p, struct slot *s)
{
	s->state = SLOT_IDLE;
	pool_idle_unlink(p, s);
	s->idle_next = p->idle_head;
	if (p->idle_head >= 0)
		p->slots[p->idle_head].idle_prev = s->index;
	p->idle_head = s->index;
	s->idle_listed = true;
	p->nidle++;
}

/* The idle slot at the front, after dropping those no longer idle; NULL
 * when there is none. */
static struct slot *pool_idle_peek(struct pool *p)
{
	while (p->idle_head >= 0) {
		struct slot *s = &p->slots[p->idle_head];
		if (s->state == SLOT_IDLE)
			return s;
		pool_idle_unlink(p, s);
	}
	return NULL;
}

/* unreachable and timeout get another attempt while the job's retries
 * (or --retries) allow; a crash gets at least RUN_CRASH_ATTEMPTS in all,
 * since one crash may be the worker's fault, not the host's. */
static bool pool_may_retry(const struct pool *p, const struct task_rec *t, enum status st)
{
	if (p->fatal || p->interrupts)
		return false;
	if (st == STATUS_CRASHED)
		return t->attempt < p->cf.crash_attempts;
	return (st == STATUS_UNREACHABLE || st == STATUS_TIMEOUT) && t->attempt < p->cf.attempts;
}

/* Queue the task's next attempt, after a backoff. A first crash is retried
 * at once, on a fresh worker: the likely culprit is the worker, not the
 * host; a second one backs off like any other retry. */
static void pool_retry(struct pool *p, struct task_rec *t, enum status st, const char *why, int64_t now)
{
	int64_t delay = st == STATUS_CRASHED && t->attempt == 1
	                        ? 0
	                        : retryq_delay_ms(&p->retries, p->cf.retry_delay_ms, t->attempt + (st == STATUS_CRASHED ? 0 : 1));

	log_info("%s: %s (attempt %u); trying again in %.1fs", t->host.name, why, t->attempt, delay / 1000.0);
	t->attempt++;
	retryq_push(&p->retries, t, now + delay);
}

static void pool_start(struct pool *p, struct slot *s, int64_t now)
{
	if (p->io.start(p->io.ctx, s) < 0) {
		p->fatal = true;
		return;
	}
	p->starting++;
	s->started_ms = now;
	pool_timer(p, s, now + POOL_STARTUP_MS);
}

void pool_fill(struct pool *p, int64_t now)
{
	while (p->starting < POOL_STARTING_MAX && p->spawned < p->nslots && pool_more_work(p))
		pool_start(p, &p->slots[p->spawned++], now);
}

/* The next task to run: a retry whose time has come first, then the next
 * target. NULL when there is none now. */
static struct task_rec *pool_next_task(struct pool *p, int64_t now)
{
	struct task_rec *t = retryq_pop(&p->retries, now);

	if (t || p->targets_done)
		return t;
	switch (p->io.next_target(p->io.ctx, p->next_seq, &t)) {
	case 1:
		p->next_seq++;
		return t;
	case -1:
		p->targets_done = true;
		break;
	}
	return NULL;
}

void pool_dispatch(struct pool *p, int64_t now)
{
	struct slot *s;
	struct task_rec *t;

	while (pool_more_work(p) && (s = pool_idle_peek(p)) != NULL) {
		if (p->cf.rate > 0 && now < p->rate_next_ms)
			break; /* --rate: the loop wakes at rate_next_ms */
		t = pool_next_task(p, now);
		if (!t)
			break;
		pool_idle_unlink(p, s);
		if (p->cf.rate > 0)
			/* evenly spaced starts, no burst saved up while idle */
			p->rate_next_ms = (p->rate_next_ms > now ? p->rate_next_ms : now) + 1000.0 / p->cf.rate;
		t->started_mono_ms = now;
		s->task = t;
		s->state = SLOT_BUSY;
		s->child_pgid = 0;
		p->in_flight++;
		pool_timer(p, s, now + p->cf.timeout_ms + p->cf.grace_ms);
		p->io.send_task(p->io.ctx, s, t);
	}
}

void pool_deadline(const struct pool *p, int64_t now, int64_t *wake)
{
	clock_deadline_min(wake, p->next_timer_ms);
	if (!pool_more_work(p))
		return;
	/* more workers to start: do not sleep */
	if (p->spawned < p->nslots)
		clock_deadline_min(wake, now);
	/* A task starts only on an idle worker: without one, the worker that
	 * frees up wakes the loop (waking for a retry that is due would spin
	 * it). With one (pool_dispatch left it idle), the next start is when
	 * --rate allows, else when the next retry is due. */
	if (!p->nidle)
		return;
	if (p->cf.rate > 0 && p->rate_next_ms > now)
		clock_deadline_min(wake, (int64_t)p->rate_next_ms + 1);
	else
		clock_deadline_min(wake, retryq_next_ms(&p->retries));
}

void pool_on_ready(struct pool *p, struct slot *s, int64_t now)
{
	if (s->state != SLOT_STARTING) {
		pool_protocol_error(p, s, "ready twice", now);
		return;
	}
	p->startup_failures = 0;
	s->timer_ms = 0;
	if (slot_exec_done(s))
		p->starting--;
	pool_idle_push(p, s);
}

bool pool_expects_result(const struct slot *s, uint64_t seq)
{
	return s->state == SLOT_BUSY && s->task && s->task->seq == seq;
}

struct task_rec *pool_on_result(struct pool *p, struct slot *s, enum status st, int64_t now)
{
	struct task_rec *t = s->task;

	s->task = NULL;
	/* a worker that answers is not crash-looping */
	p->crashes = 0;
	/* the task is over, and its login with it, whatever the worker said */
	pool_login_leave(p, s, now);
	if (pool_may_retry(p, t, st)) {
		pool_retry(p, t, st, status_name(st), now);
		t = NULL;
	}
	s->child_pgid = 0;
	s->timer_ms = 0;
	s->tasks_done++;
	p->in_flight--;
	if (p->cf.max_tasks_per_worker && s->tasks_done >= p->cf.max_tasks_per_worker) {
		/* an idle worker exits at once on TERM; its exit respawns the
		 * slot while the other slots go on with the queue */
		slot_stop(s, STOP_RECYCLE, NULL, now, POOL_KILL_AFTER_MS);
		pool_timer(p, s, s->timer_ms);
	} else {
		pool_idle_push(p, s);
	}
	return t;
}

/* Stop a worker that cannot be trusted any more. Its task counts as a
 * crash: retried on a fresh worker while attempts remain. */
void pool_protocol_error(struct pool *p, struct slot *s, const char *what, int64_t now)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "protocol error from worker: %s", what);
	log_warn("worker %d: %s; killing it", (int)s->pid, what);
	/* Before ready it is a worker that cannot start: counted and backed
	 * off as such, or one that always does it is respawned for ever. */
	slot_stop(s, s->state == SLOT_STARTING ? STOP_STARTUP : STOP_PROTOCOL, detail, now, 0);
	slot_kill(s);
}

static void pool_describe_exit(const struct pool *p, int st, char *out, size_t n)
{
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU) {
		snprintf(out, n, "worker killed by SIGXCPU: the task used more than %.3gs of CPU (--worker-cpu)",
		         p->cf.worker_cpu_ms / 1000.0);
	} else if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		snprintf(out, n, "worker killed by SIG%s", abbrev ? abbrev : "?");
	} else if (WEXITSTATUS(st) == UTIL_EXIT_OOM) {
		if (p->cf.worker_mem_bytes)
			snprintf(out, n, "worker ran out of memory (its limit is %llu MiB: --worker-mem)",
			         (unsigned long long)(p->cf.worker_mem_bytes >> 20));
		else
			snprintf(out, n, "worker ran out of memory");
	} else {
		snprintf(out, n, "worker exited with code %d without a result", WEXITSTATUS(st));
	}
}

/* The worker said the next one would fail the same way. */
static bool pool_fatal_code(const struct pool_exit *e)
{
	return WIFEXITED(e->wstatus) && WEXITSTATUS(e->wstatus) == WORKER_EXIT_FATAL;
}

/* The task a reaped worker had: its record, or another attempt. */
static void pool_exit_task(struct pool *p, struct task_rec *t, const struct pool_exit *e, const char *detail,
                           int64_t now)
{
	p->in_flight--;
	if (e->reason == STOP_TIMEOUT && pool_may_retry(p, t, STATUS_TIMEOUT)) {
		pool_retry(p, t, STATUS_TIMEOUT, "timeout", now);
	} else if (e->reason == STOP_TIMEOUT) {
		p->io.finish(p->io.ctx, t, e->pid, STATUS_TIMEOUT, detail);
	} else if (e->reason == STOP_INTERRUPT || e->reason == STOP_SHUTDOWN || pool_fatal_code(e)) {
		/* a worker that exits with its fatal code stops the run
		 * (pool_exit_policy): the host was not to blame, --resume
		 * runs its task again */
		p->io.finish(p->io.ctx, t, e->pid, STATUS_ERROR, pool_interrupted);
	} else {
		const char *why = e->reason == STOP_PROTOCOL && detail ? detail : e->how;
		if (pool_may_retry(p, t, STATUS_CRASHED)) {
			pool_retry(p, t, STATUS_CRASHED, why, now);
		} else {
			char msg[600];
			snprintf(msg, sizeof(msg), "%s (attempt %u of %u)", why, t->attempt, p->cf.crash_attempts);
			p->io.finish(p->io.ctx, t, e->pid, STATUS_CRASHED, msg);
		}
	}
}

static enum pool_exit_action pool_startup_failed(struct pool *p, const struct pool_exit *e)
{
	p->startup_failures++;
	if (e->exec_errno) {
		log_error("cannot run worker %s: %s", p->cf.worker_path, strerror(e->exec_errno));
		return POOL_STOP_RUN;
	}
	if (pool_fatal_code(e)) {
		log_error("the worker refused to start (%s); see its message above", e->how);
		return POOL_STOP_RUN;
	}
	if (p->startup_failures >= POOL_STARTUP_FAILURES) {
		log_error("workers die before they are ready (%d in a row, last: %s); stopping the run",
		          p->startup_failures, e->how);
		return POOL_STOP_RUN;
	}
	return pool_more_work(p) ? POOL_RESPAWN_LATER : POOL_LEAVE;
}

/* Count a crash of a ready worker at now in the ring of the last
 * crash_burst ones; true when the burst came within the period, with no
 * result in between (a result sets crashes to 0). */
static bool pool_crash_loop(struct pool *p, const char *how, int64_t now)
{
	size_t n = (size_t)p->crash_burst;
	int64_t oldest;

	p->crash_ms[p->crashes % n] = now;
	p->crashes++;
	if (p->crashes < n)
		return false;
	oldest = p->crash_ms[p->crashes % n];
	if (now - oldest > POOL_CRASH_PERIOD_MS)
		return false;
	log_error("workers keep crashing: %d crashes of ready workers in %.1fs with no result in between (at "
	          "most %d in %ds; last: %s); stopping the run",
	          p->crash_burst, (now - oldest) / 1000.0, p->crash_burst, POOL_CRASH_PERIOD_MS / 1000, how);
	return true;
}

enum pool_exit_action pool_exit_policy(struct pool *p, const struct pool_exit *e, int64_t now)
{
	if (p->shutting_down || p->fatal)
		return POOL_LEAVE; /* the end of the run: nothing to restart */
	if (e->was == SLOT_STARTING || e->reason == STOP_STARTUP)
		return pool_startup_failed(p, e);
	if (pool_fatal_code(e)) {
		log_error("worker %d exited with code %d: it says another would fail the same way (see its message "
		          "above); stopping the run",
		          e->pid, WORKER_EXIT_FATAL);
		return POOL_STOP_RUN;
	}
	if ((e->reason == STOP_NONE || e->reason == STOP_PROTOCOL) && pool_crash_loop(p, e->how, now))
		return POOL_STOP_RUN;
	return pool_more_work(p) ? POOL_RESPAWN : POOL_LEAVE;
}

void pool_on_exit(struct pool *p, struct slot *s, int wstatus, int64_t now)
{
	struct pool_exit e = {(int)s->pid, s->state, s->stop_reason, wstatus, slot_exec_errno(s), NULL};
	char *detail = s->stop_detail;
	struct task_rec *t = NULL;
	char how[256];

	if (slot_exec_done(s))
		p->starting--;
	s->stop_detail = NULL;
	/* A worker may write its result and exit before we read the pipe:
	 * what it wrote is still there and counts. */
	p->io.reaped(p->io.ctx, s);
	/* a worker killed while logging in, or waiting to, gives its room up */
	pool_login_leave(p, s, now);
	slot_clear(s, &t);
	s->stop_reason = STOP_NONE;
	pool_describe_exit(p, wstatus, how, sizeof(how));
	e.how = how;
	if (t)
		pool_exit_task(p, t, &e, detail, now);
	switch (pool_exit_policy(p, &e, now)) {
	case POOL_STOP_RUN:
		p->fatal = true;
		break;
	case POOL_RESPAWN:
		pool_start(p, s, now);
		break;
	case POOL_RESPAWN_LATER:
		/* back off: 100 ms, 200 ms, 400 ms... */
		pool_timer(p, s, now + (100 << (p->startup_failures < 6 ? p->startup_failures : 6)));
		break;
	case POOL_LEAVE:
		break;
	}
	free(detail);
}

static void pool_on_timer(struct pool *p, struct slot *s, int64_t now)
{
	char detail[256];

	s->timer_ms = 0;
	/* What the worker sent may still sit in its pipe: a turn of the loop
	 * handles a bounded number of events, and a thousand workers starting
	 * at once all answer together. Read it before judging. */
	if (s->state == SLOT_STARTING || s->state == SLOT_BUSY) {
		p->io.drain(p->io.ctx, s);
		if (s->state == SLOT_IDLE)
			return;
	}
	switch (s->state) {
	case SLOT_BUSY:
		if (p->interrupts && now < s->task->started_mono_ms + p->cf.timeout_ms) {
			slot_stop(s, STOP_INTERRUPT, NULL, now, POOL_KILL_AFTER_MS);
		} else {
			snprintf(detail, sizeof(detail),
			         "task deadline of %.3gs passed and the worker did not answer within %.3gs more; "
			         "worker killed",
			         p->cf.timeout_ms / 1000.0, p->cf.grace_ms / 1000.0);
			log_info("%s: %s", s->task->host.name, detail);
			slot_stop(s, STOP_TIMEOUT, detail, now, POOL_KILL_AFTER_MS);
		}
		pool_timer(p, s, s->timer_ms);
		break;
	case SLOT_STARTING:
		slot_stop(s, STOP_STARTUP, "did not get ready", now, POOL_KILL_AFTER_MS);
		pool_timer(p, s, s->timer_ms);
		break;
	case SLOT_STOPPING:
		slot_kill(s);
		break;
	case SLOT_EMPTY:
		if (pool_more_work(p))
			pool_start(p, s, now);
		break;
	case SLOT_IDLE:
		break;
	}
}

void pool_check_timers(struct pool *p, int64_t now)
{
	if (!p->next_timer_ms || now < p->next_timer_ms)
		return;
	p->next_timer_ms = 0;
	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		if (s->timer_ms && s->timer_ms <= now)
			pool_on_timer(p, s, now);
		else if (s->timer_ms)
			pool_timer(p, s, s->timer_ms);
	}
}

/* A worker waiting for a login when the run stops: nothing of its task
 * has touched the device, so it is stopped now (its record says
 * interrupted; --resume runs it again). */
static void pool_login_stop(struct pool *p, struct slot *s, int64_t now)
{
	logins_release(&p->logins, s->index);
	slot_stop(s, STOP_INTERRUPT, NULL, now, POOL_KILL_AFTER_MS);
	pool_timer(p, s, s->timer_ms);
}

/* Hand the room there is to the workers waiting, in turn; a waiting
 * worker's hang timer goes on where it was paused. */
static void pool_login_grants(struct pool *p, int64_t now)
{
	int64_t waited;
	int i;

	while ((i = logins_grant(&p->logins, now, &waited)) >= 0) {
		struct slot *s = &p->slots[i];

		if (s->state != SLOT_BUSY) {
			logins_release(&p->logins, i);
			continue;
		}
		pool_timer(p, s, now + s->login_paused_ms);
		p->io.grant(p->io.ctx, s, waited);
	}
}

void pool_login_enter(struct pool *p, struct slot *s, const char *key, size_t n, int64_t now)
{
	if (s->state != SLOT_BUSY || logins_request(&p->logins, s->index, key, n, now) < 0) {
		pool_protocol_error(p, s, s->state != SLOT_BUSY ? "a login without a task" : "a second login at once",
		                    now);
		return;
	}
	if (p->interrupts) {
		pool_login_stop(p, s, now);
		return;
	}
	/* waiting is not hanging: the timer resumes with the grant */
	s->login_paused_ms = s->timer_ms > now ? s->timer_ms - now : 0;
	s->timer_ms = 0;
	pool_login_grants(p, now);
}

void pool_login_leave(struct pool *p, struct slot *s, int64_t now)
{
	enum logins_state was = logins_state_of(&p->logins, s->index);

	if (was == LOGINS_NONE)
		return;
	logins_release(&p->logins, s->index);
	/* one that gives up waiting (it should not) gets its timer back */
	if (was == LOGINS_WAITING && s->state == SLOT_BUSY)
		pool_timer(p, s, now + s->login_paused_ms);
	pool_login_grants(p, now);
}

void pool_interrupt(struct pool *p, int signo, int64_t now)
{
	p->interrupts++;
	if (p->interrupts == 1) {
		log_warn("SIG%s: no new tasks; waiting up to %.1fs for the %d running (again to stop now)",
		         sigabbrev_np(signo), p->cf.grace_ms / 1000.0, p->in_flight);
		for (int i = 0; i < p->nslots; i++) {
			struct slot *s = &p->slots[i];
			if (s->state == SLOT_BUSY && logins_state_of(&p->logins, i) == LOGINS_WAITING)
				pool_login_stop(p, s, now);
			else if (s->state == SLOT_BUSY && (!s->timer_ms || s->timer_ms > now + p->cf.grace_ms))
				pool_timer(p, s, now + p->cf.grace_ms);
		}
		return;
	}
	log_warn("SIG%s again: stopping the running tasks now", sigabbrev_np(signo));
	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		if (s->state == SLOT_BUSY) {
			slot_stop(s, STOP_INTERRUPT, NULL, now, 0);
			slot_kill(s);
		}
	}
}

void pool_drop_retries(struct pool *p, const char *why)
{
	struct task_rec *t;

	while ((t = retryq_pop(&p->retries, INT64_MAX)) != NULL)
		p->io.finish(p->io.ctx, t, 0, STATUS_ERROR, why);
}

void pool_shutdown(struct pool *p, int64_t now)
{
	p->shutting_down = true;
	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		if (s->pid > 0 && s->state == SLOT_BUSY)
			slot_stop(s, STOP_SHUTDOWN, NULL, now, 0);
	}
}

int pool_alive(const struct pool *p)
{
	int alive = 0;

	for (int i = 0; i < p->nslots; i++)
		alive += p->slots[i].pid > 0;
	return alive;
}
