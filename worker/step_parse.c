/* step_parse: `parse:` of ssh and cli steps: the step's stdout parsed
 * with a TextFSM template (common/textfsm.h) into records, packed for the
 * result's "parsed" field (proto.h), and then the step's captures
 * (text_capture.c), which may read those records.
 *
 * Apart from the step kinds because both use it the same way, after their
 * command ran: one call at the end of their run. Templates are compiled
 * once per worker and kept for its life (every host of the run parses
 * with the same program); `parse: auto` finds the template in the index
 * of a collection, searched in order: the run's (--templates, which the
 * supervisor passes as $FLEETRUN_TEMPLATES), the job's `templates:`, and
 * the collection shipped beside the job (jobs.d/templates). */
#include "step_parse.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "setting.h"
#include "text_capture.h"
#include "textfsm.h"
#include "textfsm_index.h"
#include "tmpl.h"
#include "utf8.h"

/* Templates the worker compiled (or failed to), by path. */
#define STEP_PARSE_MAX_TEMPLATES 256
static struct step_parse_tpl {
	char *path;
	struct textfsm *t; /* NULL when it did not compile */
	char *error;       /* then why */
} step_parse_tpls[STEP_PARSE_MAX_TEMPLATES];
static size_t step_parse_ntpls;

/* The collections parse: auto searches, in order. */
#define STEP_PARSE_MAX_COLLECTIONS 3
static struct step_parse_coll {
	char *dir;
	char *index_path;
	struct textfsm_index *ix;
} step_parse_colls[STEP_PARSE_MAX_COLLECTIONS];
static size_t step_parse_ncolls;
static bool step_parse_prepared;

/* The template at path, compiled the first time it is asked for. */
static struct textfsm *step_parse_template(const char *path, struct err *err)
{
	struct step_parse_tpl *tp;
	struct buf text = BUF_INIT;
	struct err e;

	for (size_t i = 0; i < step_parse_ntpls; i++) {
		if (strcmp(step_parse_tpls[i].path, path))
			continue;
		if (!step_parse_tpls[i].t)
			err_set(err, "%s", step_parse_tpls[i].error);
		return step_parse_tpls[i].t;
	}
	if (step_parse_ntpls == STEP_PARSE_MAX_TEMPLATES) {
		err_set(err, "%s: more than %d templates in one run", path, STEP_PARSE_MAX_TEMPLATES);
		return NULL;
	}
	tp = &step_parse_tpls[step_parse_ntpls++];
	tp->path = xstrdup(path);
	if (job_text_read_file(path, TEXTFSM_MAX_TEMPLATE, &text, &e) < 0 ||
	    textfsm_compile(path, text.data ? text.data : "", text.len, &tp->t, &e) < 0) {
		tp->t = NULL;
		tp->error = xstrdup(e.msg);
		err_set(err, "%s", e.msg);
	}
	buf_free(&text);
	return tp->t;
}

/* Add dir's collection. required: its index must be there. */
static int step_parse_add_collection(const char *dir, bool required, struct err *err)
{
	struct step_parse_coll *c = &step_parse_colls[step_parse_ncolls];
	struct buf text = BUF_INIT;
	int r = -1;

	c->index_path = xasprintf("%s/index", dir);
	if (!required && access(c->index_path, R_OK) < 0) {
		r = 0;
		goto out;
	}
	if (job_text_read_file(c->index_path, TEXTFSM_MAX_TEMPLATE, &text, err) < 0 ||
	    textfsm_index_parse(c->index_path, text.data ? text.data : "", text.len, &c->ix, err) < 0)
		goto out;
	c->dir = xstrdup(dir);
	step_parse_ncolls++;
	r = 1;
out:
	if (r <= 0) {
		free(c->index_path);
		c->index_path = NULL;
	}
	buf_free(&text);
	return r;
}

/* The collection shipped for the jobs: templates/ beside the job, else
 * where jobs are looked for (as platform files are, common/platform.c). */
