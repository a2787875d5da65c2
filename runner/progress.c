/* progress: the live status line. */
#include "progress.h"

#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "status.h"
#include "termtext.h"
#include "util.h"

#define PROGRESS_ERASE "\r\033[K"

void progress_init(struct progress *pg, bool on, bool color, uint64_t total, int64_t start_ms)
{
	memset(pg, 0, sizeof(*pg));
	pg->on = on;
	pg->color = color;
	pg->total = total;
	pg->start_ms = start_ms;
}

/* A terminal gone away is not worth stopping for: the result is ignored. */
static void progress_write(const char *p, size_t n)
{
	(void)fd_write_all(STDERR_FILENO, p, n);
}

void progress_clear(struct progress *pg)
{
	if (!pg->drawn)
		return;
	progress_write(PROGRESS_ERASE, sizeof(PROGRESS_ERASE) - 1);
	pg->drawn = false;
}

static int progress_columns(void)
{
	struct winsize ws;

	if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0)
		return ws.ws_col;
	return 80;
}

/* Appends text to the line while it fits in width visible columns (the
 * escapes around it take none); returns false once it does not. */
struct progress_out {
	struct buf *b;
	int left;        /* visible columns still free */
	bool color;
};

static bool progress_put(struct progress_out *o, const char *color, const char *text)
{
	size_t len = strlen(text), used, n = termtext_fit(text, len, o->left > 0 ? (size_t)o->left : 0, &used);

	if (o->left <= 0)
		return false;
	if (n < len) {
		/* the last piece that does not fit is cut (on a character
		 * boundary), not dropped */
		buf_append(o->b, text, n);
		o->left = 0;
		return false;
	}
	if (color && o->color)
		buf_printf(o->b, "\033[%sm%s\033[0m", color, text);
	else
		buf_append(o->b, text, len);
	o->left -= (int)used;
	return true;
}

/* A host name as the line shows it: inventories are data, and a name
 * holding ESC or CR must not redraw the terminal. */
static const char *progress_host(struct buf *b, const char *name)
{
	buf_reset(b);
	termtext_puts(b, name, 0);
	return b->data ? b->data : "";
}

static const char *progress_status_color(enum status st)
{
	switch (st) {
	case STATUS_OK:
		return "32";
	case STATUS_UNREACHABLE:
	case STATUS_TIMEOUT:
		return "33";
	default:
		return "31";
	}
}

static void progress_duration(char *out, size_t n, int64_t ms)
{
	int64_t s = ms / 1000;

	if (ms < 10000)
		snprintf(out, n, "%.1fs", ms / 1000.0);
	else if (s < 60)
		snprintf(out, n, "%llds", (long long)s);
	else if (s < 3600)
		snprintf(out, n, "%lld:%02lld", (long long)(s / 60), (long long)(s % 60));
	else
		snprintf(out, n, "%lld:%02lld:%02lld", (long long)(s / 3600), (long long)(s / 60 % 60),
		         (long long)(s % 60));
}

/* The PROGRESS_SLOWEST busy slots that started first. */
static int progress_slowest(const struct slot *slots, int nslots, const struct slot **out, int max)
{
	int n = 0;

	for (int i = 0; i < nslots; i++) {
		const struct slot *s = &slots[i];
		int k;
		if (s->state != SLOT_BUSY || !s->task)
			continue;
		k = n < max ? n++ : max;
		if (k == max && s->task->started_mono_ms >= out[max - 1]->task->started_mono_ms)
			continue;
		if (k == max)
			k = max - 1;
		while (k > 0 && out[k - 1]->task->started_mono_ms > s->task->started_mono_ms) {
			out[k] = out[k - 1];
			k--;
		}
		out[k] = s;
	}
	return n;
}

