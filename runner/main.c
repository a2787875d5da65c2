/* fleetrun: the command line. Subcommands: run, jobs, check, hosts, report;
 * merge and submit live in merge.c and submit.c. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <unistd.h>

#include "buf.h"
#include "inventory.h"
#include "job.h"
#include "jobdir.h"
#include "journal.h"
#include "log.h"
#include "merge.h"
#include "proto.h"
#include "report.h"
#include "run.h"
#include "shard.h"
#include "submit.h"
#include "targets.h"
#include "termtext.h"
#include "tmpl.h"
#include "util.h"

#define EXIT_USAGE 2
/* long options shared by run and hosts, beyond any subcommand's own codes */
#define OPT_SHARD 1000
#define OPT_SHARDS 1001

static const char usage_main[] =
	"usage: fleetrun COMMAND [options]\n"
	"\n"
	"Run one job on every host of a fleet, in parallel, one result per host.\n"
	"\n"
	"commands:\n"
	"  run JOB      run a job over the targets (fleetrun run --help)\n"
	"  jobs         list the jobs in jobs.d with their descriptions\n"
	"  check JOB... validate job files; errors name file:line:column\n"
	"  hosts        expand targets as run would, and print them\n"
	"  report FILE  the summary of a run's journal; --html OUT for a page\n"
	"  merge        one journal from the per-shard journals of a run\n"
	"  submit       run a job as a Slurm job array of shards\n"
	"\n"
	"  fleetrun COMMAND --help\n"
	"  fleetrun --version\n"
	"\n"
	"examples:\n"
	"  fleetrun jobs\n"
	"  fleetrun run show-version -H 'rtr[01-40].dc[1-2]' -o run.jsonl\n"
	"  fleetrun report run.jsonl --html run.html\n"
	"\n"
	"man fleetrun and man fleetrun-jobs say more.\n";

static const char usage_run[] =
	"usage: fleetrun run JOB [-i INVENTORY]... [-H PATTERN]... [-l LIMIT] [-w N]\n"
	"                        [-t DURATION] [-o FILE] [--resume] [--retry-failed]\n"
	"                        [--ordered] [--dry-run] [--shard K/N|auto [--shards N]]\n"
	"                        [--format text|jsonl|lines] [--summary text|json] [-q] [-v]\n"
	"\n"
	"  -i, --inventory FILE   hosts from FILE (plain text, or Ansible-style YAML\n"
	"                         when it ends in .yml/.yaml); repeatable\n"
	"  -H, --hosts PATTERN    hosts such as 'rtr[01-40].dc[1-2],fw1'; repeatable\n"
	"  -l, --limit GLOBS      only hosts whose name or group matches: 'rtr*,!rtr13'\n"
	"  -w, --workers N        worker processes (default 64; at most 4096)\n"
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
	"      --worker-mem SIZE  address space per worker (RLIMIT_AS), such as 1G\n"
	"      --worker-cpu DURATION  CPU time per task (RLIMIT_CPU), such as 30s\n"
	"      --worker-files N   open files per worker (RLIMIT_NOFILE)\n"
	"      --max-tasks-per-worker N  replace each worker after N tasks\n"
	"      --gather           at the end, hosts with identical output as one block,\n"
	"                         names folded (rtr[01-05].dc1), largest group first;\n"
	"                         no per-host lines then\n"
	"      --outdir DIR       DIR/HOST/NN-STEP.out and .err per host and step, and\n"
	"                         DIR/ok.txt, DIR/failed.txt (host lists for -i)\n"
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

static const char usage_hosts[] =
	"usage: fleetrun hosts [-i INVENTORY]... [-H PATTERN]... [-l LIMIT]\n"
	"                      [--shard K/N|auto [--shards N]] [-v]\n"
	"       fleetrun hosts --from JOURNAL [--status LIST] [--job NAME]\n"
	"\n"
	"Print the targets one per line, as `fleetrun run` would expand them;\n"
	"with -v, each host's vars too; with --shard, the hosts of that shard.\n"
	"\n"
	"With --from, the hosts of a journal instead, in the order they first\n"
	"appear, by the status of their last final record: --status takes a comma\n"
	"list of statuses (ok, failed, unreachable, auth, hostkey, timeout,\n"
	"crashed, error), or not-ok for every status but ok. Hosts the run was\n"
	"stopped on (no final record) count as status 'none'.\n"
	"\n"
	"examples:\n"
	"  fleetrun hosts -H 'rtr[01-03].dc[1-2],fw1'\n"
	"  fleetrun hosts -i hosts.txt --shard 0/4\n"
	"  fleetrun hosts --from run.jsonl --status failed,unreachable > again.txt\n"
	"  fleetrun run show-version -i again.txt\n";

