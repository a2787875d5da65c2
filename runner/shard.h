/* shard: one run split among N machines (--shard K/N, --shard auto).
 *
 * Every host belongs to exactly one of N shards, chosen from its name
 * alone: a 64-bit hash of the name (FNV-1a, then a finalizer that spreads
 * similar names such as h0001 and h0002) fed to jump consistent hashing
 * (Lamping and Veach, "A Fast, Minimal Memory, Consistent Hash
 * Algorithm", 2014). So:
 *   - a host's shard does not depend on the inventory's order or content:
 *     adding or removing other hosts never moves it;
 *   - going from N to N+1 shards moves only about 1/(N+1) of the hosts
 *     (each to the new shard), not nearly all of them as hash mod N would.
 *
 * Shard indexes are 0-based, K in 0..N-1, as Slurm array task ids
 * (--array=0-(N-1)) and Kubernetes Indexed Job completion indexes are. */
#ifndef FLEETRUN_SHARD_H
#define FLEETRUN_SHARD_H

#include <stdbool.h>
#include <stdint.h>

#include "util.h"

/* The most shards a run may be split into. */
#define SHARD_MAX 100000

struct shard {
	uint32_t index;  /* 0..count-1 */
	uint32_t count;  /* 0: the run is not sharded */
	char label[24];  /* "K/N", as records and messages show it */
};

/* The shard, 0..count-1, of a host among count shards (count >= 1). */
uint32_t shard_of(const char *host, uint32_t count);
/* Is the host in shard s? Always true when s is not sharded. */
bool shard_has(const struct shard *s, const char *host);

/* --shard K/N. 0, or -1 with err saying what was expected. */
int shard_parse(const char *text, struct shard *out, struct err *err);
/* --shards N: the number of shards, 1..SHARD_MAX. */
int shard_parse_count(const char *text, uint32_t *out, struct err *err);
/* --shard auto: the shard from the environment of a Slurm job array
 * (SLURM_ARRAY_TASK_*) or a Kubernetes Indexed Job (JOB_COMPLETION_INDEX).
 * count is --shards N, or 0 when not given ($FLEETRUN_SHARDS then). With a
 * count, the array task id or completion index is the shard index itself;
 * without one, Slurm's array gives both: its task count, and the task's
 * position in the array. 0, or -1 with err. */
int shard_auto(uint32_t count, struct shard *out, struct err *err);
/* --shard SPEC (K/N or auto, or NULL) with --shards COUNT (or NULL) into
 * out; out->count is 0 when SPEC is NULL. 0, or -1 with err. */
int shard_resolve(const char *spec, const char *count, struct shard *out, struct err *err);

/* A per-shard file name from a pattern: %K the shard index, %N the count,
 * %% a percent sign. Unsharded, the pattern is taken as it is, but %K or
 * %N in it is an error (they would name no shard). A malloced string, or
 * NULL with err. */
char *shard_path(const char *pattern, const struct shard *s, struct err *err);
/* Does the pattern name the shard (hold %K)? */
bool shard_path_has_index(const char *pattern);

#endif
