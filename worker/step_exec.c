/* step_exec: a local command through /bin/sh -c.
 *
 * The command runs in its own process group so that a timeout, the
 * worker's TERM, or the supervisor's kill takes down everything it started,
 * not just the shell. Its stdout and stderr are drained together with poll
 * so a command that floods one while the other is idle cannot stall; bytes
 * past the cap are read and dropped so the command never blocks on a full
 * pipe. */
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "child.h"
#include "clock.h"
#include "step.h"
#include "tmpl.h"
#include "util.h"
#include "worker.h"

extern char **environ;

/* After the shell exits, how long to keep reading output that a
 * background process of it may still be writing. */
#define EXEC_DRAIN_MS 200

/* The longest string execve takes (Linux MAX_ARG_STRLEN, 32 pages): a
 * template value longer than this cannot be in the environment. */
#define EXEC_ENV_STRING_MAX (32 * 4096)

/* FLEETRUN_<NAME>=value for the host vars, and the template values of
 * the command (tmpl_render_shell), after the worker's own environment.
 * Returns a malloced array; the strings it adds are listed in *owned for
 * exec_free_env. */
static char **exec_build_env(const struct step_ctx *ctx, const struct kvlist *tvals, size_t *nowned)
{
	const struct kvlist *vars = &ctx->task->vars;
	size_t nenv = 0, n = 0;
	char **envp;

	while (environ[nenv])
		nenv++;
	envp = xcalloc(nenv + vars->len + tvals->len + 3, sizeof(*envp));
	for (size_t i = 0; i < vars->len; i++) {
		char *s = xasprintf("FLEETRUN_%s=%s", vars->items[i].key, vars->items[i].value);
		for (char *c = s + 9; *c != '='; c++)
			*c = isalnum((unsigned char)*c) ? (char)toupper((unsigned char)*c) : '_';
		envp[n++] = s;
	}
	envp[n++] = xasprintf("FLEETRUN_HOST=%s", ctx->task->host);
	envp[n++] = xasprintf("FLEETRUN_JOB=%s", ctx->job->name);
	for (size_t i = 0; i < tvals->len; i++)
		envp[n++] = xasprintf("%s=%s", tvals->items[i].key, tvals->items[i].value);
	*nowned = n;
	for (size_t i = 0; i < nenv; i++) {
		/* ours win over inherited ones of the same name */
		const char *eq = strchr(environ[i], '=');
		size_t klen = eq ? (size_t)(eq - environ[i]) + 1 : strlen(environ[i]);
		int shadowed = 0;

		for (size_t j = 0; j < *nowned && !shadowed; j++)
			if (strncmp(envp[j], environ[i], klen) == 0)
				shadowed = 1;
		if (!shadowed)
			envp[n++] = environ[i];
	}
	envp[n] = NULL;
	return envp;
}

static void exec_free_env(char **envp, size_t nowned)
{
	if (!envp)
		return;
	for (size_t i = 0; i < nowned; i++)
		free(envp[i]);
	free(envp);
}

/* Runs in the child between fork and exec (child.h). */
static void exec_child(const char *cmd, char **envp, int out_fd, int err_fd, int gate_rd, int gate_wr,
                       pid_t worker)
{
	child_enter(gate_rd, gate_wr, worker);
	child_exec_shell(cmd, envp, -1, out_fd, err_fd);
}

/* Read what is there; keep up to cap bytes. Returns 0 at EOF, 1 otherwise. */
static int exec_drain(int fd, struct buf *b, size_t cap, bool *truncated)
{
	char chunk[65536];
	ssize_t n = read(fd, chunk, sizeof(chunk));

	if (n == 0)
		return 0;
	if (n < 0)
		return (errno == EAGAIN || errno == EINTR) ? 1 : 0;
	buf_append_capped(b, chunk, (size_t)n, cap, truncated);
	return 1;
}

static void exec_wait_status(struct step_result *r, int st)
{
	if (WIFEXITED(st)) {
		r->has_exit = true;
		r->exit_code = WEXITSTATUS(st);
	} else if (WIFSIGNALED(st)) {
		r->term_signal = WTERMSIG(st);
	}
}

/* The running command: its stdout and stderr drained together until it
 * exited and both pipes are closed (or EXEC_DRAIN_MS after it exited:
 * a background process may keep them open), or until the deadline, when
 * its group is killed. Returns whether the command was reaped (its status
 * in r). */
