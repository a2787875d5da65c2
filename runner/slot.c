/* slot: spawning, feeding and stopping one worker process. */
#include "slot.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <sys/resource.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

extern char **environ;

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

/* Between fork and exec: async-signal-safe calls only. The supervisor
 * blocks the signals its signalfd reads; the worker must start with a clean
 * mask and default handlers. fd 3 and 4 may be taken by our own pipe ends,
 * so the ends are first moved above them. */
static void slot_child(const char *path, const struct slot_limits *lim, int task_rd, int result_wr,
                       int status_wr)
{
	struct sigaction sa;
	sigset_t none;
	int devnull, a, b, e;
	char *argv[] = {"fleetrun-worker", NULL};

	setpgid(0, 0);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = SIG_DFL;
	for (int sig = 1; sig < NSIG; sig++)
		sigaction(sig, &sa, NULL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);

	a = fcntl(task_rd, F_DUPFD_CLOEXEC, 10);
	b = fcntl(result_wr, F_DUPFD_CLOEXEC, 10);
	devnull = open("/dev/null", O_RDWR | O_CLOEXEC);
	if (a < 0 || b < 0 || devnull < 0 || dup2(a, 3) < 0 || dup2(b, 4) < 0 || dup2(devnull, 0) < 0 ||
	    dup2(devnull, 1) < 0)
		goto fail;
	/* Only fds 0-4 go to the worker, whatever fleetrun itself inherited
	 * without close-on-exec from the shell or program that started it.
	 * The exec-status pipe moves to fd 5 (close-on-exec) to survive. */
	if (status_wr != 5) {
		if (dup3(status_wr, 5, O_CLOEXEC) < 0)
			goto fail;
		status_wr = 5;
	}
	close_range(6, ~0U, 0);
	if (lim->mem_bytes) {
		struct rlimit rl = {lim->mem_bytes, lim->mem_bytes};
		if (setrlimit(RLIMIT_AS, &rl) < 0)
			goto fail;
	}
	if (lim->files) {
		struct rlimit rl = {lim->files, lim->files};
		if (setrlimit(RLIMIT_NOFILE, &rl) < 0)
			goto fail;
	}
	execve(path, argv, environ);
fail:
	e = errno;
	if (write(status_wr, &e, sizeof(e)) < 0)
		_exit(127);
	_exit(127);
}

int slot_spawn(struct slot *s, const char *worker_path, const struct slot_limits *lim, struct err *err)
{
	int task_pipe[2] = {-1, -1}, result_pipe[2] = {-1, -1}, status_pipe[2] = {-1, -1};
	int r = -1;
	pid_t pid;

	if (pipe2(task_pipe, O_CLOEXEC) < 0 || pipe2(result_pipe, O_CLOEXEC) < 0 ||
	    pipe2(status_pipe, O_CLOEXEC | O_NONBLOCK) < 0) {
		err_set(err, "pipe: %s", strerror(errno));
		goto out;
	}
	pid = fork();
	if (pid < 0) {
		err_set(err, "fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		slot_child(worker_path, lim, task_pipe[0], result_pipe[1], status_pipe[1]);

	setpgid(pid, pid);
	s->pid = pid;
	s->to_worker = task_pipe[1];
	s->from_worker = result_pipe[0];
	s->exec_status = status_pipe[0];
	task_pipe[1] = result_pipe[0] = status_pipe[0] = -1;
	fcntl(s->to_worker, F_SETFL, O_NONBLOCK);
	fcntl(s->from_worker, F_SETFL, O_NONBLOCK);
	frame_reader_init(&s->rd, FRAME_MAX);
	buf_reset(&s->wbuf);
	s->wpos = 0;
	s->want_write = 0;
	s->state = SLOT_STARTING;
	s->stop_reason = STOP_NONE;
	s->child_pgid = 0;
	s->tasks_done = 0;
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		close_fd(&task_pipe[i]);
		close_fd(&result_pipe[i]);
		close_fd(&status_pipe[i]);
	}
	return r;
}

void slot_init(struct slot *s, int index)
{
	memset(s, 0, sizeof(*s));
	s->index = index;
	s->to_worker = s->from_worker = s->exec_status = -1;
	s->idle_prev = s->idle_next = -1;
}

void slot_free(struct slot *s)
{
	struct task_rec *t;

	slot_clear(s, &t);
	task_rec_free(t);
	free(s->stop_detail);
	slot_init(s, s->index);
}

int slot_exec_errno(struct slot *s)
{
	int child_errno = 0;
	ssize_t n;

	if (s->exec_status < 0)
		return 0;
	/* The child wrote its errno before it exited, so an exited child's
	 * bytes are there to read now. */
	do
		n = read(s->exec_status, &child_errno, sizeof(child_errno));
	while (n < 0 && errno == EINTR);
	return n == (ssize_t)sizeof(child_errno) ? child_errno : 0;
}

bool slot_exec_done(struct slot *s)
{
	if (s->exec_status < 0)
		return false;
	close_fd(&s->exec_status);
	return true;
}

int slot_flush(struct slot *s)
{
	while (s->wpos < s->wbuf.len) {
		ssize_t n = write(s->to_worker, s->wbuf.data + s->wpos, s->wbuf.len - s->wpos);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN)
				return 1;
			return -1;
		}
		s->wpos += (size_t)n;
	}
	buf_reset(&s->wbuf);
	s->wpos = 0;
	return 0;
}

int slot_send(struct slot *s, const void *frame, size_t len)
{
	if (s->to_worker < 0)
		return -1;
	buf_append(&s->wbuf, frame, len);
	return slot_flush(s) < 0 ? -1 : 0;
}

void slot_stop(struct slot *s, enum slot_stop reason, const char *detail, int64_t now, int64_t kill_after_ms)
{
	if (s->state == SLOT_STOPPING || s->pid <= 0)
		return;
	s->stop_reason = reason;
	free(s->stop_detail);
	s->stop_detail = detail ? xstrdup(detail) : NULL;
	if (s->child_pgid > 0)
		kill(-s->child_pgid, SIGKILL);
	kill(s->pid, SIGTERM);
	/* A stopped worker cannot act on TERM until it runs again. */
	kill(s->pid, SIGCONT);
	s->state = SLOT_STOPPING;
	s->timer_ms = now + kill_after_ms;
}

void slot_kill(struct slot *s)
{
	if (s->child_pgid > 0)
		kill(-s->child_pgid, SIGKILL);
	if (s->pid > 0)
		kill(s->pid, SIGKILL);
	s->timer_ms = 0;
}

void slot_clear(struct slot *s, struct task_rec **task)
{
	if (s->child_pgid > 0)
		kill(-s->child_pgid, SIGKILL);
	close_fd(&s->to_worker);
	close_fd(&s->from_worker);
	close_fd(&s->exec_status);
	frame_reader_free(&s->rd);
	buf_free(&s->wbuf);
	s->wpos = 0;
	s->want_write = 0;
	s->pid = 0;
	s->child_pgid = 0;
	s->state = SLOT_EMPTY;
	s->timer_ms = 0;
	*task = s->task;
	s->task = NULL;
}
