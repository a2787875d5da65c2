/* run: `fleetrun run`'s mechanism. run_job is three steps:
 *
 *   run_prepare  check and count the targets (a bad inventory line is a
 *                configuration error before anything runs), open the
 *                outputs, block the stop signals into a signalfd, set up
 *                epoll and the pool;
 *   run_loop     one epoll loop over every worker's pipes and the
 *                signalfd, until the pool is done;
 *   run_finish   shut the workers down, flush the outputs, print the
 *                summary, settle the exit code.
 *
 * The loop never blocks on a worker: pipes are non-blocking, frames to a
 * worker wait in its slot's buffer, and the epoll timeout is the earliest
 * deadline of every timer source, folded with clock_deadline_min(): the
 * pool's (slot timers, retries, --rate), the progress line's and the
 * journal's sync.
 *
 * The decisions (which worker gets which task, retries, recycling, what
 * a worker's exit means) are pool.c's. This file moves bytes, reaps
 * children and turns results into records for the sinks, through the
 * hooks of struct pool_io. A task leaves the supervisor's hands only as a
 * record: a result from its worker, or a record the supervisor writes
 * when the worker timed out, crashed on every attempt allowed, or the run
 * was interrupted. */
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
#include "hostcfg.h"
#include "journal.h"
#include "journal_run.h"
#include "knownhosts.h"
#include "log.h"
#include "outdir.h"
#include "pool.h"
#include "progress.h"
#include "proto.h"
#include "record.h"
#include "selfstat.h"
#include "sink.h"
#include "transcript.h"

/* How long finished workers get to exit on their own at the end, and
 * then after KILL. */
#define RUN_SHUTDOWN_MS 2000
#define RUN_EPOLL_EVENTS 256
/* epoll tags: a slot's index << 1, | 1 for its task pipe (EPOLLOUT) */
#define RUN_SIGFD_TAG UINT64_MAX

struct run {
	const struct run_opts *o;
	struct pool pool;         /* the workers and the scheduling */
	int epfd;
	int sigfd;
	sigset_t oldmask;         /* to restore, when mask_set */
	bool mask_set;
	bool log_hooked;          /* messages erase the progress line */
	struct targets *targets;  /* the second pass, which runs them */
	struct journal_index done; /* --resume/--retry-failed: the journal's last records */
	uint64_t total;           /* targets to run */
	uint64_t skipped;         /* targets the journal says are done ... */
	uint64_t skipped_not_ok;  /* ... of which not ok */
	uint64_t others;          /* targets of other shards */
	struct sink sink;
	struct progress pg;       /* the live line on stderr */
	struct gather gather;     /* --gather */
	struct outdir outdir;     /* --outdir */
	struct transcript transcript; /* --transcript */
	struct record rec;        /* rendered record, reused */
	msgpack_zone zone;        /* decoded frames, cleared after each */
	struct knownhosts kh;     /* keys appended under accept-new */
	struct sshconfig sshcfg;  /* the job's ssh_config files, read once */
	bool sshcfg_algs;         /* they set an algorithm list somewhere */
	bool warned_hostkey_off;
	bool warned_insecure;
	struct buf warned_algs;   /* ",method:name," of each weak SSH algorithm
	                             named in a warning already */
	struct buf hello;         /* the hello frame, the same for every worker */
	struct buf frame;         /* scratch for encoding a task */
	int64_t start_ms;
	int64_t start_wall_ms;    /* the journal's start line says it */
	uint64_t interrupted_recs; /* records of tasks the run was stopped on */
	int rc;                   /* the exit code so far */
};

/* A message on stderr, or records on the same terminal, erase the live
 * line first. */
static void run_log_hook(void *ctx)
{
	progress_clear(ctx);
}

static int run_epoll(struct run *r, int op, int fd, uint32_t events, uint64_t tag)
{
	struct epoll_event ev = {.events = events, .data.u64 = tag};
	return epoll_ctl(r->epfd, op, fd, &ev);
}

/* Frames wait in the slot's buffer: watch the pipe until they are out. */
static void run_want_write(struct run *r, struct slot *s)
{
	if (s->wbuf.len && !s->want_write) {
		s->want_write = 1;
		run_epoll(r, EPOLL_CTL_ADD, s->to_worker, EPOLLOUT, (uint64_t)s->index << 1 | 1);
	}
}

/* A task's final record (rendered in r->rec) to every sink; res is the
 * worker's decoded result, NULL for a record the supervisor made. Frees t. */
static void run_emit(struct run *r, struct task_rec *t, const struct proto_result *res)
{
	if (r->o->outdir)
		outdir_put(&r->outdir, t->host.name, r->rec.status, res);
	if (r->o->transcript)
		transcript_put(&r->transcript, t->host.name, r->rec.status, res);
	if (r->o->gather)
		gather_add(&r->gather, t->host.name, r->rec.status, res, r->rec.has_error ? r->rec.error.data : NULL);
	sink_put(&r->sink, t->seq, t->host.name, &r->rec, res);
	task_rec_free(t);
}

