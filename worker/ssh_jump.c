/* ssh_jump: see ssh_jump.h. */
#include "ssh_jump.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "clock.h"
#include "hash.h"
#include "jumpspec.h"
#include "login_gate.h"

/* How many chains a worker keeps: a job rarely has more than a few
 * bastions; the least recently used goes. */
#define SSH_JUMP_KEEP 4

/* The logins to the hops of one chain, each over the one before. */
struct ssh_jump_chain {
	uint64_t key;  /* the chain and every hop's settings */
	struct ssh_login hops[JUMPSPEC_MAX_HOPS];
	size_t n;
	int64_t used_us; /* for the least recently used */
};

static struct ssh_jump_chain *ssh_jump_kept[SSH_JUMP_KEEP];
static bool ssh_jump_atexit_set;

/* "jump host H:P (hop i of n)": the prefix of every error of a hop. */
static void ssh_jump_hop_err(const struct ssh_params *p, size_t i, size_t n, struct err *err)
{
	char why[sizeof(err->msg)];
	bool v6 = strchr(p->address, ':') != NULL;

	memcpy(why, err->msg, sizeof(why));
	err_set(err, "jump host %s%s%s:%s (hop %zu of %zu): %s", v6 ? "[" : "", p->address, v6 ? "]" : "", p->port,
	        i + 1, n, why);
}

static uint64_t ssh_jump_key(const struct ssh_params *hops, size_t n)
{
	uint64_t h = HASH_FNV_INIT;
	const char *none = "";

	for (size_t i = 0; i < n; i++) {
		const struct ssh_params *p = &hops[i];
		const char *s[] = {p->address, p->port, p->user, p->key, p->passphrase, p->password, p->known_hosts};
		int nums[] = {p->agent, (int)p->policy};

		for (size_t k = 0; k < ARRAY_LEN(s); k++)
			h = hash_fnv1a(h, s[k] ? s[k] : none, s[k] ? strlen(s[k]) + 1 : 1);
		h = hash_fnv1a(h, nums, sizeof(nums));
	}
	return h;
}

static void ssh_jump_chain_free(struct ssh_jump_chain *c)
{
	if (!c)
		return;
	/* the innermost first: each says goodbye through the ones below */
	for (size_t i = c->n; i-- > 0;)
		ssh_session_close(&c->hops[i]);
	free(c);
}

static void ssh_jump_atexit(void)
{
	for (size_t i = 0; i < SSH_JUMP_KEEP; i++) {
		ssh_jump_chain_free(ssh_jump_kept[i]);
		ssh_jump_kept[i] = NULL;
	}
}

/* Open a direct-tcpip channel from l to host:port: l->session's channel
 * (*chp), or -1 with *st and err. A channel the server refuses is the
 * target unreachable from there; a dead session is *dead. */
static int ssh_jump_channel(struct ssh_login *l, const char *host, const char *port, int64_t deadline_us,
                            LIBSSH2_CHANNEL **chp, bool *dead, enum status *st, struct err *err)
{
	LIBSSH2_CHANNEL *ch;
	int rc;

	*dead = false;
	while (!(ch = libssh2_channel_direct_tcpip_ex(l->session, host, atoi(port), "127.0.0.1", 22)) &&
	       (rc = libssh2_session_last_errno(l->session)) == LIBSSH2_ERROR_EAGAIN) {
		if (ssh_session_wait(l, deadline_us) < 0) {
			*st = STATUS_UNREACHABLE;
			err_set(err, "no channel to %s port %s in time", host, port);
			return -1;
		}
	}
	if (!ch) {
		*dead = rc != LIBSSH2_ERROR_CHANNEL_FAILURE || ssh_session_dead(l);
		*st = STATUS_UNREACHABLE;
		err_set(err, "cannot reach %s port %s from there: %s", host, port, ssh_session_errmsg(l->session));
		return -1;
	}
	*chp = ch;
	return 0;
}

/* Each hop has its connect_timeout, within the task's deadline; *first:
 * the task's deadline comes first (a late login is then a timeout). */
static int64_t ssh_jump_deadline(const struct step_ctx *ctx, bool *first)
{
	int64_t dl = clock_mono_us() + ctx->job->ssh.connect_timeout_ms * 1000;

	*first = ctx->deadline_us <= dl;
	return *first ? ctx->deadline_us : dl;
}

