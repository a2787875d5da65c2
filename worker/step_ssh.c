/* step_ssh: commands on the host over SSH, with libssh2.
 *
 * One connection per task, opened by the task's first ssh step and reused
 * by the next ones, each command on its own exec channel. The session is
 * non-blocking: every libssh2 call that would block returns EAGAIN and we
 * poll the socket for what libssh2 waits on, with the earliest of the
 * deadlines that apply as the timeout. That is how a device that never
 * sends a banner, one that stops mid-output, or one whose command never
 * ends all come back with a status in time.
 *
 * Host keys are checked against known_hosts with OpenSSH's defaults: an
 * unknown, changed or revoked key ends the task with status hostkey before
 * anything is sent. With accept-new, a key of a host known_hosts says
 * nothing about is let through and its line reported to the supervisor,
 * which alone appends it, to the file it derives itself. */
#include <errno.h>
#include <fcntl.h>
#include <libssh2.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/evp.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "clock.h"
#include "known_hosts.h"
#include "log.h"
#include "net.h"
#include "setting.h"
#include "ssh_params.h"
#include "step.h"
#include "tmpl.h"
#include "util.h"

/* rsa-sha2 signatures, strict key exchange (Terrapin) and
 * libssh2_session_callback_set2 came with 1.11.1; make deps builds it
 * where the system's libssh2 is older. */
#if LIBSSH2_VERSION_NUM < 0x010b01
#error "fleetrun needs libssh2 >= 1.11.1: run make deps"
#endif

struct ssh_conn {
	int fd;
	LIBSSH2_SESSION *session;
	struct ssh_params params;
	enum status fail_status; /* STATUS_OK, or why the connection failed */
	char *fail_error;        /* NULL or malloced */
	int64_t keepalive_at_us; /* next keepalive, 0 when off */
	int recv_error;          /* 0; errno of a failed read; -1 at EOF */
};

/* known_hosts is parsed once per worker and parsed again only when the
 * file changed and the cached copy did not know the key: with thousands
 * of lines, parsing costs more than the rest of a login. */
static struct kh_file ssh_kh;

static bool ssh_lib_ready;

/* Wait until the socket is ready for what libssh2 is blocked on, or the
 * deadline. Sends keepalives while waiting. 0 ready, -1 deadline. */
static int ssh_wait(struct ssh_conn *c, int64_t deadline_us)
{
	for (;;) {
		int64_t now = clock_mono_us(), until = deadline_us;
		int dir = libssh2_session_block_directions(c->session);
		struct pollfd pfd = {.fd = c->fd, .events = 0};
		int timeout_ms, n;

		if (now >= deadline_us)
			return -1;
		if (c->keepalive_at_us && c->keepalive_at_us <= now) {
			int next = 0;
			libssh2_keepalive_send(c->session, &next);
			c->keepalive_at_us = now + (int64_t)(next > 0 ? next : 1) * 1000000;
		}
		if (c->keepalive_at_us && c->keepalive_at_us < until)
			until = c->keepalive_at_us;
		if (dir & LIBSSH2_SESSION_BLOCK_INBOUND)
			pfd.events |= POLLIN;
		if (dir & LIBSSH2_SESSION_BLOCK_OUTBOUND)
			pfd.events |= POLLOUT;
		if (!pfd.events)
			pfd.events = POLLIN;
		timeout_ms = (int)((until - now + 999) / 1000);
		n = poll(&pfd, 1, timeout_ms);
		if (n > 0)
			return 0;
		if (n < 0 && errno != EINTR)
			return 0; /* let libssh2 see the error */
	}
}

static const char *ssh_errmsg(LIBSSH2_SESSION *s)
{
	char *msg = NULL;

	libssh2_session_last_error(s, &msg, NULL, 0);
	return msg && *msg ? msg : "unknown error";
}

