/* Unit tests for runner/cmd_run.c's options table (and cli.c's parsers
 * under it): every option of `fleetrun run` puts a good value into its
 * own field and nothing else, and refuses a bad one with its "expected
 * ..." text, word for word as the switch it replaced said it; every line
 * of the table is covered; each field has the type its parser writes. The
 * parse function is called directly, no process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <getopt.h>
#include <unistd.h>

#include <cmocka.h>

#include "cli.h"
#include "cmd.h"
#include "cmd_run.h"
#include "proto.h"
#include "util.h"

/* What an option must change, from the defaults. */
typedef void (*want_fn)(struct cmd_run_opts *o);

#define WANT(name, ...)                                  \
	static void want_##name(struct cmd_run_opts *o)  \
	{                                                \
		__VA_ARGS__;                             \
	}

/* what -w's message adds for pdsh users, who give their hosts with -w */
#define CMD_RUN_W_HINT " (-w is the number of workers; targets are -H)"

static const char *const inv1[] = {"hosts.txt"};
static const char *const pat1[] = {"h[1-3]"};

WANT(inventory, o->targets.inventories.v = (const char **)inv1, o->targets.inventories.n = 1)
WANT(hosts, o->targets.patterns.v = (const char **)pat1, o->targets.patterns.n = 1)
WANT(limit, o->targets.limit = "rtr*")
WANT(exclude, o->targets.excludes.v = (const char **)pat1, o->targets.excludes.n = 1)
WANT(shard, o->targets.shard = "1/4")
WANT(shards, o->targets.shards = "4")
WANT(workers, o->run.workers = 8)
WANT(workers_max, o->run.workers = 4096)
WANT(timeout, o->timeout_ms = 2500)
WANT(grace, o->run.grace_ms = 500)
WANT(grace_0, o->run.grace_ms = 0)
WANT(output, o->run.journal = "run.jsonl")
WANT(resume, o->run.resume = true)
WANT(retry_failed, o->run.retry_failed = true)
WANT(retries, o->run.retries = 3)
WANT(retries_0, o->run.retries = 0)
WANT(retry_delay, o->run.retry_delay_ms = 200)
WANT(rate, o->run.rate = 0.5)
WANT(rate_max, o->run.rate = 1e6)
WANT(worker_mem, o->run.limits.mem_bytes = 512u << 20)
WANT(worker_mem_min, o->run.limits.mem_bytes = 16u << 20)
WANT(worker_cpu, o->run.worker_cpu_ms = 10000)
WANT(worker_files, o->run.limits.files = 64)
WANT(max_tasks, o->run.max_tasks_per_worker = 100)
WANT(max_logins, o->run.max_logins = 2)
WANT(max_logins_0, o->run.max_logins = 0)
WANT(jump_max_logins, o->run.jump_max_logins = 30)
WANT(gather, o->run.gather = true)
WANT(gather_by, o->gather_by = "version,hardware")
WANT(outdir, o->run.outdir = "out.d")
WANT(transcript, o->run.transcript = "tx.d")
WANT(color_auto, o->color = -1)
WANT(color_always, o->color = 1)
WANT(color_never, o->color = 0)
WANT(no_progress, o->no_progress = true)
WANT(ordered, o->run.ordered = true)
WANT(dry_run, o->dry_run = true)
WANT(format_text, o->run.format = STDOUT_OUT_TEXT)
WANT(format_jsonl, o->run.format = STDOUT_OUT_JSONL)
WANT(format_lines, o->run.format = STDOUT_OUT_LINES)
WANT(summary_text, o->summary = SUMMARY_TEXT)
WANT(summary_json, o->summary = SUMMARY_JSON)
WANT(max_output, o->run.output_cap = 4096)
WANT(max_output_0, o->run.output_cap = 0)
WANT(jobs_dir, o->jobs_dir = "/srv/jobs")
WANT(templates, o->templates = "/srv/ntc-templates")
WANT(quiet, o->run.quiet = true)
WANT(verbose, o->verbose = 1)