static void run_record_info(const struct run *r, const struct task_rec *t, int worker, int64_t now,
                            struct record_info *ri)
{
	*ri = (struct record_info){
		.host = t->host.name,
		.job = r->o->job->name,
		.attempt = t->attempt,
		.worker = worker,
		.started_wall_ms = t->started_wall_ms,
		.duration_ms = now - t->started_mono_ms,
		.shard = r->o->shard.count ? r->o->shard.label : NULL,
	};
}

/* The host's key policy: its host var, else the job's, else ssh_config's. */
static enum hostkey_policy run_host_policy(const struct run *p, const struct host *h)
{
	enum hostkey_policy job_pol = hostcfg_ssh_policy(&p->o->job->ssh, NULL), pol;
	struct err err;

	/* as the worker reads it (hostcfg.h): a host var the worker refuses
	 * (one turning the check off without the job's leave, or no policy)
	 * ends that host there; here it widens nothing */
	if (knownhosts_policy(p->o->job, &p->sshcfg, h, &pol, &err) < 0)
		pol = job_pol;
	return pol;
}

/* Does this host's HTTP go without TLS verification? */
static bool run_host_insecure(const struct run *p, const struct host *h)
{
	const struct hostcfg hc = {&p->o->job->inventory_may, &h->vars, NULL, NULL};
	int job_insecure = p->o->job->http.insecure, insecure;
	struct err err;

	/* as the worker reads it (hostcfg.h): a host var the worker refuses
	 * (insecure=on without the job's leave, insecure=maybe) ends that
	 * host there before anything is sent */
	if (hostcfg_bool(&hc, "insecure", job_insecure, &insecure, &err) < 0)
		insecure = job_insecure;
	return insecure;
}

/* A worker met an unknown host key under accept-new: append it. Only
 * when the host's policy is accept-new (a worker cannot widen it), only
 * to the file the job and inventory name for the host (a worker's
 * message never names a file; a "path" in it is ignored), and only a
 * line for this host. */
static void run_known_hosts(struct run *p, const struct task_rec *t, const struct proto_result *res)
{
	char *path = NULL, *name = NULL;
	struct err err;

	if (!(res->has & PROTO_RESULT_KNOWN_HOSTS))
		return;
	if (run_host_policy(p, &t->host) != HOSTKEY_ACCEPT_NEW) {
		log_warn("%s: ignored a known_hosts entry the host's policy does not allow", t->host.name);
		return;
	}
	if (knownhosts_target(p->o->job, &p->sshcfg, &t->host, &path, &name, &err) < 0) {
		log_error("%s: %s", t->host.name, err.msg);
		goto out;
	}
	/* the device's line, or a jump host's: each for a name the host's
	 * own settings give, in the host's file */
	for (size_t i = 0; i < res->nknown_hosts; i++) {
		const char *line = res->known_hosts_lines[i].p;
		size_t llen = res->known_hosts_lines[i].n, nl = strlen(name);
		char *hop = NULL;
		bool dev = llen > nl && !memcmp(line, name, nl) && line[nl] == ' ';

		if ((!dev && knownhosts_jump_name(p->o->job, &p->sshcfg, &t->host, line, llen, &hop, &err) < 0) ||
		    knownhosts_append(&p->kh, path, dev ? name : hop, line, llen, &err) < 0)
			log_error("%s: %s", t->host.name, err.msg);
		else
			log_info("%s: host key of %s accepted and added to %s", t->host.name, dev ? "the host" : hop,
			         path);
		free(hop);
	}
out:
	free(path);
	free(name);
}

/* Weak SSH algorithms the host's settings enable (hostcfg_algs) that no
 * warning named yet, said in one warning with where they come from: in
 * the usual run (the job's, or one inventory group's) once. A host var
 * the worker refuses ends that host there; here it warns of nothing. */
/* The weak names a method's spec enables (from the host var or the job
 * through hostcfg_algs, else ssh_config's for the host): *weak (malloced
 * or NULL) and *src, where it came from. */
static void run_weak_of(struct run *r, const struct task_rec *t, const struct hostcfg *hc,
                        const struct sshconfig_host *sc, enum sshalgs_method m, char **weak, char *src, size_t srclen)
{
	static const enum sshconfig_kw kw[SSHALGS_NMETHODS] = {
		[SSHALGS_KEX] = SSHCONFIG_KEXALGORITHMS,
		[SSHALGS_HOSTKEY] = SSHCONFIG_HOSTKEYALGORITHMS,
		[SSHALGS_CIPHERS] = SSHCONFIG_CIPHERS,
		[SSHALGS_MACS] = SSHCONFIG_MACS,
		[SSHALGS_PUBKEY] = SSHCONFIG_PUBKEYACCEPTEDALGORITHMS,
	};
	const struct job *job = r->o->job;
	bool from_host = kvlist_get(&t->host.vars, sshalgs_setting(m)) != NULL;
	char *spec = NULL, *list = NULL;
	struct err err;

	*weak = NULL;
	if (from_host || job->ssh.algorithms[m]) {
		if (hostcfg_algs(hc, m, job->ssh.algorithms[m], &spec, weak, &err) < 0)
			*weak = NULL;
		snprintf(src, srclen, "%s%s", from_host ? "host var of " : "job ", from_host ? t->host.name : job->path);
	} else if (sc->val[kw[m]]) {
		if (sshalgs_apply(m, sc->val[kw[m]], &list, weak, &err) < 0)
			*weak = NULL;
		snprintf(src, srclen, "ssh_config %s", sc->where[kw[m]] ? sc->where[kw[m]] : "");
	}
	free(spec);
	free(list);
}

