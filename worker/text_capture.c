/* text_capture: `capture:` of ssh and cli steps. A pattern (PCRE2,
 * compiled when the job was loaded, common/job_text.c) on the step's
 * stdout gives the group named like the variable, else its first group;
 * a jq expression reads {"parsed": [records], "stdout": "..."}. The
 * values go where http captures go (ctx->captured: later steps, the
 * record's vars, the text line), under the same rules: a NUL byte is
 * refused, a variable named like a secret is masked from then on.
 *
 * Apart from step_http.c's jq captures because the input is text and
 * records, not a JSON body, and the patterns are compiled once by the
 * job itself; the jq programs are compiled here once per worker. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "text_capture.h"

#include <jq.h>
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "jqprog.h"
#include "tmpl.h"

/* The job's jq captures, compiled by prepare, found by expression. */
static struct text_capture_jq {
	const char *expr; /* into the job */
	jq_state *jq;     /* NULL when it did not compile */
	char *error;
} *text_capture_jqs;
static size_t text_capture_njqs;

static void text_capture_jq_error(void *ud, jv msg)
{
	char **out = ud;

	if (!*out)
		*out = xstrdup(jv_get_kind(msg) == JV_KIND_STRING ? jv_string_value(msg) : "jq error");
	jv_free(msg);
}

int text_capture_prepare(const struct job *job, struct err *err)
{
	(void)err;
	for (size_t i = 0; i < job->nsteps; i++) {
		const struct step_parse *p = job->steps[i].parse;
		for (size_t k = 0; p && k < p->ncaptures; k++) {
			struct text_capture_jq *q;
			if (!p->captures[k].jq)
				continue;
			text_capture_jqs = xreallocarray(text_capture_jqs, text_capture_njqs + 1, sizeof(*q));
			q = &text_capture_jqs[text_capture_njqs++];
			memset(q, 0, sizeof(*q));
			q->expr = p->captures[k].jq;
			if (!(q->jq = jqprog_new())) {
				q->error = xstrdup("cannot start jq");
				continue;
			}
			jq_set_error_cb(q->jq, text_capture_jq_error, &q->error);
			if (!jqprog_compile(q->jq, q->expr)) {
				if (!q->error)
					q->error = xstrdup("does not compile");
				jq_teardown(&q->jq);
			}
		}
	}
	return 0;
}

void text_capture_finish(void)
{
	for (size_t i = 0; i < text_capture_njqs; i++) {
		if (text_capture_jqs[i].jq)
			jq_teardown(&text_capture_jqs[i].jq);
		free(text_capture_jqs[i].error);
	}
	free(text_capture_jqs);
	text_capture_jqs = NULL;
	text_capture_njqs = 0;
}

bool text_capture_wants_json(const struct step_parse *p)
{
	for (size_t i = 0; i < p->ncaptures; i++)
		if (p->captures[i].jq)
			return true;
	return false;
}

/* bytes[0..n) as a C string (malloced); *n is kept so that a NUL
 * inside can be told from the end. */
static char *text_capture_dup(const char *bytes, size_t n)
{
	char *s = xmalloc(n + 1);

	memcpy(s, bytes, n);
	s[n] = '\0';
	return s;
}

/* The pattern's group in stdout: 1 and *value (malloced, *n bytes), 0
 * no match. */
static int text_capture_regex(const struct step_capture *cap, const struct step_result *r, char **value, size_t *n)
{
	pcre2_match_data *md = pcre2_match_data_create_from_pattern(cap->re, NULL);
	PCRE2_SIZE *ov;
	int rc;

	rc = pcre2_match(cap->re, (PCRE2_SPTR)(r->out.data ? r->out.data : ""), r->out.len, 0, 0, md, NULL);
	if (rc > 0) {
		ov = pcre2_get_ovector_pointer(md);
		/* a group that took no part in the match is no value */
		if (ov[2 * cap->group] == PCRE2_UNSET)
			rc = 0;
		else
			*value = text_capture_dup(r->out.data + ov[2 * cap->group],
			                          *n = ov[2 * cap->group + 1] - ov[2 * cap->group]);
	}
	pcre2_match_data_free(md);
	return rc > 0;
}

/* The expression's first output on the step: 1 and *value, 0 null or
 * nothing, -1 with err. */
static int text_capture_jq(const struct step_capture *cap, const char *parsed_json, const struct step_result *r,
                           char **value, size_t *n, struct err *err)
{
	struct text_capture_jq *q = NULL;
	jv in, v;
	int ret = 0;

	for (size_t i = 0; i < text_capture_njqs && !q; i++)
		if (text_capture_jqs[i].expr == cap->jq)
			q = &text_capture_jqs[i];
	if (!q || !q->jq) {
		err_set(err, "jq '%s': %s", cap->jq, q && q->error ? q->error : "not compiled");
		return -1;
	}
	in = jv_object_set(jv_object(), jv_string("parsed"), parsed_json ? jv_parse(parsed_json) : jv_null());
	in = jv_object_set(in, jv_string("stdout"), jv_string_sized(r->out.data ? r->out.data : "", (int)r->out.len));
	jq_start(q->jq, in, 0);
	v = jq_next(q->jq);
	if (!jv_is_valid(v)) {
		jv msg = jv_invalid_get_msg(v);
		if (jv_get_kind(msg) == JV_KIND_STRING) {
			err_set(err, "jq '%s': %s", cap->jq, jv_string_value(msg));
			ret = -1;
		}
		jv_free(msg);
		return ret;
	}
	if (jv_get_kind(v) == JV_KIND_NULL) {
		jv_free(v);
		return 0;
	}
	if (jv_get_kind(v) != JV_KIND_STRING)
		v = jv_dump_string(v, 0);
	*n = (size_t)jv_string_length_bytes(jv_copy(v));
	*value = text_capture_dup(jv_string_value(v), *n);
	jv_free(v);
	return 1;
}

void text_capture_run(struct step_ctx *ctx, const char *parsed_json, struct step_result *r)
{
	const struct step_parse *p = ctx->step->parse;
	struct err err;

	for (size_t i = 0; p && i < p->ncaptures && r->status == STATUS_OK; i++) {
		const struct step_capture *cap = &p->captures[i];
		char *value = NULL;
		size_t n = 0;
		int got = cap->re ? text_capture_regex(cap, r, &value, &n)
		                  : text_capture_jq(cap, parsed_json, r, &value, &n, &err);

		if (got < 0) {
			r->status = STATUS_FAILED;
			r->error = xasprintf("capture %s: %s", cap->var, err.msg);
		} else if (got == 0 && !cap->optional) {
			r->status = STATUS_FAILED;
			r->error = cap->re ? xasprintf("capture %s: '%s' did not match the output", cap->var, cap->regex)
			                   : xasprintf("capture %s: '%s' is null", cap->var, cap->jq);
		} else if (value && memchr(value, '\0', n)) {
			/* a value is a C string, and reaches exec commands
			 * through the environment: a NUL byte fits in neither */
			r->status = STATUS_FAILED;
			r->error = xasprintf("capture %s: the value holds a NUL byte", cap->var);
		} else {
			kvlist_set(ctx->captured, cap->var, value ? value : "");
			if (value && *value && tmpl_is_secret_name(cap->var))
				tmpl_secret_add(ctx->secrets, value);
		}
		free(value);
	}
}
