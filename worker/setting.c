/* setting: see setting.h. */
#include "setting.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tmpl.h"
#include "util.h"

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
}

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

static char *setting_render(struct step_ctx *ctx, const char *tmpl, struct err *err)
{
	struct buf b = BUF_INIT;

	if (tmpl_render(tmpl, ctx->scope, TMPL_ENV_VALUE, &b, ctx->secrets, err) < 0) {
		buf_free(&b);
		return NULL;
	}
	return buf_steal(&b);
}

/* The first line of the file that path_tmpl names. */
static char *secret_from_file(struct step_ctx *ctx, const char *setting, const char *path_tmpl, struct err *err)
{
	char *path = setting_render(ctx, path_tmpl, err), *line = NULL;
	size_t cap = 0;
	ssize_t n = -1;
	FILE *f;

	if (!path)
		return NULL;
	path_expand_home(&path);
	f = fopen(path, "re");
	if (f) {
		n = getline(&line, &cap, f);
		fclose(f);
	}
	if (n < 0) {
		err_set(err, "%s %s: %s", setting, path, f ? "empty" : strerror(errno));
		secret_free(line);
		free(path);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	free(path);
	return line;
}

int setting_resolve(struct step_ctx *ctx, const char *name, const char *job_value, char **out, struct err *err)
{
	const char *v = kvlist_get(&ctx->task->vars, name);

	*out = NULL;
	if (!v)
		v = job_value;
	if (!v)
		return 0;
	*out = setting_render(ctx, v, err);
	return *out ? 0 : -1;
}

int secret_resolve(struct step_ctx *ctx, const char *name, const char *job_value, const char *job_file,
                   char **out, struct err *err)
{
	char file_var[64];
	const char *hv = kvlist_get(&ctx->task->vars, name), *hf;
	char *s = NULL;

	snprintf(file_var, sizeof(file_var), "%s_file", name);
	hf = kvlist_get(&ctx->task->vars, file_var);
	*out = NULL;
	if (hv)
		s = setting_render(ctx, hv, err);
	else if (hf)
		s = secret_from_file(ctx, file_var, hf, err);
	else if (job_value)
		s = setting_render(ctx, job_value, err);
	else if (job_file)
		s = secret_from_file(ctx, file_var, job_file, err);
	else
		return 0;
	if (!s)
		return -1;
	if (*s)
		tmpl_secret_add(ctx->secrets, s);
	*out = s;
	return 0;
}
