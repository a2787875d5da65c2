/* retryq: tasks waiting for another attempt, each until its own time.
 *
 * Retries back off exponentially with jitter, so a device (or an AAA
 * server, a bastion) that refused a storm of connections is not hit by
 * the same storm again a moment later: attempt n+1 waits
 * base * 2^(n-1), capped, times a random factor in [0.5, 1). A binary
 * min-heap on the time each task may start. */
#ifndef FLEETRUN_RETRYQ_H
#define FLEETRUN_RETRYQ_H

#include <stddef.h>
#include <stdint.h>

#include "task.h"

/* The longest wait between two attempts, whatever the base and count. */
#define RETRYQ_MAX_DELAY_MS 60000

struct retryq_item {
	int64_t at_ms;          /* monotonic: not before */
	struct task_rec *task;  /* owned while queued */
};

struct retryq {
	struct retryq_item *items;
	size_t len, cap;
	uint64_t rng;           /* xorshift state for the jitter */
};

void retryq_init(struct retryq *q, uint64_t seed);
/* How long before attempt `next` (2 for the first retry) may start. */
int64_t retryq_delay_ms(struct retryq *q, int64_t base_ms, uint32_t next);
void retryq_push(struct retryq *q, struct task_rec *t, int64_t at_ms);
/* The earliest task whose time has come (at_ms <= now), or NULL. */
struct task_rec *retryq_pop(struct retryq *q, int64_t now_ms);
/* When the earliest task may start, or 0 when the queue is empty. */
int64_t retryq_next_ms(const struct retryq *q);
/* Frees the queued tasks too. */
void retryq_free(struct retryq *q);

#endif
