/* report: a journal's summary and page, after the fact.
 *
 * Two reads of the journal, so memory stays a few words per host whatever
 * the size of the records: the first (journal_index_load) finds the hosts
 * and on which line each one's last final record is (the journal's rule,
 * journal_record_replaces); the second takes exactly those records into
 * the summary and the page. */
#include "report.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "journal.h"
#include "log.h"
#include "report_html.h"
#include "util.h"

#define EXIT_USAGE 2

struct report {
	const char *job;          /* the job whose records count */
	struct journal_index idx;
	struct summary sum;
	int64_t first_start_ms;   /* of the records taken; INT64_MAX when none */
	int64_t last_end_ms;
	unsigned long no_start;   /* records taken without a "started" time */
	unsigned long no_start_line; /* the first of them */
	struct report_html html;
	bool html_open;
};


/* The record's own job filter: the records of r->job only. */
static bool report_counts(const struct report *r, const struct journal_entry *e)
{
	return e->final && strcmp(e->job, r->job) == 0;
}

/* Second read: take each host's last final record. */
static int report_take(const struct journal_entry *e, void *ctx)
{
	struct report *r = ctx;
	const struct journal_last *l;
	const char *path[] = {"error", NULL}, *bpath[] = {"error_b64", NULL}, *spath[] = {"started", NULL};
	yajl_val error, started;
	const char *error_text = NULL;
	int64_t start_ms = 0, duration_ms;

	if (!report_counts(r, e))
		return 0;
	/* NULL for a record appended since the first read: not counted */
	l = journal_index_get(&r->idx, e->task);
	if (!l || !l->final || l->line != e->lineno)
		return 0;
	error = yajl_tree_get(e->root, path, yajl_t_string);
	if (error)
		error_text = YAJL_GET_STRING(error);
	else if (yajl_tree_get(e->root, bpath, yajl_t_string))
		error_text = "(error text that is not UTF-8: error_b64 in the journal)";
	duration_ms = journal_get_duration_ms(e->root, "duration_ms");
	started = yajl_tree_get(e->root, spath, yajl_t_string);
	if (started && journal_time_ms(YAJL_GET_STRING(started), &start_ms) == 0) {
		if (start_ms < r->first_start_ms)
			r->first_start_ms = start_ms;
		if (start_ms + duration_ms > r->last_end_ms)
			r->last_end_ms = start_ms + duration_ms;
	} else if (r->no_start++ == 0) {
		/* said after the read: warnings are off during it */
		r->no_start_line = e->lineno;
	}
	summary_add(&r->sum, e->host, e->status, error_text, duration_ms);
	if (r->html_open)
		report_html_host(&r->html, e, start_ms, duration_ms, error_text);
	return 0;
}

int report_run(const struct report_opts *o)
{
	struct report r;
	struct summary_run sr;
	struct err err;
	enum log_level level = log_level();
	int rc = EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	r.first_start_ms = INT64_MAX;
	if (journal_index_load(&r.idx, o->journal, o->job, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (r.idx.mixed_jobs && !o->job) {
		log_error("%s: holds records of more than one job; say which with --job NAME", o->journal);
		goto out;
	}
	r.job = o->job ? o->job : r.idx.job ? r.idx.job : "";
	/* The next read meets the lines the first one warned about: once is
	 * enough. Errors still show. */
	if (level > LOG_ERROR)
		log_init("fleetrun", LOG_ERROR);
	if (o->html) {
		if (report_html_open(&r.html, o->html, o->journal, &err) < 0) {
			log_error("%s", err.msg);
			rc = 3;
			goto out;
		}
		r.html_open = true;
	}
	if (journal_read(o->journal, report_take, &r, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	log_init("fleetrun", level);
	if (r.no_start)
		log_warn("%s:%lu: no \"started\" time such as 2026-11-22T01:20:50.476Z: the host is left out of "
		         "the wall time and the timeline",
		         o->journal, r.no_start_line);
	if (r.no_start > 1)
		log_warn("%s: %lu records in all had no \"started\" time", o->journal, r.no_start);
	for (size_t i = 0; i < r.idx.len; i++)
		if (!r.idx.last[i].final)
			r.sum.unfinished++;
	/* the wall time of a journal: from its first start to its last end,
	 * across the runs that wrote it (--resume) */
	sr.job = r.job;
	sr.wall_ms = r.first_start_ms < r.last_end_ms ? r.last_end_ms - r.first_start_ms : 0;
	sr.interrupted = r.sum.unfinished > 0;
	if (r.html_open && report_html_finish(&r.html, &r.sum, &sr, &err) < 0) {
		log_error("%s", err.msg);
		rc = 3;
		goto out;
	}
	if (o->format == SUMMARY_JSON)
		summary_print_json(&r.sum, stdout, &sr);
	else if (o->format == SUMMARY_TEXT)
		summary_print(&r.sum, stdout, &sr);
	if (fflush(stdout) != 0 || ferror(stdout)) {
		rc = 3;
		goto out;
	}
	rc = r.sum.counts[STATUS_OK] == r.sum.total && !r.sum.unfinished ? 0 : 1;
out:
	log_init("fleetrun", level);
	report_html_free(&r.html);
	summary_free(&r.sum);
	journal_index_free(&r.idx);
	return rc;
}
