/* cli_config: configuration pushed over a cli session: into config mode
 * with the platform's config enter command, one line at a time (each up
 * to its prompt, which may change: sub-modes, a new hostname), stopping
 * at the first line the device rejects (an error pattern of the
 * platform), the platform's commit or commit_confirmed in config mode,
 * out of config mode in every case the channel allows, then its save.
 *
 * Apart from cli_session.c (one command and its prompt) and step_cli.c
 * (the steps, their settings and records): this is the sequence of a
 * push and what it means when a line is refused. */
#ifndef FLEETRUN_CLI_CONFIG_H
#define FLEETRUN_CLI_CONFIG_H

#include <stdbool.h>

#include "buf.h"
#include "cli_session.h"
#include "status.h"
#include "util.h"

/* One push: lines rendered already (each one line), not owned. */
struct cli_config_push {
	const char *const *lines;
	size_t nlines;
	bool commit;
	long long confirm_minutes; /* > 0: commit_confirmed with this */
	bool save;
};

/* Push req on s (logged in, in privileged mode where the platform has
 * one). out gets, for each command typed, `> COMMAND` on a line of its
 * own and then the device's output for it (no echo, no prompt), at most
 * lim->output_cap bytes in all (*truncated when more came). 0, or -1
 * with *st and err: STATUS_FAILED for a rejected line (err names its
 * number, the line and the device's message; config mode was left) or a
 * failed commit or save; STATUS_TIMEOUT and the others as for
 * cli_session_command (the session is then unusable and was not led out
 * of config mode: a device that has not given its prompt may be waiting
 * for an answer or for text, and would take whatever is typed next, the
 * exit command included, as that). */
int cli_config_run(struct cli_session *s, const struct cli_config_push *req, const struct cli_session_limits *lim,
                   struct buf *out, bool *truncated, enum status *st, struct err *err);

#endif
