/* sink: a record to the summary, the --ordered ring, the journal and
 * stdout; see sink.h. */
#include "sink.h"

#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* Write the buffers out once one holds this much, not only at the end of
 * a turn, so one busy turn cannot grow them without bound. */
#define SINK_HIGH_WATER (256 * 1024)

void sink_init(struct sink *k)
{
	memset(k, 0, sizeof(*k));
	journal_out_init(&k->journal);
	stdout_out_init(&k->out, STDOUT_OUT_TEXT, false);
}

int sink_open(struct sink *k, const char *journal, enum stdout_out_format fmt, bool quiet, bool ordered,
              size_t window, struct err *err)
{
	sink_init(k);
	stdout_out_init(&k->out, fmt, quiet);
	k->ordered = ordered;
	if (ordered)
		order_init(&k->order, window);
	/* no symlink followed, a file that is not a journal refused */
	if (journal && journal_out_open(&k->journal, journal, err) < 0)
		return -1;
	return 0;
}

void sink_set_hook(struct sink *k, void (*before_write)(void *ctx), void *ctx)
{
	stdout_out_set_hook(&k->out, before_write, ctx);
}

/* A record leaves the sink: its JSON (no newline) to the journal, its
 * JSON or text to stdout. */
static void sink_emit(struct sink *k, const char *json, size_t jlen, const char *text, size_t tlen)
{
	journal_out_put(&k->journal, json, jlen);
	stdout_out_put(&k->out, json, jlen, text, tlen);
	if (journal_out_buffered(&k->journal) > SINK_HIGH_WATER || stdout_out_buffered(&k->out) > SINK_HIGH_WATER)
		sink_flush(k, clock_mono_ms(), false);
}

/* A record the ring let go: out, and its lines freed. */
static void sink_emit_held(struct sink *k, struct order_held *h)
{
	sink_emit(k, h->json, strlen(h->json), h->text ? h->text : "", h->text ? strlen(h->text) : 0);
	free(h->json);
	free(h->text);
}

void sink_put(struct sink *k, uint64_t id, const char *host, const struct record *r, const struct proto_result *res)
{
	struct buf text = BUF_INIT;
	struct order_held h;

	summary_add(&k->sum, host, r->status, r->has_error ? r->error.data : NULL, r->duration_ms);
	stdout_out_render(&k->out, &text, host, r, res);
	if (!k->ordered) {
		/* the common case: straight into the output buffers */
		sink_emit(k, r->json, r->json_len, text.data, text.len);
		buf_free(&text);
		return;
	}
	h.json = xstrndup(r->json, r->json_len);
	h.text = text.len ? buf_steal(&text) : NULL;
	buf_free(&text);
	order_hold(&k->order, id, h);
	while (order_next(&k->order, &h))
		sink_emit_held(k, &h);
}

bool sink_may_start(const struct sink *k, uint64_t id)
{
	return !k->ordered || order_may_start(&k->order, id);
}

int sink_flush(struct sink *k, int64_t now_ms, bool force)
{
	int r = 0;

	k->last_flush_ms = now_ms;
	if (stdout_out_flush(&k->out, &k->io_error) < 0)
		r = -1;
	if (journal_out_flush(&k->journal, now_ms, force, &k->io_error) < 0)
		r = -1;
	return r;
}

int64_t sink_next_timer(const struct sink *k)
{
	int64_t t = 0;

	if (!stdout_out_empty(&k->out) || journal_out_buffered(&k->journal))
		t = k->last_flush_ms + SINK_FLUSH_MS;
	clock_deadline_min(&t, journal_out_next_sync(&k->journal));
	return t;
}

void sink_journal_line(struct sink *k, const char *json, size_t n)
{
	journal_out_put(&k->journal, json, n);
}

int sink_finish(struct sink *k, const char *last_line, size_t n)
{
	struct order_held h;

	while (k->ordered && order_drain(&k->order, &h))
		sink_emit_held(k, &h);
	if (last_line)
		journal_out_put(&k->journal, last_line, n);
	return sink_flush(k, clock_mono_ms(), true);
}

void sink_close(struct sink *k)
{
	if (k->ordered)
		order_free(&k->order);
	journal_out_close(&k->journal);
	stdout_out_free(&k->out);
	summary_free(&k->sum);
	sink_init(k);
}
