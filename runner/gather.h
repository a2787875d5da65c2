/* gather: --gather, hosts whose output is identical shown once, the way
 * `clush -b` and `dshbak -c` show them:
 *
 *   ---------------- rtr[01-05,07].dc1 (6)
 *   Cisco IOS XE Software, Version 17.3.4a
 *
 * The largest group first. A host's text is its steps' output (stdout or
 * HTTP body) in order, then, when it is not ok, its status and error. Each
 * distinct text is kept once, with the names of its hosts. */
#ifndef FLEETRUN_GATHER_H
#define FLEETRUN_GATHER_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "hashidx.h"
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
};

void gather_init(struct gather *g);
/* One host's result: res the worker's (NULL for a record the supervisor
 * made itself), error NULL when none. */
void gather_add(struct gather *g, const char *host, enum status st, const struct proto_result *res,
                const char *error);
/* The groups, largest first, on f. */
void gather_print(struct gather *g, FILE *f, bool color);
void gather_free(struct gather *g);

#endif
