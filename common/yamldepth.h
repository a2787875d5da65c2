/* yamldepth: a bound on how deep YAML collections nest, checked on the
 * event stream before a document is loaded.
 *
 * libyaml builds a document of any depth, and its scanner does work per
 * token in proportion to the flow collections open around it, so 40,000
 * nested '[' in a job file or an inventory cost seconds of CPU (quadratic)
 * before any of fleetrun's own checks could refuse them. Job files are
 * code but inventories are data, often generated; neither has a reason to
 * nest deeper than a few dozen levels. */
#ifndef FLEETRUN_YAMLDEPTH_H
#define FLEETRUN_YAMLDEPTH_H

#include <stddef.h>
#include <yaml.h>

/* Deeper than any job file (a `json:` body is bounded at 64 levels inside
 * a step, four levels down) or any Ansible inventory (two levels per group
 * of children). */
#define YAMLDEPTH_MAX 128

/* Walk every document of text[0..len) and stop at the first collection
 * that opens deeper than max levels: 1 and *at (where it opens), or 0 when
 * none does. A syntax error also ends the walk with 0: the load that
 * follows reports it with its own words. */
int yamldepth_exceeded(const char *text, size_t len, int max, yaml_mark_t *at);

#endif
