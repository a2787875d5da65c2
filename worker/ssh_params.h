/* ssh_params: the settings of one host's SSH connection.
 *
 * Apart from step_ssh.c because every source of a setting meets here:
 * host vars over the job's ssh: section (through hostcfg), templates
 * rendered, then the defaults. What connects with them (step_ssh.c) does
 * not need to know where a value came from. */
#ifndef FLEETRUN_SSH_PARAMS_H
#define FLEETRUN_SSH_PARAMS_H

#include "job.h"
#include "jumpspec.h"
#include "step.h"
#include "util.h"

/* The settings of one host's connection; every string malloced, owned. */
struct ssh_params {
	char *address;
	char *port;
	char *user;
	char *key;
	char *passphrase;
	char *password;
	char *known_hosts;
	int agent;
	enum hostkey_policy policy;
	int pty;
	/* From ssh_config (sshconfig.h) where host vars and the job give
	 * nothing; NULL when none gives them. */
	char **identity_files;     /* IdentityFile, in order, when no key is
	                              given: key auth tries each */
	size_t nidentity_files;
	char *jump;          /* NULL, "none" or "[user@]host[:port],..." (jumpspec.h):
	                        host var, job, ProxyJump */
	char *proxy_command; /* NULL or the job's command, as written
	                        (ssh_proxycmd.h), or ProxyCommand */
	/* OpenSSH-syntax algorithm specs (common/sshalgs.h), NULL for the
	 * default: host var, else job, else ssh_config */
	char *kex;
	char *hostkey_algs;
	char *ciphers;
	char *macs;
	char *pubkey_algs;
	int64_t connect_timeout_ms; /* the job's, or ConnectTimeout when the
	                               job does not set it */
	int64_t keepalive_ms;       /* the job's, or ServerAliveInterval */
};

/* Where each method's spec is in struct ssh_params, by enum
 * sshalgs_method. */
char **ssh_params_algs(struct ssh_params *p, enum sshalgs_method m);

/* Free the strings (secrets wiped) and zero *p. */
void ssh_params_free(struct ssh_params *p);

/* The settings of the step's host: host vars over the job's ssh:
 * section over ssh_config (the job's config: files, read once per
 * worker), then the defaults (the host's name as address, port 22, the
 * local user). 0, or -1 with err naming the setting (and *p empty). */
int ssh_params_load(struct step_ctx *ctx, struct ssh_params *p, struct err *err);

/* The settings of a jump host's login, hop of the host's chain: its
 * address, port and user from the hop (user else the job's ssh user,
 * else the local user), the job's jump_key, jump_password(_file) and
 * agent (never the device's password or key: a bastion is not sent the
 * device's secrets), the device's known_hosts and host_key_policy. 0,
 * or -1 with err (and *out empty). */
int ssh_params_hop(struct step_ctx *ctx, const struct ssh_params *dev, const struct jumpspec_hop *hop,
                   struct ssh_params *out, struct err *err);

#endif /* FLEETRUN_SSH_PARAMS_H */
