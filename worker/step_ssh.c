/* step_ssh: commands on the host over SSH, with libssh2.
 *
 * One connection per task, opened by the task's first ssh step and reused
 * by the next ones, each command on its own exec channel. The login
 * (transport, handshake, host key, authentication) is ssh_session.c's,
 * jump hosts and proxy_command ssh_jump.c's; here are the step's
 * channels and their output, with the step's and task's deadlines: a
 * device that stops mid-output or whose command never ends comes back
 * with a status in time. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli_transcript.h"
#include "clock.h"
#include "login_gate.h"
#include "ssh_conn.h"
#include "ssh_params.h"
#include "step.h"
#include "step_parse.h"
#include "tmpl.h"
#include "util.h"

static void step_ssh_close(struct task_state *state)
{
	struct ssh_conn *c = state->ssh;

	if (!c)
		return;
	/* the device's login first: it says goodbye through the chain */
	ssh_session_close(&c->login);
	ssh_jump_release(&c->jump);
	free(c->fail_error);
	free(c);
	state->ssh = NULL;
}

/* Open the task's connection: transport (through jump hosts or a
 * proxy_command when the host has them), login. Any failure is
 * remembered in the connection so later ssh steps of the task report it
 * too without trying again. */
static struct ssh_conn *ssh_connect(struct step_ctx *ctx)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	int64_t limit, deadline;
	bool task_first;
	struct ssh_params p;
	char *kh = NULL;
	struct err err;

	c->login.fd = -1;
	c->jump.proxy.pid = -1;
	ctx->state->ssh = c;
	if (ssh_params_load(ctx, &p, &err) < 0) {
		c->fail_status = STATUS_ERROR;
		c->fail_error = xstrdup(err.msg);
		return c;
	}
	ssh_session_init(&c->login, &p);
	c->login.keepalive_ms = c->login.params.keepalive_ms; /* the job's, or ServerAliveInterval */
	if (ssh_jump_connect(ctx, &c->login, &c->jump, &c->fail_status, &err) < 0)
		goto fail;
	/* pacing (login_gate.h): room for the device's login; the wait
	 * moves ctx's deadlines, and connect_timeout starts after it */
	if (login_gate_enter(ctx, NULL, &err) < 0) {
		c->fail_status = STATUS_ERROR;
		goto fail;
	}
	/* the device's own connect_timeout, from when its login starts */
	limit = clock_mono_us() + c->login.params.connect_timeout_ms * 1000; /* or ConnectTimeout */
	deadline = limit < ctx->deadline_us ? limit : ctx->deadline_us;
	task_first = ctx->deadline_us <= limit;
	if (ssh_session_login(&c->login, deadline, task_first, &kh, &c->fail_status, &err) < 0) {
		if (c->jump.proxy.pid > 0 && !c->jump.chain)
			ssh_proxycmd_why(&c->jump.proxy, &err);
		goto fail;
	}
	goto out;
fail:
	c->fail_error = xstrdup(err.msg);
out:
	/* what the device's login agreed on, as far as it got (audit trail) */
	ctx->state->ssh_negotiated = c->login.negotiated;
	step_known_host_add(ctx->state, kh);
	if (c->jump.used && !ctx->state->jump)
		ctx->state->jump = xstrdup(c->jump.used);
	return c;
}

struct ssh_conn *ssh_conn_get(struct step_ctx *ctx)
{
	return ctx->state->ssh ? ctx->state->ssh : ssh_connect(ctx);
}

/* Wait on a channel call that would block, until the step's deadline:
 * past it, the step times out. For the functions below, which name their
 * connection c, their result r, their return code rc and have a label out. */
#define SSH_CH_LOOP(call, what)                                                                                \
	while ((rc = (call)) == LIBSSH2_ERROR_EAGAIN)                                                          \
		if (ssh_session_wait(&c->login, ctx->deadline_us) < 0) {                                                       \
			r->status = STATUS_TIMEOUT;                                                            \
			r->error = xasprintf("%s did not finish before the %s deadline", what,                 \
			                     ctx->deadline_is_task ? "task" : "step");                         \
			goto out;                                                                              \
		}