/* Pacing (login_gate.h): a worker holds one login at a time. The login
 * before (an authenticated hop) is given back and room asked for this
 * hop's, keyed by the hop: its sshd's MaxStartups counts the connection
 * from the moment the channel through the hop before, or the TCP
 * connect, reaches it. The wait moves ctx's deadlines. 0, or -1 with *st
 * and err. */
static int ssh_jump_gate(struct step_ctx *ctx, const struct ssh_params *hop, enum status *st, struct err *err)
{
	char *key = xasprintf("%s:%s", hop->address, hop->port);
	int r = 0;

	login_gate_leave();
	if (login_gate_enter(ctx, key, err) < 0) {
		*st = STATUS_ERROR;
		r = -1;
	}
	free(key);
	return r;
}

/* Log in to every hop of c (params in hops, moved in), the first over
 * proxy when it runs. 0, or -1 with *st and err naming the hop. */
static int ssh_jump_login_all(struct step_ctx *ctx, struct ssh_jump_chain *c, struct ssh_params *hops, size_t n,
                              struct ssh_proxycmd *proxy, enum status *st, struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct ssh_login *l = &c->hops[i];
		bool first, dead;
		int64_t dl;
		char *kh = NULL;
		int rc;

		if (ssh_jump_gate(ctx, &hops[i], st, err) < 0)
			return -1;
		dl = ssh_jump_deadline(ctx, &first);
		ssh_session_init(l, &hops[i]);
		c->n = i + 1;
		l->keepalive_ms = l->params.keepalive_ms; /* the job's, or ServerAliveInterval */
		if (i == 0 && proxy->pid > 0)
			l->fd = proxy->fd;
		if (i > 0) {
			l->via = &c->hops[i - 1];
			l->fd = l->via->fd;
			if (ssh_jump_channel(l->via, l->params.address, l->params.port, dl, &l->via_ch, &dead, st, err) < 0) {
				ssh_jump_hop_err(&l->via->params, i - 1, n, err);
				return -1;
			}
		}
		rc = ssh_session_login(l, dl, first, &kh, st, err);
		step_known_host_add(ctx->state, kh);
		if (rc < 0) {
			if (i == 0 && proxy->pid > 0)
				ssh_proxycmd_why(proxy, err);
			ssh_jump_hop_err(&l->params, i, n, err);
			return -1;
		}
	}
	return 0;
}

/* The hop settings of the host's chain. 0 and hops[0..*n), or -1. */
static int ssh_jump_params(struct step_ctx *ctx, const struct ssh_params *dev, struct ssh_params *hops, size_t *n,
                           enum status *st, struct err *err)
{
	struct jumpspec js;
	int r = -1;

	*n = 0;
	if (jumpspec_parse(dev->jump, &js, err) < 0) {
		*st = STATUS_ERROR;
		return -1;
	}
	for (size_t i = 0; i < js.n; i++) {
		if (ssh_params_hop(ctx, dev, &js.hops[i], &hops[i], err) < 0) {
			*st = STATUS_ERROR;
			goto out;
		}
		*n = i + 1;
	}
	r = 0;
out:
	jumpspec_free(&js);
	return r;
}

/* "user@host:port,...": the chain as used (or tried), for the record. */
static char *ssh_jump_describe(const struct ssh_params *hops, size_t n)
{
	struct buf b = BUF_INIT;

	for (size_t i = 0; i < n; i++) {
		const struct ssh_params *p = &hops[i];
		bool v6 = strchr(p->address, ':') != NULL;

		buf_printf(&b, "%s%s@%s%s%s:%s", i ? "," : "", p->user, v6 ? "[" : "", p->address, v6 ? "]" : "",
		           p->port);
	}
	return buf_steal(&b);
}

/* A kept chain with this key, or NULL. */
static struct ssh_jump_chain **ssh_jump_find(uint64_t key)
{
	for (size_t i = 0; i < SSH_JUMP_KEEP; i++)
		if (ssh_jump_kept[i] && ssh_jump_kept[i]->key == key)
			return &ssh_jump_kept[i];
	return NULL;
}

