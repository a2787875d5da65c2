/* yamlnode: reading a libyaml document tree into a schema, with messages
 * that name file:line:column and say what was expected; and ymap_walk, the
 * one walk over a mapping of known keys.
 *
 * Apart from job.c because nothing here knows what a job is: every YAML
 * file fleetrun reads into a schema (a job file, an inventory) should say
 * the same words about the same mistakes ("unknown key 'x' in ssh
 * (expected one of: ...)", "duplicate key 'x' (first at line 3)", "give a
 * or b, not both", "'x': expected a duration ..., got a list"). Names:
 * ynode_* for a node, ymap_* for the walker.
 *
 * Every ynode_fail-style function sets the error and returns -1, so a
 * caller can `return ynode_fail(...)`. User text quoted in a message goes
 * through ynode_excerpt: bounded, and control bytes shown as '?' so that a
 * hostile key cannot forge log lines. */
#ifndef FLEETRUN_YAMLNODE_H
#define FLEETRUN_YAMLNODE_H

#include <stddef.h>
#include <stdint.h>
#include <yaml.h>

#include "util.h"

/* What every function here needs. A parser with more state embeds it in a
 * context of its own and finds that again from the pointer the walker's
 * callbacks get (job_parse.h does). */
struct ynode_ctx {
	const char *path;     /* the file as messages name it; not owned */
	yaml_document_t *doc; /* the loaded document; not owned */
	struct err *err;      /* where a failure is written; not owned */
};

#define YNODE_DURATION_EXPECTED "a duration such as 30s, 500ms or 2m"

/* "path:line:column: message" (1-based) at node n, or at mark; -1. */
int ynode_fail(struct ynode_ctx *c, yaml_node_t *n, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
int ynode_fail_mark(struct ynode_ctx *c, yaml_mark_t mark, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Why libyaml's parser could not load text ("invalid YAML: ..." where it
 * happened, or out of memory); -1. */
int ynode_fail_load(struct ynode_ctx *c, const yaml_parser_t *parser, const char *text, size_t len);

/* s[0..len) for a message, in out (cut short with "..." between
 * characters, control bytes as '?'); returns out. */
const char *ynode_excerpt(const char *s, size_t len, char *out, size_t outlen);
/* 1-based character position of byte offset off in UTF-8 text s, for
 * messages about a place inside a command or pattern. */
size_t ynode_char_position(const char *s, size_t off);

yaml_node_t *ynode_at(struct ynode_ctx *c, int id);
const char *ynode_scalar(yaml_node_t *n);
/* An unquoted empty value, `~` or `null`: YAML's null. */
int ynode_is_null(yaml_node_t *n);
/* "a mapping", "a list", "nothing" or the quoted text, for "got ..."; out
 * is used for the text (80 bytes is plenty). */
const char *ynode_desc(yaml_node_t *n, char *out, size_t outlen);

/* Each returns 0, or -1 with "'what': expected EXPECTED, got ..." (or a
 * sharper message) at n. */
/* n is a non-null scalar usable as a C string (no NUL inside). */
int ynode_want_scalar(struct ynode_ctx *c, const char *what, yaml_node_t *n, const char *expected);
/* k is a key name: a scalar without a NUL. */
int ynode_want_key(struct ynode_ctx *c, yaml_node_t *k);
/* k is a name the file chooses (a host, a group, a var in an inventory):
 * a non-empty scalar without a NUL. "expected EXPECTED, got ..." (so
 * "expected a host name, got a list"), or "EXPECTED contains a NUL
 * character". */
int ynode_want_name(struct ynode_ctx *c, yaml_node_t *k, const char *expected);
int ynode_get_duration(struct ynode_ctx *c, const char *what, yaml_node_t *n, int64_t *ms);
/* A duration that must be more than 0 (a deadline of 0 would expire
 * before anything ran). */
int ynode_get_deadline(struct ynode_ctx *c, const char *what, yaml_node_t *n, int64_t *ms);
/* util.h's bool_parse grammar; the message names UTIL_BOOL_EXPECTED. */
int ynode_get_bool(struct ynode_ctx *c, const char *what, yaml_node_t *n, int *out);
/* Digits only, in [min, max] (strtoll would also take " 22" and "+22"). */
int ynode_get_count(struct ynode_ctx *c, const char *what, yaml_node_t *n, long long min, long long max,
                    long long *out);

/* Appends ", name" (or "name" to an empty out) for "expected one of: ...". */
void ynode_list_append(char *out, size_t outlen, const char *name);

/* ---- the walker ---- */

struct ymap_key;
/* Reads one key's value v into obj (a function type, so that a file can
 * declare its key functions as `static ymap_parse_fn a, b;`). k is the key node, for messages about
 * the key as a whole. 0, or -1 with the error set. */
typedef int ymap_parse_fn(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                          void *obj);
/* Asked about a key the table does not hold, before it is called unknown:
 * 1 to pass over it (the caller reads it some other way), 0 for the
 * walker's "unknown key" message, -1 having set a sharper one. */
typedef int ymap_other_fn(struct ynode_ctx *c, yaml_node_t *k, void *obj);

/* One known key: nginx's ngx_command_t in small. offset is for parse
 * functions that store by type ("a string at this offset of obj"); 0 when
 * the function knows where its value goes. */
struct ymap_key {
	const char *name;
	ymap_parse_fn *parse;
	size_t offset;
};

/* A mapping's schema. */
struct ymap {
	const char *what;             /* "ssh" in "unknown key 'x' in ssh (...)";
	                                 NULL at a file's top level */
	const struct ymap_key *keys;  /* in the order messages list them */
	size_t nkeys;                 /* at most YMAP_MAX_KEYS */
	const char *const (*exclusive)[2]; /* pairs that say one thing two
	                                      ways; a pair naming a key not in
	                                      keys never fires */
	size_t nexclusive;
	ymap_other_fn *other;         /* NULL: every other key is unknown */
};

#define YMAP_MAX_KEYS 32

/* Walks the mapping map in file order: each key must be a key name (and
 * is looked up in m->keys; a key not there goes to m->other, else is
 * "unknown key 'x' in WHAT (expected one of: ...)"); a key given twice is
 * "duplicate key 'x' (first at line N)", refused before its value is read
 * a second time (so a parse function never overwrites, and leaks, what it
 * stored the first time); otherwise its parse function reads the value.
 * After the last key, a pair of m->exclusive both given is "give a or b,
 * not both", at whichever of the two comes second in the file. The first
 * error stops the walk: 0, or -1 with the error set. map must be a
 * mapping; callers say what they expected when it is not. */
int ymap_walk(struct ynode_ctx *c, yaml_node_t *map, const struct ymap *m, void *obj);

/* m's key names joined with ", ", for messages of the caller's own. */
const char *ymap_key_list(const struct ymap *m, char *out, size_t outlen);
/* "duplicate key 'name' (first at line N)" at k, first being the key's
 * earlier node, for a walk of its own (a step's kind key); -1. */
int ymap_fail_duplicate(struct ynode_ctx *c, yaml_node_t *k, const char *name, yaml_node_t *first);

#endif
