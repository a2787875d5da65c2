/* merge: one journal from several, one record per host.
 *
 * Two passes over the journals, so that memory holds a few words per host
 * and never the records themselves (a record may carry megabytes of
 * output): the first pass finds where each host's winning record is (file
 * and line), the second copies exactly those lines, byte for byte, into a
 * temporary file beside the output, which is then renamed over it. The
 * journals are held under a shared lock throughout: a run still writing
 * one holds its exclusive lock, and a merge of a journal that is still
 * growing would silently miss its last records. */
#include "merge.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "journal.h"
#include "hashidx.h"
#include "log.h"
#include "summary.h"

#define EXIT_USAGE 2
#define EXIT_CUT 3

/* Where a task's winning record stands so far. */
struct merge_rec {
	int64_t started_ms;
	unsigned long line;
	uint32_t file;
	bool final;
};

struct merge {
	const struct merge_opts *o;
	struct merge_rec *recs;   /* len of them, in order first seen; malloced, owned */
	size_t len, cap;
	struct hashidx map;       /* task -> its entry in recs */
	uint32_t file;            /* the journal being read */
	char *job;                /* the job of the records; malloced */
	uint32_t job_file;
	char *other_job;          /* a second job met, which stops the merge */
	uint32_t other_file;
	uint64_t records;
	uint64_t dups;            /* hosts with final records in two journals */
	char *dup_host;           /* the first of them; malloced */
	uint32_t dup_files[2];
	/* the second pass */
	FILE *out;
	struct summary sum;
	int64_t first_ms, last_ms;
	uint64_t not_final;
};

/* A record's start as ms since the epoch; 0 when it has none. */
static int64_t merge_started(yajl_val root)
{
	int64_t t;

	return journal_time_ms(journal_get_str(root, "started"), &t) == 0 ? t : 0;
}

/* Does e take the place of the record r holds so far? Within one journal
 * the journal's own rule (journal_record_replaces): order in the file is
 * order in time. Across journals it is not: shards run side by side, and
 * the journals are named in any order. So of two records alike (both
 * final, or both interrupted) from different journals, the one that
 * started last wins, and on a tie the journal named later; a final record
 * still beats an interrupted one wherever it is. Two final records in two
 * journals are also worth a warning: the shards overlapped. */
static bool merge_replaces(struct merge *m, const struct merge_rec *r, const struct journal_entry *e,
                           int64_t started)
{
	if (r->file == m->file || r->final != e->final)
		return journal_record_replaces(e->final, r->final);
	if (r->final && !m->dups++) {
		m->dup_host = xstrdup(e->host);
		m->dup_files[0] = r->file;
		m->dup_files[1] = m->file;
	}
	return started >= r->started_ms;
}

/* Pass 1: keep, per task, where its winning record is. */
static int merge_scan(const struct journal_entry *e, void *ctx)
{
	struct merge *m = ctx;
	struct merge_rec *r;
	size_t pos;
	int64_t started = merge_started(e->root);

	if (!m->job) {
		m->job = xstrdup(e->job);
		m->job_file = m->file;
	} else if (strcmp(m->job, e->job) != 0) {
		m->other_job = xstrdup(e->job);
		m->other_file = m->file;
		return 1;
	}
	m->records++;
	pos = hashidx_insert(&m->map, e->task, NULL, NULL, NULL, m->len);
	if (pos == m->len) {
		if (m->len == m->cap) {
			m->cap = m->cap ? m->cap * 2 : 1024;
			m->recs = xreallocarray(m->recs, m->cap, sizeof(*m->recs));
		}
		m->len++;
	} else if (!merge_replaces(m, &m->recs[pos], e, started)) {
		return 0;
	}
	r = &m->recs[pos];
	r->started_ms = started;
	r->line = e->lineno;
	r->file = m->file;
	r->final = e->final;
	return 0;
}

