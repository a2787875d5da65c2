/* stdout_out: text / JSON Lines / pdsh lines on stdout; see stdout_out.h. */
#include "stdout_out.h"

#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "parsedview.h"
#include "status.h"
#include "termtext.h"
#include "util.h"

void stdout_out_init(struct stdout_out *s, enum stdout_out_format format, bool quiet)
{
	memset(s, 0, sizeof(*s));
	s->format = format;
	s->quiet = quiet;
}

void stdout_out_set_hook(struct stdout_out *s, void (*before_write)(void *ctx), void *ctx)
{
	s->before_write = before_write;
	s->ctx = ctx;
}

/* The text line of a record: host, status, then for ok hosts the parsed
 * records of the first step that has them (parsedview_line: what a
 * template made of the output says more than its first line), else the
 * first line of the last output; the error for the others. Devices are
 * hostile and inventories are data: the host, the output and the error
 * reach the terminal through termtext (a tab in the output stays, one in
 * an error text is shown as \t, as everywhere errors are printed). */
void stdout_out_text_line(struct buf *b, const char *host, const struct record *r, const struct proto_result *res)
{
	const msgpack_object *parsed = r->status == STATUS_OK ? parsedview_first(res) : NULL;
	const char *first = r->status == STATUS_OK ? r->first.data : r->error.data;
	size_t n = r->status == STATUS_OK ? r->first.len : strcspn(r->error.data ? r->error.data : "", "\r\n");
	size_t start = b->len, width;

	termtext_puts(b, host, 0);
	/* %-24s, counted in columns, not bytes */
	width = termtext_width(b->data + start, b->len - start);
	for (; width < 24; width++)
		buf_putc(b, ' ');
	buf_printf(b, " %-11s ", status_name(r->status));
	if (parsed)
		parsedview_line(b, parsed, PARSEDVIEW_LINE_COLS);
	else
		termtext_append(b, first ? first : "", first ? n : 0, r->status == STATUS_OK ? TERMTEXT_KEEP_TAB : 0);
	buf_putc(b, '\n');
}

/* Each line of p[0..n) as "host: line\n" into b; a last line without its
 * newline gets one. Line breaks are fleetrun's: a device's CR, ESC or
 * other control bytes are shown escaped (termtext), so one host's output
 * cannot rewrite another's line; a CRLF line end counts as the break. */
static void stdout_out_prefix_lines(struct buf *b, const char *host, const char *p, size_t n)
{
	struct buf prefix = BUF_INIT;

	termtext_puts(&prefix, host, 0);
	buf_append(&prefix, ": ", 2);
	while (n > 0) {
		const char *nl = memchr(p, '\n', n);
		size_t len = nl ? (size_t)(nl - p) : n;
		buf_append(b, prefix.data, prefix.len);
		termtext_append(b, p, len > 0 && nl && p[len - 1] == '\r' ? len - 1 : len, TERMTEXT_KEEP_TAB);
		buf_putc(b, '\n');
		p += len + (nl ? 1 : 0);
		n -= len + (nl ? 1 : 0);
	}
	buf_free(&prefix);
}

/* STDOUT_OUT_LINES: the host's output lines, pdsh style: stdout (or the
 * HTTP body) into out, stderr into err, and for a host not ok its status
 * and error on stderr (one line: a newline in the error is shown as \n). */
static void stdout_out_lines(struct buf *out, struct buf *err, const char *host, const struct record *r,
                             const struct proto_result *res)
{
	for (size_t i = 0; res && i < res->nsteps; i++) {
		const struct proto_step *st = &res->steps[i];
		if (st->has & PROTO_STEP_OUTPUT)
			stdout_out_prefix_lines(out, host, st->out.p, st->out.n);
		if (st->has & PROTO_STEP_STDERR)
			stdout_out_prefix_lines(err, host, st->err.p, st->err.n);
	}
	if (r->status != STATUS_OK) {
		termtext_puts(err, host, 0);
		buf_printf(err, ": fleetrun: %s: ", status_name(r->status));
		if (r->has_error)
			termtext_append(err, r->error.data, r->error.len, 0);
		buf_putc(err, '\n');
	}
}

void stdout_out_render(struct stdout_out *s, struct buf *text, const char *host, const struct record *r,
                       const struct proto_result *res)
{
	if (s->format == STDOUT_OUT_TEXT && !s->quiet)
		stdout_out_text_line(text, host, r, res);
	if (s->format == STDOUT_OUT_LINES && !s->quiet)
		stdout_out_lines(text, &s->err, host, r, res);
}

void stdout_out_put(struct stdout_out *s, const char *json, size_t jlen, const char *text, size_t tlen)
{
	if (s->quiet)
		return;
	if (s->format == STDOUT_OUT_JSONL) {
		buf_append(&s->out, json, jlen);
		buf_putc(&s->out, '\n');
	} else if (tlen) {
		buf_append(&s->out, text, tlen);
	}
}

size_t stdout_out_buffered(const struct stdout_out *s)
{
	return s->out.len;
}

bool stdout_out_empty(const struct stdout_out *s)
{
	return !s->out.len && !s->err.len;
}

int stdout_out_flush(struct stdout_out *s, bool *io_error)
{
	int r = 0;

	if ((s->out.len || s->err.len) && s->before_write)
		s->before_write(s->ctx);
	/* a closed stderr loses messages, not results: not an error */
	if (s->err.len)
		(void)fd_write_all(STDERR_FILENO, s->err.data, s->err.len);
	buf_reset(&s->err);
	if (s->out.len && fd_write_all(STDOUT_FILENO, s->out.data, s->out.len) < 0) {
		int e = errno;
		/* stdout closed early (| head) is the reader's choice; the
		 * journal, if any, still gets everything */
		if (e != EPIPE) {
			if (!*io_error)
				log_error("stdout: %s", strerror(e));
			*io_error = true;
			r = -1;
		}
	}
	buf_reset(&s->out);
	return r;
}

void stdout_out_free(struct stdout_out *s)
{
	buf_free(&s->out);
	buf_free(&s->err);
	memset(s, 0, sizeof(*s));
}
