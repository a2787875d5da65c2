/* cmd_run: `fleetrun run JOB`: its options as a table (cli.h), the checks
 * that need more than one of them, the job's lookup, and --dry-run, which
 * shows the hosts and their rendered steps instead of running them. The
 * run itself is run_job's (run.h). */
#include "cmd_run.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "gather.h"
#include "jobdir.h"
#include "log.h"
#include "platform.h"
#include "proto.h"
#include "shard.h"
#include "taskscope.h"
#include "termtext.h"
#include "tmpl.h"

static const char cmd_run_usage[] =
	"usage: fleetrun run JOB [-i INVENTORY]... [-H PATTERN]... [-x PATTERN]...\n"
	"                        [-l LIMIT] [-w N] [-t DURATION] [-o FILE] [--resume]\n"
	"                        [--retry-failed]\n"
	"                        [--ordered] [--dry-run] [--shard K/N|auto [--shards N]]\n"
	"                        [--format text|jsonl|lines] [--summary text|json] [-q] [-v]\n"
	"\n"
	"  -i, --inventory FILE   hosts from FILE (plain text, or Ansible-style YAML\n"
	"                         when it ends in .yml/.yaml); repeatable\n"
	"  -H, --hosts PATTERN    hosts such as 'rtr[01-40].dc[1-2],fw1'; repeatable\n"
	"  -l, --limit GLOBS      only hosts whose name or group matches: 'rtr*,!rtr13'\n"
	"  -x, --exclude PATTERN  never these hosts (the notation of -H); repeatable\n"
	"  -w, --workers N        worker processes (default 64; at most 4096);\n"
	"                         also -f, --fanout and --forks\n"
	"  -t, --timeout DURATION deadline per host, such as 30s, 500ms, 2m\n"
	"                         (default: the job's timeout, else 30s)\n"
	"      --grace DURATION   past the deadline, how long before the worker is\n"
	"                         killed (default 2s)\n"
	"  -o, --output FILE      append JSON Lines records to FILE (mode 0600), the\n"
	"                         run's journal; one run at a time writes it; with\n"
	"                         --shard, %K in FILE is the shard index, %N the count\n"
	"      --shard K/N        run shard K of N (K from 0 to N-1): the hosts whose\n"
	"                         name hashes to K; every host is in one shard\n"
	"      --shard auto       the shard from a Slurm job array or a Kubernetes\n"
	"                         Indexed Job (with --shards N or $FLEETRUN_SHARDS)\n"
	"      --shards N         the number of shards for --shard auto\n"
	"      --resume           skip the hosts that have a final record in the -o\n"
	"                         journal for this job; run the rest\n"
	"      --retry-failed     run only the hosts whose last record in the -o\n"
	"                         journal is not ok (with --resume: those and the\n"
	"                         hosts never finished)\n"
	"      --retries N        extra attempts for hosts ending unreachable, timeout\n"
	"                         or crashed (default: the job's retries, else 0;\n"
	"                         a crash always gets a second attempt)\n"
	"      --retry-delay DURATION  the first retry's backoff, doubled for each\n"
	"                         next one, with jitter, at most 60s (default 1s)\n"
	"      --rate N           start at most N tasks per second (logins that AAA\n"
	"                         servers and bastions would take for an attack)\n"
	"      --max-logins N     at most N SSH logins (unauthenticated handshakes)\n"
	"                         at once over the run; 0: no limit (default: the\n"
	"                         job's ssh max_logins, else none); the wait does\n"
	"                         not count against the task's deadline\n"
	"      --jump-max-logins N  at most N logins at once to one jump host\n"
	"                         (default: the job's ssh jump_max_logins, else 8)\n"
	"      --worker-mem SIZE  address space per worker (RLIMIT_AS), such as 1G\n"
	"      --worker-cpu DURATION  CPU time per task (RLIMIT_CPU), such as 30s\n"
	"      --worker-files N   open files per worker (RLIMIT_NOFILE)\n"
	"      --max-tasks-per-worker N  replace each worker after N tasks\n"
	"      --gather           at the end, hosts with identical output as one block,\n"
	"                         names folded (rtr[01-05].dc1), largest group first;\n"
	"                         no per-host lines then\n"
	"      --gather-by KEY[,KEY]  --gather on parsed values: hosts grouped by the\n"
	"                         values of those keys in their first parsed step's\n"
	"                         records (version=17.3.4a)\n"
	"      --outdir DIR       DIR/HOST/NN-STEP.out and .err per host and step, and\n"
	"                         DIR/ok.txt, DIR/failed.txt (host lists for -i)\n"
	"      --transcript DIR   DIR/HOST: each host's session (what was typed, what\n"
	"                         came back, with times; escaped, secrets masked)\n"
	"      --color WHEN       auto (default), always or never; NO_COLOR is obeyed\n"
	"      --no-progress      no live progress line on a terminal's stderr\n"
	"      --ordered          records in target order, not completion order\n"
	"      --dry-run          print the hosts and their rendered steps; run nothing\n"
	"      --format FORMAT    stdout as text (a line per host), jsonl, or lines:\n"
	"                         every output line as 'host: line', pdsh style\n"
	"                         (stderr lines on stderr); default: text on a\n"
	"                         terminal, else jsonl\n"
	"      --summary FORMAT   the summary on stderr as text (default) or json:\n"
	"                         one JSON object, the last line fleetrun writes\n"
	"      --max-output BYTES stdout and stderr kept per step (default 1048576)\n"
	"      --jobs-dir DIR     where JOB names are looked up\n"
	"      --templates DIR    TextFSM templates for parse: auto, DIR/index first\n"
	"                         (default: $FLEETRUN_TEMPLATES)\n"
	"  -q, --quiet            no per-host lines, and no summary unless --summary\n"
	"  -v, --verbose          more messages on stderr (twice: debug)\n"
	"\n"
	"examples:\n"
	"  fleetrun run uptime -H 'web[01-20]' -o uptime.jsonl\n"
	"  fleetrun run ./jobs.d/ping.yaml -i hosts.txt -l 'dc1-*' -w 200\n"
	"  fleetrun run ping -H 'h[01-20]' -q --summary json 2>summary.json\n"
	"  fleetrun run ping -i hosts.txt --shard 2/4 -o results-%K.jsonl\n"
	"\n"
	"exit: 0 every host ok, 1 some host not ok, 2 usage or configuration error,\n"
	"3 the run was cut short (signal, workers that cannot start, output error)\n";

