/* tmpl: ${name} templates in job text (DESIGN.md, "Job files").
 *
 * ${name} looks in captured vars, then host vars, then built-ins (host,
 * address, port, user, job); ${env:NAME} reads the environment. $name
 * without braces is left alone so shell text such as $PPID passes through,
 * and $${ is a literal ${ (for shell text like $${HOME:-/tmp}).
 * ${name|sh}, ${name|url}, ${name|json} (filters, any of them in a row,
 * applied left to right) escape the value for a POSIX shell, a URL or JSON
 * text. A name found nowhere is an error for that host only. */
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
	/* ${env:NAME} becomes the variable's value. (Exec commands, where
	 * no value may be text, have tmpl_render_shell.) */
	TMPL_ENV_VALUE,
};

/* The prefix of the variables that carry template values into an exec
 * command: lower case, so no host var's FLEETRUN_<NAME> can be one. */
#define TMPL_SHELL_VAR "fleetrun_v"

/* Append the rendering of t to out. Each value from the environment or of
 * a var named like a secret (tmpl_is_secret_name) is added to secrets
 * (when not NULL), filtered forms too, so the caller can mask it in what it
 * records. Returns 0, or -1 with err "missing variable 'x'" and out partly
 * written. */
int tmpl_render(const char *t, const struct tmpl_scope *scope, enum tmpl_env_mode mode,
                struct buf *out, struct kvlist *secrets, struct err *err);

/* The same, with every substituted value escaped for the inside of a JSON
 * string (the templates of an http step's json: body sit inside its
 * strings), so a value holding quotes or newlines cannot break the body. */
int tmpl_render_json(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *secrets,
                     struct err *err);

/* An exec command (DESIGN.md, "Trust model": devices are hostile,
 * inventories are data): no value ever becomes shell text. Each reference
 * becomes a reference to an environment variable, in the form that keeps
 * it one word in the quoting context where it stands (shctx.h): "${V}"
 * outside quotes, ${V} inside "..." and in a here-document, '"${V}"'
 * inside '...'. The values go into env as V=value pairs (V is
 * TMPL_SHELL_VAR and a number), for the command's environment;
 * ${env:NAME} without a filter stays the shell's ${NAME}. A filtered value
 * is the filtered text, one word the same way. Inside $((...)) a value
 * must be an integer. 0, or -1 with err. */
int tmpl_render_shell(const char *t, const struct tmpl_scope *scope, struct buf *out, struct kvlist *env,
                      struct kvlist *secrets, struct err *err);

/* Check the syntax only: 0, or -1 with err and *offset at the '$' of the
 * bad reference, or at the unknown filter (for file:line:column
 * messages). */
int tmpl_check(const char *t, size_t *offset, struct err *err);

/* The same for an exec command, with the shell's rules: no template in a
 * quoted here-document or a here-document delimiter. */
int tmpl_check_shell(const char *t, size_t *offset, struct err *err);

/* Register a secret's value for tmpl_mask, and its JSON-escaped forms
 * (once and twice) when they differ: a device may echo it in a JSON
 * answer, or echo a JSON body inside one. NULL or empty values are
 * ignored. The one way to register a secret. */
void tmpl_secret_add(struct kvlist *secrets, const char *value);

/* The login name running fleetrun (the default ssh user). */
const char *tmpl_login_name(void);

/* The built-in variables of a host: host, address (the `address` var, else
 * the name), port (else 22), user (else the login name running fleetrun),
 * job. */
void tmpl_builtins(struct kvlist *b, const char *job, const char *host, const struct kvlist *vars);

/* Does a variable's name say it holds a secret (*password*, *passphrase*,
 * *passwd*, *token*, *secret*, *_pass; any case)? Its value is then masked
 * wherever it would be shown: captured vars in records, host vars in
 * `fleetrun hosts -v`, records, output and --dry-run. */
bool tmpl_is_secret_name(const char *name);

/* Set hidden[i] (n bytes, zeroed by the caller) for every byte of
 * p[0..n) that an occurrence of a secret covers: whether any did. For a
 * caller that masks in its own way (worker/cli_transcript.c). */
bool tmpl_secret_marks(const char *p, size_t n, const struct kvlist *secrets, unsigned char *hidden);

/* Replace every occurrence of a secret's value in b with "***". */
void tmpl_mask(struct buf *b, const struct kvlist *secrets);

#endif
