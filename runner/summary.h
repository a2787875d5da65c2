/* summary: what a run came to: counts per status, the slowest hosts, the
 * failures grouped by error. Bounded in size whatever the number of hosts.
 *
 * Failures are grouped by their error text with the numbers and addresses
 * in it taken out, so "cannot connect to 127.0.1.5 port 22: Connection
 * refused" and the same for 127.0.1.6 are one group. A group is shown as
 * its first error with the parts that differed between its hosts replaced
 * by <addr> or <n>. */
#ifndef FLEETRUN_SUMMARY_H
#define FLEETRUN_SUMMARY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "buf.h"
#include "status.h"

#define SUMMARY_SLOWEST 5
#define SUMMARY_GROUPS 10      /* groups shown, the largest first */
#define SUMMARY_GROUPS_KEPT 32 /* groups counted; hosts past them count as "other" */
#define SUMMARY_GROUP_HOSTS 3

enum summary_format { SUMMARY_NONE, SUMMARY_TEXT, SUMMARY_JSON };

struct summary_host {
	char *host; /* NULL or malloced, owned */
	int64_t duration_ms;
};

struct summary_group {
	enum status status;
	char *key;       /* the error, numbers and addresses as placeholders; malloced, owned */
	char *example;   /* the group's first error as it was; malloced, owned */
	uint64_t varied; /* bit i: the i-th number or address differed within the group */
	uint64_t count;
	char *hosts[SUMMARY_GROUP_HOSTS]; /* NULL or malloced, owned */
};

struct summary {
	uint64_t counts[STATUS_COUNT];
	uint64_t total;
	struct summary_host slowest[SUMMARY_SLOWEST]; /* slowest first */
	struct summary_group groups[SUMMARY_GROUPS_KEPT];
	size_t ngroups;
	uint64_t other_errors; /* not ok records whose group did not fit */
	uint64_t unfinished;   /* `report`: hosts with no final record */
	struct buf scratch;    /* the key of the error being added */
};

/* How a run or a journal came out, beside the summary itself. */
struct summary_run {
	const char *job;
	int64_t wall_ms;  /* how long the run took */
	bool interrupted; /* the run was stopped */
	/* How far it got, when known (targets 0: not known): the run's
	 * targets, how many have a final record, how many never started, and
	 * the command line that runs the rest (NULL: none to give). */
	uint64_t targets, finished, not_started;
	const char *resume;
	/* `report` of a journal several runs wrote: each run's own wall time
	 * (nruns 0: not known) */
	const int64_t *run_wall_ms;
	size_t nruns;
	bool in_progress; /* `report`: a run still holds the journal */
};

void summary_add(struct summary *s, const char *host, enum status st, const char *error, int64_t duration_ms);
/* The lines, on f. */
void summary_print(const struct summary *s, FILE *f, const struct summary_run *run);
/* One JSON object and a newline, on f. */
void summary_print_json(const struct summary *s, FILE *f, const struct summary_run *run);
/* The text a group is shown with (its error, or its pattern when the
 * hosts' errors differed), into out. */
void summary_group_text(const struct summary_group *g, struct buf *out);
/* The error text with its numbers and addresses as placeholders, into
 * out: what failures are grouped by. */
void summary_error_key(const char *error, struct buf *out);
void summary_free(struct summary *s);

#endif