/* TCP connect with a deadline. 0 and *fd, or -1 with err. */
static int ssh_tcp_connect(const struct ssh_params *p, int64_t deadline_us, int *fd_out, struct err *err)
{
	struct addrinfo *res = NULL;
	const char *why;
	int one = 1, r = -1, rc;

	if (net_resolve_host(p->address, p->port, SOCK_STREAM, &res, err) < 0)
		goto out;
	rc = net_connect(res, deadline_us, fd_out, &why);
	if (rc != 0) {
		err_set(err, "cannot connect to %s port %s: %s", p->address, p->port, rc > 0 ? "connect timed out" : why);
		goto out;
	}
	/* Without it a login stalls on delayed ACKs (DESIGN.md) */
	setsockopt(*fd_out, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	r = 0;
out:
	if (res)
		freeaddrinfo(res);
	return r;
}

/* The known_hosts line for an accepted new key, for the supervisor:
 * "name type base64", as ssh-keygen writes it. */
static void ssh_kh_newline(struct step_ctx *ctx, const char *name, const char *key, size_t len)
{
	uint32_t tlen = len >= 4 ? (uint32_t)(unsigned char)key[0] << 24 | (uint32_t)(unsigned char)key[1] << 16 |
	                               (uint32_t)(unsigned char)key[2] << 8 | (unsigned char)key[3]
	                         : 0;
	char *b64;

	if (tlen == 0 || tlen > len - 4 || len > INT_MAX / 2)
		return;
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)key, (int)len);
	free(ctx->state->known_hosts_line);
	ctx->state->known_hosts_line = xasprintf("%s %.*s %s", name, (int)tlen, key + 4, b64);
	free(b64);
}

/* 0: the host key may be used; -1: status hostkey, err says why. */
static int ssh_check_hostkey(struct ssh_conn *c, struct step_ctx *ctx, struct err *err)
{
	const struct ssh_params *p = &c->params;
	size_t len = 0, line = 0;
	int type = 0, r = -1;
	const char *key = libssh2_session_hostkey(c->session, &len, &type);
	char *name = NULL;
	enum kh_verdict v;

	if (p->policy == HOSTKEY_OFF)
		return 0;
	if (!key) {
		err_set(err, "the host sent no host key");
		return -1;
	}
	name = kh_name(p->address, p->port);
	kh_load(&ssh_kh, p->known_hosts, false);
	v = kh_check(&ssh_kh, name, key, len, &line);
	/* maybe learned since we read it: the supervisor appends */
	if (v != KH_MATCH && kh_load(&ssh_kh, p->known_hosts, true) == 1)
		v = kh_check(&ssh_kh, name, key, len, &line);
	switch (v) {
	case KH_MATCH:
		r = 0;
		break;
	case KH_REVOKED:
		err_set(err, "host key for %s is REVOKED (known_hosts %s:%zu): refused; nothing sent", p->address,
		        p->known_hosts, line);
		break;
	case KH_CHANGED:
		/* under accept-new too: only a host known_hosts says nothing
		 * about is new, as OpenSSH says REMOTE HOST IDENTIFICATION
		 * HAS CHANGED */
		err_set(err, "host key for %s has CHANGED (known_hosts %s): possible man-in-the-middle; nothing sent",
		        p->address, p->known_hosts);
		break;
	case KH_UNREADABLE:
		if (line)
			err_set(err, "host key for %s cannot be checked: %s:%zu names the host but cannot be read; "
			             "nothing sent", p->address, p->known_hosts, line);
		else
			err_set(err, "host key for %s cannot be checked: %s cannot be read; nothing sent", p->address,
			        p->known_hosts);
		break;
	case KH_UNKNOWN:
		if (p->policy == HOSTKEY_ACCEPT_NEW) {
			ssh_kh_newline(ctx, name, key, len);
			r = 0;
			break;
		}
		err_set(err, "host key for %s is not in %s (host_key_policy strict); nothing sent", p->address,
		        p->known_hosts);
		break;
	}
	free(name);
	return r;
}

static LIBSSH2_USERAUTH_KBDINT_RESPONSE_FUNC(ssh_kbdint)
{
	struct ssh_conn *c = *abstract;
	const char *pw = c && c->params.password ? c->params.password : "";

	(void)name;
	(void)name_len;
	(void)instruction;
	(void)instruction_len;
	(void)prompts;
	/* every prompt gets the password: what devices ask for is "Password:" */
	for (int i = 0; i < num_prompts; i++) {
		responses[i].text = strdup(pw);
		responses[i].length = responses[i].text ? (unsigned int)strlen(pw) : 0;
	}
}

/* How one way to authenticate went. */
enum ssh_auth_rc {
	SSH_AUTH_OK,   /* authenticated */
	SSH_AUTH_NEXT, /* not accepted: the next way may be */
	SSH_AUTH_STOP, /* *st and err set: no other way is tried */
	SSH_AUTH_LATE, /* the deadline came first */
};

