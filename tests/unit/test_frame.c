/* Unit tests for common/frame.c: frames fed a byte at a time, several in one
 * feed, truncated and oversized frames (rejected before anything large is
 * allocated), an empty frame, random bytes, and a real pipe. */
#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "buf.h"
#include "frame.h"
#include "util.h"

/* A reader that only ever saw a header must not hold more than this. */
#define SMALL_CAP (64 * 1024)

static const char *const payloads[] = {
	"a",
	"",
	"hello, frame",
	"\x81\xa4type\xa5ready",
	"with\0nul\0bytes",
};
static const size_t payload_lens[] = {1, 0, 12, 12, 14};

/* Append every test payload to out as one frame each. */
static void encode_all(struct buf *out)
{
	for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
		size_t start = frame_begin(out);
		buf_append(out, payloads[i], payload_lens[i]);
		frame_end(out, start);
	}
}

static void put_header(unsigned char h[4], uint32_t n)
{
	h[0] = (unsigned char)(n >> 24);
	h[1] = (unsigned char)(n >> 16);
	h[2] = (unsigned char)(n >> 8);
	h[3] = (unsigned char)n;
}

static void test_encode_header(void **state)
{
	struct buf out = BUF_INIT;
	size_t start;

	(void)state;
	buf_puts(&out, "xy"); /* frames may start anywhere in the buffer */
	start = frame_begin(&out);
	assert_int_equal(start, 2);
	assert_int_equal(out.len, 2 + FRAME_HEADER);
	buf_append(&out, "abcde", 5);
	frame_end(&out, start);
	assert_int_equal(out.len, 2 + 4 + 5);
	assert_memory_equal(out.data, "xy\0\0\0\5abcde", 11);
	buf_free(&out);

	/* a length that needs every header byte */
	start = frame_begin(&out);
	buf_reserve(&out, 0x010203);
	memset(out.data + out.len, 'z', 0x010203);
	out.len += 0x010203;
	frame_end(&out, start);
	assert_memory_equal(out.data, "\0\1\2\3", 4);
	buf_free(&out);
}

static void test_byte_at_a_time(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	size_t got = 0;

	(void)state;
	encode_all(&out);
	frame_reader_init(&rd, FRAME_MAX);
	for (size_t i = 0; i < out.len; i++) {
		const char *p = NULL;
		size_t n = 0;
		int r;

		frame_reader_feed(&rd, out.data + i, 1);
		/* at most one frame can complete per byte */
		r = frame_next(&rd, &p, &n);
		assert_in_range(r, 0, 1);
		if (r == 1) {
			assert_true(got < sizeof(payloads) / sizeof(payloads[0]));
			assert_int_equal(n, payload_lens[got]);
			assert_memory_equal(p, payloads[got], n);
			got++;
			assert_int_equal(frame_next(&rd, &p, &n), 0);
		}
	}
	assert_int_equal(got, sizeof(payloads) / sizeof(payloads[0]));
	assert_int_equal(frame_reader_pending(&rd), 0);
	frame_reader_free(&rd);
	buf_free(&out);
}

/* A frame completes exactly on its last byte, never earlier. */
static void test_completes_on_last_byte(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	const char *p;
	size_t n;
	size_t start;

	(void)state;
	start = frame_begin(&out);
	buf_puts(&out, "0123456789");
	frame_end(&out, start);
	frame_reader_init(&rd, FRAME_MAX);
	for (size_t i = 0; i + 1 < out.len; i++) {
		frame_reader_feed(&rd, out.data + i, 1);
		assert_int_equal(frame_next(&rd, &p, &n), 0);
		assert_int_equal(frame_reader_pending(&rd), i + 1);
	}
	frame_reader_feed(&rd, out.data + out.len - 1, 1);
	assert_int_equal(frame_next(&rd, &p, &n), 1);
	assert_int_equal(n, 10);
	assert_memory_equal(p, "0123456789", 10);
	assert_int_equal(frame_reader_pending(&rd), 0);
	frame_reader_free(&rd);
	buf_free(&out);
}

static void test_several_in_one_feed(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	const char *p;
	size_t n;

	(void)state;
	encode_all(&out);
	encode_all(&out);
	frame_reader_init(&rd, FRAME_MAX);
	frame_reader_feed(&rd, out.data, out.len);
	for (size_t round = 0; round < 2; round++) {
		for (size_t i = 0; i < sizeof(payloads) / sizeof(payloads[0]); i++) {
			assert_int_equal(frame_next(&rd, &p, &n), 1);
			assert_int_equal(n, payload_lens[i]);
			assert_memory_equal(p, payloads[i], n);
		}
	}
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	assert_int_equal(frame_reader_pending(&rd), 0);
	frame_reader_free(&rd);
	buf_free(&out);
}

