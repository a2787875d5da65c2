/* transcript: per-host session files (see transcript.h). */
#include "transcript.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"
#include "outdir.h"
#include "termtext.h"

void transcript_init(struct transcript *t)
{
	memset(t, 0, sizeof(*t));
	t->dirfd = -1;
}

int transcript_open(struct transcript *t, const char *dir, struct err *err)
{
	transcript_init(t);
	if ((t->dirfd = outdir_open_dir("--transcript", dir, err)) < 0)
		return -1;
	t->path = xstrdup(dir);
	return 0;
}

static void transcript_fail(struct transcript *t, const char *what)
{
	if (!t->warned)
		log_error("--transcript %s: %s: %s (further errors not shown)", t->path, what, strerror(errno));
	t->warned = true;
}

void transcript_put(struct transcript *t, const char *host, enum status st, const struct proto_result *res)
{
	struct buf name = BUF_INIT;
	struct buf *b = &t->scratch;
	int fd = -1;

	if (t->dirfd < 0)
		return;
	outdir_host_name(&name, host);
	buf_reset(b);
	if (res && (res->has & PROTO_RESULT_TRANSCRIPT)) {
		/* the worker escaped it; again here, so that a worker gone
		 * wrong cannot put raw bytes on the terminal of whoever cats
		 * the file (escaped text is left as it is) */
		termtext_append(b, res->transcript.p, res->transcript.n, TERMTEXT_KEEP_NL);
	} else {
		buf_puts(b, "# fleetrun transcript of ");
		termtext_puts(b, host, 0);
		buf_printf(b, "\n# none: %s, and the worker sent no transcript (it was killed at the deadline, "
		           "crashed, or the run was interrupted)\n",
		           status_name(st));
	}
	fd = outdir_create(t->dirfd, name.data);
	if (fd < 0) {
		transcript_fail(t, name.data);
		goto out;
	}
	if (fd_write_all(fd, b->data, b->len) < 0)
		transcript_fail(t, name.data);
out:
	if (fd >= 0)
		close(fd);
	buf_free(&name);
}

void transcript_close(struct transcript *t)
{
	if (t->dirfd >= 0)
		close(t->dirfd);
	free(t->path);
	buf_free(&t->scratch);
	transcript_init(t);
}