static void run_warn_weak_algs(struct run *r, const struct task_rec *t)
{
	const struct job *job = r->o->job;
	const struct hostcfg hc = {&job->inventory_may, &t->host.vars, NULL, NULL};
	struct sshconfig_host sc = {0};
	struct buf msg = BUF_INIT;
	bool ssh_steps = false;
	struct err err;

	for (size_t i = 0; i < job->nsteps; i++)
		ssh_steps |= job->steps[i].kind == STEP_SSH || job->steps[i].kind == STEP_CLI ||
		             job->steps[i].kind == STEP_CONFIG;
	/* ssh_config's lists for the host, asked as the worker asks; only
	 * when the config sets one at all (this runs for every task) */
	if (ssh_steps && r->sshcfg_algs && hostcfg_sshconfig(&hc, &r->sshcfg, &job->ssh, t->host.name, &sc, &err) < 0)
		memset(&sc, 0, sizeof(sc));
	for (int m = 0; ssh_steps && m < SSHALGS_NMETHODS; m++) {
		const char *setting = sshalgs_setting((enum sshalgs_method)m);
		char *weak = NULL, *p, *name, src[600];

		run_weak_of(r, t, &hc, &sc, (enum sshalgs_method)m, &weak, src, sizeof(src));
		for (p = weak; p && (name = strsep(&p, ","));) {
			char *key = xasprintf(",%s:%s,", setting, name);
			if (!r->warned_algs.len || !memmem(r->warned_algs.data, r->warned_algs.len, key, strlen(key))) {
				buf_puts(&r->warned_algs, key);
				buf_printf(&msg, "%s%s %s (%s)", msg.len ? ", " : "", setting, name, src);
			}
			free(key);
		}
		free(weak);
	}
	sshconfig_host_free(&sc);
	if (msg.len)
		log_warn("weak SSH algorithms enabled: %s: they protect the session less than the defaults "
		         "(README, \"SSH algorithms\")", msg.data);
	buf_free(&msg);
}

/* The warnings a run says once: for the first host that goes without
 * TLS verification, and the first without SSH host key checks. */
static void run_warn_once(struct run *r, const struct task_rec *t)
{
	if (!r->warned_insecure && run_host_insecure(r, &t->host)) {
		log_warn("insecure (%s): TLS certificates are not verified, so anyone between here and the "
		         "hosts can pose as them and read what is sent",
		         t->host.name);
		r->warned_insecure = true;
	}
	if (!r->warned_hostkey_off && r->o->job->has_ssh && run_host_policy(r, &t->host) == HOSTKEY_OFF) {
		log_warn("host_key_policy off (%s): SSH host keys are not checked, so anyone between here "
		         "and the hosts can pose as them",
		         t->host.name);
		r->warned_hostkey_off = true;
	}
	run_warn_weak_algs(r, t);
}

static void run_on_result(struct run *r, struct slot *s, const msgpack_object *m, int64_t now)
{
	struct task_rec *t = s->task;
	struct record_info ri;
	struct proto_result res;
	struct err err;

	if (proto_decode_result(m, &r->zone, &res, &err) < 0) {
		pool_protocol_error(&r->pool, s, err.msg, now);
		return;
	}
	if (!pool_expects_result(s, res.id)) {
		pool_protocol_error(&r->pool, s, "a result for a task it was not given", now);
		return;
	}
	run_record_info(r, t, (int)s->pid, now, &ri);
	record_from_result(&r->rec, &res, &ri);
	run_known_hosts(r, t, &res);
	t = pool_on_result(&r->pool, s, r->rec.status, now);
	if (t)
		run_emit(r, t, &res);
}

/* The process group a step of the task runs, killed with the worker:
 * never group 1 (kill(-1) is every process) nor our own. */
static void run_on_child(struct slot *s, const msgpack_object *m)
{
	int64_t pgid;
	uint64_t seq;

	if (proto_decode_child(m, &seq, &pgid) == 0 && s->task && s->task->seq == seq &&
	    (s->state == SLOT_BUSY || s->state == SLOT_STOPPING) && pgid >= 0 && pgid <= INT32_MAX && pgid != 1 &&
	    pgid != getpgrp())
		s->child_pgid = (pid_t)pgid;
}

/* login, login_done: the worker's SSH login asks for room, or ended
 * (pool_login_*: --max-logins). */
static void run_on_login(struct run *r, struct slot *s, const msgpack_object *m, enum proto_type type, int64_t now)
{
	struct proto_login l;
	struct err err;

	if (proto_decode_login(m, &l, &err) < 0) {
		pool_protocol_error(&r->pool, s, err.msg, now);
		return;
	}
	if (!s->task || l.id != s->task->seq) {
		pool_protocol_error(&r->pool, s, "a login for a task it was not given", now);
		return;
	}
	if (type == PROTO_LOGIN)
		pool_login_enter(&r->pool, s, l.key.p, l.key.n, now);
	else
		pool_login_leave(&r->pool, s, now);
}

