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
 * Its YAML helpers (errors at a node, node kinds, null) and its name map
 * are private for now: the map is the one table here, sized for 100,000
 * groups or hosts, and the YAML helpers move to a shared toolkit later. */
#include "inventory.h"

#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "buf.h"
#include "hash.h"
#include "hostname.h"
#include "hostrange.h"
#include "yamldepth.h"

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

/* Name -> index, open addressing. A 100,000-host Ansible inventory is not
 * rare, and a linear search per host would be quadratic. */
struct inventory_yaml_slot {
	const char *key;     /* borrowed from the group or host it names */
	size_t val;
};

struct inventory_yaml_map {
	struct inventory_yaml_slot *slots; /* NULL or malloced, owned */
	size_t cap, len;                   /* cap: 0 or a power of two */
};

static size_t *inventory_yaml_map_get(const struct inventory_yaml_map *m, const char *key)
{
	if (!m->cap)
		return NULL;
	for (size_t i = hash_slot(hash_fnv1a_str(key), m->cap - 1);; i = (i + 1) & (m->cap - 1)) {
		if (!m->slots[i].key)
			return NULL;
		if (strcmp(m->slots[i].key, key) == 0)
			return &m->slots[i].val;
	}
}

static void inventory_yaml_map_put(struct inventory_yaml_map *m, const char *key, size_t val)
{
	if ((m->len + 1) * 2 > m->cap) {
		struct inventory_yaml_map old = *m;

		m->cap = m->cap ? m->cap * 2 : 64;
		m->slots = xcalloc(m->cap, sizeof(*m->slots));
		m->len = 0;
		for (size_t i = 0; i < old.cap; i++)
			if (old.slots[i].key)
				inventory_yaml_map_put(m, old.slots[i].key, old.slots[i].val);
		free(old.slots);
	}
	size_t i = hash_slot(hash_fnv1a_str(key), m->cap - 1);
	while (m->slots[i].key)
		i = (i + 1) & (m->cap - 1);
	m->slots[i] = (struct inventory_yaml_slot){key, val};
	m->len++;
}

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
	struct inventory_yaml_map gmap, hmap;
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
	free(y->gmap.slots);
	free(y->hmap.slots);
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

struct inventory_yaml_loader {
	const char *path;
	yaml_document_t *doc;
	struct inventory_yaml *y;
	struct err *err;
};

