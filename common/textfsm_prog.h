/* textfsm_prog: the compiled form of a TextFSM template, which
 * textfsm_template.c builds and textfsm_engine.c runs. Private to the
 * textfsm_* files: everyone else goes through textfsm.h. */
#ifndef FLEETRUN_TEXTFSM_PROG_H
#define FLEETRUN_TEXTFSM_PROG_H

#include <stdbool.h>
#include <stddef.h>

#include "textfsm.h"
#include "textfsm_regex.h"

/* A value's options, in the order written: the reference applies them in
 * that order when a record is saved (Required before or after List reads
 * a different thing). */
enum textfsm_opt {
	TEXTFSM_OPT_FILLDOWN = 1 << 0,
	TEXTFSM_OPT_FILLUP = 1 << 1,
	TEXTFSM_OPT_KEY = 1 << 2,
	TEXTFSM_OPT_REQUIRED = 1 << 3,
	TEXTFSM_OPT_LIST = 1 << 4,
};
#define TEXTFSM_NOPTS 5

struct textfsm_value {
	char *name;     /* malloced, owned */
	char *key;      /* name lowercased; malloced, owned */
	char *tmpl;     /* the expression with (?P<name> for its first '('; malloced, owned */
	unsigned opts;  /* TEXTFSM_OPT_* */
	bool list_first; /* List comes before Required in the options */
	size_t line;
	/* List: its own expression, for the dict of its named groups */
	struct textfsm_regex list_re;
	const char **list_keys; /* [list_re.ngroups]: the named groups' names (list_re's); malloced, owned */
	size_t *list_groups;    /* [list_re.ngroups]: their numbers; malloced, owned */
	size_t nlist;           /* named groups */
};

enum textfsm_line_op {
	TEXTFSM_NEXT,
	TEXTFSM_CONTINUE,
	TEXTFSM_ERROR,
};

enum textfsm_record_op {
	TEXTFSM_NORECORD,
	TEXTFSM_RECORD,
	TEXTFSM_CLEAR,
	TEXTFSM_CLEARALL,
};

/* The state a rule goes to: a state's index, or one of these. */
#define TEXTFSM_STAY ((size_t)-1)
#define TEXTFSM_TO_END ((size_t)-2)
#define TEXTFSM_TO_EOF ((size_t)-3)

/* A group of the rule's expression that sets a value. */
struct textfsm_assign {
	size_t group;
	size_t value;
};

struct textfsm_rule {
	struct textfsm_regex re;
	enum textfsm_line_op line_op;
	enum textfsm_record_op record_op;
	size_t next;                   /* TEXTFSM_STAY, _TO_END, _TO_EOF or a state */
	char *next_name;               /* as written, until resolved; Error's message; malloced or NULL */
	struct textfsm_assign *assign; /* malloced, owned */
	size_t nassign;
	size_t line;
};

struct textfsm_state {
	char *name; /* malloced, owned */
	struct textfsm_rule *rules; /* malloced, owned */
	size_t nrules;
	size_t line;
};

struct textfsm {
	char *path; /* malloced, owned */
	struct textfsm_value *values;
	size_t nvalues;
	struct textfsm_state *states;
	size_t nstates;
	size_t start;            /* the Start state */
	bool has_eof;            /* an EOF state: no record at the end of input */
	pcre2_match_data *md;    /* for the rules, sized for the largest expression */
	pcre2_match_data *md_list; /* for List values' own expressions, while md is read */
	size_t max_groups;
};

/* err = "PATH:LINE: message"; returns -1 (textfsm_template.c). */
int textfsm_err_at(struct err *err, const char *path, size_t line, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

#endif
