/* targets: the hosts a run targets, from inventory files (-i) and host
 * patterns (-H), filtered by -l and by the run's shard.
 *
 * Targets are produced one host at a time, never as a whole list, so that
 * a million-host run (-H 'h[1-1000000]', or a million-line inventory) keeps
 * the supervisor's memory flat. -x names (exclude.h) are the one set.
 *
 * Hosts are not deduplicated across sources: a host given by two -i files,
 * or by a file and a -H pattern, is produced twice (remembering every name
 * seen would defeat the flat memory). */
#ifndef FLEETRUN_TARGETS_H
#define FLEETRUN_TARGETS_H

#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "shard.h"
#include "util.h"

struct targets_opts {
	const char *const *inventories; /* -i files, in order */
	size_t ninventories;
	const char *const *patterns;    /* -H patterns, in order */
	size_t npatterns;
	const char *limit;              /* -l, or NULL for every host */
	const char *const *excludes;    /* -x patterns: names never targeted */
	size_t nexcludes;
};

struct targets;

/* Validates the patterns and the limit and opens the sources: every file
 * is opened now, and a YAML inventory read, so that a missing or broken
 * one stops the run before any host is touched. 0 or -1. */
int targets_open(const struct targets_opts *o, struct targets **out, struct err *err);
/* 1: *h is the next host (caller owns it, host_free); 0: no more hosts;
 * -1: a bad line or pattern, err says "file:line:column: ..." */
int targets_next(struct targets *t, struct host *h, struct err *err);
/* targets_next, skipping the hosts of other shards (counted in *others
 * when others is not NULL). Same returns as targets_next. */
int targets_next_in_shard(struct targets *t, const struct shard *s, struct host *h, uint64_t *others,
			  struct err *err);
void targets_close(struct targets *t);

/* -l: a comma or colon separated list of fnmatch(3) globs; a host matches
 * when its name or one of its groups matches one of them. A glob starting
 * with '!' excludes; 'all' is every host. NULL or "" matches everything. */
int targets_limit_match(const char *limit, const struct host *h);

#endif