/* rc = call, called again while libssh2 would block; at the deadline, the
 * function using it returns SSH_AUTH_LATE. */
#define SSH_AUTH_CALL(rc, call)                                                                                \
	while (((rc) = (call)) == LIBSSH2_ERROR_EAGAIN)                                                        \
		if (ssh_wait(c, deadline_us) < 0)                                                              \
			return SSH_AUTH_LATE

/* The agent's identities, one after another, until one is accepted. The
 * agent speaks over a local socket; these calls block briefly on it, not
 * on the device. */
static enum ssh_auth_rc ssh_auth_agent_ids(struct ssh_conn *c, LIBSSH2_AGENT *agent, int64_t deadline_us)
{
	struct libssh2_agent_publickey *id = NULL, *prev = NULL;
	int rc;

	if (libssh2_agent_connect(agent) != 0 || libssh2_agent_list_identities(agent) != 0)
		return SSH_AUTH_NEXT;
	while (libssh2_agent_get_identity(agent, &id, prev) == 0) {
		SSH_AUTH_CALL(rc, libssh2_agent_userauth(agent, c->params.user, id));
		if (rc == 0)
			return SSH_AUTH_OK;
		prev = id;
	}
	return SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_agent(struct ssh_conn *c, int64_t deadline_us, enum status *st, struct err *err)
{
	LIBSSH2_AGENT *agent = libssh2_agent_init(c->session);
	enum ssh_auth_rc rc;

	if (!agent)
		return SSH_AUTH_NEXT;
	rc = ssh_auth_agent_ids(c, agent, deadline_us);
	libssh2_agent_disconnect(agent);
	libssh2_agent_free(agent);
	return rc;
}

static enum ssh_auth_rc ssh_auth_key(struct ssh_conn *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	/* the key given, else ssh_config's IdentityFiles in order, where
	 * one that is missing or unreadable is skipped, as ssh does */
	for (size_t i = 0; i < (p->key ? 1 : p->nidentity_files); i++) {
		const char *key = p->key ? p->key : p->identity_files[i];
		SSH_AUTH_CALL(rc, libssh2_userauth_publickey_fromfile_ex(c->session, p->user,
		                                                         (unsigned int)strlen(p->user), NULL, key,
		                                                         p->passphrase));
		if (rc == 0)
			return SSH_AUTH_OK;
		if (p->key && (rc == LIBSSH2_ERROR_FILE || rc == LIBSSH2_ERROR_METHOD_NOT_SUPPORTED)) {
			*st = STATUS_AUTH;
			err_set(err, "key %s could not be used: %s", p->key, ssh_errmsg(c->session));
			return SSH_AUTH_STOP;
		}
	}
	return SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_password(struct ssh_conn *c, int64_t deadline_us, enum status *st,
                                          struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	SSH_AUTH_CALL(rc, libssh2_userauth_password_ex(c->session, p->user, (unsigned int)strlen(p->user),
	                                               p->password, (unsigned int)strlen(p->password), NULL));
	return rc == 0 ? SSH_AUTH_OK : SSH_AUTH_NEXT;
}

static enum ssh_auth_rc ssh_auth_kbdint(struct ssh_conn *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	int rc;

	*libssh2_session_abstract(c->session) = c; /* for ssh_kbdint */
	SSH_AUTH_CALL(rc, libssh2_userauth_keyboard_interactive_ex(c->session, p->user, (unsigned int)strlen(p->user),
	                                                           ssh_kbdint));
	return rc == 0 ? SSH_AUTH_OK : SSH_AUTH_NEXT;
}

#undef SSH_AUTH_CALL

static bool ssh_auth_agent_wanted(const struct ssh_params *p)
{
	return p->agent == 1 || (p->agent == -1 && !p->key && !p->password && getenv("SSH_AUTH_SOCK"));
}

static bool ssh_auth_key_wanted(const struct ssh_params *p)
{
	return p->key != NULL || p->nidentity_files > 0;
}

static bool ssh_auth_password_wanted(const struct ssh_params *p)
{
	return p->password != NULL;
}

/* The ways to authenticate, in the order they are tried: each when the
 * host's settings ask for it and the server offers it. */
static const struct ssh_auth_method {
	const char *name;    /* as the error's "tried: ..." names it */
	const char *offered; /* the server's name for it */
	bool (*wanted)(const struct ssh_params *p);
	enum ssh_auth_rc (*attempt)(struct ssh_conn *c, int64_t deadline_us, enum status *st, struct err *err);
} ssh_auth_methods[] = {
	{"agent", "publickey", ssh_auth_agent_wanted, ssh_auth_agent},
	{"key", "publickey", ssh_auth_key_wanted, ssh_auth_key},
	{"password", "password", ssh_auth_password_wanted, ssh_auth_password},
	{"keyboard-interactive", "keyboard-interactive", ssh_auth_password_wanted, ssh_auth_kbdint},
};

/* Authenticate: agent, key file, password, keyboard-interactive
 * (ssh_auth_methods), each when configured and offered by the server. 0,
 * or -1 with *st (auth, or unreachable/timeout when the connection itself
 * failed) and err. */
static int ssh_auth(struct ssh_conn *c, int64_t deadline_us, enum status *st, struct err *err)
{
	const struct ssh_params *p = &c->params;
	LIBSSH2_SESSION *s = c->session;
	const char *methods;
	struct buf tried = BUF_INIT;
	enum ssh_auth_rc rc = SSH_AUTH_NEXT;
	int r = -1;

	while (!(methods = libssh2_userauth_list(s, p->user, (unsigned int)strlen(p->user))) &&
	       libssh2_session_last_errno(s) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(c, deadline_us) < 0)
			goto late;
	if (!methods) {
		if (libssh2_userauth_authenticated(s)) {
			r = 0;
			goto out;
		}
		*st = STATUS_UNREACHABLE;
		err_set(err, "SSH session lost before authentication: %s", ssh_errmsg(s));
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(ssh_auth_methods) && rc == SSH_AUTH_NEXT; i++) {
		const struct ssh_auth_method *m = &ssh_auth_methods[i];

		if (!m->wanted(p) || !strstr(methods, m->offered))
			continue;
		buf_printf(&tried, "%s ", m->name);
		rc = m->attempt(c, deadline_us, st, err);
	}
	if (rc == SSH_AUTH_OK)
		r = 0;
	if (rc == SSH_AUTH_LATE)
		goto late;
	if (rc != SSH_AUTH_NEXT)
		goto out;
	*st = STATUS_AUTH;
	if (!tried.len)
		err_set(err, "no way to authenticate as %s: the server offers %s; configure key, password or agent",
		        p->user, methods);
	else
		err_set(err, "authentication as %s failed (tried: %.*s; server offers %s)", p->user,
		        (int)tried.len - 1, tried.data, methods);
	goto out;
late:
	*st = STATUS_UNREACHABLE;
	err_set(err, "authentication as %s did not finish in time", p->user);
out:
	buf_free(&tried);
	return r;
}

static void step_ssh_close(struct task_state *state)
{
	struct ssh_conn *c = state->ssh;

	if (!c)
		return;
	if (c->session) {
		/* one try: a device that does not read is not waited for */
		libssh2_session_disconnect(c->session, "fleetrun: done");
		libssh2_session_free(c->session);
	}
	if (c->fd >= 0)
		close(c->fd);
	ssh_params_free(&c->params);
	free(c->fail_error);
	free(c);
	state->ssh = NULL;
}

/* Socket reads for libssh2. When the connection ends (EOF or a reset)
 * libssh2 returns the error at once and drops output it had already
 * received; reporting the end first as "try again" lets the reader take
 * that output, and the next read reports the end. */
static LIBSSH2_RECV_FUNC(ssh_recv)
{
	struct ssh_conn *c = *abstract;
	ssize_t n;

	if (c->recv_error)
		return c->recv_error == -1 ? 0 : -c->recv_error;
	n = recv(socket, buffer, length, flags);
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR))
		return -EAGAIN;
	c->recv_error = n == 0 ? -1 : errno;
	return -EAGAIN;
}

