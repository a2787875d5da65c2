/* cli: command-line options as tables (see cli.h): the parsers of option
 * values, and the one getopt_long loop over a command's tables. */
#include "cli.h"

#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

/* The getopt value of a long option without a short name: past every
 * character, its index among the command's options. */
#define CLI_LONG_BASE 256

void cli_list_free(struct cli_list *l)
{
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

int cli_flag(const struct cli_opt *o, void *field, const char *arg)
{
	*(bool *)field = true;
	return 0;
}

int cli_count(const struct cli_opt *o, void *field, const char *arg)
{
	(*(int *)field)++;
	return 0;
}

int cli_string(const struct cli_opt *o, void *field, const char *arg)
{
	*(const char **)field = arg;
	return 0;
}

int cli_list(const struct cli_opt *o, void *field, const char *arg)
{
	struct cli_list *l = field;

	l->v = xreallocarray(l->v, l->n + 1, sizeof(*l->v));
	l->v[l->n++] = arg;
	return 0;
}

int cli_int(const struct cli_opt *o, void *field, const char *arg)
{
	long long v;

	if (int_parse(arg, o->min, o->max, &v) < 0)
		return -1;
	if (o->size == sizeof(int))
		*(int *)field = (int)v;
	else
		*(uint64_t *)field = (uint64_t)v;
	return 0;
}

int cli_duration(const struct cli_opt *o, void *field, const char *arg)
{
	int64_t ms;

	if (duration_parse(arg, &ms) < 0 || ms < o->min || ms > o->max)
		return -1;
	*(int64_t *)field = ms;
	return 0;
}

int cli_size(const struct cli_opt *o, void *field, const char *arg)
{
	uint64_t bytes;

	if (size_parse(arg, &bytes) < 0 || bytes < (uint64_t)o->min || bytes > (uint64_t)o->max)
		return -1;
	*(uint64_t *)field = bytes;
	return 0;
}

int cli_real(const struct cli_opt *o, void *field, const char *arg)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(arg, &end);
	/* !(v > min) refuses NaN too */
	if (errno || end == arg || *end || !(v > (double)o->min) || v > (double)o->max)
		return -1;
	*(double *)field = v;
	return 0;
}

int cli_enum(const struct cli_opt *o, void *field, const char *arg)
{
	for (const struct cli_word *w = o->words; w->word; w++) {
		if (strcmp(arg, w->word) == 0) {
			*(int *)field = w->value;
			return 0;
		}
	}
	return -1;
}

/* The getopt_long tables of a command: every option of its tables, then
 * --help. Long options without a short name get CLI_LONG_BASE + their
 * index. Both malloced. */
static void cli_getopt_tables(const struct cli_table *t, size_t nt, struct option **longopts, char **shortopts)
{
	size_t n = 0, k = 0, s = 0;
	struct option *lo;
	char *so;

	for (size_t i = 0; i < nt; i++)
		for (const struct cli_opt *o = t[i].opts; o->name; o++)
			n++;
	lo = xcalloc(n + 2, sizeof(*lo));
	so = xcalloc(2 * n + 2, 1);
	for (size_t i = 0; i < nt; i++) {
		for (const struct cli_opt *o = t[i].opts; o->name; o++, k++) {
			lo[k] = (struct option){o->name, o->has_arg ? required_argument : no_argument, NULL,
			                        o->short_name ? o->short_name : CLI_LONG_BASE + (int)k};
			if (o->short_name) {
				so[s++] = o->short_name;
				if (o->has_arg)
					so[s++] = ':';
			}
		}
	}
	lo[k] = (struct option){"help", no_argument, NULL, 'h'};
	so[s] = 'h';
	*longopts = lo;
	*shortopts = so;
}

/* The option getopt_long answered c for, and the offset of its table. */
static const struct cli_opt *cli_find(const struct cli_table *t, size_t nt, int c, size_t *offset)
{
	size_t k = 0;

	for (size_t i = 0; i < nt; i++) {
		for (const struct cli_opt *o = t[i].opts; o->name; o++, k++) {
			if (o->short_name ? c == o->short_name : c == CLI_LONG_BASE + (int)k) {
				*offset = t[i].offset;
				return o;
			}
		}
	}
	return NULL;
}

enum cli_result cli_parse(int argc, char **argv, const struct cli_table *t, size_t nt, void *opts, struct err *err)
{
	struct option *longopts;
	char *shortopts;
	enum cli_result r = CLI_OK;
	int c;

	cli_getopt_tables(t, nt, &longopts, &shortopts);
	/* 0, not 1: getopt starts afresh (a unit test parses many times) */
	optind = 0;
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct cli_opt *o;
		size_t offset;

		if (c == 'h') {
			r = CLI_HELP;
			break;
		}
		if (!(o = cli_find(t, nt, c, &offset))) {
			r = CLI_UNKNOWN;
			break;
		}
		if (o->parse(o, (char *)opts + offset + o->offset, optarg) < 0) {
			if (o->short_name)
				err_set(err, "-%c '%s': expected %s", o->short_name, optarg, o->expected);
			else
				err_set(err, "--%s '%s': expected %s", o->name, optarg, o->expected);
			r = CLI_BAD;
			break;
		}
	}
	free(longopts);
	free(shortopts);
	return r;
}

int cli_outcome(enum cli_result r, const char *usage, const struct err *err)
{
	switch (r) {
	case CLI_OK:
		return -1;
	case CLI_HELP:
		fputs(usage, stdout);
		return 0;
	case CLI_BAD:
		log_error("%s", err->msg);
		return CLI_EXIT_USAGE;
	case CLI_UNKNOWN:
		break;
	}
	fputs(usage, stderr);
	return CLI_EXIT_USAGE;
}

int cli_command(int argc, char **argv, const char *usage, const struct cli_table *t, size_t nt, void *opts)
{
	struct err err;

	return cli_outcome(cli_parse(argc, argv, t, nt, opts, &err), usage, &err);
}

const char *cli_one_operand(int argc, char **argv, const char *usage, const char *missing, const char *extra)
{
	if (optind == argc - 1)
		return argv[optind];
	if (optind >= argc)
		log_error("%s", missing);
	else
		log_error(extra, argv[optind + 1]);
	fputs(usage, stderr);
	return NULL;
}
