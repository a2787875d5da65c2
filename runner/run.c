/* run: the supervisor's scheduler and event loop.
 *
 * One epoll loop over every worker's pipes and a signalfd. The loop never
 * blocks on a worker: pipes are non-blocking, frames to a worker wait in
 * its slot's buffer, and the epoll timeout is the earliest of the slots'
 * timers (deadline + grace, KILL after TERM, respawn backoff) and the
 * journal's sync timer.
 *
 * Each worker has at most one task. A task leaves the supervisor's hands
 * only as a record: a result from its worker, or a record the supervisor
 * writes when the worker timed out, crashed on every attempt allowed, or
 * the run was interrupted. */
#include "run.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "clock.h"
#include "gather.h"
#include "hostvar.h"
#include "log.h"
#include "outdir.h"
#include "progress.h"
#include "proto.h"
#include "journal.h"
#include "knownhosts.h"
#include "record.h"
#include "retryq.h"
#include "selfstat.h"
#include "slot.h"

/* Between TERM and KILL. */
#define RUN_KILL_AFTER_MS 500
/* A worker that has not said ready by then is broken. */
#define RUN_STARTUP_MS 20000
/* Workers dying before ready this many times in a row stop the run. */
#define RUN_STARTUP_FAILURES 5
/* How long finished workers get to exit on their own at the end. */
#define RUN_SHUTDOWN_MS 2000
#define RUN_EPOLL_EVENTS 256
#define RUN_SIGFD_TAG UINT64_MAX
/* Workers starting at once while the pool fills: the next one is forked
 * when one of them is ready. Starting one costs ~5 ms of CPU (exec, and
 * the dynamic linker binding the ~40 libraries libcurl brings); started
 * all at once on 2 CPUs, 256 workers would share the CPUs and all be
 * ready late, where a few at a time are at work one by one. */
#define RUN_STARTING_MAX 16

/* A message on stderr erases the live line first. */
static void run_log_hook(void *ctx)
{
	progress_clear(ctx);
}

/* The error of a task the run was stopped on; pool_finish marks its record
 * not final when it gets this very string. */
static const char run_interrupted[] = "interrupted: the run was stopped before the task finished";

struct pool {
	const struct run_opts *o;
	struct slot *slots;
	int nslots;
	int epfd;
	int sigfd;
	struct targets *targets;
	bool targets_done;
	uint64_t next_seq;
	struct retryq retries;    /* tasks waiting for another attempt */
	uint32_t attempts;        /* attempts allowed for unreachable/timeout */
	struct {
		int index;
		pid_t pid;
	} *idle;                  /* stack of slots ready for a task */
	size_t nidle;
	struct sink sink;
	struct progress pg;       /* the live line on stderr */
	struct gather gather;     /* --gather */
	struct outdir outdir;     /* --outdir */
	struct record rec;        /* rendered record, reused */
	msgpack_zone zone;        /* decoded frames, cleared after each */
	struct knownhosts kh;     /* keys appended under accept-new */
	struct journal_index done; /* --resume/--retry-failed: the journal's last records */
	bool warned_hostkey_off;
	bool warned_insecure;
	struct buf hello;         /* the hello frame, the same for every worker */
	struct buf frame;         /* scratch for encoding a task */
	int64_t next_timer_ms;    /* earliest slot timer, 0 for none */
	double rate_next_ms;      /* --rate: the next task may start then */
	int in_flight;            /* slots with a task */
	int starting;             /* slots forked, neither ready nor reaped */
	int interrupts;           /* SIGINT/SIGTERM/SIGHUP/SIGQUIT received */
	bool fatal;               /* workers cannot start: stop */
	bool shutting_down;
	int startup_failures;     /* in a row */
	uint32_t crash_attempts;
	int64_t start_ms;
};

static void pool_timer(struct pool *p, struct slot *s, int64_t when)
{
	s->timer_ms = when;
	if (when && (!p->next_timer_ms || when < p->next_timer_ms))
		p->next_timer_ms = when;
}

static bool pool_more_work(const struct pool *p)
{
	return !p->fatal && !p->interrupts && (!p->targets_done || p->retries.len > 0);
}

static void pool_push_idle(struct pool *p, struct slot *s)
{
	s->state = SLOT_IDLE;
	p->idle[p->nidle].index = s->index;
	p->idle[p->nidle].pid = s->pid;
	p->nidle++;
}

/* unreachable and timeout get another attempt while the job's retries
 * (or --retries) allow; a crash gets at least RUN_CRASH_ATTEMPTS in all,
 * since one crash may be the worker's fault, not the host's. */
static bool pool_may_retry(const struct pool *p, const struct task_rec *t, enum status st)
{
	if (p->fatal || p->interrupts)
		return false;
	if (st == STATUS_CRASHED)
		return t->attempt < p->crash_attempts;
	return (st == STATUS_UNREACHABLE || st == STATUS_TIMEOUT) && t->attempt < p->attempts;
}

/* Queue the task's next attempt, after a backoff. A first crash is retried
 * at once, on a fresh worker: the likely culprit is the worker, not the
 * host; a second one backs off like any other retry. */