/* The command's channel: opened, a terminal when asked for, the command
 * started. 0 and *chp, or -1 with r set. */
static int ssh_channel_start(struct ssh_conn *c, struct step_ctx *ctx, const char *cmd, LIBSSH2_CHANNEL **chp,
                             struct step_result *r)
{
	LIBSSH2_CHANNEL *ch = NULL;
	int rc, ret = -1;

	while (!(ch = libssh2_channel_open_session(c->login.session)) &&
	       libssh2_session_last_errno(c->login.session) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_session_wait(&c->login, ctx->deadline_us) < 0) {
			r->status = STATUS_TIMEOUT;
			r->error = xstrdup("opening a channel did not finish before the deadline");
			goto out;
		}
	}
	if (!ch) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("cannot open a channel: %s", ssh_session_errmsg(c->login.session));
		goto out;
	}
	if (ctx->step->pty >= 0 ? ctx->step->pty : c->login.params.pty) {
		SSH_CH_LOOP(libssh2_channel_request_pty(ch, "vt100"), "requesting a terminal");
		if (rc != 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("the host refused a terminal: %s", ssh_session_errmsg(c->login.session));
			goto out;
		}
	}
	SSH_CH_LOOP(libssh2_channel_exec(ch, cmd), "starting the command");
	if (rc != 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("the host refused the command: %s", ssh_session_errmsg(c->login.session));
		goto out;
	}
	cli_transcript_add(ctx->state->transcript, CLI_TRANSCRIPT_SENT, cmd, strlen(cmd));
	*chp = ch;
	ch = NULL;
	ret = 0;
out:
	if (ch)
		libssh2_channel_free(ch);
	return ret;
}

/* The command's output until EOF: stdout and stderr are read in the same
 * turn, so a command that floods one while the other is idle can never
 * stall on a full window; past the cap, bytes are read and dropped. 0 at
 * EOF, or -1 with r set: the deadline or idle_timeout passed, or the
 * connection was lost (and is marked failed for the task's next steps). */
