/* hosts_ssh: `fleetrun hosts --ssh JOB`: each host's effective SSH
 * connection, printed the way `ssh -G` prints one (a lowercase keyword,
 * a space, the value), after host vars > job > ssh_config > defaults.
 *
 * Apart from cmd_hosts.c because it is a view of the settings, not of
 * the targets: it reads them through hostcfg and sshconfig as the worker
 * and the supervisor do (worker/ssh_params.c, runner/knownhosts.c) and
 * only says what they would use. Secrets are never printed: a password
 * or passphrase shows as ***. */
#ifndef FLEETRUN_HOSTS_SSH_H
#define FLEETRUN_HOSTS_SSH_H

#include <stdbool.h>

#include "buf.h"
#include "inventory.h"
#include "job.h"
#include "sshconfig.h"
#include "util.h"

/* Append host's lines to out, starting with "host NAME"; with sources,
 * each line ends with "  # from SOURCE" (host var, job, ssh_config
 * FILE:LINE, default). 0, or -1 with err (the host's settings cannot be
 * read: the worker would end it with status error). */
int hosts_ssh_print(const struct job *job, const struct sshconfig *cfg, const struct host *h, bool sources,
                    struct buf *out, struct err *err);

#endif
