/* sink: journal, stdout and summary. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "proto.h"
#include "log.h"
#include "termtext.h"

/* Write a buffer out once it holds this much, not only at the end of a
 * turn, so one busy turn cannot grow it without bound. */
#define SINK_HIGH_WATER (256 * 1024)

void sink_init(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	k->journal_fd = -1;
}

int sink_open(struct sink *k, const char *journal, enum sink_format fmt, bool quiet, bool ordered,
              size_t window, struct err *err)
{
	sink_init(k);
	k->format = fmt;
	k->quiet = quiet;
	k->ordered = ordered;
	k->window = window;
	k->last_sync_ms = clock_mono_ms();
	if (ordered)
		k->ring = xcalloc(window, sizeof(*k->ring));
	if (journal) {
		/* no symlink followed, a file that is not a journal refused */
		if (journal_open_append(journal, &k->journal_fd, err) < 0)
			return -1;
		k->journal_path = xstrdup(journal);
		/* Only a regular file can be synced; -o /dev/null or a pipe
		 * is written and never synced. */
		struct stat sb;
		k->journal_syncable = fstat(k->journal_fd, &sb) == 0 && S_ISREG(sb.st_mode);
	}
	return 0;
}

/* The text line of a record: host, status, then the first line of the
 * last output for ok hosts and the error for the others. Devices are
 * hostile and inventories are data: the host, the output and the error
 * reach the terminal through termtext (a tab in the output stays, one in
 * an error text is shown as \t, as everywhere errors are printed). */
static void sink_text_line(struct buf *b, const char *host, const struct record *r)
{
	const char *first = r->status == STATUS_OK ? r->first.data : r->error.data;
	size_t n = r->status == STATUS_OK ? r->first.len : strcspn(r->error.data ? r->error.data : "", "\r\n");
	size_t start = b->len, width;

	termtext_puts(b, host, 0);
	/* %-24s, counted in columns, not bytes */
	width = termtext_width(b->data + start, b->len - start);
	for (; width < 24; width++)
		buf_putc(b, ' ');
	buf_printf(b, " %-11s ", status_name(r->status));
	termtext_append(b, first ? first : "", first ? n : 0, r->status == STATUS_OK ? TERMTEXT_KEEP_TAB : 0);
	buf_putc(b, '\n');
}

static void sink_emit(struct sink *k, const char *json, size_t jlen, const char *text, size_t tlen)
{
	if (k->journal_fd >= 0)
		buf_append(&k->jbuf, json, jlen);
	if (!k->quiet) {
		if (k->format == FORMAT_JSONL)
			buf_append(&k->obuf, json, jlen);
		else
			buf_append(&k->obuf, text, tlen);
	}
	if (k->jbuf.len > SINK_HIGH_WATER || k->obuf.len > SINK_HIGH_WATER)
		sink_flush(k, clock_mono_ms(), false);
}

/* Each line of p[0..n) as "host: line\n" into b; a last line without its
 * newline gets one. Line breaks are fleetrun's: a device's CR, ESC or
 * other control bytes are shown escaped (termtext), so one host's output
 * cannot rewrite another's line; a CRLF line end counts as the break. */
static void sink_prefix_lines(struct buf *b, const char *host, const char *p, size_t n)
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

/* FORMAT_LINES: the host's output lines, pdsh style: stdout (or the HTTP
 * body) into out, stderr into err, and for a host not ok its status and
 * error on stderr (one line: a newline in the error is shown as \n). */
static void sink_lines(struct buf *out, struct buf *err, const char *host, const struct record *r,
                       const struct proto_result *res)
{
	for (size_t i = 0; res && i < res->nsteps; i++) {
		const struct proto_step *st = &res->steps[i];
		if (st->has & PROTO_STEP_OUTPUT)
			sink_prefix_lines(out, host, st->out.p, st->out.n);
		if (st->has & PROTO_STEP_STDERR)
			sink_prefix_lines(err, host, st->err.p, st->err.n);
	}
	if (r->status != STATUS_OK) {
		termtext_puts(err, host, 0);
		buf_printf(err, ": fleetrun: %s: ", status_name(r->status));
		if (r->has_error)
			termtext_append(err, r->error.data, r->error.len, 0);
		buf_putc(err, '\n');
	}
}

