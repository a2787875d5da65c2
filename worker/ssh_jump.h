/* ssh_jump: a device reached through jump hosts (the host's `jump`
 * chain): a login to each hop in turn, each over a direct-tcpip channel
 * of the one before, and a last channel to the device, which its own
 * login (ssh_session.c) runs over.
 *
 * Apart from the step and the login because the chain outlives a task:
 * a worker keeps its chains open across tasks (one bastion login per
 * worker, not per device), in a small cache keyed by the chain and every
 * hop's settings, closed at the worker's exit; a kept chain that turned
 * out dead (its channel cannot be opened, its connection ended) is
 * logged in again, once. A chain whose first hop is reached with a
 * proxy_command is the task's alone (the command is the task's process,
 * killed with it). */
#ifndef FLEETRUN_SSH_JUMP_H
#define FLEETRUN_SSH_JUMP_H

#include "ssh_proxycmd.h"
#include "ssh_session.h"
#include "step.h"

/* What a task's device login holds of its transport. */
struct ssh_jump_use {
	struct ssh_jump_chain *chain; /* NULL: direct; kept or owned */
	bool owned;                   /* not kept: closed with the task */
	struct ssh_proxycmd proxy;    /* pid -1: none */
	char *used;                   /* NULL, or the chain as used:
	                                 "user@host:port,..." (malloced) */
};

/* Set up dev's transport: through its jump chain (dev->params.jump), or
 * a proxy_command, or nothing to do (TCP, in the login). For a chain,
 * dev->via, dev->via_ch and dev->fd are set, the hops logged in (or
 * kept ones used), each hop within its connect_timeout and the task's
 * deadline.
 * New host keys of hops (accept-new) go to ctx->state. 0, or -1 with *st
 * and err naming the hop ("jump host H:P (hop i of n): ..."). */
int ssh_jump_connect(struct step_ctx *ctx, struct ssh_login *dev, struct ssh_jump_use *u, enum status *st,
                     struct err *err);

/* The task is done with the transport: a kept chain stays, the rest is
 * closed; call after the device's login is closed. */
void ssh_jump_release(struct ssh_jump_use *u);

#endif /* FLEETRUN_SSH_JUMP_H */
