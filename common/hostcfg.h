/* hostcfg: the one answer to "what does this host use for setting X".
 *
 * A connection setting (ssh, http) has two sources with two trusts. An
 * inventory host var of the setting's name wins for its host, but it is
 * data (DESIGN.md, "Trust model"): inventories are often generated (a
 * CMDB, NetBox, Ansible), so a host var chooses which device and which of
 * the job's settings, taken as written, never rendered as a template. The
 * job file, which is code, says in its inventory_may which environment
 * variables a host var may read (${env:NAME}), under which directories
 * the files it names must resolve, and which checks it may turn off. The
 * job's own value is a template, rendered with the host's scope.
 *
 * The worker (a step's connection settings, through worker/setting.h)
 * and the supervisor (the known_hosts file it appends to under
 * accept-new, its per-host warnings for insecure and host_key_policy off)
 * both read settings here, so they cannot disagree on what a host uses or
 * on what a host var may reach.
 *
 * A boolean host var has the one grammar of bool_parse (util.h): true or
 * false (also yes/no, on/off, 1/0), any case. Any other word ends that
 * host with an error naming the var and those words, never a silent
 * false: `insecure=ture` must not quietly mean "checked". */
#ifndef FLEETRUN_HOSTCFG_H
#define FLEETRUN_HOSTCFG_H

#include <stdbool.h>

#include "job.h"
#include "kv.h"
#include "sshalgs.h"
#include "sshconfig.h"
#include "util.h"

struct tmpl_scope;

/* One host's view of the settings. Nothing is owned: it points into the
 * job, the host and the caller's scope for as long as it is used. */
struct hostcfg {
	const struct job_inventory_may *may; /* what a host var may reach */
	const struct kvlist *hostvars;       /* the host's inventory vars */
	const struct tmpl_scope *scope;      /* renders the job's templates; may be
	                                        NULL when only hostcfg_bool and
	                                        hostcfg_policy are asked (their job
	                                        values are not templates) */
	struct kvlist *secrets;              /* NULL, or where a value read from the
	                                        environment or a secret is added, to
	                                        be masked in what is recorded */
};

/* A setting: the host var `name` (its ${env:...} and, for a setting that
 * names a file (key, known_hosts, ca, cert, cert_key), the file checked
 * against inventory_may, the file coming back resolved; a value that
 * turns a check off refused without inventory_may settings), else
 * job_value rendered as a template. 0 and *out (malloced, or NULL when
 * neither is given), or -1 with err naming the var. */
int hostcfg_str(const struct hostcfg *h, const char *name, const char *job_value, char **out, struct err *err);

/* A boolean setting: the host var `name` read with bool_parse, 1 or 0
 * (checked as hostcfg_str does: insecure=on without inventory_may
 * settings is refused), else job_value as it is (the job's 0 or 1, or a
 * value the caller gives its own meaning, such as ssh agent's -1 for "not
 * given"). 0 and *out, or -1 with err naming the var and
 * UTIL_BOOL_EXPECTED. */
int hostcfg_bool(const struct hostcfg *h, const char *name, int job_value, int *out, struct err *err);

/* host_key_policy: the host var (strict, accept-new or off; loosening
 * only as inventory_may settings allows), else job_value. 0 and *out, or
 * -1 with err. */
int hostcfg_policy(const struct hostcfg *h, enum hostkey_policy job_value, enum hostkey_policy *out,
                   struct err *err);

/* A secret given as NAME (normally ${env:VAR}) or NAME_file (a file whose
 * first line holds it; a host var's file must be under inventory_may
 * files, a job's leading ~/ is the home directory). The host's pair of
 * vars wins over the job's pair, and within a pair the value wins over
 * the file. The result is added to h->secrets. 0 and *out (malloced, free
 * it with hostcfg_secret_free; NULL when none is given), or -1 with err. */
int hostcfg_secret(const struct hostcfg *h, const char *name, const char *job_value, const char *job_file,
                   char **out, struct err *err);

/* Free a secret, wiping it first. NULL is ignored. */
void hostcfg_secret_free(char *s);

/* The known_hosts file of the host: its host var known_hosts (a file
 * under inventory_may files only), else the job's ssh known_hosts
 * (job_value, may be NULL: a template rendered with the host's vars and
 * built-ins only, never with captured vars: devices are hostile, what one
 * prints never chooses a file), else $HOME/.ssh/known_hosts; a leading ~/
 * is the home directory. The worker reads it and the supervisor appends
 * to it: both call this, so they name the same file. 0 and *out
 * (malloced), or -1 with err. */
int hostcfg_known_hosts(const struct hostcfg *h, const char *job_value, char **out, struct err *err);

/* An SSH algorithm setting (sshalgs.h; m's setting name is the host
 * var: kex, hostkey, ciphers, macs, pubkey): the host var, else
 * job_value (the job's spec, already checked at load; not a template).
 * A host var is checked as the job's value is, and one that enables a
 * weak algorithm the job's own list does not is refused unless the job's
 * inventory_may settings names the var: an inventory may choose which
 * algorithms a device gets (the 2009 router that speaks only
 * diffie-hellman-group1-sha1), but data must not quietly weaken what the
 * job allows. 0 and *spec (malloced, or NULL for the default) and, when
 * weak is not NULL, *weak (malloced weak names the result enables beyond
 * the default, or NULL), or -1 with err naming the var. */
int hostcfg_algs(const struct hostcfg *h, enum sshalgs_method m, const char *job_value, char **spec, char **weak,
                 struct err *err);
/* The same with ssh_config's UserKnownHostsFile (its first file,
 * sshconfig_value, may be NULL) below the job's value: host var, job,
 * ssh_config, ~/.ssh/known_hosts. */
int hostcfg_known_hosts_from(const struct hostcfg *h, const char *job_value, const char *sshconfig_value, char **out,
                             struct err *err);

/* ssh_config's answer for host (sshconfig.h), asked with what its host
 * vars and the job give for address, user and port (they win over the
 * config, as ssh -o does, so Match and the %-tokens see them). The
 * worker and the supervisor both ask here, so they agree on the address
 * a key is checked for and the known_hosts file it goes to. cfg may be
 * NULL (no config read): *out is then empty. 0, or -1 with err. */
int hostcfg_sshconfig(const struct hostcfg *h, const struct sshconfig *cfg, const struct job_ssh *js,
                      const char *host, struct sshconfig_host *out, struct err *err);

/* The host_key_policy below host vars: the job's when its file set it,
 * else ssh_config's StrictHostKeyChecking (sshconfig_host_policy), else
 * the job's default (strict). sc may be NULL. */
enum hostkey_policy hostcfg_ssh_policy(const struct job_ssh *js, const struct sshconfig_host *sc);

/* ~/ at the start of *path is the home directory, as in ssh_config. */
void hostcfg_expand_home(char **path);

#endif
