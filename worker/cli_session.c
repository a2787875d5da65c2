/* cli_session: the shell channel and the prompt (see cli_session.h).
 *
 * Every read goes through cli_session_expect: after each batch of bytes it looks
 * at the last line only (clitext_tail: at most CLITEXT_TAIL_MAX bytes),
 * never at the whole buffer again, so a command's cost is linear in its
 * output whatever its size. A pager on the last line is continued and cut
 * out; a question is answered; otherwise the awaited patterns are tried
 * against the whole last line. The learned prompt is compared exactly: a
 * banner line `rtr1#` cannot end a command, and neither can output that
 * merely looks like a prompt of the mode. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "cli_session.h"

#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "cli_transcript.h"
#include "clitext.h"
#include "clock.h"
#include "termtext.h"

/* Reads of up to 16 KiB in one turn, before the tail and the deadline
 * are looked at again. */
#define CLI_SESSION_READS_PER_TURN 16

/* Lines of the platform's above_prompt looked past, above one prompt. */
#define CLI_SESSION_ABOVE_MAX 8

/* The bytes of what came last shown when a prompt never comes. */
#define CLI_SESSION_TAIL_SHOWN 200

/* What cli_session_expect awaits, and what it got. */
enum {
	CLI_SESSION_WANT_PROMPT = 0x1,   /* the learned prompt, exactly */
	CLI_SESSION_WANT_MODE = 0x2,     /* any mode's prompt pattern (learns it) */
	CLI_SESSION_WANT_PASSWORD = 0x4, /* the platform's enable password prompt */
	CLI_SESSION_WANT_SETTLED = 0x8,  /* a mode's prompt twice, on the last two lines
	                            (learns it): the device at rest */
};

static int cli_session_re_match(const struct platform_re *r, const char *s, size_t n)
{
	pcre2_match_data *md;
	int rc;

	if (!r->re)
		return 0;
	md = pcre2_match_data_create_from_pattern(r->re, NULL);
	rc = pcre2_match(r->re, (PCRE2_SPTR)s, n, 0, 0, md, NULL);
	pcre2_match_data_free(md);
	return rc >= 0;
}

static void cli_session_fail(struct cli_session *s, enum status st, const char *msg)
{
	if (s->fail_status == STATUS_OK) {
		s->fail_status = st;
		free(s->fail_error);
		s->fail_error = xstrdup(msg);
	}
}

/* What is awaited, for messages: the learned prompt, the patterns. */
static void cli_session_awaited(const struct cli_session *s, int want, struct buf *out)
{
	const char *sep = "";

	if (want & CLI_SESSION_WANT_PROMPT) {
		buf_puts(out, "the prompt '");
		termtext_puts(out, s->prompt, 0);
		buf_puts(out, "'");
		sep = " or ";
	}
	if (want & (CLI_SESSION_WANT_MODE | CLI_SESSION_WANT_SETTLED)) {
		for (size_t m = 0; m < PLATFORM_NMODES; m++) {
			if (!s->plat->prompt[m].re)
				continue;
			buf_printf(out, "%s%s prompt /%s/", sep, platform_mode_name((enum platform_mode)m),
			           s->plat->prompt[m].text);
			sep = " or ";
		}
	}
	if (want & CLI_SESSION_WANT_PASSWORD)
		buf_printf(out, "%sthe password prompt /%s/", sep, s->plat->enable_password.text);
}

/* A wait that ended without what it awaited: status timeout, the error
 * naming what was awaited and the last bytes received. */
static void cli_session_timeout(struct cli_session *s, int want, const char *why, enum status *st, struct err *err)
{
	struct buf m = BUF_INIT;

	buf_puts(&m, why);
	buf_puts(&m, " awaiting ");
	cli_session_awaited(s, want, &m);
	buf_puts(&m, "; last bytes received: \"");
	clitext_last_bytes(s->in.data, s->in.len, CLI_SESSION_TAIL_SHOWN, &m);
	buf_puts(&m, "\"");
	*st = STATUS_TIMEOUT;
	err_set(err, "%s", m.data);
	cli_session_fail(s, STATUS_TIMEOUT, "the CLI session timed out in an earlier step");
	buf_free(&m);
}

