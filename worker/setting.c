/* setting: see setting.h. */
#include "setting.h"

struct hostcfg setting_hostcfg(const struct step_ctx *ctx)
{
	return (struct hostcfg){
		.may = &ctx->job->inventory_may,
		.hostvars = &ctx->task->vars,
		.scope = ctx->scope,
		.secrets = ctx->secrets,
	};
}
