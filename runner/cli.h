/* cli: command-line options as tables. Each option is one line: its
 * names, whether it takes a value, the parser of that value, the field it
 * fills (offsetof into the command's options struct), the limits, and the
 * "expected ..." text of its error, as job.c's schema tables are for job
 * files (and nginx's ngx_command_t for its configuration). One parser
 * walks getopt_long over the tables of a command, so a new option is one
 * table line and its message follows from the line:
 *
 *   -w '0': expected a number of workers from 1 to 4096
 *
 * Apart from the commands (cmd_*.c) because it knows none of them: the
 * tables and the structs they fill are theirs. */
#ifndef FLEETRUN_CLI_H
#define FLEETRUN_CLI_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* The exit codes every command shares (run.h says the same of a run):
 * 2 usage or configuration error, 3 the work was cut short or its output
 * could not be written. 0 and 1 are each command's own. */
#define CLI_EXIT_USAGE 2
#define CLI_EXIT_CUT 3

/* The field of an option: its offset and size in the options struct. */
#define CLI_FIELD(type, member) offsetof(type, member), sizeof(((type *)0)->member)

/* A repeatable option's values (-i FILE -i FILE2), in the order given:
 * the strings are argv's, the array is malloced (cli_list_free). */
struct cli_list {
	const char **v;
	size_t n;
};
void cli_list_free(struct cli_list *l);

/* An enum option's words and the value each stands for; several words
 * may stand for one value (json for jsonl). Ends with {NULL, 0}. */
struct cli_word {
	const char *word;
	int value;
};

struct cli_opt;
/* Store arg (NULL for an option without a value) into field. 0, or -1
 * when arg is not what the option expects. */
typedef int (*cli_parse_fn)(const struct cli_opt *o, void *field, const char *arg);

/* The parsers, by the field type each fills:
 *   cli_flag      bool: true (no value)
 *   cli_count     int: one more each time (-v -v)
 *   cli_string    const char *: the value itself (argv's); the last wins
 *   cli_list      struct cli_list: every value, appended
 *   cli_int       int or uint64_t (by size): a whole number in [min, max]
 *   cli_duration  int64_t ms (duration_parse: 30s, 500ms, 2m) in [min, max]
 *   cli_size      uint64_t bytes (size_parse: 512M, 2G) in [min, max]
 *   cli_real      double: a number above min (min itself refused) and at
 *                 most max
 *   cli_enum      an enum (int-sized): the value of one of o->words */
int cli_flag(const struct cli_opt *o, void *field, const char *arg);
int cli_count(const struct cli_opt *o, void *field, const char *arg);
int cli_string(const struct cli_opt *o, void *field, const char *arg);
int cli_list(const struct cli_opt *o, void *field, const char *arg);
int cli_int(const struct cli_opt *o, void *field, const char *arg);
int cli_duration(const struct cli_opt *o, void *field, const char *arg);
int cli_size(const struct cli_opt *o, void *field, const char *arg);
int cli_real(const struct cli_opt *o, void *field, const char *arg);
int cli_enum(const struct cli_opt *o, void *field, const char *arg);

/* One option. The error for a refused value reads "-X 'ARG': expected
 * EXPECTED" (--NAME when there is no short name). */
struct cli_opt {
	const char *name;       /* --name */
	char short_name;        /* -c, or 0 */
	bool has_arg;           /* takes a value (required) */
	cli_parse_fn parse;
	size_t offset, size;    /* CLI_FIELD(struct, member) */
	long long min, max;     /* limits of the numeric parsers */
	const struct cli_word *words; /* cli_enum's words */
	const char *expected;   /* NULL for options that refuse nothing */
};

/* The options of one struct, ending with {NULL}, placed at offset in a
 * command's options struct: a command's own table at 0, a shared one
 * (cmd.h's targets) at offsetof its member. */
struct cli_table {
	const struct cli_opt *opts;
	size_t offset;
};

enum cli_result {
	CLI_OK,      /* parsed; optind is the first operand */
	CLI_HELP,    /* -h or --help, which every command takes */
	CLI_BAD,     /* a value refused: err says which and what was expected */
	CLI_UNKNOWN, /* an unknown option, or a value missing: getopt said so on stderr */
};

/* Parse argv's options (argv[0] is the command's name, as getopt shows
 * it) into opts, the struct the tables' offsets are into, the fields
 * holding their defaults. Stops at the first error or --help. Options and
 * operands may be mixed, as getopt_long permutes them. */
enum cli_result cli_parse(int argc, char **argv, const struct cli_table *t, size_t nt, void *opts, struct err *err);

/* What a command does with cli_parse's answer: -1 to go on; otherwise the
 * exit code to return, having printed usage on stdout (--help) or on
 * stderr (an unknown option), or logged err (a bad value). */
int cli_outcome(enum cli_result r, const char *usage, const struct err *err);

/* cli_parse, then cli_outcome: -1 to go on, or the exit code. */
int cli_command(int argc, char **argv, const char *usage, const struct cli_table *t, size_t nt, void *opts);

/* The one operand of a command that takes one (a job, a journal):
 * argv[optind], or NULL when there is none or more than one, having
 * logged missing, or extra with the first word too many for its %s, and
 * printed usage on stderr. */
const char *cli_one_operand(int argc, char **argv, const char *usage, const char *missing, const char *extra)
	__attribute__((format(printf, 5, 0)));

#endif
