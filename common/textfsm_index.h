/* textfsm_index: the index file of a template collection (the format
 * ntc-templates ships, which textfsm's clitable reads): which template
 * parses a command's output on a platform. Apart from the templates: it
 * is a table of its own, read once and asked per host.
 *
 *   Template, Hostname, Platform, Command
 *   cisco_ios_show_version.textfsm, .*, cisco_ios, sh[[ow]] ver[[sion]]
 *
 * The first line that is not a comment names the columns; every other
 * column is a Python expression matched at the start of the attribute of
 * that name (Platform, Command), an empty cell matching anything;
 * "sh[[ow]]" in Command also matches "sh", "sho" and "show". The first
 * row that matches wins. */
#ifndef FLEETRUN_TEXTFSM_INDEX_H
#define FLEETRUN_TEXTFSM_INDEX_H

#include <stddef.h>

#include "util.h"

struct textfsm_index;

/* Read the index text[0..len) of path (for messages). 0, or -1 with err
 * naming path:line. */
int textfsm_index_parse(const char *path, const char *text, size_t len, struct textfsm_index **out, struct err *err);
void textfsm_index_free(struct textfsm_index *ix);

/* The Template cell of the first row whose Platform and Command match
 * (the index's string: one template, or several joined with ':'), and the
 * row's line in *line. NULL when no row matches. */
const char *textfsm_index_find(const struct textfsm_index *ix, const char *platform, const char *command,
                               size_t *line);

#endif
