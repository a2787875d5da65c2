/* report_html: `fleetrun report --html OUT`: one self-contained HTML page
 * (runner/report_page.html, built into the program) with the journal's
 * data embedded as JSON. The page draws everything itself and fetches
 * nothing: no network, no third-party code.
 *
 * Parsed records (`parse:` on a step): each row carries the host's first
 * parsed step's record count and its first record's values; when every
 * host with records has the same keys, in the same order (one template
 * made them all), the page shows them as columns of the hosts table.
 *
 * The page is written to OUT.tmp and renamed over OUT when complete, so a
 * reader never sees half a page. */
#ifndef FLEETRUN_REPORT_HTML_H
#define FLEETRUN_REPORT_HTML_H

#include <stdbool.h>
#include <stdio.h>
#include <yajl/yajl_gen.h>

#include "buf.h"
#include "journal.h"
#include "summary.h"
#include "util.h"

/* Output kept per host in the page (its steps' stdout, body and stderr):
 * the journal has the rest. */
#define REPORT_HTML_OUTPUT_CAP 2048

struct report_html {
	FILE *f;           /* NULL or the open temporary file, owned */
	char *path;        /* malloced, owned */
	char *tmp_path;    /* malloced, owned */
	yajl_gen gen;      /* one host's row at a time */
	struct buf text;   /* one host's output text */
	unsigned long rows;
	char **keys;       /* the first host with parsed records: its first
	                      record's keys, malloced, owned; NULL: none yet */
	size_t nkeys;
	bool keys_differ;  /* a later host's keys are not those */
	long long most_records; /* of one host */
	struct buf value;  /* one parsed value's text */
};

/* Create the temporary file and write the page up to the host rows. 0, or
 * -1 with err. journal is the file the page is about (its name is shown). */
int report_html_open(struct report_html *h, const char *path, const char *journal, struct err *err);
/* One host's row, from its record. */
void report_html_host(struct report_html *h, const struct journal_entry *e, int64_t started_ms,
                      int64_t duration_ms, const char *error);
/* The summary and the rest of the page; rename it into place. 0, or -1
 * with err (the temporary file is removed). */
int report_html_finish(struct report_html *h, const struct summary *s, const struct summary_run *run,
                       struct err *err);
/* Remove what is left of an unfinished page, and free h. */
void report_html_free(struct report_html *h);

#endif