static void pool_retry(struct pool *p, struct task_rec *t, enum status st, const char *why)
{
	int64_t delay = st == STATUS_CRASHED && t->attempt == 1
	                        ? 0
	                        : retryq_delay_ms(&p->retries, p->o->retry_delay_ms, t->attempt + (st == STATUS_CRASHED ? 0 : 1));

	log_info("%s: %s (attempt %u); trying again in %.1fs", t->host.name, why, t->attempt, delay / 1000.0);
	t->attempt++;
	retryq_push(&p->retries, t, clock_mono_ms() + delay);
}

/* A task's final record (rendered in p->rec) to every sink; steps is the
 * worker's steps array, NULL for a record the supervisor made. Frees t. */
static void pool_emit(struct pool *p, struct task_rec *t, const msgpack_object *steps)
{
	if (p->o->outdir)
		outdir_put(&p->outdir, t->host.name, p->rec.status, steps);
	if (p->o->gather)
		gather_add(&p->gather, t->host.name, p->rec.status, steps, p->rec.has_error ? p->rec.error.data : NULL);
	sink_put(&p->sink, t->seq, t->host.name, &p->rec, steps);
	task_rec_free(t);
}

/* The record of a task the supervisor ends itself. A task the run was
 * stopped on gets a record marked interrupted (not final: --resume runs
 * it again). */
static void pool_finish(struct pool *p, struct task_rec *t, int worker, enum status st, const char *error)
{
	struct record_info ri = {
		.interrupted = st == STATUS_ERROR && error == run_interrupted,
		.host = t->host.name,
		.job = p->o->job->name,
		.attempt = t->attempt,
		.worker = worker,
		.started_wall_ms = t->started_wall_ms,
		.duration_ms = clock_mono_ms() - t->started_mono_ms,
		.shard = p->o->shard.count ? p->o->shard.label : NULL,
	};

	record_make(&p->rec, &ri, st, error);
	pool_emit(p, t, NULL);
}

static int pool_epoll(struct pool *p, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(p->epfd, op, fd, &ev);
}

static void pool_start_slot(struct pool *p, struct slot *s)
{
	struct err err;
	int64_t now = clock_mono_ms();

	if (slot_spawn(s, p->o->worker_path, &p->o->limits, &err) < 0) {
		log_error("%s", err.msg);
		p->fatal = true;
		return;
	}
	p->starting++;
	s->started_ms = now;
	pool_epoll(p, EPOLL_CTL_ADD, s->from_worker, EPOLLIN, (uint64_t)s->index << 1);
	pool_timer(p, s, now + RUN_STARTUP_MS);
	if (slot_send(s, p->hello.data, p->hello.len) < 0)
		return; /* it died already; the reaper will say how */
	if (s->wbuf.len) {
		s->want_write = 1;
		pool_epoll(p, EPOLL_CTL_ADD, s->to_worker, EPOLLOUT, (uint64_t)s->index << 1 | 1);
	}
}

/* Stop a worker that cannot be trusted any more. Its task counts as a
 * crash: retried on a fresh worker while attempts remain. */
static void pool_protocol_error(struct pool *p, struct slot *s, const char *what)
{
	char detail[512];

	snprintf(detail, sizeof(detail), "protocol error from worker: %s", what);
	log_warn("worker %d: %s; killing it", (int)s->pid, what);
	/* Before ready it is a worker that cannot start: counted and backed
	 * off as such, or one that always does it is respawned for ever. */
	slot_stop(s, s->state == SLOT_STARTING ? STOP_STARTUP : STOP_PROTOCOL, detail, clock_mono_ms(), 0);
	slot_kill(s);
}

/* The host's key policy: its host var, else the job's. */
static enum hostkey_policy pool_policy(const struct pool *p, const struct host *h)
{
	const char *v = kvlist_get(&h->vars, "host_key_policy");
	enum hostkey_policy pol = p->o->job->ssh.host_key_policy;
	struct err err;

	/* as the worker reads it: a host var that turns the check off
	 * without the job's leave (hostvar.h) ends that host in the worker;
	 * here it widens nothing */
	if (v && hostvar_check_setting(&p->o->job->inventory_may, "host_key_policy", v, &err) == 0)
		hostkey_policy_parse(v, &pol);
	return pol;
}

/* Does this host's HTTP go without TLS verification? */
static bool pool_insecure(const struct pool *p, const struct host *h)
{
	const char *v = kvlist_get(&h->vars, "insecure");

	if (!p->o->job->has_http && !v)
		return false;
	return hostvar_insecure(&p->o->job->inventory_may, v, p->o->job->http.insecure);
}

/* A worker met an unknown host key under accept-new: append it. Only
 * when the host's policy is accept-new (a worker cannot widen it), only
 * to the file the job and inventory name for the host (a worker's
 * message never names a file; a "path" in it is ignored), and only a
 * line for this host. */