/* Are the worker's frames still read? Not after a protocol error: it is
 * not trusted any more. A worker being stopped for any other reason (the
 * run stopping, a timeout, a recycle) still names the process group of
 * the step it started, which is killed with it: a worker that crashes
 * right after starting a step, as the run stops, would otherwise leave
 * the command running. Its other messages are dropped. */
static bool run_reads_frames(const struct slot *s)
{
	return s->state != SLOT_STOPPING || (s->stop_reason != STOP_PROTOCOL && s->stop_reason != STOP_STARTUP);
}

static void run_on_frame(struct run *r, struct slot *s, const char *payload, size_t len)
{
	int64_t now = clock_mono_ms();
	msgpack_object obj;
	enum proto_type type;
	struct err err;

	if (s->state == SLOT_STOPPING) {
		if (proto_decode(payload, len, &r->zone, &obj, &type, &err) == 0 && type == PROTO_CHILD)
			run_on_child(s, &obj);
		goto out;
	}
	if (proto_decode(payload, len, &r->zone, &obj, &type, &err) < 0) {
		pool_protocol_error(&r->pool, s, err.msg, now);
		goto out;
	}
	switch (type) {
	case PROTO_READY:
		pool_on_ready(&r->pool, s, now);
		break;
	case PROTO_CHILD:
		run_on_child(s, &obj);
		break;
	case PROTO_RESULT:
		run_on_result(r, s, &obj, now);
		break;
	case PROTO_LOGIN:
	case PROTO_LOGIN_DONE:
		run_on_login(r, s, &obj, type, now);
		break;
	default:
		pool_protocol_error(&r->pool, s, "a message only the supervisor sends", now);
		break;
	}
out:
	msgpack_zone_clear(&r->zone);
}

/* One read from the worker, then every whole frame it completed. Returns
 * 1 when bytes came, 0 when the pipe is closed or the slot stops trusting
 * the worker, -1 when there is nothing to read now. */
static int run_on_readable(struct run *r, struct slot *s)
{
	const char *payload;
	size_t len;
	ssize_t n;
	int got;

	if (s->from_worker < 0)
		return 0;
	n = frame_reader_fill(&s->rd, s->from_worker);
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		/* The worker closed its end: it is exiting. Its exit status,
		 * through SIGCHLD, decides what happens to its task. */
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->from_worker, NULL);
		close(s->from_worker);
		s->from_worker = -1;
		return 0;
	}
	if (n < 0)
		return -1;
	/* Frames are handled only while the slot still trusts its worker. */
	while (run_reads_frames(s) && (got = frame_next(&s->rd, &payload, &len)) != 0) {
		if (got < 0) {
			pool_protocol_error(&r->pool, s, "a frame longer than the maximum", clock_mono_ms());
			break;
		}
		run_on_frame(r, s, payload, len);
	}
	return run_reads_frames(s) ? 1 : 0;
}

static void run_on_writable(struct run *r, struct slot *s)
{
	int w = slot_flush(s);

	if (w <= 0 && s->want_write) {
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->to_worker, NULL);
		s->want_write = 0;
	}
}

/* Take the slot's pipes out of the loop. */
static void run_unwatch(struct run *r, struct slot *s)
{
	if (s->to_worker >= 0 && s->want_write)
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->to_worker, NULL);
	s->want_write = 0;
	if (s->from_worker >= 0)
		epoll_ctl(r->epfd, EPOLL_CTL_DEL, s->from_worker, NULL);
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

/* The pool's hooks (struct pool_io): the mechanism its decisions use. */

