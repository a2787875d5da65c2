/* libFuzzer target: the frame reader (common/frame.c) fed arbitrary bytes
 * in arbitrary chunks.
 *
 * Input: one control byte, then the stream. The control byte picks the
 * reader's maximum (small, so the "too long" path is reachable, or
 * FRAME_MAX) and seeds the chunk sizes; each chunk goes in either through
 * frame_reader_feed or through a real pipe and frame_reader_fill, the way
 * the supervisor reads a worker.
 *
 * Oracle: a reference parse of the whole stream at once, written here
 * independently of frame.c. However the stream is cut, the reader must
 * hand out exactly the same frames (same bytes), refuse at the same frame
 * when a length is over the maximum, and hold exactly the bytes of the
 * last incomplete frame at the end. */
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "frame.h"

/* Frames the reference parse remembers: every frame takes at least its
 * 4-byte header, so longer inputs are skipped (-max_len keeps them
 * shorter anyway). */
#define REF_MAX 4096
/* A pipe holds 64 KiB by default: chunks written through it stay under
 * that so the write never blocks. */
#define PIPE_CHUNK_MAX 4096

struct ref {
	size_t off[REF_MAX], len[REF_MAX];
	size_t n;        /* whole frames */
	int too_long;    /* frame n announces more than the maximum */
	size_t consumed; /* bytes of the whole frames */
};

static int fds[2] = {-1, -1};

#define CHECK(cond)                                                                                    \
	do {                                                                                           \
		if (!(cond)) {                                                                         \
			fprintf(stderr, "fuzz_frame: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                       \
		}                                                                                      \
	} while (0)

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	if (pipe2(fds, O_CLOEXEC | O_NONBLOCK) < 0) {
		perror("fuzz_frame: pipe2");
		abort();
	}
	return 0;
}

static void ref_parse(const unsigned char *p, size_t n, size_t max, struct ref *ref)
{
	size_t pos = 0;

	memset(ref, 0, sizeof(*ref));
	while (n - pos >= 4) {
		size_t len = (size_t)p[pos] << 24 | (size_t)p[pos + 1] << 16 | (size_t)p[pos + 2] << 8 | p[pos + 3];
		if (len > max) {
			ref->too_long = 1;
			break;
		}
		if (n - pos - 4 < len)
			break;
		ref->off[ref->n] = pos + 4;
		ref->len[ref->n] = len;
		ref->n++;
		pos += 4 + len;
	}
	ref->consumed = pos;
}

/* xorshift: chunk sizes from the control byte, deterministic per input. */
static uint32_t next_rand(uint32_t *s)
{
	uint32_t x = *s;
	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	*s = x;
	return x;
}

/* Push n bytes through the pipe into the reader. */
static void fill_through_pipe(struct frame_reader *r, const unsigned char *p, size_t n)
{
	size_t in_pipe = n;
	/* Each turn reads what the pipe holds; bounded by n reads of one
	 * byte at worst. */
	CHECK(write(fds[1], p, n) == (ssize_t)n);
	while (in_pipe > 0) {
		ssize_t got = frame_reader_fill(r, fds[0]);
		CHECK(got > 0);
		CHECK((size_t)got <= in_pipe);
		in_pipe -= (size_t)got;
	}
	CHECK(frame_reader_fill(r, fds[0]) < 0 && errno == EAGAIN);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct ref ref;
	struct frame_reader r;
	const unsigned char *p;
	size_t n, max, fed = 0, k = 0;
	uint32_t seed;
	int stopped = 0;

	if (size < 1 || size > 1 + 4 * (size_t)REF_MAX)
		return 0;
	max = data[0] & 1 ? FRAME_MAX : 64;
	seed = 0x9e3779b9u ^ data[0] * 0x01000193u;
	p = data + 1;
	n = size - 1;
	ref_parse(p, n, max, &ref);

	frame_reader_init(&r, max);
	/* Each turn feeds one chunk and takes every frame it completed. */
	while (fed < n && !stopped) {
		uint32_t x = next_rand(&seed);
		size_t chunk = x & 0x100 ? 1 + (x >> 16) % 8 : 1 + (x >> 16) % PIPE_CHUNK_MAX;
		const char *payload;
		size_t len;
		int got;

		if (chunk > n - fed)
			chunk = n - fed;
		/* A quarter of the chunks go through the pipe: three syscalls
		 * each would otherwise be most of the time spent. */
		if ((x & 0x600) == 0x600)
			fill_through_pipe(&r, p + fed, chunk);
		else
			frame_reader_feed(&r, p + fed, chunk);
		fed += chunk;
		while ((got = frame_next(&r, &payload, &len)) != 0) {
			if (got < 0) {
				/* the reference refuses the same frame */
				CHECK(ref.too_long && k == ref.n);
				stopped = 1;
				break;
			}
			CHECK(k < ref.n);
			CHECK(len == ref.len[k]);
			CHECK(len == 0 || memcmp(payload, p + ref.off[k], len) == 0);
			k++;
		}
	}
	if (!stopped) {
		/* A header over the maximum is refused once its 4 bytes are in. */
		CHECK(!ref.too_long);
		CHECK(k == ref.n);
		CHECK(frame_reader_pending(&r) == n - ref.consumed);
	}
	frame_reader_free(&r);

	/* Writing: the frames found, framed again, are the same bytes. */
	if (ref.n > 0) {
		struct buf out = BUF_INIT;
		for (size_t i = 0; i < ref.n; i++) {
			size_t start = frame_begin(&out);
			buf_append(&out, p + ref.off[i], ref.len[i]);
			frame_end(&out, start);
		}
		CHECK(out.len == ref.consumed);
		CHECK(memcmp(out.data, p, out.len) == 0);
		buf_free(&out);
	}
	return 0;
}
