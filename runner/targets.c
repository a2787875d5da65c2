/* targets: the sources of a run's hosts, one after the other (-i files in
 * order, then -H patterns in order), and the filters over them: -l globs
 * and the run's shard. Which hosts a source holds is the source's concern
 * (inventory_text.c, inventory_yaml.c, hostrange.c); here is only which
 * source is read next and which of its hosts the run keeps. */
#include "targets.h"

#include <errno.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "exclude.h"
#include "hostname.h"
#include "hostrange.h"

enum targets_kind { TARGETS_TEXT, TARGETS_YAML, TARGETS_PATTERN };

struct targets_source {
	enum targets_kind kind;
	char *name;                  /* the path or pattern, malloced, owned */
	struct inventory_text *text; /* TARGETS_TEXT, owned */
	struct inventory_yaml *yaml; /* TARGETS_YAML, owned */
	struct hostrange *range;     /* TARGETS_PATTERN, owned */
};

struct targets {
	struct targets_source *srcs; /* malloced, owned: -i files, then -H patterns */
	size_t nsrcs;
	size_t cur;                  /* the source being read */
	char *limit;                 /* NULL or malloced, owned */
	struct exclude *excluded;    /* -x, NULL when none; owned */
};

/* ------------------------------------------------------------------ */
/* -l                                                                  */

static int targets_glob_matches(const char *glob, const struct host *h)
{
	/* Ansible's habit: 'all' is every host, grouped or not. */
	if (strcmp(glob, "all") == 0)
		return 1;
	if (fnmatch(glob, h->name, 0) == 0)
		return 1;
	for (size_t i = 0; i < h->ngroups; i++)
		if (fnmatch(glob, h->groups[i], 0) == 0)
			return 1;
	return 0;
}

int targets_limit_match(const char *limit, const struct host *h)
{
	char *copy, *save = NULL;
	int any_include = 0, included = 0, excluded = 0;

	if (!limit || !*limit)
		return 1;
	/* fnmatch wants each glob NUL-terminated. */
	copy = xstrdup(limit);
	for (char *g = strtok_r(copy, ",:", &save); g; g = strtok_r(NULL, ",:", &save)) {
		if (g[0] == '!') {
			if (g[1] && targets_glob_matches(g + 1, h))
				excluded = 1;
		} else {
			any_include = 1;
			if (!included && targets_glob_matches(g, h))
				included = 1;
		}
	}
	free(copy);
	return (included || !any_include) && !excluded;
}

/* Empty globs ('a,,b', 'a:', '!') are typos that would silently match
 * nothing or everything. */
static int targets_limit_check(const char *limit, struct err *err)
{
	size_t i = 0, start;

	if (!limit || !*limit)
		return 0;
	for (;;) {
		start = i;
		if (limit[i] == '!')
			i++;
		while (limit[i] && limit[i] != ',' && limit[i] != ':')
			i++;
		if (i == start || (limit[start] == '!' && i == start + 1)) {
			err_set(err, "-l '%s': empty pattern at column %zu (expected a name or group glob)",
				limit, start + 1);
			return -1;
		}
		if (!limit[i])
			return 0;
		i++;
	}
}

/* ------------------------------------------------------------------ */
/* Sources                                                             */

static int targets_is_yaml_path(const char *path)
{
	size_t n = strlen(path);

	return (n > 4 && strcasecmp(path + n - 4, ".yml") == 0) ||
	       (n > 5 && strcasecmp(path + n - 5, ".yaml") == 0);
}

/* Opens every file now, so that a missing one stops the run before any
 * host is touched; a YAML inventory is also read now, for the same
 * reason (text inventories are read as the run goes). */
