/* textfsm: structured records from CLI text with TextFSM templates (the
 * template language of Google's TextFSM, which ntc-templates is written
 * in), in C.
 *
 *   textfsm_template.c  a template's text -> a compiled program
 *   textfsm_regex.c     its Python expressions -> PCRE2
 *   textfsm_engine.c    a program run over input text -> records
 *   textfsm_json.c      records -> JSON
 *
 * A worker compiles a template once (textfsm_compile) and parses the
 * output of every host with it (textfsm_parse); the program holds the
 * compiled expressions and one match block, so a program is used by one
 * thread at a time. Records point at their program's names: free them
 * before it. Errors name the template's file:line, and for a failure while
 * parsing (an Error action) the input's line number too. */
#ifndef FLEETRUN_TEXTFSM_H
#define FLEETRUN_TEXTFSM_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "util.h"

/* Limits, as the reference's: names of values and states. */
#define TEXTFSM_MAX_NAME 48
/* Bounds of ours: a template's size, its values, its rules. */
#define TEXTFSM_MAX_TEMPLATE (1024 * 1024)

struct textfsm; /* a compiled template (textfsm_prog.h) */

/* Compile the template text[0..len) read from path (for messages) into
 * *out. 0, or -1 with err ("PATH:LINE: what is wrong"). */
int textfsm_compile(const char *path, const char *text, size_t len, struct textfsm **out, struct err *err);
void textfsm_free(struct textfsm *t);

/* The values, in the template's order: each one a column of every record. */
size_t textfsm_nvalues(const struct textfsm *t);
const char *textfsm_value_name(const struct textfsm *t, size_t i); /* as written */
const char *textfsm_value_key(const struct textfsm *t, size_t i);  /* lowercased, the output's key */
/* Whether value i is Required, and the template line that declares it;
 * and the template's path: for a step's message when a Required value
 * is never filled (worker/step_parse.c). */
bool textfsm_value_required(const struct textfsm *t, size_t i);
size_t textfsm_value_line(const struct textfsm *t, size_t i);
const char *textfsm_path(const struct textfsm *t);

/* A cell of a record. Strings are what the expressions captured (UTF-8);
 * a List value's cell is a list of strings, of nulls (a group that took no
 * part in the match) or of dicts (its expression's named groups). */
enum textfsm_kind {
	TEXTFSM_NULL,
	TEXTFSM_STR,
	TEXTFSM_LIST,
	TEXTFSM_DICT,
};

struct textfsm_cell {
	enum textfsm_kind kind;
	char *str;                  /* STR: malloced, owned, NUL-terminated */
	size_t len;                 /* STR: bytes; LIST, DICT: items */
	struct textfsm_cell *items; /* LIST: the items; DICT: the values; malloced, owned */
	const char *const *keys;    /* DICT: the names, the program's */
};

/* The records of one parse: n rows of nvalues cells, row-major. A cell is
 * a STR ("" for a value never set) or, for a List value, a LIST. */
struct textfsm_records {
	size_t n, nvalues;
	struct textfsm_cell *cells; /* malloced, owned */
};

#define TEXTFSM_RECORDS_INIT {0, 0, NULL}

/* Parse input[0..len) (any bytes; lines end as Python's splitlines ends
 * them) into *out, which is emptied first. 0, or -1 with err and *out
 * empty: an Error action ("PATH:LINE: ... (input line N)") or a match that
 * went past PCRE2's limits. */
int textfsm_parse(struct textfsm *t, const char *input, size_t len, struct textfsm_records *out, struct err *err);
void textfsm_records_free(struct textfsm_records *r);

/* The records as a JSON array of objects keyed by the lowercased value
 * names, appended to out. */
void textfsm_records_json(const struct textfsm *t, const struct textfsm_records *r, struct buf *out);

#endif