/* Feeds in uneven chunks that split headers and bodies, with frames
 * taken between feeds so the reader compacts its buffer as it goes. */
static void test_uneven_chunks(void **state)
{
	static const size_t chunks[] = {3, 7, 1, 2, 13, 5, 64, 4};
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	size_t off = 0, got = 0, k = 0;
	const size_t nframes = sizeof(payloads) / sizeof(payloads[0]);

	(void)state;
	for (int i = 0; i < 20; i++)
		encode_all(&out);
	frame_reader_init(&rd, FRAME_MAX);
	while (off < out.len) {
		size_t c = chunks[k++ % (sizeof(chunks) / sizeof(chunks[0]))];
		const char *p;
		size_t n;

		if (c > out.len - off)
			c = out.len - off;
		frame_reader_feed(&rd, out.data + off, c);
		off += c;
		while (frame_next(&rd, &p, &n) == 1) {
			assert_int_equal(n, payload_lens[got % nframes]);
			assert_memory_equal(p, payloads[got % nframes], n);
			got++;
		}
	}
	assert_int_equal(got, 20 * nframes);
	assert_int_equal(frame_reader_pending(&rd), 0);
	/* the buffer did not keep every byte that passed through */
	assert_true(rd.in.cap < out.len);
	frame_reader_free(&rd);
	buf_free(&out);
}

static void test_truncated(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	const char *p;
	size_t n;
	size_t start;

	(void)state;
	start = frame_begin(&out);
	buf_puts(&out, "a complete frame");
	frame_end(&out, start);
	start = frame_begin(&out);
	buf_puts(&out, "cut short");
	frame_end(&out, start);

	frame_reader_init(&rd, FRAME_MAX);
	frame_reader_feed(&rd, out.data, out.len - 3);
	assert_int_equal(frame_next(&rd, &p, &n), 1);
	assert_int_equal(n, 16);
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	assert_int_equal(frame_reader_pending(&rd), 4 + 9 - 3);
	/* EOF here: the peer died mid-frame */
	frame_reader_free(&rd);

	/* only part of a header */
	frame_reader_init(&rd, FRAME_MAX);
	frame_reader_feed(&rd, "\0\0", 2);
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	assert_int_equal(frame_reader_pending(&rd), 2);
	frame_reader_free(&rd);
	buf_free(&out);
}

static void check_oversized(uint32_t len, size_t max)
{
	struct frame_reader rd;
	unsigned char h[4];
	const char *p = NULL;
	size_t n = 12345;

	frame_reader_init(&rd, max);
	put_header(h, len);
	frame_reader_feed(&rd, h, sizeof(h));
	assert_int_equal(frame_next(&rd, &p, &n), -1);
	assert_null(p);
	assert_int_equal(n, 12345);
	assert_true(rd.in.cap < SMALL_CAP);
	/* still rejected when asked again, and still nothing reserved */
	assert_int_equal(frame_next(&rd, &p, &n), -1);
	assert_true(rd.in.cap < SMALL_CAP);
	frame_reader_free(&rd);

	/* the same header a byte at a time */
	frame_reader_init(&rd, max);
	for (int i = 0; i < 3; i++) {
		frame_reader_feed(&rd, h + i, 1);
		assert_int_equal(frame_next(&rd, &p, &n), 0);
	}
	frame_reader_feed(&rd, h + 3, 1);
	assert_int_equal(frame_next(&rd, &p, &n), -1);
	assert_true(rd.in.cap < SMALL_CAP);
	frame_reader_free(&rd);
}

static void test_oversized(void **state)
{
	(void)state;
	check_oversized(0xFFFFFFFFu, FRAME_MAX);
	check_oversized(FRAME_MAX + 1, FRAME_MAX);
	/* a reader with a small maximum */
	check_oversized(101, 100);
}

