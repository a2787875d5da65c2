/* report: `fleetrun report JOURNAL`: the summary of a run computed from its
 * journal after the fact, as text or JSON, and the HTML page.
 *
 * What counts for each host is its last final record (journal.h): a host
 * run again by --resume or --retry-failed counts once, as it ended last;
 * a host the run was stopped on, with no final record, is "unfinished". */
#ifndef FLEETRUN_REPORT_H
#define FLEETRUN_REPORT_H

#include <stdbool.h>

#include "summary.h"

struct report_opts {
	const char *journal;
	const char *job;            /* --job: the records of this job only; NULL: the journal's one job */
	enum summary_format format; /* on stdout: SUMMARY_TEXT, SUMMARY_JSON, or SUMMARY_NONE */
	const char *html;           /* --html OUT, or NULL */
	bool follow;                /* --follow: the records live until the run ends */
};

/* The exit code: 0 every host ended ok, 1 some did not (or did not
 * finish), 2 the journal cannot be read or holds more than one job, 3 the
 * page cannot be written. */
int report_run(const struct report_opts *o);

#endif
