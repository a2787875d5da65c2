/* hostvar: an inventory's host vars are data (DESIGN.md, "Trust model").
 *
 * Inventories are often generated (a CMDB, NetBox, Ansible): a host var
 * chooses which device and which of the job's settings, but it is taken
 * as written, never rendered as a template. The job file, which is code,
 * says in its inventory_may which environment variables a host var may
 * read (${env:NAME}) and under which directories the files it names must
 * resolve. The worker (connection settings) and the supervisor (the
 * known_hosts file it appends to) both read host vars through here, so
 * they cannot disagree on what a host var may reach. */
#ifndef FLEETRUN_HOSTVAR_H
#define FLEETRUN_HOSTVAR_H

#include <stdbool.h>

#include "job.h"
#include "kv.h"
#include "util.h"

/* A host var's value: its text as written, but for each ${env:NAME}
 * whose NAME may->env lists, which becomes the variable's value (and a
 * secret in secrets, when not NULL). Any other ${env:...} is an error
 * naming var and what the job allows. Malloced, or NULL with err. */
char *hostvar_value(const struct job_inventory_may *may, struct kvlist *secrets, const char *var, const char *value,
                    struct err *err);

/* *path, a host var's file name (var names it in errors): replaced by its
 * resolved form (realpath; for a file not there yet, its directory's) when
 * that is under one of may->files, so '..' and symlinks cannot step out.
 * 0, or -1 with err and *path as it was. */
int hostvar_path(const struct job_inventory_may *may, const char *var, char **path, struct err *err);

/* Is a setting of this name a file on this machine (key, known_hosts, ca,
 * cert, cert_key)? A host var of that name goes through hostvar_path. */
bool hostvar_is_path(const char *name);

/* May a host var set this setting to this value? A host var may tighten
 * any check but turn one off (host_key_policy accept-new or off, insecure
 * true) only when the job's inventory_may settings names it. 0, or -1 with
 * err naming the var and what the job allows. */
int hostvar_check_setting(const struct job_inventory_may *may, const char *name, const char *value, struct err *err);

/* Does a host go without TLS verification: the host var insecure (NULL
 * when the inventory has none) when hostvar_check_setting allows it, else
 * the job's value? */
bool hostvar_insecure(const struct job_inventory_may *may, const char *value, bool job_value);

/* ~/ at the start of a path is the home directory, as in ssh_config. */
void path_expand_home(char **path);

#endif
