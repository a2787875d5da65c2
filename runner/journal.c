/* journal: reading journals back, task ids as hex, and whether a file is
 * a journal. Writing one is journal_out.c's. */
#include "journal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yajl/yajl_parse.h>

#include "hashidx.h"
#include "log.h"
#include "proto.h"
#include "task.h"

void journal_task_hex(uint64_t id, char out[17])
{
	snprintf(out, 17, "%016llx", (unsigned long long)id);
}

static int journal_hex_parse(const char *s, uint64_t *out)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; s[i]; i++) {
		int c = s[i], d;
		if (c >= '0' && c <= '9')
			d = c - '0';
		else if (c >= 'a' && c <= 'f')
			d = c - 'a' + 10;
		else
			return -1;
		v = v << 4 | (uint64_t)d;
	}
	if (i != 16)
		return -1;
	*out = v;
	return 0;
}

const char *journal_get_str(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_string);
	return v ? YAJL_GET_STRING(v) : NULL;
}

int64_t journal_get_int(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	yajl_val v = yajl_tree_get(obj, path, yajl_t_number);
	return v && YAJL_IS_INTEGER(v) ? YAJL_GET_INTEGER(v) : 0;
}

int journal_time_ms(const char *iso, int64_t *out)
{
	struct tm tm;
	const char *rest;
	int64_t ms = 0, scale = 100;

	memset(&tm, 0, sizeof(tm));
	rest = iso ? strptime(iso, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;
	if (!rest)
		return -1;
	if (*rest == '.')
		for (rest++; *rest >= '0' && *rest <= '9'; rest++, scale /= 10)
			ms += (*rest - '0') * scale;
	if (rest[0] != 'Z' || rest[1] != '\0')
		return -1;
	/* years of four digits only: a journal is data, and a year of
	 * 2^31 would overflow the milliseconds */
	if (tm.tm_year < 1 - 1900 || tm.tm_year > 9999 - 1900)
		return -1;
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
}

int64_t journal_get_duration_ms(yajl_val obj, const char *key)
{
	int64_t v = journal_get_int(obj, key);

	return v < 0 ? 0 : v > JOURNAL_MAX_DURATION_MS ? JOURNAL_MAX_DURATION_MS : v;
}

int journal_nesting(const char *p, size_t n)
{
	int depth = 0, max = 0;
	bool in_string = false;

	for (size_t i = 0; i < n; i++) {
		char c = p[i];
		if (in_string) {
			if (c == '\\')
				i++;
			else if (c == '"')
				in_string = false;
		} else if (c == '"') {
			in_string = true;
		} else if (c == '[' || c == '{') {
			if (++depth > max)
				max = depth;
			if (max > JOURNAL_MAX_DEPTH)
				return max;
		} else if ((c == ']' || c == '}') && depth > 0) {
			depth--;
		}
	}
	return max;
}

/* Fill e from its parsed line. -1 with a reason when it is not a record. */
static int journal_entry_fill(struct journal_entry *e, const char **why)
{
	const char *ipath[] = {"interrupted", NULL};
	const char *st, *task;
	int s;

	if (!YAJL_IS_OBJECT(e->root)) {
		*why = "expected a JSON object";
		return -1;
	}
	e->host = journal_get_str(e->root, "host");
	e->job = journal_get_str(e->root, "job");
	st = journal_get_str(e->root, "status");
	if (!e->host || !e->job || !st) {
		*why = "expected a record with host, job and status";
		return -1;
	}
	if ((s = status_parse(st, strlen(st))) < 0) {
		*why = "expected a known status";
		return -1;
	}
	e->status = (enum status)s;
	task = journal_get_str(e->root, "task");
	if (!task || journal_hex_parse(task, &e->task) < 0)
		e->task = task_key(e->job, e->host);
	e->attempt = journal_get_int(e->root, "attempt");
	e->final = !YAJL_IS_TRUE(yajl_tree_get(e->root, ipath, yajl_t_true));
	return 0;
}

/* A run's start or end line (journal_run.h): "run" and no host. */
static bool journal_is_run_line(yajl_val root)
{
	return YAJL_IS_OBJECT(root) && journal_get_str(root, "run") && !journal_get_str(root, "host");
}

int journal_read(const char *path, journal_fn fn, void *ctx, struct err *err)
{
	return journal_read_all(path, fn, NULL, ctx, err);
}

int journal_read_all(const char *path, journal_fn fn, journal_run_fn run_fn, void *ctx, struct err *err)
{
	FILE *f = fopen(path, "re");
	char *line = NULL, perr[256];
	size_t cap = 0;
	ssize_t n;
	unsigned long lineno = 0, skipped = 0;
	int r = 0;

	if (!f) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	while ((n = getline(&line, &cap, f)) > 0) {
		struct journal_entry e = {.path = path, .lineno = ++lineno, .line = line};
		const char *why = NULL;

		if (line[n - 1] != '\n') {
			/* the supervisor was killed while writing it */
			log_info("%s:%lu: ignored the last line: it was cut short (no newline)", path, lineno);
			break;
		}
		line[--n] = '\0';
		e.len = (size_t)n;
		if (n == 0)
			continue;
		/* yajl parses any depth but frees its tree by recursion: a
		 * line nested 100,000 deep would overflow the stack. No record
		 * is deeper than the worker's message it came from. */
		if (journal_nesting(line, (size_t)n) > JOURNAL_MAX_DEPTH)
			why = "nested deeper than a record can be";
		else if (!(e.root = yajl_tree_parse(line, perr, sizeof(perr))))
			why = "expected one JSON object per line";
		else if (journal_is_run_line(e.root)) {
			r = run_fn ? run_fn(e.root, e.lineno, ctx) : 0;
			yajl_tree_free(e.root);
			if (r)
				break;
			continue;
		} else
			journal_entry_fill(&e, &why);
		if (why) {
			if (skipped++ < 5)
				log_warn("%s:%lu: not a result record (%s); skipped", path, lineno, why);
			yajl_tree_free(e.root);
			continue;
		}
		r = fn(&e, ctx);
		yajl_tree_free(e.root);
		if (r)
			break;
	}
	if (!r && ferror(f)) {
		err_set(err, "%s: read error: %s", path, strerror(errno));
		r = -1;
	}
	if (skipped > 5)
		log_warn("%s: %lu lines in all were not result records", path, skipped);
	free(line);
	fclose(f);
	return r;
}

/* ---- the record that counts, and the index of them ---- */

bool journal_record_replaces(bool final, bool held_final)
{
	return final || !held_final;
}

struct journal_load {
	struct journal_index *idx;
	const char *job;
};

static int journal_index_add(const struct journal_entry *e, void *ctx)
{
	struct journal_load *l = ctx;
	struct journal_index *idx = l->idx;
	struct journal_last *last;
	size_t pos;

	if (!idx->job)
		idx->job = xstrdup(e->job);
	else if (strcmp(idx->job, e->job) != 0)
		idx->mixed_jobs = true;
	if (l->job && strcmp(l->job, e->job) != 0)
		return 0;
	pos = hashidx_insert(&idx->map, e->task, NULL, NULL, NULL, idx->len);
	if (pos == idx->len) {
		if (idx->len == idx->cap) {
			idx->cap = idx->cap ? idx->cap * 2 : 64;
			idx->last = xreallocarray(idx->last, idx->cap, sizeof(*idx->last));
		}
		last = &idx->last[idx->len++];
		memset(last, 0, sizeof(*last));
		last->task = e->task;
		last->host = xstrdup(e->host);
	} else {
		last = &idx->last[pos];
		if (!journal_record_replaces(e->final, last->final))
			return 0;
	}
	last->status = e->status;
	last->final = e->final;
	last->line = e->lineno;
	return 0;
}

int journal_index_load(struct journal_index *idx, const char *path, const char *job, struct err *err)
{
	struct journal_load l = {idx, job};

	return journal_read(path, journal_index_add, &l, err) < 0 ? -1 : 0;
}

const struct journal_last *journal_index_get(const struct journal_index *idx, uint64_t task)
{
	size_t pos = hashidx_get(&idx->map, task, NULL, NULL, NULL);

	return pos == HASHIDX_EMPTY ? NULL : &idx->last[pos];
}

void journal_index_free(struct journal_index *idx)
{
	for (size_t i = 0; i < idx->len; i++)
		free(idx->last[i].host);
	free(idx->last);
	hashidx_free(&idx->map);
	free(idx->job);
	memset(idx, 0, sizeof(*idx));
}

/* ---- is this file a journal? ---- */

/* What the first record of a file has shown so far, from yajl's
 * streaming parser: a line is not read into memory whole, so a binary
 * file without a newline costs a few reads, not its size. */
enum journal_head_key { HEAD_OTHER, HEAD_HOST, HEAD_JOB, HEAD_STATUS, HEAD_RUN };

struct journal_head {
	int depth;
	enum journal_head_key key; /* the member whose value comes next, at depth 1 */
	unsigned seen;             /* 1 << key for host, job, status strings */
	bool bad;                  /* not the start of a record */
	bool done;                 /* the object closed, or all three seen */
};

#define HEAD_ALL (1u << HEAD_HOST | 1u << HEAD_JOB | 1u << HEAD_STATUS)
/* or a run's start line (journal_run.h): "run": "start" and its job */
#define HEAD_RUN_START (1u << HEAD_RUN | 1u << HEAD_JOB)

/* A scalar: a member's value at depth 1, else inside one. 0 stops. */
static int head_scalar(struct journal_head *h, bool is_string, const unsigned char *p, size_t n)
{
	if (h->depth == 0) {
		h->bad = true; /* a JSON value, not an object */
		return 0;
	}
	if (h->depth == 1 && is_string && h->key != HEAD_OTHER &&
	    (h->key != HEAD_STATUS || status_parse((const char *)p, n) >= 0) &&
	    (h->key != HEAD_RUN || (n == 5 && !memcmp(p, "start", 5))))
		h->seen |= 1u << h->key;
	if (h->seen == HEAD_ALL || h->seen == HEAD_RUN_START) {
		h->done = true;
		return 0;
	}
	return 1;
}

static int head_null(void *ctx)
{
	return head_scalar(ctx, false, NULL, 0);
}

static int head_bool(void *ctx, int v)
{
	(void)v;
	return head_scalar(ctx, false, NULL, 0);
}

static int head_number(void *ctx, const char *p, size_t n)
{
	(void)p;
	(void)n;
	return head_scalar(ctx, false, NULL, 0);
}

static int head_string(void *ctx, const unsigned char *p, size_t n)
{
	return head_scalar(ctx, true, p, n);
}

static int head_open(struct journal_head *h, bool map)
{
	if (h->depth == 0 && !map) {
		h->bad = true;
		return 0;
	}
	if (++h->depth > JOURNAL_MAX_DEPTH) {
		h->bad = true;
		return 0;
	}
	return 1;
}

static int head_start_map(void *ctx)
{
	return head_open(ctx, true);
}

static int head_start_array(void *ctx)
{
	return head_open(ctx, false);
}

static int head_close(void *ctx)
{
	struct journal_head *h = ctx;

	if (--h->depth == 0) {
		h->done = true;
		return 0;
	}
	return 1;
}

static int head_key(void *ctx, const unsigned char *p, size_t n)
{
	struct journal_head *h = ctx;

	if (h->depth == 1)
		h->key = n == 4 && !memcmp(p, "host", 4)     ? HEAD_HOST
		         : n == 3 && !memcmp(p, "job", 3)    ? HEAD_JOB
		         : n == 6 && !memcmp(p, "status", 6) ? HEAD_STATUS
		         : n == 3 && !memcmp(p, "run", 3)    ? HEAD_RUN
		                                             : HEAD_OTHER;
	return 1;
}

static const yajl_callbacks head_callbacks = {
	.yajl_null = head_null,
	.yajl_boolean = head_bool,
	.yajl_number = head_number,
	.yajl_string = head_string,
	.yajl_start_map = head_start_map,
	.yajl_map_key = head_key,
	.yajl_end_map = head_close,
	.yajl_start_array = head_start_array,
	.yajl_end_array = head_close,
};

int journal_check_head(int fd, const char *path, struct err *err)
{
	struct journal_head h = {0};
	yajl_handle y = yajl_alloc(&head_callbacks, NULL, &h);
	unsigned char chunk[4096];
	off_t pos = 0;
	bool started = false, line_end = false;
	int r = -1;

	if (!y)
		abort();
	/* the first line that is not blank, up to its newline or the end */
	while (!h.done && !h.bad && !line_end) {
		ssize_t n = pread(fd, chunk, sizeof(chunk), pos);
		size_t from = 0, len;
		unsigned char *nl;

		if (n < 0) {
			err_set(err, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		pos += n;
		if (!started) {
			while (from < (size_t)n && (chunk[from] == '\n' || chunk[from] == ' ' || chunk[from] == '\t' ||
			                            chunk[from] == '\r'))
				from++;
			started = from < (size_t)n;
		}
		len = (size_t)n - from;
		if ((nl = memchr(chunk + from, '\n', len))) {
			len = (size_t)(nl - (chunk + from));
			line_end = true;
		}
		if (len && yajl_parse(y, chunk + from, len) == yajl_status_error)
			h.bad = !h.done;
	}
	if (!h.bad && !h.done && line_end && yajl_complete_parse(y) == yajl_status_error)
		h.bad = true;
	/* A record, or a torn first line (no newline yet) that so far reads
	 * as one: the journal of a run killed while writing its first
	 * record, which journal_out_open then cuts. A whole line that is not a
	 * record is another file. */
	if (h.bad || (h.done && h.seen != HEAD_ALL && h.seen != HEAD_RUN_START) || (!h.done && line_end)) {
		err_set(err, "%s: not a fleetrun journal (its first line is neither a run's start line nor a "
		        "result record with host, job and status); left as it is: give -o a journal or a new file",
		        path);
		goto out;
	}
	r = 0;
out:
	yajl_free(y);
	return r;
}

int journal_check_path(const char *path, struct err *err)
{
	struct stat sb;
	int fd, r = -1;

	fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT)
		return 0;
	if (fd < 0 && errno == ELOOP) {
		err_set(err, "%s: is a symbolic link; a journal is written only to the file named (give -o the file "
		        "the link points to)",
		        path);
		return -1;
	}
	if (fd < 0)
		return 0; /* unreadable: journal_out_open says why, if it must */
	if (fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) && sb.st_size > 0)
		r = journal_check_head(fd, path, err);
	else
		r = 0;
	close(fd);
	return r;
}