/* Offer first the host key types known_hosts already holds for this
 * host, as OpenSSH does: a device whose known key is ECDSA must not be
 * called unknown because it also has an Ed25519 key. The rest follow in
 * OpenSSH's order. */
static void ssh_hostkey_pref(struct ssh_conn *c)
{
	static const struct {
		const char *alg;
		const char *type; /* in known_hosts */
	} algs[] = {
		{"ssh-ed25519", "ssh-ed25519"},
		{"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
		{"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
		{"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
		{"rsa-sha2-512", "ssh-rsa"},
		{"rsa-sha2-256", "ssh-rsa"},
		{"ssh-rsa", "ssh-rsa"},
	};
	const struct ssh_params *p = &c->params;
	struct buf known = BUF_INIT, rest = BUF_INIT;
	char *name = kh_name(p->address, p->port);
	const char **sup = NULL;
	int nsup;

	if (p->policy != HOSTKEY_OFF)
		kh_load(&ssh_kh, p->known_hosts, false);
	/* only names this libssh2 knows: it drops the others from the list
	 * with an overlapping memcpy (libssh2 1.10), which is undefined */
	nsup = libssh2_session_supported_algs(c->session, LIBSSH2_METHOD_HOSTKEY, &sup);
	for (size_t i = 0; i < ARRAY_LEN(algs); i++) {
		bool supported = false;
		for (int k = 0; k < nsup; k++)
			supported |= !strcmp(sup[k], algs[i].alg);
		if (!supported)
			continue;
		bool is_known = p->policy != HOSTKEY_OFF && kh_has_type(&ssh_kh, name, algs[i].type);
		struct buf *to = is_known ? &known : &rest;
		buf_printf(to, "%s%s", to->len ? "," : "", algs[i].alg);
	}
	if (known.len && rest.len)
		buf_putc(&known, ',');
	buf_append(&known, rest.data, rest.len);
	if (known.len)
		libssh2_session_method_pref(c->session, LIBSSH2_METHOD_HOSTKEY, known.data);
	if (nsup > 0)
		libssh2_free(c->session, sup);
	buf_free(&known);
	buf_free(&rest);
	free(name);
}

/* Open the task's connection: TCP, handshake, host key, authentication.
 * Any failure is remembered in the connection so later ssh steps of the
 * task report it too without trying again. */
static struct ssh_conn *ssh_connect(struct step_ctx *ctx)
{
	struct ssh_conn *c = xcalloc(1, sizeof(*c));
	int64_t now = clock_mono_us();
	int64_t limit = now + ctx->job->ssh.connect_timeout_ms * 1000;
	int64_t deadline = limit < ctx->deadline_us ? limit : ctx->deadline_us;
	bool task_first = ctx->deadline_us <= limit;
	struct err err;
	int rc;

	c->fd = -1;
	ctx->state->ssh = c;
	if (!ssh_lib_ready) {
		libssh2_init(0);
		ssh_lib_ready = true;
	}
	if (ssh_params_load(ctx, &c->params, &err) < 0) {
		c->fail_status = STATUS_ERROR;
		c->fail_error = xstrdup(err.msg);
		return c;
	}
	/* connect_timeout: the job's, or ssh_config's when the job has none */
	limit = now + c->params.connect_timeout_ms * 1000;
	deadline = limit < ctx->deadline_us ? limit : ctx->deadline_us;
	task_first = ctx->deadline_us <= limit;
	if (ssh_tcp_connect(&c->params, deadline, &c->fd, &err) < 0) {
		c->fail_status = clock_mono_us() >= ctx->deadline_us ? STATUS_TIMEOUT : STATUS_UNREACHABLE;
		c->fail_error = xstrdup(err.msg);
		return c;
	}
	c->session = libssh2_session_init_ex(NULL, NULL, NULL, c);
	if (!c->session) {
		c->fail_status = STATUS_ERROR;
		c->fail_error = xstrdup("cannot create an SSH session");
		return c;
	}
	libssh2_session_set_blocking(c->session, 0);
	libssh2_session_callback_set2(c->session, LIBSSH2_CALLBACK_RECV, (libssh2_cb_generic *)ssh_recv);
	ssh_hostkey_pref(c);
	if (c->params.keepalive_ms > 0) {
		libssh2_keepalive_config(c->session, 1, (unsigned)((c->params.keepalive_ms + 999) / 1000));
		c->keepalive_at_us = now + c->params.keepalive_ms * 1000;
	}
	while ((rc = libssh2_session_handshake(c->session, c->fd)) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_wait(c, deadline) < 0) {
			c->fail_status = task_first ? STATUS_TIMEOUT : STATUS_UNREACHABLE;
			c->fail_error = xasprintf("no SSH handshake with %s port %s within %s", c->params.address,
			                          c->params.port, task_first ? "the task deadline" : "connect_timeout");
			return c;
		}
	}
	if (rc != 0) {
		c->fail_status = STATUS_UNREACHABLE;
		c->fail_error = xasprintf("SSH handshake with %s port %s failed: %s", c->params.address, c->params.port,
		                          ssh_errmsg(c->session));
		return c;
	}
	if (ssh_check_hostkey(c, ctx, &err) < 0) {
		c->fail_status = STATUS_HOSTKEY;
		c->fail_error = xstrdup(err.msg);
		return c;
	}
	if (ssh_auth(c, deadline, &c->fail_status, &err) < 0) {
		if (c->fail_status == STATUS_UNREACHABLE && task_first && clock_mono_us() >= ctx->deadline_us)
			c->fail_status = STATUS_TIMEOUT;
		c->fail_error = xstrdup(err.msg);
		return c;
	}
	return c;
}

/* Wait on a channel call that would block, until the step's deadline:
 * past it, the step times out. For the functions below, which name their
 * connection c, their result r, their return code rc and have a label out. */
#define SSH_CH_LOOP(call, what)                                                                                \
	while ((rc = (call)) == LIBSSH2_ERROR_EAGAIN)                                                          \
		if (ssh_wait(c, ctx->deadline_us) < 0) {                                                       \
			r->status = STATUS_TIMEOUT;                                                            \
			r->error = xasprintf("%s did not finish before the %s deadline", what,                 \
			                     ctx->deadline_is_task ? "task" : "step");                         \
			goto out;                                                                              \
		}

/* The command's channel: opened, a terminal when asked for, the command
 * started. 0 and *chp, or -1 with r set. */
static int ssh_channel_start(struct ssh_conn *c, struct step_ctx *ctx, const char *cmd, LIBSSH2_CHANNEL **chp,
                             struct step_result *r)
{
	LIBSSH2_CHANNEL *ch = NULL;
	int rc, ret = -1;

	while (!(ch = libssh2_channel_open_session(c->session)) &&
	       libssh2_session_last_errno(c->session) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_wait(c, ctx->deadline_us) < 0) {
			r->status = STATUS_TIMEOUT;
			r->error = xstrdup("opening a channel did not finish before the deadline");
			goto out;
		}
	}
	if (!ch) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("cannot open a channel: %s", ssh_errmsg(c->session));
		goto out;
	}
	if (ctx->step->pty >= 0 ? ctx->step->pty : c->params.pty) {
		SSH_CH_LOOP(libssh2_channel_request_pty(ch, "vt100"), "requesting a terminal");
		if (rc != 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("the host refused a terminal: %s", ssh_errmsg(c->session));
			goto out;
		}
	}
	SSH_CH_LOOP(libssh2_channel_exec(ch, cmd), "starting the command");
	if (rc != 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("the host refused the command: %s", ssh_errmsg(c->session));
		goto out;
	}
	*chp = ch;
	ch = NULL;
	ret = 0;
out:
	if (ch)
		libssh2_channel_free(ch);
	return ret;
}

