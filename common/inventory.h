/* inventory: the hosts a run targets, from inventory files (-i) and host
 * patterns (-H), filtered by -l.
 *
 * Targets are produced one host at a time, never as a whole list, so that
 * a million-host run (-H 'h[1-1000000]', or a million-line inventory) keeps
 * the supervisor's memory flat. */
#ifndef FLEETRUN_INVENTORY_H
#define FLEETRUN_INVENTORY_H

#include <stddef.h>
#include <stdint.h>

#include "kv.h"
#include "util.h"

struct host {
	char *name;          /* malloced, owned */
	struct kvlist vars;  /* host vars: user, port, address, and any other
	                        key=value; ansible_host/port/user are stored as
	                        address/port/user */
	char **groups;       /* malloced array of malloced names, owned;
	                        the YAML inventory groups the host belongs to */
	size_t ngroups;
};

void host_free(struct host *h);

struct targets_opts {
	const char *const *inventories; /* -i files, in order */
	size_t ninventories;
	const char *const *patterns;    /* -H patterns, in order */
	size_t npatterns;
	const char *limit;              /* -l, or NULL for every host */
};

struct targets;

/* Validates the patterns and the limit and opens the sources. 0 or -1. */
int targets_open(const struct targets_opts *o, struct targets **out, struct err *err);
/* 1: *h is the next host (caller owns it, host_free); 0: no more hosts;
 * -1: a bad line or pattern, err says "file:line:column: ..." */
int targets_next(struct targets *t, struct host *h, struct err *err);
void targets_close(struct targets *t);

/* One -H pattern: a comma list of names with bracket ranges, such as
 * 'core-rtr[01-40].dc[1-2],fw1'. The iterator expands it lazily. */
struct hostrange;
int hostrange_open(const char *pattern, struct hostrange **out, struct err *err);
/* 1 and a NUL-terminated name in *name (valid until the next call), or 0 at the end. */
int hostrange_next(struct hostrange *r, const char **name);
void hostrange_close(struct hostrange *r);

/* Host names: the one check every source applies (text and YAML
 * inventories, -H, the address var), because inventories are data and a
 * name reaches templates, commands' environments, file names and the
 * terminal. A name is letters, digits, '.', '-' and '_' (so an IPv4
 * address too), not starting with '-' or '.', at most HOST_NAME_MAX_LEN
 * characters; or an IPv6 literal, bare or in brackets, with an optional
 * %zone. With HOST_NAME_RANGES a [..] group is range syntax, left to the
 * range parser. 0, or -1 with *col (0-based) at the fault and why. */
#define HOST_NAME_MAX_LEN 255
#define HOST_NAME_RANGES 0x1
int host_name_check(const char *s, size_t n, unsigned flags, size_t *col, struct err *why);

/* -l: a comma or colon separated list of fnmatch(3) globs; a host matches
 * when its name or one of its groups matches one of them. A glob starting
 * with '!' excludes. NULL or "" matches everything. */
int limit_match(const char *limit, const struct host *h);

#endif
