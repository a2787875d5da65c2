/* inventory: a host as the run targets it, and the contract every
 * inventory source (-i FILE) keeps.
 *
 * The sources: inventory_text.c ('[user@]host[:port] key=value' lines)
 * and inventory_yaml.c (Ansible's YAML shape). targets.c picks one per
 * file, and adds -H patterns (hostrange.h) and the -l filter. What the
 * sources share is here too: how host vars are named and checked.
 *
 * The contract of a source, text and YAML alike:
 *   _open(path, fp, &src, err)  takes fp over in every case (closed at
 *       once, or when the source is closed) and reads what it must to
 *       fail early: a text source nothing, a YAML source the whole file.
 *       0, or -1 with err.
 *   _next(src, h, err)  1: *h is the next host (the caller owns it,
 *       host_free); 0: no more hosts; -1 and err: a read error, or a bad
 *       line as "path:line:column: what (expected ...)", after which a
 *       text source goes on with the line after the bad one. (A YAML
 *       source has found its faults at _open.)
 *   _close(src)  NULL is fine.
 * Hosts are produced one at a time: a million-line text inventory keeps
 * the supervisor's memory flat. */
#ifndef FLEETRUN_INVENTORY_H
#define FLEETRUN_INVENTORY_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

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

/* A plain text inventory, read a line at a time. */
struct inventory_text;
int inventory_text_open(const char *path, FILE *fp, struct inventory_text **out, struct err *err);
int inventory_text_next(struct inventory_text *t, struct host *h, struct err *err);
void inventory_text_close(struct inventory_text *t);

/* An Ansible YAML inventory, read whole by _open (a host may be listed
 * under several groups anywhere in the file); _next never fails. */
struct inventory_yaml;
int inventory_yaml_open(const char *path, FILE *fp, struct inventory_yaml **out, struct err *err);
int inventory_yaml_next(struct inventory_yaml *y, struct host *h, struct err *err);
void inventory_yaml_close(struct inventory_yaml *y);

/* For the sources. The name a var is stored under: Ansible's connection
 * vars under the names job templates use (ansible_host -> address,
 * ansible_port -> port, ansible_user -> user); any other key as it is. */
const char *inventory_var_name(const char *key);
/* A var's value, under its stored name: a port must be 1..65535, an
 * address a host name. 0, or -1 with why (the caller adds where). */
int inventory_var_check(const char *name, const char *value, struct err *why);
/* Set every var of src in dst, replacing those of the same key. */
void inventory_vars_copy(struct kvlist *dst, const struct kvlist *src);
/* err = "path:line:column: message", line and column 1-based; the message
 * may quote any text of the inventory, so its control bytes become '?'. */
void inventory_verr(struct err *err, const char *path, size_t line, size_t column, const char *fmt, va_list ap)
	__attribute__((format(printf, 5, 0)));

#endif
