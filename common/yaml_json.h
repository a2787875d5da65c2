/* yaml_json: a YAML value written as JSON text (an http step's `json:`
 * body). Plain scalars are typed as JSON would read them (null, true,
 * false, numbers in YAML 1.1's spellings), quoted ones are always strings.
 *
 * Apart from the http step because it is the one place a job file's
 * parser descends into arbitrary YAML: the walk is bounded in depth and in
 * output, so aliases (which may even form a cycle) and deep nesting in a
 * hostile file cannot make it run away. */
#ifndef FLEETRUN_YAML_JSON_H
#define FLEETRUN_YAML_JSON_H

#include "yamlnode.h"

/* A body is built from the file, so it is no bigger than a job file (1
 * MiB) unless aliases repeat parts of it; past these it is refused. */
#define YAML_JSON_MAX_BYTES (1024 * 1024)
#define YAML_JSON_MAX_DEPTH 64

/* Called for every string (object keys too) before it is written, to
 * refuse one the caller cannot use; 0, or -1 with the error set. */
typedef int (*yaml_json_string_fn)(struct ynode_ctx *c, yaml_node_t *n);

/* value as JSON text: 0 and *out (malloced, NUL-terminated), or -1 with
 * "'what': ..." at the node that could not be written, *out untouched.
 * check may be NULL. */
int yaml_json_write(struct ynode_ctx *c, const char *what, yaml_node_t *value, yaml_json_string_fn check,
                    char **out);

#endif