/* The command's output until EOF: stdout and stderr are read in the same
 * turn, so a command that floods one while the other is idle can never
 * stall on a full window; past the cap, bytes are read and dropped. 0 at
 * EOF, or -1 with r set: the deadline or idle_timeout passed, or the
 * connection was lost (and is marked failed for the task's next steps). */
static int ssh_read_output(struct ssh_conn *c, struct step_ctx *ctx, LIBSSH2_CHANNEL *ch, struct step_result *r)
{
	int64_t idle_ms = ctx->job->ssh.idle_timeout_ms, last_data = clock_mono_us();
	char chunk[32768];

	for (;;) {
		bool progress = false;
		ssize_t n;

		/* checked on every turn: a command that never stops printing
		 * never leaves this loop through a wait */
		if (clock_mono_us() >= ctx->deadline_us) {
			r->status = STATUS_TIMEOUT;
			r->error = xasprintf("command did not finish before the %s deadline",
			                     ctx->deadline_is_task ? "task" : "step");
			return -1;
		}
		while ((n = libssh2_channel_read_ex(ch, 0, chunk, sizeof(chunk))) > 0) {
			buf_append_capped(&r->out, chunk, (size_t)n, ctx->output_cap, &r->truncated);
			progress = true;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		while ((n = libssh2_channel_read_ex(ch, SSH_EXTENDED_DATA_STDERR, chunk, sizeof(chunk))) > 0) {
			buf_append_capped(&r->err, chunk, (size_t)n, ctx->output_cap, &r->truncated);
			progress = true;
		}
		if (n < 0 && n != LIBSSH2_ERROR_EAGAIN)
			goto lost;
		if (libssh2_channel_eof(ch))
			return 0;
		if (progress) {
			last_data = clock_mono_us();
			continue;
		}
		int64_t until = ctx->deadline_us;
		bool idle_first = false;
		if (idle_ms > 0 && last_data + idle_ms * 1000 < until) {
			until = last_data + idle_ms * 1000;
			idle_first = true;
		}
		if (ssh_wait(c, until) < 0) {
			r->status = STATUS_TIMEOUT;
			if (idle_first)
				r->error = xasprintf("no output for %.3gs (idle_timeout): command stopped", idle_ms / 1000.0);
			else
				r->error = xasprintf("command did not finish before the %s deadline",
				                     ctx->deadline_is_task ? "task" : "step");
			return -1;
		}
	}
lost:
	r->status = STATUS_FAILED;
	if (c->recv_error > 0)
		r->error = xasprintf("connection lost mid-command: %s", strerror(c->recv_error));
	else if (c->recv_error < 0)
		r->error = xstrdup("connection lost mid-command: the host closed it");
	else
		r->error = xasprintf("connection lost mid-command: %s", ssh_errmsg(c->session));
	/* the session is dead: later steps must not try to use it */
	c->fail_status = STATUS_FAILED;
	free(c->fail_error);
	c->fail_error = xstrdup("connection lost in an earlier step");
	return -1;
}

/* After EOF: close the channel, then the command's verdict from its exit
 * signal or exit status (and expect). */
static void ssh_exit_verdict(struct ssh_conn *c, struct step_ctx *ctx, LIBSSH2_CHANNEL *ch, struct step_result *r)
{
	/* exit-status arrives with or just after EOF; give the close a short
	 * bounded wait for it */
	int64_t close_by = clock_mono_us() + 2000000;
	char *sig = NULL;
	size_t siglen = 0;
	int rc;

	if (close_by > ctx->deadline_us)
		close_by = ctx->deadline_us;
	while ((rc = libssh2_channel_close(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(c, close_by) < 0)
			break;
	while (rc == 0 && (rc = libssh2_channel_wait_closed(ch)) == LIBSSH2_ERROR_EAGAIN)
		if (ssh_wait(c, close_by) < 0)
			break;
	libssh2_channel_get_exit_signal(ch, &sig, &siglen, NULL, NULL, NULL, NULL);
	if (sig && siglen) {
		int signo = 0;
		for (int k = 1; k < NSIG; k++) {
			const char *ab = sigabbrev_np(k);
			if (ab && strlen(ab) == siglen && !memcmp(ab, sig, siglen))
				signo = k;
		}
		r->term_signal = signo ? signo : SIGKILL;
		r->status = STATUS_FAILED;
		r->error = xasprintf("command killed by SIG%.*s", (int)siglen, sig);
		libssh2_free(c->session, sig);
		return;
	}
	if (sig)
		libssh2_free(c->session, sig);
	r->has_exit = true;
	r->exit_code = libssh2_channel_get_exit_status(ch);
	if (r->exit_code != 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("command exited with code %d", r->exit_code);
	} else {
		step_check_expect(ctx, r);
	}
}

static void step_ssh_run(struct step_ctx *ctx, struct step_result *r)
{
	struct ssh_conn *c = ctx->state->ssh;
	LIBSSH2_CHANNEL *ch = NULL;
	struct buf cmd = BUF_INIT;
	struct err err;

	if (tmpl_render(ctx->step->text, ctx->scope, TMPL_ENV_VALUE, &cmd, ctx->secrets, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	if (!c)
		c = ssh_connect(ctx);
	if (c->fail_status != STATUS_OK) {
		r->status = c->fail_status;
		r->error = xstrdup(c->fail_error);
		goto out;
	}
	if (ssh_channel_start(c, ctx, cmd.data, &ch, r) < 0 || ssh_read_output(c, ctx, ch, r) < 0)
		goto out;
	ssh_exit_verdict(c, ctx, ch, r);
out:
	if (ch)
		libssh2_channel_free(ch);
	buf_free(&cmd);
}

const struct step_ops step_ssh_ops = {
	.kind = STEP_SSH,
	.run = step_ssh_run,
	.close = step_ssh_close,
	.pack = step_pack_command,
};
