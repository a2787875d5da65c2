/* kv: a small ordered list of string pairs: host vars, captured vars. */
#ifndef FLEETRUN_KV_H
#define FLEETRUN_KV_H

#include <stddef.h>

struct kv {
	char *key;   /* malloced, owned */
	char *value; /* malloced, owned */
};

struct kvlist {
	struct kv *items; /* NULL or malloced, owned */
	size_t len;
	size_t cap;
};

#define KVLIST_INIT {NULL, 0, 0}

/* Set key to value, replacing an existing value of the same key. */
void kvlist_set(struct kvlist *l, const char *key, const char *value);
void kvlist_setn(struct kvlist *l, const char *key, size_t klen, const char *value, size_t vlen);
/* NULL when the key is not there. */
const char *kvlist_get(const struct kvlist *l, const char *key);
void kvlist_free(struct kvlist *l);

#endif
