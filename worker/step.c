/* step: what several step kinds share: freeing a step's result, the
 * `expect` check of commands and HTTP bodies, and the result fields of a
 * command (exec and ssh record the same). */
#define PCRE2_CODE_UNIT_WIDTH 8
#include "step.h"

#include <pcre2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

void step_result_free(struct step_result *r)
{
	free(r->error);
	free(r->withheld);
	buf_free(&r->out);
	buf_free(&r->err);
	buf_free(&r->parsed);
}

void step_check_expect(struct step_ctx *ctx, struct step_result *r)
{
	pcre2_match_data *md;
	int rc;

	if (!ctx->expect_re)
		return;
	md = pcre2_match_data_create_from_pattern(ctx->expect_re, NULL);
	rc = pcre2_match(ctx->expect_re, (PCRE2_SPTR)(r->out.data ? r->out.data : ""), r->out.len, 0, 0, md,
	                 NULL);
	pcre2_match_data_free(md);
	if (rc < 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("expect '%s' did not match the output", ctx->step->expect);
	}
}

void step_pack_command(const struct step_result *r, struct proto_step *v)
{
	v->has |= PROTO_STEP_STDOUT | PROTO_STEP_STDERR | PROTO_STEP_TRUNCATED;
	if (r->has_exit) {
		v->has |= PROTO_STEP_EXIT;
		v->exit_code = r->exit_code;
	}
	if (r->term_signal) {
		const char *abbrev = sigabbrev_np(r->term_signal);
		v->has |= PROTO_STEP_SIGNAL;
		v->signal = proto_cstr(abbrev ? abbrev : "?");
	}
	v->out = (struct proto_str){r->out.data, r->out.len};
	v->err = (struct proto_str){r->err.data, r->err.len};
	v->truncated = r->truncated;
	if (r->has_parsed) {
		v->has |= PROTO_STEP_PARSED;
		v->parsed_packed = (struct proto_str){r->parsed.data, r->parsed.len};
	}
}

void step_known_host_add(struct task_state *s, char *line)
{
	if (!line)
		return;
	if (s->nknown_hosts == PROTO_MAX_KNOWN_HOSTS) {
		free(line);
		return;
	}
	s->known_hosts_lines[s->nknown_hosts++] = line;
}
