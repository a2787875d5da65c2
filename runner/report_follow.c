/* report_follow: a growing journal's records as they come; see
 * report_follow.h. */
#include "report_follow.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <string.h>
#include <sys/file.h>
#include <sys/inotify.h>
#include <unistd.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "journal.h"
#include "record.h"
#include "status.h"
#include "stdout_out.h"

/* How often the lock is asked about when nothing is written: a run that
 * ends without a last record is seen within this long. */
#define REPORT_FOLLOW_LOCK_MS 1000

/* Does a run hold the journal (journal_out's LOCK_EX)? The shared lock
 * taken to ask is given back at once, so a run starting now is not
 * refused. */
static bool report_follow_locked(int fd)
{
	if (flock(fd, LOCK_SH | LOCK_NB) < 0)
		return errno == EWOULDBLOCK;
	flock(fd, LOCK_UN);
	return false;
}

/* The first line of the last step's non-empty stdout into first, as
 * `run` shows it. */
static void report_follow_first(yajl_val root, struct buf *first)
{
	const char *spath[] = {"steps", NULL};
	yajl_val steps = yajl_tree_get(root, spath, yajl_t_array);

	for (size_t i = steps ? steps->u.array.len : 0; i-- > 0;) {
		const char *out = journal_get_str(steps->u.array.values[i], "stdout");
		if (out && *out) {
			buf_append(first, out, strcspn(out, "\r\n"));
			return;
		}
	}
}

/* One whole line: a record's text line on out; anything else (a run
 * line, a line that is not a record) passed over, as report does. */
static void report_follow_line(const char *line, const char *job, struct record *rec, struct buf *text, FILE *out)
{
	char perr[128];
	yajl_val root;
	const char *host, *st, *rjob, *error;
	int s;

	if (journal_nesting(line, strlen(line)) > JOURNAL_MAX_DEPTH ||
	    !(root = yajl_tree_parse(line, perr, sizeof(perr))))
		return;
	host = journal_get_str(root, "host");
	st = journal_get_str(root, "status");
	rjob = journal_get_str(root, "job");
	if (host && st && rjob && (s = status_parse(st, strlen(st))) >= 0 && (!job || !strcmp(job, rjob))) {
		rec->status = (enum status)s;
		buf_reset(&rec->first);
		buf_reset(&rec->error);
		report_follow_first(root, &rec->first);
		if ((error = journal_get_str(root, "error")))
			buf_puts(&rec->error, error);
		buf_putc(&rec->error, '\0');
		buf_reset(text);
		stdout_out_text_line(text, host, rec, NULL);
		fwrite(text->data, 1, text->len, out);
	}
	yajl_tree_free(root);
}

/* What was appended since *pos: each whole line printed, a torn one kept
 * in pending until its newline comes. 0, or -1 with err. */
static int report_follow_read(int fd, const char *path, off_t *pos, struct buf *pending, const char *job,
                              struct record *rec, struct buf *text, FILE *out, struct err *err)
{
	char chunk[65536];
	ssize_t n;

	while ((n = pread(fd, chunk, sizeof(chunk), *pos)) > 0) {
		size_t start = 0;
		*pos += n;
		buf_append(pending, chunk, (size_t)n);
		for (size_t i = 0; i < pending->len; i++) {
			if (pending->data[i] != '\n')
				continue;
			pending->data[i] = '\0';
			report_follow_line(pending->data + start, job, rec, text, out);
			start = i + 1;
		}
		memmove(pending->data, pending->data + start, pending->len - start);
		pending->len -= start;
	}
	if (n < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	fflush(out);
	return 0;
}

int report_follow(const char *path, const char *job, FILE *out, struct err *err)
{
	struct buf pending = BUF_INIT, text = BUF_INIT;
	struct record rec;
	off_t pos = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC), ino = -1, r = -1;
	bool locked = true;

	record_init(&rec);
	if (fd < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	ino = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ino < 0 || inotify_add_watch(ino, path, IN_MODIFY | IN_CLOSE_WRITE) < 0) {
		err_set(err, "%s: cannot watch: %s", path, strerror(errno));
		goto out;
	}
	/* ends when the run has let go and its last bytes are read: every
	 * turn reads to the end, then waits for a write or the next look at
	 * the lock */
	while (locked) {
		struct pollfd p = {.fd = ino, .events = POLLIN};
		char events[4096];

		locked = report_follow_locked(fd);
		if (report_follow_read(fd, path, &pos, &pending, job, &rec, &text, out, err) < 0)
			goto out;
		if (locked && poll(&p, 1, REPORT_FOLLOW_LOCK_MS) > 0)
			while (read(ino, events, sizeof(events)) > 0)
				;
	}
	r = 0;
out:
	if (ino >= 0)
		close(ino);
	if (fd >= 0)
		close(fd);
	record_free(&rec);
	buf_free(&pending);
	buf_free(&text);
	return r;
}