#define CMD_RUN_STR(x) #x
#define CMD_RUN_XSTR(x) CMD_RUN_STR(x)
#define RUN(member) CLI_FIELD(struct cmd_run_opts, member)

static const struct cli_word cmd_run_formats[] = {
	{"text", STDOUT_OUT_TEXT},
	{"jsonl", STDOUT_OUT_JSONL},
	{"json", STDOUT_OUT_JSONL},
	{"lines", STDOUT_OUT_LINES},
	{"pdsh", STDOUT_OUT_LINES},
	{NULL, 0},
};

static const struct cli_word cmd_run_colors[] = {
	{"auto", -1},
	{"always", 1},
	{"never", 0},
	{NULL, 0},
};

/* In the order of the usage text. Durations have no upper limit here
 * (duration_parse takes at most a year), nor sizes (size_parse: 1e18). */
const struct cli_opt cmd_run_options[] = {
	/* name, short, value?, parser, field, min, max, words, "expected ..." */
	/* pdsh users type -w for their hosts: the message says where they go */
	{"workers", 'w', true, cli_int, RUN(run.workers), 1, RUN_MAX_WORKERS, NULL,
	 "a number of workers from 1 to " CMD_RUN_XSTR(RUN_MAX_WORKERS) " (-w is the number of workers; targets are -H)"},
	/* the same, as pdsh and clush (-f, --fanout) and Ansible (--forks) say it */
	{"fanout", 'f', true, cli_int, RUN(run.workers), 1, RUN_MAX_WORKERS, NULL,
	 "a number of workers from 1 to " CMD_RUN_XSTR(RUN_MAX_WORKERS)},
	{"forks", 0, true, cli_int, RUN(run.workers), 1, RUN_MAX_WORKERS, NULL,
	 "a number of workers from 1 to " CMD_RUN_XSTR(RUN_MAX_WORKERS)},
	{"timeout", 't', true, cli_duration, RUN(timeout_ms), 1, LLONG_MAX, NULL,
	 "a duration such as 30s, 500ms or 2m"},
	{"grace", 0, true, cli_duration, RUN(run.grace_ms), 0, LLONG_MAX, NULL, "a duration such as 2s or 500ms"},
	{"output", 'o', true, cli_string, RUN(run.journal), 0, 0, NULL, NULL},
	{"resume", 0, false, cli_flag, RUN(run.resume), 0, 0, NULL, NULL},
	{"retry-failed", 0, false, cli_flag, RUN(run.retry_failed), 0, 0, NULL, NULL},
	{"retries", 0, true, cli_int, RUN(run.retries), 0, 100, NULL, "a number of retries from 0 to 100"},
	{"retry-delay", 0, true, cli_duration, RUN(run.retry_delay_ms), 0, LLONG_MAX, NULL,
	 "a duration such as 1s or 200ms"},
	{"rate", 0, true, cli_real, RUN(run.rate), 0, 1000000, NULL, "tasks per second, such as 20 or 0.5"},
	{"max-logins", 0, true, cli_int, RUN(run.max_logins), 0, JOB_SSH_LOGINS_MAX, NULL,
	 "a number of logins from 0 (no limit) to " CMD_RUN_XSTR(JOB_SSH_LOGINS_MAX)},
	{"jump-max-logins", 0, true, cli_int, RUN(run.jump_max_logins), 0, JOB_SSH_LOGINS_MAX, NULL,
	 "a number of logins from 0 (no limit) to " CMD_RUN_XSTR(JOB_SSH_LOGINS_MAX)},
	{"worker-mem", 0, true, cli_size, RUN(run.limits.mem_bytes), 16 << 20, LLONG_MAX, NULL,
	 "a size of at least 16M, such as 512M or 2G"},
	{"worker-cpu", 0, true, cli_duration, RUN(run.worker_cpu_ms), 1000, LLONG_MAX, NULL,
	 "a duration of at least 1s, such as 10s"},
	{"worker-files", 0, true, cli_int, RUN(run.limits.files), 16, 1 << 20, NULL,
	 "a number of open files from 16 to 1048576"},
	{"max-tasks-per-worker", 0, true, cli_int, RUN(run.max_tasks_per_worker), 1, INT32_MAX, NULL,
	 "a number of tasks of at least 1"},
	{"gather", 0, false, cli_flag, RUN(run.gather), 0, 0, NULL, NULL},
	{"gather-by", 0, true, cli_string, RUN(gather_by), 0, 0, NULL, NULL},
	{"outdir", 0, true, cli_string, RUN(run.outdir), 0, 0, NULL, NULL},
	{"transcript", 0, true, cli_string, RUN(run.transcript), 0, 0, NULL, NULL},
	{"color", 0, true, cli_enum, RUN(color), 0, 0, cmd_run_colors, "auto, always or never"},
	{"no-progress", 0, false, cli_flag, RUN(no_progress), 0, 0, NULL, NULL},
	{"ordered", 0, false, cli_flag, RUN(run.ordered), 0, 0, NULL, NULL},
	{"dry-run", 0, false, cli_flag, RUN(dry_run), 0, 0, NULL, NULL},
	{"format", 0, true, cli_enum, RUN(run.format), 0, 0, cmd_run_formats, "text, jsonl or lines"},
	{"summary", 0, true, cli_enum, RUN(summary), 0, 0, cmd_summary_words, CMD_SUMMARY_EXPECTED},
	{"max-output", 0, true, cli_int, RUN(run.output_cap), 0, 16 * 1024 * 1024, NULL, "bytes from 0 to 16777216"},
	{"jobs-dir", 0, true, cli_string, RUN(jobs_dir), 0, 0, NULL, NULL},
	{"templates", 0, true, cli_string, RUN(templates), 0, 0, NULL, NULL},
	{"quiet", 'q', false, cli_flag, RUN(run.quiet), 0, 0, NULL, NULL},
	{"verbose", 'v', false, cli_count, RUN(verbose), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_run_tables[] = {
	{cmd_targets_options, offsetof(struct cmd_run_opts, targets)},
	{cmd_run_options, 0},
};

enum cli_result cmd_run_parse(int argc, char **argv, struct cmd_run_opts *o, struct err *err)
{
	*o = (struct cmd_run_opts){
		.run =
			{
				.workers = RUN_DEFAULT_WORKERS,
				.grace_ms = RUN_DEFAULT_GRACE_MS,
				.retries = -1,
				.max_logins = -1,
				.jump_max_logins = -1,
				.retry_delay_ms = RUN_DEFAULT_RETRY_DELAY_MS,
				.output_cap = PROTO_DEFAULT_OUTPUT_CAP,
				.format = isatty(STDOUT_FILENO) ? STDOUT_OUT_TEXT : STDOUT_OUT_JSONL,
			},
		.color = -1,
		.summary = SUMMARY_NONE,
	};
	return cli_parse(argc, argv, cmd_run_tables, ARRAY_LEN(cmd_run_tables), o, err);
}

void cmd_run_opts_free(struct cmd_run_opts *o)
{
	cmd_targets_free(&o->targets);
	gather_keys_free(o->gather_keys, o->run.ngather_keys);
	o->gather_keys = NULL;
}

/* --dry-run: the hosts and each host's steps as they would run, secrets
 * shown as ***. */
static int cmd_run_dry(const struct run_opts *o)
{
	struct targets *tg = NULL;
	struct host h;
	struct err err;
	struct buf line = BUF_INIT, shown = BUF_INIT;
	uint64_t n = 0;
	int got, rc = CLI_EXIT_USAGE;

	if (targets_open(&o->targets, &tg, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	while ((got = targets_next_in_shard(tg, &o->shard, &h, NULL, &err)) > 0) {
		struct taskscope ts;

		/* the worker's scope and secrets (taskscope.h), without
		 * captured vars: nothing runs to capture them */
		taskscope_init(&ts, o->job->name, h.name, &h.vars);
		buf_reset(&shown);
		termtext_puts(&shown, h.name, 0);
		puts(shown.data ? shown.data : "");
		for (size_t i = 0; i < o->job->nsteps; i++) {
			const struct step *st = &o->job->steps[i];
			buf_reset(&line);
			buf_reset(&shown);
			if (tmpl_render(st->text, &ts.scope, TMPL_ENV_VALUE, &line, &ts.secrets, &err) < 0) {
				buf_reset(&line);
				buf_printf(&line, "(error: %s)", err.msg);
			}
			tmpl_mask(&line, &ts.secrets);
			/* host vars are inventory data: text on the terminal */
			termtext_append(&shown, line.data, line.len, 0);
			printf("  %s: %s\n", step_kind_name(st->kind), shown.data ? shown.data : "");
		}
		taskscope_free(&ts);
		host_free(&h);
		n++;
	}
	if (got < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	fprintf(stderr, "fleetrun: dry run: %llu hosts, %zu steps each, nothing was run\n", (unsigned long long)n,
	        o->job->nsteps);
	rc = 0;
out:
	buf_free(&line);
	buf_free(&shown);
	if (tg)
		targets_close(tg);
	return rc;
}

/* Does some step of the job make parsed records? */
static bool cmd_run_job_parses(const struct job *job)
{
	for (size_t i = 0; i < job->nsteps; i++)
		if (job->steps[i].parse && job->steps[i].parse->mode != STEP_PARSE_NONE)
			return true;
	return false;
}

/* After the options: the checks that need more than one of them, the
 * shard's journal, the job, and what depends on the job and the terminal.
 * 0, or -1 with err. *job and *journal are the caller's to free either
 * way. */
static int cmd_run_prepare(struct cmd_run_opts *o, const char *arg, struct job **job, char **journal,
                           struct err *err)
{
	struct run_opts *r = &o->run;

	/* -q drops the summary too, unless --summary asks for it */
	r->summary = o->summary != SUMMARY_NONE ? o->summary : r->quiet ? SUMMARY_NONE : SUMMARY_TEXT;
	if (o->targets.inventories.n == 0 && o->targets.patterns.n == 0) {
		err_set(err, "run: no targets: give an inventory (-i FILE) or hosts (-H PATTERN)");
		return -1;
	}
	if (r->transcript && r->outdir && !strcmp(r->transcript, r->outdir)) {
		/* DIR/HOST would be a host's file and its directory */
		err_set(err, "--transcript and --outdir name the same directory (%s): give each its own", r->outdir);
		return -1;
	}
	if ((r->resume || r->retry_failed) && !r->journal) {
		err_set(err, "%s: which journal? give it with -o FILE", r->resume ? "--resume" : "--retry-failed");
		return -1;
	}
	if (o->gather_by) {
		if (gather_keys_parse(o->gather_by, &o->gather_keys, &r->ngather_keys, err) < 0)
			return -1;
		r->gather_keys = o->gather_keys;
		r->gather = true;
	}
	if (shard_resolve(o->targets.shard, o->targets.shards, &r->shard, err) < 0)
		return -1;
	if (r->journal) {
		/* -o results-%K.jsonl: each shard its own journal */
		if (!(*journal = shard_path(r->journal, &r->shard, err)))
			return -1;
		if (r->shard.count > 1 && !shard_path_has_index(r->journal))
			log_warn("-o %s names no shard (%%K): every shard appends to this one journal, "
			         "one run at a time",
			         r->journal);
		r->journal = *journal;
	}
	if (jobdir_load(arg, o->jobs_dir, job, err) < 0)
		return -1;
	r->job = *job;
	if (r->ngather_keys && !cmd_run_job_parses(*job)) {
		err_set(err, "--gather-by: job %s has no step with parse: (no parsed values to group hosts by)",
		        (*job)->name);
		return -1;
	}
	/* parse: auto's first collection: the workers read it from there
	 * (worker/step_parse.c) */
	if (o->templates && setenv("FLEETRUN_TEMPLATES", o->templates, 1) < 0) {
		err_set(err, "--templates: %s", strerror(errno));
		return -1;
	}
	if (job_text_check_run(*job, getenv("FLEETRUN_TEMPLATES"),
	                            o->templates ? "--templates" : "$FLEETRUN_TEMPLATES", err) < 0)
		return -1;
	if (platform_check_job(*job, err) < 0)
		return -1;
	r->timeout_ms = o->timeout_ms ? o->timeout_ms : (*job)->timeout_ms;
	/* the command line wins over the job's ssh: section */
	if (r->max_logins < 0)
		r->max_logins = (*job)->ssh.max_logins;
	if (r->jump_max_logins < 0)
		r->jump_max_logins = (*job)->ssh.jump_max_logins;
	cmd_targets_opts(&o->targets, &r->targets);
	/* the live line: a terminal on stderr, and not -q; colors unless
	 * NO_COLOR (no-color.org) or --color=never */
	r->progress = !o->no_progress && !r->quiet && isatty(STDERR_FILENO);
	r->color = o->color == 1 ||
	           (o->color == -1 && isatty(STDERR_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR")));
	return 0;
}

int cmd_run(int argc, char **argv)
{
	struct cmd_run_opts o;
	struct job *job = NULL;
	const char *arg;
	char *wpath = NULL, *journal = NULL;
	/* the command line as given, for the journal and the resume line:
	 * getopt_long reorders argv (options first) */
	char **given = xcalloc((size_t)argc + 1, sizeof(*given));
	struct err err;
	int rc;

	memcpy(given, argv, (size_t)argc * sizeof(*argv));
	if ((rc = cli_outcome(cmd_run_parse(argc, argv, &o, &err), cmd_run_usage, &err)) >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	if (!(arg = cli_one_operand(argc, argv, cmd_run_usage, "run: which job? (fleetrun jobs lists them)",
	                            "run: one job at a time (got '%s' after the job)")))
		goto out;
	/* -q quiets the per-host lines and the summary; -v still asks for
	 * messages, so -q -v gives the messages alone */
	log_init("fleetrun", o.verbose >= 2 ? LOG_DEBUG : o.verbose ? LOG_INFO : o.run.quiet ? LOG_ERROR : LOG_WARN);
	if (cmd_run_prepare(&o, arg, &job, &journal, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (o.dry_run) {
		rc = cmd_run_dry(&o.run);
		goto out;
	}
	wpath = jobdir_worker_path();
	o.run.worker_path = wpath;
	o.run.argc = argc;
	o.run.argv = given;
	rc = run_job(&o.run);
out:
	free(given);
	job_free(job);
	free(wpath);
	free(journal);
	cmd_run_opts_free(&o);
	return rc;
}