static void pool_known_hosts(struct pool *p, const struct task_rec *t, const msgpack_object *m)
{
	const msgpack_object *add = proto_get(m, "known_hosts_add");
	const char *line;
	char *path = NULL, *name = NULL;
	size_t llen;
	struct err err;

	if (!add)
		return;
	if (pool_policy(p, &t->host) != HOSTKEY_ACCEPT_NEW || proto_get_str(add, "line", &line, &llen) < 0) {
		log_warn("%s: ignored a known_hosts entry the host's policy does not allow", t->host.name);
		return;
	}
	if (knownhosts_target(p->o->job, &t->host, &path, &name, &err) < 0 ||
	    knownhosts_append(&p->kh, path, name, line, llen, &err) < 0)
		log_error("%s: %s", t->host.name, err.msg);
	else
		log_info("%s: host key accepted and added to %s", t->host.name, path);
	free(path);
	free(name);
}

static void pool_on_result(struct pool *p, struct slot *s, const msgpack_object *m)
{
	struct task_rec *t = s->task;
	struct record_info ri;
	struct err err;
	uint64_t id;

	if (s->state != SLOT_BUSY || !t || proto_get_u64(m, "id", &id) < 0 || id != t->seq) {
		pool_protocol_error(p, s, "a result for a task it was not given");
		return;
	}
	ri = (struct record_info){
		.host = t->host.name,
		.job = p->o->job->name,
		.attempt = t->attempt,
		.worker = (int)s->pid,
		.started_wall_ms = t->started_wall_ms,
		.duration_ms = clock_mono_ms() - t->started_mono_ms,
		.shard = p->o->shard.count ? p->o->shard.label : NULL,
	};
	if (record_from_result(&p->rec, m, &ri, &err) < 0) {
		pool_protocol_error(p, s, err.msg);
		return;
	}
	pool_known_hosts(p, t, m);
	s->task = NULL;
	if (pool_may_retry(p, t, p->rec.status)) {
		pool_retry(p, t, p->rec.status, status_name(p->rec.status));
	} else {
		pool_emit(p, t, proto_get(m, "steps"));
	}
	s->child_pgid = 0;
	s->timer_ms = 0;
	s->tasks_done++;
	p->in_flight--;
	if (p->o->max_tasks_per_worker && s->tasks_done >= p->o->max_tasks_per_worker) {
		/* an idle worker exits at once on TERM; its exit respawns the
		 * slot while the other slots go on with the queue */
		slot_stop(s, STOP_RECYCLE, NULL, clock_mono_ms(), RUN_KILL_AFTER_MS);
		pool_timer(p, s, s->timer_ms);
		return;
	}
	pool_push_idle(p, s);
}

static void pool_on_frame(struct pool *p, struct slot *s, const char *payload, size_t len)
{
	msgpack_object obj;
	enum proto_type type;
	struct err err;
	int64_t pgid;
	uint64_t id;

	if (proto_decode_zone(payload, len, &p->zone, &obj, &type, &err) < 0) {
		pool_protocol_error(p, s, err.msg);
		goto out;
	}
	switch (type) {
	case PROTO_READY:
		if (s->state != SLOT_STARTING) {
			pool_protocol_error(p, s, "ready twice");
			break;
		}
		p->startup_failures = 0;
		s->timer_ms = 0;
		if (slot_exec_done(s))
			p->starting--;
		pool_push_idle(p, s);
		break;
	case PROTO_CHILD:
		/* The group is killed with the worker: never group 1 (kill(-1)
		 * is every process) nor our own. */
		if (s->state == SLOT_BUSY && proto_get_u64(&obj, "id", &id) == 0 && id == s->task->seq &&
		    proto_get_i64(&obj, "pgid", &pgid) == 0 && pgid >= 0 && pgid <= INT32_MAX && pgid != 1 &&
		    pgid != getpgrp())
			s->child_pgid = (pid_t)pgid;
		break;
	case PROTO_RESULT:
		pool_on_result(p, s, &obj);
		break;
	default:
		pool_protocol_error(p, s, "a message only the supervisor sends");
		break;
	}
out:
	msgpack_zone_clear(&p->zone);
}

/* One read from the worker, then every whole frame it completed. Returns
 * 1 when bytes came, 0 when the pipe is closed or the slot stops trusting
 * the worker, -1 when there is nothing to read now. */
static int pool_on_readable(struct pool *p, struct slot *s)
{
	const char *payload;
	size_t len;
	ssize_t n;
	int r;

	if (s->from_worker < 0)
		return 0;
	n = frame_reader_fill(&s->rd, s->from_worker);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* The worker closed its end: it is exiting. Its exit status,
		 * through SIGCHLD, decides what happens to its task. */
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->from_worker, NULL);
		close(s->from_worker);
		s->from_worker = -1;
		return 0;
	}
	if (n < 0)
		return -1;
	/* Frames are handled only while the slot still trusts its worker. */
	while (s->state != SLOT_STOPPING && (r = frame_next(&s->rd, &payload, &len)) != 0) {
		if (r < 0) {
			pool_protocol_error(p, s, "a frame longer than the maximum");
			break;
		}
		pool_on_frame(p, s, payload, len);
	}
	return s->state == SLOT_STOPPING ? 0 : 1;
}

static void pool_on_writable(struct pool *p, struct slot *s)
{
	int r = slot_flush(s);

	if (r <= 0 && s->want_write) {
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->to_worker, NULL);
		s->want_write = 0;
	}
}

