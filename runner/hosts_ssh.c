/* hosts_ssh: see hosts_ssh.h. */
#include "hosts_ssh.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostcfg.h"
#include "taskscope.h"
#include "termtext.h"

/* What one host's lines are made from. */
struct hosts_ssh {
	const struct job_ssh *js;
	const struct host *h;
	struct hostcfg hc;
	struct sshconfig_host sc;
	bool sources;
	struct buf *out;
};

/* "keyword value", and where it came from when asked. Values may come
 * from an inventory: text only (termtext). */
static void hosts_ssh_put(struct hosts_ssh *s, const char *key, const char *value, const char *source)
{
	buf_puts(s->out, key);
	buf_putc(s->out, ' ');
	termtext_puts(s->out, value, 0);
	if (s->sources && source) {
		buf_puts(s->out, "  # from ");
		termtext_puts(s->out, source, 0);
	}
	buf_putc(s->out, '\n');
}

/* "ssh_config FILE:LINE" of a keyword's value. */
static const char *hosts_ssh_cfgsrc(const struct hosts_ssh *s, enum sshconfig_kw kw, char *tmp, size_t n)
{
	snprintf(tmp, n, "ssh_config %s", s->sc.where[kw] ? s->sc.where[kw] : "?");
	return tmp;
}

/* A setting with a host var of its name and maybe a job value, below
 * them ssh_config's kw, below that def. */
static int hosts_ssh_str(struct hosts_ssh *s, const char *key, const char *var, const char *job_value,
                         enum sshconfig_kw kw, const char *def, struct err *err)
{
	char *v = NULL, tmp[512];
	const char *src = kvlist_get(&s->h->vars, var) ? "host var" : "job";

	if (hostcfg_str(&s->hc, var, job_value, &v, err) < 0)
		return -1;
	if (v)
		hosts_ssh_put(s, key, v, src);
	else if (s->sc.val[kw])
		hosts_ssh_put(s, key, s->sc.val[kw], hosts_ssh_cfgsrc(s, kw, tmp, sizeof(tmp)));
	else
		hosts_ssh_put(s, key, def, "default");
	free(v);
	return 0;
}

/* The key given, else ssh_config's IdentityFiles; and which secrets are
 * set (***, never their value: they are not even read). */
static int hosts_ssh_auth(struct hosts_ssh *s, struct err *err)
{
	static const char *const secrets[] = {"passphrase", "password"};
	char *key = NULL, tmp[512];

	if (hostcfg_str(&s->hc, "key", s->js->key, &key, err) < 0)
		return -1;
	hostcfg_expand_home(&key);
	if (key)
		hosts_ssh_put(s, "identityfile", key, kvlist_get(&s->h->vars, "key") ? "host var" : "job");
	for (size_t i = 0; !key && i < s->sc.nidentity_files; i++) {
		snprintf(tmp, sizeof(tmp), "ssh_config %s", s->sc.identity_where[i]);
		hosts_ssh_put(s, "identityfile", s->sc.identity_files[i], tmp);
	}
	free(key);
	if (s->sc.val[SSHCONFIG_IDENTITIESONLY])
		hosts_ssh_put(s, "identitiesonly", s->sc.val[SSHCONFIG_IDENTITIESONLY],
		              hosts_ssh_cfgsrc(s, SSHCONFIG_IDENTITIESONLY, tmp, sizeof(tmp)));
	for (size_t i = 0; i < ARRAY_LEN(secrets); i++) {
		const char *job_v = i == 0 ? s->js->passphrase : s->js->password;
		const char *job_f = i == 0 ? s->js->passphrase_file : s->js->password_file;
		char file_var[32];

		snprintf(file_var, sizeof(file_var), "%s_file", secrets[i]);
		if (kvlist_get(&s->h->vars, secrets[i]) || kvlist_get(&s->h->vars, file_var))
			hosts_ssh_put(s, secrets[i], "***", "host var");
		else if (job_v || job_f)
			hosts_ssh_put(s, secrets[i], "***", "job");
	}
	return 0;
}

