/* journal_out: opening, claiming, writing and syncing the journal; see
 * journal_out.h. */
#include "journal_out.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "journal.h"
#include "log.h"

void journal_out_init(struct journal_out *j)
{
	memset(j, 0, sizeof(*j));
	j->fd = -1;
}

/* Where the torn last line starts: just past the last newline. */
static int journal_out_torn_start(int fd, off_t size, off_t *end)
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

/* A journal about to be appended to (fd open for writing): take its lock,
 * or fail naming the file when another run holds it; then cut a torn last
 * line (a record the previous run was killed while writing) so the next
 * record starts on a line of its own. 0, or -1 with err. */
static int journal_out_claim(int fd, const char *path, struct err *err)
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
	/* before anything is cut or appended: -o on the wrong file must
	 * leave it as it was */
	if (journal_check_head(fd, path, err) < 0)
		return -1;
	if (pread(fd, &last, 1, sb.st_size - 1) != 1) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (last == '\n')
		return 0;
	if (journal_out_torn_start(fd, sb.st_size, &end) < 0 || ftruncate(fd, end) < 0) {
		err_set(err, "%s: cannot cut its torn last line: %s", path, strerror(errno));
		return -1;
	}
	log_warn("%s: dropped a torn last line (%lld bytes: a run was stopped while writing it)", path,
	         (long long)(sb.st_size - end));
	return 0;
}

/* Open the journal -o names for appending, as journal_out_claim leaves
 * it. *out set on success. 0, or -1 with err. */
static int journal_out_open_append(const char *path, int *out, struct err *err)
{
	int fd = -1, r = -1;

	/* Never through a symbolic link: a link planted at the path would
	 * have records (and their output) appended to whatever it names.
	 * An existing journal is opened as it is; a new one is created
	 * 0600, exclusively, so a link or file that appears in between is
	 * refused, not written through. Read too: journal_out_claim reads
	 * its first and last lines. */
	for (int tries = 0; tries < 3 && fd < 0; tries++) {
		fd = open(path, O_RDWR | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == EACCES)
			fd = open(path, O_WRONLY | O_APPEND | O_NOFOLLOW | O_CLOEXEC);
		if (fd < 0 && errno == ENOENT)
			fd = open(path, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
		if (fd < 0 && errno != EEXIST)
			break;
	}
	if (fd < 0) {
		if (errno == ELOOP)
			err_set(err, "%s: is a symbolic link; a journal is written only to the file named (give -o "
			        "the file the link points to)",
			        path);
		else
			err_set(err, "%s: cannot open for writing: %s", path, strerror(errno));
		goto out;
	}
	if (journal_out_claim(fd, path, err) < 0)
		goto out;
	*out = fd;
	fd = -1;
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

int journal_out_open(struct journal_out *j, const char *path, struct err *err)
{
	struct stat sb;

	journal_out_init(j);
	j->last_sync_ms = clock_mono_ms();
	if (journal_out_open_append(path, &j->fd, err) < 0)
		return -1;
	j->path = xstrdup(path);
	/* Only a regular file can be synced; -o /dev/null or a pipe is
	 * written and never synced. */
	j->syncable = fstat(j->fd, &sb) == 0 && S_ISREG(sb.st_mode);
	return 0;
}

void journal_out_put(struct journal_out *j, const char *json, size_t n)
{
	if (j->fd < 0)
		return;
	buf_append(&j->buf, json, n);
	buf_putc(&j->buf, '\n');
}

size_t journal_out_buffered(const struct journal_out *j)
{
	return j->buf.len;
}

int journal_out_flush(struct journal_out *j, int64_t now_ms, bool force, bool *io_error)
{
	if (j->fd < 0)
		return 0;
	if (j->failed) {
		/* said once; what comes after a failed write cannot be trusted
		 * to land in order */
		buf_reset(&j->buf);
		return -1;
	}
	if (j->buf.len) {
		if (fd_write_all(j->fd, j->buf.data, j->buf.len) < 0) {
			log_error("%s: %s", j->path, strerror(errno));
			buf_reset(&j->buf);
			*io_error = j->failed = true;
			return -1;
		}
		buf_reset(&j->buf);
		j->dirty = true;
	}
	if (j->dirty && !j->syncable)
		j->dirty = false;
	if (j->dirty && (force || now_ms - j->last_sync_ms >= JOURNAL_OUT_SYNC_MS)) {
		if (fdatasync(j->fd) < 0) {
			log_error("%s: fdatasync: %s", j->path, strerror(errno));
			*io_error = j->failed = true;
			return -1;
		}
		j->dirty = false;
		j->last_sync_ms = now_ms;
	}
	return 0;
}

int64_t journal_out_next_sync(const struct journal_out *j)
{
	return j->dirty && j->syncable ? j->last_sync_ms + JOURNAL_OUT_SYNC_MS : 0;
}

void journal_out_close(struct journal_out *j)
{
	if (j->fd >= 0)
		close(j->fd);
	free(j->path);
	buf_free(&j->buf);
	journal_out_init(j);
}
