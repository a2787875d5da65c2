/* inventory_yaml: the Ansible YAML inventory,
 *   all: {hosts: {NAME: {VAR: VALUE} | null}, children: {GROUP: ...},
 *         vars: {VAR: VALUE}}
 * read whole at open: a host may be listed under several groups anywhere
 * in the file, so the file has to be read before its first host can be
 * given out (they are Ansible inventories, not million-line files; the
 * limits below keep a hostile one bounded). Within one file a host listed
 * under several groups is produced once, in all its groups, with the vars
 * merged as Ansible merges them. Names may hold Ansible's ranges
 * (www[01:50:2]), expanded by hostrange.c.
 *
 * It reads the tree with common/yamlnode, as job.c does, so that the same
 * mistake gets the same words in a job file and in an inventory: a
 * group's keys (hosts, children, vars) go through ymap_walk (unknown or
 * repeated keys refused); the names the file chooses (groups, hosts,
 * vars) through ynode_want_name. Its group and host names are looked up
 * through common/hashidx, sized for 100,000 groups or hosts.
 *
 * Every message goes through ynode_fail, which does not scrub: text quoted
 * from the file is cut by ynode_excerpt (a group name, as a job's key) or
 * hostname_quote (a host name, as in every inventory source), and the
 * range parser's own message, which may quote the name, is scrubbed. */
#include "inventory.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "hash.h"
#include "hashidx.h"
#include "hostname.h"
#include "hostrange.h"
#include "yamldepth.h"
#include "yamlnode.h"

/* YAML group nesting deeper than this is a cycle through aliases or a
 * hostile file, not an inventory. */
#define INVENTORY_YAML_MAX_DEPTH 1000
/* A YAML inventory is held whole (above), and one line such as
 * 'h[1:100000000]:' would expand into gigabytes (30M names took 4 GB and
 * a minute). -H and text inventories are lazy and take any number. */
#define INVENTORY_YAML_MAX_HOSTS 1000000
/* Listing a host costs time whether it is new or not, and aliases let one
 * line list a whole range under another group: 40 aliases of a
 * 'h[1:900000]' group took 25 s. A few groups per host are normal; past
 * this many listings in all, the file is refused before expanding them. */
#define INVENTORY_YAML_MAX_LISTINGS (4 * INVENTORY_YAML_MAX_HOSTS)

struct inventory_yaml_group {
	char *name;          /* malloced, owned */
	struct kvlist vars;
	size_t *parents;     /* malloced indices into groups, owned */
	size_t nparents;
	size_t *nodes;       /* malloced ids of the YAML nodes loaded into it,
	                        owned: an alias may repeat a node, and walking it
	                        again would add nothing but time (exponential,
	                        for a hostile file) */
	size_t nnodes;
	yaml_mark_t mark;    /* where it first appears, for errors */
	int depth;           /* all: 0, its children: 1, theirs: 2, ... */
	int state;           /* group_rank: 0 new, 1 on the path, 2 done */
	unsigned stamp;      /* _next: collected for the current host */
};

struct inventory_yaml_host {
	char *name;          /* malloced, owned */
	struct kvlist vars;  /* its own vars, from every listing of it */
	size_t *groups;      /* malloced indices of the groups listing it, owned */
	size_t ngroups;
};

struct inventory_yaml {
	struct inventory_yaml_group *groups; /* malloced, owned */
	size_t ngroups;
	struct inventory_yaml_host *hosts;   /* malloced, owned, in order of first listing */
	size_t nhosts, hosts_cap;
	/* Name -> index into groups, hosts. A 100,000-host Ansible inventory
	 * is not rare, and a linear search per host would be quadratic. */
	struct hashidx gmap, hmap;
	size_t next;           /* the next host to give out */
	unsigned stamp;
	uint64_t listings;     /* hosts listed so far, counted per group */
};

void inventory_yaml_close(struct inventory_yaml *y)
{
	if (!y)
		return;
	for (size_t i = 0; i < y->ngroups; i++) {
		free(y->groups[i].name);
		kvlist_free(&y->groups[i].vars);
		free(y->groups[i].parents);
		free(y->groups[i].nodes);
	}
	for (size_t i = 0; i < y->nhosts; i++) {
		free(y->hosts[i].name);
		kvlist_free(&y->hosts[i].vars);
		free(y->hosts[i].groups);
	}
	free(y->groups);
	free(y->hosts);
	hashidx_free(&y->gmap);
	hashidx_free(&y->hmap);
	free(y);
}