/* An option with a good value (NULL for an option without one). */
static const struct good {
	const char *opt; /* --name, or -c */
	const char *value;
	want_fn want;
} goods[] = {
	{"--inventory", "hosts.txt", want_inventory},
	{"-i", "hosts.txt", want_inventory},
	{"--hosts", "h[1-3]", want_hosts},
	{"-H", "h[1-3]", want_hosts},
	{"--limit", "rtr*", want_limit},
	{"-l", "rtr*", want_limit},
	{"--exclude", "h[1-3]", want_exclude},
	{"-x", "h[1-3]", want_exclude},
	{"--shard", "1/4", want_shard},
	{"--shards", "4", want_shards},
	{"--workers", "8", want_workers},
	{"-w", "4096", want_workers_max},
	{"--fanout", "8", want_workers},
	{"-f", "8", want_workers},
	{"--forks", "4096", want_workers_max},
	{"--timeout", "2.5s", want_timeout},
	{"-t", "2500ms", want_timeout},
	{"--grace", "500ms", want_grace},
	{"--grace", "0", want_grace_0},
	{"--output", "run.jsonl", want_output},
	{"-o", "run.jsonl", want_output},
	{"--resume", NULL, want_resume},
	{"--retry-failed", NULL, want_retry_failed},
	{"--retries", "3", want_retries},
	{"--retries", "0", want_retries_0},
	{"--retry-delay", "200ms", want_retry_delay},
	{"--rate", "0.5", want_rate},
	{"--rate", "1e6", want_rate_max},
	{"--worker-mem", "512M", want_worker_mem},
	{"--worker-mem", "16M", want_worker_mem_min},
	{"--worker-cpu", "10s", want_worker_cpu},
	{"--worker-files", "64", want_worker_files},
	{"--max-tasks-per-worker", "100", want_max_tasks},
	{"--max-logins", "2", want_max_logins},
	{"--max-logins", "0", want_max_logins_0},
	{"--jump-max-logins", "30", want_jump_max_logins},
	{"--gather", NULL, want_gather},
	{"--gather-by", "version,hardware", want_gather_by},
	{"--outdir", "out.d", want_outdir},
	{"--transcript", "tx.d", want_transcript},
	{"--color", "auto", want_color_auto},
	{"--color", "always", want_color_always},
	{"--color", "never", want_color_never},
	{"--no-progress", NULL, want_no_progress},
	{"--ordered", NULL, want_ordered},
	{"--dry-run", NULL, want_dry_run},
	{"--format", "text", want_format_text},
	{"--format", "jsonl", want_format_jsonl},
	{"--format", "json", want_format_jsonl},
	{"--format", "lines", want_format_lines},
	{"--format", "pdsh", want_format_lines},
	{"--summary", "text", want_summary_text},
	{"--summary", "json", want_summary_json},
	{"--max-output", "4096", want_max_output},
	{"--max-output", "0", want_max_output_0},
	{"--jobs-dir", "/srv/jobs", want_jobs_dir},
	{"--templates", "/srv/ntc-templates", want_templates},
	{"--quiet", NULL, want_quiet},
	{"-q", NULL, want_quiet},
	{"--verbose", NULL, want_verbose},
	{"-v", NULL, want_verbose},
};

/* A refused value and the whole message, as main.c's switch said it. */
static const struct bad {
	const char *opt;
	const char *value;
	const char *msg;
} bads[] = {
	{"--workers", "0", "-w '0': expected a number of workers from 1 to 4096" CMD_RUN_W_HINT},
	{"-w", "4097", "-w '4097': expected a number of workers from 1 to 4096" CMD_RUN_W_HINT},
	{"-w", "8x", "-w '8x': expected a number of workers from 1 to 4096" CMD_RUN_W_HINT},
	{"-w", "rtr[1-3]", "-w 'rtr[1-3]': expected a number of workers from 1 to 4096" CMD_RUN_W_HINT},
	{"-f", "0", "-f '0': expected a number of workers from 1 to 4096"},
	{"--forks", "x", "--forks 'x': expected a number of workers from 1 to 4096"},
	{"--timeout", "0s", "-t '0s': expected a duration such as 30s, 500ms or 2m"},
	{"-t", "soon", "-t 'soon': expected a duration such as 30s, 500ms or 2m"},
	{"--grace", "-1s", "--grace '-1s': expected a duration such as 2s or 500ms"},
	{"--retries", "101", "--retries '101': expected a number of retries from 0 to 100"},
	{"--retries", "-1", "--retries '-1': expected a number of retries from 0 to 100"},
	{"--retry-delay", "1d", "--retry-delay '1d': expected a duration such as 1s or 200ms"},
	{"--rate", "0", "--rate '0': expected tasks per second, such as 20 or 0.5"},
	{"--rate", "1000001", "--rate '1000001': expected tasks per second, such as 20 or 0.5"},
	{"--rate", "nan", "--rate 'nan': expected tasks per second, such as 20 or 0.5"},
	{"--rate", "2/s", "--rate '2/s': expected tasks per second, such as 20 or 0.5"},
	{"--worker-mem", "15M", "--worker-mem '15M': expected a size of at least 16M, such as 512M or 2G"},
	{"--worker-mem", "lots", "--worker-mem 'lots': expected a size of at least 16M, such as 512M or 2G"},
	{"--worker-cpu", "999ms", "--worker-cpu '999ms': expected a duration of at least 1s, such as 10s"},
	{"--worker-files", "15", "--worker-files '15': expected a number of open files from 16 to 1048576"},
	{"--worker-files", "1048577", "--worker-files '1048577': expected a number of open files from 16 to 1048576"},
	{"--max-tasks-per-worker", "0", "--max-tasks-per-worker '0': expected a number of tasks of at least 1"},
	{"--max-tasks-per-worker", "2147483648",
	 "--max-tasks-per-worker '2147483648': expected a number of tasks of at least 1"},
	{"--max-logins", "-1", "--max-logins '-1': expected a number of logins from 0 (no limit) to 100000"},
	{"--jump-max-logins", "100001",
	 "--jump-max-logins '100001': expected a number of logins from 0 (no limit) to 100000"},
	{"--color", "yes", "--color 'yes': expected auto, always or never"},
	{"--format", "xml", "--format 'xml': expected text, jsonl or lines"},
	{"--summary", "yaml", "--summary 'yaml': expected text or json"},
	{"--max-output", "16777217", "--max-output '16777217': expected bytes from 0 to 16777216"},
};

