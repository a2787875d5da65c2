/* inventory: the host record and the host-var rules every inventory
 * source applies (see inventory.h). The sources themselves are
 * inventory_text.c and inventory_yaml.c. */
#include "inventory.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "hostname.h"

void host_free(struct host *h)
{
	if (!h)
		return;
	free(h->name);
	kvlist_free(&h->vars);
	for (size_t i = 0; i < h->ngroups; i++)
		free(h->groups[i]);
	free(h->groups);
	memset(h, 0, sizeof(*h));
}

/* Ansible's connection vars are stored under the names job templates use
 * (${address}, ${port}, ${user}), so an Ansible inventory works as it is. */
const char *inventory_var_name(const char *key)
{
	if (strcmp(key, "ansible_host") == 0)
		return "address";
	if (strcmp(key, "ansible_port") == 0)
		return "port";
	if (strcmp(key, "ansible_user") == 0)
		return "user";
	return key;
}

/* A bad port is caught where it is written, with its line and column,
 * rather than when a worker fails to connect to it. 0 or -1. */
int inventory_var_check(const char *name, const char *value, struct err *why)
{
	long long port;
	size_t col;
	struct err bad;
	char t[80];

	if (strcmp(name, "port") == 0 && int_parse(value, 1, 65535, &port) < 0) {
		err_set(why, "bad port '%s' (expected a number in 1..65535)", hostname_quote(value, t, sizeof(t)));
		return -1;
	}
	/* address is where to connect: a host name, held to the same rules. */
	if (strcmp(name, "address") == 0 && hostname_check(value, strlen(value), 0, &col, &bad) < 0) {
		err_set(why, "address '%s': %s at character %zu", hostname_quote(value, t, sizeof(t)), bad.msg, col + 1);
		return -1;
	}
	return 0;
}

void inventory_vars_copy(struct kvlist *dst, const struct kvlist *src)
{
	for (size_t i = 0; i < src->len; i++)
		kvlist_set(dst, src->items[i].key, src->items[i].value);
}

void inventory_verr(struct err *err, const char *path, size_t line, size_t column, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	hostname_scrub(msg);
	err_set(err, "%s:%zu:%zu: %s", path, line, column, msg);
}
