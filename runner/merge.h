/* merge: `fleetrun merge`: one journal out of the per-shard journals of a
 * sharded run (or of any journals of one job), with one record per host
 * and the summary of the whole run.
 *
 * The record kept for a host is its latest final one: within a journal
 * the last (journals are append-only), across journals the one that
 * started last (ties: the journal named later). A host with no final
 * record (its run was interrupted on it) keeps its latest interrupted
 * record, so that no host disappears and --resume still runs it again. */
#ifndef FLEETRUN_MERGE_H
#define FLEETRUN_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

struct merge_opts {
	const char *const *inputs; /* journals, in the order given */
	size_t ninputs;
	const char *output;        /* -o: written whole, then renamed into place */
	bool quiet;                /* no summary */
};

/* Merge. Returns the exit code: 0 every host ok, 1 some host not ok or
 * without a final record, 2 a usage error (unreadable journal, journals of
 * different jobs, a journal still being written), 3 the output could not
 * be written. */
int merge_journals(const struct merge_opts *o);

#endif