/* Exactly the maximum is accepted. */
static void test_at_max(void **state)
{
	struct frame_reader rd;
	unsigned char h[4];
	char body[100];
	const char *p;
	size_t n;

	(void)state;
	memset(body, 'm', sizeof(body));
	frame_reader_init(&rd, sizeof(body));
	put_header(h, sizeof(body));
	frame_reader_feed(&rd, h, sizeof(h));
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	frame_reader_feed(&rd, body, sizeof(body));
	assert_int_equal(frame_next(&rd, &p, &n), 1);
	assert_int_equal(n, sizeof(body));
	assert_memory_equal(p, body, n);
	frame_reader_free(&rd);
}

/* The header of FRAME_MAX alone: accepted, waiting for the body. */
static void test_header_of_max(void **state)
{
	struct frame_reader rd;
	unsigned char h[4];
	const char *p;
	size_t n;

	(void)state;
	frame_reader_init(&rd, FRAME_MAX);
	put_header(h, FRAME_MAX);
	frame_reader_feed(&rd, h, sizeof(h));
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	assert_int_equal(frame_reader_pending(&rd), 4);
	assert_true(rd.in.cap < SMALL_CAP);
	frame_reader_free(&rd);
}

static void test_zero_length(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	const char *p = NULL;
	size_t n = 99;
	size_t start;

	(void)state;
	start = frame_begin(&out);
	frame_end(&out, start);
	assert_int_equal(out.len, 4);
	assert_memory_equal(out.data, "\0\0\0\0", 4);
	start = frame_begin(&out);
	buf_puts(&out, "after");
	frame_end(&out, start);

	frame_reader_init(&rd, FRAME_MAX);
	frame_reader_feed(&rd, out.data, out.len);
	assert_int_equal(frame_next(&rd, &p, &n), 1);
	assert_non_null(p);
	assert_int_equal(n, 0);
	assert_int_equal(frame_next(&rd, &p, &n), 1);
	assert_int_equal(n, 5);
	assert_memory_equal(p, "after", 5);
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	frame_reader_free(&rd);
	buf_free(&out);
}

/* xorshift64: a fixed sequence so a failure reproduces. */
static uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;
	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* Random bytes with a small maximum: every call returns -1, 0 or 1, a frame
 * handed out lies inside what was fed and is no larger than the maximum,
 * and once -1 the reader keeps saying -1. */
static void test_random_bytes(void **state)
{
	uint64_t seed = 0x9E3779B97F4A7C15ull;

	(void)state;
	for (int iter = 0; iter < 400; iter++) {
		struct frame_reader rd;
		size_t max = 1 + rng_next(&seed) % 300;
		size_t total = rng_next(&seed) % 2048;
		size_t fed = 0, taken = 0;
		int dead = 0;

		frame_reader_init(&rd, max);
		while (fed < total && !dead) {
			unsigned char chunk[97];
			size_t c = 1 + rng_next(&seed) % sizeof(chunk);
			const char *p;
			size_t n;
			int r;

			if (c > total - fed)
				c = total - fed;
			for (size_t i = 0; i < c; i++) {
				/* small lengths now and then, so some frames complete */
				uint64_t v = rng_next(&seed);
				chunk[i] = (v & 0x300) ? (unsigned char)v : (unsigned char)(v % 3);
			}
			frame_reader_feed(&rd, chunk, c);
			fed += c;
			for (int k = 0; k < 1000; k++) {
				r = frame_next(&rd, &p, &n);
				assert_in_range(r + 1, 0, 2);
				if (r == 1) {
					assert_true(n <= max);
					taken += FRAME_HEADER + n;
					assert_true(taken <= fed);
					if (n)
						assert_non_null(p);
					continue;
				}
				if (r < 0) {
					dead = 1;
					assert_int_equal(frame_next(&rd, &p, &n), -1);
				}
				break;
			}
			assert_true(rd.in.cap < SMALL_CAP);
		}
		if (!dead)
			assert_int_equal(frame_reader_pending(&rd), fed - taken);
		frame_reader_free(&rd);
	}
}

