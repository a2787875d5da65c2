/* buf: a growable byte buffer. data is NUL-terminated after every
 * append so it can be used as a C string when it holds text. */
#ifndef FLEETRUN_BUF_H
#define FLEETRUN_BUF_H

#include <stdbool.h>
#include <stddef.h>

struct buf {
	char *data; /* NULL or malloced, owned */
	size_t len;
	size_t cap;
};

#define BUF_INIT {NULL, 0, 0}

void buf_reserve(struct buf *b, size_t extra);
void buf_append(struct buf *b, const void *p, size_t n);
void buf_puts(struct buf *b, const char *s);
void buf_putc(struct buf *b, char c);
/* Append at most what keeps len <= cap; when some of the n bytes did not
 * fit, set *truncated. Returns how many bytes were kept. */
size_t buf_append_capped(struct buf *b, const void *p, size_t n, size_t cap, bool *truncated);
void buf_printf(struct buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Drop the first n bytes (n <= len). */
void buf_consume(struct buf *b, size_t n);
/* Empty it, keeping the memory. */
void buf_reset(struct buf *b);
/* Hand the contents over: returns a NUL-terminated malloced string (never
 * NULL) and leaves b empty. */
char *buf_steal(struct buf *b);
void buf_free(struct buf *b);

#endif
