/* setting: see setting.h.
 *
 * Two sources, two trusts. The job's values are code, written by the
 * operator: templates, rendered with everything a template may read. A
 * host var is inventory data (DESIGN.md, "Trust model"): it is taken as
 * written, and the job's inventory_may says which environment variables
 * it may read and under which directories the files it names must be. */
#include "setting.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostvar.h"
#include "tmpl.h"
#include "util.h"

void secret_free(char *s)
{
	if (!s)
		return;
	explicit_bzero(s, strlen(s));
	free(s);
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

/* The first line of the file at path (already rendered or checked). */
static char *secret_read_file(const char *setting, const char *path, struct err *err)
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
		secret_free(line);
		return NULL;
	}
	while (n > 0 && (line[n - 1] == '\n' || line[n - 1] == '\r'))
		line[--n] = '\0';
	return line;
}

/* The first line of the file that the job's template names. */
static char *secret_from_job_file(struct step_ctx *ctx, const char *setting, const char *path_tmpl, struct err *err)
{
	char *path = setting_render(ctx, path_tmpl, err), *line;

	if (!path)
		return NULL;
	path_expand_home(&path);
	line = secret_read_file(setting, path, err);
	free(path);
	return line;
}

/* The first line of the file a host var names, when the job allows it. */
static char *secret_from_host_file(struct step_ctx *ctx, const char *setting, const char *value, struct err *err)
{
	char *path = hostvar_value(&ctx->job->inventory_may, ctx->secrets, setting, value, err), *line = NULL;

	if (path && hostvar_path(&ctx->job->inventory_may, setting, &path, err) == 0)
		line = secret_read_file(setting, path, err);
	free(path);
	return line;
}

int setting_resolve(struct step_ctx *ctx, const char *name, const char *job_value, char **out, struct err *err)
{
	const char *v = kvlist_get(&ctx->task->vars, name);
	char *s;

	*out = NULL;
	if (!v) {
		if (!job_value)
			return 0;
		*out = setting_render(ctx, job_value, err);
		return *out ? 0 : -1;
	}
	s = hostvar_value(&ctx->job->inventory_may, ctx->secrets, name, v, err);
	if (!s)
		return -1;
	if ((hostvar_is_path(name) && hostvar_path(&ctx->job->inventory_may, name, &s, err) < 0) ||
	    hostvar_check_setting(&ctx->job->inventory_may, name, s, err) < 0) {
		free(s);
		return -1;
	}
	*out = s;
	return 0;
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
		s = hostvar_value(&ctx->job->inventory_may, ctx->secrets, name, hv, err);
	else if (hf)
		s = secret_from_host_file(ctx, file_var, hf, err);
	else if (job_value)
		s = setting_render(ctx, job_value, err);
	else if (job_file)
		s = secret_from_job_file(ctx, file_var, job_file, err);
	else
		return 0;
	if (!s)
		return -1;
	if (*s)
		tmpl_secret_add(ctx->secrets, s);
	*out = s;
	return 0;
}
