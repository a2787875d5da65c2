/* stdout_out: what a run shows per host on stdout (and, pdsh style, on
 * stderr): one text line per host, the JSON Lines records, or every output
 * line prefixed with its host. Bytes wait in buffers and are written in
 * batches (stdout_out_flush, once per turn of the event loop).
 *
 * Apart from the journal (journal_out.c): stdout is the reader's, and a
 * reader that goes away (| head) is not a failure of the run, while a
 * journal that cannot be written is. Apart from the live line too: the
 * bytes reach the terminal through a hook (stdout_out_set_hook), as log.c's
 * messages do, so erasing the line first is the caller's business. */
#ifndef FLEETRUN_STDOUT_OUT_H
#define FLEETRUN_STDOUT_OUT_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "proto.h"
#include "record.h"

/* stdout: one text line per host; JSON Lines records; or every output
 * line prefixed "host: ", as pdsh prints them (stderr lines to stderr). */
enum stdout_out_format { STDOUT_OUT_TEXT, STDOUT_OUT_JSONL, STDOUT_OUT_LINES };

struct stdout_out {
	enum stdout_out_format format;
	bool quiet;                       /* -q: nothing per host on stdout */
	struct buf out;                   /* stdout bytes not yet written */
	struct buf err;                   /* STDOUT_OUT_LINES: stderr bytes not yet written */
	void (*before_write)(void *ctx);  /* NULL, or called before bytes are written */
	void *ctx;                        /* before_write's, not owned */
};

void stdout_out_init(struct stdout_out *s, enum stdout_out_format format, bool quiet);
/* Call before_write(ctx) each time buffered bytes are about to be written
 * (NULL: none): the live line on the same terminal is erased first. */
void stdout_out_set_hook(struct stdout_out *s, void (*before_write)(void *ctx), void *ctx);
/* A record's lines for stdout into text: its text line (STDOUT_OUT_TEXT),
 * its output lines (STDOUT_OUT_LINES), nothing for JSON Lines or -q. With
 * STDOUT_OUT_LINES its stderr lines go straight into s->err: --ordered
 * holds back only what goes to stdout. res is the worker's result (NULL
 * for a record the supervisor made). */
void stdout_out_render(struct stdout_out *s, struct buf *text, const char *host, const struct record *r,
                       const struct proto_result *res);
/* A record goes out: its JSON (json[0..jlen), no newline) for JSON Lines,
 * else its rendered text; nothing with -q. */
void stdout_out_put(struct stdout_out *s, const char *json, size_t jlen, const char *text, size_t tlen);
/* Bytes waiting for stdout (what the high-water mark counts). */
size_t stdout_out_buffered(const struct stdout_out *s);
/* Nothing waiting for stdout or stderr. */
bool stdout_out_empty(const struct stdout_out *s);
/* Write what waits: stderr lines, then stdout. A closed stderr loses
 * messages, not results; stdout closed early (EPIPE: | head) is the
 * reader's choice; any other stdout error is said (unless *io_error says an
 * output already failed), sets *io_error and returns -1. The buffers are
 * empty afterwards either way. */
int stdout_out_flush(struct stdout_out *s, bool *io_error);
void stdout_out_free(struct stdout_out *s);

/* The text line of a record into b: the host, its status, then the
 * first line of the last output for ok hosts and the error for the
 * others, made safe for a terminal (`report --follow` prints it too);
 * res, when there is one (not in report --follow), gives the parsed
 * records an ok host's line shows instead of its first output line. */
void stdout_out_text_line(struct buf *b, const char *host, const struct record *r, const struct proto_result *res);

#endif