static int run_io_start(void *ctx, struct slot *s)
{
	struct run *r = ctx;
	struct err err;

	if (slot_spawn(s, r->o->worker_path, &r->o->limits, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	run_epoll(r, EPOLL_CTL_ADD, s->from_worker, EPOLLIN, (uint64_t)s->index << 1);
	if (slot_send(s, r->hello.data, r->hello.len) < 0)
		return 0; /* it died already; the reaper will say how */
	run_want_write(r, s);
	return 0;
}

static void run_io_send_task(void *ctx, struct slot *s, struct task_rec *t)
{
	struct run *r = ctx;

	run_warn_once(r, t);
	t->started_wall_ms = clock_wall_ms();
	buf_reset(&r->frame);
	proto_encode_task(&r->frame, t->seq, t->attempt, t->host.name, &t->host.vars, r->o->timeout_ms);
	if (slot_send(s, r->frame.data, r->frame.len) < 0)
		return; /* broken pipe: the worker died; reaping handles the task */
	run_want_write(r, s);
}

static void run_io_grant(void *ctx, struct slot *s, int64_t waited_ms)
{
	struct run *r = ctx;
	struct proto_login l = {PROTO_LOGIN_WAITED, s->task ? s->task->seq : 0, {NULL, 0}, waited_ms};

	buf_reset(&r->frame);
	proto_encode_login(&r->frame, PROTO_LOGIN_GRANT, &l);
	if (slot_send(s, r->frame.data, r->frame.len) < 0)
		return; /* broken pipe: the worker died; reaping releases its login */
	run_want_write(r, s);
}

static void run_io_drain(void *ctx, struct slot *s)
{
	struct run *r = ctx;

	while (run_reads_frames(s) && run_on_readable(r, s) > 0)
		;
}

static void run_io_reaped(void *ctx, struct slot *s)
{
	run_io_drain(ctx, s);
	run_unwatch(ctx, s);
}

/* The record of a task the supervisor ends itself. A task the run was
 * stopped on gets a record marked interrupted (not final: --resume runs
 * it again). */
static void run_io_finish(void *ctx, struct task_rec *t, int worker, enum status st, const char *error)
{
	struct run *r = ctx;
	struct record_info ri;

	run_record_info(r, t, worker, clock_mono_ms(), &ri);
	ri.interrupted = st == STATUS_ERROR && error == pool_interrupted;
	r->interrupted_recs += ri.interrupted;
	record_make(&r->rec, &ri, st, error);
	run_emit(r, t, NULL);
}

static int run_io_next_target(void *ctx, uint64_t seq, struct task_rec **out)
{
	struct run *r = ctx;
	struct task_rec *t;
	struct err err;
	int got;

	if (!sink_may_start(&r->sink, seq))
		return 0;
	t = xcalloc(1, sizeof(*t));
	while ((got = targets_next_in_shard(r->targets, &r->o->shard, &t->host, NULL, &err)) > 0 &&
	       !run_wanted(r->o, &r->done, t->host.name))
		host_free(&t->host);
	if (got <= 0) {
		free(t);
		if (got < 0) {
			/* validated before the run, so only a file changed
			 * under us gets here */
			log_error("%s", err.msg);
			r->rc = 3;
		}
		return -1;
	}
	t->seq = seq;
	t->attempt = 1;
	*out = t;
	return 1;
}

static void run_reap(struct run *r)
{
	int st;
	pid_t pid;

	while ((pid = waitpid(-1, &st, WNOHANG)) > 0) {
		for (int i = 0; i < r->pool.nslots; i++) {
			if (r->pool.slots[i].pid == pid) {
				pool_on_exit(&r->pool, &r->pool.slots[i], st, clock_mono_ms());
				break;
			}
		}
	}
}

static void run_on_signal(struct run *r)
{
	struct signalfd_siginfo si;

	while (read(r->sigfd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGCHLD)
			continue; /* reaped below, once for all */
		if (si.ssi_signo == SIGUSR1) {
			progress_clear(&r->pg);
			progress_inflight(r->pool.slots, r->pool.nslots, clock_mono_ms(), stderr);
			continue;
		}
		pool_interrupt(&r->pool, (int)si.ssi_signo, clock_mono_ms());
	}
	run_reap(r);
}

static int run_raise_nofile(int workers, struct err *err)
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
	while ((got = targets_next_in_shard(tg, &o->shard, &h, &other, err)) > 0) {
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

/* Everything run_cleanup frees, in a state it can free (the pool zeroed:
 * it is set up once the number of workers is known). */
static void run_init(struct run *r, const struct run_opts *o)
{
	memset(r, 0, sizeof(*r));
	r->o = o;
	r->epfd = r->sigfd = -1;
	r->rc = 2;
	sink_init(&r->sink);
	outdir_init(&r->outdir);
	transcript_init(&r->transcript);
	record_init(&r->rec);
	msgpack_zone_init(&r->zone, 16384);
	r->start_ms = clock_mono_ms();
}

/* Read and check every target first: a bad inventory line is a
 * configuration error before anything runs, not a surprise later. So is
 * an -o that names a link or a file that is not a journal, even when
 * --resume finds nothing left to run. 0 to run, or -1 with r->rc set
 * (there is nothing to run, or an error). */
static int run_check_targets(struct run *r)
{
	const struct run_opts *o = r->o;
	struct err err;

	if (o->journal && journal_check_path(o->journal, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if ((o->resume || o->retry_failed) && access(o->journal, F_OK) == 0 &&
	    journal_index_load(&r->done, o->journal, o->job->name, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (run_count_targets(o, &r->done, &r->total, &r->skipped, &r->skipped_not_ok, &r->others, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (r->skipped)
		log_warn("%s: skipping %llu of %llu hosts (%s); %llu to run", o->journal, (unsigned long long)r->skipped,
		         (unsigned long long)(r->skipped + r->total),
		         o->retry_failed ? (o->resume ? "their last record is ok" : "their last record is ok, or none")
		                         : "they have a final record",
		         (unsigned long long)r->total);
	if (r->total == 0 && r->skipped) {
		/* nothing left: the exit code still tells the batch's outcome */
		r->rc = r->skipped_not_ok ? 1 : 0;
		return -1;
	}
	if (r->total == 0 && r->others) {
		/* more shards than hosts: an empty shard is not an error */
		log_warn("shard %s: none of the %llu hosts is in this shard; nothing to run", o->shard.label,
		         (unsigned long long)r->others);
		r->rc = 0;
		return -1;
	}
	if (r->total == 0) {
		log_error("no hosts to run on (check -i, -H and -l)");
		return -1;
	}
	return 0;
}

/* The targets again (this pass runs them), the outputs, the live line. */
static int run_open_outputs(struct run *r, int workers)
{
	const struct run_opts *o = r->o;
	struct err err;

	if (run_raise_nofile(workers, &err) < 0 || targets_open(&o->targets, &r->targets, &err) < 0 ||
	    /* with --gather, stdout is for the gathered view at the end */
	    sink_open(&r->sink, o->journal, o->format, o->quiet || o->gather, o->ordered,
	              (size_t)(workers * 8 > 256 ? workers * 8 : 256), &err) < 0 ||
	    (o->outdir && outdir_open(&r->outdir, o->outdir, &err) < 0) ||
	    (o->transcript && transcript_open(&r->transcript, o->transcript, &err) < 0)) {
		log_error("%s", err.msg);
		return -1;
	}
	r->gather.keys = o->gather_keys;
	r->gather.nkeys = o->ngather_keys;
	progress_init(&r->pg, o->progress, o->color, r->total, r->start_ms);
	if (o->progress) {
		log_set_hook(run_log_hook, &r->pg);
		r->log_hooked = true;
		/* records to the same terminal erase the line first */
		if (isatty(STDOUT_FILENO))
			sink_set_hook(&r->sink, run_log_hook, &r->pg);
	}
	return 0;
}

/* The stop signals into a signalfd, epoll, and what every worker gets:
 * the supervisor's pid, the hello frame. */
static int run_setup_loop(struct run *r)
{
	const struct run_opts *o = r->o;
	struct proto_settings settings = {o->output_cap, (int)log_level(), o->worker_cpu_ms, o->max_logins,
	                                  o->jump_max_logins, o->transcript != NULL};
	sigset_t mask;
	char pidbuf[32];

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
	sigprocmask(SIG_BLOCK, &mask, &r->oldmask);
	r->mask_set = true;
	r->sigfd = signalfd(-1, &mask, SFD_NONBLOCK | SFD_CLOEXEC);
	r->epfd = epoll_create1(EPOLL_CLOEXEC);
	if (r->sigfd < 0 || r->epfd < 0) {
		log_error("signalfd/epoll: %s", strerror(errno));
		return -1;
	}
	run_epoll(r, EPOLL_CTL_ADD, r->sigfd, EPOLLIN, RUN_SIGFD_TAG);
	snprintf(pidbuf, sizeof(pidbuf), "%d", (int)getpid());
	setenv("FLEETRUN_SUPERVISOR_PID", pidbuf, 1);
	proto_encode_hello(&r->hello, o->job->path, o->job->source, o->job->source_len, &settings);
	return 0;
}

static void run_init_pool(struct run *r, int workers)
{
	const struct run_opts *o = r->o;
	uint32_t attempts = 1 + (uint32_t)(o->retries >= 0 ? o->retries : o->job->retries);
	struct pool_config cf = {
		.workers = workers,
		.timeout_ms = o->timeout_ms,
		.grace_ms = o->grace_ms,
		.retry_delay_ms = o->retry_delay_ms,
		.attempts = attempts,
		.crash_attempts = attempts > RUN_CRASH_ATTEMPTS ? attempts : RUN_CRASH_ATTEMPTS,
		.max_tasks_per_worker = o->max_tasks_per_worker,
		.rate = o->rate,
		.worker_cpu_ms = o->worker_cpu_ms,
		.worker_mem_bytes = o->limits.mem_bytes,
		.worker_path = o->worker_path,
		.seed = (uint64_t)getpid() << 32 ^ (uint64_t)clock_wall_ms(),
		.max_logins = o->max_logins,
		.jump_max_logins = o->jump_max_logins,
	};
	struct pool_io io = {
		.ctx = r,
		.start = run_io_start,
		.send_task = run_io_send_task,
		.drain = run_io_drain,
		.reaped = run_io_reaped,
		.finish = run_io_finish,
		.next_target = run_io_next_target,
		.grant = run_io_grant,
	};

	pool_init(&r->pool, &cf, &io);
}

/* The job's ssh_config, read once when it has ssh or cli steps (both log
 * in over SSH): a file that
 * does not parse stops the run before anything starts, and what
 * fleetrun leaves out of it is said once. */
static int run_read_sshconfig(struct run *r)
{
	const struct job *job = r->o->job;
	bool ssh = false;
	struct err err;

	for (size_t i = 0; i < job->nsteps; i++)
		ssh |= job->steps[i].kind == STEP_SSH || job->steps[i].kind == STEP_CLI ||
		       job->steps[i].kind == STEP_CONFIG;
	if (!ssh)
		return 0;
	if (sshconfig_load(&r->sshcfg, job->ssh.config, &err) < 0) {
		log_error("ssh_config: %s", err.msg);
		return -1;
	}
	for (int kw = SSHCONFIG_KEXALGORITHMS; kw <= SSHCONFIG_PUBKEYACCEPTEDALGORITHMS; kw++)
		r->sshcfg_algs |= sshconfig_sets(&r->sshcfg, (enum sshconfig_kw)kw);
	if (*sshconfig_ignored(&r->sshcfg))
		log_warn("ssh_config: not used by fleetrun: %s", sshconfig_ignored(&r->sshcfg));
	return 0;
}

/* The journal's start line (journal_run.h): what this run is, before its
 * first record. */
static void run_journal_start(struct run *r, int workers)
{
	const struct run_opts *o = r->o;
	struct journal_run_start st = {
		.job = o->job->name,
		.job_path = o->job->path,
		.targets = r->total + r->skipped,
		.to_run = r->total,
		.shard = o->shard.count ? o->shard.label : NULL,
		.argc = o->argc,
		.argv = o->argv,
		.workers = workers,
		.timeout_ms = o->timeout_ms,
		.resume = o->resume,
		.retry_failed = o->retry_failed,
		.started_wall_ms = clock_wall_ms(),
	};
	struct buf line = BUF_INIT;

	if (!o->journal)
		return;
	r->start_wall_ms = st.started_wall_ms;
	journal_run_start_json(&st, &line);
	sink_journal_line(&r->sink, line.data, line.len);
	/* at once: `report` of a run killed before its first record still
	 * shows that it began */
	sink_flush(&r->sink, clock_mono_ms(), false);
	buf_free(&line);
}

/* The targets this run never started: taken from the targets, a task
 * starts (next_seq counts them). */
static uint64_t run_not_started(const struct run *r)
{
	return r->total > r->pool.next_seq ? r->total - r->pool.next_seq : 0;
}

/* The journal's end line: how the run ended and its counts, after its
 * last record (into *line; empty without a journal). */
static void run_journal_end(const struct run *r, struct buf *line)
{
	const struct run_opts *o = r->o;
	const struct pool *p = &r->pool;
	struct journal_run_end e = {
		.job = o->job->name,
		.state = p->interrupts ? JOURNAL_RUN_INTERRUPTED
		         : p->fatal || r->sink.io_error ? JOURNAL_RUN_CUT
		                                        : JOURNAL_RUN_FINISHED,
		.counts = r->sink.sum.counts,
		.not_started = run_not_started(r),
		.started_wall_ms = r->start_wall_ms,
		.ended_wall_ms = clock_wall_ms(),
		.wall_ms = clock_mono_ms() - r->start_ms,
	};

	if (o->journal)
		journal_run_end_json(&e, line);
}

/* 0 when the run is ready to loop; -1 with r->rc set when there is
 * nothing to run or it cannot start. */
static int run_prepare(struct run *r, const struct run_opts *o)
{
	int workers;

	run_init(r, o);
	if (run_check_targets(r) < 0 || run_read_sshconfig(r) < 0)
		return -1;
	workers = o->workers < 1 ? 1 : (r->total < (uint64_t)o->workers ? (int)r->total : o->workers);
	if (run_open_outputs(r, workers) < 0)
		return -1;
	r->rc = 3;
	if (run_setup_loop(r) < 0)
		return -1;
	run_init_pool(r, workers);
	run_journal_start(r, workers);
	r->rc = 0;
	return 0;
}

static void run_on_events(struct run *r, const struct epoll_event *events, int n)
{
	for (int i = 0; i < n; i++) {
		uint64_t tag = events[i].data.u64;
		struct slot *s;

		if (tag == RUN_SIGFD_TAG) {
			run_on_signal(r);
			continue;
		}
		s = &r->pool.slots[tag >> 1];
		if (tag & 1)
			run_on_writable(r, s);
		else
			run_on_readable(r, s);
	}
}

static void run_loop(struct run *r)
{
	struct epoll_event events[RUN_EPOLL_EVENTS];
	struct pool *p = &r->pool;

	while (!p->fatal) {
		int64_t now = clock_mono_ms(), wake = 0;
		int timeout = -1, n;

		/* The pool fills a few workers at a time, dispatching in
		 * between: the first workers are at work while the others
		 * still start. */
		pool_fill(p, now);
		now = clock_mono_ms();
		pool_dispatch(p, now);
		if (pool_done(p))
			break;
		pool_deadline(p, now, &wake);
		clock_deadline_min(&wake, progress_next_ms(&r->pg));
		clock_deadline_min(&wake, sink_next_timer(&r->sink));
		if (wake)
			timeout = wake <= now ? 0 : (int)(wake - now);
		n = epoll_wait(r->epfd, events, RUN_EPOLL_EVENTS, timeout);
		if (n < 0 && errno != EINTR) {
			log_error("epoll_wait: %s", strerror(errno));
			break;
		}
		run_on_events(r, events, n);
		now = clock_mono_ms();
		pool_check_timers(p, now);
		/* Records go out in batches: every SINK_FLUSH_MS, or sooner when a
		 * buffer grows large (sink.c). */
		if (sink_next_timer(&r->sink) && now >= sink_next_timer(&r->sink))
			sink_flush(&r->sink, now, false);
		if (r->sink.io_error)
			break; /* cannot write results: stop, do not claim success */
		progress_draw(&r->pg, &r->sink.sum, p->slots, p->nslots, now, false);
	}
}

/* Sleep until a child exits (SIGCHLD on the signalfd) or ms pass. Other
 * signals that come now are taken and dropped: the run is ending, and
 * their default action would kill us before every record is out. */
static void run_wait_children(struct run *r, int64_t ms)
{
	struct epoll_event ev;
	struct signalfd_siginfo si;

	if (epoll_wait(r->epfd, &ev, 1, ms > INT32_MAX ? INT32_MAX : (int)ms) > 0)
		while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
			;
}

/* The end of a run: close the task pipes so idle workers exit on EOF,
 * TERM the busy ones, and reap everything; KILL what is left after
 * RUN_SHUTDOWN_MS, and give up after as long again. The wait is the
 * loop's own epoll_wait on the signalfd, with the workers' pipes out of
 * it (what a worker wrote is read when it is reaped). */
static void run_shutdown(struct run *r)
{
	struct pool *p = &r->pool;
	int64_t deadline = clock_mono_ms() + RUN_SHUTDOWN_MS;
	bool killed = false;

	for (int i = 0; i < p->nslots; i++) {
		struct slot *s = &p->slots[i];
		run_unwatch(r, s);
		if (s->pid > 0 && s->to_worker >= 0 && s->state != SLOT_BUSY) {
			close(s->to_worker);
			s->to_worker = -1;
		}
	}
	pool_shutdown(p, clock_mono_ms());
	for (;;) {
		int alive;
		int64_t now;

		run_reap(r);
		alive = pool_alive(p);
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
		run_wait_children(r, deadline - now);
	}
}

static void run_print_summary(const struct run *r)
{
	const struct run_opts *o = r->o;
	char label[512];
	struct summary_run sr;
	struct buf resume = BUF_INIT;

	if (o->summary == SUMMARY_NONE || r->pool.fatal)
		return;
	if (o->shard.count)
		snprintf(label, sizeof(label), "%s (shard %s)", o->job->name, o->shard.label);
	else
		snprintf(label, sizeof(label), "%s", o->job->name);
	sr = (struct summary_run){.job = label, .wall_ms = clock_mono_ms() - r->start_ms,
	                          .interrupted = r->pool.interrupts > 0};
	/* stopped: how far it got, and the command that runs the rest */
	if (r->pool.interrupts || r->pool.fatal || r->sink.io_error) {
		sr.targets = r->total + r->skipped;
		sr.finished = r->skipped + r->sink.sum.total - r->interrupted_recs;
		sr.not_started = run_not_started(r);
		if (o->journal) {
			journal_run_resume_line((const char *const *)o->argv, (size_t)o->argc, &resume);
			sr.resume = resume.data;
		}
	}
	if (o->summary == SUMMARY_JSON)
		summary_print_json(&r->sink.sum, stderr, &sr);
	else
		summary_print(&r->sink.sum, stderr, &sr);
	buf_free(&resume);
}

static void run_finish(struct run *r)
{
	const struct run_opts *o = r->o;
	struct pool *p = &r->pool;
	struct buf end = BUF_INIT;

	if (p->fatal || p->interrupts || r->sink.io_error) {
		pool_drop_retries(p, pool_interrupted);
		r->rc = 3;
	}
	run_shutdown(r);
	progress_clear(&r->pg);
	run_journal_end(r, &end);
	if (sink_finish(&r->sink, end.len ? end.data : NULL, end.len) < 0)
		r->rc = 3;
	buf_free(&end);
	if (o->gather && !o->quiet)
		gather_print(&r->gather, stdout, o->color && isatty(STDOUT_FILENO));
	if (r->sink.io_error)
		log_error("the run stopped: results could not be written%s%s; hosts without a record there did "
		          "not finish (--resume runs them once the disk is fixed)",
		          o->journal ? " to " : "", o->journal ? o->journal : "");
	run_print_summary(r);
	if (log_level() >= LOG_INFO)
		selfstat_report(r->sink.sum.total, p->nslots);
	/* with --resume, hosts done in an earlier run count too */
	if (r->rc == 0 && (r->sink.sum.counts[STATUS_OK] != r->sink.sum.total || r->skipped_not_ok))
		r->rc = 1;
	if (r->rc == 0 && p->interrupts)
		r->rc = 3;
}

static void run_cleanup(struct run *r)
{
	pool_free(&r->pool);
	if (r->targets)
		targets_close(r->targets);
	if (r->log_hooked)
		log_set_hook(NULL, NULL);
	progress_clear(&r->pg);
	progress_free(&r->pg);
	gather_free(&r->gather);
	outdir_close(&r->outdir);
	transcript_close(&r->transcript);
	sink_close(&r->sink);
	record_free(&r->rec);
	knownhosts_free(&r->kh);
	sshconfig_free(&r->sshcfg);
	journal_index_free(&r->done);
	msgpack_zone_destroy(&r->zone);
	buf_free(&r->hello);
	buf_free(&r->frame);
	buf_free(&r->warned_algs);
	if (r->sigfd >= 0) {
		/* A stop signal that came while the run was ending is taken:
		 * unblocked, it would kill us now, after every record is out,
		 * with its default action instead of this run's exit code. */
		struct signalfd_siginfo si;
		while (read(r->sigfd, &si, sizeof(si)) == sizeof(si))
			;
		close(r->sigfd);
	}
	if (r->epfd >= 0)
		close(r->epfd);
	if (r->mask_set)
		sigprocmask(SIG_SETMASK, &r->oldmask, NULL);
}

int run_job(const struct run_opts *o)
{
	struct run run;
	int rc;

	if (run_prepare(&run, o) == 0) {
		run_loop(&run);
		run_finish(&run);
	}
	rc = run.rc;
	run_cleanup(&run);
	return rc;
}
