/* ssh_proxycmd: see ssh_proxycmd.h. */
#include "ssh_proxycmd.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "buf.h"
#include "child.h"
#include "worker.h"

extern char **environ;

/* One word for the shell, whatever the value: '...' with each ' as '\''. */
static void ssh_proxycmd_quote(struct buf *b, const char *v)
{
	buf_putc(b, '\'');
	for (; *v; v++) {
		if (*v == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *v);
	}
	buf_putc(b, '\'');
}

char *ssh_proxycmd_expand(const char *cmd, const char *host, const char *port, const char *user, struct err *err)
{
	struct buf b = BUF_INIT;

	for (const char *p = cmd; *p; p++) {
		if (*p != '%') {
			buf_putc(&b, *p);
			continue;
		}
		switch (p[1]) {
		case 'h':
			ssh_proxycmd_quote(&b, host);
			break;
		case 'p':
			ssh_proxycmd_quote(&b, port);
			break;
		case 'r':
			ssh_proxycmd_quote(&b, user);
			break;
		case '%':
			buf_putc(&b, '%');
			break;
		default:
			err_set(err, "proxy_command: unknown %%%c (expected %%h, %%p, %%r or %%%%)", p[1] ? p[1] : ' ');
			buf_free(&b);
			return NULL;
		}
		p++;
	}
	return buf_steal(&b);
}

/* In the child between fork and exec (child.h): the socket is its stdin
 * and stdout. */
static void ssh_proxycmd_child(const char *cmd, int sock, int err_fd, int gate_rd, int gate_wr, pid_t worker)
{
	child_enter(gate_rd, gate_wr, worker);
	child_exec_shell(cmd, environ, sock, sock, err_fd);
}

int ssh_proxycmd_start(struct step_ctx *ctx, const char *cmd, const char *host, const char *port, const char *user,
                       struct ssh_proxycmd *pc, struct err *err)
{
	int sv[2] = {-1, -1}, ep[2] = {-1, -1}, gate[2] = {-1, -1}, r = -1;
	char *line = ssh_proxycmd_expand(cmd, host, port, user, err);
	pid_t worker = getpid();

	pc->pid = -1;
	pc->fd = pc->err_fd = -1;
	pc->task = ctx->task;
	pc->frame_fd = ctx->frame_fd;
	if (!line)
		goto out;
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0 || pipe2(ep, O_CLOEXEC) < 0 ||
	    pipe2(gate, O_CLOEXEC) < 0) {
		err_set(err, "proxy_command: %s", strerror(errno));
		goto out;
	}
	pc->pid = fork();
	if (pc->pid < 0) {
		err_set(err, "proxy_command: fork: %s", strerror(errno));
		goto out;
	}
	if (pc->pid == 0)
		ssh_proxycmd_child(line, sv[1], ep[1], gate[0], gate[1], worker);
	/* both sides set the group so neither can race the other's kill */
	setpgid(pc->pid, pc->pid);
	worker_child_started(ctx, pc->pid);
	while (write(gate[1], "g", 1) < 0 && errno == EINTR)
		;
	pc->fd = sv[0];
	pc->err_fd = ep[0];
	sv[0] = ep[0] = -1;
	fcntl(pc->fd, F_SETFL, O_NONBLOCK);
	fcntl(pc->err_fd, F_SETFL, O_NONBLOCK);
	r = 0;
out:
	for (int i = 0; i < 2; i++) {
		if (sv[i] >= 0)
			close(sv[i]);
		if (ep[i] >= 0)
			close(ep[i]);
		if (gate[i] >= 0)
			close(gate[i]);
	}
	free(line);
	return r;
}

void ssh_proxycmd_why(struct ssh_proxycmd *pc, struct err *err)
{
	char text[4096], msg[sizeof(err->msg)];
	ssize_t n;
	size_t len = 0;
	char *last;

	if (pc->err_fd < 0)
		return;
	while (len < sizeof(text) - 1 && (n = read(pc->err_fd, text + len, sizeof(text) - 1 - len)) > 0)
		len += (size_t)n;
	while (len && (text[len - 1] == '\n' || text[len - 1] == '\r'))
		len--;
	text[len] = '\0';
	if (!len)
		return;
	last = strrchr(text, '\n');
	last = last ? last + 1 : text;
	for (char *c = last; *c; c++)
		if ((unsigned char)*c < 0x20 || *c == 0x7f)
			*c = '?';
	memcpy(msg, err->msg, sizeof(msg));
	err_set(err, "%s (proxy_command said: %.300s)", msg, last);
}

void ssh_proxycmd_stop(struct ssh_proxycmd *pc)
{
	if (pc->pid > 0) {
		/* at the task's end, after its steps: what the supervisor needs
		 * to hear of it is which task */
		struct step_ctx ctx = {.task = pc->task, .frame_fd = pc->frame_fd};

		kill(-pc->pid, SIGKILL);
		while (waitpid(pc->pid, NULL, 0) < 0 && errno == EINTR)
			;
		worker_child_ended(&ctx);
	}
	if (pc->fd >= 0)
		close(pc->fd);
	if (pc->err_fd >= 0)
		close(pc->err_fd);
	pc->pid = -1;
	pc->fd = pc->err_fd = -1;
}
