/* order: the --ordered ring; see order.h. */
#include "order.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void order_init(struct order *o, size_t window)
{
	memset(o, 0, sizeof(*o));
	o->window = window;
	o->ring = xcalloc(window, sizeof(*o->ring));
}

void order_hold(struct order *o, uint64_t id, struct order_held h)
{
	o->ring[id % o->window] = h;
}

/* Hand out the record at next_id and move past it. */
static void order_take(struct order *o, struct order_held *out)
{
	struct order_held *h = &o->ring[o->next_id % o->window];

	*out = *h;
	h->json = h->text = NULL;
	o->next_id++;
}

bool order_next(struct order *o, struct order_held *out)
{
	if (!o->ring || !o->ring[o->next_id % o->window].json)
		return false;
	order_take(o, out);
	return true;
}

bool order_drain(struct order *o, struct order_held *out)
{
	/* every held id is within a window of next_id: one turn of the
	 * ring finds the next one or shows there is none */
	for (size_t i = 0; o->ring && i < o->window; i++, o->next_id++) {
		if (o->ring[o->next_id % o->window].json) {
			order_take(o, out);
			return true;
		}
	}
	return false;
}

bool order_may_start(const struct order *o, uint64_t id)
{
	return id < o->next_id + o->window;
}

void order_free(struct order *o)
{
	for (size_t i = 0; o->ring && i < o->window; i++) {
		free(o->ring[i].json);
		free(o->ring[i].text);
	}
	free(o->ring);
	memset(o, 0, sizeof(*o));
}
