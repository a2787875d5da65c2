/* parsedview: a result's parsed records (TextFSM, `parse:` on a step) as
 * short text for the views of a run: the text line per host
 * (stdout_out.c) and --gather-by's groups (gather.c). The records are
 * those of the first step that has them, as the worker sent them
 * (proto.h, PROTO_KEY_PARSED: an array of maps, string keys, each value a
 * string or a List value's array of strings, nils or maps of strings).
 *
 * Apart from both views: they show the same values the same way
 * (`version=17.3.4a serial=FLB1,FLB2 uptime="4 weeks, 2 days"`), and the
 * report page (report_html.c) follows the same rules on the journal's
 * JSON. Everything made here is terminal-safe (termtext): the values come
 * from devices. */
#ifndef FLEETRUN_PARSEDVIEW_H
#define FLEETRUN_PARSEDVIEW_H

#include <msgpack.h>
#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "proto.h"

/* Columns of the records' text in a text line, "…" included. */
#define PARSEDVIEW_LINE_COLS 100

/* The parsed records of the first step of res that has any ("parsed" in
 * its record, even an empty list): NULL when none, or res NULL. A view
 * into res. */
const msgpack_object *parsedview_first(const struct proto_result *res);

/* One value as raw text (not escaped): a string's bytes; a List's items
 * joined with "," (a nil as nothing, a map of named groups as
 * "name=value" pairs joined with " "). */
void parsedview_value(struct buf *b, const msgpack_object *v);

/* The records compactly, for a text line: the first record's
 * "key=value" pairs in the template's order, empty values left out, a
 * value with a space or a '"' in double quotes, escaped for the
 * terminal; cut with "…" past cols columns; then " (+N records)" for the
 * records not shown. "(no records)" for an empty list. */
void parsedview_line(struct buf *b, const msgpack_object *parsed, size_t cols);

/* --gather-by: "key=value" for each of keys[0..nkeys) (lowercase, as the
 * records' keys are), in that order, the value being the key's distinct
 * non-empty values over all the records, sorted, joined with ","; the
 * text escaped for the terminal. true, or false (b as it was) when no
 * record has a non-empty value for some key. */
bool parsedview_select(struct buf *b, const msgpack_object *parsed, char *const *keys, size_t nkeys);

#endif
