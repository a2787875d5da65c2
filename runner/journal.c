/* journal: reading journals back, task ids, and the writer's guards. */
#include "journal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "log.h"

uint64_t journal_task_id(const char *job, const char *host)
{
	uint64_t h = 0xcbf29ce484222325ULL;

	for (const unsigned char *p = (const unsigned char *)job; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	/* a separator no name holds, so ("ab","c") and ("a","bc") differ */
	h = (h ^ 0xffu) * 0x100000001b3ULL;
	for (const unsigned char *p = (const unsigned char *)host; *p; p++)
		h = (h ^ *p) * 0x100000001b3ULL;
	return h;
}

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
	*out = (int64_t)timegm(&tm) * 1000 + ms;
	return 0;
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
		e->task = journal_task_id(e->job, e->host);
	e->attempt = journal_get_int(e->root, "attempt");
	e->final = !YAJL_IS_TRUE(yajl_tree_get(e->root, ipath, yajl_t_true));
	return 0;
}

int journal_read(const char *path, journal_fn fn, void *ctx, struct err *err)
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
		e.root = yajl_tree_parse(line, perr, sizeof(perr));
		if (!e.root)
			why = "expected one JSON object per line";
		else
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

/* ---- the index of last records ---- */

static size_t journal_index_find(const struct journal_index *idx, uint64_t task)
{
	size_t mask = idx->cap - 1, i = (size_t)(task ^ task >> 29) & mask;

	while (idx->slots[i].host && idx->slots[i].task != task)
		i = (i + 1) & mask;
	return i;
}

static void journal_index_grow(struct journal_index *idx)
{
	struct journal_index bigger = *idx;

	bigger.cap = idx->cap ? idx->cap * 2 : 1024;
	bigger.slots = xcalloc(bigger.cap, sizeof(*bigger.slots));
	for (size_t i = 0; i < idx->cap; i++)
		if (idx->slots[i].host)
			bigger.slots[journal_index_find(&bigger, idx->slots[i].task)] = idx->slots[i];
	free(idx->slots);
	*idx = bigger;
}

struct journal_load {
	struct journal_index *idx;
	const char *job;
};

static int journal_index_add(const struct journal_entry *e, void *ctx)
{
	struct journal_load *l = ctx;
	struct journal_index *idx = l->idx;
	struct journal_last *slot;

	if (!idx->job)
		idx->job = xstrdup(e->job);
	else if (strcmp(idx->job, e->job) != 0)
		idx->mixed_jobs = true;
	if (l->job && strcmp(l->job, e->job) != 0)
		return 0;
	if ((idx->len + 1) * 4 > idx->cap * 3)
		journal_index_grow(idx);
	slot = &idx->slots[journal_index_find(idx, e->task)];
	if (!slot->host) {
		slot->task = e->task;
		slot->host = xstrdup(e->host);
		slot->seen = idx->len++;
		slot->status = e->status;
	}
	if (e->final) {
		slot->status = e->status;
		slot->final = true;
	}
	return 0;
}

int journal_index_load(struct journal_index *idx, const char *path, const char *job, struct err *err)
{
	struct journal_load l = {idx, job};

	if (!idx->cap)
		journal_index_grow(idx);
	return journal_read(path, journal_index_add, &l, err) < 0 ? -1 : 0;
}

const struct journal_last *journal_index_get(const struct journal_index *idx, uint64_t task)
{
	const struct journal_last *l;

	if (!idx->cap)
		return NULL;
	l = &idx->slots[journal_index_find(idx, task)];
	return l->host ? l : NULL;
}

const struct journal_last **journal_index_sorted(const struct journal_index *idx)
{
	const struct journal_last **v = xcalloc(idx->len + 1, sizeof(*v));

	for (size_t i = 0; i < idx->cap; i++)
		if (idx->slots[i].host)
			v[idx->slots[i].seen] = &idx->slots[i];
	return v;
}

void journal_index_free(struct journal_index *idx)
{
	for (size_t i = 0; i < idx->cap; i++)
		free(idx->slots[i].host);
	free(idx->slots);
	free(idx->job);
	memset(idx, 0, sizeof(*idx));
}

/* ---- the writer's guards ---- */

/* Where the torn last line starts: just past the last newline. */
static int journal_last_newline_end(int fd, off_t size, off_t *end)
{
	char chunk[4096];
	off_t pos = size;

	while (pos > 0) {
		size_t want = pos > (off_t)sizeof(chunk) ? sizeof(chunk) : (size_t)pos;
		ssize_t n;
		pos -= (off_t)want;
		n = pread(fd, chunk, want, pos);
		if (n != (ssize_t)want)
			return -1;
		for (size_t i = want; i-- > 0;) {
			if (chunk[i] == '\n') {
				*end = pos + (off_t)i + 1;
				return 0;
			}
		}
	}
	*end = 0;
	return 0;
}

int journal_claim(int fd, const char *path, struct err *err)
{
	struct stat sb;
	char last;
	off_t end;

	/* -o /dev/null or a pipe: nothing to guard (and a second run
	 * writing to /dev/null is no conflict) */
	if (fstat(fd, &sb) < 0 || !S_ISREG(sb.st_mode))
		return 0;
	if (flock(fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			err_set(err, "%s: another fleetrun run is writing this journal; give this run another -o file",
			        path);
		else
			err_set(err, "%s: cannot lock: %s", path, strerror(errno));
		return -1;
	}
	if (sb.st_size == 0)
		return 0;
	if (pread(fd, &last, 1, sb.st_size - 1) != 1) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (last == '\n')
		return 0;
	if (journal_last_newline_end(fd, sb.st_size, &end) < 0 || ftruncate(fd, end) < 0) {
		err_set(err, "%s: cannot cut its torn last line: %s", path, strerror(errno));
		return -1;
	}
	log_warn("%s: dropped a torn last line (%lld bytes: a run was stopped while writing it)", path,
	         (long long)(sb.st_size - end));
	return 0;
}