/* Send all of p[0..n), or -1 with *st and err. */
static int cli_session_send(struct cli_session *s, const char *p, size_t n, const struct cli_session_limits *lim,
                            enum status *st, struct err *err)
{
	size_t done = 0;

	cli_transcript_add(s->tx, CLI_TRANSCRIPT_SENT, p, n);
	while (done < n) {
		ssize_t w = libssh2_channel_write(s->ch, p + done, n - done);
		if (w == LIBSSH2_ERROR_EAGAIN) {
			if (ssh_session_wait(&s->conn->login, lim->deadline_us) < 0) {
				*st = STATUS_TIMEOUT;
				err_set(err, "sending to the device did not finish before the %s deadline",
				        lim->deadline_is_task ? "task" : "step");
				cli_session_fail(s, STATUS_TIMEOUT, "the CLI session timed out in an earlier step");
				return -1;
			}
			continue;
		}
		if (w < 0) {
			*st = STATUS_FAILED;
			err_set(err, "connection lost sending to the device: %s",
			        ssh_session_errmsg(s->conn->login.session));
			cli_session_fail(s, STATUS_FAILED, "connection lost in an earlier step");
			return -1;
		}
		done += (size_t)w;
	}
	return 0;
}

static int cli_session_send_line(struct cli_session *s, const char *line, const struct cli_session_limits *lim,
                                 enum status *st, struct err *err)
{
	if (cli_session_send(s, line, strlen(line), lim, st, err) < 0)
		return -1;
	return cli_session_send(s, "\n", 1, lim, st, err);
}

/* Keep in under the cap: the first cap bytes (the output) and the last
 * CLITEXT_TAIL_MAX (where the prompt will be) stay. */
static void cli_session_keep(struct cli_session *s, size_t cap)
{
	size_t keep = cap + CLITEXT_TAIL_MAX;

	if (s->in.len <= keep + CLITEXT_TAIL_MAX)
		return;
	memmove(s->in.data + cap, s->in.data + s->in.len - CLITEXT_TAIL_MAX, CLITEXT_TAIL_MAX);
	s->in.len = keep;
	s->truncated = true;
}

/* Up to CLI_SESSION_READS_PER_TURN reads of one stream into in: bounded,
 * so that a device that never stops printing still lets the caller look
 * at the tail and the clock. Whether bytes came; *n: the last read's
 * return. */
static bool cli_session_drain(struct cli_session *s, int stream, size_t cap, ssize_t *n)
{
	char chunk[16384];
	bool got = false;

	for (int k = 0; k < CLI_SESSION_READS_PER_TURN; k++) {
		*n = libssh2_channel_read_ex(s->ch, stream, chunk, sizeof(chunk));
		if (*n <= 0)
			break;
		buf_append(&s->in, chunk, (size_t)*n);
		cli_transcript_add(s->tx, stream ? CLI_TRANSCRIPT_STDERR : CLI_TRANSCRIPT_RECEIVED, chunk, (size_t)*n);
		cli_session_keep(s, cap);
		got = true;
	}
	return got;
}

/* Read what is there now into in. 1 got bytes, 0 none yet, -1 the
 * session ended (*st, err set). */
static int cli_session_read(struct cli_session *s, const struct cli_session_limits *lim, enum status *st,
                            struct err *err)
{
	ssize_t n = 0;

