/* step_cli: a command typed at the device's interactive CLI.
 *
 * Network gear closes the connection after one exec channel, refuses
 * exec, or keeps no state from one exec channel to the next (terminal
 * length, enable). A cli step types its command into ONE shell channel
 * per task, opened on the task's SSH connection (ssh_conn.h: the same
 * login, jumps, ssh_config, algorithms and pacing as ssh steps) by its
 * first cli step, driven by the host's platform file (common/platform.h):
 * the conversation is cli_session.c's. Here: which platform and secret
 * the host uses (hostcfg), the worker's cache of compiled platforms, and
 * the step's result.
 *
 * The config step kind (step_cli_config_ops) is here too, not in a file
 * of its own: it is a second way of using the same session (opened by
 * whichever of the two comes first, with the same platform, login and
 * enable); the push itself is cli_config.c's. */
#include <stdlib.h>
#include <string.h>

#include "cli_config.h"
#include "cli_session.h"
#include "login_gate.h"
#include "platform.h"
#include "setting.h"
#include "ssh_conn.h"
#include "step.h"
#include "step_parse.h"
#include "tmpl.h"
#include "util.h"

/* Platforms loaded by this worker, each compiled once for all its tasks
 * (a host var may pick one the job does not name). Freed at exit. */
#define STEP_CLI_MAX_PLATFORMS 32
static struct platform *step_cli_platforms[STEP_CLI_MAX_PLATFORMS];
static size_t step_cli_nplatforms;

static int step_cli_platform(const struct job *job, const char *name, const struct platform **out, struct err *err)
{
	struct platform *p;

	for (size_t i = 0; i < step_cli_nplatforms; i++) {
		if (!strcmp(step_cli_platforms[i]->name, name)) {
			*out = step_cli_platforms[i];
			return 0;
		}
	}
	if (step_cli_nplatforms == STEP_CLI_MAX_PLATFORMS) {
		err_set(err, "platform '%s': more than %d platforms in one run", name, STEP_CLI_MAX_PLATFORMS);
		return -1;
	}
	if (platform_load(job->path, name, &p, err) < 0)
		return -1;
	step_cli_platforms[step_cli_nplatforms++] = p;
	*out = p;
	return 0;
}

/* The job's own platform, loaded before the first task: a broken file
 * stops the run at once rather than failing every host. */
static int step_cli_prepare(const struct job *job, struct err *err)
{
	const struct platform *p;
	bool used = false;

	for (size_t i = 0; i < job->nsteps; i++)
		used |= job->steps[i].kind == STEP_CLI || job->steps[i].kind == STEP_CONFIG;
	if (!used || !job->cli.platform)
		return 0;
	return step_cli_platform(job, job->cli.platform, &p, err);
}

static void step_cli_close(struct task_state *state)
{
	if (!state->cli)
		return;
	cli_session_close(state->cli);
	free(state->cli);
	state->cli = NULL;
}

/* The host's platform: its platform host var (a name: host vars are
 * data and choose among platform files, never a path), else the job's. */
static int step_cli_host_platform(struct step_ctx *ctx, const struct platform **p, struct err *err)
{
	const struct hostcfg hc = setting_hostcfg(ctx);
	char *name = NULL;
	int r = -1;

	if (hostcfg_str(&hc, "platform", ctx->job->cli.platform, &name, err) < 0)
		goto out;
	if (!name) {
		err_set(err, "no platform for this host: give the job's cli platform or the host var platform");
		goto out;
	}
	r = step_cli_platform(ctx->job, name, p, err);
out:
	free(name);
	return r;
}

/* Into privileged mode with the host's enable secret (hostcfg). 0, or
 * -1 with *st and err. */
static int step_cli_enable(struct step_ctx *ctx, struct cli_session *s, const struct cli_session_limits *lim,
                           enum status *st, struct err *err)
{
	const struct hostcfg hc = setting_hostcfg(ctx);
	char *secret = NULL;
	int r = -1;

	*st = STATUS_ERROR;
	if (hostcfg_secret(&hc, "enable_secret", ctx->job->cli.enable_secret, ctx->job->cli.enable_secret_file, &secret,
	                   err) < 0)
		goto out;
	if (cli_session_enable(s, secret, lim, st, err) < 0)
		goto out;
	r = 0;
out:
	hostcfg_secret_free(secret);
	return r;
}

/* The session's first step: platform, connection, shell, first prompt,
 * on-login commands, enable. 0, or -1 with r set (and the session marked
 * failed, for the task's next cli steps). */
static int step_cli_start(struct step_ctx *ctx, struct cli_session *s, const struct cli_session_limits *lim,
                          struct step_result *r)
{
	const struct platform *p;
	struct ssh_conn *c;
	enum status st = STATUS_ERROR;
	struct err err = {{0}};
	int ret = -1;

	if (step_cli_host_platform(ctx, &p, &err) < 0)
		goto out;
	c = ssh_conn_get(ctx);
	if (c->fail_status != STATUS_OK) {
		st = c->fail_status;
		err_set(&err, "%s", c->fail_error);
		goto out;
	}
	if (cli_session_open(s, c, p, lim, &st, &err) < 0)
		goto out;
	/* logged in, the shell answering: the login's slot is free */
	login_gate_leave();
	if (ctx->job->cli.privileged && p->enable && s->mode == PLATFORM_MODE_USER &&
	    step_cli_enable(ctx, s, lim, &st, &err) < 0)
		goto out;
	ret = 0;
out:
	if (ret < 0) {
		r->status = st;
		r->error = xstrdup(err.msg);
		if (s->fail_status == STATUS_OK) {
			s->fail_status = st;
			s->fail_error = xstrdup(err.msg);
		}
	}
	return ret;
}

