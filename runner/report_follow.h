/* report_follow: `fleetrun report JOURNAL --follow`: a journal's records
 * as a running run appends them, one text line per host as `run` prints
 * it on a terminal, until the run ends (its lock is released); `report`
 * then prints the summary of the whole journal.
 *
 * Apart from report.c, which reads a journal once it is still: this reads
 * one that grows, by its bytes, a line at a time, and waits on inotify
 * for more (and once a second for the lock's release), never sleeping a
 * fixed time. */
#ifndef FLEETRUN_REPORT_FOLLOW_H
#define FLEETRUN_REPORT_FOLLOW_H

#include <stdio.h>

#include "util.h"

/* Print each record of path on out as it comes, until no run holds the
 * journal's lock and every whole line is read. job: only its records
 * (NULL: all). 0, or -1 with err. */
int report_follow(const char *path, const char *job, FILE *out, struct err *err);

#endif
