/* fleetrun-worker: runs tasks for the supervisor, one at a time.
 *
 * fd 3 carries frames in (hello, then tasks), fd 4 frames out (ready, then
 * results); stdin and stdout are /dev/null, stderr is the supervisor's. The
 * worker holds no state between tasks but the job, so the supervisor can
 * kill and replace it at any moment. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "frame.h"
#include "job.h"
#include "log.h"
#include "login_gate.h"
#include "proto.h"
#include "task.h"
#include "util.h"
#include "worker.h"

#define FD_IN 3
#define FD_OUT 4

/* The process group of the command a step is running, for the TERM
 * handler: the worker must not leave it behind. */
static volatile sig_atomic_t worker_child_pgid;

static void worker_on_term(int sig)
{
	(void)sig;
	if (worker_child_pgid > 0)
		kill(-(pid_t)worker_child_pgid, SIGKILL);
	_exit(WORKER_EXIT_TERM);
}

void worker_child_started(struct step_ctx *ctx, pid_t pgid)
{
	struct buf f = BUF_INIT;

	worker_child_pgid = pgid;
	proto_encode_child(&f, ctx->task->id, pgid);
	fd_write_all(ctx->frame_fd, f.data, f.len);
	buf_free(&f);
}

void worker_child_ended(struct step_ctx *ctx)
{
	struct buf f = BUF_INIT;

	worker_child_pgid = 0;
	proto_encode_child(&f, ctx->task->id, 0);
	fd_write_all(ctx->frame_fd, f.data, f.len);
	buf_free(&f);
}

/* Block until a whole frame is there. 1: a frame; 0: EOF (the supervisor
 * is done with us); -1: an error, logged. */
int worker_read_frame(struct frame_reader *rd, const char **p, size_t *n)
{
	for (;;) {
		int r = frame_next(rd, p, n);
		ssize_t got;

		if (r > 0)
			return 1;
		if (r < 0) {
			log_error("frame longer than %zu bytes from the supervisor", rd->max);
			return -1;
		}
		got = frame_reader_fill(rd, FD_IN);
		if (got == 0) {
			if (frame_reader_pending(rd)) {
				log_error("supervisor closed the pipe mid-frame");
				return -1;
			}
			return 0;
		}
		if (got < 0 && errno != EINTR) {
			log_error("read: %s", strerror(errno));
			return -1;
		}
	}
}

static void worker_setup_process(void)
{
	struct sigaction sa;
	const char *ppid_env = getenv("FLEETRUN_SUPERVISOR_PID");

	/* Passwords and passphrases pass through a worker's memory: no core
	 * file may carry them to disk. */
	struct rlimit nocore = {0, 0};
	setrlimit(RLIMIT_CORE, &nocore);

	/* Never outlive the supervisor: its death TERMs us, and the TERM
	 * handler takes a running command's process group along. If it died
	 * before the line below, the parent is already someone else. */
	prctl(PR_SET_PDEATHSIG, SIGTERM);
	if (ppid_env && atoi(ppid_env) != getppid())
		_exit(WORKER_EXIT_FATAL);
	/* Nothing a step runs gains privileges (setuid, file caps), and no
	 * other process of the user may ptrace us or read our memory
	 * through /proc: it holds passwords. */
	prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = worker_on_term;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	/* Ctrl-C is the supervisor's to handle: it decides what the
	 * in-flight tasks get. A broken pipe is an error return, not death. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGPIPE, &sa, NULL);
	/* SIGUSR1 asks the supervisor for the hosts in flight; `pkill -USR1
	 * fleetrun` reaches the workers too, and must not kill them */
	sigaction(SIGUSR1, &sa, NULL);
}

/* --worker-cpu: RLIMIT_CPU counts a process's whole life, so the limit
 * for this task is what the worker used so far plus the task's share.
 * Past it, the kernel sends SIGXCPU and the worker dies: the supervisor
 * records the task crashed, with that reason. */
static void worker_limit_cpu(int64_t limit_ms)
{
	struct rusage ru;
	struct rlimit rl;
	int64_t used_s;

	if (getrusage(RUSAGE_SELF, &ru) < 0 || getrlimit(RLIMIT_CPU, &rl) < 0)
		return;
	used_s = ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + 1;
	rl.rlim_cur = (rlim_t)(used_s + (limit_ms + 999) / 1000);
	if (rl.rlim_max != RLIM_INFINITY && rl.rlim_cur > rl.rlim_max)
		rl.rlim_cur = rl.rlim_max;
	setrlimit(RLIMIT_CPU, &rl);
}

/* The hello: parse the job the same way the supervisor did, prepare the
 * step kinds for it, and compile each step's expect once for all the
 * tasks to come. */