static int targets_source_open_file(struct targets_source *src, const char *path, struct err *err)
{
	int r = -1;
	FILE *fp = fopen(path, "re");
	struct stat st;

	src->name = xstrdup(path);
	if (!fp) {
		err_set(err, "%s: cannot open: %s", path, strerror(errno));
		goto out;
	}
	if (fstat(fileno(fp), &st) == 0 && S_ISDIR(st.st_mode)) {
		err_set(err, "%s: cannot open: %s", path, strerror(EISDIR));
		goto out;
	}
	/* The source takes fp over, whether it opens or not. */
	if (targets_is_yaml_path(path)) {
		src->kind = TARGETS_YAML;
		r = inventory_yaml_open(path, fp, &src->yaml, err);
	} else {
		src->kind = TARGETS_TEXT;
		r = inventory_text_open(path, fp, &src->text, err);
	}
	fp = NULL;
out:
	if (fp)
		fclose(fp);
	return r;
}

void targets_close(struct targets *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nsrcs; i++) {
		struct targets_source *s = &t->srcs[i];
		free(s->name);
		inventory_text_close(s->text);
		inventory_yaml_close(s->yaml);
		hostrange_close(s->range);
	}
	free(t->srcs);
	free(t->limit);
	exclude_close(t->excluded);
	free(t);
}

int targets_open(const struct targets_opts *o, struct targets **out, struct err *err)
{
	int r = -1;
	struct targets *t = xcalloc(1, sizeof(*t));

	if (targets_limit_check(o->limit, err) < 0)
		goto out;
	t->limit = o->limit && *o->limit ? xstrdup(o->limit) : NULL;
	if (exclude_open(o->excludes, o->nexcludes, &t->excluded, err) < 0)
		goto out;
	t->srcs = xcalloc(o->ninventories + o->npatterns, sizeof(*t->srcs));
	/* Patterns first: they are cheap to check and their errors do not
	 * depend on any file. */
	for (size_t i = 0; i < o->npatterns; i++) {
		struct targets_source *s = &t->srcs[o->ninventories + i];
		struct err why;
		size_t col = 0;

		s->kind = TARGETS_PATTERN;
		s->name = xstrdup(o->patterns[i]);
		if (hostrange_open_flags(o->patterns[i], HOSTRANGE_LIST, &s->range, &col, &why) < 0) {
			char pt[200];

			err_set(err, "-H '%s': %s at column %zu", hostname_quote(o->patterns[i], pt, sizeof(pt)),
				why.msg, col + 1);
			t->nsrcs = o->ninventories + o->npatterns;
			goto out;
		}
	}
	t->nsrcs = o->ninventories + o->npatterns;
	for (size_t i = 0; i < o->ninventories; i++)
		if (targets_source_open_file(&t->srcs[i], o->inventories[i], err) < 0)
			goto out;
	*out = t;
	t = NULL;
	r = 0;
out:
	targets_close(t);
	return r;
}

static int targets_source_next(struct targets_source *s, struct host *h, struct err *err)
{
	const char *name;

	switch (s->kind) {
	case TARGETS_TEXT:
		return inventory_text_next(s->text, h, err);
	case TARGETS_YAML:
		return inventory_yaml_next(s->yaml, h, err);
	case TARGETS_PATTERN:
		if (hostrange_next(s->range, &name) != 1)
			return 0;
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		return 1;
	}
	return 0;
}

int targets_next(struct targets *t, struct host *h, struct err *err)
{
	/* Each turn takes one host from a source, or moves past an empty
	 * source. */
	while (t->cur < t->nsrcs) {
		struct host cand;
		int k = targets_source_next(&t->srcs[t->cur], &cand, err);

		if (k < 0)
			return -1;
		if (k == 0) {
			t->cur++;
			continue;
		}
		if (!exclude_has(t->excluded, cand.name) && targets_limit_match(t->limit, &cand)) {
			*h = cand;
			return 1;
		}
		host_free(&cand);
	}
	return 0;
}

int targets_next_in_shard(struct targets *t, const struct shard *s, struct host *h, uint64_t *others,
			  struct err *err)
{
	int got;

	/* ends with the targets: each turn consumes one */
	while ((got = targets_next(t, h, err)) > 0 && !shard_has(s, h->name)) {
		host_free(h);
		if (others)
			(*others)++;
	}
	return got;
}