/* 1 when v was added, 0 when it was there already. */
static int inventory_yaml_idx_add(size_t **arr, size_t *n, size_t v)
{
	for (size_t i = 0; i < *n; i++)
		if ((*arr)[i] == v)
			return 0;
	*arr = xreallocarray(*arr, *n + 1, sizeof(**arr));
	(*arr)[(*n)++] = v;
	return 1;
}

/* One load. ymap_walk's callbacks get &y; inventory_yaml_loader() finds
 * the rest. */
struct inventory_yaml_loader {
	struct ynode_ctx y;      /* path, document, error */
	struct inventory_yaml *inv;
};

static struct inventory_yaml_loader *inventory_yaml_loader(struct ynode_ctx *c)
{
	return (struct inventory_yaml_loader *)((char *)c - offsetof(struct inventory_yaml_loader, y));
}

/* "group 'NAME'" for messages, the name cut and its control bytes shown
 * as '?' (ynode_excerpt). Returns out. */
static const char *inventory_yaml_group_what(const char *name, char *out, size_t outlen)
{
	char ex[80];

	snprintf(out, outlen, "group '%s'", ynode_excerpt(name, strlen(name), ex, sizeof(ex)));
	return out;
}

/* Vars of a group or a host: a mapping of scalars, or null. Values that
 * are lists or mappings are skipped: host vars are strings for templates,
 * and an Ansible inventory may well hold such vars for its playbooks.
 * owner names whose vars they are ("group 'x'"), for messages. */
static int inventory_yaml_vars_load(struct ynode_ctx *c, yaml_node_t *n, struct kvlist *dst, const char *owner)
{
	struct err why;
	char desc[80];

	if (ynode_is_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE)
		return ynode_fail(c, n, "vars of %s: expected a mapping of name: value, got %s", owner,
				  ynode_desc(n, desc, sizeof(desc)));
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = ynode_at(c, pr->key), *v = ynode_at(c, pr->value);
		const char *key, *val;

		if (ynode_want_name(c, k, "a var name") < 0)
			return -1;
		if (v->type != YAML_SCALAR_NODE)
			continue;
		key = ynode_scalar(k);
		val = ynode_is_null(v) ? "" : ynode_scalar(v);
		if (inventory_var_check(inventory_var_name(key), val, &why) < 0)
			return ynode_fail(c, v, "%s", why.msg);
		kvlist_set(dst, inventory_var_name(key), val);
	}
	return 0;
}

static bool inventory_yaml_group_is(const void *name, size_t pos, void *ctx)
{
	return strcmp(((const struct inventory_yaml *)ctx)->groups[pos].name, name) == 0;
}

static bool inventory_yaml_host_is(const void *name, size_t pos, void *ctx)
{
	return strcmp(((const struct inventory_yaml *)ctx)->hosts[pos].name, name) == 0;
}

static size_t inventory_yaml_group_get(struct inventory_yaml_loader *L, const char *name, yaml_mark_t mark)
{
	struct inventory_yaml *y = L->inv;
	size_t pos = hashidx_insert(&y->gmap, hash_fnv1a_str(name), inventory_yaml_group_is, name, y, y->ngroups);
	struct inventory_yaml_group *g;

	if (pos < y->ngroups)
		return pos;
	y->groups = xreallocarray(y->groups, y->ngroups + 1, sizeof(*y->groups));
	g = &y->groups[y->ngroups];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->mark = mark;
	return y->ngroups++;
}

