/* child: what a local command the worker starts (an exec step, a
 * proxy_command) does between fork and exec, so that both follow the same
 * process-group rules.
 *
 * The child puts itself in its own process group and waits at a gate
 * (a pipe) until the worker has told the supervisor that group: a
 * command that kills its own worker at once (kill -SEGV $PPID) must not
 * get there before the supervisor can find what it leaves. Then signals
 * are reset, and /bin/sh -c runs with the given stdio and nothing else of
 * the worker's. Only async-signal-safe calls. */
#ifndef FLEETRUN_CHILD_H
#define FLEETRUN_CHILD_H

#include <sys/types.h>

/* Own group, the gate, default signals. Returns when the gate opened
 * (one byte from the worker, which is still our parent); else _exit. */
void child_enter(int gate_rd, int gate_wr, pid_t worker);

/* /bin/sh -c cmd with envp, stdin in (-1: /dev/null), stdout out,
 * stderr err, no other fd. Never returns. */
void child_exec_shell(const char *cmd, char **envp, int in, int out, int err) __attribute__((noreturn));

#endif /* FLEETRUN_CHILD_H */
