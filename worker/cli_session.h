/* cli_session: one interactive shell channel (a PTY) on the task's SSH
 * connection, driven by a platform file: the first prompt awaited and
 * learned exactly (`rtr1#`), the on-login commands, enable, and one
 * command at a time read up to the learned prompt, pagers continued.
 *
 * Apart from step_cli.c (the step: settings, platform, records) because
 * this is the conversation with the device, and from common/clitext.c
 * (the text made plain), which does no I/O. Nothing here sleeps: every
 * read ends at a pattern, the idle timeout or the deadline. */
#ifndef FLEETRUN_CLI_SESSION_H
#define FLEETRUN_CLI_SESSION_H

#include <libssh2.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "platform.h"
#include "ssh_conn.h"
#include "status.h"
#include "util.h"

struct cli_transcript;

/* When a wait must end: the step's or the task's deadline, and the
 * longest silence (0: none). */
struct cli_session_limits {
	int64_t deadline_us;
	bool deadline_is_task;
	int64_t idle_ms;
	size_t output_cap;   /* bytes of a command's output kept */
};

struct cli_session {
	struct ssh_conn *conn;        /* not owned: the task's */
	const struct platform *plat;  /* not owned: the worker's cache */
	LIBSSH2_CHANNEL *ch;          /* owned */
	struct buf in;                /* received since the last command was sent */
	bool truncated;               /* bytes of in were dropped past the cap */
	char *prompt;                 /* the learned prompt, malloced */
	enum platform_mode mode;
	enum status fail_status;      /* STATUS_OK, or why the session is unusable */
	char *fail_error;             /* NULL or malloced */
	struct cli_transcript *tx;    /* NULL, or --transcript's: not owned */
};

/* Open the shell on conn: channel, PTY, shell; the first prompt; the
 * platform's on-login commands. 0, or -1 with *st and err (the session
 * is then marked failed). s must be zeroed. */
int cli_session_open(struct cli_session *s, struct ssh_conn *conn, const struct platform *plat,
                     const struct cli_session_limits *lim, enum status *st, struct err *err);

/* Into privileged mode with the platform's enable, answering its
 * password prompt with secret (NULL: none given). A refused or missing
 * secret is STATUS_AUTH. 0, or -1 with *st and err. */
int cli_session_enable(struct cli_session *s, const char *secret, const struct cli_session_limits *lim, enum status *st,
                       struct err *err);

/* Type cmd and read its output up to the learned prompt, made plain into
 * out (at most lim->output_cap bytes; *truncated when more came). 0, or
 * -1 with *st and err. */
int cli_session_command(struct cli_session *s, const char *cmd, const struct cli_session_limits *lim, struct buf *out,
                        bool *truncated, enum status *st, struct err *err);

/* The same for a command that may change the prompt (into, within or
 * out of config mode; `hostname NEW`): it ends at the learned prompt or,
 * when the last line is not that, at a prompt of any mode the platform
 * file knows, which is learned with its mode (s->prompt, s->mode). Only
 * the last line is looked at, as for every command; but a line of output
 * shaped like a mode's prompt could end the command if a read ended just
 * after it, so this is for commands that print little (configuration
 * lines, mode changes, save and commit), never for show commands. */
int cli_session_command_tracked(struct cli_session *s, const char *cmd, const struct cli_session_limits *lim,
                                struct buf *out, bool *truncated, enum status *st, struct err *err);

/* The first error pattern of the platform found in text: its pattern,
 * and the line it is on in *line (malloced); NULL when none. */
const char *cli_session_error_in(const struct cli_session *s, const char *text, size_t len, char **line);

/* Free the channel and what the session holds (the connection's close
 * follows; a device is not waited for). */
void cli_session_close(struct cli_session *s);

#endif
