/* sink: where records go. The journal (-o FILE, always JSON Lines), stdout
 * (JSON Lines or one text line per host) and the summary. Writes are
 * batched: records collect in buffers that are written once per turn of the
 * event loop, and the journal is fdatasync'd in groups. */
#ifndef FLEETRUN_SINK_H
#define FLEETRUN_SINK_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "progress.h"
#include "record.h"
#include "status.h"
#include "summary.h"
#include "util.h"

/* stdout: one text line per host; JSON Lines records; or every output
 * line prefixed "host: ", as pdsh prints them (stderr lines to stderr). */
enum sink_format { FORMAT_TEXT, FORMAT_JSONL, FORMAT_LINES };

/* The journal is synced at least this often while records arrive. */
#define SINK_SYNC_MS 200
/* Buffered records are written at least this often. */
#define SINK_FLUSH_MS 20

/* A record held back by --ordered: its lines as they will be written. */
struct sink_held {
	char *json; /* malloced, owned; with its newline */
	char *text; /* NULL or malloced, owned; the text line */
};

struct sink {
	int journal_fd;        /* -1 or the -o file */
	char *journal_path;    /* NULL or malloced, owned */
	struct buf jbuf;       /* journal bytes not yet written */
	bool journal_dirty;    /* written since the last fdatasync */
	bool journal_syncable; /* a regular file: fdatasync applies */
	int64_t last_sync_ms;
	int64_t last_flush_ms;
	enum sink_format format;
	bool quiet;            /* -q: nothing per host on stdout */
	struct buf obuf;       /* stdout bytes not yet written */
	struct buf ebuf;       /* FORMAT_LINES: stderr bytes not yet written */
	/* --ordered: records wait in a ring until every earlier one is out */
	bool ordered;
	uint64_t next_id;      /* the id whose record goes out next */
	size_t window;         /* ring size; dispatch stays within it */
	struct sink_held *ring; /* NULL or malloced array of window records */
	struct summary sum;
	bool io_error;         /* an output could not be written: exit 3 */
	bool journal_failed;   /* the journal could not be written or synced */
	struct progress *progress; /* NULL, or the live line to erase before stdout */
};

/* A sink not open, safe to sink_close. */
void sink_init(struct sink *k);
int sink_open(struct sink *k, const char *journal, enum sink_format fmt, bool quiet, bool ordered,
              size_t window, struct err *err);
/* Take the record of the task with this id; res is the worker's result it
 * was rendered from (NULL for a record the supervisor made), for
 * FORMAT_LINES. */
void sink_put(struct sink *k, uint64_t id, const char *host, const struct record *r, const struct proto_result *res);
/* For --ordered: may the task with this id be started now? */
bool sink_may_start(const struct sink *k, uint64_t id);
/* Write what is buffered; fdatasync the journal when SINK_SYNC_MS passed
 * (or always when force). 0, or -1 on an I/O error (logged). */
int sink_flush(struct sink *k, int64_t now_ms, bool force);
/* The next time sink_flush has something to do, or 0. */
int64_t sink_next_timer(const struct sink *k);
/* At the end of a run: write the records --ordered still holds (those
 * behind a task that never finished), then flush and sync. */
int sink_finish(struct sink *k);
void sink_close(struct sink *k);

#endif