/* Pass 2: copy the winning records, and sum them up. */
static int merge_emit(const struct journal_entry *e, void *ctx)
{
	struct merge *m = ctx;
	size_t pos = hashidx_get(&m->map, e->task, NULL, NULL, NULL);
	int64_t started, duration;

	if (pos == HASHIDX_EMPTY || m->recs[pos].file != m->file || m->recs[pos].line != e->lineno)
		return 0;
	fwrite(e->line, 1, e->len, m->out);
	putc('\n', m->out);
	started = merge_started(e->root);
	duration = journal_get_duration_ms(e->root, "duration_ms");
	summary_add(&m->sum, e->host, e->status, journal_get_str(e->root, "error"), duration);
	if (started && (!m->first_ms || started < m->first_ms))
		m->first_ms = started;
	if (started && started + duration > m->last_ms)
		m->last_ms = started + duration;
	m->not_final += !e->final;
	return 0;
}

/* Open and share-lock every journal; fds[i] stay open (and locked) until
 * the merge ends. */
static int merge_lock_inputs(const struct merge_opts *o, int *fds)
{
	for (size_t i = 0; i < o->ninputs; i++) {
		struct stat sb;

		fds[i] = open(o->inputs[i], O_RDONLY | O_CLOEXEC);
		if (fds[i] < 0) {
			log_error("merge: %s: cannot read: %s", o->inputs[i], strerror(errno));
			return -1;
		}
		if (fstat(fds[i], &sb) == 0 && S_ISDIR(sb.st_mode)) {
			log_error("merge: %s: expected a journal file, got a directory", o->inputs[i]);
			return -1;
		}
		if (flock(fds[i], LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
			log_error("merge: %s: a fleetrun run is still writing this journal (is its shard still "
			          "running?); merge once it has ended",
			          o->inputs[i]);
			return -1;
		}
	}
	return 0;
}

/* The output must not be an input, nor a journal a run is writing, nor
 * a file that is not a journal (it is replaced), nor a symbolic link. */
static int merge_check_output(const struct merge_opts *o, const int *fds)
{
	struct stat out, in;
	struct err err;
	int fd, r = 0;

	if (lstat(o->output, &out) < 0)
		return 0; /* a new file */
	if (S_ISLNK(out.st_mode)) {
		log_error("merge: -o %s: is a symbolic link; the merged journal is written only to the file named "
		          "(give -o the file the link points to)",
		          o->output);
		return -1;
	}
	for (size_t i = 0; i < o->ninputs; i++) {
		if (fstat(fds[i], &in) == 0 && in.st_dev == out.st_dev && in.st_ino == out.st_ino) {
			log_error("merge: -o %s is also one of the journals to merge (%s); write the merged journal to "
			          "another file",
			          o->output, o->inputs[i]);
			return -1;
		}
	}
	if (!S_ISREG(out.st_mode)) {
		log_error("merge: -o %s: expected a regular file to replace", o->output);
		return -1;
	}
	fd = open(o->output, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	if (fd >= 0 && flock(fd, LOCK_SH | LOCK_NB) < 0 && errno == EWOULDBLOCK) {
		log_error("merge: -o %s: a fleetrun run is writing this journal; merge into another file", o->output);
		r = -1;
	} else if (fd >= 0 && out.st_size > 0 && journal_check_head(fd, o->output, &err) < 0) {
		/* an older merge is replaced; any other file is left alone */
		log_error("merge: -o %s", err.msg);
		r = -1;
	}
	if (fd >= 0)
		close(fd);
	return r;
}

/* Make the rename durable: sync the directory that holds path. */
static void merge_sync_dir(const char *path)
{
	char *copy = xstrdup(path);
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

/* Pass 2 into a temporary file beside the output, renamed over it when
 * every byte is on disk. */
static int merge_write(struct merge *m, struct err *err)
{
	const struct merge_opts *o = m->o;
	char *copy = xstrdup(o->output);
	char *tmp = xasprintf("%s/.%s.XXXXXX", dirname(copy), strrchr(o->output, '/') ? strrchr(o->output, '/') + 1
	                                                                                : o->output);
	int fd = mkostemp(tmp, O_CLOEXEC), r = -1;
	enum log_level level = log_level();

	if (fd < 0) {
		err_set(err, "merge: -o %s: cannot create a file beside it: %s", o->output, strerror(errno));
		goto out;
	}
	fchmod(fd, 0600);
	if (!(m->out = fdopen(fd, "w"))) {
		err_set(err, "merge: %s: %s", tmp, strerror(errno));
		close(fd);
		goto out;
	}
	/* the first pass said what it had to about these lines already */
	log_init("fleetrun", LOG_ERROR);
	for (m->file = 0; m->file < o->ninputs; m->file++) {
		if (journal_read(o->inputs[m->file], merge_emit, m, err) < 0)
			break;
	}
	log_init("fleetrun", level);
	if (m->file < o->ninputs)
		goto out;
	if (fflush(m->out) != 0 || ferror(m->out) || fsync(fileno(m->out)) < 0) {
		err_set(err, "merge: -o %s: cannot write: %s", o->output, strerror(errno));
		goto out;
	}
	if (rename(tmp, o->output) < 0) {
		err_set(err, "merge: -o %s: cannot rename %s to it: %s", o->output, tmp, strerror(errno));
		goto out;
	}
	merge_sync_dir(o->output);
	r = 0;
out:
	if (m->out) {
		fclose(m->out);
		m->out = NULL;
	}
	if (r < 0 && fd >= 0)
		unlink(tmp);
	free(tmp);
	free(copy);
	return r;
}

int merge_journals(const struct merge_opts *o)
{
	struct merge m = {.o = o};
	int *fds = xcalloc(o->ninputs ? o->ninputs : 1, sizeof(*fds));
	struct err err;
	int rc = EXIT_USAGE;

	for (size_t i = 0; i < o->ninputs; i++)
		fds[i] = -1;
	if (merge_lock_inputs(o, fds) < 0 || merge_check_output(o, fds) < 0)
		goto out;
	for (m.file = 0; m.file < o->ninputs; m.file++) {
		int r = journal_read(o->inputs[m.file], merge_scan, &m, &err);
		if (r < 0) {
			log_error("merge: %s", err.msg);
			goto out;
		}
		if (r > 0)
			break; /* a second job */
	}
	if (m.other_job) {
		log_error("merge: %s holds records of job '%s' and %s of job '%s': merge the journals of one job at a "
		          "time",
		          o->inputs[m.job_file], m.job, o->inputs[m.other_file], m.other_job);
		goto out;
	}
	if (!m.job)
		log_warn("merge: no records in the %zu journal%s; writing an empty %s", o->ninputs,
		         o->ninputs == 1 ? "" : "s", o->output);
	if (m.dups)
		log_warn("merge: %llu host%s final records in more than one journal (%s: %s and %s; were the shards "
		         "run with different counts?); kept the one that started last",
		         (unsigned long long)m.dups, m.dups == 1 ? " has" : "s have", m.dup_host,
		         o->inputs[m.dup_files[0]], o->inputs[m.dup_files[1]]);
	if (merge_write(&m, &err) < 0) {
		log_error("%s", err.msg);
		rc = EXIT_CUT;
		goto out;
	}
	if (!o->quiet) {
		struct summary_run sr = {.job = m.job ? m.job : "(no records)",
		                         .wall_ms = m.last_ms > m.first_ms ? m.last_ms - m.first_ms : 0,
		                         .interrupted = m.not_final > 0};
		summary_print(&m.sum, stderr, &sr);
		fprintf(stderr, "fleetrun: merged %zu journal%s (%llu records) into %s: %llu hosts\n", o->ninputs,
		        o->ninputs == 1 ? "" : "s", (unsigned long long)m.records, o->output,
		        (unsigned long long)m.sum.total);
		if (m.not_final)
			fprintf(stderr,
			        "  %llu hosts have no final record (their run was interrupted): run their shard again "
			        "with --resume\n",
			        (unsigned long long)m.not_final);
	}
	rc = m.sum.counts[STATUS_OK] == m.sum.total && !m.not_final ? 0 : 1;
out:
	for (size_t i = 0; i < o->ninputs; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
	free(m.recs);
	hashidx_free(&m.map);
	free(m.job);
	free(m.other_job);
	free(m.dup_host);
	summary_free(&m.sum);
	return rc;
}
