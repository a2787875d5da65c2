/* cli_config: a configuration push over a cli session (see cli_config.h).
 *
 * Every command of a push is typed with cli_session_command_tracked: the
 * prompt changes on the way (`rtr1#` -> `rtr1(config)#` ->
 * `rtr1(config-if)#`, or `new(config)#` after `hostname new`), and the
 * session learns each from the platform's mode patterns on the last line.
 * The mode it learns is also how a push knows where it is: a line that
 * leaves config mode (a stray `end`) stops the push as a refused line
 * does, since the lines after it would be typed as exec commands. */
#include "cli_config.h"

#include <stdlib.h>
#include <string.h>

#include "platform.h"

/* The output's budget: what is kept of each command, in order. */
struct cli_config_out {
	struct buf *out;
	size_t cap;
	bool truncated;
};

static void cli_config_keep(struct cli_config_out *o, const char *cmd, const struct buf *said, bool trunc)
{
	struct buf one = BUF_INIT;

	buf_printf(&one, "> %s\n", cmd);
	buf_append(&one, said->data ? said->data : "", said->len);
	if (said->len && said->data[said->len - 1] != '\n')
		buf_append(&one, "\n", 1);
	if (o->out->len + one.len > o->cap) {
		one.len = o->cap > o->out->len ? o->cap - o->out->len : 0;
		o->truncated = true;
	}
	buf_append(o->out, one.data ? one.data : "", one.len);
	o->truncated |= trunc;
	buf_free(&one);
}

/* err's message after prefix. */
static void cli_config_prefix(struct err *err, const char *prefix)
{
	char *m = xasprintf("%s%s", prefix, err->msg);

	err_set(err, "%s", m);
	free(m);
}

/* Type one command of the push. 0 with *said (malloced, the device's
 * output) and *bad (NULL, or the platform's error pattern found, with
 * its line in *badline); -1 with *st and err when the session broke. */
static int cli_config_type(struct cli_session *s, const char *cmd, const struct cli_session_limits *lim,
                           struct cli_config_out *o, const char **bad, char **badline, enum status *st,
                           struct err *err)
{
	struct buf said = BUF_INIT;
	bool trunc = false;
	int r = -1;

	*bad = NULL;
	if (cli_session_command_tracked(s, cmd, lim, &said, &trunc, st, err) < 0)
		goto out;
	cli_config_keep(o, cmd, &said, trunc);
	*bad = cli_session_error_in(s, said.data ? said.data : "", said.len, badline);
	r = 0;
out:
	buf_free(&said);
	return r;
}

/* Out of config mode: the platform's discard first when the push failed
 * (uncommitted changes dropped), then its exit. 0, or -1 with *st and
 * err (the session's; or STATUS_FAILED when config mode stays). */
static int cli_config_leave(struct cli_session *s, bool failed, const struct cli_session_limits *lim,
                            struct cli_config_out *o, enum status *st, struct err *err)
{
	const struct platform *p = s->plat;
	const char *bad;
	char *line = NULL;
	int r = -1;

	if (failed && p->config_discard && cli_config_type(s, p->config_discard, lim, o, &bad, &line, st, err) < 0)
		goto out;
	free(line);
	line = NULL;
	if (cli_config_type(s, p->config_exit, lim, o, &bad, &line, st, err) < 0)
		goto out;
	if (s->mode == PLATFORM_MODE_CONFIG) {
		*st = STATUS_FAILED;
		err_set(err, "'%s' did not leave config mode (the prompt is '%s'%s%.200s)", p->config_exit, s->prompt,
		        bad ? "; the device said: " : "", bad ? line : "");
		goto out;
	}
	r = 0;
out:
	free(line);
	return r;
}

/* A command of the push the device refused: the step's error. */
static void cli_config_refused(enum status *st, struct err *err, const char *what, const char *cmd, const char *line,
                               const struct platform *p, const char *pattern)
{
	*st = STATUS_FAILED;
	err_set(err, "%s '%s' rejected: %.200s (platform %s error pattern /%s/)", what, cmd, line, p->name, pattern);
}

