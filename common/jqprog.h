/* jqprog: jq programs for a job's checks and captures, compiled so that
 * they mean the same whoever runs fleetrun. */
#ifndef FLEETRUN_JQPROG_H
#define FLEETRUN_JQPROG_H

#include <jq.h>

/* A jq state with no library path: job files cannot use modules (job_http.c
 * refuses them), and jq 1.6 aborts the process on an import when no
 * library path is set. NULL when jq cannot start. */
jq_state *jqprog_new(void);

/* jq_compile without the user's ~/.jq. jq 1.6 imports $HOME/.jq into
 * every program it compiles, library path or not (builtins_bind), so a
 * user's ~/.jq would change what a job's check or capture means, and every
 * worker would read it. HOME is taken out of the environment for the
 * compile and put back: call it only while the process has one thread (the
 * supervisor parsing a job, a worker before its first task). */
int jqprog_compile(jq_state *jq, const char *program);

#endif
