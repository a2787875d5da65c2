/* job_parse: what job.c, job_http.c and job_text.c share while they
 * parse one job file. Private to them; the rest of the program includes
 * job.h. */
#ifndef FLEETRUN_JOB_PARSE_H
#define FLEETRUN_JOB_PARSE_H

#include <jq.h>
#include <stddef.h>

#include "job.h"
#include "kv.h"
#include "yamlnode.h"

/* One parse. The walker's callbacks get &y; job_pctx() finds the rest. */
struct job_pctx {
	struct ynode_ctx y; /* path, document, error */
	unsigned flags;     /* JOB_PARSE_* */
	jq_state *jq;       /* NULL until the first jq expression; one per
	                       parse, torn down by job_parse_flags */
	char jq_msg[256];   /* the first thing jq said about the last compile */
	int jq_nmsg;
};

static inline struct job_pctx *job_pctx(struct ynode_ctx *y)
{
	return (struct job_pctx *)((char *)y - offsetof(struct job_pctx, y));
}

/* job.c */
/* s's ${...} references are well formed, by tmpl's rules; else "bad
 * template at position N of the WHAT: ..." at node at. */
int job_check_templates(struct ynode_ctx *c, yaml_node_t *at, const char *what, const char *s);
/* Whether key is one of the keys any step may have beside its kind key
 * (name, expect, timeout, ...). */
int job_step_option_known(const char *key);

/* job_http.c: the http step */
/* The http kind's value (`http: METHOD PATH` or a mapping) into
 * st->http, allocated here and freed by job_http_free. */
int job_http_kind(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
/* key, one of the http step's own keys given beside `http: METHOD PATH`. */
int job_http_option(struct ynode_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_http *h);
void job_http_free(struct step_http *h);
/* `headers:` of the http section or of a step: name -> template. */
int job_http_headers(struct ynode_ctx *c, yaml_node_t *value, struct kvlist *out);
/* s (n's text) as a path (is_path) or a URL with its scheme: "'what':
 * expected ..." otherwise, and never a space or control byte. */
int job_http_check_url(struct ynode_ctx *c, const char *what, yaml_node_t *n, const char *s, int is_path);

/* job_config.c: the config step */
/* The config kind's value (a list of lines or a block string) into
 * st->config, allocated here and freed by job_config_free. */
int job_config_kind(struct ynode_ctx *c, yaml_node_t *step, yaml_node_t *value, struct step *st);
/* key, one of save, commit, commit_confirmed beside `config:`. */
int job_config_option(struct ynode_ctx *c, const char *key, yaml_node_t *k, yaml_node_t *value, struct step_config *cf);
/* The step as a whole, once its keys are read. */
int job_config_check(struct ynode_ctx *c, yaml_node_t *step, const struct step_config *cf);
void job_config_free(struct step_config *cf);

/* A jq expression of a job (check, capture): refused with a module, and
 * compiled to check it unless JOB_PARSE_NO_JQ. for_var: NULL, or the
 * variable it captures (for the message). */
int job_http_check_jq(struct ynode_ctx *y, yaml_node_t *n, const char *what, const char *for_var, const char *expr);
/* Whether s is a variable name a capture may make (a C identifier). */
int job_http_is_var_name(const char *s);

/* job_text.c: what ssh and cli steps make of their stdout */
/* `parse: textfsm:FILE | auto` of a step (obj: struct step). */
int job_text_parse(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value, void *obj);
/* `capture: {var: PATTERN | {regex: P} | {jq: EXPR}}` of an ssh or cli step. */
int job_text_capture(struct ynode_ctx *c, yaml_node_t *value, struct step *st);
/* The top-level `templates: DIR` (obj: struct job). */
int job_text_templates(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *value,
                       void *obj);
void job_text_free(struct step_parse *p);

#endif
