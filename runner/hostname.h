/* hostname: the one check of a host name, and the quoting of inventory
 * text in messages.
 *
 * Every source applies the same check (text and YAML inventories, -H
 * patterns, the address var), because inventories are data and a name
 * reaches templates, commands' environments, file names and the terminal.
 * It is apart from hostrange.c because names are checked where no range
 * can be (the address var, a YAML host without brackets), and the range
 * parser itself asks it about each item. The quoting is here for the same
 * reason as the check: a name, a group or a value from an inventory may
 * hold a terminal escape or a line break, and a message must not forward
 * it. */
#ifndef FLEETRUN_HOSTNAME_H
#define FLEETRUN_HOSTNAME_H

#include <stddef.h>

#include "util.h"

/* A name is letters, digits, '.', '-' and '_' (so an IPv4 address too),
 * not starting with '-' or '.', at most HOSTNAME_MAX_LEN characters; or an
 * IPv6 literal, bare or in brackets, with an optional %zone. With
 * HOSTNAME_RANGES a [..] group is range syntax, left to the range parser.
 * 0, or -1 with *col (0-based) at the fault and why. */
#define HOSTNAME_MAX_LEN 255
#define HOSTNAME_RANGES 0x1
int hostname_check(const char *s, size_t n, unsigned flags, size_t *col, struct err *why);

/* Is s[0..n) an IPv6 literal (no brackets), with an optional %zone? */
int hostname_is_ipv6(const char *s, size_t n);

/* User text quoted in a message: at most outlen - 4 bytes of s, then
 * "..." when cut, control and non-ASCII bytes as '?'. Returns out. */
const char *hostname_quote(const char *s, char *out, size_t outlen);
/* A whole message about a line or a YAML node, which may quote any of its
 * text (a group name, a key): its control bytes become '?' in place. */
void hostname_scrub(char *msg);

#endif
