/* frame: length-prefixed frames on a pipe. A frame is a 4-byte big-endian
 * length followed by that many bytes of msgpack (DESIGN.md, "Protocol").
 *
 * The reader keeps one buffer per peer and hands out only whole frames; the
 * length is checked against the maximum before any memory is reserved for
 * the body, so a peer that announces 4 GiB costs us nothing. */
#ifndef FLEETRUN_FRAME_H
#define FLEETRUN_FRAME_H

#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "buf.h"

/* Results carry up to 1 MiB of stdout and of stderr per step; workers keep
 * a whole result under this size by truncating output (see worker/). */
#define FRAME_MAX (64u * 1024 * 1024)
#define FRAME_HEADER 4

struct frame_reader {
	struct buf in; /* bytes read and not yet handed out */
	size_t pos;    /* start of the first byte not yet handed out */
	size_t max;    /* largest frame accepted */
};

void frame_reader_init(struct frame_reader *r, size_t max);
void frame_reader_free(struct frame_reader *r);

/* One read(2) from fd into the reader. Returns the number of bytes read,
 * 0 at end of file, -1 with errno set (EAGAIN included). */
ssize_t frame_reader_fill(struct frame_reader *r, int fd);

/* Feed bytes that came from elsewhere: tests and fuzzers. */
void frame_reader_feed(struct frame_reader *r, const void *p, size_t n);

/* Take the next whole frame: 1 and *payload, *len (valid until the next call
 * on this reader), 0 when more bytes are needed, -1 when the announced
 * length is over the maximum (the stream cannot be trusted after that). */
int frame_next(struct frame_reader *r, const char **payload, size_t *len);

/* Bytes held that are not a whole frame yet: non-zero at EOF means the peer
 * died mid-frame. */
size_t frame_reader_pending(const struct frame_reader *r);

/* Writing: frame_begin reserves the header and returns its offset in out;
 * append the payload; frame_end fills in the length. The worker sends the
 * bytes with fd_write_all (util.h). */
size_t frame_begin(struct buf *out);
void frame_end(struct buf *out, size_t start);

#endif
