/* sink: where a task's record goes, in this order: the summary, the
 * --ordered ring (order.c) when the run keeps the targets' order, then the
 * journal (journal_out.c) and stdout (stdout_out.c). Writes are batched:
 * records collect in the outputs' buffers, written once per turn of the
 * event loop (sink_flush) or sooner when a buffer grows large.
 *
 * A thin fan-out, apart from run.c: it holds what the outputs share, the
 * batching clock and the one "an output failed" flag the run stops on,
 * so the event loop asks one thing when to flush and whether to stop. */
#ifndef FLEETRUN_SINK_H
#define FLEETRUN_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "journal_out.h"
#include "order.h"
#include "proto.h"
#include "record.h"
#include "stdout_out.h"
#include "summary.h"
#include "util.h"

/* Buffered records are written at least this often. */
#define SINK_FLUSH_MS 20

struct sink {
	struct journal_out journal; /* -o FILE, or not open */
	struct stdout_out out;
	bool ordered;               /* --ordered: records pass through order */
	struct order order;
	int64_t last_flush_ms;
	struct summary sum;
	bool io_error;              /* an output could not be written: exit 3 */
};

/* A sink not open, safe to sink_close. */
void sink_init(struct sink *k);
int sink_open(struct sink *k, const char *journal, enum stdout_out_format fmt, bool quiet, bool ordered,
              size_t window, struct err *err);
/* Call before_write(ctx) before records are written to stdout or stderr
 * (NULL: none), as log_set_hook does for messages: the live line on the
 * same terminal is erased first. */
void sink_set_hook(struct sink *k, void (*before_write)(void *ctx), void *ctx);
/* Take the record of the task with this id; res is the worker's result it
 * was rendered from (NULL for a record the supervisor made), for
 * STDOUT_OUT_LINES. */
void sink_put(struct sink *k, uint64_t id, const char *host, const struct record *r, const struct proto_result *res);
/* For --ordered: may the task with this id be started now? */
bool sink_may_start(const struct sink *k, uint64_t id);
/* Write what is buffered; fdatasync the journal when JOURNAL_OUT_SYNC_MS
 * passed (or always when force). 0, or -1 on an I/O error (logged once:
 * see stdout_out_flush and journal_out_flush). */
int sink_flush(struct sink *k, int64_t now_ms, bool force);
/* The next time sink_flush has something to do, or 0. */
int64_t sink_next_timer(const struct sink *k);
/* A line for the journal alone (a run's start line, journal_run.h),
 * json[0..n) without the newline; after the records put so far. */
void sink_journal_line(struct sink *k, const char *json, size_t n);
/* At the end of a run: write the records --ordered still holds (those
 * behind a task that never finished), then last_line to the journal
 * alone (the run's end line; NULL: none), then flush and sync. */
int sink_finish(struct sink *k, const char *last_line, size_t n);
void sink_close(struct sink *k);

#endif