static void inventory_yaml_host_add(struct inventory_yaml_loader *L, const char *name, size_t group,
				    const struct kvlist *vars)
{
	struct inventory_yaml *y = L->inv;
	size_t pos = hashidx_insert(&y->hmap, hash_fnv1a_str(name), inventory_yaml_host_is, name, y, y->nhosts);
	struct inventory_yaml_host *h;

	if (pos < y->nhosts) {
		h = &y->hosts[pos];
	} else {
		/* Doubling: a range adds up to INVENTORY_YAML_MAX_HOSTS hosts,
		 * and a realloc per host copies them all each time where
		 * realloc cannot grow in place (ASan never does: 1M hosts took
		 * hours). */
		if (y->nhosts == y->hosts_cap) {
			y->hosts_cap = y->hosts_cap ? y->hosts_cap * 2 : 64;
			y->hosts = xreallocarray(y->hosts, y->hosts_cap, sizeof(*y->hosts));
		}
		h = &y->hosts[y->nhosts];
		memset(h, 0, sizeof(*h));
		h->name = xstrdup(name);
		y->nhosts++;
	}
	inventory_yaml_idx_add(&h->groups, &h->ngroups, group);
	inventory_vars_copy(&h->vars, vars);
}

/* '[::1]' is an address, 'www[01:50]' a range of names. */
static int inventory_yaml_name_is_range(const char *s)
{
	size_t n = strlen(s);

	if (!strchr(s, '['))
		return 0;
	return !(s[0] == '[' && s[n - 1] == ']' && hostname_is_ipv6(s + 1, n - 2));
}

/* Counts the host listings (a host under N groups, or a range under N
 * groups, counts N times): the work of loading grows with them, not with
 * the distinct hosts. 0, or -1 past INVENTORY_YAML_MAX_LISTINGS. */
static int inventory_yaml_listings_add(struct inventory_yaml_loader *L, yaml_node_t *k, const char *name,
				       const char *gname, uint64_t n)
{
	struct inventory_yaml *y = L->inv;
	char g[80];

	if (n > INVENTORY_YAML_MAX_LISTINGS || y->listings > INVENTORY_YAML_MAX_LISTINGS - n)
		return ynode_fail(&L->y, k, "host '%s' in group '%s': more than %d host listings in one YAML "
				  "inventory (a host or range under N groups counts N times; expected fewer groups or "
				  "smaller ranges)", name, hostname_quote(gname, g, sizeof(g)),
				  INVENTORY_YAML_MAX_LISTINGS);
	y->listings += n;
	return 0;
}

/* One 'NAME: {VAR: VALUE}' or 'NAME:' under the hosts of group; NAME may
 * be a range, expanded here. */
static int inventory_yaml_host_load(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v, size_t group)
{
	int r = -1;
	struct ynode_ctx *c = &L->y;
	struct kvlist vars = KVLIST_INIT;
	struct hostrange *hr = NULL;
	const char *gname = L->inv->groups[group].name, *name, *one;
	char owner[96], desc[80], t[80];
	struct err why;
	size_t col = 0;
	uint64_t total;
	yaml_mark_t m;

	if (ynode_want_name(c, k, "a host name") < 0)
		goto out;
	name = ynode_scalar(k);
	m = k->start_mark;
	/* The column is exact for a plain key, one off for a quoted
	 * one (and approximate past an escape in a quoted one). */
	m.column += k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
	hostname_quote(name, t, sizeof(t));
	if (hostname_check(name, k->data.scalar.length, inventory_yaml_name_is_range(name) ? HOSTNAME_RANGES : 0, &col,
			   &why) < 0) {
		m.column += col;
		ynode_fail_mark(c, m, "host '%s': %s", t, why.msg);
		goto out;
	}
	if (!ynode_is_null(v) && v->type != YAML_MAPPING_NODE) {
		ynode_fail(c, v, "host '%s': expected a mapping of vars or nothing, got %s", t,
			   ynode_desc(v, desc, sizeof(desc)));
		goto out;
	}
	snprintf(owner, sizeof(owner), "host '%s'", t);
	if (inventory_yaml_vars_load(c, v, &vars, owner) < 0)
		goto out;
	if (!inventory_yaml_name_is_range(name)) {
		if (inventory_yaml_listings_add(L, k, t, gname, 1) < 0)
			goto out;
		inventory_yaml_host_add(L, name, group, &vars);
		r = 0;
		goto out;
	}
	if (hostrange_open_flags(name, HOSTRANGE_NAME, &hr, &col, &why) < 0) {
		m.column += col;
		hostname_scrub(why.msg); /* it may quote the range as written */
		ynode_fail_mark(c, m, "host '%s': %s", t, why.msg);
		goto out;
	}
	/* The counts come first, so that a huge range, or a range
	 * repeated under many groups (aliases make that one line
	 * each), fails before any of it expands. */
	total = hostrange_total(hr);
	if (total <= INVENTORY_YAML_MAX_HOSTS && inventory_yaml_listings_add(L, k, t, gname, total) < 0)
		goto out;
	/* Each turn adds a name; the range and the hosts so far are
	 * both bounded. */
	while (total <= INVENTORY_YAML_MAX_HOSTS && L->inv->nhosts <= INVENTORY_YAML_MAX_HOSTS &&
	       hostrange_next(hr, &one) == 1)
		inventory_yaml_host_add(L, one, group, &vars);
	if (total > INVENTORY_YAML_MAX_HOSTS || L->inv->nhosts > INVENTORY_YAML_MAX_HOSTS) {
		ynode_fail(c, k, "host '%s': more than %d hosts in one YAML inventory (expected a smaller range; -H "
			   "and text inventories take any number)", t, INVENTORY_YAML_MAX_HOSTS);
		goto out;
	}
	r = 0;
out:
	hostrange_close(hr);
	kvlist_free(&vars);
	return r;
}

