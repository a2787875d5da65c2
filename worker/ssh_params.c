/* ssh_params: see ssh_params.h. */
#include "ssh_params.h"

#include <stdlib.h>
#include <string.h>

#include "hostcfg.h"
#include "kv.h"
#include "setting.h"
#include "tmpl.h"

void ssh_params_free(struct ssh_params *p)
{
	free(p->address);
	free(p->port);
	free(p->user);
	free(p->key);
	hostcfg_secret_free(p->passphrase);
	hostcfg_secret_free(p->password);
	free(p->known_hosts);
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

int ssh_params_load(struct step_ctx *ctx, struct ssh_params *p, struct err *err)
{
	const struct job_ssh *js = &ctx->job->ssh;
	const struct hostcfg hc = setting_hostcfg(ctx);
	int r = -1;

	memset(p, 0, sizeof(*p));
	if (hostcfg_str(&hc, "address", NULL, &p->address, err) < 0 ||
	    hostcfg_str(&hc, "port", js->port, &p->port, err) < 0 ||
	    hostcfg_str(&hc, "user", js->user, &p->user, err) < 0 ||
	    hostcfg_str(&hc, "key", js->key, &p->key, err) < 0 ||
	    hostcfg_secret(&hc, "passphrase", js->passphrase, js->passphrase_file, &p->passphrase, err) < 0 ||
	    hostcfg_secret(&hc, "password", js->password, js->password_file, &p->password, err) < 0 ||
	    hostcfg_known_hosts(&hc, js->known_hosts, &p->known_hosts, err) < 0 ||
	    hostcfg_bool(&hc, "agent", js->agent, &p->agent, err) < 0 ||
	    hostcfg_policy(&hc, js->host_key_policy, &p->policy, err) < 0 ||
	    /* the host's (or job's) pty; a step's own pty: wins in step_ssh_run */
	    hostcfg_bool(&hc, "pty", js->pty, &p->pty, err) < 0 ||
	    hostcfg_str(&hc, "jump", js->jump, &p->jump, err) < 0 || ssh_params_proxy(ctx, p, err) < 0)
		goto out;
	for (int m = 0; m < SSHALGS_NMETHODS; m++)
		if (hostcfg_algs(&hc, (enum sshalgs_method)m, js->algorithms[m], ssh_params_algs(p, (enum sshalgs_method)m),
		                 NULL, err) < 0)
			goto out;
	if (!p->address)
		p->address = xstrdup(ctx->task->host);
	if (!p->port)
		p->port = xstrdup("22");
	if (!p->user)
		p->user = xstrdup(kvlist_get(ctx->scope->builtins, "user"));
	hostcfg_expand_home(&p->key);
	r = 0;
out:
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
	int r = -1;

	/* the job's values alone: a host var chooses the chain, not the
	 * secrets or files its hops get */
	hc.hostvars = &none;
	memset(out, 0, sizeof(*out));
	out->address = xstrdup(hop->host);
	out->port = xstrdup(hop->port);
	if (hop->user)
		out->user = xstrdup(hop->user);
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
	r = 0;
out:
	if (r < 0)
		ssh_params_free(out);
	return r;
}
