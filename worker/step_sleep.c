/* step_sleep: a pause; `sleep: 0` returns at once and is how the pool's own
 * overhead is measured. */
#include <errno.h>
#include <time.h>

#include "clock.h"
#include "step.h"
#include "util.h"

static void step_sleep_run(struct step_ctx *ctx, struct step_result *r)
{
	int64_t now = clock_mono_us();
	int64_t until = now + ctx->step->sleep_ms * 1000;
	int timed_out = 0;

	if (ctx->step->sleep_ms == 0)
		return;
	if (until > ctx->deadline_us) {
		until = ctx->deadline_us;
		timed_out = 1;
	}
	while ((now = clock_mono_us()) < until) {
		int64_t left = until - now;
		struct timespec ts = {left / 1000000, (left % 1000000) * 1000};
		if (nanosleep(&ts, NULL) < 0 && errno != EINTR)
			break;
	}
	if (timed_out) {
		r->status = STATUS_TIMEOUT;
		r->error = xasprintf("sleep of %lld ms passed the %s deadline", (long long)ctx->step->sleep_ms,
		                     ctx->deadline_is_task ? "task" : "step");
	}
}

/* A pause measures nothing beyond its duration. */
const struct step_ops step_sleep_ops = {
	.kind = STEP_SLEEP,
	.run = step_sleep_run,
};
