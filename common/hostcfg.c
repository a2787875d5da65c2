/* hostcfg: see hostcfg.h. Written by hand: the rules are the trust
 * model's, not a library's.
 *
 * Two sources, two trusts. The job's values are code, written by the
 * operator: templates, rendered with everything a template may read. A
 * host var is inventory data: taken as written, and the job's
 * inventory_may says which environment variables it may read, under
 * which directories the files it names must be and which checks it may
 * turn off. Everything below the line "host vars" is about the second;
 * the getters at the end put the two together. */
#include "hostcfg.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sshalgs.h"
#include "tmpl.h"
#include "util.h"

/* The settings whose value is the name of a file on this machine. A host
 * var of one of these names must resolve under a directory of the job's
 * inventory_may files. (The *_file forms of secrets are checked in
 * hostcfg_secret.) */
static const char *const hostcfg_path_settings[] = {
	"key",         /* ssh: private key */
	"known_hosts", /* ssh: read, and appended to under accept-new */
	"ca",          /* http: CA bundle */
	"cert",        /* http: client certificate */
	"cert_key",    /* http: its private key */
};

void hostcfg_expand_home(char **path)
{
	const char *home = getenv("HOME");
	char *p;

	if (!*path || strncmp(*path, "~/", 2) != 0 || !home)
		return;
	p = xasprintf("%s/%s", home, *path + 2);
	free(*path);
	*path = p;
}

void hostcfg_secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

/* ------------------------------------------------------------ host vars */

/* "A, B" or "none", for messages saying what the job allows. */
static const char *hostcfg_allowed(const struct kvlist *l, char *out, size_t outlen)
{
	size_t n = 0;

	snprintf(out, outlen, "none");
	for (size_t i = 0; i < l->len && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s%s", i ? ", " : "", l->items[i].key);
	return out;
}

/* A host var's value: its text as written, but for each ${env:NAME} whose
 * NAME the job's inventory_may env lists, which becomes the variable's
 * value (and a secret, masked in what is recorded). A ${env:NAME} the job
 * does not list is an error for the host: taking it as text would send
 * '${env:...}' to a device as a password, silently. Nothing else in the
 * value is a reference: ${host} stays ${host}. Malloced, or NULL and err. */
static char *hostcfg_expand_env(const struct hostcfg *h, const char *var, const char *value, struct err *err)
{
	const struct kvlist *allowed = &h->may->env;
	struct buf b = BUF_INIT;
	const char *p = value, *ref;
	char list[256];

	/* Each turn consumes one ${env: and what follows it. */
	while ((ref = strstr(p, "${env:"))) {
		const char *name = ref + 6, *close = strchr(name, '}');
		char nm[TMPL_NAME_MAX + 1];
		const char *v;
		size_t n;

		buf_append(&b, p, (size_t)(ref - p));
		if (!close) {
			buf_puts(&b, ref);
			p = ref + strlen(ref);
			break;
		}
		n = (size_t)(close - name);
		if (n > TMPL_NAME_MAX || n == 0 || memchr(name, '\0', n)) {
			err_set(err, "host var '%s' reads the environment (${env:...}), which the job does not allow "
			        "(inventory_may env: %s)", var, hostcfg_allowed(allowed, list, sizeof(list)));
			goto fail;
		}
		memcpy(nm, name, n);
		nm[n] = '\0';
		if (!kvlist_get(allowed, nm)) {
			err_set(err, "host var '%s' reads the environment variable %.64s (${env:...}), which the job does not allow "
			        "(inventory_may env: %s)",
			        var, nm, hostcfg_allowed(allowed, list, sizeof(list)));
			goto fail;
		}
		v = getenv(nm);
		if (!v) {
			err_set(err, "host var '%s': missing environment variable '%s'", var, nm);
			goto fail;
		}
		buf_puts(&b, v);
		if (*v && h->secrets)
			tmpl_secret_add(h->secrets, v);
		p = close + 1;
	}
	buf_puts(&b, p);
	return buf_steal(&b);
fail:
	if (b.data)
		explicit_bzero(b.data, b.len);
	buf_free(&b);
	return NULL;
}

/* realpath of path, or, for a file that does not exist yet (a known_hosts
 * that accept-new will create), realpath of its directory and its last
 * part. Malloced, or NULL with errno. */
static char *hostcfg_realpath(const char *path)
{
	char *r = realpath(path, NULL), *dir, *slash, *dr;
	const char *base;

	if (r || errno != ENOENT)
		return r;
	slash = strrchr(path, '/');
	if (!slash)
		return NULL;
	base = slash + 1;
	if (!*base || !strcmp(base, ".") || !strcmp(base, "..")) {
		errno = ENOENT;
		return NULL;
	}
	dir = slash == path ? xstrdup("/") : xstrndup(path, (size_t)(slash - path));
	dr = realpath(dir, NULL);
	free(dir);
	if (!dr)
		return NULL;
	r = xasprintf("%s%s%s", dr, strcmp(dr, "/") ? "/" : "", base);
	free(dr);
	return r;
}

/* Is the resolved path under one of the job's directories (each resolved
 * too, so a symlinked directory counts where it points)? */
static int hostcfg_under_allowed(const struct job_inventory_may *may, const char *real)
{
	const struct kvlist *dirs = &may->files;
	int ok = 0;

	for (size_t i = 0; i < dirs->len && !ok; i++) {
		char *d = xstrdup(dirs->items[i].key), *rd;
		size_t n;

		hostcfg_expand_home(&d);
		rd = realpath(d, NULL);
		free(d);
		if (!rd)
			continue;
		n = strlen(rd);
		/* Whole path parts: /etc/ca allows /etc/ca/x, not /etc/cax. */
		ok = !strcmp(rd, "/") || (strncmp(real, rd, n) == 0 && real[n] == '/');
		free(rd);
	}
	return ok;
}

/* A host var naming a file: *path replaced by its resolved form when that
 * is under a directory the job allows, so that '..' and symlinks cannot
 * step out, and the file itself is never opened otherwise. 0, or -1 with
 * err naming the var and what the job allows, and *path as it was. */
static int hostcfg_check_path(const struct job_inventory_may *may, const char *var, char **path, struct err *err)
{
	char *real = NULL, list[256];
	int r = -1;

	hostcfg_expand_home(path);
	if ((*path)[0] != '/') {
		err_set(err, "host var '%s': '%.200s' is not an absolute path (inventory_may files: %s)", var, *path,
		        hostcfg_allowed(&may->files, list, sizeof(list)));
		goto out;
	}
	real = hostcfg_realpath(*path);
	if (!real) {
		err_set(err, "host var '%s': %.200s: %s", var, *path, strerror(errno));
		goto out;
	}
	if (!hostcfg_under_allowed(may, real)) {
		err_set(err, "host var '%s' names %.200s, outside the directories the job allows "
		        "(inventory_may files: %s)", var, real, hostcfg_allowed(&may->files, list, sizeof(list)));
		goto out;
	}
	free(*path);
	*path = real;
	real = NULL;
	r = 0;
out:
	free(real);
	return r;
}

static bool hostcfg_is_path(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(hostcfg_path_settings); i++)
		if (!strcmp(hostcfg_path_settings[i], name))
			return true;
	return false;
}

