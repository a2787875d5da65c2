/* setting: a step's view of its host's connection settings.
 *
 * What a host uses for a setting is common/hostcfg.h's to say, for the
 * worker and the supervisor alike (host var over the job's value, one
 * boolean grammar, secrets and their _file forms, the known_hosts file).
 * This is the one place that says which host, scope and secrets a step
 * reads them with, so the step kinds do not each assemble them. */
#ifndef FLEETRUN_SETTING_H
#define FLEETRUN_SETTING_H

#include "hostcfg.h"
#include "step.h"

/* The hostcfg of the step's host: the job's inventory_may, the task's
 * host vars, the step's template scope (captured vars, host vars,
 * built-ins) and the task's secrets. It points into ctx: use it while
 * ctx lives. */
struct hostcfg setting_hostcfg(const struct step_ctx *ctx);

#endif /* FLEETRUN_SETTING_H */
