/* taskscope: what the templates of one task (a job on one host) are
 * rendered in, and what is masked in all the task shows: the host's
 * built-ins (tmpl_builtins), its vars, the vars its steps capture, and the
 * secrets, to begin with every host var named like one.
 *
 * Apart from tmpl because it is policy, not template syntax: which lists
 * a task's scope holds, in which order, and which values are secret from
 * the start. The worker renders a task's steps in it (worker/task.c) and
 * `fleetrun run --dry-run` shows them rendered in it (runner/cmd_run.c):
 * one builder, so the dry run cannot show other values, or mask fewer,
 * than the worker. */
#ifndef FLEETRUN_TASKSCOPE_H
#define FLEETRUN_TASKSCOPE_H

#include "kv.h"
#include "tmpl.h"

struct taskscope {
	struct kvlist captured;  /* vars the task's steps captured so far
	                            (steps add to it; a dry run captures none) */
	struct kvlist builtins;  /* host, address, port, user, job */
	struct kvlist secrets;   /* values to mask in whatever the task shows
	                            (tmpl_mask); rendering adds to it */
	struct tmpl_scope scope; /* captured, the host's vars, builtins: it
	                            points into this struct, so a taskscope is
	                            used where taskscope_init put it, never
	                            copied */
};

/* Set up ts for job on host, whose vars must outlive ts. Inventories hold
 * passwords: a host var named like a secret (tmpl_is_secret_name) is a
 * secret from here on, used by a template or not (a command may print its
 * FLEETRUN_<NAME>). */
void taskscope_init(struct taskscope *ts, const char *job, const char *host, const struct kvlist *vars);

void taskscope_free(struct taskscope *ts);

#endif
