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
	for (int m = 0; m < SSHALGS_NMETHODS; m++)
		free(*ssh_params_algs(p, (enum sshalgs_method)m));
	memset(p, 0, sizeof(*p));
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
	    hostcfg_bool(&hc, "pty", js->pty, &p->pty, err) < 0)
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
