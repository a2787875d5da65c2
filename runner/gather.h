/* gather: --gather, hosts whose output is identical shown once, the way
 * `clush -b` and `dshbak -c` show them:
 *
 *   ---------------- rtr[01-05,07].dc1 (6)
 *   Cisco IOS XE Software, Version 17.3.4a
 *
 * The largest group first. A host's text is its steps' output (stdout or
 * HTTP body) in order, then, when it is not ok, its status and error. Each
 * distinct text is kept once, with the names of its hosts.
 *
 * --gather-by KEY[,KEY]: the text of an ok host is instead the values of
 * those keys in its parsed records (parsedview_select: "version=17.3.4a"),
 * so hosts fold on what a template read, not on every byte of the output
 * (uptimes and serials differ from router to router); an ok host without
 * them is in the group "(no parsed KEY,KEY)", a host not ok in the group
 * of its status and error. */
#ifndef FLEETRUN_GATHER_H
#define FLEETRUN_GATHER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "hashidx.h"
#include "util.h"
#include "proto.h"
#include "status.h"

struct gather_group {
	char *text;         /* malloced, owned */
	size_t len;
	char **hosts;       /* malloced names, owned */
	size_t nhosts, cap;
};

struct gather {
	struct gather_group *groups;
	size_t ngroups, cap;
	struct hashidx index; /* the groups by their text */
	struct buf text;    /* scratch */
	char *const *keys;  /* --gather-by's keys, or NULL; the caller's */
	size_t nkeys;
};

/* Keys at most this many, each at most this long (a TextFSM value name). */
#define GATHER_MAX_KEYS 16
#define GATHER_MAX_KEY_LEN 64

/* --gather-by's list, "Version,hardware": *keys (malloced, owned, each
 * lowercased, as parsed records' keys are) and *nkeys, or -1 with err
 * when an item is empty or not a value name (letters, digits, _). */
int gather_keys_parse(const char *list, char ***keys, size_t *nkeys, struct err *err);
void gather_keys_free(char **keys, size_t nkeys);

void gather_init(struct gather *g);
/* One host's result: res the worker's (NULL for a record the supervisor
 * made itself), error NULL when none. */
void gather_add(struct gather *g, const char *host, enum status st, const struct proto_result *res,
                const char *error);
/* The groups, largest first, on f. */
void gather_print(struct gather *g, FILE *f, bool color);
void gather_free(struct gather *g);

#endif
