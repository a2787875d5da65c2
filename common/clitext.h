/* clitext: the text of an interactive CLI session, as bytes come from a
 * terminal: where the last line (the prompt's place) is, and one
 * command's output made plain (what the device printed for it, without
 * the echoed command, the prompt, pager prompts and the backspaces and
 * spaces that erase them, terminal escapes, or CRs).
 *
 * Apart from worker/cli_session.c (the channel) so that it can be tested
 * without a device, and because none of it does I/O. */
#ifndef FLEETRUN_CLITEXT_H
#define FLEETRUN_CLITEXT_H

#include <stddef.h>

#include "buf.h"

/* The most of the last line looked at for a prompt, pager or question:
 * matching never costs more than this, whatever the output's size. */
#define CLITEXT_TAIL_MAX 512

/* The last line of buf[0..len), as a terminal would show it at its end:
 * after the last '\n' and the last CR or ESC-sequence rewrite before
 * its end, without trailing spaces and CRs, and at most CLITEXT_TAIL_MAX
 * bytes. *start: where the line begins in buf (everything before it is
 * the output); returns the length of the text to match, from *off. */
size_t clitext_tail(const char *buf, size_t len, size_t *start, size_t *off);

/* One command's output, raw[0..len) (everything the device sent after
 * the command was typed, up to the prompt's line, pager prompts already
 * cut out), made plain into out: terminal escapes dropped, backspace and
 * CR applied as a terminal applies them, line endings as "\n", and the
 * first line dropped when it is the echo of cmd (NULL: no echo to drop). */
void clitext_clean(const char *raw, size_t len, const char *cmd, struct buf *out);

/* The last n bytes (at most) of buf[0..len), escaped for an error
 * message (termtext's escapes, \n and \r shown as such). */
void clitext_last_bytes(const char *buf, size_t len, size_t n, struct buf *out);

#endif