static int worker_hello(const msgpack_object *m, struct job **job, void ***res, struct proto_settings *s,
                        struct err *err)
{
	struct proto_hello h;
	char *pathz = NULL;
	int r = -1;

	if (proto_decode_hello(m, &h, err) < 0)
		goto out;
	*s = h.settings;
	pathz = xstrndup(h.job_path.p, h.job_path.n);
	/* the supervisor checked the job's jq expressions; the worker
	 * compiles them once, in the http step's prepare */
	if (job_parse_flags(pathz, h.job.p, h.job.n, JOB_PARSE_NO_JQ, job, err) < 0 || task_prepare(*job, err) < 0)
		goto out;
	*res = xcalloc((*job)->nsteps, sizeof(**res));
	for (size_t i = 0; i < (*job)->nsteps; i++) {
		int ec;
		PCRE2_SIZE eo;
		if (!(*job)->steps[i].expect)
			continue;
		(*res)[i] = pcre2_compile((PCRE2_SPTR)(*job)->steps[i].expect, PCRE2_ZERO_TERMINATED, 0, &ec,
		                          &eo, NULL);
		if (!(*res)[i]) {
			err_set(err, "step %zu: bad expect regex", i + 1);
			goto out;
		}
	}
	r = 0;
out:
	free(pathz);
	return r;
}

int main(int argc, char **argv)
{
	struct frame_reader rd;
	struct buf out = BUF_INIT;
	struct proto_settings settings = {PROTO_DEFAULT_OUTPUT_CAP, LOG_WARN, 0, 0, 0, false};
	struct job *job = NULL;
	void **res = NULL;
	struct err err;
	msgpack_zone zone;
	msgpack_object obj;
	enum proto_type type = PROTO_HELLO;
	const char *p;
	size_t n;
	int rc = WORKER_EXIT_FATAL, got;

	(void)argv;
	log_init("fleetrun-worker", LOG_WARN);
	msgpack_zone_init(&zone, 16384);
	frame_reader_init(&rd, FRAME_MAX);
	if (argc > 1 || fcntl(FD_IN, F_GETFD) < 0 || fcntl(FD_OUT, F_GETFD) < 0) {
		log_error("this program is started by fleetrun, with frames on fd 3 and 4");
		goto out;
	}
	worker_setup_process();
	/* The protocol pipes are ours alone: the commands steps run must not
	 * inherit them (they could write into the protocol, or keep the pipe
	 * open after we die). */
	fcntl(FD_IN, F_SETFD, FD_CLOEXEC);
	fcntl(FD_OUT, F_SETFD, FD_CLOEXEC);

	if (worker_read_frame(&rd, &p, &n) <= 0)
		goto out;
	if (proto_decode(p, n, &zone, &obj, &type, &err) < 0) {
		log_error("expected a hello frame: %s", err.msg);
		goto out;
	}
	if (type != PROTO_HELLO) {
		log_error("expected a hello frame, got another message");
		goto out;
	}
	if (worker_hello(&obj, &job, &res, &settings, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	log_init("fleetrun-worker", (enum log_level)settings.log_level);
	login_gate_setup(&settings, &rd);
	proto_encode_ready(&out, getpid());
	if (fd_write_all(FD_OUT, out.data, out.len) < 0)
		goto out;

	msgpack_zone_clear(&zone);
	while ((got = worker_read_frame(&rd, &p, &n)) > 0) {
		struct proto_task task;
		int bad;

		bad = proto_decode(p, n, &zone, &obj, &type, &err) < 0 || type != PROTO_TASK ||
		      proto_decode_task(&obj, &task, &err) < 0;
		msgpack_zone_clear(&zone);
		if (bad) {
			log_error("bad task frame: %s", type != PROTO_TASK ? "not a task" : err.msg);
			goto out;
		}
		buf_reset(&out);
		if (settings.cpu_limit_ms)
			worker_limit_cpu(settings.cpu_limit_ms);
		task_run(job, res, &settings, &task, FD_OUT, &out);
		proto_task_free(&task);
		if (fd_write_all(FD_OUT, out.data, out.len) < 0)
			goto out;
		/* Do not sit on a large buffer after a large result. */
		if (out.cap > 1024 * 1024)
			buf_free(&out);
	}
	rc = got == 0 ? WORKER_EXIT_OK : WORKER_EXIT_FATAL;
out:
	msgpack_zone_destroy(&zone);
	frame_reader_free(&rd);
	buf_free(&out);
	if (res && job)
		for (size_t i = 0; i < job->nsteps; i++)
			pcre2_code_free(res[i]);
	free(res);
	/* the kinds' programs point into the job: before it goes */
	task_finish();
	job_free(job);
	return rc;
}