/* ---- a group: 'NAME: {hosts:, children:, vars:}' or 'NAME:' alone ---- */

/* The object ymap_walk hands a group's keys. */
struct inventory_yaml_walk {
	size_t group;     /* index into inv->groups (which may move as
	                     children are added: never a pointer) */
	const char *what; /* "group 'NAME'", for messages */
	int level;        /* all: 0, its children: 1, ... */
};

static ymap_parse_fn inventory_yaml_group_hosts, inventory_yaml_group_children, inventory_yaml_group_vars;

/* In the order messages list them, as Ansible's documentation does. */
static const struct ymap_key inventory_yaml_group_keys[] = {
	{"hosts", inventory_yaml_group_hosts, 0},
	{"children", inventory_yaml_group_children, 0},
	{"vars", inventory_yaml_group_vars, 0},
};

static int inventory_yaml_group_load(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v, size_t parent,
				     int level);

/* One 'NAME: VALUE' of a group's hosts or children. */
typedef int inventory_yaml_pair_fn(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v,
				   const struct inventory_yaml_walk *w);

/* A group's hosts or children: a mapping of names the file chooses, or
 * nothing; else "WHICH of group 'x': expected a mapping of NAMES, got
 * ...". fn reads each pair, in file order; the first error stops. */
static int inventory_yaml_names_load(struct ynode_ctx *c, yaml_node_t *v, const char *which, const char *names,
				     const struct inventory_yaml_walk *w, inventory_yaml_pair_fn *fn)
{
	char desc[80];

	if (ynode_is_null(v))
		return 0;
	if (v->type != YAML_MAPPING_NODE)
		return ynode_fail(c, v, "%s of %s: expected a mapping of %s, got %s", which, w->what, names,
				  ynode_desc(v, desc, sizeof(desc)));
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++)
		if (fn(inventory_yaml_loader(c), ynode_at(c, pr->key), ynode_at(c, pr->value), w) < 0)
			return -1;
	return 0;
}

static int inventory_yaml_host_pair(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v,
				    const struct inventory_yaml_walk *w)
{
	return inventory_yaml_host_load(L, k, v, w->group);
}

static int inventory_yaml_child_pair(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v,
				     const struct inventory_yaml_walk *w)
{
	return inventory_yaml_group_load(L, k, v, w->group, w->level + 1);
}

static int inventory_yaml_group_hosts(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k,
				      yaml_node_t *v, void *obj)
{
	return inventory_yaml_names_load(c, v, "hosts", "host names", obj, inventory_yaml_host_pair);
}

static int inventory_yaml_group_children(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k,
					 yaml_node_t *v, void *obj)
{
	return inventory_yaml_names_load(c, v, "children", "group names", obj, inventory_yaml_child_pair);
}

static int inventory_yaml_group_vars(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v,
				     void *obj)
{
	const struct inventory_yaml_walk *w = obj;

	return inventory_yaml_vars_load(c, v, &inventory_yaml_loader(c)->inv->groups[w->group].vars, w->what);
}

