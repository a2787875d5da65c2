/* login_gate: the worker's side of --max-logins (runner/logins.h). Before
 * an SSH login (the TCP connect, or the channel through a jump host, that
 * starts an unauthenticated handshake) a worker asks the supervisor for
 * room and waits for the grant; when the login ends it says so. The
 * supervisor counts over all workers: only it can.
 *
 * Waiting is not the task's time: the wait moves the step's and the
 * task's deadlines (and the supervisor's hang timer for the worker) by as
 * much. A run without limits never asks: login_gate_enter returns at
 * once, and direct runs pay nothing. */
#ifndef FLEETRUN_LOGIN_GATE_H
#define FLEETRUN_LOGIN_GATE_H

#include <stdint.h>

#include "frame.h"
#include "proto.h"
#include "step.h"
#include "util.h"

/* At start-up, after the hello: the run's limits, and the reader of the
 * supervisor's frames (main.c's; the grant comes through it). */
void login_gate_setup(const struct proto_settings *settings, struct frame_reader *rd);

/* Before a login with key ("host:port" of a jump host; NULL or "" for a
 * device reached directly): wait for the supervisor's grant when the run
 * limits such logins. Returns the wait in microseconds (0 when there was
 * none), by which ctx's deadline and the task's later ones have moved:
 * the caller moves its own deadlines by it too. -1 with err when the
 * supervisor cannot be asked (it is gone, or says something else). */
int64_t login_gate_enter(struct step_ctx *ctx, const char *key, struct err *err);
/* The login ended: authenticated, or refused or dead and its connection
 * closed (sshd counts an unauthenticated connection until it is closed).
 * Nothing when the worker holds no login; safe to call on every path.
 * task_run calls it when a task ends, after the step kinds closed their
 * connections: a login that failed ends there. */
void login_gate_leave(void);

#endif