/* cmd_run_parse over "run" and those of a1, a2, a3 that are not NULL. */
static enum cli_result parse(struct cmd_run_opts *o, struct err *err, const char *a1, const char *a2,
                             const char *a3)
{
	const char *args[] = {a1, a2, a3};
	char *argv[5] = {"run"};
	int argc = 1;

	for (size_t i = 0; i < ARRAY_LEN(args); i++)
		if (args[i])
			argv[argc++] = (char *)args[i];
	return cmd_run_parse(argc, argv, o, err);
}

static void assert_str(const char *field, const char *got, const char *want)
{
	if ((got == NULL) != (want == NULL) || (got && strcmp(got, want) != 0))
		fail_msg("%s: got '%s', want '%s'", field, got ? got : "(null)", want ? want : "(null)");
}

static void assert_list(const char *field, const struct cli_list *got, const struct cli_list *want)
{
	if (got->n != want->n)
		fail_msg("%s: %zu values, want %zu", field, got->n, want->n);
	for (size_t i = 0; i < got->n; i++)
		assert_str(field, got->v[i], want->v[i]);
}

#define SAME(field)                                                                         \
	do {                                                                                \
		if (got->field != want->field)                                              \
			fail_msg("%s: %s differs from what was wanted", opt, #field);       \
	} while (0)

/* Every field the parser may write, each as wanted. */
static void assert_opts(const char *opt, const struct cmd_run_opts *got, const struct cmd_run_opts *want)
{
	assert_list("-i", &got->targets.inventories, &want->targets.inventories);
	assert_list("-H", &got->targets.patterns, &want->targets.patterns);
	assert_str("-l", got->targets.limit, want->targets.limit);
	assert_list("-x", &got->targets.excludes, &want->targets.excludes);
	assert_str("--shard", got->targets.shard, want->targets.shard);
	assert_str("--shards", got->targets.shards, want->targets.shards);
	assert_str("--jobs-dir", got->jobs_dir, want->jobs_dir);
	assert_str("--templates", got->templates, want->templates);
	assert_str("--gather-by", got->gather_by, want->gather_by);
	assert_str("-o", got->run.journal, want->run.journal);
	assert_str("--outdir", got->run.outdir, want->run.outdir);
	assert_str("--transcript", got->run.transcript, want->run.transcript);
	SAME(timeout_ms);
	SAME(verbose);
	SAME(color);
	SAME(summary);
	SAME(dry_run);
	SAME(no_progress);
	SAME(run.job);
	SAME(run.workers);
	SAME(run.timeout_ms);
	SAME(run.grace_ms);
	SAME(run.output_cap);
	SAME(run.resume);
	SAME(run.retry_failed);
	SAME(run.retries);
	SAME(run.retry_delay_ms);
	SAME(run.limits.mem_bytes);
	SAME(run.limits.files);
	SAME(run.worker_cpu_ms);
	SAME(run.max_tasks_per_worker);
	SAME(run.rate);
	SAME(run.gather);
	SAME(run.progress);
	SAME(run.color);
	SAME(run.ordered);
	SAME(run.shard.index);
	SAME(run.shard.count);
	SAME(run.format);
	SAME(run.quiet);
	SAME(run.summary);
	SAME(run.worker_path);
}

static void test_defaults(void **state)
{
	struct cmd_run_opts o;
	struct err err;

	(void)state;
	assert_int_equal(parse(&o, &err, NULL, NULL, NULL), CLI_OK);
	assert_int_equal(o.run.workers, RUN_DEFAULT_WORKERS);
	assert_int_equal(o.run.grace_ms, RUN_DEFAULT_GRACE_MS);
	assert_int_equal(o.run.retries, -1);
	assert_int_equal(o.run.retry_delay_ms, RUN_DEFAULT_RETRY_DELAY_MS);
	assert_int_equal(o.run.output_cap, PROTO_DEFAULT_OUTPUT_CAP);
	assert_int_equal(o.run.format, isatty(STDOUT_FILENO) ? STDOUT_OUT_TEXT : STDOUT_OUT_JSONL);
	assert_int_equal(o.color, -1);
	assert_int_equal(o.summary, SUMMARY_NONE);
	assert_int_equal(o.timeout_ms, 0);
	assert_false(o.dry_run);
	cmd_run_opts_free(&o);
}

/* Each option, long and short, with a value in its field and nowhere
 * else; both --opt VALUE and --opt=VALUE. */
static void test_good_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(goods); i++) {
		const struct good *g = &goods[i];
		struct cmd_run_opts want, got;
		struct err err;
		char joined[128];

		assert_int_equal(parse(&want, &err, NULL, NULL, NULL), CLI_OK);
		g->want(&want);
		if (parse(&got, &err, g->opt, g->value, "JOB") != CLI_OK)
			fail_msg("%s %s: refused: %s", g->opt, g->value ? g->value : "", err.msg);
		assert_int_equal(optind, g->value ? 3 : 2);
		assert_opts(g->opt, &got, &want);
		cmd_run_opts_free(&got);
		if (g->value && g->opt[1] == '-') {
			snprintf(joined, sizeof(joined), "%s=%s", g->opt, g->value);
			assert_int_equal(parse(&got, &err, "JOB", joined, NULL), CLI_OK);
			assert_opts(joined, &got, &want);
			cmd_run_opts_free(&got);
		}
	}
}

