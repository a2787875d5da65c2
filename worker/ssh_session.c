/* ssh_session: see ssh_session.h.
 *
 * The session is non-blocking: every libssh2 call that would block
 * returns EAGAIN and we poll the socket at the bottom for what libssh2
 * waits on, with the deadline as the timeout. That is how a device that
 * never sends a banner, one that stops mid-output, or one whose command
 * never ends all come back with a status in time, through a jump host
 * too: a login over a channel reads and writes that channel from the
 * transport callbacks below, and its waits poll the same socket. */
#include "ssh_session.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"
#include "ssh_algs.h"

/* How long closing a channel of a kept jump session may wait. */
#define SSH_SESSION_CLOSE_MS 1000
/* How long a session's open channels may take to close at the end of a
 * task: a round trip to a device that answers (within the grace the
 * supervisor gives a task past its deadline). */
#define SSH_SESSION_FREE_MS 250

static bool ssh_session_lib_ready;

const char *ssh_session_errmsg(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

void ssh_session_init(struct ssh_login *l, struct ssh_params *p)
{
	memset(l, 0, sizeof(*l));
	l->fd = -1;
	l->params = *p;
	memset(p, 0, sizeof(*p));
}

bool ssh_session_dead(const struct ssh_login *l)
{
	for (; l; l = l->via)
		if (l->recv_error || (l->via_ch && libssh2_channel_eof(l->via_ch)))
			return true;
	return false;
}

/* Some login of the chain has bytes queued on the channel it reads, or
 * has seen its end: libssh2 can go on without the socket. */
static bool ssh_session_pending(const struct ssh_login *l)
{
	for (; l; l = l->via) {
		unsigned long avail = 0;

		if (l->recv_error)
			return true;
		if (l->via_ch) {
			libssh2_channel_window_read_ex(l->via_ch, &avail, NULL);
			if (avail > 0 || libssh2_channel_eof(l->via_ch))
				return true;
		}
	}
	return false;
}

static void ssh_session_keepalive(struct ssh_login *l, int64_t now)
{
	int next = 0;

	if (!l->keepalive_at_us || l->keepalive_at_us > now)
		return;
	libssh2_keepalive_send(l->session, &next);
	l->keepalive_at_us = now + (int64_t)(next > 0 ? next : 1) * 1000000;
}

int ssh_session_wait(struct ssh_login *l, int64_t deadline_us)
{
	for (;;) {
		int64_t now = clock_mono_us(), until = deadline_us;
		struct pollfd pfd = {.fd = l->fd, .events = POLLIN};
		int timeout_ms, n;

		if (now >= deadline_us)
			return -1;
		ssh_session_keepalive(l, now);
		if (ssh_session_pending(l))
			return 0;
		if (l->keepalive_at_us && l->keepalive_at_us < until)
			until = l->keepalive_at_us;
		/* what any login of the chain waits on: they share the socket */
		for (const struct ssh_login *x = l; x; x = x->via)
			if (x->session && libssh2_session_block_directions(x->session) & LIBSSH2_SESSION_BLOCK_OUTBOUND)
				pfd.events |= POLLOUT;
		timeout_ms = (int)((until - now + 999) / 1000);
		n = poll(&pfd, 1, timeout_ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return 0; /* let libssh2 see the error */
	}
}

/* Socket reads for libssh2. When the connection ends (EOF or a reset)
 * libssh2 returns the error at once and drops output it had already
 * received; reporting the end first as "try again" lets the reader take
 * that output, and the next read reports the end. Over a channel of the
 * login below, the same with the channel's data and its end. */
static LIBSSH2_RECV_FUNC(ssh_session_recv)
{
	struct ssh_login *l = *abstract;
	ssize_t n;

	if (l->recv_error)
		return l->recv_error == -1 ? 0 : -l->recv_error;
	if (l->via_ch) {
		n = libssh2_channel_read(l->via_ch, buffer, length);
		if (n > 0 && !libssh2_session_methods(l->session, LIBSSH2_METHOD_KEX))
			ssh_algs_sniff(&l->first_bytes, buffer, (size_t)n);
		if (n > 0)
			return n;
		if (n == LIBSSH2_ERROR_EAGAIN && !libssh2_channel_eof(l->via_ch))
			return -EAGAIN;
		l->recv_error = n == 0 || n == LIBSSH2_ERROR_EAGAIN ? -1 : ECONNRESET;
		return -EAGAIN;
	}
	n = recv(socket, buffer, length, flags);
	if (n > 0 && !libssh2_session_methods(l->session, LIBSSH2_METHOD_KEX))
		ssh_algs_sniff(&l->first_bytes, buffer, (size_t)n);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return -EAGAIN;
	l->recv_error = n == 0 ? -1 : errno;
	return -EAGAIN;
}

/* Writes of a login over a channel go into the channel. */
static LIBSSH2_SEND_FUNC(ssh_session_send)
{
	struct ssh_login *l = *abstract;
	ssize_t n;

	(void)socket;
	(void)flags;
	n = libssh2_channel_write(l->via_ch, buffer, length);
	if (n > 0)
		return n;
	if (n == 0 || n == LIBSSH2_ERROR_EAGAIN)
		return -EAGAIN;
	return -ECONNRESET;
}

/* TCP connect with a deadline. 0 and l->fd, or -1 with err. */
static int ssh_session_tcp(struct ssh_login *l, int64_t deadline_us, struct err *err)
{
	const struct ssh_params *p = &l->params;
	struct addrinfo *res = NULL;
	const char *why;
	int one = 1, r = -1, rc;

	if (net_resolve_host(p->address, p->port, SOCK_STREAM, &res, err) < 0)
		goto out;
	rc = net_connect(res, deadline_us, &l->fd, &why);
	if (rc != 0) {
		err_set(err, "cannot connect to %s port %s: %s", p->address, p->port, rc > 0 ? "connect timed out" : why);
		goto out;
	}
	l->own_fd = true;
	/* Without it a login stalls on delayed ACKs (DESIGN.md) */
	setsockopt(l->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r = 0;
out:
	if (res)
		freeaddrinfo(res);
	return r;
}

/* The session over l's transport, up to a finished handshake. */
static int ssh_session_handshake(struct ssh_login *l, int64_t deadline_us, bool task_first, enum status *st,
                                 struct err *err)
{
	const struct ssh_params *p = &l->params;
	int rc;

	l->session = libssh2_session_init_ex(NULL, NULL, NULL, l);
	if (!l->session) {
		*st = STATUS_ERROR;
		err_set(err, "cannot create an SSH session");
		return -1;
	}
	libssh2_session_set_blocking(l->session, 0);
	libssh2_session_callback_set2(l->session, LIBSSH2_CALLBACK_RECV, (libssh2_cb_generic *)ssh_session_recv);
	if (l->via_ch)
		libssh2_session_callback_set2(l->session, LIBSSH2_CALLBACK_SEND, (libssh2_cb_generic *)ssh_session_send);
	if (ssh_hostkey_pref(l, err) < 0) {
		*st = STATUS_ERROR;
		return -1;
	}
	if (l->keepalive_ms > 0) {
		libssh2_keepalive_config(l->session, 1, (unsigned)((l->keepalive_ms + 999) / 1000));
		l->keepalive_at_us = clock_mono_us() + l->keepalive_ms * 1000;
	}
	while ((rc = libssh2_session_handshake(l->session, l->fd)) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_session_wait(l, deadline_us) < 0) {
			*st = task_first ? STATUS_TIMEOUT : STATUS_UNREACHABLE;
			err_set(err, "no SSH handshake with %s port %s within %s", p->address, p->port,
			        task_first ? "the task deadline" : "connect_timeout");
			return -1;
		}
	}
	if (rc != 0) {
		struct buf why = BUF_INIT;

		/* what the device offers, when nothing could be agreed */
		ssh_algs_explain(&l->first_bytes, &l->params, &why);
		*st = STATUS_UNREACHABLE;
		err_set(err, "SSH handshake with %s port %s failed: %s%s%s", p->address, p->port,
		        ssh_session_errmsg(l->session), why.len ? ": " : "", why.len ? why.data : "");
		buf_free(&why);
		return -1;
	}
	buf_free(&l->first_bytes);
	ssh_algs_negotiated(l->session, NULL, &l->negotiated);
	return 0;
}

/* A login begins: the place where a login gate (pacing) waits for a slot
 * before the handshake starts. */
static void ssh_session_begin(struct ssh_login *l)
{
	(void)l;
}

/* A login ends (authenticated or failed): the gate's slot is given back. */
static void ssh_session_end(struct ssh_login *l)
{
	(void)l;
}

int ssh_session_login(struct ssh_login *l, int64_t deadline_us, bool task_first, char **kh_new, enum status *st,
                      struct err *err)
{
	int r = -1;

	if (!ssh_session_lib_ready) {
		libssh2_init(0);
		ssh_session_lib_ready = true;
	}
	ssh_session_begin(l);
	if (l->fd < 0 && !l->via && ssh_session_tcp(l, deadline_us, err) < 0) {
		*st = clock_mono_us() >= deadline_us && task_first ? STATUS_TIMEOUT : STATUS_UNREACHABLE;
		goto out;
	}
	if (ssh_session_handshake(l, deadline_us, task_first, st, err) < 0)
		goto out;
	if (ssh_hostkey_check(l, kh_new, err) < 0) {
		*st = STATUS_HOSTKEY;
		goto out;
	}
	if (ssh_auth(l, deadline_us, st, err) < 0) {
		if (*st == STATUS_UNREACHABLE && task_first && clock_mono_us() >= deadline_us)
			*st = STATUS_TIMEOUT;
		goto out;
	}
	ssh_algs_negotiated(l->session, l->auth_used, &l->negotiated);
	r = 0;
out:
	ssh_session_end(l);
	return r;
}

/* Free the login's session. A channel still open on it (a cli step's
 * shell) is closed first, which needs the device's answer: libssh2 says
 * EAGAIN and frees nothing, and a session dropped then leaks whole (81
 * KiB a task, found by LeakSanitizer). So the answer is waited for a
 * moment; a device that gives none has its own socket shut, after which
 * every read fails at once and the frees go through. A socket shared
 * with a kept jump chain is never shut: its session leaks instead, the
 * rare case of a device that stalls behind a bastion. */
static void ssh_session_free_session(struct ssh_login *l)
{
	int64_t by = clock_mono_us() + SSH_SESSION_FREE_MS * 1000;

	libssh2_session_disconnect(l->session, "fleetrun: done");
	while (libssh2_session_free(l->session) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_session_wait(l, by) == 0)
			continue;
		if (l->own_fd && l->fd >= 0 && shutdown(l->fd, SHUT_RDWR) == 0)
			libssh2_session_free(l->session);
		break;
	}
	l->session = NULL;
}

void ssh_session_close(struct ssh_login *l)
{
	if (l->session)
		ssh_session_free_session(l);
	if (l->via_ch) {
		/* the login below lives on (a kept jump session): its channel
		 * is closed, briefly waited for, not left open */
		int64_t by = clock_mono_us() + SSH_SESSION_CLOSE_MS * 1000;
		while (libssh2_channel_free(l->via_ch) == LIBSSH2_ERROR_EAGAIN)
			if (ssh_session_wait(l->via, by) < 0)
				break;
	}
	if (l->own_fd && l->fd >= 0)
		close(l->fd);
	ssh_params_free(&l->params);
	buf_free(&l->first_bytes);
	memset(l, 0, sizeof(*l));
	l->fd = -1;
}