/* May a host var set this setting to this value? A host var may tighten
 * any check but turn one off (host_key_policy accept-new or off, insecure
 * true in any of bool_parse's words) only when the job's inventory_may
 * settings names it. A value that is no policy or no boolean loosens
 * nothing here: its getter reports it. 0, or -1 with err naming the var
 * and what the job allows. */
static int hostcfg_check_loosening(const struct job_inventory_may *may, const char *name, const char *value,
                                   struct err *err)
{
	enum hostkey_policy pol = HOSTKEY_STRICT;
	bool loosens = false, on = false;
	char list[256];

	/* An inventory may tighten a check (host_key_policy strict, insecure
	 * false) but not loosen one: with host keys or certificates unchecked,
	 * an inventory that also names the address would send the job's
	 * credentials to whoever answers there. */
	if (!strcmp(name, "host_key_policy"))
		loosens = hostkey_policy_parse(value, &pol) == 0 && pol != HOSTKEY_STRICT;
	else if (!strcmp(name, "insecure"))
		loosens = bool_parse(value, &on) == 0 && on;
	if (!loosens || kvlist_get(&may->settings, name))
		return 0;
	err_set(err, "host var %s=%.32s turns a check off, which the job does not allow (inventory_may settings: %s)",
	        name, value, hostcfg_allowed(&may->settings, list, sizeof(list)));
	return -1;
}

/* The host var `name` as the job lets it be used: ${env:...} expanded, a
 * file resolved and checked, a loosened check refused. 0 and *out
 * (malloced, or NULL when the host has no such var), or -1 with err. */