/* The task's session, opened by its first cli or config step: NULL with
 * r set when it cannot be had (now or in an earlier step). */
static struct cli_session *step_cli_session(struct step_ctx *ctx, const struct cli_session_limits *lim,
                                            struct step_result *r)
{
	struct cli_session *s = ctx->state->cli;

	if (!s) {
		s = ctx->state->cli = xcalloc(1, sizeof(*s));
		s->tx = ctx->state->transcript;
		if (step_cli_start(ctx, s, lim, r) < 0)
			return NULL;
	}
	if (s->fail_status != STATUS_OK) {
		r->status = s->fail_status;
		r->error = xstrdup(s->fail_error ? s->fail_error : "the CLI session failed in an earlier step");
		return NULL;
	}
	return s;
}

static void step_cli_run(struct step_ctx *ctx, struct step_result *r)
{
	struct cli_session_limits lim = {ctx->deadline_us, ctx->deadline_is_task, ctx->job->ssh.idle_timeout_ms,
	                                 ctx->output_cap};
	struct cli_session *s;
	struct buf cmd = BUF_INIT;
	struct err err = {{0}};
	enum status st;
	const char *bad;
	char *line = NULL;

	if (tmpl_render(ctx->step->text, ctx->scope, TMPL_ENV_VALUE, &cmd, ctx->secrets, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	/* a rendered value must not type a second line */
	if (strpbrk(cmd.data, "\r\n")) {
		r->status = STATUS_ERROR;
		r->error = xstrdup("the command holds a line break once rendered (one cli step types one line)");
		goto out;
	}
	if (!(s = step_cli_session(ctx, &lim, r)))
		goto out;
	if (cli_session_command(s, cmd.data, &lim, &r->out, &r->truncated, &st, &err) < 0) {
		r->status = st;
		r->error = xstrdup(err.msg);
		goto out;
	}
	if ((bad = cli_session_error_in(s, r->out.data ? r->out.data : "", r->out.len, &line))) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("the device reported an error: %.200s (platform %s error pattern /%s/)", line,
		                     s->plat->name, bad);
		goto out;
	}
	step_check_expect(ctx, r);
	step_parse_run(ctx, cmd.data, r); /* parse:, capture: */
out:
	free(line);
	buf_free(&cmd);
}

/* A config step's lines rendered for this host into lines (malloced
 * strings); 0, or -1 with r set. */
static int step_cli_config_render(struct step_ctx *ctx, char **lines, struct step_result *r)
{
	const struct step_config *cf = ctx->step->config;
	struct err err = {{0}};

	for (size_t i = 0; i < cf->nlines; i++) {
		struct buf line = BUF_INIT;
		if (tmpl_render(cf->lines[i], ctx->scope, TMPL_ENV_VALUE, &line, ctx->secrets, &err) < 0) {
			r->status = STATUS_ERROR;
			r->error = xasprintf("config line %zu: %s", i + 1, err.msg);
			buf_free(&line);
			return -1;
		}
		lines[i] = line.data ? line.data : xstrdup("");
		/* a rendered value must not type a second line */
		if (strpbrk(lines[i], "\r\n")) {
			r->status = STATUS_ERROR;
			r->error = xasprintf("config line %zu holds a line break once rendered (one item, one line)", i + 1);
			return -1;
		}
	}
	return 0;
}

/* A config step: the lines pushed in config mode (cli_config.c), from
 * privileged mode whatever the cli section's privileged says (config
 * mode is entered from there on platforms that have an enable). */
static void step_cli_config_run(struct step_ctx *ctx, struct step_result *r)
{
	struct cli_session_limits lim = {ctx->deadline_us, ctx->deadline_is_task, ctx->job->ssh.idle_timeout_ms,
	                                 ctx->output_cap};
	const struct step_config *cf = ctx->step->config;
	char **lines = xcalloc(cf->nlines + 1, sizeof(*lines));
	struct cli_config_push req = {(const char *const *)lines, cf->nlines, cf->commit != 0,
	                              cf->commit_confirmed_ms / 60000, cf->save != 0};
	struct cli_session *s;
	struct err err = {{0}};
	enum status st;
	const char *lack;

	if (step_cli_config_render(ctx, lines, r) < 0 || !(s = step_cli_session(ctx, &lim, r)))
		goto out;
	if ((lack = platform_lacks(s->plat, cf))) {
		r->status = STATUS_ERROR;
		r->error = xasprintf("platform %s (%s) has no %s", s->plat->name, s->plat->path, lack);
		goto out;
	}
	if (s->mode == PLATFORM_MODE_USER && s->plat->enable && step_cli_enable(ctx, s, &lim, &st, &err) < 0) {
		r->status = st;
		r->error = xstrdup(err.msg);
		goto out;
	}
	if (cli_config_run(s, &req, &lim, &r->out, &r->truncated, &st, &err) < 0) {
		r->status = st;
		r->error = xstrdup(err.msg);
		goto out;
	}
	step_check_expect(ctx, r);
out:
	for (size_t i = 0; i < cf->nlines; i++)
		free(lines[i]);
	free(lines);
}

const struct step_ops step_cli_config_ops = {
	.kind = STEP_CONFIG,
	.run = step_cli_config_run,
	.pack = step_pack_command,
};

const struct step_ops step_cli_ops = {
	.kind = STEP_CLI,
	.prepare = step_cli_prepare,
	.run = step_cli_run,
	.close = step_cli_close,
	.pack = step_pack_command,
};