static void test_bad_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_LEN(bads); i++) {
		struct cmd_run_opts o;
		struct err err;

		if (parse(&o, &err, "JOB", bads[i].opt, bads[i].value) != CLI_BAD)
			fail_msg("%s %s: taken", bads[i].opt, bads[i].value);
		assert_string_equal(err.msg, bads[i].msg);
		cmd_run_opts_free(&o);
	}
}

static bool in_goods(const struct cli_opt *o)
{
	char lng[64], shrt[3] = {'-', o->short_name, '\0'};
	bool seen_long = false, seen_short = !o->short_name;

	snprintf(lng, sizeof(lng), "--%s", o->name);
	for (size_t i = 0; i < ARRAY_LEN(goods); i++) {
		seen_long |= strcmp(goods[i].opt, lng) == 0;
		seen_short |= strcmp(goods[i].opt, shrt) == 0;
		/* an option with a value is given one; one without is not */
		if ((strcmp(goods[i].opt, lng) == 0 || strcmp(goods[i].opt, shrt) == 0) &&
		    (goods[i].value != NULL) != o->has_arg)
			fail_msg("--%s: has_arg does not match the test's use of it", o->name);
	}
	return seen_long && seen_short;
}

static bool in_bads(const struct cli_opt *o)
{
	char lng[64], shrt[3] = {'-', o->short_name, '\0'};

	snprintf(lng, sizeof(lng), "--%s", o->name);
	for (size_t i = 0; i < ARRAY_LEN(bads); i++)
		if (strcmp(bads[i].opt, lng) == 0 || strcmp(bads[i].opt, shrt) == 0)
			return true;
	return false;
}