static bool exec_collect(struct step_ctx *ctx, struct step_result *r, pid_t pid, int pidfd, int out_fd, int err_fd)
{
	bool out_open = true, err_open = true, exited = false;
	int64_t drain_until = 0;
	int st = 0;

	for (;;) {
		struct pollfd pfd[3];
		int64_t now = clock_mono_us(), until = ctx->deadline_us;
		int nfd = 0, timeout_ms;

		if (exited && ((!out_open && !err_open) || now >= drain_until))
			break;
		if (now >= ctx->deadline_us) {
			r->status = STATUS_TIMEOUT;
			r->error = xasprintf("command did not finish before the %s deadline",
			                     ctx->deadline_is_task ? "task" : "step");
			kill(-pid, SIGKILL);
			break;
		}
		if (exited && drain_until < until)
			until = drain_until;
		if (out_open)
			pfd[nfd++] = (struct pollfd){.fd = out_fd, .events = POLLIN};
		if (err_open)
			pfd[nfd++] = (struct pollfd){.fd = err_fd, .events = POLLIN};
		if (!exited)
			pfd[nfd++] = (struct pollfd){.fd = pidfd, .events = POLLIN};
		timeout_ms = (int)((until - now + 999) / 1000);
		/* Without a pidfd (old kernel), poll in slices and ask waitpid. */
		if (pidfd < 0 && !exited && timeout_ms > 50)
			timeout_ms = 50;
		if (poll(pfd, (nfds_t)nfd, timeout_ms) < 0 && errno != EINTR) {
			r->status = STATUS_ERROR;
			r->error = xasprintf("poll: %s", strerror(errno));
			kill(-pid, SIGKILL);
			break;
		}
		for (int i = 0; i < nfd; i++) {
			if (!pfd[i].revents)
				continue;
			if (pfd[i].fd == out_fd)
				out_open = exec_drain(out_fd, &r->out, ctx->output_cap, &r->truncated);
			else if (pfd[i].fd == err_fd)
				err_open = exec_drain(err_fd, &r->err, ctx->output_cap, &r->truncated);
		}
		if (!exited && waitpid(pid, &st, WNOHANG) == pid) {
			exited = true;
			exec_wait_status(r, st);
			drain_until = clock_mono_us() + EXEC_DRAIN_MS * 1000;
		}
	}
	return exited;
}

static void step_exec_run(struct step_ctx *ctx, struct step_result *r)
{
	struct buf cmd = BUF_INIT;
	struct kvlist tvals = KVLIST_INIT;
	struct err e;
	char **envp = NULL;
	size_t nowned = 0;
	int outp[2] = {-1, -1}, errp[2] = {-1, -1}, gate[2] = {-1, -1};
	int pidfd = -1, st = 0;
	pid_t pid = -1, worker;
	bool exited;

	/* Devices are hostile and inventories are data: no value becomes
	 * shell text. Each reaches the command in its environment (where
	 * /proc shows it to no one else, and secrets stay out of argv). */
	if (tmpl_render_shell(ctx->step->text, ctx->scope, &cmd, &tvals, ctx->secrets, &e) < 0) {
		r->status = STATUS_ERROR;
		r->error = xasprintf("%s", e.msg);
		goto out;
	}
	for (size_t i = 0; i < tvals.len; i++) {
		size_t n = strlen(tvals.items[i].key) + 1 + strlen(tvals.items[i].value) + 1;
		if (n > EXEC_ENV_STRING_MAX) {
			r->status = STATUS_ERROR;
			r->error = xasprintf("a template value of %zu bytes is longer than the %d bytes an "
			                     "environment variable of a command can hold",
			                     strlen(tvals.items[i].value), EXEC_ENV_STRING_MAX);
			goto out;
		}
	}
	envp = exec_build_env(ctx, &tvals, &nowned);
	if (pipe2(outp, O_CLOEXEC) < 0 || pipe2(errp, O_CLOEXEC) < 0 || pipe2(gate, O_CLOEXEC) < 0) {
		r->status = STATUS_ERROR;
		r->error = xasprintf("pipe: %s", strerror(errno));
		goto out;
	}
	worker = getpid();
	pid = fork();
	if (pid < 0) {
		r->status = STATUS_ERROR;
		r->error = xasprintf("fork: %s", strerror(errno));
		goto out;
	}
	if (pid == 0)
		exec_child(cmd.data, envp, outp[1], errp[1], gate[0], gate[1], worker);
	close(gate[0]);
	gate[0] = -1;
	/* Both sides set the group so neither can race the other's kill. */
	setpgid(pid, pid);
	worker_child_started(ctx, pid);
	/* The worker's own fds are settled before the command runs: it
	 * holds the read ends and the pidfd only, whatever the command looks
	 * at in /proc. */
	close(outp[1]);
	close(errp[1]);
	outp[1] = errp[1] = -1;
	fcntl(outp[0], F_SETFL, O_NONBLOCK);
	fcntl(errp[0], F_SETFL, O_NONBLOCK);
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	/* open the gate: its one byte lets the child exec */
	while (write(gate[1], "g", 1) < 0 && errno == EINTR)
		;
	close(gate[1]);
	gate[1] = -1;

	exited = exec_collect(ctx, r, pid, pidfd, outp[0], errp[0]);
	/* Whatever the shell left behind in its group goes with it. */
	kill(-pid, SIGKILL);
	if (!exited && waitpid(pid, &st, 0) == pid && r->status == STATUS_OK)
		exec_wait_status(r, st);
	worker_child_ended(ctx);
	if (r->status == STATUS_OK) {
		if (r->term_signal) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("command killed by SIG%s", sigabbrev_np(r->term_signal)
			                                                    ? sigabbrev_np(r->term_signal)
			                                                    : "?");
		} else if (r->exit_code != 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("command exited with code %d", r->exit_code);
		} else {
			step_check_expect(ctx, r);
		}
	}
out:
	if (pidfd >= 0)
		close(pidfd);
	for (int i = 0; i < 2; i++) {
		if (outp[i] >= 0)
			close(outp[i]);
		if (errp[i] >= 0)
			close(errp[i]);
		if (gate[i] >= 0)
			close(gate[i]);
	}
	exec_free_env(envp, nowned);
	kvlist_free(&tvals);
	buf_free(&cmd);
}

const struct step_ops step_exec_ops = {
	.kind = STEP_EXEC,
	.run = step_exec_run,
	.pack = step_pack_command,
};