/* Into config mode, the lines, the commit: 0 (*failed when a line or the
 * commit was refused, err saying which), or -1 when the session broke. */
static int cli_config_lines(struct cli_session *s, const struct cli_config_push *req,
                            const struct cli_session_limits *lim, struct cli_config_out *o, bool *failed,
                            enum status *st, struct err *err)
{
	const struct platform *p = s->plat;
	const char *bad;
	char *line = NULL, *commit = NULL, what[48];
	int r = -1;

	*failed = true;
	for (size_t i = 0; i < req->nlines; i++) {
		snprintf(what, sizeof(what), "config line %zu", i + 1);
		if (cli_config_type(s, req->lines[i], lim, o, &bad, &line, st, err) < 0) {
			char *pre = xasprintf("%s '%s': ", what, req->lines[i]);
			cli_config_prefix(err, pre);
			free(pre);
			goto out;
		}
		if (bad) {
			cli_config_refused(st, err, what, req->lines[i], line, p, bad);
			r = 0;
			goto out;
		}
		if (s->mode != PLATFORM_MODE_CONFIG) {
			*st = STATUS_FAILED;
			err_set(err, "%s '%s' left config mode (the prompt is now '%s'); the lines after it were not sent",
			        what, req->lines[i], s->prompt);
			r = 0;
			goto out;
		}
	}
	if (req->commit || req->confirm_minutes > 0) {
		commit = req->confirm_minutes > 0 ? platform_commit_confirmed(p, req->confirm_minutes) : xstrdup(p->commit);
		if (cli_config_type(s, commit, lim, o, &bad, &line, st, err) < 0)
			goto out;
		if (bad) {
			cli_config_refused(st, err, "the commit", commit, line, p, bad);
			r = 0;
			goto out;
		}
	}
	*failed = false;
	r = 0;
out:
	free(commit);
	free(line);
	return r;
}

int cli_config_run(struct cli_session *s, const struct cli_config_push *req, const struct cli_session_limits *lim,
                   struct buf *out, bool *truncated, enum status *st, struct err *err)
{
	const struct platform *p = s->plat;
	struct cli_config_out o = {out, lim->output_cap, false};
	struct err lerr = {{0}};
	enum status lst;
	const char *bad;
	char *line = NULL;
	bool failed;
	int r = -1;

	if (cli_config_type(s, p->config_enter, lim, &o, &bad, &line, st, err) < 0)
		goto out;
	if (s->mode != PLATFORM_MODE_CONFIG) {
		*st = STATUS_FAILED;
		err_set(err, "'%s' did not enter config mode (the prompt is '%s'%s%.200s)", p->config_enter, s->prompt,
		        bad ? "; the device said: " : "", bad ? line : "");
		goto out;
	}
	if (cli_config_lines(s, req, lim, &o, &failed, st, err) < 0)
		goto out;
	/* leaving is owed whatever happened to the lines: a refused one's
	 * message stays the step's error unless leaving fails too */
	if (cli_config_leave(s, failed, lim, &o, &lst, &lerr) < 0) {
		if (failed) {
			char *pre = xasprintf("%s; then ", err->msg);
			cli_config_prefix(&lerr, pre);
			free(pre);
		}
		*st = lst;
		err_set(err, "%s", lerr.msg);
		goto out;
	}
	if (failed)
		goto out;
	if (req->save) {
		free(line);
		line = NULL;
		if (cli_config_type(s, p->save, lim, &o, &bad, &line, st, err) < 0)
			goto out;
		if (bad) {
			cli_config_refused(st, err, "the save", p->save, line, p, bad);
			goto out;
		}
	}
	r = 0;
out:
	*truncated = o.truncated;
	free(line);
	return r;
}