static void pool_describe_exit(const struct pool *p, int st, char *out, size_t n)
{
	if (WIFSIGNALED(st) && WTERMSIG(st) == SIGXCPU) {
		snprintf(out, n, "worker killed by SIGXCPU: the task used more than %.3gs of CPU (--worker-cpu)",
		         p->o->worker_cpu_ms / 1000.0);
	} else if (WIFSIGNALED(st)) {
		const char *abbrev = sigabbrev_np(WTERMSIG(st));
		snprintf(out, n, "worker killed by SIG%s", abbrev ? abbrev : "?");
	} else if (WEXITSTATUS(st) == UTIL_EXIT_OOM) {
		if (p->o->limits.mem_bytes)
			snprintf(out, n, "worker ran out of memory (its limit is %llu MiB: --worker-mem)",
			         (unsigned long long)(p->o->limits.mem_bytes >> 20));
		else
			snprintf(out, n, "worker ran out of memory");
	} else {
		snprintf(out, n, "worker exited with code %d without a result", WEXITSTATUS(st));
	}
}

static void pool_on_exit(struct pool *p, struct slot *s, int st)
{
	enum slot_state was = s->state;
	enum slot_stop reason = s->stop_reason;
	char *detail = s->stop_detail;
	int pid = (int)s->pid;
	struct task_rec *t = NULL;
	char how[256];
	int exec_errno = slot_exec_errno(s);

	if (slot_exec_done(s))
		p->starting--;
	s->stop_detail = NULL;
	/* A worker may write its result and exit before we read the pipe:
	 * what it wrote is still there and counts. */
	while (s->state != SLOT_STOPPING && pool_on_readable(p, s) > 0)
		;
	t = NULL;
	if (s->to_worker >= 0 && s->want_write)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->to_worker, NULL);
	if (s->from_worker >= 0)
		epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->from_worker, NULL);
	slot_clear(s, &t);
	s->stop_reason = STOP_NONE;
	pool_describe_exit(p, st, how, sizeof(how));

	if (t) {
		p->in_flight--;
		if (reason == STOP_TIMEOUT && pool_may_retry(p, t, STATUS_TIMEOUT)) {
			pool_retry(p, t, STATUS_TIMEOUT, "timeout");
		} else if (reason == STOP_TIMEOUT) {
			pool_finish(p, t, pid, STATUS_TIMEOUT, detail);
		} else if (reason == STOP_INTERRUPT || reason == STOP_SHUTDOWN) {
			pool_finish(p, t, pid, STATUS_ERROR, run_interrupted);
		} else {
			const char *why = reason == STOP_PROTOCOL && detail ? detail : how;
			if (pool_may_retry(p, t, STATUS_CRASHED)) {
				pool_retry(p, t, STATUS_CRASHED, why);
			} else {
				char msg[600];
				snprintf(msg, sizeof(msg), "%s (attempt %u of %u)", why, t->attempt, p->crash_attempts);
				pool_finish(p, t, pid, STATUS_CRASHED, msg);
			}
		}
	}
	if (p->shutting_down) {
		/* the end of the run: nothing to restart */
	} else if (was == SLOT_STARTING || reason == STOP_STARTUP) {
		p->startup_failures++;
		if (!p->fatal && exec_errno) {
			log_error("cannot run worker %s: %s", p->o->worker_path, strerror(exec_errno));
			p->fatal = true;
		} else if (!p->fatal && (WIFEXITED(st) && WEXITSTATUS(st) == WORKER_EXIT_FATAL)) {
			log_error("the worker refused to start (%s); see its message above", how);
			p->fatal = true;
		} else if (!p->fatal && p->startup_failures >= RUN_STARTUP_FAILURES) {
			log_error("workers die before they are ready (%d in a row, last: %s); stopping the run",
			          p->startup_failures, how);
			p->fatal = true;
		}
		/* back off: 100 ms, 200 ms, 400 ms... */
		if (pool_more_work(p))
			pool_timer(p, s, clock_mono_ms() + (100 << (p->startup_failures < 6 ? p->startup_failures : 6)));
	} else if (pool_more_work(p)) {
		pool_start_slot(p, s);
	}
	free(detail);
}

static void pool_reap(struct pool *p)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < p->nslots; i++) {
			if (p->slots[i].pid == pid) {
				pool_on_exit(p, &p->slots[i], st);
				break;
			}
		}
	}
}

