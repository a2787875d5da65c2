/* knownhosts: appending host keys that workers met under
 * host_key_policy accept-new. The supervisor is the only writer of
 * known_hosts, so 256 workers meeting new hosts at once still leave a
 * well-formed file: one whole line per key, each written once.
 *
 * A worker's message never names a file: the supervisor derives the file
 * and the host's name in it from the job and the inventory with the
 * functions the worker uses (hostcfg.h: hostcfg_known_hosts, hostcfg_str),
 * and appends only a line that is one entry for that very name. */
#ifndef FLEETRUN_KNOWNHOSTS_H
#define FLEETRUN_KNOWNHOSTS_H

#include <stddef.h>
#include <stdint.h>

#include "inventory.h"
#include "job.h"
#include "sshconfig.h"
#include "util.h"

struct knownhosts {
	uint64_t *seen; /* hashes of path+line already appended this run */
	size_t nseen;
	size_t cap;
};

/* Where the host's keys go: *path (hostcfg_known_hosts_from: the host's
 * var, else the job's known_hosts rendered without captured vars, else
 * ssh_config's UserKnownHostsFile, else ~/.ssh/known_hosts) and *name
 * ("address" or "[address]:port", ssh_config's HostName and Port taken
 * as the worker takes them), both malloced. cfg: the run's ssh_config,
 * or NULL. 0, or -1 with err. */
int knownhosts_target(const struct job *job, const struct sshconfig *cfg, const struct host *h, char **path,
                      char **name, struct err *err);

/* The host's host_key_policy as the worker reads it: host var, else the
 * job's when its file sets it, else ssh_config's StrictHostKeyChecking,
 * else strict. 0 and *out, or -1 with err. */
int knownhosts_policy(const struct job *job, const struct sshconfig *cfg, const struct host *h,
                      enum hostkey_policy *out, struct err *err);

/* The name a worker's line for one of the host's jump hosts must have:
 * the hop of the host's own chain (its `jump` var, else the job's, else
 * ssh_config's ProxyJump, read as the worker reads it; a hop's address
 * through ssh_config's HostName for it) whose known_hosts name begins
 * line. *name malloced; 0, or -1 with err (no hop of the chain has that
 * name). cfg may be NULL. */
int knownhosts_jump_name(const struct job *job, const struct sshconfig *cfg, const struct host *h, const char *line,
                         size_t llen, char **name,
                         struct err *err);

/* Append line (from a worker; checked to be one "name type key" entry
 * for name) to the file at path, creating it (0600) and its directory
 * (0700) if needed, under an exclusive flock so another fleetrun
 * appending at the same time does not interleave. A line already
 * appended by this run is skipped. 0 or -1 with err. */
int knownhosts_append(struct knownhosts *k, const char *path, const char *name, const char *line, size_t llen,
                      struct err *err);
void knownhosts_free(struct knownhosts *k);

#endif