void progress_draw(struct progress *pg, const struct summary *sum, const struct slot *slots, int nslots,
                   int64_t now_ms, bool force)
{
	struct progress_out o = {&pg->line, progress_columns() - 1, pg->color};
	const struct slot *slow[PROGRESS_SLOWEST];
	char piece[256], t[32];
	int64_t elapsed = now_ms - pg->start_ms;
	uint64_t done = sum->total;
	int nslow, running = 0;
	bool first = true;
	struct buf host = BUF_INIT;

	if (!pg->on || (!force && now_ms - pg->last_ms < PROGRESS_EVERY_MS))
		return;
	pg->last_ms = now_ms;
	buf_reset(&pg->line);
	buf_append(&pg->line, PROGRESS_ERASE, sizeof(PROGRESS_ERASE) - 1);
	snprintf(piece, sizeof(piece), "fleetrun: %llu/%llu %llu%%", (unsigned long long)done,
	         (unsigned long long)pg->total, (unsigned long long)(pg->total ? done * 100 / pg->total : 0));
	progress_put(&o, NULL, piece);
	for (int i = 0; i < STATUS_COUNT; i++) {
		if (!sum->counts[i])
			continue;
		snprintf(piece, sizeof(piece), "%s%s %llu", first ? " | " : " ", status_name((enum status)i),
		         (unsigned long long)sum->counts[i]);
		first = false;
		progress_put(&o, progress_status_color((enum status)i), piece);
	}
	if (elapsed > 0 && done > 0) {
		double rate = done * 1000.0 / elapsed;
		progress_duration(t, sizeof(t), (int64_t)((pg->total - done) / rate * 1000));
		snprintf(piece, sizeof(piece), " | %.0f/s ETA %s", rate, t);
		progress_put(&o, NULL, piece);
	}
	for (int i = 0; i < nslots; i++)
		running += slots[i].state == SLOT_BUSY;
	nslow = progress_slowest(slots, nslots, slow, PROGRESS_SLOWEST);
	if (running) {
		snprintf(piece, sizeof(piece), " | running %d", running);
		progress_put(&o, NULL, piece);
	}
	for (int i = 0; i < nslow; i++) {
		progress_duration(t, sizeof(t), now_ms - slow[i]->task->started_mono_ms);
		/* a buf, not piece[]: a long name is cut by progress_put on a
		 * character boundary, never by snprintf inside one */
		buf_reset(&host);
		buf_puts(&host, i ? ", " : ", slowest: ");
		termtext_puts(&host, slow[i]->task->host.name, 0);
		buf_printf(&host, " %s", t);
		if (!progress_put(&o, NULL, host.data))
			break;
	}
	buf_free(&host);
	/* the same line again is not worth the terminal's time */
	if (pg->drawn && pg->line.len == pg->prev.len && memcmp(pg->line.data, pg->prev.data, pg->line.len) == 0)
		return;
	progress_write(pg->line.data, pg->line.len);
	pg->drawn = true;
	buf_reset(&pg->prev);
	buf_append(&pg->prev, pg->line.data, pg->line.len);
}

int64_t progress_next_ms(const struct progress *pg)
{
	return pg->on ? pg->last_ms + PROGRESS_EVERY_MS : 0;
}

void progress_inflight(const struct slot *slots, int nslots, int64_t now_ms, FILE *f)
{
	const struct slot **busy = calloc((size_t)nslots + 1, sizeof(*busy));
	struct buf host = BUF_INIT;
	int n;
	char t[32];

	if (!busy)
		return;
	n = progress_slowest(slots, nslots, busy, nslots);
	fprintf(f, "fleetrun: %d host%s in flight:\n", n, n == 1 ? "" : "s");
	for (int i = 0; i < n; i++) {
		progress_duration(t, sizeof(t), now_ms - busy[i]->task->started_mono_ms);
		fprintf(f, "  %-32s %8s  worker %d, attempt %u\n", progress_host(&host, busy[i]->task->host.name), t,
		        (int)busy[i]->pid, busy[i]->task->attempt);
	}
	fflush(f);
	buf_free(&host);
	free(busy);
}

void progress_free(struct progress *pg)
{
	buf_free(&pg->line);
	buf_free(&pg->prev);
	memset(pg, 0, sizeof(*pg));
}
