/* ssh_session: ONE SSH login (a device's or a jump host's): its
 * transport, the handshake, the host key check and authentication, all
 * non-blocking with a deadline.
 *
 * Apart from the step (step_ssh.c: channels and output) and from the
 * chains of jump hosts (ssh_jump.c) because both a device and every hop
 * log in the same way: a login runs over a TCP socket, the socketpair of
 * a proxy_command, or a direct-tcpip channel of the login before it in a
 * chain (libssh2's transport callbacks read and write that channel), and
 * nothing else in it differs. ssh_session_login is the one place where a
 * login begins and ends (the place for a login gate). */
#ifndef FLEETRUN_SSH_SESSION_H
#define FLEETRUN_SSH_SESSION_H

#include <libssh2.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "proto.h"
#include "ssh_params.h"
#include "status.h"
#include "util.h"

/* rsa-sha2 signatures, strict key exchange (Terrapin) and
 * libssh2_session_callback_set2 came with 1.11.1; make deps builds it
 * where the system's libssh2 is older. */
#if LIBSSH2_VERSION_NUM < 0x010b01
#error "fleetrun needs libssh2 >= 1.11.1: run make deps"
#endif

struct ssh_login {
	LIBSSH2_SESSION *session; /* NULL before the login, owned */
	int fd;                   /* the socket at the bottom of the chain
	                             (TCP or a proxy's socketpair); -1 none */
	bool own_fd;              /* this login closes fd */
	struct ssh_login *via;    /* NULL, or the login whose channel carries
	                             this one's bytes (not owned) */
	LIBSSH2_CHANNEL *via_ch;  /* via's direct-tcpip channel, owned */
	struct ssh_params params; /* owned */
	int64_t keepalive_at_us;  /* next keepalive, 0 when off */
	int64_t keepalive_ms;     /* 0: none */
	int recv_error;           /* 0; errno of a failed read; -1 at EOF */
	const char *auth_used;    /* NULL, or the SSH method that logged in (static) */
	struct buf first_bytes;   /* what the server sent first, until the
	                             handshake ends (ssh_algs_explain) */
	struct proto_ssh negotiated; /* what the login agreed on (audit trail) */
};

/* A login not started yet: fd -1, p moved in (*p zeroed). */
void ssh_session_init(struct ssh_login *l, struct ssh_params *p);

/* Log in: a TCP connection to params' address and port when l has
 * neither fd nor via (else over them), handshake, host key, auth. *kh_new
 * (malloced) when accept-new met a key the known_hosts file does not
 * know: its line, for the supervisor. task_first: the task's deadline,
 * not connect_timeout, is deadline_us (what a late login's status says).
 * 0, or -1 with *st and err. */
int ssh_session_login(struct ssh_login *l, int64_t deadline_us, bool task_first, char **kh_new, enum status *st,
                      struct err *err);

/* Wait until what libssh2 is blocked on can go on (the bottom socket
 * ready, data already queued on a channel below), or the deadline.
 * Sends keepalives while waiting. 0 ready, -1 deadline. */
int ssh_session_wait(struct ssh_login *l, int64_t deadline_us);

/* libssh2's last error text. */
const char *ssh_session_errmsg(LIBSSH2_SESSION *s);

/* Has the login's connection ended (EOF or an error seen on it, or on a
 * login below)? */
bool ssh_session_dead(const struct ssh_login *l);

/* Close: one try to say goodbye (a peer that does not read is not
 * waited for), the session freed, the channel below freed, fd closed
 * when owned, params freed. The login can be started again after
 * ssh_session_init. */
void ssh_session_close(struct ssh_login *l);

/* ssh_hostkey.c: the host key against known_hosts, and the order of host
 * key types to offer. */
int ssh_hostkey_check(struct ssh_login *l, char **kh_new, struct err *err);
int ssh_hostkey_pref(struct ssh_login *l, struct err *err);

/* ssh_auth.c: authenticate as params say (agent, key, password,
 * keyboard-interactive). 0, or -1 with *st and err. */
int ssh_auth(struct ssh_login *l, int64_t deadline_us, enum status *st, struct err *err);

#endif /* FLEETRUN_SSH_SESSION_H */
