/* logins: counting logins in progress per key and overall, and the
 * queue of workers waiting for one (logins.h). */
#include "logins.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void logins_init(struct logins *l, int nslots, int max, int key_max)
{
	memset(l, 0, sizeof(*l));
	l->max = max;
	l->key_max = key_max;
	l->nslots = nslots;
	l->slots = xcalloc(nslots > 0 ? (size_t)nslots : 1, sizeof(*l->slots));
	l->queue = xcalloc(nslots > 0 ? (size_t)nslots : 1, sizeof(*l->queue));
	for (int i = 0; i < nslots; i++)
		l->slots[i].key = -1;
}

void logins_free(struct logins *l)
{
	for (int i = 0; i < l->nkeys; i++)
		free(l->keys[i].name);
	free(l->keys);
	free(l->slots);
	free(l->queue);
	memset(l, 0, sizeof(*l));
}

bool logins_enabled(const struct logins *l)
{
	return l->max > 0 || l->key_max > 0;
}

/* The entry of key, made (in a free entry, else a new one) when there is
 * none. As many keys live at once as slots hold or wait for one, so the
 * table stays as small as the pool. */
static int logins_key_ref(struct logins *l, const char *key, size_t n)
{
	int free_at = -1;

	for (int i = 0; i < l->nkeys; i++) {
		const char *name = l->keys[i].name;
		if (!name) {
			if (free_at < 0)
				free_at = i;
		} else if (strlen(name) == n && memcmp(name, key, n) == 0) {
			l->keys[i].refs++;
			return i;
		}
	}
	if (free_at < 0) {
		l->keys = xrealloc(l->keys, (size_t)(l->nkeys + 1) * sizeof(*l->keys));
		free_at = l->nkeys++;
	}
	l->keys[free_at] = (struct logins_key){xstrndup(key, n), 0, 1};
	return free_at;
}

static void logins_key_unref(struct logins *l, int k)
{
	if (k < 0 || --l->keys[k].refs > 0)
		return;
	free(l->keys[k].name);
	l->keys[k] = (struct logins_key){NULL, 0, 0};
}

/* May a login with key k start now? */
static bool logins_room(const struct logins *l, int k)
{
	if (l->max > 0 && l->active >= l->max)
		return false;
	return k < 0 || l->key_max <= 0 || l->keys[k].active < l->key_max;
}

static void logins_hold(struct logins *l, int slot)
{
	struct logins_slot *s = &l->slots[slot];

	s->state = LOGINS_HOLDING;
	l->active++;
	if (s->key >= 0)
		l->keys[s->key].active++;
}

int logins_request(struct logins *l, int slot, const char *key, size_t n, int64_t now)
{
	struct logins_slot *s;

	if (slot < 0 || slot >= l->nslots)
		return -1;
	s = &l->slots[slot];
	if (s->state != LOGINS_NONE)
		return -1;
	s->key = n ? logins_key_ref(l, key, n) : -1;
	s->since_ms = now;
	/* queued even when there is room: logins_grant decides, in order, so
	 * a newcomer never passes one waiting for the same room */
	s->state = LOGINS_WAITING;
	l->queue[l->nqueue++] = slot;
	return 0;
}

static void logins_unqueue(struct logins *l, int at)
{
	memmove(&l->queue[at], &l->queue[at + 1], (size_t)(l->nqueue - at - 1) * sizeof(*l->queue));
	l->nqueue--;
}

void logins_release(struct logins *l, int slot)
{
	struct logins_slot *s;

	if (slot < 0 || slot >= l->nslots)
		return;
	s = &l->slots[slot];
	if (s->state == LOGINS_HOLDING) {
		l->active--;
		if (s->key >= 0)
			l->keys[s->key].active--;
	} else if (s->state == LOGINS_WAITING) {
		for (int i = 0; i < l->nqueue; i++) {
			if (l->queue[i] == slot) {
				logins_unqueue(l, i);
				break;
			}
		}
	} else {
		return;
	}
	logins_key_unref(l, s->key);
	s->state = LOGINS_NONE;
	s->key = -1;
}

int logins_grant(struct logins *l, int64_t now, int64_t *waited_ms)
{
	for (int i = 0; i < l->nqueue; i++) {
		int slot = l->queue[i];

		if (l->max > 0 && l->active >= l->max)
			return -1;
		if (!logins_room(l, l->slots[slot].key))
			continue; /* its jump host is full: the next may go elsewhere */
		logins_unqueue(l, i);
		logins_hold(l, slot);
		*waited_ms = now - l->slots[slot].since_ms;
		return slot;
	}
	return -1;
}

enum logins_state logins_state_of(const struct logins *l, int slot)
{
	return slot >= 0 && slot < l->nslots ? l->slots[slot].state : LOGINS_NONE;
}