	if (cli_session_drain(s, 0, lim->output_cap, &n))
		return 1;
	/* a PTY merges stderr into stdout; a device may still use it */
	if ((n == 0 || n == LIBSSH2_ERROR_EAGAIN) &&
	    cli_session_drain(s, SSH_EXTENDED_DATA_STDERR, lim->output_cap, &n))
		return 1;
	if (n < 0 && n != LIBSSH2_ERROR_EAGAIN) {
		*st = STATUS_FAILED;
		err_set(err, "connection lost mid-command: %s", ssh_session_errmsg(s->conn->login.session));
		cli_session_fail(s, STATUS_FAILED, "connection lost in an earlier step");
		return -1;
	}
	if (libssh2_channel_eof(s->ch)) {
		struct buf m = BUF_INIT;
		clitext_last_bytes(s->in.data, s->in.len, CLI_SESSION_TAIL_SHOWN, &m);
		*st = STATUS_FAILED;
		err_set(err, "the device closed the session; last bytes received: \"%s\"", m.data ? m.data : "");
		buf_free(&m);
		cli_session_fail(s, STATUS_FAILED, "the device closed the CLI session in an earlier step");
		return -1;
	}
	return 0;
}

/* The last line against the platform's pagers and questions: 1 when
 * one was answered (and, for a pager, cut out of in), 0 none, -1 error. */
static int cli_session_interject(struct cli_session *s, const char *tail, size_t tn, size_t start,
                                 const struct cli_session_limits *lim, enum status *st, struct err *err)
{
	const struct platform *p = s->plat;

	for (size_t i = 0; i < p->npager; i++) {
		if (cli_session_re_match(&p->pager[i], tail, tn)) {
			s->in.len = start;
			return cli_session_send(s, p->pager_continue, strlen(p->pager_continue), lim, st, err) < 0 ? -1
			                                                                                           : 1;
		}
	}
	for (size_t i = 0; i < p->nquestion; i++) {
		if (cli_session_re_match(&p->question[i].pattern, tail, tn)) {
			/* the question stays in the output: the user asked for
			 * what it confirms */
			buf_append(&s->in, "\n", 1);
			return cli_session_send_line(s, p->question[i].answer, lim, st, err) < 0 ? -1 : 1;
		}
	}
	return 0;
}

/* Whether line[0..n) is one the platform prints between output and
 * prompt (its above_prompt: Junos's blank line, [edit]). */
static bool cli_session_above(const struct cli_session *s, const char *line, size_t n)
{
	for (size_t i = 0; i < s->plat->nabove_prompt; i++)
		if (cli_session_re_match(&s->plat->above_prompt[i], line, n))
			return true;
	return false;
}

/* Whether the line before the last one (the last one begins at start),
 * lines of the platform's above_prompt aside, is tail[0..tn) too. */
static bool cli_session_repeated(const struct cli_session *s, size_t start, const char *tail, size_t tn)
{
	size_t pstart, poff, pn;

	for (int k = 0; k <= CLI_SESSION_ABOVE_MAX && start > 0; k++) {
		pn = clitext_tail(s->in.data, start - 1, &pstart, &poff);
		if (pn == tn && !memcmp(s->in.data + poff, tail, tn))
			return true;
		if (!cli_session_above(s, s->in.data + poff, pn))
			return false;
		start = pstart;
	}
	return false;
}

/* The output's last lines that are the platform's above_prompt (at most
 * CLI_SESSION_ABOVE_MAX) belong to the prompt below them: cut. */
static void cli_session_cut_above(const struct cli_session *s, struct buf *out)
{
	for (int k = 0; k < CLI_SESSION_ABOVE_MAX && out->len > 0 && out->data[out->len - 1] == '\n'; k++) {
		size_t from = out->len - 1;
		while (from > 0 && out->data[from - 1] != '\n')
			from--;
		if (!cli_session_above(s, out->data + from, out->len - 1 - from))
			break;
		out->len = from;
		out->data[from] = '\0';
	}
}

/* The last line (at start in in) against what is awaited: the CLI_SESSION_WANT_*
 * bit matched (learning the prompt and mode for CLI_SESSION_WANT_MODE and
 * CLI_SESSION_WANT_SETTLED), or 0. */
