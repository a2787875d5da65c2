/* summary: what a run came to: counts per status, the slowest hosts, the
 * failures grouped by error. Bounded in size whatever the number of hosts. */
#ifndef FLEETRUN_SUMMARY_H
#define FLEETRUN_SUMMARY_H

#include <stdint.h>
#include <stdio.h>

#include "status.h"

#define SUMMARY_SLOWEST 5
#define SUMMARY_GROUPS 10
#define SUMMARY_GROUP_HOSTS 3

struct summary_host {
	char *host; /* NULL or malloced, owned */
	int64_t duration_ms;
};

struct summary_group {
	enum status status;
	char *error; /* malloced, owned */
	uint64_t count;
	char *hosts[SUMMARY_GROUP_HOSTS]; /* NULL or malloced, owned */
};

struct summary {
	uint64_t counts[STATUS_COUNT];
	uint64_t total;
	struct summary_host slowest[SUMMARY_SLOWEST]; /* slowest first */
	struct summary_group groups[SUMMARY_GROUPS];
	size_t ngroups;
	uint64_t other_errors; /* not ok records whose group did not fit */
};

void summary_add(struct summary *s, const char *host, enum status st, const char *error, int64_t duration_ms);
/* The lines, on f. wall_ms is how long the run took. */
void summary_print(const struct summary *s, FILE *f, const char *job, int64_t wall_ms, int interrupted);
void summary_free(struct summary *s);

#endif
