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
 * sensitive. Host and step names become path components only after
 * anything that could leave DIR ('/', a leading '.') is replaced. */
#ifndef FLEETRUN_OUTDIR_H
#define FLEETRUN_OUTDIR_H

#include <msgpack.h>

#include "buf.h"
#include "status.h"
#include "util.h"

struct outdir {
	int dirfd;          /* -1 when not in use */
	int ok_fd, failed_fd;
	char *path;         /* malloced, for messages */
	struct buf scratch;
	bool warned;        /* a write failed; said once */
};

/* Create DIR (and parents) if needed; truncate ok.txt and failed.txt.
 * 0, or -1 with err. */
int outdir_open(struct outdir *d, const char *dir, struct err *err);
/* One host's outcome; steps NULL for a record the supervisor made. */
void outdir_put(struct outdir *d, const char *host, enum status st, const msgpack_object *steps);
void outdir_close(struct outdir *d);

#endif
