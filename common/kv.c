/* kv: ordered string pairs. Lists are short (a host's vars), so a linear
 * search beats a hash table in both code and time. */
#include "kv.h"

#include <stdlib.h>
#include <string.h>

#include "util.h"

void kvlist_setn(struct kvlist *l, const char *key, size_t klen, const char *value, size_t vlen)
{
	for (size_t i = 0; i < l->len; i++) {
		if (strlen(l->items[i].key) == klen && memcmp(l->items[i].key, key, klen) == 0) {
			free(l->items[i].value);
			l->items[i].value = xstrndup(value, vlen);
			return;
		}
	}
	if (l->len == l->cap) {
		l->cap = l->cap ? l->cap * 2 : 4;
		l->items = xreallocarray(l->items, l->cap, sizeof(*l->items));
	}
	l->items[l->len].key = xstrndup(key, klen);
	l->items[l->len].value = xstrndup(value, vlen);
	l->len++;
}

void kvlist_set(struct kvlist *l, const char *key, const char *value)
{
	kvlist_setn(l, key, strlen(key), value, strlen(value));
}

const char *kvlist_get(const struct kvlist *l, const char *key)
{
	for (size_t i = 0; i < l->len; i++)
		if (strcmp(l->items[i].key, key) == 0)
			return l->items[i].value;
	return NULL;
}

void kvlist_free(struct kvlist *l)
{
	for (size_t i = 0; i < l->len; i++) {
		free(l->items[i].key);
		free(l->items[i].value);
	}
	free(l->items);
	l->items = NULL;
	l->len = l->cap = 0;
}