/* The field's size is the one the parser writes. */
static void assert_field_type(const struct cli_opt *o)
{
	size_t want = 0;

	if (o->parse == cli_flag)
		want = sizeof(bool);
	else if (o->parse == cli_count || o->parse == cli_enum)
		want = sizeof(int);
	else if (o->parse == cli_string)
		want = sizeof(const char *);
	else if (o->parse == cli_list)
		want = sizeof(struct cli_list);
	else if (o->parse == cli_int)
		want = o->size == sizeof(int) ? sizeof(int) : sizeof(uint64_t);
	else if (o->parse == cli_duration)
		want = sizeof(int64_t);
	else if (o->parse == cli_size)
		want = sizeof(uint64_t);
	else if (o->parse == cli_real)
		want = sizeof(double);
	else
		fail_msg("--%s: a parser the test does not know", o->name);
	if (o->size != want)
		fail_msg("--%s: a field of %zu bytes for a parser that writes %zu", o->name, o->size, want);
	if (o->has_arg == (o->parse == cli_flag || o->parse == cli_count))
		fail_msg("--%s: has_arg does not match its parser", o->name);
	if ((o->expected != NULL) != (o->parse != cli_flag && o->parse != cli_count && o->parse != cli_string &&
	                              o->parse != cli_list))
		fail_msg("--%s: a parser that refuses values needs an expected text, and only it", o->name);
}

/* Every line of the tables run parses with has a good case, and a bad
 * one when it can refuse a value: a new option cannot go untested. */
static void test_every_option_covered(void **state)
{
	const struct cli_opt *tables[] = {cmd_targets_options, cmd_run_options};

	(void)state;
	for (size_t t = 0; t < ARRAY_LEN(tables); t++) {
		for (const struct cli_opt *o = tables[t]; o->name; o++) {
			if (!in_goods(o))
				fail_msg("--%s (-%c): no good value tested", o->name,
				         o->short_name ? o->short_name : ' ');
			if (o->expected && !in_bads(o))
				fail_msg("--%s: no bad value tested", o->name);
			assert_field_type(o);
		}
	}
}

static void test_clusters_and_repeats(void **state)
{
	struct cmd_run_opts o;
	struct err err;
	char *argv[] = {"run", "-qvvH", "a", "JOB", "-H", "b", "-w8", "-i", "x", "-w", "9", NULL};

	(void)state;
	assert_int_equal(cmd_run_parse(ARRAY_LEN(argv) - 1, argv, &o, &err), CLI_OK);
	assert_true(o.run.quiet);
	assert_int_equal(o.verbose, 2);
	assert_int_equal(o.targets.patterns.n, 2);
	assert_string_equal(o.targets.patterns.v[0], "a");
	assert_string_equal(o.targets.patterns.v[1], "b");
	assert_int_equal(o.targets.inventories.n, 1);
	assert_int_equal(o.run.workers, 9); /* the last wins */
	/* getopt moved the operand past the options */
	assert_int_equal(optind, ARRAY_LEN(argv) - 2);
	assert_string_equal(argv[optind], "JOB");
	cmd_run_opts_free(&o);
}

static void test_stops_at_first_error_or_help(void **state)
{
	struct cmd_run_opts o;
	struct err err;

	(void)state;
	assert_int_equal(parse(&o, &err, "-w0", "--retries", "200"), CLI_BAD);
	assert_string_equal(err.msg, "-w '0': expected a number of workers from 1 to 4096" CMD_RUN_W_HINT);
	cmd_run_opts_free(&o);
	assert_int_equal(parse(&o, &err, "--help", "-w", "0"), CLI_HELP);
	cmd_run_opts_free(&o);
	assert_int_equal(parse(&o, &err, "-h", NULL, NULL), CLI_HELP);
	cmd_run_opts_free(&o);
	/* getopt says these on stderr itself: not in the test's output */
	opterr = 0;
	assert_int_equal(parse(&o, &err, "--frobnicate", NULL, NULL), CLI_UNKNOWN);
	cmd_run_opts_free(&o);
	assert_int_equal(parse(&o, &err, "-w", NULL, NULL), CLI_UNKNOWN);
	cmd_run_opts_free(&o);
	/* --re could be four options */
	assert_int_equal(parse(&o, &err, "--re", NULL, NULL), CLI_UNKNOWN);
	cmd_run_opts_free(&o);
	opterr = 1;
	/* a prefix that names one option is that option */
	assert_int_equal(parse(&o, &err, "--max-t", "3", NULL), CLI_OK);
	assert_int_equal(o.run.max_tasks_per_worker, 3);
	cmd_run_opts_free(&o);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_good_values),
		cmocka_unit_test(test_bad_values),
		cmocka_unit_test(test_every_option_covered),
		cmocka_unit_test(test_clusters_and_repeats),
		cmocka_unit_test(test_stops_at_first_error_or_help),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
