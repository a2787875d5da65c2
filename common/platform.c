/* platform: parse, compile and find platform files (see platform.h).
 *
 * The file's shape is a table walked with yamlnode.c's ymap_walk, as a
 * job's sections are: each key names the function that reads its kind of
 * value (a command, a pattern, a list of either, a mapping of them). */
#define PCRE2_CODE_UNIT_WIDTH 8

#include "platform.h"

#include <errno.h>
#include <stdbool.h>
#include <limits.h>
#include <pcre2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <yaml.h>

#include "buf.h"
#include "job.h"
#include "yamldepth.h"
#include "yamlnode.h"

/* A platform file is a page of patterns. */
#define PLATFORM_MAX_FILE_BYTES (256 * 1024)

static const char *const platform_mode_names[PLATFORM_NMODES] = {
	[PLATFORM_MODE_USER] = "user",
	[PLATFORM_MODE_PRIVILEGED] = "privileged",
	[PLATFORM_MODE_CONFIG] = "config",
};

const char *platform_mode_name(enum platform_mode m)
{
	return (size_t)m < PLATFORM_NMODES ? platform_mode_names[m] : "unknown";
}

int platform_name_ok(const char *name)
{
	size_t n = strlen(name);

	if (n == 0 || n >= PLATFORM_NAME_MAX || name[0] == '.')
		return 0;
	return strspn(name, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-") == n;
}

/* ---- values ---- */

/* A command to send: one line of text (a newline inside would send two
 * commands where the file shows one). */
static int platform_get_command(struct ynode_ctx *c, const char *what, yaml_node_t *v, char **out)
{
	const char *s;

	if (ynode_want_scalar(c, what, v, "a command") < 0)
		return -1;
	s = ynode_scalar(v);
	if (strpbrk(s, "\r\n"))
		return ynode_fail(c, v, "'%s': expected one line, got a line break", what);
	*out = xstrdup(s);
	return 0;
}

/* A PCRE2 pattern, compiled with flags; a bad one names the position. */
static int platform_get_pattern(struct ynode_ctx *c, const char *what, yaml_node_t *v, uint32_t flags,
                                struct platform_re *out)
{
	PCRE2_UCHAR msg[256];
	PCRE2_SIZE off;
	int code;
	pcre2_code *re;

	if (ynode_want_scalar(c, what, v, "a regular expression (PCRE2)") < 0)
		return -1;
	if (v->data.scalar.length == 0)
		return ynode_fail(c, v, "'%s': expected a regular expression (PCRE2), got an empty one", what);
	re = pcre2_compile((PCRE2_SPTR)ynode_scalar(v), v->data.scalar.length, flags, &code, &off, NULL);
	if (!re) {
		if (pcre2_get_error_message(code, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "PCRE2 error %d", code);
		return ynode_fail(c, v, "'%s': bad regular expression: %s (at position %zu of the pattern)", what,
		                  (char *)msg, ynode_char_position(ynode_scalar(v), off));
	}
	/* the JIT is optional: an arch without it matches interpreted */
	pcre2_jit_compile(re, PCRE2_JIT_COMPLETE);
	out->text = xstrdup(ynode_scalar(v));
	out->re = re;
	return 0;
}

/* A list of up to PLATFORM_MAX_PATTERNS items (a single scalar is a
 * list of one), each read by one(c, what, item, index). */
static int platform_get_list(struct ynode_ctx *c, const char *what, yaml_node_t *v, size_t *n,
                             int (*one)(struct ynode_ctx *, const char *, yaml_node_t *, size_t, void *), void *obj)
{
	char desc[80];
	size_t count;

	if (v->type == YAML_SCALAR_NODE && !ynode_is_null(v)) {
		*n = 1;
		return one(c, what, v, 0, obj);
	}
	if (v->type != YAML_SEQUENCE_NODE)
		return ynode_fail(c, v, "'%s': expected a list, got %s", what, ynode_desc(v, desc, sizeof(desc)));
	count = (size_t)(v->data.sequence.items.top - v->data.sequence.items.start);
	if (count > PLATFORM_MAX_PATTERNS)
		return ynode_fail(c, v, "'%s': expected at most %d items, got %zu", what, PLATFORM_MAX_PATTERNS, count);
	for (size_t i = 0; i < count; i++) {
		/* counted first: what a failed item holds is freed with the rest */
		*n = i + 1;
		if (one(c, what, ynode_at(c, v->data.sequence.items.start[i]), i, obj) < 0)
			return -1;
	}
	return 0;
}

static int platform_one_command(struct ynode_ctx *c, const char *what, yaml_node_t *v, size_t i, void *obj)
{
	return platform_get_command(c, what, v, &((char **)obj)[i]);
}

static int platform_one_pattern(struct ynode_ctx *c, const char *what, yaml_node_t *v, size_t i, void *obj)
{
	return platform_get_pattern(c, what, v, 0, &((struct platform_re *)obj)[i]);
}

/* ---- keys ---- */

static ymap_parse_fn platform_key_description, platform_key_prompts, platform_key_prompt, platform_key_above_prompt,
	platform_key_on_login,
	platform_key_enable, platform_key_command, platform_key_pattern, platform_key_config, platform_key_pager,
	platform_key_continue, platform_key_errors, platform_key_questions, platform_key_question_answer,
	platform_key_commit_confirmed;

#define PLATFORM_AT(field) offsetof(struct platform, field)

static const struct ymap_key platform_top_keys[] = {
	{"description", platform_key_description, 0},
	{"prompts", platform_key_prompts, 0},
	{"above_prompt", platform_key_above_prompt, 0},
	{"on_login", platform_key_on_login, 0},
	{"enable", platform_key_enable, 0},
	{"disable", platform_key_command, PLATFORM_AT(disable)},
	{"config", platform_key_config, 0},
	{"exit", platform_key_command, PLATFORM_AT(exit)},
	{"pager", platform_key_pager, 0},
	{"errors", platform_key_errors, 0},
	{"questions", platform_key_questions, 0},
	{"save", platform_key_command, PLATFORM_AT(save)},
	{"commit", platform_key_command, PLATFORM_AT(commit)},
	{"commit_confirmed", platform_key_commit_confirmed, PLATFORM_AT(commit_confirmed)},
};
static const struct ymap platform_top_map = {NULL, platform_top_keys, ARRAY_LEN(platform_top_keys), NULL, 0, NULL};

static const struct ymap_key platform_prompt_keys[] = {
	{"user", platform_key_prompt, PLATFORM_MODE_USER},
	{"privileged", platform_key_prompt, PLATFORM_MODE_PRIVILEGED},
	{"config", platform_key_prompt, PLATFORM_MODE_CONFIG},
};
static const struct ymap platform_prompt_map = {"prompts", platform_prompt_keys, ARRAY_LEN(platform_prompt_keys),
                                                NULL, 0, NULL};

static const struct ymap_key platform_enable_keys[] = {
	{"command", platform_key_command, PLATFORM_AT(enable)},
	{"password_prompt", platform_key_pattern, PLATFORM_AT(enable_password)},
};
static const struct ymap platform_enable_map = {"enable", platform_enable_keys, ARRAY_LEN(platform_enable_keys),
                                                NULL, 0, NULL};

static const struct ymap_key platform_config_keys[] = {
	{"enter", platform_key_command, PLATFORM_AT(config_enter)},
	{"exit", platform_key_command, PLATFORM_AT(config_exit)},
	{"discard", platform_key_command, PLATFORM_AT(config_discard)},
};
static const struct ymap platform_config_map = {"config", platform_config_keys, ARRAY_LEN(platform_config_keys),
                                                NULL, 0, NULL};

static const struct ymap_key platform_pager_keys[] = {
	{"patterns", platform_key_pattern, 0},
	{"continue", platform_key_continue, 0},
};
static const struct ymap platform_pager_map = {"pager", platform_pager_keys, ARRAY_LEN(platform_pager_keys), NULL, 0,
                                               NULL};

static const struct ymap_key platform_question_keys[] = {
	{"pattern", platform_key_question_answer, 0},
	{"answer", platform_key_question_answer, 1},
};
static const struct ymap platform_question_map = {"questions", platform_question_keys,
                                                  ARRAY_LEN(platform_question_keys), NULL, 0, NULL};

static int platform_want_map(struct ynode_ctx *c, const char *what, yaml_node_t *v, const char *example)
{
	char desc[80];

	if (v->type != YAML_MAPPING_NODE)
		return ynode_fail(c, v, "'%s': expected a mapping such as '%s', got %s", what, example,
		                  ynode_desc(v, desc, sizeof(desc)));
	return 0;
}

static int platform_key_description(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                    void *obj)
{
	if (ynode_want_scalar(c, key->name, v, "a string") < 0)
		return -1;
	((struct platform *)obj)->description = xstrdup(ynode_scalar(v));
	return 0;
}

static int platform_key_prompts(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                void *obj)
{
	struct platform *p = obj;

	if (platform_want_map(c, key->name, v, "privileged: '[\\w.-]+#'") < 0 ||
	    ymap_walk(c, v, &platform_prompt_map, p) < 0)
		return -1;
	for (size_t m = 0; m < PLATFORM_NMODES; m++)
		if (p->prompt[m].re)
			return 0;
	return ynode_fail(c, v, "'prompts': expected at least one of user, privileged, config");
}

/* A prompt is the whole last line: anchored at both ends, so `[\w.-]+#`
 * can never match the tail of a banner line such as `### rtr1#`. */
static int platform_key_prompt(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                               void *obj)
{
	char what[48];

	snprintf(what, sizeof(what), "prompts: %s", key->name);
	return platform_get_pattern(c, what, v, PCRE2_ANCHORED | PCRE2_ENDANCHORED,
	                            &((struct platform *)obj)->prompt[key->offset]);
}

static int platform_one_above_prompt(struct ynode_ctx *c, const char *what, yaml_node_t *v, size_t i, void *obj)
{
	return platform_get_pattern(c, what, v, PCRE2_ANCHORED | PCRE2_ENDANCHORED, &((struct platform_re *)obj)[i]);
}

/* Whole lines, as prompts are: `\[edit.*\]` must not cut an output line
 * that merely ends so. */
static int platform_key_above_prompt(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                     void *obj)
{
	struct platform *p = obj;

	return platform_get_list(c, key->name, v, &p->nabove_prompt, platform_one_above_prompt, p->above_prompt);
}

static int platform_key_on_login(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                 void *obj)
{
	struct platform *p = obj;

	return platform_get_list(c, key->name, v, &p->non_login, platform_one_command, p->on_login);
}

static int platform_key_command(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                void *obj)
{
	return platform_get_command(c, key->name, v, (char **)((char *)obj + key->offset));
}

static int platform_key_pattern(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                void *obj)
{
	struct platform *p = obj;

	if (!strcmp(key->name, "patterns"))
		return platform_get_list(c, "pager: patterns", v, &p->npager, platform_one_pattern, p->pager);
	return platform_get_pattern(c, key->name, v, 0, (struct platform_re *)((char *)obj + key->offset));
}

/* A command with {minutes} or {seconds} in it, and no other brace: the
 * time a confirmed commit waits before it rolls back. */
static int platform_key_commit_confirmed(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k,
                                         yaml_node_t *v, void *obj)
{
	const char *s;
	int holes = 0;

	if (platform_key_command(c, key, k, v, obj) < 0)
		return -1;
	for (s = ynode_scalar(v); (s = strchr(s, '{')); s++) {
		if (strncmp(s, "{minutes}", 9) && strncmp(s, "{seconds}", 9))
			return ynode_fail(c, v, "'commit_confirmed': expected {minutes} or {seconds} after '{', "
			                        "such as 'commit confirmed {minutes}'");
		holes++;
	}
	if (!holes)
		return ynode_fail(c, v, "'commit_confirmed': expected {minutes} or {seconds} in the command, such "
		                        "as 'commit confirmed {minutes}'");
	return 0;
}

char *platform_commit_confirmed(const struct platform *p, long long minutes)
{
	struct buf b = BUF_INIT;
	const char *s = p->commit_confirmed;

	while (*s) {
		if (!strncmp(s, "{minutes}", 9) || !strncmp(s, "{seconds}", 9)) {
			buf_printf(&b, "%lld", s[1] == 'm' ? minutes : minutes * 60);
			s += 9;
		} else {
			buf_append(&b, s++, 1);
		}
	}
	return b.data ? b.data : xstrdup("");
}

static int platform_key_enable(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                               void *obj)
{
	struct platform *p = obj;

	if (platform_want_map(c, key->name, v, "command: enable") < 0 || ymap_walk(c, v, &platform_enable_map, p) < 0)
		return -1;
	if (!p->enable)
		return ynode_fail(c, v, "'enable': expected 'command' (the command that enters privileged mode)");
	return 0;
}

static int platform_key_config(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                               void *obj)
{
	struct platform *p = obj;

	if (platform_want_map(c, key->name, v, "enter: configure terminal") < 0 ||
	    ymap_walk(c, v, &platform_config_map, p) < 0)
		return -1;
	if (!p->config_enter || !p->config_exit)
		return ynode_fail(c, v, "'config': expected both 'enter' and 'exit'");
	return 0;
}

static int platform_key_pager(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                              void *obj)
{
	struct platform *p = obj;

	if (platform_want_map(c, key->name, v, "patterns: ['--More--']") < 0 ||
	    ymap_walk(c, v, &platform_pager_map, p) < 0)
		return -1;
	if (!p->npager || !p->pager_continue)
		return ynode_fail(c, v, "'pager': expected both 'patterns' and 'continue'");
	return 0;
}

/* The key sent at a pager, as written: one character is the norm (a
 * space), and it may not be empty or hold a line break. */
static int platform_key_continue(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                 void *obj)
{
	struct platform *p = obj;

	if (ynode_want_scalar(c, "pager: continue", v, "the key that continues a pager, such as ' '") < 0)
		return -1;
	if (v->data.scalar.length == 0 || v->data.scalar.length > 8)
		return ynode_fail(c, v, "'pager: continue': expected 1 to 8 characters, such as ' '");
	p->pager_continue = xstrdup(ynode_scalar(v));
	return 0;
}

static int platform_key_errors(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                               void *obj)
{
	struct platform *p = obj;

	return platform_get_list(c, key->name, v, &p->nerror, platform_one_pattern, p->error);
}

static int platform_key_question_answer(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k,
                                        yaml_node_t *v, void *obj)
{
	struct platform_question *q = obj;

	if (key->offset == 0)
		return platform_get_pattern(c, "questions: pattern", v, 0, &q->pattern);
	if (ynode_want_scalar(c, "questions: answer", v, "the answer, such as '' (a bare newline) or 'y'") < 0)
		return -1;
	if (strpbrk(ynode_scalar(v), "\r\n"))
		return ynode_fail(c, v, "'questions: answer': expected one line, got a line break");
	q->answer = xstrdup(ynode_scalar(v));
	return 0;
}

static int platform_one_question(struct ynode_ctx *c, const char *what, yaml_node_t *v, size_t i, void *obj)
{
	struct platform_question *q = &((struct platform_question *)obj)[i];

	if (platform_want_map(c, what, v, "{pattern: '\\[confirm\\]', answer: ''}") < 0 ||
	    ymap_walk(c, v, &platform_question_map, q) < 0)
		return -1;
	if (!q->pattern.re || !q->answer)
		return ynode_fail(c, v, "'questions': expected both 'pattern' and 'answer'");
	return 0;
}

static int platform_key_questions(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
                                  void *obj)
{
	struct platform *p = obj;

	if (v->type != YAML_SEQUENCE_NODE) {
		char desc[80];
		return ynode_fail(c, v, "'questions': expected a list of {pattern, answer}, got %s",
		                  ynode_desc(v, desc, sizeof(desc)));
	}
	return platform_get_list(c, key->name, v, &p->nquestion, platform_one_question, p->question);
}

/* ---- the file ---- */

static char *platform_name_of(const char *path)
{
	const char *slash = strrchr(path, '/'), *base = slash ? slash + 1 : path;
	size_t n = strlen(base);

	if (n > 5 && !strcmp(base + n - 5, ".yaml"))
		n -= 5;
	return xstrndup(base, n);
}

/* What the document says, beyond each key's own checks. */
static int platform_check(struct ynode_ctx *c, yaml_node_t *root, struct platform *p)
{
	if (!p->prompt[PLATFORM_MODE_USER].re && !p->prompt[PLATFORM_MODE_PRIVILEGED].re &&
	    !p->prompt[PLATFORM_MODE_CONFIG].re)
		return ynode_fail(c, root, "expected 'prompts' (the prompt pattern of each mode)");
	if (p->enable && (!p->prompt[PLATFORM_MODE_USER].re || !p->prompt[PLATFORM_MODE_PRIVILEGED].re))
		return ynode_fail(c, root, "'enable' needs both the user and the privileged prompt in 'prompts'");
	if (p->config_enter && !p->prompt[PLATFORM_MODE_CONFIG].re)
		return ynode_fail(c, root, "'config' needs the config prompt in 'prompts'");
	if ((p->commit || p->commit_confirmed) && !p->config_enter)
		return ynode_fail(c, root, "'commit' and 'commit_confirmed' need 'config' (they are sent in config mode)");
	return 0;
}

int platform_parse(const char *path, const char *text, size_t len, struct platform **out, struct err *err)
{
	yaml_parser_t parser;
	yaml_document_t doc;
	struct ynode_ctx c = {.path = path, .doc = &doc, .err = err};
	struct platform *p = NULL;
	int have_parser = 0, have_doc = 0, r = -1;
	yaml_node_t *root;
	yaml_mark_t deep;

	if (!yaml_parser_initialize(&parser)) {
		err_set(err, "%s: cannot parse YAML: out of memory", path);
		goto out;
	}
	have_parser = 1;
	if (yamldepth_exceeded(text, len, YAMLDEPTH_MAX, &deep)) {
		ynode_fail_mark(&c, deep, "YAML nested more than %d levels deep (expected a platform file)",
		                YAMLDEPTH_MAX);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
	if (!yaml_parser_load(&parser, &doc)) {
		ynode_fail_load(&c, &parser, text, len);
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (!root || root->type != YAML_MAPPING_NODE) {
		err_set(err, "%s:1:1: expected a mapping with prompts (a platform file)", path);
		goto out;
	}
	p = xcalloc(1, sizeof(*p));
	p->name = platform_name_of(path);
	p->path = xstrdup(path);
	if (ymap_walk(&c, root, &platform_top_map, p) < 0 || platform_check(&c, root, p) < 0)
		goto out;
	*out = p;
	p = NULL;
	r = 0;
out:
	platform_free(p);
	if (have_doc)
		yaml_document_delete(&doc);
	if (have_parser)
		yaml_parser_delete(&parser);
	return r;
}

/* ---- where platform files are ---- */

/* The program's directory (the supervisor's and the worker's: one). */
static char *platform_self_dir(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
	char *slash;

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	slash = strrchr(self, '/');
	if (!slash)
		return NULL;
	*slash = '\0';
	return xstrdup(self);
}

int platform_find(const char *job_path, const char *name, char **path, struct err *err)
{
	const char *slash = strrchr(job_path, '/');
	const char *env = getenv("FLEETRUN_JOBS_DIR");
	char *self = platform_self_dir(), *dirs[5];
	struct buf tried = BUF_INIT;
	int r = -1;

	if (!platform_name_ok(name)) {
		err_set(err, "platform '%.64s': expected a platform name (letters, digits, _ . -), not a path", name);
		free(self);
		return -1;
	}
	dirs[0] = slash ? xasprintf("%.*s/platforms", (int)(slash - job_path), job_path) : xstrdup("platforms");
	/* then where jobs are looked for by name (runner/jobdir.c) */
	dirs[1] = env && *env ? xasprintf("%s/platforms", env) : NULL;
	dirs[2] = xstrdup("./jobs.d/platforms");
	dirs[3] = self ? xasprintf("%s/../jobs.d/platforms", self) : NULL;
	dirs[4] = self ? xasprintf("%s/../share/fleetrun/jobs.d/platforms", self) : NULL;
	for (size_t i = 0; i < ARRAY_LEN(dirs) && r < 0; i++) {
		char *p;
		if (!dirs[i])
			continue;
		p = xasprintf("%s/%s.yaml", dirs[i], name);
		if (access(p, R_OK) == 0) {
			*path = p;
			r = 0;
			break;
		}
		free(p);
		buf_printf(&tried, "%s%s", tried.len ? ", " : "", dirs[i]);
	}
	if (r < 0)
		err_set(err, "platform '%s': no %s.yaml in %s", name, name, tried.data ? tried.data : "");
	for (size_t i = 0; i < ARRAY_LEN(dirs); i++)
		free(dirs[i]);
	free(self);
	buf_free(&tried);
	return r;
}

/* A platform file says what is typed on devices (on-login commands,
 * answers): like a job file, no one else may be able to change it, nor
 * replace it in its directory. 0, or -1 with err. */
static int platform_trusted(const char *path, FILE *f, struct err *err)
{
	char *dir = xstrdup(path), *slash = strrchr(dir, '/');
	struct stat fs, ds;
	int r = -1;

	if (slash)
		*slash = '\0';
	if (fstat(fileno(f), &fs) < 0 || stat(slash ? dir : ".", &ds) < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (fs.st_mode & (S_IWOTH | S_IWGRP)) {
		err_set(err, "%s: not used: writable by %s (mode %04o); a platform file says what is typed on devices",
		        path, fs.st_mode & S_IWOTH ? "anyone" : "group", (unsigned)(fs.st_mode & 07777));
		goto out;
	}
	if (ds.st_mode & S_IWOTH && !(ds.st_mode & S_ISVTX)) {
		err_set(err, "%s: not used: its directory is writable by anyone (mode %04o)", path,
		        (unsigned)(ds.st_mode & 07777));
		goto out;
	}
	r = 0;
out:
	free(dir);
	return r;
}

int platform_load(const char *job_path, const char *name, struct platform **out, struct err *err)
{
	char *path = NULL;
	struct buf text = BUF_INIT;
	FILE *f = NULL;
	char chunk[8192];
	size_t n;
	int r = -1;

	if (platform_find(job_path, name, &path, err) < 0)
		goto out;
	if (!(f = fopen(path, "re"))) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (platform_trusted(path, f, err) < 0)
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (text.len + n > PLATFORM_MAX_FILE_BYTES) {
			err_set(err, "%s: larger than %d bytes (expected a platform file)", path, PLATFORM_MAX_FILE_BYTES);
			goto out;
		}
		buf_append(&text, chunk, n);
	}
	if (ferror(f)) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	r = platform_parse(path, text.data ? text.data : "", text.len, out, err);
out:
	if (f)
		fclose(f);
	buf_free(&text);
	free(path);
	return r;
}

static void platform_re_free(struct platform_re *r)
{
	free(r->text);
	pcre2_code_free(r->re);
}

void platform_free(struct platform *p)
{
	if (!p)
		return;
	free(p->name);
	free(p->path);
	free(p->description);
	for (size_t m = 0; m < PLATFORM_NMODES; m++)
		platform_re_free(&p->prompt[m]);
	for (size_t i = 0; i < p->nabove_prompt; i++)
		platform_re_free(&p->above_prompt[i]);
	for (size_t i = 0; i < p->non_login; i++)
		free(p->on_login[i]);
	free(p->enable);
	platform_re_free(&p->enable_password);
	free(p->disable);
	free(p->config_enter);
	free(p->config_exit);
	free(p->config_discard);
	free(p->exit);
	for (size_t i = 0; i < p->npager; i++)
		platform_re_free(&p->pager[i]);
	free(p->pager_continue);
	for (size_t i = 0; i < p->nerror; i++)
		platform_re_free(&p->error[i]);
	for (size_t i = 0; i < p->nquestion; i++) {
		platform_re_free(&p->question[i].pattern);
		free(p->question[i].answer);
	}
	free(p->save);
	free(p->commit);
	free(p->commit_confirmed);
	free(p);
}

/* What a config step asks of the platform, or NULL when it has it all. */
const char *platform_lacks(const struct platform *p, const struct step_config *cf)
{
	if (!p->config_enter)
		return "config (how to enter and leave config mode)";
	if (cf->save && !p->save)
		return "save";
	if (cf->commit && !p->commit)
		return "commit";
	if (cf->commit_confirmed_ms && !p->commit_confirmed)
		return "commit_confirmed";
	return NULL;
}

int platform_check_job(const struct job *job, struct err *err)
{
	struct platform *p = NULL;
	bool used = false;
	int r = -1;

	for (size_t i = 0; i < job->nsteps; i++)
		used |= job->steps[i].kind == STEP_CLI || job->steps[i].kind == STEP_CONFIG;
	if (!used || !job->cli.platform)
		return 0;
	if (platform_load(job->path, job->cli.platform, &p, err) < 0)
		return -1;
	for (size_t i = 0; i < job->nsteps; i++) {
		const struct step *st = &job->steps[i];
		const char *lack = st->config ? platform_lacks(p, st->config) : NULL;
		if (lack) {
			err_set(err, "%s:%d:%d: config step: platform %s (%s) has no %s", job->path, st->line, st->column,
			        p->name, p->path, lack);
			goto out;
		}
	}
	r = 0;
out:
	platform_free(p);
	return r;
}