static int hostcfg_hostvar(const struct hostcfg *h, const char *name, char **out, struct err *err)
{
	const char *v = kvlist_get(h->hostvars, name);
	char *s = NULL;
	int r = -1;

	if (v) {
		s = hostcfg_expand_env(h, name, v, err);
		if (!s || (hostcfg_is_path(name) && hostcfg_check_path(h->may, name, &s, err) < 0) ||
		    hostcfg_check_loosening(h->may, name, s, err) < 0)
			goto out;
	}
	*out = s;
	s = NULL;
	r = 0;
out:
	free(s);
	return r;
}

/* ------------------------------------------------------------ the job's values */

/* The job's template, rendered with the host's scope. */
static char *hostcfg_render(const struct hostcfg *h, const struct tmpl_scope *scope, const char *tmpl,
                            struct err *err)
{
	struct buf b = BUF_INIT;

	if (tmpl_render(tmpl, scope, TMPL_ENV_VALUE, &b, h->secrets, err) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* The first line of the file at path (already rendered or checked). */
static char *hostcfg_first_line(const char *setting, const char *path, struct err *err)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n = -1;
	FILE *f = fopen(path, "re");

	if (f) {
		n = getline(&line, &cap, f);
		fclose(f);
	}
	if (n < 0) {
		err_set(err, "%s %s: %s", setting, path, f ? "empty" : strerror(errno));
		/* getline's buffer holds no string when it read nothing: wipe
		 * all of it (a read error may leave part of a line), no strlen */
		if (line)
			explicit_bzero(line, cap);
		free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* The first line of the file that the job's template names. */
static char *hostcfg_job_file(const struct hostcfg *h, const char *setting, const char *path_tmpl, struct err *err)
{
	char *path = hostcfg_render(h, h->scope, path_tmpl, err), *line;

	if (!path)
		return NULL;
	hostcfg_expand_home(&path);
	line = hostcfg_first_line(setting, path, err);
	free(path);
	return line;
}

/* The first line of the file a host var names, when the job allows it. */
static char *hostcfg_host_file(const struct hostcfg *h, const char *setting, const char *value, struct err *err)
{
	char *path = hostcfg_expand_env(h, setting, value, err), *line = NULL;

	if (path && hostcfg_check_path(h->may, setting, &path, err) == 0)
		line = hostcfg_first_line(setting, path, err);
	free(path);
	return line;
}

/* ------------------------------------------------------------ the getters */

int hostcfg_str(const struct hostcfg *h, const char *name, const char *job_value, char **out, struct err *err)
{
	char *s = NULL;

	if (hostcfg_hostvar(h, name, &s, err) < 0)
		return -1;
	if (!s && job_value && !(s = hostcfg_render(h, h->scope, job_value, err)))
		return -1;
	*out = s;
	return 0;
}

int hostcfg_bool(const struct hostcfg *h, const char *name, int job_value, int *out, struct err *err)
{
	char *s = NULL;
	bool b;
	int r = -1;

	if (hostcfg_hostvar(h, name, &s, err) < 0)
		goto out;
	if (s && bool_parse(s, &b) < 0) {
		err_set(err, "host var %s='%.64s': expected %s", name, s, UTIL_BOOL_EXPECTED);
		goto out;
	}
	*out = s ? b : job_value;
	r = 0;
out:
	free(s);
	return r;
}

int hostcfg_policy(const struct hostcfg *h, enum hostkey_policy job_value, enum hostkey_policy *out,
                   struct err *err)
{
	enum hostkey_policy pol = job_value;
	char *s = NULL;
	int r = -1;

	if (hostcfg_hostvar(h, "host_key_policy", &s, err) < 0)
		goto out;
	if (s && hostkey_policy_parse(s, &pol) < 0) {
		err_set(err, "host var host_key_policy='%.64s': expected strict, accept-new or off", s);
		goto out;
	}
	*out = pol;
	r = 0;
out:
	free(s);
	return r;
}

int hostcfg_secret(const struct hostcfg *h, const char *name, const char *job_value, const char *job_file,
                   char **out, struct err *err)
{
	char file_var[64];
	const char *hv = kvlist_get(h->hostvars, name), *hf;
	char *s = NULL;

	snprintf(file_var, sizeof(file_var), "%s_file", name);
	hf = kvlist_get(h->hostvars, file_var);
	if (hv)
		s = hostcfg_expand_env(h, name, hv, err);
	else if (hf)
		s = hostcfg_host_file(h, file_var, hf, err);
	else if (job_value)
		s = hostcfg_render(h, h->scope, job_value, err);
	else if (job_file)
		s = hostcfg_job_file(h, file_var, job_file, err);
	if (!s && (hv || hf || job_value || job_file))
		return -1;
	if (s && *s && h->secrets)
		tmpl_secret_add(h->secrets, s);
	*out = s;
	return 0;
}

int hostcfg_known_hosts(const struct hostcfg *h, const char *job_value, char **out, struct err *err)
{
	return hostcfg_known_hosts_from(h, job_value, NULL, out, err);
}

int hostcfg_known_hosts_from(const struct hostcfg *h, const char *job_value, const char *sshconfig_value, char **out,
                             struct err *err)
{
	/* the host's vars and built-ins, never captured ones */
	struct tmpl_scope scope = {NULL, h->hostvars, h->scope ? h->scope->builtins : NULL};
	const char *home = getenv("HOME");
	char *p = NULL;
	int r = -1;

	if (hostcfg_hostvar(h, "known_hosts", &p, err) < 0)
		goto out;
	if (!p && job_value) {
		p = hostcfg_render(h, &scope, job_value, err);
		if (!p)
			goto out;
		hostcfg_expand_home(&p);
	} else if (!p && sshconfig_value) {
		/* already expanded (sshconfig.c), and chosen by the operator's
		 * own config or the job's: not a host var */
		p = xstrdup(sshconfig_value);
	} else if (!p) {
		p = xasprintf("%s/.ssh/known_hosts", home ? home : "");
	}
	if (!*p) {
		err_set(err, "known_hosts is empty (expected a file name)");
		goto out;
	}
	*out = p;
	p = NULL;
	r = 0;
out:
	free(p);
	return r;
}

/* Each weak name of host_weak that job_list (NULL: the default) does not
 * hold, comma-separated in out; out empty when there is none. */
static void hostcfg_weak_beyond(const char *host_weak, const char *job_list, struct buf *out)
{
	const char *p = host_weak;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (!job_list || !sshalgs_list_has(job_list, p, n))
			buf_printf(out, "%s%.*s", out->len ? "," : "", (int)n, p);
		p = comma ? comma + 1 : NULL;
	}
}

int hostcfg_algs(const struct hostcfg *h, enum sshalgs_method m, const char *job_value, char **spec, char **weak,
                 struct err *err)
{
	const char *name = sshalgs_setting(m);
	char *hv = NULL, *list = NULL, *w = NULL, *job_list = NULL, list_may[256];
	struct buf beyond = BUF_INIT;
	struct err aerr;
	int r = -1;

	if (hostcfg_hostvar(h, name, &hv, err) < 0)
		goto out;
	if (sshalgs_apply(m, hv ? hv : job_value, &list, &w, &aerr) < 0) {
		/* the job's value was checked at load: this is the host var */
		err_set(err, "host var %s", aerr.msg);
		goto out;
	}
	if (hv && w && !kvlist_get(&h->may->settings, name)) {
		if (job_value && sshalgs_apply(m, job_value, &job_list, NULL, &aerr) < 0)
			job_list = NULL;
		hostcfg_weak_beyond(w, job_list, &beyond);
		if (beyond.len) {
			err_set(err, "host var %s enables the weak algorithm(s) %s, which the job does not allow "
			        "(inventory_may settings: %s)", name, beyond.data,
			        hostcfg_allowed(&h->may->settings, list_may, sizeof(list_may)));
			goto out;
		}
	}
	*spec = hv ? hv : job_value ? xstrdup(job_value) : NULL;
	hv = NULL;
	if (weak) {
		*weak = w;
		w = NULL;
	}
	r = 0;
out:
	free(hv);
	free(list);
	free(w);
	free(job_list);
	buf_free(&beyond);
	return r;
}
int hostcfg_sshconfig(const struct hostcfg *h, const struct sshconfig *cfg, const struct job_ssh *js,
                      const char *host, struct sshconfig_host *out, struct err *err)
{
	char *address = NULL, *user = NULL, *port = NULL;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (!cfg || !cfg->ndirs)
		return 0;
	if (hostcfg_str(h, "address", NULL, &address, err) < 0 || hostcfg_str(h, "user", js->user, &user, err) < 0 ||
	    hostcfg_str(h, "port", js->port, &port, err) < 0)
		goto out;
	struct sshconfig_query q = {.host = host, .hostname = address, .user = user, .port = port};
	r = sshconfig_resolve(cfg, &q, out, err);
out:
	free(address);
	free(user);
	free(port);
	return r;
}

enum hostkey_policy hostcfg_ssh_policy(const struct job_ssh *js, const struct sshconfig_host *sc)
{
	int p = sc ? sshconfig_host_policy(sc) : -1;

	if ((js->given & JOB_SSH_GIVEN_POLICY) || p < 0)
		return js->host_key_policy;
	return p == 0 ? HOSTKEY_STRICT : HOSTKEY_ACCEPT_NEW;
}
