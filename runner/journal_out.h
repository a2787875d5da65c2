/* journal_out: the journal being written (-o FILE, JSON Lines): opened for
 * appending without following a link, claimed (one writer at a time, a
 * torn last line cut), records buffered and written once per turn of the
 * event loop, and fdatasync'd in groups: at most every
 * JOURNAL_OUT_SYNC_MS while records arrive, and at the end.
 *
 * Apart from journal.c, which reads journals back (and says whether a
 * file is one, which the claim asks). A journal that cannot be written is
 * a failure of the run, unlike a stdout closed early: it is said once,
 * what comes after is dropped (it could not be trusted to land in order),
 * and the caller stops the run (--resume runs the rest once the disk is
 * fixed). */
#ifndef FLEETRUN_JOURNAL_OUT_H
#define FLEETRUN_JOURNAL_OUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

/* The journal is synced at least this often while records arrive. */
#define JOURNAL_OUT_SYNC_MS 200

struct journal_out {
	int fd;                /* -1, or the -o file */
	char *path;            /* NULL or malloced, owned */
	struct buf buf;        /* bytes not yet written */
	bool dirty;            /* written since the last fdatasync */
	bool syncable;         /* a regular file: fdatasync applies */
	bool failed;           /* could not be written or synced; said once */
	int64_t last_sync_ms;
};

/* A journal not open: puts are dropped, flushes succeed; safe to close. */
void journal_out_init(struct journal_out *j);
/* Open path for appending, never through a symbolic link (a new journal is
 * created 0600, exclusively), and claim it: its lock taken (or fail
 * naming the file when another run holds it), a file that is not a
 * journal refused as it is, a torn last line cut. 0, or -1 with err. */
int journal_out_open(struct journal_out *j, const char *path, struct err *err);
/* A record (json[0..n), no newline) as one line, when open. */
void journal_out_put(struct journal_out *j, const char *json, size_t n);
/* Bytes waiting to be written. */
size_t journal_out_buffered(const struct journal_out *j);
/* Write what waits; fdatasync when JOURNAL_OUT_SYNC_MS passed since the
 * last sync (or always when force). 0 (also when not open), or -1 when
 * the journal failed now or before: said the first time, with *io_error
 * set. */
int journal_out_flush(struct journal_out *j, int64_t now_ms, bool force, bool *io_error);
/* When the next group sync is due, or 0 when nothing waits for one. */
int64_t journal_out_next_sync(const struct journal_out *j);
void journal_out_close(struct journal_out *j);

#endif
