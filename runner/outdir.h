/* outdir: --outdir DIR, one file per host and step, as `pssh -o` writes
 * them, for grep and diff:
 *
 *   DIR/HOST/01-show_version.out   the step's stdout (or HTTP body), raw bytes
 *   DIR/HOST/01-show_version.err   its stderr (steps that have one)
 *   DIR/ok.txt, DIR/failed.txt     this run's hosts, one per line, by
 *                                  outcome (failed.txt: every status but ok),
 *                                  to feed back with -i
 *
 * Files are written as each host finishes, so a run cut short still leaves
 * what it did. Directories are 0700 and files 0600: outputs may be
 * sensitive. Nothing is written through a symbolic link (DIR included)
 * or into a file that was there: files are unlinked and created anew
 * with O_EXCL. Host names map one to one to directory names
 * (outdir_host_name); step names are made safe, and numbered. */
#ifndef FLEETRUN_OUTDIR_H
#define FLEETRUN_OUTDIR_H

#include "buf.h"
#include "proto.h"
#include "status.h"
#include "util.h"

struct outdir {
	int dirfd;          /* -1 when not in use */
	int ok_fd, failed_fd;
	char *path;         /* malloced, for messages */
	struct buf scratch;
	bool warned;        /* a write failed; said once */
};

/* An outdir not open, safe to outdir_close. */
void outdir_init(struct outdir *d);
/* Create DIR (and parents) if needed; ok.txt and failed.txt afresh.
 * 0, or -1 with err. */
int outdir_open(struct outdir *d, const char *dir, struct err *err);
/* One host's outcome; res NULL for a record the supervisor made. */
void outdir_put(struct outdir *d, const char *host, enum status st, const struct proto_result *res);
void outdir_close(struct outdir *d);
/* HOST's directory name under DIR, appended to b: one to one, one path
 * component, never '.', '..', ok.txt or failed.txt. */
void outdir_host_name(struct buf *b, const char *host);
/* DIR (option's: "--outdir") created if needed (and its parents, 0700)
 * and opened, never through a symbolic link: the fd, or -1 with err.
 * runner/transcript.c's directory too. */
int outdir_open_dir(const char *option, const char *dir, struct err *err);
/* DIR/NAME afresh: whatever was at NAME (a file of an earlier run, or a
 * link or hard link planted there) is unlinked, not written through, and
 * the new file is created 0600 with O_EXCL, never following a link. The
 * fd, or -1 with errno. */
int outdir_create(int dirfd, const char *name);

#endif
