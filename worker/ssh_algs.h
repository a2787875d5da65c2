/* ssh_algs: the algorithms an SSH session offers, and what it agreed on.
 *
 * Apart from the connection code (step_ssh.c) because it is one concern
 * with its own rules: the host's specs (ssh_params: host var, job,
 * ssh_config) turned into libssh2 preferences for kex, host key, ciphers,
 * MACs and RSA signatures, never with a name this libssh2 does not list,
 * and the host key types known_hosts holds for the host first; then,
 * after authentication, the audit trail of what was negotiated. */
#ifndef FLEETRUN_SSH_ALGS_H
#define FLEETRUN_SSH_ALGS_H

#include <libssh2.h>

#include "known_hosts.h"
#include "proto.h"
#include "ssh_params.h"

/* Before the handshake: set the session's preferences from p. kh is the
 * worker's known_hosts cache (loaded here unless the policy is off). 0,
 * or -1 with err (a spec that leaves nothing libssh2 supports). */
int ssh_algs_apply(LIBSSH2_SESSION *s, struct ssh_params *p, struct kh_file *kh, struct err *err);

/* After authentication: what the session negotiated, and auth (the SSH
 * method that logged in: "publickey", "password", "keyboard-interactive"),
 * into out's kex, hostkey, cipher, mac and auth. The views point to
 * libssh2's and the caller's static names, valid after the session ends. */
void ssh_algs_negotiated(LIBSSH2_SESSION *s, const char *auth, struct proto_ssh *out);

/* The server's first bytes (its KEXINIT is in them), kept in first for
 * ssh_algs_explain: call it with what each read of the handshake got.
 * Keeps at most SSH_ALGS_SNIFF_MAX bytes. */
#define SSH_ALGS_SNIFF_MAX 16384
void ssh_algs_sniff(struct buf *first, const void *data, size_t n);

/* After a failed handshake: which of p's lists shares no algorithm with
 * what the server offered, and what would reach it, appended to out
 * ("; kex: the device offers only ..."); nothing when the offer cannot be
 * read or every list shares one. */
void ssh_algs_explain(const struct buf *first, struct ssh_params *p, struct buf *out);

#endif /* FLEETRUN_SSH_ALGS_H */