/* known_hosts and the policy, as the worker and the supervisor take them. */
static int hosts_ssh_hostkey(struct hosts_ssh *s, struct err *err)
{
	static const char *const ssh_words[] = {
		[HOSTKEY_STRICT] = "true",
		[HOSTKEY_ACCEPT_NEW] = "accept-new",
		[HOSTKEY_OFF] = "false",
	};
	const struct sshconfig_host *sc = &s->sc;
	enum hostkey_policy pol;
	char *kh = NULL, tmp[512];
	const char *src;

	if (hostcfg_known_hosts_from(&s->hc, s->js->known_hosts, sc->known_hosts, &kh, err) < 0)
		return -1;
	src = kvlist_get(&s->h->vars, "known_hosts") ? "host var"
	      : s->js->known_hosts                  ? "job"
	      : sc->known_hosts ? hosts_ssh_cfgsrc(s, SSHCONFIG_USERKNOWNHOSTSFILE, tmp, sizeof(tmp))
	                        : "default";
	hosts_ssh_put(s, "userknownhostsfile", kh, src);
	free(kh);
	if (hostcfg_policy(&s->hc, hostcfg_ssh_policy(s->js, sc), &pol, err) < 0)
		return -1;
	src = kvlist_get(&s->h->vars, "host_key_policy") ? "host var"
	      : (s->js->given & JOB_SSH_GIVEN_POLICY)     ? "job"
	      : sc->val[SSHCONFIG_STRICTHOSTKEYCHECKING]
	              ? hosts_ssh_cfgsrc(s, SSHCONFIG_STRICTHOSTKEYCHECKING, tmp, sizeof(tmp))
	              : "default";
	hosts_ssh_put(s, "stricthostkeychecking", ssh_words[pol], src);
	return 0;
}

/* A duration of the job's, or ssh_config's when the job does not set it. */
static void hosts_ssh_time(struct hosts_ssh *s, const char *key, int64_t job_ms, unsigned given_bit,
                           enum sshconfig_kw kw)
{
	char v[32], tmp[512];
	int64_t ms = job_ms;
	const char *src = (s->js->given & given_bit) ? "job" : "default";

	if (!(s->js->given & given_bit) && sshconfig_host_ms(&s->sc, kw, &ms) == 0 &&
	    (ms > 0 || kw == SSHCONFIG_SERVERALIVEINTERVAL))
		src = hosts_ssh_cfgsrc(s, kw, tmp, sizeof(tmp));
	else
		ms = job_ms;
	if (ms % 1000)
		snprintf(v, sizeof(v), "%.3f", (double)ms / 1000);
	else
		snprintf(v, sizeof(v), "%" PRId64, ms / 1000);
	hosts_ssh_put(s, key, v, src);
}

/* The jump chain and the proxy command: host var (jump only: a host var
 * proxy_command is refused), job, ssh_config, as the worker takes them. */
static int hosts_ssh_jump(struct hosts_ssh *s, struct err *err)
{
	char *jump = NULL, tmp[512];
	const char *src, *cmd = s->js->proxy_command;
	int r = -1;

	if (hostcfg_str(&s->hc, "jump", s->js->jump, &jump, err) < 0)
		goto out;
	src = kvlist_get(&s->h->vars, "jump") ? "host var" : "job";
	if (!jump && s->sc.val[SSHCONFIG_PROXYJUMP]) {
		jump = xstrdup(s->sc.val[SSHCONFIG_PROXYJUMP]);
		src = hosts_ssh_cfgsrc(s, SSHCONFIG_PROXYJUMP, tmp, sizeof(tmp));
	}
	if (jump && strcmp(jump, "none"))
		hosts_ssh_put(s, "proxyjump", jump, src);
	src = "job";
	if (!cmd && s->sc.val[SSHCONFIG_PROXYCOMMAND] && strcmp(s->sc.val[SSHCONFIG_PROXYCOMMAND], "none")) {
		cmd = s->sc.val[SSHCONFIG_PROXYCOMMAND];
		src = hosts_ssh_cfgsrc(s, SSHCONFIG_PROXYCOMMAND, tmp, sizeof(tmp));
	}
	if (cmd)
		hosts_ssh_put(s, "proxycommand", cmd, src);
	r = 0;
out:
	free(jump);
	return r;
}

