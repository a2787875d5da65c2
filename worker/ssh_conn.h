/* ssh_conn: the task's one SSH connection, which its ssh steps (exec
 * channels, step_ssh.c) and cli steps (one shell channel, step_cli.c)
 * share: opened by the first step that needs it (jumps, ssh_config,
 * algorithms, pacing: ssh_session.c and ssh_jump.c), closed when the task
 * ends (step_ssh.c's close). */
#ifndef FLEETRUN_SSH_CONN_H
#define FLEETRUN_SSH_CONN_H

#include "ssh_jump.h"
#include "ssh_session.h"
#include "status.h"
#include "step.h"

struct ssh_conn {
	struct ssh_login login;   /* the device's */
	struct ssh_jump_use jump; /* how it is reached */
	enum status fail_status;  /* STATUS_OK, or why the connection failed */
	char *fail_error;         /* NULL or malloced */
};

/* The task's connection (ctx->state->ssh), logging in when no step has
 * yet. Never NULL: check fail_status (a failed login is remembered, so a
 * later step reports it without trying again). */
struct ssh_conn *ssh_conn_get(struct step_ctx *ctx);

#endif
