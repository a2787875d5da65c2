/* frame: length-prefixed frames; see frame.h. */
#include "frame.h"

#include <string.h>
#include <unistd.h>

/* Read at least this much at a time so small frames arrive in batches. */
#define FRAME_READ_CHUNK 16384

void frame_reader_init(struct frame_reader *r, size_t max)
{
	memset(r, 0, sizeof(*r));
	r->max = max;
}

void frame_reader_free(struct frame_reader *r)
{
	buf_free(&r->in);
	r->pos = 0;
}

static uint32_t frame_peek_len(const struct frame_reader *r)
{
	const unsigned char *p = (const unsigned char *)r->in.data + r->pos;
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* Move the unread bytes to the front once the consumed part dominates, so
 * the buffer does not grow with the number of frames that passed. */
static void frame_reader_compact(struct frame_reader *r)
{
	if (r->pos == 0)
		return;
	if (r->pos == r->in.len) {
		buf_reset(&r->in);
		r->pos = 0;
	} else if (r->pos >= r->in.len / 2) {
		buf_consume(&r->in, r->pos);
		r->pos = 0;
	}
}

ssize_t frame_reader_fill(struct frame_reader *r, int fd)
{
	size_t want = FRAME_READ_CHUNK;
	size_t avail;
	ssize_t n;

	frame_reader_compact(r);
	avail = r->in.len - r->pos;
	/* Once the header of a large frame is in, make room for all of it at
	 * once; its length was already checked by frame_next. */
	if (avail >= FRAME_HEADER) {
		uint32_t len = frame_peek_len(r);
		if (len <= r->max && len + FRAME_HEADER > avail && len + FRAME_HEADER - avail > want)
			want = len + FRAME_HEADER - avail;
	}
	buf_reserve(&r->in, want);
	n = read(fd, r->in.data + r->in.len, r->in.cap - r->in.len - 1);
	if (n > 0) {
		r->in.len += (size_t)n;
		r->in.data[r->in.len] = '\0';
	}
	return n;
}

void frame_reader_feed(struct frame_reader *r, const void *p, size_t n)
{
	frame_reader_compact(r);
	buf_append(&r->in, p, n);
}

int frame_next(struct frame_reader *r, const char **payload, size_t *len)
{
	size_t avail = r->in.len - r->pos;
	uint32_t n;

	if (avail < FRAME_HEADER)
		return 0;
	n = frame_peek_len(r);
	if (n > r->max)
		return -1;
	if (avail - FRAME_HEADER < n)
		return 0;
	*payload = r->in.data + r->pos + FRAME_HEADER;
	*len = n;
	r->pos += FRAME_HEADER + (size_t)n;
	return 1;
}

size_t frame_reader_pending(const struct frame_reader *r)
{
	return r->in.len - r->pos;
}

size_t frame_begin(struct buf *out)
{
	size_t start = out->len;
	buf_append(out, "\0\0\0\0", FRAME_HEADER);
	return start;
}

void frame_end(struct buf *out, size_t start)
{
	size_t n = out->len - start - FRAME_HEADER;
	unsigned char *p = (unsigned char *)out->data + start;

	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
}