static void pool_interrupt(struct pool *p, int signo)
{
	int64_t now = clock_mono_ms();

	p->interrupts++;
	if (p->interrupts == 1) {
		log_warn("SIG%s: no new tasks; waiting up to %.1fs for the %d running (again to stop now)",
		         sigabbrev_np(signo), p->o->grace_ms / 1000.0, p->in_flight);
		for (int i = 0; i < p->nslots; i++) {
			struct slot *s = &p->slots[i];
			if (s->state == SLOT_BUSY && (!s->timer_ms || s->timer_ms > now + p->o->grace_ms))
				pool_timer(p, s, now + p->o->grace_ms);
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

static void pool_on_signal(struct pool *p)
{
	struct signalfd_siginfo si;

	while (read(p->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below, once for all */
		if (si.ssi_signo == SIGUSR1) {
			progress_clear(&p->pg);
			progress_inflight(p->slots, p->nslots, clock_mono_ms(), stderr);
			continue;
		}
		pool_interrupt(p, (int)si.ssi_signo);
	}
	pool_reap(p);
}

static void pool_on_timer(struct pool *p, struct slot *s, int64_t now)
{
	char detail[256];

	s->timer_ms = 0;
	/* What the worker sent may still sit in its pipe: a turn of the loop
	 * handles at most RUN_EPOLL_EVENTS events, and a thousand workers
	 * starting at once all answer together. Read it before judging. */
	if (s->state == SLOT_STARTING || s->state == SLOT_BUSY) {
		while (s->state != SLOT_STOPPING && pool_on_readable(p, s) > 0)
			;
		if (s->state == SLOT_IDLE)
			return;
	}
	switch (s->state) {
	case SLOT_BUSY:
		if (p->interrupts && now < s->task->started_mono_ms + p->o->timeout_ms) {
			slot_stop(s, STOP_INTERRUPT, NULL, now, RUN_KILL_AFTER_MS);
		} else {
			snprintf(detail, sizeof(detail),
			         "task deadline of %.3gs passed and the worker did not answer within %.3gs more; "
			         "worker killed",
			         p->o->timeout_ms / 1000.0, p->o->grace_ms / 1000.0);
			log_info("%s: %s", s->task->host.name, detail);
			slot_stop(s, STOP_TIMEOUT, detail, now, RUN_KILL_AFTER_MS);
		}
		pool_timer(p, s, s->timer_ms);
		break;
	case SLOT_STARTING:
		slot_stop(s, STOP_STARTUP, "did not get ready", now, RUN_KILL_AFTER_MS);
		pool_timer(p, s, s->timer_ms);
		break;
	case SLOT_STOPPING:
		slot_kill(s);
		break;
	case SLOT_EMPTY:
		if (pool_more_work(p))
			pool_start_slot(p, s);
		break;
	case SLOT_IDLE:
		break;
	}
}

static void pool_check_timers(struct pool *p, int64_t now)
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

/* --resume and --retry-failed: should this host run, given the journal?
 * Without either, every host runs. */
static bool run_wanted(const struct run_opts *o, const struct journal_index *done, const char *host)
{
	const struct journal_last *l;
	bool resume = o->resume, retry = o->retry_failed;

	if (!resume && !retry)
		return true;
	l = journal_index_get(done, task_key(o->job->name, host));
	if (!l || !l->final)
		return resume; /* never finished: resume runs it */
	return retry && l->status != STATUS_OK;
}

/* The next task to run: a retry first, then the next target. NULL when
 * there is none now (or --ordered must wait for earlier records). */
static struct task_rec *pool_next_task(struct pool *p, int *rc)
{
	struct task_rec *t = retryq_pop(&p->retries, clock_mono_ms());
	struct err err;
	int r;

	if (t || p->targets_done || !sink_may_start(&p->sink, p->next_seq))
		return t;
	t = xcalloc(1, sizeof(*t));
	while ((r = shard_targets_next(&p->o->shard, p->targets, &t->host, NULL, &err)) > 0 &&
	       !run_wanted(p->o, &p->done, t->host.name))
		host_free(&t->host);
	if (r <= 0) {
		free(t);
		p->targets_done = true;
		if (r < 0) {
			/* validated before the run, so only a file changed
			 * under us gets here */
			log_error("%s", err.msg);
			*rc = 3;
		}
		return NULL;
	}
	t->seq = p->next_seq++;
	t->attempt = 1;
	return t;
}

static void pool_dispatch(struct pool *p, int *rc)
{
	while (p->nidle > 0 && pool_more_work(p)) {
		struct slot *s = &p->slots[p->idle[p->nidle - 1].index];
		struct task_rec *t;
		int64_t now;

		if (s->state != SLOT_IDLE || s->pid != p->idle[p->nidle - 1].pid) {
			p->nidle--; /* stale: that worker died while idle */
			continue;
		}
		now = clock_mono_ms();
		if (p->o->rate > 0 && now < p->rate_next_ms)
			break; /* --rate: the main loop wakes at rate_next_ms */
		t = pool_next_task(p, rc);
		if (!t)
			break;
		p->nidle--;
		if (p->o->rate > 0) {
			/* evenly spaced starts, no burst saved up while idle */
			double next = (p->rate_next_ms > now ? p->rate_next_ms : now) + 1000.0 / p->o->rate;
			p->rate_next_ms = next;
		}
		if (!p->warned_insecure && pool_insecure(p, &t->host)) {
			log_warn("insecure (%s): TLS certificates are not verified, so anyone between here and the "
			         "hosts can pose as them and read what is sent",
			         t->host.name);
			p->warned_insecure = true;
		}
		if (!p->warned_hostkey_off && p->o->job->has_ssh && pool_policy(p, &t->host) == HOSTKEY_OFF) {
			log_warn("host_key_policy off (%s): SSH host keys are not checked, so anyone between here "
			         "and the hosts can pose as them",
			         t->host.name);
			p->warned_hostkey_off = true;
		}
		now = clock_mono_ms();
		t->started_mono_ms = now;
		t->started_wall_ms = clock_wall_ms();
		buf_reset(&p->frame);
		proto_encode_task(&p->frame, t->seq, t->attempt, t->host.name, &t->host.vars, p->o->timeout_ms);
		s->task = t;
		s->state = SLOT_BUSY;
		s->child_pgid = 0;
		p->in_flight++;
		pool_timer(p, s, now + p->o->timeout_ms + p->o->grace_ms);
		if (slot_send(s, p->frame.data, p->frame.len) < 0)
			continue; /* broken pipe: the worker died; reaping handles the task */
		if (s->wbuf.len && !s->want_write) {
			s->want_write = 1;
			pool_epoll(p, EPOLL_CTL_ADD, s->to_worker, EPOLLOUT, (uint64_t)s->index << 1 | 1);
		}
	}
}

/* Tasks that were waiting for a retry when the run was cut short still get
 * their record. */
static void pool_drop_retries(struct pool *p, const char *why)
{
	struct task_rec *t;

	while ((t = retryq_pop(&p->retries, INT64_MAX)) != NULL)
		pool_finish(p, t, 0, STATUS_ERROR, why);
}

/* The end of a run: close the task pipes so idle workers exit on EOF,
 * then TERM and KILL whatever is left, and reap everything. */
static void pool_shutdown(struct pool *p)
{
	int64_t deadline = clock_mono_ms() + RUN_SHUTDOWN_MS;
	bool killed = false;

	p->shutting_down = true;
	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		if (s->pid > 0 && s->to_worker >= 0 && s->state != SLOT_BUSY) {
			if (s->want_write)
				epoll_ctl(p->epfd, EPOLL_CTL_DEL, s->to_worker, NULL);
			s->want_write = 0;
			close(s->to_worker);
			s->to_worker = -1;
		}
		if (s->pid > 0 && s->state == SLOT_BUSY)
			slot_stop(s, STOP_SHUTDOWN, NULL, clock_mono_ms(), 0);
	}
	for (;;) {
		int alive = 0;
		int64_t now;

		pool_reap(p);
		for (int i = 0; i < p->nslots; i++)
			alive += p->slots[i].pid > 0;
		if (!alive)
			break;
		now = clock_mono_ms();
		if (now >= deadline && !killed) {
			for (int i = 0; i < p->nslots; i++)
				slot_kill(&p->slots[i]);
			killed = true;
			deadline = now + RUN_SHUTDOWN_MS;
		} else if (now >= deadline) {
			log_error("%d workers did not exit after KILL", alive);
			break;
		}
		usleep(5000);
	}
}

static int pool_raise_nofile(int workers, struct err *err)
{
	struct rlimit rl;
	rlim_t need = (rlim_t)workers * 2 + 64;

	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= need)
		return 0;
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_max < need) {
		err_set(err, "-w %d needs %llu open files, and the hard limit is %llu (ulimit -Hn)", workers,
		        (unsigned long long)need, (unsigned long long)rl.rlim_max);
		return -1;
	}
	rl.rlim_cur = need;
	if (setrlimit(RLIMIT_NOFILE, &rl) < 0) {
		err_set(err, "setrlimit(RLIMIT_NOFILE, %llu): %s", (unsigned long long)need, strerror(errno));
		return -1;
	}
	return 0;
}

/* Read and check every target, counting those to run, those the journal
 * says are done, how many of those are done but not ok, and those of
 * other shards. */
static int run_count_targets(const struct run_opts *o, const struct journal_index *done, uint64_t *count,
                             uint64_t *skipped, uint64_t *skipped_not_ok, uint64_t *others, struct err *err)
{
	struct targets *tg = NULL;
	struct host h;
	uint64_t n = 0, skip = 0, not_ok = 0, other = 0;
	int r = -1, got;

	if (targets_open(&o->targets, &tg, err) < 0)
		goto out;
	while ((got = shard_targets_next(&o->shard, tg, &h, &other, err)) > 0) {
		if (run_wanted(o, done, h.name)) {
			n++;
		} else {
			const struct journal_last *l = journal_index_get(done, task_key(o->job->name, h.name));
			skip++;
			not_ok += l && l->status != STATUS_OK;
		}
		host_free(&h);
	}
	if (got < 0)
		goto out;
	*count = n;
	*skipped = skip;
	*skipped_not_ok = not_ok;
	*others = other;
	r = 0;
out:
	if (tg)
		targets_close(tg);
	return r;
}

int run_job(const struct run_opts *o)
{
	struct pool pool = {0}, *p = &pool;
	struct epoll_event events[RUN_EPOLL_EVENTS];
	struct proto_settings settings = {o->output_cap, (int)log_level(), o->worker_cpu_ms};
	sigset_t mask, oldmask;
	struct err err;
	uint64_t total = 0, skipped = 0, skipped_not_ok = 0, others = 0;
	int rc = 2, workers, spawned = 0;
	char label[512];
	bool mask_set = false, hooked = false;
	char pidbuf[32];

	p->o = o;
	p->epfd = p->sigfd = -1;
	p->sink.journal_fd = -1;
	p->outdir.dirfd = p->outdir.ok_fd = p->outdir.failed_fd = -1;
	record_init(&p->rec);
	msgpack_zone_init(&p->zone, 16384);
	p->start_ms = clock_mono_ms();
	p->attempts = 1 + (uint32_t)(o->retries >= 0 ? o->retries : o->job->retries);
	p->crash_attempts = p->attempts > RUN_CRASH_ATTEMPTS ? p->attempts : RUN_CRASH_ATTEMPTS;
	retryq_init(&p->retries, (uint64_t)getpid() << 32 ^ (uint64_t)clock_wall_ms());

	/* Read and check every target first: a bad inventory line is a
	 * configuration error before anything runs, not a surprise later.
	 * So is an -o that names a link or a file that is not a journal,
	 * even when --resume finds nothing left to run. */
	if (o->journal && journal_check_path(o->journal, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if ((o->resume || o->retry_failed) && access(o->journal, F_OK) == 0 &&
	    journal_index_load(&p->done, o->journal, o->job->name, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (run_count_targets(o, &p->done, &total, &skipped, &skipped_not_ok, &others, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (skipped)
		log_warn("%s: skipping %llu of %llu hosts (%s); %llu to run", o->journal, (unsigned long long)skipped,
		         (unsigned long long)(skipped + total),
		         o->retry_failed ? (o->resume ? "their last record is ok" : "their last record is ok, or none")
		                         : "they have a final record",
		         (unsigned long long)total);
	if (total == 0 && skipped) {
		/* nothing left: the exit code still tells the batch's outcome */
		rc = skipped_not_ok ? 1 : 0;
		goto out;
	}
	if (total == 0 && others) {
		/* more shards than hosts: an empty shard is not an error */
		log_warn("shard %s: none of the %llu hosts is in this shard; nothing to run", o->shard.label,
		         (unsigned long long)others);
		rc = 0;
		goto out;
	}
	if (total == 0) {
		log_error("no hosts to run on (check -i, -H and -l)");
		goto out;
	}
	workers = o->workers < 1 ? 1 : (total < (uint64_t)o->workers ? (int)total : o->workers);
	if (pool_raise_nofile(workers, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (targets_open(&o->targets, &p->targets, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	/* with --gather, stdout is for the gathered view at the end */
	if (sink_open(&p->sink, o->journal, o->format, o->quiet || o->gather, o->ordered,
	              (size_t)(workers * 8 > 256 ? workers * 8 : 256), &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (o->outdir && outdir_open(&p->outdir, o->outdir, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	progress_init(&p->pg, o->progress, o->color, total, p->start_ms);
	if (o->progress) {
		log_set_hook(run_log_hook, &p->pg);
		hooked = true;
		/* records to the same terminal erase the line first */
		if (isatty(STDOUT_FILENO))
			p->sink.progress = &p->pg;
	}

	rc = 3;
	signal(SIGPIPE, SIG_IGN);
	/* a journal past RLIMIT_FSIZE is a write error (EFBIG) to report,
	 * not a signal that kills us with results unwritten */
	signal(SIGXFSZ, SIG_IGN);
	/* SIGHUP (the terminal went away), SIGQUIT (^\\) and SIGTERM stop
	 * the run as SIGINT does: their default actions would kill the
	 * supervisor with collected results (the --ordered window, records
	 * not yet synced) unwritten and running tasks without a record. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGQUIT);
	sigaddset(&mask, SIGUSR1);
	sigprocmask(SIG_BLOCK, &mask, &oldmask);
	mask_set = true;
	p->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	p->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (p->sigfd < 0 || p->epfd < 0) {
		log_error("signalfd/epoll: %s", strerror(errno));
		goto out;
	}
	pool_epoll(p, EPOLL_CTL_ADD, p->sigfd, EPOLLIN, RUN_SIGFD_TAG);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	setenv("FLEETRUN_SUPERVISOR_PID", pidbuf, 1);
	proto_encode_hello(&p->hello, o->job->path, o->job->source, o->job->source_len, &settings);

	p->nslots = workers;
	p->slots = xcalloc((size_t)workers, sizeof(*p->slots));
	p->idle = xcalloc((size_t)workers * 2 + 1, sizeof(*p->idle));
	for (int i = 0; i < workers; i++) {
		p->slots[i].index = i;
		p->slots[i].to_worker = p->slots[i].from_worker = p->slots[i].exec_status = -1;
	}

	rc = 0;
	while (!p->fatal) {
		int64_t now = clock_mono_ms(), wake;
		int timeout = -1, n;

		/* The pool fills a few workers at a time, dispatching in
		 * between: the first workers are at work while the others
		 * still start. */
		while (p->starting < RUN_STARTING_MAX && spawned < workers && pool_more_work(p))
			pool_start_slot(p, &p->slots[spawned++]);
		pool_dispatch(p, &rc);
		if (p->in_flight == 0 && !pool_more_work(p))
			break;
		/* The idle stack holds at most one live entry per slot plus stale
		 * ones; compact it when stale entries pile up. */
		if (p->nidle > (size_t)workers * 2 - 1) {
			size_t k = 0;
			for (size_t i = 0; i < p->nidle; i++) {
				struct slot *s = &p->slots[p->idle[i].index];
				if (s->state == SLOT_IDLE && s->pid == p->idle[i].pid)
					p->idle[k++] = p->idle[i];
			}
			p->nidle = k;
		}
		wake = p->next_timer_ms;
		if (retryq_next_ms(&p->retries) && (!wake || retryq_next_ms(&p->retries) < wake))
			wake = retryq_next_ms(&p->retries);
		if (progress_next_ms(&p->pg) && (!wake || progress_next_ms(&p->pg) < wake))
			wake = progress_next_ms(&p->pg);
		if (p->o->rate > 0 && p->nidle && pool_more_work(p) && p->rate_next_ms > now &&
		    (!wake || (int64_t)p->rate_next_ms + 1 < wake))
			wake = (int64_t)p->rate_next_ms + 1;
		if (sink_next_timer(&p->sink) && (!wake || sink_next_timer(&p->sink) < wake))
			wake = sink_next_timer(&p->sink);
		if (wake)
			timeout = wake <= now ? 0 : (int)(wake - now);
		if (spawned < workers && pool_more_work(p))
			timeout = 0; /* more workers to start: do not sleep */
		n = epoll_wait(p->epfd, events, RUN_EPOLL_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		for (int i = 0; i < n; i++) {
			uint64_t tag = events[i].data.u64;
			struct slot *s;

			if (tag == RUN_SIGFD_TAG) {
				pool_on_signal(p);
				continue;
			}
			s = &p->slots[tag >> 1];
			if (tag & 1)
				pool_on_writable(p, s);
			else
				pool_on_readable(p, s);
		}
		now = clock_mono_ms();
		pool_check_timers(p, now);
		/* Records go out in batches: every SINK_FLUSH_MS, or sooner when a
		 * buffer grows large (sink.c). */
		if (sink_next_timer(&p->sink) && now >= sink_next_timer(&p->sink))
			sink_flush(&p->sink, now, false);
		if (p->sink.io_error)
			break; /* cannot write results: stop, do not claim success */
		progress_draw(&p->pg, &p->sink.sum, p->slots, p->nslots, now, false);
	}
	if (p->fatal || p->interrupts || p->sink.io_error) {
		pool_drop_retries(p, run_interrupted);
		rc = 3;
	}
	pool_shutdown(p);
	progress_clear(&p->pg);
	if (sink_finish(&p->sink) < 0)
		rc = 3;
	if (o->gather && !o->quiet)
		gather_print(&p->gather, stdout, o->color && isatty(STDOUT_FILENO));
	if (p->sink.io_error)
		log_error("the run stopped: results could not be written%s%s; hosts without a record there did "
		          "not finish (--resume runs them once the disk is fixed)",
		          o->journal ? " to " : "", o->journal ? o->journal : "");
	if (o->shard.count)
		snprintf(label, sizeof(label), "%s (shard %s)", o->job->name, o->shard.label);
	else
		snprintf(label, sizeof(label), "%s", o->job->name);
	if (o->summary != SUMMARY_NONE && !p->fatal) {
		struct summary_run sr = {label, clock_mono_ms() - p->start_ms, p->interrupts > 0};
		if (o->summary == SUMMARY_JSON)
			summary_print_json(&p->sink.sum, stderr, &sr);
		else
			summary_print(&p->sink.sum, stderr, &sr);
	}
	if (log_level() >= LOG_INFO)
		selfstat_report(p->sink.sum.total, p->nslots);
	/* with --resume, hosts done in an earlier run count too */
	if (rc == 0 && (p->sink.sum.counts[STATUS_OK] != p->sink.sum.total || skipped_not_ok))
		rc = 1;
	if (rc == 0 && p->interrupts)
		rc = 3;
out:
	if (p->slots) {
		for (int i = 0; i < p->nslots; i++) {
			struct task_rec *t;
			slot_clear(&p->slots[i], &t);
			task_rec_free(t);
			free(p->slots[i].stop_detail);
		}
	}
	free(p->slots);
	free(p->idle);
	retryq_free(&p->retries);
	if (p->targets)
		targets_close(p->targets);
	if (hooked)
		log_set_hook(NULL, NULL);
	progress_clear(&p->pg);
	progress_free(&p->pg);
	gather_free(&p->gather);
	outdir_close(&p->outdir);
	sink_close(&p->sink);
	record_free(&p->rec);
	knownhosts_free(&p->kh);
	journal_index_free(&p->done);
	msgpack_zone_destroy(&p->zone);
	buf_free(&p->hello);
	buf_free(&p->frame);
	if (p->sigfd >= 0) {
		/* A stop signal that came while the run was ending is taken:
		 * unblocked, it would kill us now, after every record is out,
		 * with its default action instead of this run's exit code. */
		struct signalfd_siginfo si;
		while (read(p->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(p->sigfd);
	}
	if (p->epfd >= 0)
		close(p->epfd);
	if (mask_set)
		sigprocmask(SIG_SETMASK, &oldmask, NULL);
	return rc;
}
