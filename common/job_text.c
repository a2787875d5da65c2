/* job_text: the keys of a job that say what ssh and cli steps make of the
 * text a device printed: `parse:` (TextFSM records), `capture:`
 * (variables for later steps, from a PCRE2 pattern on stdout or a jq
 * expression on the parsed records) and the top-level `templates:` (a
 * TextFSM collection for `parse: auto`). Apart from job.c because they
 * read files beside the job (templates, an index) and compile them: a
 * bad template or pattern is found by `fleetrun check` with its
 * file:line, not by the first host.
 *
 * Paths are the job's: relative to the job file's directory. A host var
 * never names a template (inventories are data); it may only name the
 * host's platform, which `parse: auto` looks up in an index. */
#define PCRE2_CODE_UNIT_WIDTH 8

#include <errno.h>
#include <fcntl.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "job_parse.h"
#include "textfsm.h"
#include "textfsm_index.h"
#include "tmpl.h"

/* path made relative to the job file's directory (absolute paths stay). */
static char *job_text_path(const char *job_path, const char *path)
{
	const char *slash = strrchr(job_path, '/');

	if (path[0] == '/' || !slash)
		return xstrdup(path);
	return xasprintf("%.*s/%s", (int)(slash - job_path), job_path, path);
}

int job_text_read_file(const char *path, size_t max, struct buf *out, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	r = job_read_fd(fd, path, max, "", out, err);
	close(fd);
	return r;
}

/* Compile the template at path to check it: errors say PATH:LINE. */
static int job_text_check_template(const char *path, struct err *err)
{
	struct buf text = BUF_INIT;
	struct textfsm *t = NULL;
	int r = -1;

	if (job_text_read_file(path, TEXTFSM_MAX_TEMPLATE, &text, err) < 0)
		goto out;
	if (textfsm_compile(path, text.data ? text.data : "", text.len, &t, err) < 0)
		goto out;
	r = 0;
out:
	textfsm_free(t);
	buf_free(&text);
	return r;
}

static struct step_parse *job_text_of(struct step *st)
{
	if (!st->parse)
		st->parse = xcalloc(1, sizeof(*st->parse));
	return st->parse;
}

int job_text_parse(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj)
{
	static const char expected[] = "textfsm:FILE (a TextFSM template, relative to the job's directory) or auto";
	struct step *st = obj;
	struct step_parse *p;
	const char *s;
	struct err err;

	(void)key;
	(void)k;
	if (ynode_want_scalar(c, "parse", value, expected) < 0)
		return -1;
	s = ynode_scalar(value);
	p = job_text_of(st);
	if (!strcmp(s, "auto")) {
		p->mode = STEP_PARSE_AUTO;
		return 0;
	}
	if (strncmp(s, "textfsm:", 8) || !s[8])
		return ynode_fail(c, value, "'parse': expected %s, got '%.80s'", expected, s);
	p->mode = STEP_PARSE_FILE;
	p->written = xstrdup(s + 8);
	p->template = job_text_path(c->path, s + 8);
	if (!(job_pctx(c)->flags & JOB_PARSE_NO_JQ) && job_text_check_template(p->template, &err) < 0)
		return ynode_fail(c, value, "'parse': %s", err.msg);
	return 0;
}

/* A pattern compiled for good: the group named like the variable, else
 * the first, else the whole match. */
static int job_text_capture_regex(struct ynode_ctx *c, yaml_node_t *v, const char *pattern, struct step_capture *cap)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	uint32_t ngroups = 0;
	int code, named;

	cap->re = pcre2_compile((PCRE2_SPTR)pattern, strlen(pattern), 0, &code, &off, NULL);
	if (!cap->re) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", code);
		return ynode_fail(c, v, "'capture': bad pattern for '%s': %s (at position %zu of the pattern)", cap->var,
		                  (char *)msg, ynode_char_position(pattern, off));
	}
	cap->regex = xstrdup(pattern);
	pcre2_pattern_info(cap->re, PCRE2_INFO_CAPTURECOUNT, &ngroups);
	named = pcre2_substring_number_from_name(cap->re, (PCRE2_SPTR)cap->var);
	cap->group = named > 0 ? (uint32_t)named : ngroups ? 1 : 0;
	return 0;
}

/* {regex: P} or {jq: EXPR}: one key. */
static int job_text_capture_map(struct ynode_ctx *c, yaml_node_t *v, struct step_capture *cap)
{
	char desc[80];
	yaml_node_t *k, *e;

	if (v->data.mapping.pairs.top - v->data.mapping.pairs.start != 1)
		return ynode_fail(c, v, "'capture': '%s': expected one of regex: PATTERN or jq: EXPRESSION", cap->var);
	k = ynode_at(c, v->data.mapping.pairs.start->key);
	e = ynode_at(c, v->data.mapping.pairs.start->value);
	if (ynode_want_key(c, k) < 0)
		return -1;
	if (strcmp(ynode_scalar(k), "regex") && strcmp(ynode_scalar(k), "jq"))
		return ynode_fail(c, k, "'capture': '%s': expected regex or jq, got '%.40s'", cap->var, ynode_scalar(k));
	if (e->type != YAML_SCALAR_NODE || ynode_is_null(e))
		return ynode_fail(c, e, "'capture': '%s': expected a %s, got %s", cap->var,
		                  strcmp(ynode_scalar(k), "jq") ? "pattern" : "jq expression",
		                  ynode_desc(e, desc, sizeof(desc)));
	if (!strcmp(ynode_scalar(k), "regex"))
		return job_text_capture_regex(c, e, ynode_scalar(e), cap);
	if (job_http_check_jq(c, e, "capture", cap->var, ynode_scalar(e)) < 0)
		return -1;
	cap->jq = xstrdup(ynode_scalar(e));
	return 0;
}

