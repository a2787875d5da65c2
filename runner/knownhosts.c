/* knownhosts: see knownhosts.h. */
#include "knownhosts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "hash.h"
#include "hostcfg.h"
#include "jumpspec.h"
#include "known_hosts.h"
#include "taskscope.h"
#include "tmpl.h"

static int knownhosts_seen(struct knownhosts *k, uint64_t h)
{
	for (size_t i = 0; i < k->nseen; i++)
		if (k->seen[i] == h)
			return 1;
	if (k->nseen == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->seen = xreallocarray(k->seen, k->cap, sizeof(*k->seen));
	}
	k->seen[k->nseen++] = h;
	return 0;
}

int knownhosts_target(const struct job *job, const struct sshconfig *cfg, const struct host *h, char **path,
                      char **name, struct err *err)
{
	/* the worker's settings, read the worker's way (hostcfg.h) in the
	 * task's own scope (taskscope.h), but never with captured vars: the
	 * supervisor has none, and what a device printed must not choose
	 * the file or the name */
	struct taskscope ts;
	struct hostcfg hc;
	struct sshconfig_host sc = {0};
	char *address = NULL, *port = NULL, *p = NULL;
	int r = -1;

	taskscope_init(&ts, job->name, h->name, &h->vars);
	hc = (struct hostcfg){&job->inventory_may, &h->vars, &ts.scope, NULL};
	if (hostcfg_str(&hc, "address", NULL, &address, err) < 0 ||
	    hostcfg_str(&hc, "port", job->ssh.port, &port, err) < 0 ||
	    hostcfg_sshconfig(&hc, cfg, &job->ssh, h->name, &sc, err) < 0 ||
	    hostcfg_known_hosts_from(&hc, job->ssh.known_hosts, sc.known_hosts, &p, err) < 0)
		goto out;
	/* ssh_config's HostName and Port below host vars and the job, as
	 * the worker takes them (worker/ssh_params.c) */
	if (!address && sc.val[SSHCONFIG_HOSTNAME])
		address = xstrdup(sc.val[SSHCONFIG_HOSTNAME]);
	if (!port && sc.val[SSHCONFIG_PORT])
		port = xstrdup(sc.val[SSHCONFIG_PORT]);
	*name = kh_name(address ? address : h->name, port ? port : "22");
	*path = p;
	p = NULL;
	r = 0;
out:
	free(address);
	free(port);
	free(p);
	sshconfig_host_free(&sc);
	taskscope_free(&ts);
	return r;
}

int knownhosts_policy(const struct job *job, const struct sshconfig *cfg, const struct host *h,
                      enum hostkey_policy *out, struct err *err)
{
	struct taskscope ts;
	struct hostcfg hc;
	struct sshconfig_host sc = {0};
	int r;

	taskscope_init(&ts, job->name, h->name, &h->vars);
	hc = (struct hostcfg){&job->inventory_may, &h->vars, &ts.scope, NULL};
	r = hostcfg_sshconfig(&hc, cfg, &job->ssh, h->name, &sc, err) < 0 ||
	            hostcfg_policy(&hc, hostcfg_ssh_policy(&job->ssh, &sc), out, err) < 0
	        ? -1
	        : 0;
	sshconfig_host_free(&sc);
	taskscope_free(&ts);
	return r;
}

/* The known_hosts name of a hop as the worker checks it: its address
 * (ssh_config's HostName for the hop's name, else the name) and port. */
static char *knownhosts_hop_name(const struct sshconfig *cfg, const struct jumpspec_hop *hop)
{
	struct sshconfig_query q = {.host = hop->host, .user = hop->user, .port = hop->port};
	struct sshconfig_host sc = {0};
	struct err err;
	char *n;

	if (!cfg || !cfg->ndirs || sshconfig_resolve(cfg, &q, &sc, &err) < 0)
		memset(&sc, 0, sizeof(sc));
	n = kh_name(sc.val[SSHCONFIG_HOSTNAME] ? sc.val[SSHCONFIG_HOSTNAME] : hop->host, hop->port);
	sshconfig_host_free(&sc);
	return n;
}

int knownhosts_jump_name(const struct job *job, const struct sshconfig *cfg, const struct host *h, const char *line,
                         size_t llen, char **name, struct err *err)
{
	struct taskscope ts;
	struct hostcfg hc;
	struct jumpspec js = {0};
	struct sshconfig_host sc = {0};
	char *spec = NULL;
	int r = -1;

	taskscope_init(&ts, job->name, h->name, &h->vars);
	hc = (struct hostcfg){&job->inventory_may, &h->vars, &ts.scope, NULL};
	/* the chain as the worker takes it: host var, job, ProxyJump */
	if (hostcfg_str(&hc, "jump", job->ssh.jump, &spec, err) < 0 ||
	    (!spec && hostcfg_sshconfig(&hc, cfg, &job->ssh, h->name, &sc, err) < 0))
		goto out;
	if (!spec && sc.val[SSHCONFIG_PROXYJUMP])
		spec = xstrdup(sc.val[SSHCONFIG_PROXYJUMP]);
	if (jumpspec_parse(spec, &js, err) < 0)
		goto out;
	for (size_t i = 0; i < js.n && r < 0; i++) {
		char *n = knownhosts_hop_name(cfg, &js.hops[i]);
		size_t nl = strlen(n);

		if (llen > nl && !memcmp(line, n, nl) && line[nl] == ' ') {
			*name = n;
			r = 0;
		} else {
			free(n);
		}
	}
	if (r < 0)
		err_set(err, "refused a known_hosts entry from the worker: not for the host nor a jump host of its chain");
out:
	jumpspec_free(&js);
	free(spec);
	sshconfig_host_free(&sc);
	taskscope_free(&ts);
	return r;
}

int knownhosts_append(struct knownhosts *k, const char *path, const char *name, const char *line, size_t llen,
                      struct err *err)
{
	char *p = NULL, *slash;
	struct buf b = BUF_INIT;
	struct err why;
	int fd = -1, r = -1;

	/* devices are hostile, and a worker that talked to one may be
	 * too: one line, for this host, of a key that parses */
	if (kh_line_check(line, llen, name, &why) < 0) {
		err_set(err, "refused a known_hosts entry from the worker: %s", why.msg);
		goto out;
	}
	if (knownhosts_seen(k, hash_fnv1a_pair(path, strlen(path), line, llen))) {
		r = 0;
		goto out;
	}
	p = xstrdup(path);
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err_set(err, "%s: cannot create: %s", p, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err_set(err, "%s: %s", p, strerror(errno));
		goto out;
	}
	buf_append(&b, line, llen);
	buf_putc(&b, '\n');
	/* one write of one whole line: O_APPEND keeps it in one piece */
	if (write(fd, b.data, b.len) != (ssize_t)b.len) {
		err_set(err, "%s: %s", p, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(p);
	buf_free(&b);
	return r;
}

void knownhosts_free(struct knownhosts *k)
{
	free(k->seen);
	memset(k, 0, sizeof(*k));
}
