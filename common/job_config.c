/* job_config: the config step of a job file (`config: [LINE...]` and its
 * keys save, commit, commit_confirmed), parsed into struct step_config.
 *
 * Apart from job.c as job_http.c is: one step kind's own syntax. The
 * lines are templates rendered per host by the worker (worker/cli_config.c
 * types them); here they are only checked. */
#include <stdlib.h>
#include <string.h>

#include "job_parse.h"

/* One line of configuration as written: non-empty once trailing blanks
 * go, a well-formed template, no line break (each line is typed alone and
 * its own prompt awaited). */
static int job_config_line(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *item, const char *s, size_t n,
                           struct step_config *cf)
{
	char what[48];
	char *line;

	while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t' || s[n - 1] == '\r'))
		n--;
	if (n == 0)
		return 0;
	if (cf->nlines == JOB_CONFIG_MAX_LINES)
		return ynode_fail(c, item, "'config': more than %d lines", JOB_CONFIG_MAX_LINES);
	line = xstrndup(s, n);
	if (strpbrk(line, "\r\n")) {
		free(line);
		return ynode_fail(c, item, "'config': expected one line per item, got a line break");
	}
	snprintf(what, sizeof(what), "config line %zu", cf->nlines + 1);
	if (job_check_templates(c, step, what, line) < 0) {
		free(line);
		return -1;
	}
	cf->lines = xrealloc(cf->lines, (cf->nlines + 1) * sizeof(*cf->lines));
	cf->lines[cf->nlines++] = line;
	return 0;
}

/* The step's text (its name when it has none): the lines joined. */
static char *job_config_text(const struct step_config *cf)
{
	struct buf b = BUF_INIT;

	buf_puts(&b, "config");
	for (size_t i = 0; i < cf->nlines; i++)
		buf_printf(&b, "%s%s", i ? "; " : ": ", cf->lines[i]);
	return b.data ? b.data : xstrdup("config");
}

int job_config_kind(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st)
{
	struct step_config *cf = st->config = xcalloc(1, sizeof(*cf));
	char desc[80];

	if (value->type == YAML_SCALAR_NODE && !ynode_is_null(value)) {
		/* a block string: one line of configuration per line */
		const char *s = ynode_scalar(value), *end = s + value->data.scalar.length;
		if (memchr(s, '\0', value->data.scalar.length))
			return ynode_fail(c, value, "'config': contains a NUL character");
		while (s < end) {
			const char *nl = memchr(s, '\n', (size_t)(end - s));
			size_t n = nl ? (size_t)(nl - s) : (size_t)(end - s);
			if (job_config_line(c, step, value, s, n, cf) < 0)
				return -1;
			s += n + 1;
		}
	} else if (value->type == YAML_SEQUENCE_NODE) {
		for (yaml_node_item_t *i = value->data.sequence.items.start; i < value->data.sequence.items.top; i++) {
			yaml_node_t *item = ynode_at(c, *i);
			if (ynode_want_scalar(c, "config", item, "a line of configuration") < 0 ||
			    job_config_line(c, step, item, ynode_scalar(item), item->data.scalar.length, cf) < 0)
				return -1;
		}
	} else if (!ynode_is_null(value)) {
		return ynode_fail(c, value, "'config': expected a list of lines or a block string, got %s",
		                  ynode_desc(value, desc, sizeof(desc)));
	}
	st->text = job_config_text(cf);
	return 0;
}

int job_config_option(struct ynode_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_config *cf)
{
	int64_t ms;

	if (!strcmp(key, "save"))
		return ynode_get_bool(c, key, value, &cf->save);
	if (!strcmp(key, "commit"))
		return ynode_get_bool(c, key, value, &cf->commit);
	/* commit_confirmed: whole minutes, as Junos counts them */
	if (ynode_get_deadline(c, key, value, &ms) < 0)
		return -1;
	if (ms % 60000 || ms / 60000 > 65535)
		return ynode_fail(c, value, "'commit_confirmed': expected whole minutes from 1m to 65535m, such as 5m");
	cf->commit_confirmed_ms = ms;
	(void)k;
	return 0;
}

/* What the step says beside its lines: something to do. */
int job_config_check(struct ynode_ctx *c, yaml_node_t *step, const struct step_config *cf)
{
	if (cf->commit && cf->commit_confirmed_ms)
		return ynode_fail(c, step, "'commit' and 'commit_confirmed' in one step (commit_confirmed commits; "
		                           "a later step's commit confirms it)");
	if (!cf->nlines && !cf->save && !cf->commit && !cf->commit_confirmed_ms)
		return ynode_fail(c, step, "'config': no lines (expected lines, or save, commit or commit_confirmed)");
	return 0;
}

void job_config_free(struct step_config *cf)
{
	if (!cf)
		return;
	for (size_t i = 0; i < cf->nlines; i++)
		free(cf->lines[i]);
	free(cf->lines);
	free(cf);
}