void sink_put(struct sink *k, uint64_t id, const char *host, const struct record *r, const struct proto_result *res)
{
	struct buf text = BUF_INIT, json = BUF_INIT;

	summary_add(&k->sum, host, r->status, r->has_error ? r->error.data : NULL, r->duration_ms);
	if (k->format == FORMAT_TEXT && !k->quiet)
		sink_text_line(&text, host, r);
	if (k->format == FORMAT_LINES && !k->quiet)
		sink_lines(&text, &k->ebuf, host, r, res);
	if (!k->ordered) {
		/* the common case: straight into the output buffers */
		if (k->journal_fd >= 0 || k->format == FORMAT_JSONL) {
			if (k->journal_fd >= 0) {
				buf_append(&k->jbuf, r->json, r->json_len);
				buf_putc(&k->jbuf, '\n');
			}
			if (!k->quiet && k->format == FORMAT_JSONL) {
				buf_append(&k->obuf, r->json, r->json_len);
				buf_putc(&k->obuf, '\n');
			}
		}
		if (text.len)
			buf_append(&k->obuf, text.data, text.len);
		if (k->jbuf.len > SINK_HIGH_WATER || k->obuf.len > SINK_HIGH_WATER)
			sink_flush(k, clock_mono_ms(), false);
		buf_free(&text);
		return;
	}
	buf_append(&json, r->json, r->json_len);
	buf_putc(&json, '\n');
	k->ring[id % k->window].json = buf_steal(&json);
	k->ring[id % k->window].text = text.len ? buf_steal(&text) : NULL;
	buf_free(&text);
	while (k->ring[k->next_id % k->window].json) {
		struct sink_held *h = &k->ring[k->next_id % k->window];
		sink_emit(k, h->json, strlen(h->json), h->text ? h->text : "", h->text ? strlen(h->text) : 0);
		free(h->json);
		free(h->text);
		h->json = h->text = NULL;
		k->next_id++;
	}
}

bool sink_may_start(const struct sink *k, uint64_t id)
{
	return !k->ordered || id < k->next_id + k->window;
}

int sink_flush(struct sink *k, int64_t now_ms, bool force)
{
	int r = 0;

	k->last_flush_ms = now_ms;
	if ((k->obuf.len || k->ebuf.len) && k->progress)
		progress_clear(k->progress);
	/* a closed stderr loses messages, not results: not an error */
	if (k->ebuf.len)
		(void)fd_write_all(STDERR_FILENO, k->ebuf.data, k->ebuf.len);
	buf_reset(&k->ebuf);
	if (k->obuf.len && fd_write_all(STDOUT_FILENO, k->obuf.data, k->obuf.len) < 0) {
		/* stdout closed early (| head) is the reader's choice; the
		 * journal, if any, still gets everything */
		if (!k->io_error && errno != EPIPE)
			log_error("stdout: %s", strerror(errno));
		if (errno != EPIPE) {
			k->io_error = true;
			r = -1;
		}
	}
	buf_reset(&k->obuf);
	if (k->journal_fd < 0)
		return r;
	if (k->journal_failed) {
		/* said once; what comes after a failed write cannot be trusted
		 * to land in order */
		buf_reset(&k->jbuf);
		return -1;
	}
	if (k->jbuf.len) {
		if (fd_write_all(k->journal_fd, k->jbuf.data, k->jbuf.len) < 0) {
			log_error("%s: %s", k->journal_path, strerror(errno));
			buf_reset(&k->jbuf);
			k->io_error = k->journal_failed = true;
			return -1;
		}
		buf_reset(&k->jbuf);
		k->journal_dirty = true;
	}
	if (k->journal_dirty && !k->journal_syncable)
		k->journal_dirty = false;
	if (k->journal_dirty && (force || now_ms - k->last_sync_ms >= SINK_SYNC_MS)) {
		if (fdatasync(k->journal_fd) < 0) {
			log_error("%s: fdatasync: %s", k->journal_path, strerror(errno));
			k->io_error = k->journal_failed = true;
			return -1;
		}
		k->journal_dirty = false;
		k->last_sync_ms = now_ms;
	}
	return r;
}

int64_t sink_next_timer(const struct sink *k)
{
	int64_t t = 0;

	if (k->obuf.len || k->jbuf.len || k->ebuf.len)
		t = k->last_flush_ms + SINK_FLUSH_MS;
	if (k->journal_dirty && k->journal_syncable && (!t || k->last_sync_ms + SINK_SYNC_MS < t))
		t = k->last_sync_ms + SINK_SYNC_MS;
	return t;
}

int sink_finish(struct sink *k)
{
	for (size_t i = 0; k->ring && i < k->window; i++) {
		struct sink_held *h = &k->ring[(k->next_id + i) % k->window];
		if (!h->json)
			continue;
		sink_emit(k, h->json, strlen(h->json), h->text ? h->text : "", h->text ? strlen(h->text) : 0);
		free(h->json);
		free(h->text);
		h->json = h->text = NULL;
	}
	return sink_flush(k, clock_mono_ms(), true);
}

void sink_close(struct sink *k)
{
	if (k->ring) {
		for (size_t i = 0; i < k->window; i++) {
			free(k->ring[i].json);
			free(k->ring[i].text);
		}
		free(k->ring);
	}
	if (k->journal_fd >= 0)
		close(k->journal_fd);
	free(k->journal_path);
	buf_free(&k->jbuf);
	buf_free(&k->obuf);
	buf_free(&k->ebuf);
	summary_free(&k->sum);
	memset(k, 0, sizeof(*k));
	k->journal_fd = -1;
}
