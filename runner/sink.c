/* sink: journal, stdout and summary. */
#include "sink.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"

/* Write a buffer out once it holds this much, not only at the end of a
 * turn, so one busy turn cannot grow it without bound. */
#define SINK_HIGH_WATER (256 * 1024)

int sink_open(struct sink *k, const char *journal, enum sink_format fmt, bool quiet, bool ordered,
              size_t window, struct err *err)
{
	memset(k, 0, sizeof(*k));
	k->journal_fd = -1;
	k->format = fmt;
	k->quiet = quiet;
	k->ordered = ordered;
	k->window = window;
	k->last_sync_ms = clock_mono_ms();
	if (ordered)
		k->ring = xcalloc(window, sizeof(*k->ring));
	if (journal) {
		k->journal_fd = open(journal, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
		if (k->journal_fd < 0) {
			err_set(err, "%s: cannot open for writing: %s", journal, strerror(errno));
			return -1;
		}
		k->journal_path = xstrdup(journal);
	}
	return 0;
}

/* The text line of a record: host, status, then the first line of the
 * last output for ok hosts and the error for the others. */
static void sink_text_line(struct buf *b, json_t *rec, enum status st)
{
	const char *host = json_string_value(json_object_get(rec, "host"));
	const char *error = json_string_value(json_object_get(rec, "error"));
	json_t *steps = json_object_get(rec, "steps");
	const char *first = NULL;
	size_t firstlen = 0;

	if (st == STATUS_OK) {
		for (size_t i = json_array_size(steps); i-- > 0 && !first;) {
			json_t *out = json_object_get(json_array_get(steps, i), "stdout");
			const char *s = json_string_value(out);
			if (s && *s) {
				first = s;
				firstlen = strcspn(s, "\r\n");
			}
		}
	} else if (error) {
		first = error;
		firstlen = strcspn(error, "\r\n");
	}
	buf_printf(b, "%-24s %-11s %.*s\n", host ? host : "?", status_name(st), (int)firstlen, first ? first : "");
}

static void sink_emit(struct sink *k, json_t *rec)
{
	char *line = NULL;
	size_t n = 0;

	/* Compact, one line; JSON_ENSURE_ASCII off: jansson escapes control
	 * characters and NUL itself. */
	line = json_dumps(rec, JSON_COMPACT | JSON_PRESERVE_ORDER);
	if (line)
		n = strlen(line);
	if (k->journal_fd >= 0 && line) {
		buf_append(&k->jbuf, line, n);
		buf_putc(&k->jbuf, '\n');
	}
	if (!k->quiet) {
		if (k->format == FORMAT_JSONL && line) {
			buf_append(&k->obuf, line, n);
			buf_putc(&k->obuf, '\n');
		} else if (k->format == FORMAT_TEXT) {
			int st = status_parse(json_string_value(json_object_get(rec, "status")),
			                      strlen(json_string_value(json_object_get(rec, "status"))));
			sink_text_line(&k->obuf, rec, st < 0 ? STATUS_ERROR : (enum status)st);
		}
	}
	free(line);
	json_decref(rec);
	if (k->jbuf.len > SINK_HIGH_WATER || k->obuf.len > SINK_HIGH_WATER)
		sink_flush(k, clock_mono_ms(), false);
}

void sink_put(struct sink *k, uint64_t id, json_t *rec, enum status st)
{
	const char *host = json_string_value(json_object_get(rec, "host"));
	const char *error = json_string_value(json_object_get(rec, "error"));

	summary_add(&k->sum, host ? host : "?", st, error, json_integer_value(json_object_get(rec, "duration_ms")));
	if (!k->ordered) {
		sink_emit(k, rec);
		return;
	}
	k->ring[id % k->window] = rec;
	while (k->ring[k->next_id % k->window]) {
		json_t *r = k->ring[k->next_id % k->window];
		k->ring[k->next_id % k->window] = NULL;
		k->next_id++;
		sink_emit(k, r);
	}
}

bool sink_may_start(const struct sink *k, uint64_t id)
{
	return !k->ordered || id < k->next_id + k->window;
}

static int sink_write_all(int fd, struct buf *b)
{
	size_t off = 0;

	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		off += (size_t)n;
	}
	buf_reset(b);
	return 0;
}

int sink_flush(struct sink *k, int64_t now_ms, bool force)
{
	int r = 0;

	if (k->obuf.len && sink_write_all(STDOUT_FILENO, &k->obuf) < 0) {
		/* stdout closed early (| head) is the reader's choice; the
		 * journal, if any, still gets everything */
		if (!k->io_error && errno != EPIPE)
			log_error("stdout: %s", strerror(errno));
		buf_reset(&k->obuf);
		if (errno != EPIPE) {
			k->io_error = true;
			r = -1;
		}
	}
	if (k->journal_fd < 0)
		return r;
	if (k->jbuf.len) {
		if (sink_write_all(k->journal_fd, &k->jbuf) < 0) {
			log_error("%s: %s", k->journal_path, strerror(errno));
			buf_reset(&k->jbuf);
			k->io_error = true;
			return -1;
		}
		k->journal_dirty = true;
	}
	if (k->journal_dirty && (force || now_ms - k->last_sync_ms >= SINK_SYNC_MS)) {
		if (fdatasync(k->journal_fd) < 0) {
			log_error("%s: fdatasync: %s", k->journal_path, strerror(errno));
			k->io_error = true;
			return -1;
		}
		k->journal_dirty = false;
		k->last_sync_ms = now_ms;
	}
	return r;
}

int64_t sink_next_timer(const struct sink *k)
{
	if (k->journal_fd >= 0 && (k->journal_dirty || k->jbuf.len))
		return k->last_sync_ms + SINK_SYNC_MS;
	return 0;
}

int sink_finish(struct sink *k)
{
	for (size_t i = 0; k->ring && i < k->window; i++) {
		json_t *r = k->ring[(k->next_id + i) % k->window];
		k->ring[(k->next_id + i) % k->window] = NULL;
		if (r)
			sink_emit(k, r);
	}
	return sink_flush(k, clock_mono_ms(), true);
}

void sink_close(struct sink *k)
{
	if (k->ring) {
		for (size_t i = 0; i < k->window; i++)
			json_decref(k->ring[i]);
		free(k->ring);
	}
	if (k->journal_fd >= 0)
		close(k->journal_fd);
	free(k->journal_path);
	buf_free(&k->jbuf);
	buf_free(&k->obuf);
	summary_free(&k->sum);
	memset(k, 0, sizeof(*k));
	k->journal_fd = -1;
}
