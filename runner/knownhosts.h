/* knownhosts: appending host keys that workers met under
 * host_key_policy accept-new. The supervisor is the only writer of
 * known_hosts, so 256 workers meeting new hosts at once still leave a
 * well-formed file: one whole line per key, each written once. */
#ifndef FLEETRUN_KNOWNHOSTS_H
#define FLEETRUN_KNOWNHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "util.h"

struct knownhosts {
	uint64_t *seen; /* hashes of path+line already appended this run */
	size_t nseen;
	size_t cap;
};

/* Append line (one known_hosts entry, no newline inside) to the file at
 * path, creating it (0600) and its directory (0700) if needed, under an
 * exclusive flock so another fleetrun appending at the same time does not
 * interleave. A line already appended by this run is skipped. 0 or -1. */
int knownhosts_append(struct knownhosts *k, const char *path, size_t plen, const char *line, size_t llen,
                      struct err *err);
void knownhosts_free(struct knownhosts *k);

#endif
