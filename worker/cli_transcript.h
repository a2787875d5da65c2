/* cli_transcript: the collecting side of --transcript. A host's whole
 * conversation with its device as it happened (what was typed into the
 * cli shell, what came back, the commands of ssh steps and their
 * output), each chunk with its time, kept in the worker while the task
 * runs and rendered once at its end into the text the supervisor writes
 * to DIR/HOST (runner/transcript.c; workers write no files).
 *
 * Apart from cli_session.c, which only calls the hooks at its send and
 * receive points, because this is bookkeeping for the operator, not the
 * conversation; and every hook takes NULL (no --transcript) and does
 * nothing, so a run without the option pays a pointer test.
 *
 * Masking is done at the end, over each direction's bytes as one stream:
 * a secret the device echoes back split over two reads is still found,
 * and a secret registered late (an enable secret read when enable runs)
 * is masked in chunks collected before. */
#ifndef FLEETRUN_CLI_TRANSCRIPT_H
#define FLEETRUN_CLI_TRANSCRIPT_H

#include <stdarg.h>
#include <stddef.h>

#include "buf.h"
#include "kv.h"

/* Bytes kept per host, and the most the rendered text may hold; past
 * either, a truncation mark says how much was left out. */
#define CLI_TRANSCRIPT_MAX (1024 * 1024)

/* What a secret is shown as in a transcript, in both directions. */
#define CLI_TRANSCRIPT_MASK "********"

enum cli_transcript_dir {
	CLI_TRANSCRIPT_SENT,     /* '>' typed into the shell, or an exec command */
	CLI_TRANSCRIPT_RECEIVED, /* '<' what came back (a PTY merges stderr) */
	CLI_TRANSCRIPT_STDERR,   /* '!' an exec channel's stderr */
	CLI_TRANSCRIPT_NOTE,     /* '#' fleetrun's own: a step begins, ends */
	CLI_TRANSCRIPT_NDIRS,
};

struct cli_transcript;

/* A transcript whose times count from now. Free with cli_transcript_free. */
struct cli_transcript *cli_transcript_new(void);
/* The hooks: a chunk of bytes in one direction (t NULL: nothing). */
void cli_transcript_add(struct cli_transcript *t, enum cli_transcript_dir dir, const char *p, size_t n);
void cli_transcript_note(struct cli_transcript *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The text for DIR/HOST appended to out: a header naming host, then a
 * line per line of each chunk, `MS DIR TEXT`, bytes escaped as termtext
 * escapes them (\r, \n, \xHH: safe to cat), every occurrence of a
 * secret in secrets shown as CLI_TRANSCRIPT_MASK. At most about
 * CLI_TRANSCRIPT_MAX bytes. */
void cli_transcript_render(const struct cli_transcript *t, const char *host, const struct kvlist *secrets,
                           struct buf *out);
/* Wiped (it holds what was typed, secrets included) and freed; NULL ok. */
void cli_transcript_free(struct cli_transcript *t);

#endif
