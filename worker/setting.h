/* setting: the connection settings of ssh and http steps, for one host:
 * an inventory host var of the setting's name wins over the job's value.
 * The job's value is a template, rendered here; the host var is data,
 * taken as written but for the ${env:NAME} and the directories the job's
 * inventory_may allows (a host var naming a file outside them, or reading
 * a variable not listed, ends that host with an error). Secrets
 * (passwords, passphrases) have a _file form too. */
#ifndef FLEETRUN_SETTING_H
#define FLEETRUN_SETTING_H

#include "hostvar.h"
#include "step.h"

/* A setting: the host var `name` (checked as above; a file-valued one,
 * key, known_hosts, ca, cert, cert_key, comes back resolved), else the
 * job's template, rendered. 0 and *out (malloced, or NULL when neither is
 * given), or -1 with err. */
int setting_resolve(struct step_ctx *ctx, const char *name, const char *job_value, char **out, struct err *err);

/* A secret given as NAME (normally ${env:VAR}) or NAME_file (a file whose
 * first line holds it; a host var's file must be under inventory_may). The host's pair of inventory vars
 * wins over the job's pair, and within a pair the value wins over the
 * file. The result is registered in ctx->secrets, so it is masked in
 * everything recorded. 0 and *out (malloced, or NULL when none is given),
 * or -1 with err. */
int secret_resolve(struct step_ctx *ctx, const char *name, const char *job_value, const char *job_file,
                   char **out, struct err *err);

/* Free a secret, wiping it first. */
void secret_free(char *s);


#endif /* FLEETRUN_SETTING_H */
