/* ssh_params: see ssh_params.h. */
#include "ssh_params.h"

#include <stdlib.h>
#include <string.h>

#include "hostcfg.h"
#include "kv.h"
#include "setting.h"
#include "sshconfig.h"
#include "tmpl.h"

/* The ssh_config files, read once per worker on first use: a worker runs
 * one job, whose ssh: config names them. The supervisor read them at the
 * start of the run and refused to run when they did not parse, so an
 * error here is the files changing under a run. */
static struct sshconfig ssh_params_cfg;
static int ssh_params_cfg_state; /* 0 not read, 1 read, -1 failed */
static struct err ssh_params_cfg_err;

void ssh_params_free(struct ssh_params *p)
{
	free(p->address);
	free(p->port);
	free(p->user);
	free(p->key);
	hostcfg_secret_free(p->passphrase);
	hostcfg_secret_free(p->password);
	free(p->known_hosts);
	for (size_t i = 0; i < p->nidentity_files; i++)
		free(p->identity_files[i]);
	free(p->identity_files);
	free(p->jump);
	free(p->proxy_command);
	for (int m = 0; m < SSHALGS_NMETHODS; m++)
		free(*ssh_params_algs(p, (enum sshalgs_method)m));
	memset(p, 0, sizeof(*p));
}

/* proxy_command is code: the job's, never a host var's (inventories are
 * data, and a command from one would run on this machine). */
static int ssh_params_proxy(struct step_ctx *ctx, struct ssh_params *p, struct err *err)
{
	if (kvlist_get(&ctx->task->vars, "proxy_command")) {
		err_set(err, "host var proxy_command refused: inventories are data and never become a command on "
		             "this machine; set proxy_command in the job's ssh: section (or use the host var jump)");
		return -1;
	}
	if (ctx->job->ssh.proxy_command)
		p->proxy_command = xstrdup(ctx->job->ssh.proxy_command);
	return 0;
}

char **ssh_params_algs(struct ssh_params *p, enum sshalgs_method m)
{
	switch (m) {
	case SSHALGS_KEX:
		return &p->kex;
	case SSHALGS_HOSTKEY:
		return &p->hostkey_algs;
	case SSHALGS_CIPHERS:
		return &p->ciphers;
	case SSHALGS_MACS:
		return &p->macs;
	case SSHALGS_PUBKEY:
	default:
		return &p->pubkey_algs;
	}
}

/* The worker's ssh_config (NULL when the job says none), read on first use. */
static const struct sshconfig *ssh_params_config(const struct job *job, struct err *err)
{
	if (ssh_params_cfg_state == 0) {
		ssh_params_cfg_state = sshconfig_load(&ssh_params_cfg, job->ssh.config, &ssh_params_cfg_err) < 0 ? -1 : 1;
		if (ssh_params_cfg_state < 0)
			sshconfig_free(&ssh_params_cfg);
	}
	if (ssh_params_cfg_state < 0) {
		*err = ssh_params_cfg_err;
		return NULL;
	}
	return &ssh_params_cfg;
}

/* *dst = src when nothing above ssh_config gave it. */
static void ssh_params_take(char **dst, const char *src)
{
	if (!*dst && src)
		*dst = xstrdup(src);
}

/* What ssh_config gives where host vars and the job gave nothing. */
static void ssh_params_from_config(struct ssh_params *p, const struct job_ssh *js, const struct sshconfig_host *sc)
{
	int64_t ms;

	ssh_params_take(&p->address, sc->val[SSHCONFIG_HOSTNAME]);
	ssh_params_take(&p->user, sc->val[SSHCONFIG_USER]);
	ssh_params_take(&p->port, sc->val[SSHCONFIG_PORT]);
	if (!p->key && sc->nidentity_files) {
		p->identity_files = xreallocarray(NULL, sc->nidentity_files, sizeof(char *));
		for (size_t i = 0; i < sc->nidentity_files; i++)
			p->identity_files[i] = xstrdup(sc->identity_files[i]);
		p->nidentity_files = sc->nidentity_files;
	}
	if (p->agent == -1 && sc->val[SSHCONFIG_IDENTITIESONLY] && !strcmp(sc->val[SSHCONFIG_IDENTITIESONLY], "yes"))
		p->agent = 0;
	ssh_params_take(&p->jump, sc->val[SSHCONFIG_PROXYJUMP]);
	/* ProxyCommand none: no command (it still kept a later ProxyJump out) */
	if (sc->val[SSHCONFIG_PROXYCOMMAND] && strcmp(sc->val[SSHCONFIG_PROXYCOMMAND], "none"))
		ssh_params_take(&p->proxy_command, sc->val[SSHCONFIG_PROXYCOMMAND]);
	ssh_params_take(&p->kex, sc->val[SSHCONFIG_KEXALGORITHMS]);
	ssh_params_take(&p->hostkey_algs, sc->val[SSHCONFIG_HOSTKEYALGORITHMS]);
	ssh_params_take(&p->ciphers, sc->val[SSHCONFIG_CIPHERS]);
	ssh_params_take(&p->macs, sc->val[SSHCONFIG_MACS]);
	ssh_params_take(&p->pubkey_algs, sc->val[SSHCONFIG_PUBKEYACCEPTEDALGORITHMS]);
	p->connect_timeout_ms = js->connect_timeout_ms;
	if (!(js->given & JOB_SSH_GIVEN_CONNECT_TIMEOUT) && sshconfig_host_ms(sc, SSHCONFIG_CONNECTTIMEOUT, &ms) == 0 &&
	    ms > 0)
		p->connect_timeout_ms = ms;
	p->keepalive_ms = js->keepalive_ms;
	if (!(js->given & JOB_SSH_GIVEN_KEEPALIVE) && sshconfig_host_ms(sc, SSHCONFIG_SERVERALIVEINTERVAL, &ms) == 0)
		p->keepalive_ms = ms;
}

