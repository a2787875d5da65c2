/* order: --ordered, records written in the order the targets came, not
 * the order their tasks finished. A record waits in a ring until every
 * earlier one is out; a task may start only while its record would fit
 * in the ring (order_may_start), so the ring never overflows and one slow
 * host holds back at most a window of records behind it.
 *
 * Apart from the outputs it feeds: it knows task ids (sequence numbers
 * from 0, as the pool hands them out) and held lines, not where the lines
 * go (sink.c writes what order_next hands back). */
#ifndef FLEETRUN_ORDER_H
#define FLEETRUN_ORDER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* A record held back: its lines as they will be written. */
struct order_held {
	char *json; /* malloced, owned; the record, without its newline */
	char *text; /* NULL or malloced, owned; its lines for stdout */
};

struct order {
	uint64_t next_id;         /* the id whose record goes out next */
	size_t window;            /* ring size; tasks start within it */
	struct order_held *ring;  /* NULL or malloced array of window records */
};

/* An order with a ring of window records (window > 0). */
void order_init(struct order *o, size_t window);
/* Hold the record of task id (next_id <= id < next_id + window, as
 * order_may_start allowed); h's strings are the ring's from now on. */
void order_hold(struct order *o, uint64_t id, struct order_held h);
/* The next record in sequence, if it is here: true and *out (its strings
 * the caller's to free), and the sequence moves on; false while the next
 * record has not come. */
bool order_next(struct order *o, struct order_held *out);
/* At the end of a run: the records still held, those behind a task that
 * never finished, one per call in id order, skipping the gaps. */
bool order_drain(struct order *o, struct order_held *out);
/* May the task with this id be started now? */
bool order_may_start(const struct order *o, uint64_t id);
/* Frees what is still held. */
void order_free(struct order *o);

#endif