static int ssh_read_output(struct ssh_conn *c, struct step_ctx *ctx, LIBSSH2_CHANNEL *ch, struct step_result *r)
{
	int64_t idle_ms = ctx->job->ssh.idle_timeout_ms, last_data = clock_mono_us();
	char chunk[32768];

	for (;;) {
		bool progress = false;
		ssize_t n;

		/* checked on every turn: a command that never stops printing
		 * never leaves this loop through a wait */
		if (clock_mono_us() >= ctx->deadline_us) {
			r->status = STATUS_TIMEOUT;
			r->error = xasprintf("command did not finish before the %s deadline",
			                     ctx->deadline_is_task ? "task" : "step");
			return -1;
		}
		while ((n = libssh2_channel_read_ex(ch, 0, chunk, sizeof(chunk))) > 0) {
			buf_append_capped(&r->out, chunk, (size_t)n, ctx->output_cap, &r->truncated);
			cli_transcript_add(ctx->state->transcript, CLI_TRANSCRIPT_RECEIVED, chunk, (size_t)n);
			progress = true;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		while ((n = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, chunk, sizeof(chunk))) > 0) {
			buf_append_capped(&r->err, chunk, (size_t)n, ctx->output_cap, &r->truncated);
			cli_transcript_add(ctx->state->transcript, CLI_TRANSCRIPT_STDERR, chunk, (size_t)n);
			progress = true;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		if (libssh2_channel_eof(ch))
			return 0;
		if (progress) {
			last_data = clock_mono_us();
			continue;
		}
		int64_t until = ctx->deadline_us;
		bool idle_first = false;
		if (idle_ms > 0 && last_data + idle_ms * 1000 < until) {
			until = last_data + idle_ms * 1000;
			idle_first = true;
		}
		if (ssh_session_wait(&c->login, until) < 0) {
			r->status = STATUS_TIMEOUT;
			if (idle_first)
				r->error = xasprintf("no output for %.3gs (idle_timeout): command stopped", idle_ms / 1000.0);
			else
				r->error = xasprintf("command did not finish before the %s deadline",
				                     ctx->deadline_is_task ? "task" : "step");
			return -1;
		}
	}
lost:
	r->status = STATUS_FAILED;
	if (c->login.recv_error > 0)
		r->error = xasprintf("connection lost mid-command: %s", strerror(c->login.recv_error));
	else if (c->login.recv_error < 0)
		r->error = xstrdup("connection lost mid-command: the host closed it");
	else
		r->error = xasprintf("connection lost mid-command: %s", ssh_session_errmsg(c->login.session));
	/* the session is dead: later steps must not try to use it */
	c->fail_status = STATUS_FAILED;
	free(c->fail_error);
	c->fail_error = xstrdup("connection lost in an earlier step");
	return -1;
}

/* After EOF: close the channel, then the command's verdict from its exit
 * signal or exit status (and expect). */
static void ssh_exit_verdict(struct ssh_conn *c, struct step_ctx *ctx, LIBSSH2_CHANNEL *ch, struct step_result *r)
{
	/* exit-status arrives with or just after EOF; give the close a short
	 * bounded wait for it */
	int64_t close_by = clock_mono_us() + 2000000;
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (close_by > ctx->deadline_us)
		close_by = ctx->deadline_us;
	while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(&c->login, close_by) < 0)
			break;
	while (rc == 0 && (rc = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(&c->login, close_by) < 0)
			break;
	libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
	if (sig && siglen) {
		int signo = 0;
		for (int k = 1; k < NSIG; k++) {
			const char *ab = sigabbrev_np(k);
			if (ab && strlen(ab) == siglen && !memcmp(ab, sig, siglen))
				signo = k;
		}
		r->term_signal = signo ? signo : SIGKILL;
		r->status = STATUS_FAILED;
		r->error = xasprintf("command killed by SIG%.*s", (int)siglen, sig);
		libssh2_free(c->login.session, sig);
		return;
	}
	if (sig)
		libssh2_free(c->login.session, sig);
	r->has_exit = true;
	r->exit_code = libssh2_channel_get_exit_status(ch);
	if (r->exit_code != 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("command exited with code %d", r->exit_code);
	} else {
		step_check_expect(ctx, r);
	}
}

static void step_ssh_run(struct step_ctx *ctx, struct step_result *r)
{
	struct ssh_conn *c = ctx->state->ssh;
	LIBSSH2_CHANNEL *ch = NULL;
	struct buf cmd = BUF_INIT;
	struct err err;

	if (tmpl_render(ctx->step->text, ctx->scope, TMPL_ENV_VALUE, &cmd, ctx->secrets, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	c = ssh_conn_get(ctx);
	if (c->fail_status != STATUS_OK) {
		r->status = c->fail_status;
		r->error = xstrdup(c->fail_error);
		goto out;
	}
	if (ssh_channel_start(c, ctx, cmd.data, &ch, r) < 0)
		goto out;
	/* the login ends once a channel opens: by then sshd's listener
	 * knows it is authenticated (a failed one ends at task end, task.c) */
	login_gate_leave();
	if (ssh_read_output(c, ctx, ch, r) < 0)
		goto out;
	ssh_exit_verdict(c, ctx, ch, r);
	step_parse_run(ctx, cmd.data, r); /* parse:, capture: */
out:
	if (ch)
		libssh2_channel_free(ch);
	buf_free(&cmd);
}

const struct step_ops step_ssh_ops = {
	.kind = STEP_SSH,
	.prepare = step_parse_prepare, /* parse: and capture: of ssh and cli steps */
	.run = step_ssh_run,
	.close = step_ssh_close,
	.pack = step_pack_command,
	.finish = step_parse_finish,
};