/* Each algorithm list as the connection offers it, as ssh -G prints it:
 * the spec (host var, job, ssh_config, else the default) applied. */
static int hosts_ssh_algs(struct hosts_ssh *s, struct err *err)
{
	static const struct {
		const char *key;
		enum sshconfig_kw kw;
	} words[SSHALGS_NMETHODS] = {
		[SSHALGS_KEX] = {"kexalgorithms", SSHCONFIG_KEXALGORITHMS},
		[SSHALGS_HOSTKEY] = {"hostkeyalgorithms", SSHCONFIG_HOSTKEYALGORITHMS},
		[SSHALGS_CIPHERS] = {"ciphers", SSHCONFIG_CIPHERS},
		[SSHALGS_MACS] = {"macs", SSHCONFIG_MACS},
		[SSHALGS_PUBKEY] = {"pubkeyacceptedalgorithms", SSHCONFIG_PUBKEYACCEPTEDALGORITHMS},
	};
	char tmp[512];

	for (int m = 0; m < SSHALGS_NMETHODS; m++) {
		char *spec = NULL, *list = NULL;
		const char *src = "default";
		int rc;

		if (hostcfg_algs(&s->hc, (enum sshalgs_method)m, s->js->algorithms[m], &spec, NULL, err) < 0)
			return -1;
		if (spec)
			src = kvlist_get(&s->h->vars, sshalgs_setting((enum sshalgs_method)m)) ? "host var" : "job";
		else if (s->sc.val[words[m].kw]) {
			spec = xstrdup(s->sc.val[words[m].kw]);
			src = hosts_ssh_cfgsrc(s, words[m].kw, tmp, sizeof(tmp));
		}
		rc = sshalgs_apply((enum sshalgs_method)m, spec, &list, NULL, err);
		if (rc == 0)
			hosts_ssh_put(s, words[m].key, list, src);
		free(spec);
		free(list);
		if (rc < 0)
			return -1;
	}
	return 0;
}

int hosts_ssh_print(const struct job *job, const struct sshconfig *cfg, const struct host *h, bool sources,
                    struct buf *out, struct err *err)
{
	struct taskscope ts;
	struct hosts_ssh s = {.js = &job->ssh, .h = h, .sources = sources, .out = out};
	int r = -1;

	taskscope_init(&ts, job->name, h->name, &h->vars);
	s.hc = (struct hostcfg){&job->inventory_may, &h->vars, &ts.scope, NULL};
	if (hostcfg_sshconfig(&s.hc, cfg, s.js, h->name, &s.sc, err) < 0)
		goto out;
	hosts_ssh_put(&s, "host", h->name, NULL);
	if (hosts_ssh_str(&s, "hostname", "address", NULL, SSHCONFIG_HOSTNAME, h->name, err) < 0 ||
	    hosts_ssh_str(&s, "user", "user", s.js->user, SSHCONFIG_USER, kvlist_get(&ts.builtins, "user"), err) < 0 ||
	    hosts_ssh_str(&s, "port", "port", s.js->port, SSHCONFIG_PORT, "22", err) < 0 ||
	    hosts_ssh_auth(&s, err) < 0)
		goto out;
	if (hosts_ssh_jump(&s, err) < 0 || hosts_ssh_algs(&s, err) < 0 || hosts_ssh_hostkey(&s, err) < 0)
		goto out;
	hosts_ssh_time(&s, "connecttimeout", s.js->connect_timeout_ms, JOB_SSH_GIVEN_CONNECT_TIMEOUT,
	               SSHCONFIG_CONNECTTIMEOUT);
	hosts_ssh_time(&s, "serveraliveinterval", s.js->keepalive_ms, JOB_SSH_GIVEN_KEEPALIVE,
	               SSHCONFIG_SERVERALIVEINTERVAL);
	r = 0;
out:
	sshconfig_host_free(&s.sc);
	taskscope_free(&ts);
	return r;
}
