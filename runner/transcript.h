/* transcript: --transcript DIR, the writing side. Each host's session
 * with its device (what was typed, what came back, with times; the text
 * the worker rendered with secrets masked, worker/cli_transcript.h) into
 * DIR/HOST, HOST named as --outdir names a host's directory
 * (outdir_host_name: one to one, one path component).
 *
 * Apart from outdir.c (step outputs, for grep and diff) because this is
 * for reading on a terminal, one file per host, and comes from its own
 * field of the result, which the record never holds. The supervisor
 * writes the files (workers write none, DESIGN.md) as each host ends;
 * the text goes through termtext once more on the way, so a file is safe
 * to cat whatever a worker sent. Files 0600 created afresh (O_EXCL,
 * O_NOFOLLOW), DIR 0700 and never a symbolic link, as for --outdir. */
#ifndef FLEETRUN_TRANSCRIPT_H
#define FLEETRUN_TRANSCRIPT_H

#include <stdbool.h>

#include "buf.h"
#include "proto.h"
#include "status.h"
#include "util.h"

struct transcript {
	int dirfd;          /* -1 when not in use */
	char *path;         /* malloced, for messages */
	struct buf scratch;
	bool warned;        /* a write failed; said once */
};

/* Not open, safe to transcript_close. */
void transcript_init(struct transcript *t);
/* Create DIR (and parents) if needed. 0, or -1 with err. */
int transcript_open(struct transcript *t, const char *dir, struct err *err);
/* HOST's file: the result's transcript, or (res NULL or without one: the
 * supervisor made the record) a line saying why there is none. */
void transcript_put(struct transcript *t, const char *host, enum status st, const struct proto_result *res);
void transcript_close(struct transcript *t);

#endif