static void test_pipe(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	int fds[2];
	size_t got = 0;
	const size_t nframes = sizeof(payloads) / sizeof(payloads[0]);
	const char *p;
	size_t n;
	ssize_t r;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	frame_reader_init(&rd, FRAME_MAX);

	/* empty: EAGAIN, nothing pending */
	errno = 0;
	assert_int_equal(frame_reader_fill(&rd, fds[0]), -1);
	assert_int_equal(errno, EAGAIN);
	assert_int_equal(frame_reader_pending(&rd), 0);

	encode_all(&out);
	assert_int_equal(fd_write_all(fds[1], out.data, out.len), 0);
	/* bounded: a pipe this small is read in very few calls */
	for (int i = 0; i < 100 && got < nframes; i++) {
		r = frame_reader_fill(&rd, fds[0]);
		assert_true(r > 0);
		while (frame_next(&rd, &p, &n) == 1) {
			assert_int_equal(n, payload_lens[got]);
			assert_memory_equal(p, payloads[got], n);
			got++;
		}
	}
	assert_int_equal(got, nframes);
	errno = 0;
	assert_int_equal(frame_reader_fill(&rd, fds[0]), -1);
	assert_int_equal(errno, EAGAIN);

	/* half a frame, then EOF: pending says the peer died mid-frame */
	buf_reset(&out);
	size_t start = frame_begin(&out);
	buf_puts(&out, "hello, frame");
	frame_end(&out, start);
	assert_int_equal(fd_write_all(fds[1], out.data, 6), 0);
	close(fds[1]);
	assert_int_equal(frame_reader_fill(&rd, fds[0]), 6);
	assert_int_equal(frame_next(&rd, &p, &n), 0);
	assert_int_equal(frame_reader_fill(&rd, fds[0]), 0);
	assert_int_equal(frame_reader_pending(&rd), 6);

	close(fds[0]);
	frame_reader_free(&rd);
	buf_free(&out);
}

/* A frame bigger than one read chunk arrives whole through a pipe. */
static void test_pipe_large(void **state)
{
	struct buf out = BUF_INIT;
	struct frame_reader rd;
	int fds[2];
	const size_t body = 200000; /* more than a pipe holds: write and read in turns */
	size_t written = 0, start;
	const char *p = NULL;
	size_t n = 0;
	int r = 0;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	start = frame_begin(&out);
	buf_reserve(&out, body);
	for (size_t i = 0; i < body; i++)
		out.data[out.len + i] = (char)('a' + i % 26);
	out.len += body;
	frame_end(&out, start);

	frame_reader_init(&rd, FRAME_MAX);
	for (int i = 0; i < 10000 && r == 0; i++) {
		if (written < out.len) {
			ssize_t w = write(fds[1], out.data + written, out.len - written);
			if (w > 0)
				written += (size_t)w;
			else
				assert_int_equal(errno, EAGAIN);
		}
		ssize_t got = frame_reader_fill(&rd, fds[0]);
		assert_true(got > 0 || (got < 0 && errno == EAGAIN));
		r = frame_next(&rd, &p, &n);
		assert_in_range(r, 0, 1);
	}
	assert_int_equal(r, 1);
	assert_int_equal(n, body);
	assert_memory_equal(p, out.data + 4, body);
	close(fds[0]);
	close(fds[1]);
	frame_reader_free(&rd);
	buf_free(&out);
}

/* frame_reader_fill with an oversized header in the pipe: no big buffer. */
static void test_pipe_oversized(void **state)
{
	struct frame_reader rd;
	int fds[2];
	const char *p;
	size_t n;

	(void)state;
	assert_int_equal(pipe2(fds, O_CLOEXEC | O_NONBLOCK), 0);
	frame_reader_init(&rd, FRAME_MAX);
	assert_int_equal(fd_write_all(fds[1], "\xff\xff\xff\xff", 4), 0);
	assert_int_equal(frame_reader_fill(&rd, fds[0]), 4);
	assert_int_equal(frame_next(&rd, &p, &n), -1);
	assert_int_equal(fd_write_all(fds[1], "more", 4), 0);
	assert_int_equal(frame_reader_fill(&rd, fds[0]), 4);
	assert_true(rd.in.cap < SMALL_CAP);
	close(fds[0]);
	close(fds[1]);
	frame_reader_free(&rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_encode_header),
		cmocka_unit_test(test_byte_at_a_time),
		cmocka_unit_test(test_completes_on_last_byte),
		cmocka_unit_test(test_several_in_one_feed),
		cmocka_unit_test(test_uneven_chunks),
		cmocka_unit_test(test_truncated),
		cmocka_unit_test(test_oversized),
		cmocka_unit_test(test_at_max),
		cmocka_unit_test(test_header_of_max),
		cmocka_unit_test(test_zero_length),
		cmocka_unit_test(test_random_bytes),
		cmocka_unit_test(test_pipe),
		cmocka_unit_test(test_pipe_large),
		cmocka_unit_test(test_pipe_oversized),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