static int job_text_capture_one(struct ynode_ctx *c, yaml_node_t *vk, yaml_node_t *v, struct step_parse *p)
{
	struct step_capture *cap;
	char name[TMPL_NAME_MAX + 2], ex[80], desc[80];
	size_t len = vk->data.scalar.length;

	ynode_excerpt(ynode_scalar(vk), len, ex, sizeof(ex));
	if (len > TMPL_NAME_MAX + 1)
		return ynode_fail(c, vk, "'capture': '%s' is not a variable name", ex);
	memcpy(name, ynode_scalar(vk), len + 1);
	if (len > 1 && name[len - 1] == '?')
		name[--len] = '\0';
	if (!job_http_is_var_name(name))
		return ynode_fail(c, vk, "'capture': '%s' is not a variable name (a letter or _, then letters, digits or "
		                  "_, and a ? for a value that may be missing)", ex);
	for (size_t i = 0; i < p->ncaptures; i++)
		if (!strcmp(p->captures[i].var, name))
			return ynode_fail(c, vk, "'capture': '%s' is captured twice", name);
	p->captures = xreallocarray(p->captures, p->ncaptures + 1, sizeof(*p->captures));
	cap = &p->captures[p->ncaptures++];
	memset(cap, 0, sizeof(*cap));
	cap->var = xstrdup(name);
	cap->optional = len < vk->data.scalar.length;
	cap->line = (int)vk->start_mark.line + 1;
	cap->column = (int)vk->start_mark.column + 1;
	if (v->type == YAML_MAPPING_NODE)
		return job_text_capture_map(c, v, cap);
	if (v->type != YAML_SCALAR_NODE || ynode_is_null(v) || !*ynode_scalar(v))
		return ynode_fail(c, v, "'capture': '%s': expected a pattern, {regex: PATTERN} or {jq: EXPRESSION}, got %s",
		                  name, ynode_desc(v, desc, sizeof(desc)));
	return job_text_capture_regex(c, v, ynode_scalar(v), cap);
}

int job_text_capture(struct ynode_ctx *c, yaml_node_t *value, struct step *st)
{
	struct step_parse *p = job_text_of(st);
	char desc[80];

	if (value->type != YAML_MAPPING_NODE)
		return ynode_fail(c, value,
		                  "'capture': expected a mapping of variable names to patterns such as "
		                  "'version: \"Version ([^,]+),\"', got %s", ynode_desc(value, desc, sizeof(desc)));
	for (yaml_node_pair_t *pr = value->data.mapping.pairs.start; pr < value->data.mapping.pairs.top; pr++) {
		yaml_node_t *vk = ynode_at(c, pr->key);
		if (ynode_want_key(c, vk) < 0 || job_text_capture_one(c, vk, ynode_at(c, pr->value), p) < 0)
			return -1;
	}
	return 0;
}

/* DIR/index read and parsed, to check it. 0, or -1 with err. */
static int job_text_check_index(const char *dir, struct err *err)
{
	struct textfsm_index *ix = NULL;
	struct buf text = BUF_INIT;
	char *index = xasprintf("%s/index", dir);
	int r = -1;

	if (job_text_read_file(index, TEXTFSM_MAX_TEMPLATE, &text, err) < 0 ||
	    textfsm_index_parse(index, text.data ? text.data : "", text.len, &ix, err) < 0)
		goto out;
	r = 0;
out:
	textfsm_index_free(ix);
	buf_free(&text);
	free(index);
	return r;
}

int job_text_templates(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                       void *obj)
{
	struct job *job = obj;
	struct err err;

	(void)key;
	(void)k;
	if (ynode_want_scalar(c, "templates", value, "a directory of TextFSM templates with an index") < 0)
		return -1;
	if (!*ynode_scalar(value))
		return ynode_fail(c, value, "'templates': expected a directory of TextFSM templates with an index");
	job->templates = job_text_path(c->path, ynode_scalar(value));
	if (!(job_pctx(c)->flags & JOB_PARSE_NO_JQ) && job_text_check_index(job->templates, &err) < 0)
		return ynode_fail(c, value, "'templates': %s", err.msg);
	return 0;
}

int job_text_check_run(const struct job *job, const char *dir, const char *what, struct err *err)
{
	struct err e;

	for (size_t i = 0; dir && *dir && i < job->nsteps; i++) {
		if (!job->steps[i].parse || job->steps[i].parse->mode != STEP_PARSE_AUTO)
			continue;
		if (job_text_check_index(dir, &e) < 0) {
			err_set(err, "%s: %s", what, e.msg);
			return -1;
		}
		break;
	}
	return 0;
}

void job_text_free(struct step_parse *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->ncaptures; i++) {
		free(p->captures[i].var);
		free(p->captures[i].regex);
		pcre2_code_free(p->captures[i].re);
		free(p->captures[i].jq);
	}
	free(p->captures);
	free(p->template);
	free(p->written);
	free(p);
}