/* One group under parent (SIZE_MAX at the top level). */
static int inventory_yaml_group_load(struct inventory_yaml_loader *L, yaml_node_t *k, yaml_node_t *v, size_t parent,
				     int level)
{
	struct ynode_ctx *c = &L->y;
	struct inventory_yaml_group *g;
	struct inventory_yaml_walk w;
	struct ymap map = {NULL, inventory_yaml_group_keys, ARRAY_LEN(inventory_yaml_group_keys), NULL, 0, NULL};
	char what[96], desc[80];
	const char *name;

	if (ynode_want_name(c, k, "a group name") < 0)
		return -1;
	name = ynode_scalar(k);
	if (level > INVENTORY_YAML_MAX_DEPTH)
		return ynode_fail(c, k, "groups nested deeper than %d", INVENTORY_YAML_MAX_DEPTH);
	w.group = inventory_yaml_group_get(L, name, k->start_mark);
	g = &L->inv->groups[w.group];
	if (parent != SIZE_MAX)
		inventory_yaml_idx_add(&g->parents, &g->nparents, parent);
	if (ynode_is_null(v))
		return 0;
	if (!inventory_yaml_idx_add(&g->nodes, &g->nnodes, (size_t)(v - c->doc->nodes.start)))
		return 0;
	w.what = inventory_yaml_group_what(name, what, sizeof(what));
	w.level = level;
	if (v->type != YAML_MAPPING_NODE)
		return ynode_fail(c, v, "%s: expected a mapping with hosts, children or vars, got %s", what,
				  ynode_desc(v, desc, sizeof(desc)));
	map.what = what;
	return ymap_walk(c, v, &map, &w);
}

/* Depth decides var precedence: a group's vars override its parents'.
 * Groups other than 'all' at the top level are children of 'all', as in
 * Ansible. A cycle (a child of its own child) is an error. */
static int inventory_yaml_group_rank(struct inventory_yaml_loader *L, size_t gi, int level)
{
	struct inventory_yaml_group *g = &L->inv->groups[gi];
	int depth = strcmp(g->name, "all") == 0 ? 0 : 1;
	char what[96];

	if (g->state == 2)
		return 0;
	if (g->state == 1)
		return ynode_fail_mark(&L->y, g->mark, "%s is its own ancestor (expected no cycle through children)",
				       inventory_yaml_group_what(g->name, what, sizeof(what)));
	if (level > INVENTORY_YAML_MAX_DEPTH)
		return ynode_fail_mark(&L->y, g->mark, "groups nested deeper than %d", INVENTORY_YAML_MAX_DEPTH);
	g->state = 1;
	for (size_t i = 0; i < g->nparents; i++) {
		size_t p = g->parents[i];
		if (inventory_yaml_group_rank(L, p, level + 1) < 0)
			return -1;
		if (L->inv->groups[p].depth + 1 > depth)
			depth = L->inv->groups[p].depth + 1;
	}
	g->depth = depth;
	g->state = 2;
	return 0;
}

/* The document's root: a mapping of groups, or nothing. 0 or -1. */
static int inventory_yaml_root_load(struct inventory_yaml_loader *L, yaml_node_t *root)
{
	struct ynode_ctx *c = &L->y;
	char desc[80];

	if (!root || ynode_is_null(root))
		return 0;
	if (root->type != YAML_MAPPING_NODE)
		return ynode_fail(c, root, "expected a mapping of groups, such as 'all:', got %s",
				  ynode_desc(root, desc, sizeof(desc)));
	for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++)
		if (inventory_yaml_group_load(L, ynode_at(c, pr->key), ynode_at(c, pr->value), SIZE_MAX, 0) < 0)
			return -1;
	return 0;
}

/* The whole file: the depth check and the load both read it. 0 or -1. */
static int inventory_yaml_slurp(const char *path, FILE *fp, struct buf *b, struct err *err)
{
	char chunk[65536];
	size_t n;

	while ((n = fread(chunk, 1, sizeof(chunk), fp)) > 0)
		buf_append(b, chunk, n);
	if (ferror(fp)) {
		err_set(err, "%s: read error: %s", path, strerror(errno ? errno : EIO));
		return -1;
	}
	return 0;
}

