/* ssh_proxycmd: a job's proxy_command, the transport of the first login
 * of a connection (the device's, or the first jump host's): /bin/sh -c
 * COMMAND with the login's bytes on its stdin and stdout (one end of a
 * socketpair), its stderr kept for the error.
 *
 * Apart from the login (ssh_session.c) because it is a local process:
 * it follows the worker's process-group rules (its own group, told to
 * the supervisor, killed with the task; nothing of the worker's but its
 * stdio; see step_exec.c). The command is the job's (code) as written;
 * %h %p %r (host, port, user of the login) are substituted, each
 * shell-quoted, so an inventory's name can never become shell syntax,
 * and %% is a '%'. */
#ifndef FLEETRUN_SSH_PROXYCMD_H
#define FLEETRUN_SSH_PROXYCMD_H

#include <sys/types.h>

#include "step.h"
#include "util.h"

struct ssh_proxycmd {
	pid_t pid;  /* its process group too; -1 when none */
	int fd;     /* our end of the socketpair: the login's transport */
	int err_fd; /* its stderr, non-blocking */
	const struct proto_task *task; /* whose child it is (for the supervisor) */
	int frame_fd;
};

/* The command with %h %p %r %% substituted (shell-quoted). Malloced, or
 * NULL with err (an unknown %x). */
char *ssh_proxycmd_expand(const char *cmd, const char *host, const char *port, const char *user, struct err *err);

/* Start it for the login to host port user. 0 and *pc, or -1 with err. */
int ssh_proxycmd_start(struct step_ctx *ctx, const char *cmd, const char *host, const char *port, const char *user,
                       struct ssh_proxycmd *pc, struct err *err);

/* What the command said on stderr (its last line, at most a few hundred
 * bytes), appended to err's message when there is any: why a login over
 * it failed. */
void ssh_proxycmd_why(struct ssh_proxycmd *pc, struct err *err);

/* Kill its group, reap it, close the fds, tell the supervisor. */
void ssh_proxycmd_stop(struct ssh_proxycmd *pc);

#endif /* FLEETRUN_SSH_PROXYCMD_H */
