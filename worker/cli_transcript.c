/* cli_transcript: a host's session for --transcript (see cli_transcript.h).
 *
 * Chunks are kept as they came, each direction's bytes in one buffer
 * and a list of events (time, direction, where in that buffer), so that
 * rendering can mask each direction as one stream and still show every
 * chunk with its own time. */
#include "cli_transcript.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"
#include "termtext.h"
#include "tmpl.h"
#include "util.h"

/* What an event costs against CLI_TRANSCRIPT_MAX beside its bytes: a
 * device sending one byte at a time must not grow the list unbounded. */
#define CLI_TRANSCRIPT_EVENT_COST 32

/* Sends this close together are one chunk. */
#define CLI_TRANSCRIPT_MERGE_US 1000

struct cli_transcript_event {
	int64_t t_us; /* since t0 */
	enum cli_transcript_dir dir;
	size_t off, len; /* in stream[dir] */
};

struct cli_transcript {
	int64_t t0_us;
	struct cli_transcript_event *ev; /* malloced */
	size_t nev, cap;
	struct buf stream[CLI_TRANSCRIPT_NDIRS];
	bool cut[CLI_TRANSCRIPT_NDIRS]; /* bytes of that direction were not kept */
	size_t kept;                    /* bytes and events, against the max */
	size_t dropped;                 /* bytes not kept */
};

static const char cli_transcript_marks[CLI_TRANSCRIPT_NDIRS] = {'>', '<', '!', '#'};

struct cli_transcript *cli_transcript_new(void)
{
	struct cli_transcript *t = xcalloc(1, sizeof(*t));

	t->t0_us = clock_mono_us();
	return t;
}

void cli_transcript_add(struct cli_transcript *t, enum cli_transcript_dir dir, const char *p, size_t n)
{
	struct cli_transcript_event *last;
	int64_t now;
	size_t room;

	if (!t || n == 0)
		return;
	room = t->kept + CLI_TRANSCRIPT_EVENT_COST < CLI_TRANSCRIPT_MAX
	               ? CLI_TRANSCRIPT_MAX - t->kept - CLI_TRANSCRIPT_EVENT_COST
	               : 0;
	if (room < n) {
		t->dropped += n - room;
		t->cut[dir] = true;
		n = room;
		if (n == 0)
			return;
	}
	now = clock_mono_us() - t->t0_us;
	last = t->nev ? &t->ev[t->nev - 1] : NULL;
	if (dir == CLI_TRANSCRIPT_SENT && last && last->dir == dir && now - last->t_us < CLI_TRANSCRIPT_MERGE_US) {
		/* a line and its newline, sent by two writes: one chunk */
		last->len += n;
		buf_append(&t->stream[dir], p, n);
		t->kept += n;
		return;
	}
	if (t->nev == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 64;
		t->ev = xreallocarray(t->ev, t->cap, sizeof(*t->ev));
	}
	t->ev[t->nev++] = (struct cli_transcript_event){now, dir, t->stream[dir].len, n};
	buf_append(&t->stream[dir], p, n);
	t->kept += n + CLI_TRANSCRIPT_EVENT_COST;
}

void cli_transcript_note(struct cli_transcript *t, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (!t)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	if (s)
		cli_transcript_add(t, CLI_TRANSCRIPT_NOTE, s, strlen(s));
	free(s);
}

/* A stream cut short may end in the first bytes of a secret (the rest
 * was not kept): those are hidden too. */
static void cli_transcript_mark_cut(const struct buf *s, const struct kvlist *secrets, unsigned char *hidden)
{
	for (size_t i = 0; secrets && i < secrets->len; i++) {
		const char *sec = secrets->items[i].value;
		size_t k = strlen(sec);

		for (k = k ? k - 1 : 0; k > 0; k--) {
			if (k <= s->len && !memcmp(s->data + s->len - k, sec, k)) {
				memset(hidden + s->len - k, 1, k);
				break;
			}
		}
	}
}

/* Bytes escaped at a time, between looks at the size of the text: the
 * text ends at most this (escaped) past CLI_TRANSCRIPT_MAX. */
#define CLI_TRANSCRIPT_STRIDE 4096

/* Where render is: the text so far, whether a line is open, and where
 * the text must stop. */
