/* hostrange: the pdsh/clush host range notation, both ways.
 *
 * Expanding: 'core-rtr[01-40].dc[1-2],fw1' gives core-rtr01.dc1,
 * core-rtr01.dc2, core-rtr02.dc1, ... fw1, one name at a time: an odometer
 * over the bracket groups, never a list, so that -H 'h[1-1000000]' keeps
 * the supervisor's memory flat. A group holds numbers and ranges, [1-9],
 * [01-10] (the start's leading zero sets the width), [1,3,5-7].
 *
 * Folding, the inverse, for output (--gather): rtr01.dc1 rtr02.dc1
 * rtr03.dc1 rtr05.dc1 -> rtr[01-03,05].dc1, the way pdsh, clush and dshbak
 * print them. Names are folded along one of their digit runs: the one that
 * leaves the fewest groups (so rtr01.dc1..rtr40.dc1 fold on "01", not on
 * "1"). A run with a leading zero keeps its width (01 and 1 are different
 * names); runs without one fold together whatever their length (h9, h10 ->
 * h[9-10]). The result is the exact set: expanding it gives back the
 * names. IPv6 literals are the exception: fe80::1 and fe80::2 fold into
 * fe80::[1-2], which reads well in --gather but is no pattern -H takes. */
#ifndef FLEETRUN_HOSTRANGE_H
#define FLEETRUN_HOSTRANGE_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

/* 18 digits keep every bound and count of a range inside uint64_t: the
 * longest number a group may hold, and the longest digit run folded. */
#define HOSTRANGE_MAX_DIGITS 18

/* How a pattern is read. */
enum {
	/* -H and text inventories: a comma list of names; spaces around
	 * items are ignored. */
	HOSTRANGE_LIST = 0,
	/* A YAML host name: one name (a comma is just a character), and
	 * Ansible's [01:50] and [01:50:2] ranges besides [01-50]. */
	HOSTRANGE_NAME = 1,
};

struct hostrange;

/* One -H pattern (HOSTRANGE_LIST), checked whole before any name is given
 * out. 0, or -1 with err as "'PATTERN': what at column N". */
int hostrange_open(const char *pattern, struct hostrange **out, struct err *err);
/* The same read as flags says, for callers that place the fault in their
 * own frame (a line, a YAML node): -1 with *col (0-based in pattern) and
 * why. */
int hostrange_open_flags(const char *pattern, int flags, struct hostrange **out, size_t *col,
			 struct err *why);
/* How many names the pattern expands to: at most 2^40, since _open
 * refuses a pattern past that. */
uint64_t hostrange_total(const struct hostrange *r);
/* 1 and a NUL-terminated name in *name (valid until the next call), or 0 at the end. */
int hostrange_next(struct hostrange *r, const char **name);
void hostrange_close(struct hostrange *r);

/* Append the folded form of names[0..n) to out: groups separated by ",",
 * in name order. Duplicates are folded once. names is not modified. */
void hostrange_fold(const char *const *names, size_t n, struct buf *out);

#endif
