/* step_parse: what ssh and cli steps make of their stdout: `parse:`
 * (TextFSM records for the result's "parsed") and then `capture:`
 * (text_capture.h). One call each from the two kinds. */
#ifndef FLEETRUN_STEP_PARSE_H
#define FLEETRUN_STEP_PARSE_H

#include "step.h"

/* Before the first task (one thread): compile the templates the job
 * names and read the indexes parse: auto searches, and the captures' jq.
 * Idempotent: both kinds call it. 0, or -1 with err. */
int step_parse_prepare(const struct job *job, struct err *err);

/* At exit: what prepare made (the captures' jq programs) freed. */
void step_parse_finish(void);

/* After the step's command ran ok: parse its stdout and capture, when
 * the step asks. command: as rendered (parse: auto looks it up). A
 * failure makes the step failed with why. */
void step_parse_run(struct step_ctx *ctx, const char *command, struct step_result *r);

#endif