static void inventory_yaml_err(struct inventory_yaml_loader *L, yaml_mark_t m, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void inventory_yaml_err(struct inventory_yaml_loader *L, yaml_mark_t m, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	inventory_verr(L->err, L->path, m.line + 1, m.column + 1, fmt, ap);
	va_end(ap);
}

static const char *inventory_yaml_node_kind(const yaml_node_t *n)
{
	switch (n->type) {
	case YAML_SCALAR_NODE:
		return "a scalar";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_MAPPING_NODE:
		return "a mapping";
	default:
		return "nothing";
	}
}

/* libyaml does not resolve tags: a plain '', '~' or 'null' is YAML's null. */
static int inventory_yaml_node_null(const yaml_node_t *n)
{
	const char *v;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	v = (const char *)n->data.scalar.value;
	return !*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
	       strcmp(v, "NULL") == 0;
}

static yaml_node_t *inventory_yaml_node(struct inventory_yaml_loader *L, int id)
{
	return yaml_document_get_node(L->doc, id);
}

/* A mapping key must be a non-empty scalar; its text, or NULL and err. */
static const char *inventory_yaml_key(struct inventory_yaml_loader *L, const yaml_node_t *k, const char *what)
{
	if (k->type != YAML_SCALAR_NODE || !k->data.scalar.length) {
		inventory_yaml_err(L, k->start_mark, "expected %s (got %s)", what,
				   k->type == YAML_SCALAR_NODE ? "an empty key" : inventory_yaml_node_kind(k));
		return NULL;
	}
	return (const char *)k->data.scalar.value;
}

/* Vars of a group or a host: a mapping of scalars, or null. Values that
 * are lists or mappings are skipped: host vars are strings for templates,
 * and an Ansible inventory may well hold such vars for its playbooks. */
static int inventory_yaml_vars_load(struct inventory_yaml_loader *L, const yaml_node_t *n, struct kvlist *dst,
				    const char *owner)
{
	struct err why;

	if (inventory_yaml_node_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		inventory_yaml_err(L, n->start_mark, "vars of %s: expected a mapping of name: value (got %s)",
				   owner, inventory_yaml_node_kind(n));
		return -1;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = inventory_yaml_node(L, pr->key), *v = inventory_yaml_node(L, pr->value);
		const char *key = inventory_yaml_key(L, k, "a var name");
		const char *val;

		if (!key)
			return -1;
		if (v->type != YAML_SCALAR_NODE)
			continue;
		val = inventory_yaml_node_null(v) ? "" : (const char *)v->data.scalar.value;
		if (inventory_var_check(inventory_var_name(key), val, &why) < 0) {
			inventory_yaml_err(L, v->start_mark, "%s", why.msg);
			return -1;
		}
		kvlist_set(dst, inventory_var_name(key), val);
	}
	return 0;
}

static size_t inventory_yaml_group_get(struct inventory_yaml_loader *L, const char *name, yaml_mark_t mark)
{
	struct inventory_yaml *y = L->y;
	size_t *found = inventory_yaml_map_get(&y->gmap, name);
	struct inventory_yaml_group *g;

	if (found)
		return *found;
	y->groups = xreallocarray(y->groups, y->ngroups + 1, sizeof(*y->groups));
	g = &y->groups[y->ngroups];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->mark = mark;
	inventory_yaml_map_put(&y->gmap, g->name, y->ngroups);
	return y->ngroups++;
}

static void inventory_yaml_host_add(struct inventory_yaml_loader *L, const char *name, size_t group,
				    const struct kvlist *vars)
{
	struct inventory_yaml *y = L->y;
	size_t *found = inventory_yaml_map_get(&y->hmap, name);
	struct inventory_yaml_host *h;

	if (found) {
		h = &y->hosts[*found];
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
		inventory_yaml_map_put(&y->hmap, h->name, y->nhosts++);
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
static int inventory_yaml_listings_add(struct inventory_yaml_loader *L, const yaml_node_t *k, const char *name,
				       const char *gname, uint64_t n)
{
	struct inventory_yaml *y = L->y;
	char g[80];

	if (n > INVENTORY_YAML_MAX_LISTINGS || y->listings > INVENTORY_YAML_MAX_LISTINGS - n) {
		inventory_yaml_err(L, k->start_mark, "host '%s' in group '%s': more than %d host listings in one YAML "
				   "inventory (a host or range under N groups counts N times; expected fewer groups or "
				   "smaller ranges)", name, hostname_quote(gname, g, sizeof(g)),
				   INVENTORY_YAML_MAX_LISTINGS);
		return -1;
	}
	y->listings += n;
	return 0;
}

static int inventory_yaml_hosts_load(struct inventory_yaml_loader *L, const yaml_node_t *n, size_t group)
{
	int r = -1;
	struct kvlist vars = KVLIST_INIT;
	struct hostrange *hr = NULL;
	const char *gname = L->y->groups[group].name;

	if (inventory_yaml_node_null(n))
		return 0;
	if (n->type != YAML_MAPPING_NODE) {
		inventory_yaml_err(L, n->start_mark, "hosts of group '%s': expected a mapping of host names (got %s)",
				   gname, inventory_yaml_node_kind(n));
		goto out;
	}
	for (yaml_node_pair_t *pr = n->data.mapping.pairs.start; pr < n->data.mapping.pairs.top; pr++) {
		yaml_node_t *k = inventory_yaml_node(L, pr->key), *v = inventory_yaml_node(L, pr->value);
		const char *name = inventory_yaml_key(L, k, "a host name"), *one;
		char owner[300];
		struct err why;
		size_t col = 0;
		uint64_t total;
		yaml_mark_t m;
		char t[80];

		if (!name)
			goto out;
		m = k->start_mark;
		/* The column is exact for a plain key, one off for a quoted
		 * one (and approximate past an escape in a quoted one). */
		m.column += k->data.scalar.style == YAML_PLAIN_SCALAR_STYLE ? 0 : 1;
		hostname_quote(name, t, sizeof(t));
		if (hostname_check(name, k->data.scalar.length,
				   inventory_yaml_name_is_range(name) ? HOSTNAME_RANGES : 0, &col, &why) < 0) {
			m.column += col;
			inventory_yaml_err(L, m, "host '%s': %s", t, why.msg);
			goto out;
		}
		snprintf(owner, sizeof(owner), "host '%s'", t);
		kvlist_free(&vars);
		if (!inventory_yaml_node_null(v) && v->type != YAML_MAPPING_NODE) {
			inventory_yaml_err(L, v->start_mark, "host '%s': expected a mapping of vars or nothing (got %s)",
					   t, inventory_yaml_node_kind(v));
			goto out;
		}
		if (inventory_yaml_vars_load(L, v, &vars, owner) < 0)
			goto out;
		if (!inventory_yaml_name_is_range(name)) {
			if (inventory_yaml_listings_add(L, k, t, gname, 1) < 0)
				goto out;
			inventory_yaml_host_add(L, name, group, &vars);
			continue;
		}
		if (hostrange_open_flags(name, HOSTRANGE_NAME, &hr, &col, &why) < 0) {
			m.column += col;
			inventory_yaml_err(L, m, "host '%s': %s", t, why.msg);
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
		while (total <= INVENTORY_YAML_MAX_HOSTS && L->y->nhosts <= INVENTORY_YAML_MAX_HOSTS &&
		       hostrange_next(hr, &one) == 1)
			inventory_yaml_host_add(L, one, group, &vars);
		if (total > INVENTORY_YAML_MAX_HOSTS || L->y->nhosts > INVENTORY_YAML_MAX_HOSTS) {
			inventory_yaml_err(L, k->start_mark, "host '%s': more than %d hosts in one YAML inventory "
					   "(expected a smaller range; -H and text inventories take any number)", t,
					   INVENTORY_YAML_MAX_HOSTS);
			goto out;
		}
		hostrange_close(hr);
		hr = NULL;
	}
	r = 0;
out:
	hostrange_close(hr);
	kvlist_free(&vars);
	return r;
}

/* One group, 'NAME: {hosts:, children:, vars:}' or 'NAME:' alone, under
 * parent (SIZE_MAX at the top level). */
static int inventory_yaml_group_load(struct inventory_yaml_loader *L, const yaml_node_t *k, const yaml_node_t *v,
				     size_t parent, int level)
{
	const char *name = inventory_yaml_key(L, k, "a group name");
	size_t g;

	if (!name)
		return -1;
	if (level > INVENTORY_YAML_MAX_DEPTH) {
		inventory_yaml_err(L, k->start_mark, "groups nested deeper than %d", INVENTORY_YAML_MAX_DEPTH);
		return -1;
	}
	g = inventory_yaml_group_get(L, name, k->start_mark);
	if (parent != SIZE_MAX)
		inventory_yaml_idx_add(&L->y->groups[g].parents, &L->y->groups[g].nparents, parent);
	if (inventory_yaml_node_null(v))
		return 0;
	if (!inventory_yaml_idx_add(&L->y->groups[g].nodes, &L->y->groups[g].nnodes, (size_t)(v - L->doc->nodes.start)))
		return 0;
	if (v->type != YAML_MAPPING_NODE) {
		inventory_yaml_err(L, v->start_mark,
				   "group '%s': expected a mapping with hosts, children or vars (got %s)", name,
				   inventory_yaml_node_kind(v));
		return -1;
	}
	for (yaml_node_pair_t *pr = v->data.mapping.pairs.start; pr < v->data.mapping.pairs.top; pr++) {
		yaml_node_t *kk = inventory_yaml_node(L, pr->key), *vv = inventory_yaml_node(L, pr->value);
		const char *key = inventory_yaml_key(L, kk, "hosts, children or vars");
		char owner[300];

		if (!key)
			return -1;
		if (strcmp(key, "hosts") == 0) {
			if (inventory_yaml_hosts_load(L, vv, g) < 0)
				return -1;
		} else if (strcmp(key, "vars") == 0) {
			snprintf(owner, sizeof(owner), "group '%.200s'", name);
			if (inventory_yaml_vars_load(L, vv, &L->y->groups[g].vars, owner) < 0)
				return -1;
		} else if (strcmp(key, "children") == 0) {
			if (inventory_yaml_node_null(vv))
				continue;
			if (vv->type != YAML_MAPPING_NODE) {
				inventory_yaml_err(L, vv->start_mark,
						   "children of group '%s': expected a mapping of group names (got %s)",
						   name, inventory_yaml_node_kind(vv));
				return -1;
			}
			for (yaml_node_pair_t *c = vv->data.mapping.pairs.start; c < vv->data.mapping.pairs.top; c++)
				if (inventory_yaml_group_load(L, inventory_yaml_node(L, c->key),
							      inventory_yaml_node(L, c->value), g, level + 1) < 0)
					return -1;
		} else {
			inventory_yaml_err(L, kk->start_mark,
					   "unknown key '%s' in group '%s' (expected hosts, children or vars)", key, name);
			return -1;
		}
	}
	return 0;
}

/* Depth decides var precedence: a group's vars override its parents'.
 * Groups other than 'all' at the top level are children of 'all', as in
 * Ansible. A cycle (a child of its own child) is an error. */
static int inventory_yaml_group_rank(struct inventory_yaml_loader *L, size_t gi, int level)
{
	struct inventory_yaml_group *g = &L->y->groups[gi];
	int depth = strcmp(g->name, "all") == 0 ? 0 : 1;

	if (g->state == 2)
		return 0;
	if (g->state == 1) {
		inventory_yaml_err(L, g->mark, "group '%s' is its own ancestor (expected no cycle through children)",
				   g->name);
		return -1;
	}
	if (level > INVENTORY_YAML_MAX_DEPTH) {
		inventory_yaml_err(L, g->mark, "groups nested deeper than %d", INVENTORY_YAML_MAX_DEPTH);
		return -1;
	}
	g->state = 1;
	for (size_t i = 0; i < g->nparents; i++) {
		size_t p = g->parents[i];
		if (inventory_yaml_group_rank(L, p, level + 1) < 0)
			return -1;
		if (L->y->groups[p].depth + 1 > depth)
			depth = L->y->groups[p].depth + 1;
	}
	g->depth = depth;
	g->state = 2;
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
	struct inventory_yaml_loader L = {path, &doc, y, err};
	yaml_node_t *root;
	yaml_mark_t deep;
	struct buf text = BUF_INIT;

	if (!yaml_parser_initialize(&parser))
		abort(); /* only fails on ENOMEM, like xmalloc */
	if (inventory_yaml_slurp(path, fp, &text, err) < 0)
		goto out;
	/* An inventory is data, maybe generated by someone else's tool: a
	 * nesting bound before libyaml builds the tree (see yamldepth.h). */
	if (yamldepth_exceeded(text.data ? text.data : "", text.len, YAMLDEPTH_MAX, &deep)) {
		inventory_yaml_err(&L, deep, "YAML nested more than %d levels deep (expected groups with hosts, "
				   "children and vars)", YAMLDEPTH_MAX);
		goto out;
	}
	yaml_parser_set_input_string(&parser, (const unsigned char *)(text.data ? text.data : ""), text.len);
	if (!yaml_parser_load(&parser, &doc)) {
		yaml_mark_t m = parser.error == YAML_READER_ERROR ? parser.mark : parser.problem_mark;
		err_set(err, "%s:%zu:%zu: YAML syntax error: %s%s%s%s", path, m.line + 1, m.column + 1,
			parser.problem ? parser.problem : "unknown error",
			parser.context ? " (" : "", parser.context ? parser.context : "",
			parser.context ? ")" : "");
		goto out;
	}
	have_doc = 1;
	root = yaml_document_get_root_node(&doc);
	if (root && !inventory_yaml_node_null(root)) {
		if (root->type != YAML_MAPPING_NODE) {
			inventory_yaml_err(&L, root->start_mark, "expected a mapping of groups, such as 'all:' (got %s)",
					   inventory_yaml_node_kind(root));
			goto out;
		}
		for (yaml_node_pair_t *pr = root->data.mapping.pairs.start; pr < root->data.mapping.pairs.top; pr++)
			if (inventory_yaml_group_load(&L, inventory_yaml_node(&L, pr->key),
						      inventory_yaml_node(&L, pr->value), SIZE_MAX, 0) < 0)
				goto out;
	}
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
