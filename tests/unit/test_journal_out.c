/* Unit tests for runner/journal_out.c (writing the journal: opened
 * without following a link, claimed by one run at a time with a torn last
 * line cut, records appended in batches, fdatasync'd in groups, and a
 * journal that cannot be written said once, the rest dropped) and for the
 * sink's part of that: a failed journal stops the run (io_error). */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "journal.h"
#include "journal_out.h"
#include "log.h"
#include "record.h"
#include "sink.h"

#define REC_A "{\"host\":\"a\",\"job\":\"j\",\"status\":\"ok\"}"
#define REC_B "{\"host\":\"b\",\"job\":\"j\",\"status\":\"failed\"}"

/* A scratch directory and a path in it. */
struct scratch {
	char dir[64];
	char path[128];
};

static void scratch_make(struct scratch *s, const char *name)
{
	snprintf(s->dir, sizeof(s->dir), "/tmp/fleetrun-test-jout-XXXXXX");
	assert_non_null(mkdtemp(s->dir));
	snprintf(s->path, sizeof(s->path), "%s/%s", s->dir, name);
}

static void scratch_remove(struct scratch *s)
{
	unlink(s->path);
	rmdir(s->dir);
}

static void put_file(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

/* The file's bytes as a malloced string. */
static char *slurp(const char *path)
{
	struct buf b = BUF_INIT;
	char chunk[4096];
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	assert_true(fd >= 0);
	while ((n = read(fd, chunk, sizeof(chunk))) > 0)
		buf_append(&b, chunk, (size_t)n);
	close(fd);
	return buf_steal(&b);
}

/* stderr into a file for the length of a test: what log_* said. */
struct captured {
	int saved;
	char path[64];
};

static void capture_stderr(struct captured *c)
{
	int fd;

	snprintf(c->path, sizeof(c->path), "/tmp/fleetrun-test-jout-err-XXXXXX");
	fd = mkstemp(c->path);
	assert_true(fd >= 0);
	c->saved = dup(STDERR_FILENO);
	assert_true(c->saved >= 0);
	assert_int_equal(dup2(fd, STDERR_FILENO), STDERR_FILENO);
	close(fd);
}

/* Restore stderr; the captured text, malloced. */
static char *captured_text(struct captured *c)
{
	char *text;

	assert_int_equal(dup2(c->saved, STDERR_FILENO), STDERR_FILENO);
	close(c->saved);
	text = slurp(c->path);
	unlink(c->path);
	return text;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static void test_open_append(void **state)
{
	struct scratch s;
	char link[160], target[160];
	struct journal_out j;
	struct err err;
	struct stat sb;

	(void)state;
	scratch_make(&s, "j.jsonl");
	snprintf(link, sizeof(link), "%s/link", s.dir);
	snprintf(target, sizeof(target), "%s/target", s.dir);
	/* new: created 0600 */
	umask(0);
	assert_int_equal(journal_out_open(&j, s.path, &err), 0);
	assert_int_equal(fstat(j.fd, &sb), 0);
	assert_int_equal(sb.st_mode & 07777, 0600);
	assert_true(j.syncable);
	journal_out_close(&j);
	assert_int_equal(j.fd, -1);
	umask(022);
	/* a link, dangling or not, is refused and its target not made */
	assert_int_equal(symlink(target, link), 0);
	assert_int_equal(journal_out_open(&j, link, &err), -1);
	assert_int_equal(j.fd, -1);
	assert_non_null(strstr(err.msg, "symbolic link"));
	assert_int_equal(access(target, F_OK), -1);
	assert_int_equal(journal_check_path(link, &err), -1);
	assert_int_equal(journal_check_path(target, &err), 0); /* none yet */
	journal_out_close(&j);
	unlink(link);
	scratch_remove(&s);
}

/* One writer at a time; a torn last line cut; another file left alone. */
static void test_claim(void **state)
{
	struct scratch s;
	struct journal_out j, j2;
	struct captured c;
	struct err err;
	char *text, *said;

	(void)state;
	scratch_make(&s, "j.jsonl");
	put_file(s.path, REC_A "\n{\"host\":\"b\",\"jo");
	capture_stderr(&c);
	assert_int_equal(journal_out_open(&j, s.path, &err), 0);
	said = captured_text(&c);
	assert_non_null(strstr(said, "dropped a torn last line (15 bytes"));
	free(said);
	text = slurp(s.path);
	assert_string_equal(text, REC_A "\n");
	free(text);
	/* the lock is per open file: a second open is another run */
	assert_int_equal(journal_out_open(&j2, s.path, &err), -1);
	assert_non_null(strstr(err.msg, "another fleetrun run is writing this journal"));
	journal_out_close(&j2);
	journal_out_close(&j);
	/* released at close */
	assert_int_equal(journal_out_open(&j, s.path, &err), 0);
	journal_out_close(&j);
	/* not a journal: refused, not cut */
	put_file(s.path, "some notes\nno newline at the end");
	assert_int_equal(journal_out_open(&j, s.path, &err), -1);
	assert_non_null(strstr(err.msg, "not a fleetrun journal"));
	text = slurp(s.path);
	assert_string_equal(text, "some notes\nno newline at the end");
	free(text);
	journal_out_close(&j);
	scratch_remove(&s);
}

/* Records wait in the buffer until a flush, and land one per line after
 * what the journal held. */
static void test_append(void **state)
{
	struct scratch s;
	struct journal_out j;
	struct err err;
	bool io_error = false;
	char *text;
	int64_t t;

	(void)state;
	scratch_make(&s, "j.jsonl");
	put_file(s.path, REC_A "\n");
	assert_int_equal(journal_out_open(&j, s.path, &err), 0);
	t = j.last_sync_ms;
	journal_out_put(&j, REC_B, strlen(REC_B));
	journal_out_put(&j, REC_A, strlen(REC_A));
	assert_int_equal(journal_out_buffered(&j), strlen(REC_B) + strlen(REC_A) + 2);
	text = slurp(s.path);
	assert_string_equal(text, REC_A "\n");
	free(text);
	assert_int_equal(journal_out_flush(&j, t + 1, false, &io_error), 0);
	assert_int_equal(journal_out_buffered(&j), 0);
	text = slurp(s.path);
	assert_string_equal(text, REC_A "\n" REC_B "\n" REC_A "\n");
	free(text);
	assert_false(io_error);
	journal_out_close(&j);
	scratch_remove(&s);
}

/* fdatasync in groups: written bytes wait for a sync until
 * JOURNAL_OUT_SYNC_MS passed since the last one, or a forced flush. */
static void test_group_sync(void **state)
{
	struct scratch s;
	struct journal_out j;
	struct err err;
	bool io_error = false;
	int64_t t0;

	(void)state;
	scratch_make(&s, "j.jsonl");
	assert_int_equal(journal_out_open(&j, s.path, &err), 0);
	t0 = j.last_sync_ms;
	assert_int_equal(journal_out_next_sync(&j), 0); /* nothing written */
	journal_out_put(&j, REC_A, strlen(REC_A));
	assert_int_equal(journal_out_flush(&j, t0 + 10, false, &io_error), 0);
	assert_true(j.dirty); /* written, not synced yet */
	assert_true(journal_out_next_sync(&j) == t0 + JOURNAL_OUT_SYNC_MS);
	journal_out_put(&j, REC_B, strlen(REC_B));
	assert_int_equal(journal_out_flush(&j, t0 + JOURNAL_OUT_SYNC_MS - 1, false, &io_error), 0);
	assert_true(j.dirty);
	assert_true(j.last_sync_ms == t0);
	/* the interval passed: one sync for both records */
	assert_int_equal(journal_out_flush(&j, t0 + JOURNAL_OUT_SYNC_MS, false, &io_error), 0);
	assert_false(j.dirty);
	assert_true(j.last_sync_ms == t0 + JOURNAL_OUT_SYNC_MS);
	assert_int_equal(journal_out_next_sync(&j), 0);
	/* forced (the end of a run): synced at once */
	journal_out_put(&j, REC_A, strlen(REC_A));
	assert_int_equal(journal_out_flush(&j, t0 + JOURNAL_OUT_SYNC_MS + 1, true, &io_error), 0);
	assert_false(j.dirty);
	assert_true(j.last_sync_ms == t0 + JOURNAL_OUT_SYNC_MS + 1);
	assert_false(io_error);
	journal_out_close(&j);
	scratch_remove(&s);
}

/* Not open (no -o): puts are dropped, flushes succeed. */
static void test_not_open(void **state)
{
	struct journal_out j;
	bool io_error = false;

	(void)state;
	journal_out_init(&j);
	journal_out_put(&j, REC_A, strlen(REC_A));
	assert_int_equal(journal_out_buffered(&j), 0);
	assert_int_equal(journal_out_flush(&j, 1, true, &io_error), 0);
	assert_int_equal(journal_out_next_sync(&j), 0);
	assert_false(io_error);
	journal_out_close(&j);
}

/* A device that is always full (ENOSPC on every write; not a regular
 * file, so never synced): the first failed write is said, later ones
 * are not, and what comes after is dropped. */
static void test_failed_said_once(void **state)
{
	struct journal_out j;
	struct captured c;
	struct err err;
	bool io_error = false;
	char *said;

	(void)state;
	if (access("/dev/full", W_OK) < 0)
		skip();
	assert_int_equal(journal_out_open(&j, "/dev/full", &err), 0);
	assert_false(j.syncable);
	capture_stderr(&c);
	journal_out_put(&j, REC_A, strlen(REC_A));
	assert_int_equal(journal_out_flush(&j, 1, false, &io_error), -1);
	assert_true(io_error);
	assert_true(j.failed);
	assert_int_equal(journal_out_buffered(&j), 0);
	for (int i = 0; i < 3; i++) {
		journal_out_put(&j, REC_B, strlen(REC_B));
		assert_int_equal(journal_out_flush(&j, 2 + i, i == 2, &io_error), -1);
		assert_int_equal(journal_out_buffered(&j), 0);
	}
	said = captured_text(&c);
	assert_int_equal(count_lines(said), 1);
	assert_non_null(strstr(said, "/dev/full: "));
	assert_non_null(strstr(said, strerror(ENOSPC)));
	free(said);
	journal_out_close(&j);
}

/* The same through the sink: a failed journal sets io_error (the run
 * stops on it, exit 3), is said once, and sink_finish fails too. */
static void test_sink_journal_failed(void **state)
{
	struct sink k;
	struct record r;
	struct record_info ri = {.host = "a", .job = "j", .started_wall_ms = 1, .duration_ms = 1};
	struct captured c;
	struct err err;
	char *said;

	(void)state;
	if (access("/dev/full", W_OK) < 0)
		skip();
	record_init(&r);
	assert_int_equal(sink_open(&k, "/dev/full", STDOUT_OUT_JSONL, true, true, 4, &err), 0);
	capture_stderr(&c);
	record_make(&r, &ri, STATUS_FAILED, "boom");
	sink_put(&k, 0, "a", &r, NULL);
	assert_false(k.io_error); /* buffered, not written yet */
	assert_int_equal(sink_flush(&k, 1, false), -1);
	assert_true(k.io_error);
	sink_put(&k, 2, "c", &r, NULL); /* held: 1 never finishes */
	sink_put(&k, 3, "d", &r, NULL);
	assert_int_equal(sink_finish(&k, NULL, 0), -1);
	said = captured_text(&c);
	assert_int_equal(count_lines(said), 1);
	assert_non_null(strstr(said, "/dev/full: "));
	free(said);
	assert_int_equal(k.sum.total, 3);
	sink_close(&k);
	record_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_append),
		cmocka_unit_test(test_claim),
		cmocka_unit_test(test_append),
		cmocka_unit_test(test_group_sync),
		cmocka_unit_test(test_not_open),
		cmocka_unit_test(test_failed_said_once),
		cmocka_unit_test(test_sink_journal_failed),
	};

	log_init("test_journal_out", LOG_WARN);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
