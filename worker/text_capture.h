/* text_capture: `capture:` of ssh and cli steps: variables for later
 * steps from a PCRE2 pattern on stdout, or from a jq expression on the
 * step's parsed records. */
#ifndef FLEETRUN_TEXT_CAPTURE_H
#define FLEETRUN_TEXT_CAPTURE_H

#include "step.h"

/* Before the first task: compile the job's jq captures. 0, or -1. */
int text_capture_prepare(const struct job *job, struct err *err);

/* At exit: the jq programs prepare compiled, torn down. */
void text_capture_finish(void);

/* Whether a capture of p reads the parsed records (as JSON). */
bool text_capture_wants_json(const struct step_parse *p);

/* The step's captures into ctx->captured; parsed_json: the records as
 * JSON, or NULL. A capture that finds nothing (and is not optional) makes
 * the step failed. */
void text_capture_run(struct step_ctx *ctx, const char *parsed_json, struct step_result *r);

#endif