int ssh_params_load(struct step_ctx *ctx, struct ssh_params *p, struct err *err)
{
	const struct job_ssh *js = &ctx->job->ssh;
	const struct hostcfg hc = setting_hostcfg(ctx);
	const struct sshconfig *cfg;
	struct sshconfig_host sc = {0};
	int r = -1;

	memset(p, 0, sizeof(*p));
	/* host vars, then the job: ssh_config fills what they leave */
	if (hostcfg_str(&hc, "address", NULL, &p->address, err) < 0 ||
	    hostcfg_str(&hc, "port", js->port, &p->port, err) < 0 ||
	    hostcfg_str(&hc, "user", js->user, &p->user, err) < 0 ||
	    hostcfg_str(&hc, "key", js->key, &p->key, err) < 0 ||
	    hostcfg_secret(&hc, "passphrase", js->passphrase, js->passphrase_file, &p->passphrase, err) < 0 ||
	    hostcfg_secret(&hc, "password", js->password, js->password_file, &p->password, err) < 0 ||
	    !(cfg = ssh_params_config(ctx->job, err)) ||
	    hostcfg_sshconfig(&hc, cfg, js, ctx->task->host, &sc, err) < 0 ||
	    hostcfg_known_hosts_from(&hc, js->known_hosts, sc.known_hosts, &p->known_hosts, err) < 0 ||
	    hostcfg_bool(&hc, "agent", js->agent, &p->agent, err) < 0 ||
	    hostcfg_policy(&hc, hostcfg_ssh_policy(js, &sc), &p->policy, err) < 0 ||
	    /* the host's (or job's) pty; a step's own pty: wins in step_ssh_run */
	    hostcfg_bool(&hc, "pty", js->pty, &p->pty, err) < 0 ||
	    hostcfg_str(&hc, "jump", js->jump, &p->jump, err) < 0 || ssh_params_proxy(ctx, p, err) < 0)
		goto out;
	for (int m = 0; m < SSHALGS_NMETHODS; m++)
		if (hostcfg_algs(&hc, (enum sshalgs_method)m, js->algorithms[m], ssh_params_algs(p, (enum sshalgs_method)m),
		                 NULL, err) < 0)
			goto out;
	ssh_params_from_config(p, js, &sc);
	if (!p->address)
		p->address = xstrdup(ctx->task->host);
	if (!p->port)
		p->port = xstrdup("22");
	if (!p->user)
		p->user = xstrdup(kvlist_get(ctx->scope->builtins, "user"));
	hostcfg_expand_home(&p->key);
	r = 0;
out:
	sshconfig_host_free(&sc);
	if (r < 0)
		ssh_params_free(p);
	return r;
}

int ssh_params_hop(struct step_ctx *ctx, const struct ssh_params *dev, const struct jumpspec_hop *hop,
                   struct ssh_params *out, struct err *err)
{
	const struct job_ssh *js = &ctx->job->ssh;
	const struct kvlist none = KVLIST_INIT;
	struct hostcfg hc = setting_hostcfg(ctx);
	const struct sshconfig *cfg;
	struct sshconfig_host sc = {0};
	int r = -1;

	/* the job's values alone: a host var chooses the chain, not the
	 * secrets or files its hops get */
	hc.hostvars = &none;
	memset(out, 0, sizeof(*out));
	/* ssh_config applies to each hop as to the device, below what the
	 * chain itself says (its user and port) and the job's jump_* keys */
	if (!(cfg = ssh_params_config(ctx->job, err)))
		goto out;
	if (cfg->ndirs) {
		struct sshconfig_query q = {.host = hop->host, .user = hop->user, .port = hop->port};
		if (sshconfig_resolve(cfg, &q, &sc, err) < 0)
			goto out;
	}
	out->address = xstrdup(sc.val[SSHCONFIG_HOSTNAME] ? sc.val[SSHCONFIG_HOSTNAME] : hop->host);
	out->port = xstrdup(hop->port);
	if (hop->user)
		out->user = xstrdup(hop->user);
	else if (sc.val[SSHCONFIG_USER])
		out->user = xstrdup(sc.val[SSHCONFIG_USER]);
	else if (hostcfg_str(&hc, "user", js->user, &out->user, err) < 0)
		goto out;
	if (hostcfg_str(&hc, "key", js->jump_key, &out->key, err) < 0 ||
	    hostcfg_secret(&hc, "passphrase", js->passphrase, js->passphrase_file, &out->passphrase, err) < 0 ||
	    hostcfg_secret(&hc, "jump_password", js->jump_password, js->jump_password_file, &out->password, err) < 0)
		goto out;
	if (!out->user)
		out->user = xstrdup(tmpl_login_name());
	hostcfg_expand_home(&out->key);
	out->known_hosts = xstrdup(dev->known_hosts);
	out->policy = dev->policy;
	out->agent = js->agent;
	ssh_params_from_config(out, js, &sc);
	/* the hop's address and port are the chain's (above), the device's
	 * timeouts its own */
	out->connect_timeout_ms = dev->connect_timeout_ms;
	out->keepalive_ms = dev->keepalive_ms;
	r = 0;
out:
	sshconfig_host_free(&sc);
	if (r < 0)
		ssh_params_free(out);
	return r;
}
