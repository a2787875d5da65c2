/* termtext: bytes from devices and inventories as text a terminal only
 * prints. Devices are hostile: their output, banners and error texts (and
 * an inventory's host names) may hold ESC sequences that move the cursor,
 * erase another host's line, retitle the terminal or write the clipboard
 * (OSC 52). Every printer that puts such bytes on a terminal (text and
 * lines output, --gather, the progress line, the summary, report, log
 * lines) passes them through termtext_append first; JSON Lines do not
 * (JSON escaping already makes them text).
 *
 * What is shown escaped, as a C programmer would write it:
 *   \n \r \t         newline, carriage return, tab (unless kept, below)
 *   \xHH             any other C0 byte, DEL, and each byte that is not
 *                    part of valid UTF-8 (lone 0x80-0xff, overlongs,
 *                    surrogates, past U+10FFFF)
 *   \uHHHH           C1 controls written as UTF-8 (U+0080-U+009F), and the
 *                    bidi embeddings, overrides and isolates (U+202A-U+202E,
 *                    U+2066-U+2069) that make text read in another order
 *                    than it is (CVE-2021-42574)
 * Everything else, printable ASCII and valid UTF-8 ("ü", "日本"), stays as
 * it is. A backslash stays a backslash: the escaping is for reading, and
 * the record keeps the bytes. */
#ifndef FLEETRUN_TERMTEXT_H
#define FLEETRUN_TERMTEXT_H

#include <stddef.h>

#include "buf.h"

/* \n is a line break fleetrun manages (a CR right before it, CRLF, is
 * part of the break); without it, \n is shown as "\n". */
#define TERMTEXT_KEEP_NL 0x1
/* \t stays a tab (output columns); without it, "\t". */
#define TERMTEXT_KEEP_TAB 0x2

/* Append p[0..n) to out as terminal-safe text. */
void termtext_append(struct buf *out, const char *p, size_t n, unsigned flags);
/* The same for a NUL-terminated string (NULL appends nothing). */
void termtext_puts(struct buf *out, const char *s, unsigned flags);

/* The same into dst (cap bytes, NUL-terminated when cap > 0), for a
 * caller that must not allocate (log lines): as much as fits, in whole
 * escapes and characters. The length written, without the NUL. */
size_t termtext_copy(char *dst, size_t cap, const char *p, size_t n, unsigned flags);

/* The columns a terminal gives s[0..n), text termtext_append made: one
 * per character, two for the East Asian wide ones. */
size_t termtext_width(const char *s, size_t n);
/* The longest prefix of s[0..n) that fits in cols columns and ends on a
 * character boundary: its length in bytes; *used gets its width. */
size_t termtext_fit(const char *s, size_t n, size_t cols, size_t *used);

#endif
