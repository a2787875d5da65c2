/* exclude: the hosts -x takes out of a run (clush's and pdsh's -x).
 *
 * -x takes the notation of -H ('rtr[01-05],fw1'): the names it expands
 * to are kept in a set, and a target whose name is in it is skipped.
 * Apart from targets.c because it is a set of names, where targets are a
 * stream; a set has a bound (EXCLUDE_MAX_NAMES), so that -x 'h[1-1e9]'
 * is refused rather than filling memory. */
#ifndef FLEETRUN_EXCLUDE_H
#define FLEETRUN_EXCLUDE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

#define EXCLUDE_MAX_NAMES 1000000

struct exclude;

/* The set of the names patterns[0..n) expand to. n == 0 gives *out
 * NULL, a set nothing is in. 0, or -1 with err as "-x 'PATTERN': ...". */
int exclude_open(const char *const *patterns, size_t n, struct exclude **out, struct err *err);
/* Is name in the set? ex may be NULL (nothing excluded). */
bool exclude_has(const struct exclude *ex, const char *name);
void exclude_close(struct exclude *ex);

#endif
