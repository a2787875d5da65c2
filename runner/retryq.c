/* retryq: a min-heap of tasks by the time they may run again. */
#include "retryq.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void retryq_init(struct retryq *q, uint64_t seed)
{
	memset(q, 0, sizeof(*q));
	q->rng = seed ? seed : 0x9e3779b97f4a7c15ULL;
}

static uint64_t retryq_rand(struct retryq *q)
{
	/* xorshift64: the jitter needs spread, not secrecy */
	q->rng ^= q->rng << 13;
	q->rng ^= q->rng >> 7;
	q->rng ^= q->rng << 17;
	return q->rng;
}

int64_t retryq_delay_ms(struct retryq *q, int64_t base_ms, uint32_t next)
{
	int64_t d = base_ms;

	if (base_ms <= 0)
		return 0;
	for (uint32_t i = 2; i < next && d < RETRYQ_MAX_DELAY_MS; i++)
		d *= 2;
	if (d > RETRYQ_MAX_DELAY_MS)
		d = RETRYQ_MAX_DELAY_MS;
	/* "equal jitter": half fixed, half random, so retries of hosts
	 * that failed together spread out but still wait */
	return d / 2 + (int64_t)(retryq_rand(q) % (uint64_t)(d / 2 + 1));
}

static void retryq_swap(struct retryq *q, size_t a, size_t b)
{
	struct retryq_item t = q->items[a];
	q->items[a] = q->items[b];
	q->items[b] = t;
}

void retryq_push(struct retryq *q, struct task_rec *t, int64_t at_ms)
{
	size_t i;

	if (q->len == q->cap) {
		q->cap = q->cap ? q->cap * 2 : 16;
		q->items = xreallocarray(q->items, q->cap, sizeof(*q->items));
	}
	i = q->len++;
	q->items[i] = (struct retryq_item){at_ms, t};
	while (i > 0 && q->items[(i - 1) / 2].at_ms > q->items[i].at_ms) {
		retryq_swap(q, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

struct task_rec *retryq_pop(struct retryq *q, int64_t now_ms)
{
	struct task_rec *t;
	size_t i = 0;

	if (!q->len || q->items[0].at_ms > now_ms)
		return NULL;
	t = q->items[0].task;
	q->items[0] = q->items[--q->len];
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < q->len && q->items[l].at_ms < q->items[m].at_ms)
			m = l;
		if (r < q->len && q->items[r].at_ms < q->items[m].at_ms)
			m = r;
		if (m == i)
			break;
		retryq_swap(q, i, m);
		i = m;
	}
	return t;
}

int64_t retryq_next_ms(const struct retryq *q)
{
	return q->len ? q->items[0].at_ms : 0;
}

void retryq_free(struct retryq *q)
{
	for (size_t i = 0; i < q->len; i++)
		task_rec_free(q->items[i].task);
	free(q->items);
	memset(q, 0, sizeof(*q));
}