static const char usage_jobs[] =
	"usage: fleetrun jobs [--jobs-dir DIR]\n"
	"\n"
	"List the jobs found in --jobs-dir, $FLEETRUN_JOBS_DIR, ./jobs.d and the\n"
	"installed jobs directory: one job a line, its name, the directory it comes\n"
	"from, its description. A directory found by name is used only when it is\n"
	"yours or root's and no one else can write it (a warning says which is not).\n"
	"\n"
	"examples:\n"
	"  fleetrun jobs\n"
	"  fleetrun jobs --jobs-dir ~/fleet/jobs\n";

static const char usage_check[] =
	"usage: fleetrun check [--jobs-dir DIR] JOB...\n"
	"\n"
	"Validate job files. Errors name file:line:column; the exit status is 2\n"
	"when any job is invalid.\n"
	"\n"
	"examples:\n"
	"  fleetrun check jobs.d/*.yaml\n"
	"  fleetrun check show-version\n";

static const char usage_report[] =
	"usage: fleetrun report JOURNAL [--summary text|json] [--html OUT] [--job NAME] [-q]\n"
	"\n"
	"The summary of a run from its journal (the JSON Lines of run -o), on\n"
	"stdout: counts per status, failures grouped by error, the slowest hosts,\n"
	"wall time and rate. Each host counts once, as its last final record says\n"
	"(a host the run was stopped on is 'not finished').\n"
	"\n"
	"      --summary FORMAT   text (default) or json (one JSON object)\n"
	"      --html OUT         also write OUT: one self-contained HTML page with\n"
	"                         the status breakdown, a latency histogram, a\n"
	"                         timeline of the workers and a searchable table of\n"
	"                         the hosts and their output; it fetches nothing\n"
	"      --job NAME         the records of job NAME, for a journal of several\n"
	"  -q, --quiet            no summary on stdout (with --html)\n"
	"\n"
	"examples:\n"
	"  fleetrun report run.jsonl\n"
	"  fleetrun report run.jsonl --summary json | jq .counts\n"
	"  fleetrun report run.jsonl --html run.html -q\n"
	"\n"
	"exit: 0 every host ok, 1 some host not ok or not finished, 2 the journal\n"
	"cannot be read, 3 the page cannot be written\n";

/* The job arg names, by name or path, from a place that may hold code
 * (jobdir.h). */