static int cli_session_match(struct cli_session *s, int want, const char *tail, size_t tn, size_t start)
{
	if (want & CLI_SESSION_WANT_SETTLED) {
		/* a banner line shaped like a prompt can be the last line for
		 * a moment; the same prompt on two lines in a row is the
		 * device answering the newline it was sent */
		if (!cli_session_repeated(s, start, tail, tn))
			return 0;
		return cli_session_match(s, CLI_SESSION_WANT_MODE, tail, tn, start) ? CLI_SESSION_WANT_SETTLED : 0;
	}
	if (want & CLI_SESSION_WANT_PROMPT && tn == strlen(s->prompt) && !memcmp(tail, s->prompt, tn))
		return CLI_SESSION_WANT_PROMPT;
	if (want & CLI_SESSION_WANT_PASSWORD && cli_session_re_match(&s->plat->enable_password, tail, tn))
		return CLI_SESSION_WANT_PASSWORD;
	if (want & CLI_SESSION_WANT_MODE) {
		for (size_t m = 0; m < PLATFORM_NMODES; m++) {
			if (cli_session_re_match(&s->plat->prompt[m], tail, tn)) {
				free(s->prompt);
				s->prompt = xstrndup(tail, tn);
				s->mode = (enum platform_mode)m;
				return CLI_SESSION_WANT_MODE;
			}
		}
	}
	return 0;
}

/* Read until the last line is what want says: *got the bit, and *end the
 * offset in in where that line begins (the output is before it). 0, or
 * -1 with *st and err: the deadline, the idle timeout, the session's end. */
static int cli_session_expect(struct cli_session *s, int want, const struct cli_session_limits *lim, int *got,
                              size_t *end, enum status *st, struct err *err)
{
	int64_t last = clock_mono_us();

	for (;;) {
		size_t start, off, tn;
		int rc;

		/* checked on every turn: a device printing without end never
		 * reaches the wait below */
		if (clock_mono_us() >= lim->deadline_us) {
			cli_session_timeout(s, want,
			                    lim->deadline_is_task ? "the task deadline passed"
			                                          : "the step deadline passed",
			                    st, err);
			return -1;
		}
		rc = cli_session_read(s, lim, st, err);

		if (rc < 0)
			return -1;
		if (rc > 0) {
			last = clock_mono_us();
			tn = clitext_tail(s->in.data, s->in.len, &start, &off);
			rc = cli_session_interject(s, s->in.data + off, tn, start, lim, st, err);
			if (rc < 0)
				return -1;
			if (rc > 0)
				continue;
			if ((*got = cli_session_match(s, want, s->in.data + off, tn, start))) {
				*end = start;
				return 0;
			}
			continue;
		}
		/* nothing more for now: wait for the socket, the idle limit
		 * or the deadline, whichever is first */
		int64_t until = lim->deadline_us;
		bool idle_first = false;
		if (lim->idle_ms > 0 && last + lim->idle_ms * 1000 < until) {
			until = last + lim->idle_ms * 1000;
			idle_first = true;
		}
		if (clock_mono_us() >= until || ssh_session_wait(&s->conn->login, until) < 0) {
			char why[96];
			if (idle_first)
				snprintf(why, sizeof(why), "no output for %.3gs (idle_timeout)", lim->idle_ms / 1000.0);
			else
				snprintf(why, sizeof(why), "the %s deadline passed", lim->deadline_is_task ? "task" : "step");
			cli_session_timeout(s, want, why, st, err);
			return -1;
		}
	}
}

/* The shell channel with a wide terminal (long lines are not wrapped
 * into the output). 0, or -1 with *st and err. */
static int cli_session_shell(struct cli_session *s, const struct cli_session_limits *lim, enum status *st,
                             struct err *err)
{
	LIBSSH2_SESSION *ss = s->conn->login.session;
	const char *what = "opening a channel";
	int rc;