static int step_parse_shipped(const char *job_path, struct err *err)
{
	const char *slash = strrchr(job_path, '/'), *env = getenv("FLEETRUN_JOBS_DIR");
	char self[4096], *cut = NULL, *dirs[5] = {0};
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	int r = 0;

	/* the worker's own directory, for the jobs.d installed beside it */
	self[n > 0 ? n : 0] = '\0';
	if ((cut = strrchr(self, '/')))
		*cut = '\0';
	else
		self[0] = '\0';
	dirs[0] = slash ? xasprintf("%.*s/templates", (int)(slash - job_path), job_path) : xstrdup("templates");
	dirs[1] = env && *env ? xasprintf("%s/templates", env) : NULL;
	dirs[2] = xstrdup("./jobs.d/templates");
	dirs[3] = self[0] ? xasprintf("%s/../jobs.d/templates", self) : NULL;
	dirs[4] = self[0] ? xasprintf("%s/../share/fleetrun/jobs.d/templates", self) : NULL;
	for (size_t i = 0; i < ARRAY_LEN(dirs) && r == 0; i++)
		if (dirs[i])
			r = step_parse_add_collection(dirs[i], false, err);
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		free(dirs[i]);
	return r < 0 ? -1 : 0;
}

void step_parse_finish(void)
{
	text_capture_finish();
}

int step_parse_prepare(const struct job *job, struct err *err)
{
	const char *run_dir = getenv("FLEETRUN_TEMPLATES");
	bool automatic = false;

	if (step_parse_prepared)
		return 0;
	step_parse_prepared = true;
	for (size_t i = 0; i < job->nsteps; i++) {
		const struct step_parse *p = job->steps[i].parse;
		if (p && p->mode == STEP_PARSE_FILE && !step_parse_template(p->template, err))
			return -1;
		automatic |= p && p->mode == STEP_PARSE_AUTO;
	}
	if (automatic) {
		if (run_dir && *run_dir && step_parse_add_collection(run_dir, true, err) < 0)
			return -1;
		if (job->templates && step_parse_add_collection(job->templates, true, err) < 0)
			return -1;
		if (step_parse_shipped(job->path, err) < 0)
			return -1;
	}
	return text_capture_prepare(job, err);
}

/* parse: auto: the template of the first collection whose index has a
 * row for the host's platform and the command. */
static struct textfsm *step_parse_auto(struct step_ctx *ctx, const char *command, struct err *err)
{
	const struct hostcfg hc = setting_hostcfg(ctx);
	struct buf searched = BUF_INIT;
	struct textfsm *t = NULL;
	char *platform = NULL, *path;
	const char *tpl = NULL;
	size_t i, line = 0;

	if (hostcfg_str(&hc, "platform", ctx->job->cli.platform, &platform, err) < 0)
		goto out;
	if (!platform) {
		err_set(err, "parse: auto: no platform for this host: give the host var platform or the job's cli "
		        "platform");
		goto out;
	}
	for (i = 0; i < step_parse_ncolls && !tpl; i++) {
		tpl = textfsm_index_find(step_parse_colls[i].ix, platform, command, &line);
		buf_printf(&searched, "%s%s", i ? ", " : "", step_parse_colls[i].index_path);
	}
	if (!tpl) {
		err_set(err, "parse: auto: no template for platform '%.64s' and command '%.200s' in %s", platform,
		        command, searched.len ? searched.data : "any collection (give --templates DIR or templates:)");
		goto out;
	}
	if (strchr(tpl, ':')) {
		err_set(err, "parse: auto: %s:%zu: several templates joined with ':' are not supported",
		        step_parse_colls[i - 1].index_path, line);
		goto out;
	}
	path = xasprintf("%s/%s", step_parse_colls[i - 1].dir, tpl);
	t = step_parse_template(path, err);
	free(path);
out:
	free(platform);
	buf_free(&searched);
	return t;
}

static void step_parse_pack_str(msgpack_packer *pk, const char *s, size_t n)
{
	struct buf fixed = BUF_INIT;

	if (utf8_valid((const unsigned char *)s, n)) {
		proto_pack_str(pk, s, n);
		return;
	}
	/* PCRE2 matched in UTF mode, but the record is JSON in the end:
	 * a byte that is not UTF-8 goes as U+FFFD, as textfsm_json.c does */
	for (size_t k = 0; k < n;) {
		uint32_t cp;
		size_t l = utf8_decode((const unsigned char *)s + k, n - k, &cp);
		if (l)
			buf_append(&fixed, s + k, l);
		else
			buf_puts(&fixed, "\xef\xbf\xbd");
		k += l ? l : 1;
	}
	proto_pack_str(pk, fixed.data ? fixed.data : "", fixed.len);
	buf_free(&fixed);
}

