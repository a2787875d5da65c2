/* tmpl: ${name} templates in job text (DESIGN.md, "Job files").
 *
 * ${name} looks in captured vars, then host vars, then built-ins (host,
 * address, port, user, job); ${env:NAME} reads the environment. $name
 * without braces is left alone so shell text such as $PPID passes through,
 * and $${ is a literal ${ (for shell text like $${HOME:-/tmp}).
 * A name found nowhere is an error for that host only. */
#ifndef FLEETRUN_TMPL_H
#define FLEETRUN_TMPL_H

#include "buf.h"
#include "kv.h"
#include "util.h"

#include <stdbool.h>

#define TMPL_NAME_MAX 255

struct tmpl_scope {
	const struct kvlist *captured; /* NULL or vars captured by earlier steps */
	const struct kvlist *hostvars; /* NULL or the host's inventory vars */
	const struct kvlist *builtins; /* NULL or host, address, port, user, job */
};

enum tmpl_env_mode {
	/* ${env:NAME} becomes the variable's value. */
	TMPL_ENV_VALUE,
	/* ${env:NAME} becomes the shell reference ${NAME}: the value reaches
	 * the command through its environment, never through its argv, where
	 * any user on the machine could read it in /proc. */
	TMPL_ENV_SHELL,
};

/* Append the rendering of t to out. Each ${env:NAME} value is added to
 * secrets (when not NULL) so the caller can mask it in what it records.
 * Returns 0, or -1 with err "missing variable 'x'" and out partly written. */
int tmpl_render(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode,
                struct buf *out, struct kvlist *secrets, struct err *err);

/* The same, with every substituted value escaped for the inside of a JSON
 * string (the templates of an http step's json: body sit inside its
 * strings), so a value holding quotes or newlines cannot break the body. */
int tmpl_render_json(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *secrets,
                     struct err *err);

/* Check the syntax only: 0, or -1 with err and *offset at the '$' of the
 * bad reference (for file:line:column messages). */
int tmpl_check(const char *t, size_t *offset, struct err *err);

/* The built-in variables of a host: host, address (the `address` var, else
 * the name), port (else 22), user (else the login name running fleetrun),
 * job. */
void tmpl_builtins(struct kvlist *b, const char *job, const char *host, const struct kvlist *vars);

/* Does a variable's name say it holds a secret (password, passphrase,
 * or *token*, *secret*)? Its value is then masked wherever it would be
 * shown: captured vars in records, host vars in `fleetrun hosts -v`. */
bool tmpl_is_secret_name(const char *name);

/* Replace every occurrence of a secret's value in b with "***". */
void tmpl_mask(struct buf *b, const struct kvlist *secrets);

#endif
