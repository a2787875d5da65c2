/* termtext: terminal-safe text. Written by hand: the C library's
 * mbrtowc/iswprint depend on the locale (the supervisor runs in "C", where
 * every byte past ASCII is "invalid"), and what must be refused here is
 * narrower and fixed: controls and broken UTF-8, whatever the locale. */
#include "termtext.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "utf8.h"

/* Code points past ASCII shown as \uHHHH: C1 controls (a terminal acts on
 * U+009B as on ESC [) and the bidi controls that reorder what is read. */
static bool termtext_hidden(uint32_t cp)
{
	return (cp >= 0x80 && cp <= 0x9F) || (cp >= 0x202A && cp <= 0x202E) || (cp >= 0x2066 && cp <= 0x2069);
}

/* Where escaped text goes: a buf that grows, or a fixed array that takes
 * whole pieces (an escape, a character) while they fit. */
struct termtext_out {
	struct buf *b;   /* NULL for the fixed array */
	char *dst;
	size_t len, cap; /* the array's use and size, a NUL kept room for */
	bool full;
};

static void termtext_put(struct termtext_out *o, const void *p, size_t n)
{
	if (o->b) {
		buf_append(o->b, p, n);
	} else if (!o->full && o->len + n < o->cap) {
		memcpy(o->dst + o->len, p, n);
		o->len += n;
	} else {
		o->full = true;
	}
}

static void termtext_byte(struct termtext_out *o, unsigned char c)
{
	char esc[8];

	switch (c) {
	case '\n':
		termtext_put(o, "\\n", 2);
		return;
	case '\r':
		termtext_put(o, "\\r", 2);
		return;
	case '\t':
		termtext_put(o, "\\t", 2);
		return;
	default:
		snprintf(esc, sizeof(esc), "\\x%02x", c);
		termtext_put(o, esc, 4);
	}
}

/* The safe bytes go out in runs, not one at a time: a step's output is
 * up to a megabyte of mostly plain text. A run of a fixed array that
 * does not fit whole is cut back to a character boundary. */
static void termtext_run(struct termtext_out *o, const unsigned char *p, size_t n)
{
	if (!o->b && !o->full && o->len + n >= o->cap) {
		size_t room = o->cap - o->len - 1;
		while (room > 0 && room < n && (p[room] & 0xC0) == 0x80)
			room--;
		termtext_put(o, p, room);
		o->full = true;
		return;
	}
	termtext_put(o, p, n);
}

static void termtext_emit(struct termtext_out *o, const char *text, size_t n, unsigned flags)
{
	const unsigned char *p = (const unsigned char *)text;
	size_t i = 0, run = 0; /* p[run..i) is safe and not yet put out */

	while (i < n && !o->full) {
		unsigned char c = p[i];
		uint32_t cp;
		size_t len;

		if (c >= 0x20 && c < 0x7F) {
			i++;
			continue;
		}
		if ((c == '\n' && flags & TERMTEXT_KEEP_NL) || (c == '\t' && flags & TERMTEXT_KEEP_TAB)) {
			i++;
			continue;
		}
		if (c >= 0x80 && (len = utf8_decode(p + i, n - i, &cp)) > 0 && !termtext_hidden(cp)) {
			i += len;
			continue;
		}
		termtext_run(o, p + run, i - run);
		if (c == '\r' && flags & TERMTEXT_KEEP_NL && i + 1 < n && p[i + 1] == '\n') {
			/* CRLF (a device's terminal line end) is the line break */
		} else if (c >= 0x80 && (len = utf8_decode(p + i, n - i, &cp)) > 0) {
			char esc[8];
			snprintf(esc, sizeof(esc), "\\u%04x", (unsigned)cp);
			termtext_put(o, esc, 6);
			i += len - 1;
		} else {
			termtext_byte(o, c);
		}
		run = ++i;
	}
	if (!o->full)
		termtext_run(o, p + run, i - run);
}

void termtext_append(struct buf *out, const char *p, size_t n, unsigned flags)
{
	struct termtext_out o = {.b = out};

	buf_reserve(out, n);
	termtext_emit(&o, p, n, flags);
	out->data[out->len] = '\0'; /* a string even when nothing was added */
}

void termtext_puts(struct buf *out, const char *s, unsigned flags)
{
	if (s)
		termtext_append(out, s, strlen(s), flags);
}

size_t termtext_copy(char *dst, size_t cap, const char *p, size_t n, unsigned flags)
{
	struct termtext_out o = {.dst = dst, .cap = cap};

	if (cap == 0)
		return 0;
	termtext_emit(&o, p, n, flags);
	dst[o.len] = '\0';
	return o.len;
}

/* East Asian Wide and Fullwidth ranges (Unicode's EastAsianWidth.txt, W
 * and F, coarsened to blocks): two columns. */
static size_t termtext_cp_width(uint32_t cp)
{
	static const uint32_t wide[][2] = {
		{0x1100, 0x115F},   {0x2E80, 0x303E},   {0x3041, 0x33FF},   {0x3400, 0x4DBF},
		{0x4E00, 0x9FFF},   {0xA000, 0xA4CF},   {0xAC00, 0xD7A3},   {0xF900, 0xFAFF},
		{0xFE30, 0xFE4F},   {0xFF00, 0xFF60},   {0xFFE0, 0xFFE6},   {0x1F300, 0x1F64F},
		{0x1F900, 0x1F9FF}, {0x20000, 0x2FFFD}, {0x30000, 0x3FFFD},
	};

	for (size_t i = 0; i < sizeof(wide) / sizeof(wide[0]); i++)
		if (cp >= wide[i][0] && cp <= wide[i][1])
			return 2;
	return 1;
}

size_t termtext_fit(const char *s, size_t n, size_t cols, size_t *used)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0, w = 0;

	while (i < n) {
		uint32_t cp;
		size_t len = utf8_decode(p + i, n - i, &cp), cw;
		if (len == 0) {
			/* not termtext_append's output: count the byte, as it
			 * would be shown escaped anyway */
			len = 1;
			cp = '?';
		}
		cw = termtext_cp_width(cp);
		if (w + cw > cols)
			break;
		w += cw;
		i += len;
	}
	if (used)
		*used = w;
	return i;
}

size_t termtext_width(const char *s, size_t n)
{
	size_t w;

	termtext_fit(s, n, SIZE_MAX, &w);
	return w;
}
