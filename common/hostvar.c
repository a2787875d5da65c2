/* hostvar: see hostvar.h. Written by hand: the rules are the trust
 * model's, not a library's. */
#include "hostvar.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "util.h"

/* The settings whose value is the name of a file on this machine. A host
 * var of one of these names must resolve under a directory of the job's
 * inventory_may files. (The *_file forms of secrets are checked in
 * secret_resolve.) */
static const char *const path_settings[] = {
	"key",         /* ssh: private key */
	"known_hosts", /* ssh: read, and appended to under accept-new */
	"ca",          /* http: CA bundle */
	"cert",        /* http: client certificate */
	"cert_key",    /* http: its private key */
};

void path_expand_home(char **path)
{
	const char *home = getenv("HOME");
	char *p;

	if (!*path || strncmp(*path, "~/", 2) != 0 || !home)
		return;
	p = xasprintf("%s/%s", home, *path + 2);
	free(*path);
	*path = p;
}

/* "A, B" or "none", for messages saying what the job allows. */
static const char *allowed_list(const struct kvlist *l, char *out, size_t outlen)
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
char *hostvar_value(const struct job_inventory_may *may, struct kvlist *secrets, const char *var, const char *value,
                    struct err *err)
{
	const struct kvlist *allowed = &may->env;
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
			        "(inventory_may env: %s)", var, allowed_list(allowed, list, sizeof(list)));
			goto fail;
		}
		memcpy(nm, name, n);
		nm[n] = '\0';
		if (!kvlist_get(allowed, nm)) {
			err_set(err, "host var '%s' reads the environment variable %.64s (${env:...}), which the job does not allow "
			        "(inventory_may env: %s)",
			        var, nm, allowed_list(allowed, list, sizeof(list)));
			goto fail;
		}
		v = getenv(nm);
		if (!v) {
			err_set(err, "host var '%s': missing environment variable '%s'", var, nm);
			goto fail;
		}
		buf_puts(&b, v);
		if (*v && secrets)
			tmpl_secret_add(secrets, v);
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
static char *path_resolve(const char *path)
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
static int path_under_allowed(const struct job_inventory_may *may, const char *real)
{
	const struct kvlist *dirs = &may->files;
	int ok = 0;

	for (size_t i = 0; i < dirs->len && !ok; i++) {
		char *d = xstrdup(dirs->items[i].key), *rd;
		size_t n;

		path_expand_home(&d);
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

/* A host var naming a file: its resolved path when that is under a
 * directory the job allows, so that '..' and symlinks cannot step out,
 * and the file itself is never opened otherwise. The path handed on is
 * the resolved one. 0, or -1 with err naming the var and what the job
 * allows. */
int hostvar_path(const struct job_inventory_may *may, const char *var, char **path, struct err *err)
{
	char *real = NULL, list[256];
	int r = -1;

	path_expand_home(path);
	if ((*path)[0] != '/') {
		err_set(err, "host var '%s': '%.200s' is not an absolute path (inventory_may files: %s)", var, *path,
		        allowed_list(&may->files, list, sizeof(list)));
		goto out;
	}
	real = path_resolve(*path);
	if (!real) {
		err_set(err, "host var '%s': %.200s: %s", var, *path, strerror(errno));
		goto out;
	}
	if (!path_under_allowed(may, real)) {
		err_set(err, "host var '%s' names %.200s, outside the directories the job allows "
		        "(inventory_may files: %s)", var, real, allowed_list(&may->files, list, sizeof(list)));
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

bool hostvar_is_path(const char *name)
{
	for (size_t i = 0; i < ARRAY_LEN(path_settings); i++)
		if (!strcmp(path_settings[i], name))
			return true;
	return false;
}


/* insecure's words for true, as the worker and the supervisor read them */
static bool hostvar_true(const char *v)
{
	return !strcmp(v, "true") || !strcmp(v, "yes") || !strcmp(v, "1");
}

int hostvar_check_setting(const struct job_inventory_may *may, const char *name, const char *value, struct err *err)
{
	enum hostkey_policy pol = HOSTKEY_STRICT;
	bool loosens = false;
	char list[256];

	/* An inventory may tighten a check (host_key_policy strict, insecure
	 * false) but not loosen one: with host keys or certificates unchecked,
	 * an inventory that also names the address would send the job's
	 * credentials to whoever answers there. */
	if (!strcmp(name, "host_key_policy"))
		loosens = hostkey_policy_parse(value, &pol) == 0 && pol != HOSTKEY_STRICT;
	else if (!strcmp(name, "insecure"))
		loosens = hostvar_true(value);
	if (!loosens || kvlist_get(&may->settings, name))
		return 0;
	err_set(err, "host var %s=%.32s turns a check off, which the job does not allow (inventory_may settings: %s)",
	        name, value, allowed_list(&may->settings, list, sizeof(list)));
	return -1;
}

bool hostvar_insecure(const struct job_inventory_may *may, const char *value, bool job_value)
{
	struct err err;

	if (!value || hostvar_check_setting(may, "insecure", value, &err) < 0)
		return job_value;
	return hostvar_true(value);
}