static int load_job(const char *arg, const char *jobs_dir, struct job **job)
{
	struct err err;

	if (jobdir_load(arg, jobs_dir, job, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static char *worker_path(void)
{
	const char *env = getenv("FLEETRUN_WORKER");
	char *dir, *path;

	if (env && *env)
		return xstrdup(env);
	/* the worker sits beside the supervisor: bin/, or PREFIX/bin */
	dir = jobdir_self();
	path = dir ? xasprintf("%s/fleetrun-worker", dir) : xstrdup("fleetrun-worker");
	free(dir);
	return path;
}

/* Options shared by run and hosts. */
struct target_args {
	const char **inventories;
	size_t ninventories;
	const char **patterns;
	size_t npatterns;
	const char *limit;
	const char *shard;      /* --shard, or NULL */
	const char *shards;     /* --shards, or NULL */
};

static void target_args_add(const char ***v, size_t *n, const char *s)
{
	*v = xreallocarray(*v, *n + 1, sizeof(**v));
	(*v)[(*n)++] = s;
}

/* -i, -H and -l, shared by run and hosts: 1 when c was one of them. */
static int target_args_option(struct target_args *ta, int c, const char *arg)
{
	switch (c) {
	case 'i':
		target_args_add(&ta->inventories, &ta->ninventories, arg);
		return 1;
	case 'H':
		target_args_add(&ta->patterns, &ta->npatterns, arg);
		return 1;
	case 'l':
		ta->limit = arg;
		return 1;
	case OPT_SHARD:
		ta->shard = arg;
		return 1;
	case OPT_SHARDS:
		ta->shards = arg;
		return 1;
	}
	return 0;
}

/* --shard and --shards into the shard this process runs. */
static int target_args_shard(const struct target_args *ta, struct shard *out)
{
	struct err err;

	if (shard_resolve(ta->shard, ta->shards, out, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	return 0;
}

static void target_args_opts(const struct target_args *a, struct targets_opts *o)
{
	o->inventories = a->inventories;
	o->ninventories = a->ninventories;
	o->patterns = a->patterns;
	o->npatterns = a->npatterns;
	o->limit = a->limit;
}

/* --status LIST into a set of statuses; "none" is index STATUS_COUNT. */
static int hosts_status_set(const char *list, bool want[STATUS_COUNT + 1])
{
	char *copy = xstrdup(list), *save = NULL;
	int r = 0;

	for (char *w = strtok_r(copy, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		int st = status_parse(w, strlen(w));
		if (strcmp(w, "not-ok") == 0) {
			for (int i = STATUS_OK + 1; i <= STATUS_COUNT; i++)
				want[i] = true;
		} else if (strcmp(w, "none") == 0) {
			want[STATUS_COUNT] = true;
		} else if (st >= 0) {
			want[st] = true;
		} else {
			log_error("--status '%s': expected ok, failed, unreachable, auth, hostkey, timeout, crashed, "
			          "error, none or not-ok",
			          w);
			r = -1;
		}
	}
	free(copy);
	return r;
}

/* hosts --from: the hosts of a journal whose last record has a status
 * asked for. */
static int hosts_from_journal(const char *path, const char *status, const char *job)
{
	struct journal_index idx = {0};
	const struct journal_last **v = NULL;
	bool want[STATUS_COUNT + 1];
	struct err err;
	struct buf line = BUF_INIT;
	int rc = EXIT_USAGE;

	for (int i = 0; i <= STATUS_COUNT; i++)
		want[i] = !status;
	if (status && hosts_status_set(status, want) < 0)
		goto out;
	if (journal_index_load(&idx, path, job, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (idx.mixed_jobs && !job) {
		log_error("%s: holds records of more than one job; say which with --job NAME", path);
		goto out;
	}
	v = journal_index_sorted(&idx);
	for (size_t i = 0; i < idx.len; i++)
		if (want[v[i]->final ? (int)v[i]->status : STATUS_COUNT]) {
			/* a journal is read back as data: text only */
			buf_reset(&line);
			termtext_puts(&line, v[i]->host, 0);
			puts(line.data ? line.data : "");
		}
	rc = fflush(stdout) == 0 ? 0 : 3;
out:
	buf_free(&line);
	free(v);
	journal_index_free(&idx);
	return rc;
}

static int cmd_hosts(int argc, char **argv)
{
	static const struct option longopts[] = {
		{"inventory", required_argument, NULL, 'i'},
		{"hosts", required_argument, NULL, 'H'},
		{"limit", required_argument, NULL, 'l'},
		{"verbose", no_argument, NULL, 'v'},
		{"from", required_argument, NULL, 'F'},
		{"status", required_argument, NULL, 'S'},
		{"job", required_argument, NULL, 'J'},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"shards", required_argument, NULL, OPT_SHARDS},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct target_args ta = {0};
	struct shard shard;
	const char *from = NULL, *status = NULL, *job = NULL;
	struct targets_opts to;
	struct targets *tg = NULL;
	struct host h;
	struct err err;
	struct buf line = BUF_INIT;
	int c, verbose = 0, got, rc = EXIT_USAGE;

	while ((c = getopt_long(argc, argv, "i:H:l:vh", longopts, NULL)) != -1) {
		if (target_args_option(&ta, c, optarg))
			continue;
		switch (c) {
		case 'v':
			verbose = 1;
			break;
		case 'F':
			from = optarg;
			break;
		case 'S':
			status = optarg;
			break;
		case 'J':
			job = optarg;
			break;
		case 'h':
			fputs(usage_hosts, stdout);
			rc = 0;
			goto out;
		default:
			fputs(usage_hosts, stderr);
			goto out;
		}
	}
	if (optind < argc) {
		log_error("hosts: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (from && (ta.ninventories || ta.npatterns || ta.limit || ta.shard)) {
		log_error("hosts: --from reads a journal; it does not mix with -i, -H, -l or --shard");
		goto out;
	}
	if (!from && (status || job)) {
		log_error("hosts: --status and --job apply to --from JOURNAL");
		goto out;
	}
	if (from) {
		rc = hosts_from_journal(from, status, job);
		goto out;
	}
	if (target_args_shard(&ta, &shard) < 0)
		goto out;
	target_args_opts(&ta, &to);
	if (targets_open(&to, &tg, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	while ((got = targets_next_in_shard(tg, &shard, &h, NULL, &err)) > 0) {
		/* inventories are data: their vars reach the terminal as
		 * text (termtext), never as control sequences */
		buf_reset(&line);
		termtext_puts(&line, h.name, 0);
		for (size_t i = 0; verbose && i < h.vars.len; i++) {
			buf_putc(&line, ' ');
			termtext_puts(&line, h.vars.items[i].key, 0);
			buf_putc(&line, '=');
			termtext_puts(&line, tmpl_is_secret_name(h.vars.items[i].key) ? "***" : h.vars.items[i].value, 0);
		}
		puts(line.data ? line.data : "");
		host_free(&h);
	}
	if (got < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	rc = fflush(stdout) == 0 ? 0 : 3;
out:
	buf_free(&line);
	if (tg)
		targets_close(tg);
	free(ta.inventories);
	free(ta.patterns);
	return rc;
}

/* The options of check and jobs: --jobs-dir and --help. Returns -1 to go
 * on, or the exit code to return now. */
static int jobs_dir_opts(int argc, char **argv, const char *usage, const char **jobs_dir)
{
	static const struct option longopts[] = {
		{"jobs-dir", required_argument, NULL, 'J'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
		switch (c) {
		case 'J':
			*jobs_dir = optarg;
			break;
		case 'h':
			fputs(usage, stdout);
			return 0;
		default:
			fputs(usage, stderr);
			return EXIT_USAGE;
		}
	}
	return -1;
}

static int cmd_check(int argc, char **argv)
{
	const char *jobs_dir = NULL;
	int rc = 0;

	if ((rc = jobs_dir_opts(argc, argv, usage_check, &jobs_dir)) >= 0)
		return rc;
	rc = 0;
	if (optind >= argc) {
		fputs(usage_check, stderr);
		return EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct job *job = NULL;
		if (load_job(argv[i], jobs_dir, &job) < 0) {
			rc = EXIT_USAGE;
			continue;
		}
		printf("%s: ok (%zu step%s)\n", job->path, job->nsteps, job->nsteps == 1 ? "" : "s");
		job_free(job);
	}
	return rc;
}

/* One job a line: its name, the directory it comes from (as run would
 * take it), its description. Descriptions and errors reach the terminal
 * as text (termtext). */
static int cmd_jobs(int argc, char **argv)
{
	const char *jobs_dir = NULL;
	struct jobdir dirs[JOBDIR_MAX];
	struct jobdir_entry *e;
	struct buf line = BUF_INIT;
	size_t n, ndirs, dirw = 0;
	int rc;

	if ((rc = jobs_dir_opts(argc, argv, usage_jobs, &jobs_dir)) >= 0)
		return rc;
	rc = 0;
	ndirs = jobdir_list(jobs_dir, dirs);
	e = jobdir_entries(jobs_dir, &n);
	for (size_t i = 0; i < n; i++)
		if (strlen(e[i].dir) > dirw)
			dirw = strlen(e[i].dir);
	for (size_t i = 0; i < n; i++) {
		buf_reset(&line);
		termtext_puts(&line, e[i].name, 0);
		buf_printf(&line, "%*s %-*s ", line.len < 24 ? (int)(24 - line.len) : 0, "", (int)dirw, e[i].dir);
		if (e[i].job) {
			termtext_puts(&line, e[i].job->description, 0);
		} else {
			buf_puts(&line, "(not usable: ");
			termtext_puts(&line, e[i].problem, 0);
			buf_putc(&line, ')');
			rc = 1;
		}
		puts(line.data);
	}
	if (n == 0)
		log_warn("no jobs found (looked in --jobs-dir, $FLEETRUN_JOBS_DIR, ./jobs.d, %s)",
		         dirs[ndirs - 1].path);
	buf_free(&line);
	jobdir_entries_free(e, n);
	return rc;
}

/* --summary text|json. 0, or -1 with the error logged. */
static int summary_format_parse(const char *arg, enum summary_format *out)
{
	if (strcmp(arg, "text") == 0)
		*out = SUMMARY_TEXT;
	else if (strcmp(arg, "json") == 0)
		*out = SUMMARY_JSON;
	else {
		log_error("--summary '%s': expected text or json", arg);
		return -1;
	}
	return 0;
}

static int cmd_report(int argc, char **argv)
{
	enum { OPT_SUMMARY = 256, OPT_HTML, OPT_JOB };
	static const struct option longopts[] = {
		{"summary", required_argument, NULL, OPT_SUMMARY},
		{"html", required_argument, NULL, OPT_HTML},
		{"job", required_argument, NULL, OPT_JOB},
		{"quiet", no_argument, NULL, 'q'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct report_opts o = {.format = SUMMARY_TEXT};
	enum summary_format summary = SUMMARY_NONE;
	int c, quiet = 0;

	while ((c = getopt_long(argc, argv, "qh", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SUMMARY:
			if (summary_format_parse(optarg, &summary) < 0)
				return EXIT_USAGE;
			break;
		case OPT_HTML:
			o.html = optarg;
			break;
		case OPT_JOB:
			o.job = optarg;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			fputs(usage_report, stdout);
			return 0;
		default:
			fputs(usage_report, stderr);
			return EXIT_USAGE;
		}
	}
	if (optind != argc - 1) {
		log_error(optind >= argc ? "report: which journal? (the -o FILE of a run)"
		                         : "report: one journal at a time (got '%s' after it)",
		          optind < argc ? argv[optind + 1] : "");
		fputs(usage_report, stderr);
		return EXIT_USAGE;
	}
	o.journal = argv[optind];
	o.format = summary != SUMMARY_NONE ? summary : quiet ? SUMMARY_NONE : SUMMARY_TEXT;
	return report_run(&o);
}

/* --dry-run: the hosts and each host's steps as they would run, secrets
 * shown as ***. */
static int run_dry(const struct run_opts *o)
{
	struct targets *tg = NULL;
	struct host h;
	struct err err;
	struct buf line = BUF_INIT, shown = BUF_INIT;
	uint64_t n = 0;
	int got, rc = EXIT_USAGE;

	if (targets_open(&o->targets, &tg, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	while ((got = targets_next_in_shard(tg, &o->shard, &h, NULL, &err)) > 0) {
		struct kvlist builtins = KVLIST_INIT, secrets = KVLIST_INIT;
		struct tmpl_scope scope = {NULL, &h.vars, &builtins};

		tmpl_builtins(&builtins, o->job->name, h.name, &h.vars);
		/* as the worker does: secret host vars are masked wherever
		 * they show up, used by a template or not */
		for (size_t i = 0; i < h.vars.len; i++)
			if (tmpl_is_secret_name(h.vars.items[i].key))
				tmpl_secret_add(&secrets, h.vars.items[i].value);
		buf_reset(&shown);
		termtext_puts(&shown, h.name, 0);
		puts(shown.data ? shown.data : "");
		for (size_t i = 0; i < o->job->nsteps; i++) {
			const struct step *st = &o->job->steps[i];
			buf_reset(&line);
			buf_reset(&shown);
			if (tmpl_render(st->text, &scope, TMPL_ENV_VALUE, &line, &secrets, &err) < 0) {
				buf_reset(&line);
				buf_printf(&line, "(error: %s)", err.msg);
			}
			tmpl_mask(&line, &secrets);
			/* host vars are inventory data: text on the terminal */
			termtext_append(&shown, line.data, line.len, 0);
			printf("  %s: %s\n", step_kind_name(st->kind), shown.data ? shown.data : "");
		}
		kvlist_free(&builtins);
		kvlist_free(&secrets);
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

static int cmd_run(int argc, char **argv)
{
	enum { OPT_ORDERED = 256, OPT_DRY, OPT_FORMAT, OPT_GRACE, OPT_MAXOUT, OPT_JOBSDIR, OPT_RESUME, OPT_RETRY_FAILED,
	       OPT_RETRIES, OPT_RETRY_DELAY, OPT_RATE, OPT_WMEM, OPT_WCPU, OPT_WFILES, OPT_MAXTASKS, OPT_OUTDIR,
	       OPT_GATHER, OPT_COLOR, OPT_NO_PROGRESS, OPT_SUMMARY };
	static const struct option longopts[] = {
		{"inventory", required_argument, NULL, 'i'},
		{"hosts", required_argument, NULL, 'H'},
		{"limit", required_argument, NULL, 'l'},
		{"workers", required_argument, NULL, 'w'},
		{"timeout", required_argument, NULL, 't'},
		{"output", required_argument, NULL, 'o'},
		{"ordered", no_argument, NULL, OPT_ORDERED},
		{"resume", no_argument, NULL, OPT_RESUME},
		{"retry-failed", no_argument, NULL, OPT_RETRY_FAILED},
		{"retries", required_argument, NULL, OPT_RETRIES},
		{"retry-delay", required_argument, NULL, OPT_RETRY_DELAY},
		{"rate", required_argument, NULL, OPT_RATE},
		{"worker-mem", required_argument, NULL, OPT_WMEM},
		{"worker-cpu", required_argument, NULL, OPT_WCPU},
		{"worker-files", required_argument, NULL, OPT_WFILES},
		{"max-tasks-per-worker", required_argument, NULL, OPT_MAXTASKS},
		{"outdir", required_argument, NULL, OPT_OUTDIR},
		{"gather", no_argument, NULL, OPT_GATHER},
		{"color", required_argument, NULL, OPT_COLOR},
		{"no-progress", no_argument, NULL, OPT_NO_PROGRESS},
		{"dry-run", no_argument, NULL, OPT_DRY},
		{"format", required_argument, NULL, OPT_FORMAT},
		{"summary", required_argument, NULL, OPT_SUMMARY},
		{"grace", required_argument, NULL, OPT_GRACE},
		{"max-output", required_argument, NULL, OPT_MAXOUT},
		{"jobs-dir", required_argument, NULL, OPT_JOBSDIR},
		{"shard", required_argument, NULL, OPT_SHARD},
		{"shards", required_argument, NULL, OPT_SHARDS},
		{"quiet", no_argument, NULL, 'q'},
		{"verbose", no_argument, NULL, 'v'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct run_opts o = {
		.workers = RUN_DEFAULT_WORKERS,
		.grace_ms = RUN_DEFAULT_GRACE_MS,
		.retries = -1,
		.retry_delay_ms = RUN_DEFAULT_RETRY_DELAY_MS,
		.output_cap = PROTO_DEFAULT_OUTPUT_CAP,
		.format = isatty(STDOUT_FILENO) ? FORMAT_TEXT : FORMAT_JSONL,
	};
	struct target_args ta = {0};
	struct job *job = NULL;
	const char *jobs_dir = NULL;
	char *wpath = NULL, *journal = NULL;
	enum summary_format summary = SUMMARY_NONE; /* NONE: not asked for */
	struct err err;
	int64_t timeout_ms = 0;
	long long v;
	int c, verbose = 0, dry = 0, rc = EXIT_USAGE, color = -1, progress = 1;

	while ((c = getopt_long(argc, argv, "i:H:l:w:t:o:qvh", longopts, NULL)) != -1) {
		if (target_args_option(&ta, c, optarg))
			continue;
		switch (c) {
		case 'w':
			if (int_parse(optarg, 1, RUN_MAX_WORKERS, &v) < 0) {
				log_error("-w '%s': expected a number of workers from 1 to %d", optarg, RUN_MAX_WORKERS);
				goto out;
			}
			o.workers = (int)v;
			break;
		case 't':
			if (duration_parse(optarg, &timeout_ms) < 0 || timeout_ms <= 0) {
				log_error("-t '%s': expected a duration such as 30s, 500ms or 2m", optarg);
				goto out;
			}
			break;
		case OPT_GRACE:
			if (duration_parse(optarg, &o.grace_ms) < 0) {
				log_error("--grace '%s': expected a duration such as 2s or 500ms", optarg);
				goto out;
			}
			break;
		case 'o':
			o.journal = optarg;
			break;
		case OPT_ORDERED:
			o.ordered = true;
			break;
		case OPT_RESUME:
			o.resume = true;
			break;
		case OPT_RETRY_FAILED:
			o.retry_failed = true;
			break;
		case OPT_RETRIES:
			if (int_parse(optarg, 0, 100, &v) < 0) {
				log_error("--retries '%s': expected a number of retries from 0 to 100", optarg);
				goto out;
			}
			o.retries = (int)v;
			break;
		case OPT_RETRY_DELAY:
			if (duration_parse(optarg, &o.retry_delay_ms) < 0) {
				log_error("--retry-delay '%s': expected a duration such as 1s or 200ms", optarg);
				goto out;
			}
			break;
		case OPT_RATE: {
			char *end;
			errno = 0;
			o.rate = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(o.rate > 0) || o.rate > 1e6) {
				log_error("--rate '%s': expected tasks per second, such as 20 or 0.5", optarg);
				goto out;
			}
			break;
		}
		case OPT_WMEM:
			if (size_parse(optarg, &o.limits.mem_bytes) < 0 || o.limits.mem_bytes < 16u << 20) {
				log_error("--worker-mem '%s': expected a size of at least 16M, such as 512M or 2G", optarg);
				goto out;
			}
			break;
		case OPT_WCPU:
			if (duration_parse(optarg, &o.worker_cpu_ms) < 0 || o.worker_cpu_ms < 1000) {
				log_error("--worker-cpu '%s': expected a duration of at least 1s, such as 10s", optarg);
				goto out;
			}
			break;
		case OPT_WFILES:
			if (int_parse(optarg, 16, 1 << 20, &v) < 0) {
				log_error("--worker-files '%s': expected a number of open files from 16 to 1048576", optarg);
				goto out;
			}
			o.limits.files = (uint64_t)v;
			break;
		case OPT_OUTDIR:
			o.outdir = optarg;
			break;
		case OPT_GATHER:
			o.gather = true;
			break;
		case OPT_COLOR:
			if (strcmp(optarg, "auto") == 0)
				color = -1;
			else if (strcmp(optarg, "always") == 0)
				color = 1;
			else if (strcmp(optarg, "never") == 0)
				color = 0;
			else {
				log_error("--color '%s': expected auto, always or never", optarg);
				goto out;
			}
			break;
		case OPT_NO_PROGRESS:
			progress = 0;
			break;
		case OPT_MAXTASKS:
			if (int_parse(optarg, 1, INT32_MAX, &v) < 0) {
				log_error("--max-tasks-per-worker '%s': expected a number of tasks of at least 1", optarg);
				goto out;
			}
			o.max_tasks_per_worker = (uint64_t)v;
			break;
		case OPT_DRY:
			dry = 1;
			break;
		case OPT_FORMAT:
			if (strcmp(optarg, "text") == 0)
				o.format = FORMAT_TEXT;
			else if (strcmp(optarg, "jsonl") == 0 || strcmp(optarg, "json") == 0)
				o.format = FORMAT_JSONL;
			else if (strcmp(optarg, "lines") == 0 || strcmp(optarg, "pdsh") == 0)
				o.format = FORMAT_LINES;
			else {
				log_error("--format '%s': expected text, jsonl or lines", optarg);
				goto out;
			}
			break;
		case OPT_SUMMARY:
			if (summary_format_parse(optarg, &summary) < 0)
				goto out;
			break;
		case OPT_MAXOUT:
			if (int_parse(optarg, 0, 16 * 1024 * 1024, &v) < 0) {
				log_error("--max-output '%s': expected bytes from 0 to 16777216", optarg);
				goto out;
			}
			o.output_cap = (uint64_t)v;
			break;
		case OPT_JOBSDIR:
			jobs_dir = optarg;
			break;
		case 'q':
			o.quiet = true;
			break;
		case 'v':
			verbose++;
			break;
		case 'h':
			fputs(usage_run, stdout);
			rc = 0;
			goto out;
		default:
			fputs(usage_run, stderr);
			goto out;
		}
	}
	if (optind != argc - 1) {
		log_error(optind >= argc ? "run: which job? (fleetrun jobs lists them)"
		                         : "run: one job at a time (got '%s' after the job)",
		          optind < argc ? argv[optind + 1] : "");
		fputs(usage_run, stderr);
		goto out;
	}
	/* -q quiets the per-host lines and the summary; -v still asks for
	 * messages, so -q -v gives the messages alone */
	log_init("fleetrun", verbose >= 2 ? LOG_DEBUG : verbose ? LOG_INFO : o.quiet ? LOG_ERROR : LOG_WARN);
	/* -q drops the summary too, unless --summary asks for it */
	o.summary = summary != SUMMARY_NONE ? summary : o.quiet ? SUMMARY_NONE : SUMMARY_TEXT;
	if (ta.ninventories == 0 && ta.npatterns == 0) {
		log_error("run: no targets: give an inventory (-i FILE) or hosts (-H PATTERN)");
		goto out;
	}
	if ((o.resume || o.retry_failed) && !o.journal) {
		log_error("%s: which journal? give it with -o FILE", o.resume ? "--resume" : "--retry-failed");
		goto out;
	}
	if (target_args_shard(&ta, &o.shard) < 0)
		goto out;
	if (o.journal) {
		/* -o results-%K.jsonl: each shard its own journal */
		if (!(journal = shard_path(o.journal, &o.shard, &err))) {
			log_error("%s", err.msg);
			goto out;
		}
		if (o.shard.count > 1 && !shard_path_has_index(o.journal))
			log_warn("-o %s names no shard (%%K): every shard appends to this one journal, one run at a time",
			         o.journal);
		o.journal = journal;
	}
	if (load_job(argv[optind], jobs_dir, &job) < 0)
		goto out;
	o.job = job;
	o.timeout_ms = timeout_ms ? timeout_ms : job->timeout_ms;
	target_args_opts(&ta, &o.targets);
	/* the live line: a terminal on stderr, and not -q; colors unless
	 * NO_COLOR (no-color.org) or --color=never */
	o.progress = progress && !o.quiet && isatty(STDERR_FILENO);
	o.color = color == 1 || (color == -1 && isatty(STDERR_FILENO) && !(getenv("NO_COLOR") && *getenv("NO_COLOR")));
	if (dry) {
		rc = run_dry(&o);
		goto out;
	}
	wpath = worker_path();
	o.worker_path = wpath;
	rc = run_job(&o);
out:
	job_free(job);
	free(wpath);
	free(journal);
	free(ta.inventories);
	free(ta.patterns);
	return rc;
}

/* The supervisor holds the inventory (host vars, passwords) and the
 * environment's secrets (${env:...}): no core file may carry them, and no
 * process of the same user may read its memory through ptrace or
 * /proc/PID/mem. Set first, for every subcommand. Workers inherit the core
 * limit; exec makes them dumpable again, and they set their own. */
static void main_protect_secrets(void)
{
	struct rlimit none = {0, 0};

	setrlimit(RLIMIT_CORE, &none);
	prctl(PR_SET_DUMPABLE, 0, 0, 0, 0);
}

int main(int argc, char **argv)
{
	const char *cmd = argc > 1 ? argv[1] : NULL;

	main_protect_secrets();
	log_init("fleetrun", LOG_WARN);
	if (!cmd || strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		fputs(usage_main, cmd ? stdout : stderr);
		return cmd ? 0 : EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("fleetrun %s (protocol %d)\n", FLEETRUN_VERSION, PROTO_VERSION);
		return 0;
	}
	/* getopt_long sees the subcommand as argv[0] */
	if (strcmp(cmd, "run") == 0)
		return cmd_run(argc - 1, argv + 1);
	if (strcmp(cmd, "hosts") == 0)
		return cmd_hosts(argc - 1, argv + 1);
	if (strcmp(cmd, "jobs") == 0)
		return cmd_jobs(argc - 1, argv + 1);
	if (strcmp(cmd, "check") == 0)
		return cmd_check(argc - 1, argv + 1);
	if (strcmp(cmd, "report") == 0)
		return cmd_report(argc - 1, argv + 1);
	if (strcmp(cmd, "merge") == 0)
		return merge_cmd(argc - 1, argv + 1);
	if (strcmp(cmd, "submit") == 0)
		return submit_cmd(argc - 1, argv + 1);
	log_error("unknown command '%s'", cmd);
	fputs(usage_main, stderr);
	return EXIT_USAGE;
}
