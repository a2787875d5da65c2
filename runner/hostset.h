/* hostset: host names folded into ranges, the way pdsh, clush and dshbak
 * print them: rtr01.dc1 rtr02.dc1 rtr03.dc1 rtr05.dc1 -> rtr[01-03,05].dc1.
 *
 * Names are folded along one of their digit runs: the one that leaves the
 * fewest groups (so rtr01.dc1..rtr40.dc1 fold on "01", not on "1"). A run
 * with a leading zero keeps its width (01 and 1 are different names); runs
 * without one fold together whatever their length (h9, h10 -> h[9-10]).
 * The result is the exact set: expanding it gives back the names. */
#ifndef FLEETRUN_HOSTSET_H
#define FLEETRUN_HOSTSET_H

#include <stddef.h>

#include "buf.h"

/* Append the folded form of names[0..n) to out: groups separated by ",",
 * in name order. Duplicates are folded once. names is not modified. */
void hostset_fold(const char *const *names, size_t n, struct buf *out);

#endif
