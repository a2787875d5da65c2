/* clitext: a CLI session's text made plain (see clitext.h).
 *
 * Devices draw on a terminal: IOS erases ` --More-- ` with backspaces,
 * spaces and backspaces again; Linux shells emit ESC sequences (bracketed
 * paste, colours, titles); long lines come back with CR rewrites. The
 * output is rebuilt line by line as a terminal would show it, so what is
 * recorded is what the user would have read. */
#include "clitext.h"

#include <string.h>

#include "termtext.h"

/* Length of the ESC sequence at p[0..n) (p[0] is ESC): CSI (ESC [ ...
 * final byte), OSC (ESC ] ... BEL or ESC \), or ESC and one byte. */
static size_t clitext_escape_len(const char *p, size_t n)
{
	size_t i;

	if (n < 2)
		return n;
	if (p[1] == '[') {
		for (i = 2; i < n; i++)
			if ((unsigned char)p[i] >= 0x40 && (unsigned char)p[i] <= 0x7e)
				return i + 1;
		return n;
	}
	if (p[1] == ']') {
		for (i = 2; i < n; i++) {
			if (p[i] == '\a')
				return i + 1;
			if (p[i] == '\033' && i + 1 < n && p[i + 1] == '\\')
				return i + 2;
		}
		return n;
	}
	return 2;
}

size_t clitext_tail(const char *buf, size_t len, size_t *start, size_t *off)
{
	size_t s = len, end = len, o;

	while (s > 0 && buf[s - 1] != '\n' && len - s < CLITEXT_TAIL_MAX)
		s--;
	*start = s;
	while (end > s && (buf[end - 1] == ' ' || buf[end - 1] == '\r'))
		end--;
	/* a CR inside the line starts it again: what follows is what shows */
	o = end;
	while (o > s && buf[o - 1] != '\r')
		o--;
	/* an ESC sequence before the prompt (a title, bracketed paste) is
	 * not part of it */
	for (size_t i = o; i < end; i++)
		if (buf[i] == '\033')
			o = i + clitext_escape_len(buf + i, end - i);
	if (o > end)
		o = end;
	*off = o;
	return end - o;
}

/* One line as a terminal shows it: ESC sequences dropped, CR back to
 * column 0, backspace one column left, other bytes written over what is
 * there. Trailing spaces are dropped where erasing (backspaces, or a CR
 * rewriting the line) left them. */
static void clitext_render_line(const char *p, size_t n, struct buf *line)
{
	size_t col = 0;
	int erased = 0;

	line->len = 0;
	for (size_t i = 0; i < n; i++) {
		char ch = p[i];
		if (ch == '\033') {
			i += clitext_escape_len(p + i, n - i) - 1;
			continue;
		}
		if (ch == '\r') {
			/* a CR with more after it rewrites the line (Junos erases
			 * its pager with CR, spaces, CR): what it blanked is gone */
			if (i + 1 < n)
				erased = 1;
			col = 0;
			continue;
		}
		if (ch == '\b') {
			if (col > 0)
				col--;
			erased = 1;
			continue;
		}
		if (ch == '\0' || ch == '\a')
			continue;
		if (col < line->len) {
			line->data[col++] = ch;
		} else {
			buf_append(line, &ch, 1);
			col = line->len;
		}
	}
	if (erased)
		while (line->len > 0 && line->data[line->len - 1] == ' ')
			line->len--;
}

/* Whether line is the echo of cmd: the command as typed, after whatever
 * the device printed before it on that line (nothing, or its prompt). */
static int clitext_is_echo(const struct buf *line, const char *cmd)
{
	size_t cn = strlen(cmd), ln = line->len;

	while (cn > 0 && (cmd[cn - 1] == ' ' || cmd[cn - 1] == '\t'))
		cn--;
	while (ln > 0 && line->data[ln - 1] == ' ')
		ln--;
	return cn > 0 && ln >= cn && !memcmp(line->data + ln - cn, cmd, cn);
}

void clitext_clean(const char *raw, size_t len, const char *cmd, struct buf *out)
{
	struct buf line = BUF_INIT;
	size_t pos = 0;
	int first = 1;

	while (pos < len) {
		const char *nl = memchr(raw + pos, '\n', len - pos);
		size_t n = nl ? (size_t)(nl - (raw + pos)) : len - pos;

		clitext_render_line(raw + pos, n, &line);
		pos += n + (nl ? 1 : 0);
		if (first && cmd && clitext_is_echo(&line, cmd)) {
			first = 0;
			continue;
		}
		first = 0;
		buf_append(out, line.data ? line.data : "", line.len);
		if (nl)
			buf_append(out, "\n", 1);
	}
	buf_free(&line);
}

void clitext_last_bytes(const char *buf, size_t len, size_t n, struct buf *out)
{
	size_t from = len > n ? len - n : 0;

	termtext_append(out, buf + from, len - from, 0);
}