/* One cell; returns the msgpack objects it took. */
static size_t step_parse_pack_cell(msgpack_packer *pk, const struct textfsm_cell *c)
{
	size_t n = 1;

	switch (c->kind) {
	case TEXTFSM_NULL:
		msgpack_pack_nil(pk);
		break;
	case TEXTFSM_STR:
		step_parse_pack_str(pk, c->str, c->len);
		break;
	case TEXTFSM_LIST:
		msgpack_pack_array(pk, c->len);
		for (size_t i = 0; i < c->len; i++)
			n += step_parse_pack_cell(pk, &c->items[i]);
		break;
	case TEXTFSM_DICT:
		msgpack_pack_map(pk, c->len);
		for (size_t i = 0; i < c->len; i++) {
			step_parse_pack_str(pk, c->keys[i], strlen(c->keys[i]));
			n += 1 + step_parse_pack_cell(pk, &c->items[i]);
		}
		break;
	}
	return n;
}

/* The records into r->parsed (the shape proto.h gives), within what the
 * result can still carry. 0, or -1 with err. */
static int step_parse_pack(struct step_ctx *ctx, const struct textfsm *t, const struct textfsm_records *recs,
                           struct step_result *r, struct err *err)
{
	size_t objects = 1, room = 2 * ctx->output_cap;
	msgpack_packer pk;

	proto_packer_init(&pk, &r->parsed);
	msgpack_pack_array(&pk, recs->n);
	for (size_t row = 0; row < recs->n; row++) {
		msgpack_pack_map(&pk, recs->nvalues);
		objects++;
		for (size_t i = 0; i < recs->nvalues; i++) {
			const char *key = textfsm_value_key(t, i);
			proto_pack_str(&pk, key, strlen(key));
			objects += 1 + step_parse_pack_cell(&pk, &recs->cells[row * recs->nvalues + i]);
		}
	}
	room = room > r->out.len + r->err.len ? room - r->out.len - r->err.len : 0;
	if (ctx->state->parsed_objects + objects > PROTO_MAX_PARSED_OBJECTS || r->parsed.len > room) {
		err_set(err, "parse: %zu records are more than a result may carry (%u values in all, or the output cap "
		        "of %zu bytes)", recs->n, PROTO_MAX_PARSED_OBJECTS, ctx->output_cap);
		buf_free(&r->parsed);
		return -1;
	}
	ctx->state->parsed_objects += objects;
	r->has_parsed = true;
	return 0;
}

/* A Required value that is never filled drops every record: say which,
 * rather than give an empty list that looks like a device with nothing
 * to report. */
static int step_parse_required(const struct textfsm *t, const struct step_result *r, struct err *err)
{
	size_t lines = 0;

	for (size_t i = 0; i < r->out.len; i++)
		lines += r->out.data[i] == '\n';
	if (r->out.len && r->out.data[r->out.len - 1] != '\n')
		lines++;
	for (size_t i = 0; i < textfsm_nvalues(t); i++)
		if (textfsm_value_required(t, i)) {
			err_set(err, "parse: %s:%zu: Required value %s was never filled: no record (input line %zu, its end)",
			        textfsm_path(t), textfsm_value_line(t, i), textfsm_value_name(t, i), lines);
			return -1;
		}
	return 0;
}

void step_parse_run(struct step_ctx *ctx, const char *command, struct step_result *r)
{
	const struct step_parse *p = ctx->step->parse;
	struct textfsm_records recs = TEXTFSM_RECORDS_INIT;
	struct buf json = BUF_INIT;
	struct textfsm *t = NULL;
	struct err err = {{0}}, e2;

	if (!p || r->status != STATUS_OK)
		return;
	/* Records and captures are made from the text as it is recorded:
	 * a secret the device echoed (task.c masks stdout after the step)
	 * must not come back through a record or a variable. */
	tmpl_mask(&r->out, ctx->secrets);
	if (p->mode == STEP_PARSE_FILE && !(t = step_parse_template(p->template, &e2))) {
		err_set(&err, "parse: %s", e2.msg);
		goto fail;
	}
	if (p->mode == STEP_PARSE_AUTO && !(t = step_parse_auto(ctx, command, &err)))
		goto fail;
	if (t) {
		if (textfsm_parse(t, r->out.data ? r->out.data : "", r->out.len, &recs, &e2) < 0) {
			err_set(&err, "parse: %s", e2.msg);
			goto fail;
		}
		if (recs.n == 0 && step_parse_required(t, r, &err) < 0)
			goto fail;
		if (step_parse_pack(ctx, t, &recs, r, &err) < 0)
			goto fail;
		if (text_capture_wants_json(p))
			textfsm_records_json(t, &recs, &json);
	}
	text_capture_run(ctx, json.data, r);
	goto out;
fail:
	r->status = STATUS_FAILED;
	r->error = xstrdup(err.msg);
out:
	textfsm_records_free(&recs);
	buf_free(&json);
}
