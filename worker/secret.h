/* secret: settings that hold secrets (passwords, passphrases), shared by
 * the ssh and http steps. */
#ifndef FLEETRUN_SECRET_H
#define FLEETRUN_SECRET_H

#include "step.h"

/* A secret given as NAME (a template, normally ${env:VAR}) or NAME_file
 * (a file whose first line holds it). The host's pair of inventory vars
 * wins over the job's pair, and within a pair the value wins over the
 * file. The result is registered in ctx->secrets, so it is masked in
 * everything recorded. 0 and *out (malloced, or NULL when none is given),
 * or -1 with err. */
int secret_resolve(struct step_ctx *ctx, const char *name, const char *job_value, const char *job_file,
                   char **out, struct err *err);

/* Free a secret, wiping it first. */
void secret_free(char *s);

/* ~/ at the start of a path is the home directory, as in ssh_config. */
void path_expand_home(char **path);

#endif
