/* jumpspec: the jump chain of a host, "[user@]host[:port][,...]" or
 * "none", parsed and checked.
 *
 * Apart because two programs read it: the worker, which logs in to each
 * hop, and the supervisor, which accepts a new host key under accept-new
 * only for a name the host's own chain (or the host) has. A host var may
 * choose the chain (it is data: it names hosts, never a command), so the
 * grammar is strict: host names of letters, digits, '.', '-' and '_' (as
 * inventories allow), IPv6 addresses in [brackets], ports 1-65535, users
 * of the same characters as host names. */
#ifndef FLEETRUN_JUMPSPEC_H
#define FLEETRUN_JUMPSPEC_H

#include <stddef.h>

#include "util.h"

/* At most this many hops in a chain: a longer chain is a mistake. */
#define JUMPSPEC_MAX_HOPS 8

struct jumpspec_hop {
	char *user; /* NULL: the job's user */
	char *host; /* without brackets */
	char port[6];
};

/* A chain; hops malloced and owned. n == 0: no jump. */
struct jumpspec {
	struct jumpspec_hop hops[JUMPSPEC_MAX_HOPS];
	size_t n;
};

/* Parse spec ("none" and "" are no jump) into *out (zeroed first). 0, or
 * -1 with err naming the hop and what was expected (and *out empty). */
int jumpspec_parse(const char *spec, struct jumpspec *out, struct err *err);

void jumpspec_free(struct jumpspec *j);

#endif