struct cli_transcript_out {
	struct buf *b;
	const struct cli_transcript_event *e;
	bool open;
	size_t end; /* in b */
};

static void cli_transcript_begin_line(struct cli_transcript_out *o)
{
	if (o->open)
		return;
	buf_printf(o->b, "%9lld.%03d %c ", (long long)(o->e->t_us / 1000), (int)(o->e->t_us % 1000),
	           cli_transcript_marks[o->e->dir]);
	o->open = true;
}

/* p[0..n) escaped, a line of the transcript ending after each '\n'. */
static void cli_transcript_text(struct cli_transcript_out *o, const char *p, size_t n)
{
	while (n > 0 && o->b->len < o->end) {
		const char *nl = memchr(p, '\n', n < CLI_TRANSCRIPT_STRIDE ? n : CLI_TRANSCRIPT_STRIDE);
		size_t k = nl ? (size_t)(nl - p) + 1 : n < CLI_TRANSCRIPT_STRIDE ? n : CLI_TRANSCRIPT_STRIDE;

		cli_transcript_begin_line(o);
		termtext_append(o->b, p, k, 0);
		if (nl) {
			buf_putc(o->b, '\n');
			o->open = false;
		}
		p += k;
		n -= k;
	}
}

/* One event: its unmasked runs as text, each masked run as the mask. */
static void cli_transcript_event(struct cli_transcript_out *o, const char *p, const unsigned char *hidden, size_t n)
{
	for (size_t i = 0; i < n && o->b->len < o->end;) {
		size_t j = i;
		while (j < n && hidden[j] == hidden[i])
			j++;
		if (hidden[i]) {
			cli_transcript_begin_line(o);
			buf_puts(o->b, CLI_TRANSCRIPT_MASK);
		} else {
			cli_transcript_text(o, p + i, j - i);
		}
		i = j;
	}
	if (o->open)
		buf_putc(o->b, '\n');
	o->open = false;
}

void cli_transcript_render(const struct cli_transcript *t, const char *host, const struct kvlist *secrets,
                           struct buf *out)
{
	unsigned char *hidden[CLI_TRANSCRIPT_NDIRS] = {0};
	struct cli_transcript_out o = {out, NULL, false, out->len + CLI_TRANSCRIPT_MAX};
	size_t i;

	if (!t)
		return;
	buf_puts(out, "# fleetrun transcript of ");
	termtext_puts(out, host, 0);
	buf_puts(out, "\n# ms since the task began; > sent, < received, ! stderr, # fleetrun; bytes escaped "
	              "(\\r \\n \\t \\xHH \\uHHHH); secrets as " CLI_TRANSCRIPT_MASK "\n");
	for (int d = 0; d < CLI_TRANSCRIPT_NDIRS; d++) {
		const struct buf *s = &t->stream[d];
		hidden[d] = xcalloc(s->len + 1, 1);
		tmpl_secret_marks(s->data, s->len, secrets, hidden[d]);
		if (t->cut[d])
			cli_transcript_mark_cut(s, secrets, hidden[d]);
	}
	for (i = 0; i < t->nev && out->len < o.end; i++) {
		const struct cli_transcript_event *e = &t->ev[i];
		o.e = e;
		cli_transcript_event(&o, t->stream[e->dir].data + e->off, hidden[e->dir] + e->off, e->len);
	}
	if (out->len >= o.end)
		buf_printf(out, "# transcript truncated: the text reached %d KiB; %zu more chunks not shown\n",
		           CLI_TRANSCRIPT_MAX / 1024, t->nev - i);
	if (t->dropped)
		buf_printf(out, "# transcript truncated: %zu bytes not kept (%d KiB per host at most)\n", t->dropped,
		           CLI_TRANSCRIPT_MAX / 1024);
	for (int d = 0; d < CLI_TRANSCRIPT_NDIRS; d++)
		free(hidden[d]);
}

void cli_transcript_free(struct cli_transcript *t)
{
	if (!t)
		return;
	for (int d = 0; d < CLI_TRANSCRIPT_NDIRS; d++) {
		if (t->stream[d].data)
			explicit_bzero(t->stream[d].data, t->stream[d].cap);
		buf_free(&t->stream[d]);
	}
	free(t->ev);
	free(t);
}