	while (!(s->ch = libssh2_channel_open_session(ss)) && libssh2_session_last_errno(ss) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(&s->conn->login, lim->deadline_us) < 0)
			goto late;
	if (!s->ch) {
		*st = STATUS_FAILED;
		err_set(err, "cannot open a channel: %s", ssh_session_errmsg(ss));
		return -1;
	}
	what = "requesting a terminal";
	while ((rc = libssh2_channel_request_pty_ex(s->ch, "vt100", 5, NULL, 0, 511, 24, 0, 0)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(&s->conn->login, lim->deadline_us) < 0)
			goto late;
	if (rc != 0) {
		*st = STATUS_FAILED;
		err_set(err, "the device refused a terminal: %s", ssh_session_errmsg(ss));
		return -1;
	}
	what = "starting the shell";
	while ((rc = libssh2_channel_shell(s->ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_session_wait(&s->conn->login, lim->deadline_us) < 0)
			goto late;
	if (rc != 0) {
		*st = STATUS_FAILED;
		err_set(err, "the device refused a shell: %s", ssh_session_errmsg(ss));
		return -1;
	}
	return 0;
late:
	*st = STATUS_TIMEOUT;
	err_set(err, "%s did not finish before the %s deadline", what, lim->deadline_is_task ? "task" : "step");
	return -1;
}

int cli_session_open(struct cli_session *s, struct ssh_conn *conn, const struct platform *plat,
                     const struct cli_session_limits *lim, enum status *st, struct err *err)
{
	size_t end;
	int got, r = -1;

	s->conn = conn;
	s->plat = plat;
	if (cli_session_shell(s, lim, st, err) < 0)
		goto out;
	/* the first prompt, after the banner and MOTD (or a line of them
	 * shaped like one, cut where a read ended); then a newline, which
	 * the device answers after all of them with its prompt again: the
	 * prompt learned is the one it gives twice in a row, at rest */
	if (cli_session_expect(s, CLI_SESSION_WANT_MODE, lim, &got, &end, st, err) < 0)
		goto out;
	if (cli_session_send(s, "\n", 1, lim, st, err) < 0 ||
	    cli_session_expect(s, CLI_SESSION_WANT_SETTLED, lim, &got, &end, st, err) < 0)
		goto out;
	for (size_t i = 0; i < plat->non_login; i++) {
		struct buf junk = BUF_INIT;
		bool trunc;
		int rc = cli_session_command(s, plat->on_login[i], lim, &junk, &trunc, st, err);
		buf_free(&junk);
		if (rc < 0)
			goto out;
	}
	r = 0;
out:
	if (r < 0)
		cli_session_fail(s, *st, err->msg);
	return r;
}

int cli_session_enable(struct cli_session *s, const char *secret, const struct cli_session_limits *lim, enum status *st,
                       struct err *err)
{
	const int want = CLI_SESSION_WANT_MODE | CLI_SESSION_WANT_PASSWORD;
	size_t end;
	int got, r = -1;

	s->in.len = 0;
	if (cli_session_send_line(s, s->plat->enable, lim, st, err) < 0 ||
	    cli_session_expect(s, want, lim, &got, &end, st, err) < 0)
		goto out;
	if (got == CLI_SESSION_WANT_PASSWORD) {
		if (!secret) {
			*st = STATUS_AUTH;
			err_set(err, "'%s' asks for a password and no enable secret is given (cli enable_secret)",
			        s->plat->enable);
			goto fail;
		}
		s->in.len = 0;
		if (cli_session_send_line(s, secret, lim, st, err) < 0 ||
		    cli_session_expect(s, want, lim, &got, &end, st, err) < 0)
			goto out;
	}
	if (got != CLI_SESSION_WANT_MODE || s->mode != PLATFORM_MODE_PRIVILEGED) {
		struct buf said = BUF_INIT, shown = BUF_INIT;
		clitext_clean(s->in.data, end, NULL, &said);
		/* the device's words: escaped, as in every message */
		termtext_append(&shown, said.data, said.len < 200 ? said.len : 200, 0);
		*st = STATUS_AUTH;
		err_set(err, "'%s' did not reach privileged mode: the device refused the enable secret (it said: \"%s\")",
		        s->plat->enable, shown.data ? shown.data : "");
		buf_free(&said);
		buf_free(&shown);
		goto fail;
	}
	r = 0;
	goto out;
fail:
	cli_session_fail(s, *st, "enable failed in an earlier step");
out:
	s->in.len = 0;
	return r;
}

/* Type cmd and read up to what want says (the learned prompt; with
 * CLI_SESSION_WANT_MODE, else any mode's prompt, learned). */
static int cli_session_exchange(struct cli_session *s, const char *cmd, int want, const struct cli_session_limits *lim,
                                struct buf *out, bool *truncated, enum status *st, struct err *err)
{
	size_t end;
	int got;

	s->in.len = 0;
	s->truncated = false;
	if (cli_session_send_line(s, cmd, lim, st, err) < 0 ||
	    cli_session_expect(s, want, lim, &got, &end, st, err) < 0)
		return -1;
	clitext_clean(s->in.data, end, cmd, out);
	cli_session_cut_above(s, out);
	if (out->len > lim->output_cap) {
		out->len = lim->output_cap;
		s->truncated = true;
	}
	*truncated = s->truncated;
	s->in.len = 0;
	return 0;
}

int cli_session_command(struct cli_session *s, const char *cmd, const struct cli_session_limits *lim, struct buf *out,
                        bool *truncated, enum status *st, struct err *err)
{
	return cli_session_exchange(s, cmd, CLI_SESSION_WANT_PROMPT, lim, out, truncated, st, err);
}

int cli_session_command_tracked(struct cli_session *s, const char *cmd, const struct cli_session_limits *lim,
                                struct buf *out, bool *truncated, enum status *st, struct err *err)
{
	/* cli_session_match tries the learned prompt first: a mode's
	 * pattern only ends the command when the last line is not it */
	return cli_session_exchange(s, cmd, CLI_SESSION_WANT_PROMPT | CLI_SESSION_WANT_MODE, lim, out, truncated, st,
	                            err);
}

/* A line of the device's for a message: at most 200 bytes, escaped. */
static char *cli_session_shown(const char *p, size_t n)
{
	struct buf b = BUF_INIT;

	termtext_append(&b, p, n < 200 ? n : 200, 0);
	return b.data ? buf_steal(&b) : xstrdup("");
}

const char *cli_session_error_in(const struct cli_session *s, const char *text, size_t len, char **line)
{
	const struct platform *p = s->plat;

	for (size_t i = 0; i < p->nerror; i++) {
		pcre2_match_data *md = pcre2_match_data_create_from_pattern(p->error[i].re, NULL);
		int rc = pcre2_match(p->error[i].re, (PCRE2_SPTR)text, len, 0, 0, md, NULL);
		if (rc >= 0) {
			size_t at = pcre2_get_ovector_pointer(md)[0], from = at, to = at;
			while (from > 0 && text[from - 1] != '\n')
				from--;
			while (to < len && text[to] != '\n')
				to++;
			*line = cli_session_shown(text + from, to - from);
			pcre2_match_data_free(md);
			return p->error[i].text;
		}
		pcre2_match_data_free(md);
	}
	return NULL;
}

void cli_session_close(struct cli_session *s)
{
	if (s->ch) {
		libssh2_channel_free(s->ch);
		s->ch = NULL;
	}
	buf_free(&s->in);
	free(s->prompt);
	s->prompt = NULL;
	free(s->fail_error);
	s->fail_error = NULL;
}