int inventory_yaml_open(const char *path, FILE *fp, struct inventory_yaml **out, struct err *err)
{
	int r = -1;
	yaml_parser_t parser;
	yaml_document_t doc;
	int have_doc = 0;
	struct inventory_yaml *y = xcalloc(1, sizeof(*y));
	struct inventory_yaml_loader L = {{path, &doc, err}, y};
	yaml_mark_t deep;
	struct buf text = BUF_INIT;
	const char *s;

	if (!yaml_parser_initialize(&parser))
		abort(); /* only fails on ENOMEM, like xmalloc */
	if (inventory_yaml_slurp(path, fp, &text, err) < 0)
		goto out;
	s = text.data ? text.data : "";
	/* An inventory is data, maybe generated by someone else's tool: a
	 * nesting bound before libyaml builds the tree (see yamldepth.h). */
	if (yamldepth_exceeded(s, text.len, YAMLDEPTH_MAX, &deep)) {
		ynode_fail_mark(&L.y, deep, "YAML nested more than %d levels deep (expected groups with hosts, "
				"children and vars)", YAMLDEPTH_MAX);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)s, text.len);
	/* on failure yaml_parser_load has already freed the document */
	if (!yaml_parser_load(&parser, &doc)) {
		ynode_fail_load(&L.y, &parser, s, text.len);
		goto out;
	}
	have_doc = 1;
	if (inventory_yaml_root_load(&L, yaml_document_get_root_node(&doc)) < 0)
		goto out;
	for (size_t i = 0; i < y->ngroups; i++)
		if (inventory_yaml_group_rank(&L, i, 0) < 0)
			goto out;
	*out = y;
	y = NULL;
	r = 0;
out:
	if (have_doc)
		yaml_document_delete(&doc);
	yaml_parser_delete(&parser);
	buf_free(&text);
	fclose(fp);
	inventory_yaml_close(y);
	return r;
}

static void inventory_yaml_ancestors(struct inventory_yaml *y, size_t gi, size_t **list, size_t *n)
{
	struct inventory_yaml_group *g = &y->groups[gi];

	if (g->stamp == y->stamp)
		return;
	g->stamp = y->stamp;
	*list = xreallocarray(*list, *n + 1, sizeof(**list));
	(*list)[(*n)++] = gi;
	for (size_t i = 0; i < g->nparents; i++)
		inventory_yaml_ancestors(y, g->parents[i], list, n);
}

/* Outermost first; groups of one depth by name, as Ansible merges them. */
static int inventory_yaml_group_order(const void *a, const void *b, void *arg)
{
	const struct inventory_yaml *y = arg;
	const struct inventory_yaml_group *ga = &y->groups[*(const size_t *)a];
	const struct inventory_yaml_group *gb = &y->groups[*(const size_t *)b];

	if (ga->depth != gb->depth)
		return ga->depth < gb->depth ? -1 : 1;
	return strcmp(ga->name, gb->name);
}

/* 1 and *h, or 0 when every host has been given out. The vars are merged
 * here rather than at load time, so that only one host's copy exists. */
int inventory_yaml_next(struct inventory_yaml *y, struct host *h, struct err *err)
{
	const struct inventory_yaml_host *yh;
	size_t *list = NULL, n = 0;

	if (y->next >= y->nhosts)
		return 0;
	yh = &y->hosts[y->next++];
	y->stamp++;
	for (size_t i = 0; i < yh->ngroups; i++)
		inventory_yaml_ancestors(y, yh->groups[i], &list, &n);
	if (n > 1)
		qsort_r(list, n, sizeof(*list), inventory_yaml_group_order, y);

	memset(h, 0, sizeof(*h));
	h->name = xstrdup(yh->name);
	h->groups = n ? xreallocarray(NULL, n, sizeof(*h->groups)) : NULL;
	for (size_t i = 0; i < n; i++) {
		const struct inventory_yaml_group *g = &y->groups[list[i]];
		inventory_vars_copy(&h->vars, &g->vars);
		/* Every host is in 'all'; targets_limit_match knows that already. */
		if (strcmp(g->name, "all") != 0)
			h->groups[h->ngroups++] = xstrdup(g->name);
	}
	inventory_vars_copy(&h->vars, &yh->vars);
	free(list);
	return 1;
}
