/* report: a journal's summary and page, after the fact.
 *
 * Two reads of the journal, so memory stays a few words per host whatever
 * the size of the records: the first (journal_index_load) finds the hosts
 * and on which line each one's last final record is (the journal's rule,
 * journal_record_replaces); the second takes exactly those records into
 * the summary and the page. */
#include "report.h"

#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "journal_run.h"
#include "log.h"
#include "report_follow.h"
#include "report_html.h"
#include "util.h"

#define EXIT_USAGE 2

/* The runs that wrote the journal, from their start and end lines
 * (journal_run.h); none in a journal written before them. */
#define REPORT_MAX_RUNS 1024

struct report_runs {
	size_t n;                 /* start lines of the job seen */
	int64_t wall_ms[REPORT_MAX_RUNS];
	int64_t start_ms;         /* the current run's start line's time */
	int64_t last_end_ms;      /* its records' latest end so far */
	bool open;                /* a start line without its end line yet */
	bool stopped;             /* the last run's end line: interrupted or cut */
	uint64_t targets;         /* the last run's */
	struct buf resume;        /* the last run's resume line, or empty */
};

struct report {
	const char *job;          /* the job whose records count */
	struct report_runs runs;
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

/* A run without its end line (killed, or still running) lasted until
 * its last record ended, as far as the journal can tell. */
static void report_run_close(struct report_runs *rr)
{
	if (!rr->open)
		return;
	rr->open = false;
	if (rr->n <= REPORT_MAX_RUNS)
		rr->wall_ms[rr->n - 1] = rr->last_end_ms > rr->start_ms ? rr->last_end_ms - rr->start_ms : 0;
}

/* Second read: a run's start or end line. */
static int report_mark(yajl_val root, unsigned long lineno, void *ctx)
{
	struct report *r = ctx;
	struct report_runs *rr = &r->runs;
	struct journal_run_mark m;

	(void)lineno;
	if (!journal_run_parse(root, &m) || strcmp(m.job, r->job) != 0)
		return 0;
	if (m.start) {
		report_run_close(rr);
		rr->n++;
		rr->open = true;
		rr->start_ms = rr->last_end_ms = m.started_ms;
		rr->targets = m.targets;
		rr->stopped = false;
		buf_reset(&rr->resume);
		journal_run_resume_json(m.argv, &rr->resume);
	} else if (rr->open) {
		rr->open = false;
		rr->stopped = strcmp(m.state, "finished") != 0;
		if (rr->n <= REPORT_MAX_RUNS)
			rr->wall_ms[rr->n - 1] = m.wall_ms;
	}
	return 0;
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

	if (r->runs.open && strcmp(e->job, r->job) == 0 &&
	    (started = yajl_tree_get(e->root, spath, yajl_t_string)) &&
	    journal_time_ms(YAJL_GET_STRING(started), &start_ms) == 0) {
		duration_ms = journal_get_duration_ms(e->root, "duration_ms");
		if (start_ms + duration_ms > r->runs.last_end_ms)
			r->runs.last_end_ms = start_ms + duration_ms;
	}
	start_ms = 0;
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

/* Before reading: a journal at all (an empty or foreign file is exit 2,
 * not an empty report), and whether a run still holds its lock. 0, or
 * -1 with err. */
static int report_check_file(const char *path, bool *in_progress, struct err *err)
{
	struct err why;
	struct stat sb;
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;

	if (fd < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode)) {
		err_set(err, "%s: not a regular file: expected a journal (the -o FILE of a run)", path);
		goto out;
	}
	if (sb.st_size == 0) {
		err_set(err, "%s: is empty: no run has written a record to it", path);
		goto out;
	}
	if (journal_check_head(fd, path, &why) < 0) {
		err_set(err, "%s: not a fleetrun journal: its first line is neither a run's start line nor a result "
		        "record with host, job and status",
		        path);
		goto out;
	}
	/* journal_out holds LOCK_EX while its run lasts */
	*in_progress = flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* How far the runs got and how long each took, from their start and end
 * lines, into sr (left as it is for a journal without them). */
static void report_runs_into(const struct report *r, struct summary_run *sr)
{
	const struct report_runs *rr = &r->runs;
	size_t kept = rr->n < REPORT_MAX_RUNS ? rr->n : REPORT_MAX_RUNS;
	uint64_t finished = 0;

	if (!rr->n)
		return;
	sr->wall_ms = 0;
	for (size_t i = 0; i < kept; i++)
		sr->wall_ms += rr->wall_ms[i];
	sr->run_wall_ms = rr->wall_ms;
	sr->nruns = kept;
	for (size_t i = 0; i < r->idx.len; i++)
		finished += r->idx.last[i].final;
	sr->targets = rr->targets;
	sr->finished = finished;
	sr->not_started = rr->targets > r->idx.len ? rr->targets - r->idx.len : 0;
	sr->resume = rr->resume.len && finished < rr->targets ? rr->resume.data : NULL;
	sr->interrupted |= rr->stopped && finished < rr->targets;
}

int report_run(const struct report_opts *o)
{
	struct report r;
	struct summary_run sr;
	struct err err;
	enum log_level level = log_level();
	int rc = EXIT_USAGE;

	memset(&r, 0, sizeof(r));
	memset(&sr, 0, sizeof(sr));
	r.first_start_ms = INT64_MAX;
	if (report_check_file(o->journal, &sr.in_progress, &err) < 0 ||
	    (o->follow && (report_follow(o->journal, o->job, stdout, &err) < 0 ||
	                   report_check_file(o->journal, &sr.in_progress, &err) < 0)) ||
	    journal_index_load(&r.idx, o->journal, o->job, &err) < 0) {
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
	if (journal_read_all(o->journal, report_take, report_mark, &r, &err) < 0) {
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
	report_run_close(&r.runs);
	report_runs_into(&r, &sr);
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
	rc = r.sum.counts[STATUS_OK] == r.sum.total && !r.sum.unfinished && sr.finished >= sr.targets &&
	             !sr.in_progress
	             ? 0
	             : 1;
out:
	log_init("fleetrun", level);
	report_html_free(&r.html);
	summary_free(&r.sum);
	journal_index_free(&r.idx);
	buf_free(&r.runs.resume);
	return rc;
}