/* Keep c, in place of the least recently used when full. */
static void ssh_jump_keep(struct ssh_jump_chain *c)
{
	size_t at = 0;

	if (!ssh_jump_atexit_set) {
		atexit(ssh_jump_atexit);
		ssh_jump_atexit_set = true;
	}
	for (size_t i = 0; i < SSH_JUMP_KEEP; i++) {
		if (!ssh_jump_kept[i]) {
			at = i;
			break;
		}
		if (ssh_jump_kept[i]->used_us < ssh_jump_kept[at]->used_us)
			at = i;
	}
	ssh_jump_chain_free(ssh_jump_kept[at]);
	ssh_jump_kept[at] = c;
}

/* The device's channel from the chain's last hop: dev set up over it. */
static int ssh_jump_to_device(struct step_ctx *ctx, struct ssh_jump_chain *c, struct ssh_login *dev, bool *dead,
                              enum status *st, struct err *err)
{
	struct ssh_login *last = &c->hops[c->n - 1];
	bool first;
	int64_t dl = ssh_jump_deadline(ctx, &first);

	if (ssh_jump_channel(last, dev->params.address, dev->params.port, dl, &dev->via_ch, dead, st, err) < 0) {
		if (first && clock_mono_us() >= dl)
			*st = STATUS_TIMEOUT;
		ssh_jump_hop_err(&last->params, c->n - 1, c->n, err);
		return -1;
	}
	dev->via = last;
	dev->fd = last->fd;
	c->used_us = clock_mono_us();
	return 0;
}

int ssh_jump_connect(struct step_ctx *ctx, struct ssh_login *dev, struct ssh_jump_use *u, enum status *st,
                     struct err *err)
{
	struct ssh_params hops[JUMPSPEC_MAX_HOPS];
	struct ssh_jump_chain **kept = NULL, *c = NULL;
	const struct ssh_params *first;
	size_t n = 0;
	bool dead = false;
	int r = -1;

	memset(hops, 0, sizeof(hops));
	u->proxy.pid = -1;
	u->proxy.fd = u->proxy.err_fd = -1;
	if (ssh_jump_params(ctx, &dev->params, hops, &n, st, err) < 0)
		goto out;
	if (n)
		u->used = ssh_jump_describe(hops, n);
	first = n ? &hops[0] : &dev->params;
	if (dev->params.proxy_command &&
	    ssh_proxycmd_start(ctx, dev->params.proxy_command, first->address, first->port, first->user, &u->proxy,
	                       err) < 0) {
		*st = STATUS_ERROR;
		goto out;
	}
	if (n == 0) {
		if (u->proxy.pid > 0)
			dev->fd = u->proxy.fd;
		r = 0;
		goto out;
	}
	if (u->proxy.pid < 0)
		kept = ssh_jump_find(ssh_jump_key(hops, n));
	if (kept) {
		/* a kept chain: the device's channel, or one more login when
		 * the chain died since */
		if (ssh_jump_to_device(ctx, *kept, dev, &dead, st, err) == 0) {
			u->chain = *kept;
			r = 0;
			goto out;
		}
		if (!dead)
			goto out;
		ssh_jump_chain_free(*kept);
		*kept = NULL;
	}
	c = xcalloc(1, sizeof(*c));
	c->key = ssh_jump_key(hops, n);
	if (ssh_jump_login_all(ctx, c, hops, n, &u->proxy, st, err) < 0 ||
	    ssh_jump_to_device(ctx, c, dev, &dead, st, err) < 0)
		goto out;
	/* the last hop's login ends: a channel through it is open */
	login_gate_leave();
	u->chain = c;
	u->owned = u->proxy.pid > 0;
	if (!u->owned)
		ssh_jump_keep(c);
	c = NULL;
	r = 0;
out:
	if (r == 0)
		*st = STATUS_OK; /* a kept chain found dead said otherwise */
	ssh_jump_chain_free(c);
	for (size_t i = 0; i < n; i++)
		ssh_params_free(&hops[i]);
	return r;
}

void ssh_jump_release(struct ssh_jump_use *u)
{
	if (u->owned)
		ssh_jump_chain_free(u->chain);
	ssh_proxycmd_stop(&u->proxy);
	free(u->used);
	memset(u, 0, sizeof(*u));
	u->proxy.pid = -1;
	u->proxy.fd = u->proxy.err_fd = -1;
}
