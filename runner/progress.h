/* progress: the live status line on stderr while a run goes on.
 *
 *   fleetrun: 1234/10000 12% | ok 1200 failed 20 timeout 14 | 345/s ETA 0:25 | slowest: rtr13 12s, fw2 9s
 *
 * Only when stderr is a terminal (and not -q); redrawn at most 10 times a
 * second on one line, cut to the terminal's width. Whatever else goes to
 * the terminal (records on stdout, messages on stderr) first erases the
 * line, so the two never interleave; the next redraw puts it back. On
 * SIGUSR1 the supervisor prints every host in flight with how long it has
 * been running (progress_inflight), with or without the line. */
#ifndef FLEETRUN_PROGRESS_H
#define FLEETRUN_PROGRESS_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "slot.h"
#include "summary.h"

#define PROGRESS_EVERY_MS 100
/* How many of the longest-running hosts the line names. */
#define PROGRESS_SLOWEST 3

struct progress {
	bool on;              /* drawing at all */
	bool color;
	bool drawn;           /* a line is on the terminal now */
	uint64_t total;       /* tasks this run will finish */
	int64_t start_ms;
	int64_t last_ms;      /* the last draw */
	struct buf line;      /* scratch */
	struct buf prev;      /* the line on the terminal now */
};

/* on: stderr is a terminal and the user wants it; color: escapes allowed
 * (not NO_COLOR, not --color=never). */
void progress_init(struct progress *pg, bool on, bool color, uint64_t total, int64_t start_ms);
/* Draw now when PROGRESS_EVERY_MS passed since the last draw (or force). */
void progress_draw(struct progress *pg, const struct summary *sum, const struct slot *slots, int nslots,
                   int64_t now_ms, bool force);
/* Erase the line, if it is drawn. Safe to call at any time. */
void progress_clear(struct progress *pg);
/* When the next draw is due (0 when off). */
int64_t progress_next_ms(const struct progress *pg);
/* Every host in flight with how long it has run, longest first, on f. */
void progress_inflight(const struct slot *slots, int nslots, int64_t now_ms, FILE *f);
void progress_free(struct progress *pg);

#endif
