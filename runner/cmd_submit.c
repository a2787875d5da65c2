/* cmd_submit: `fleetrun submit --slurm --shards N JOB [run options]`: its
 * options and the places its script names; the script, the checks and
 * sbatch are submit.c's. */
#include <getopt.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "job.h"
#include "jobdir.h"
#include "log.h"
#include "shard.h"
#include "submit.h"

static const char cmd_submit_usage[] =
	"usage: fleetrun submit --slurm --shards N [--dir DIR] [--sbatch OPTION]...\n"
	"                       [--dry-run] JOB [run options]\n"
	"\n"
	"Run JOB as a Slurm job array of N shards: array task K runs\n"
	"  fleetrun run JOB --shard auto --shards N -o DIR/results-%K.jsonl --resume [run options]\n"
	"over the hosts of shard K. Then, when the array has ended:\n"
	"  fleetrun merge DIR/results-*.jsonl -o DIR/all.jsonl\n"
	"\n"
	"  --slurm            submit with sbatch (the only scheduler so far; for\n"
	"                     Kubernetes see runner/k8s/fleetrun-indexed-job.yaml)\n"
	"  --shards N         the number of shards (array tasks 0..N-1)\n"
	"  --dir DIR          where the journals, the script and Slurm's logs go\n"
	"                     (default ./fleetrun-JOB-YYYYmmdd-HHMMSS; created 0700)\n"
	"  --sbatch OPTION    an #SBATCH line of the script, such as\n"
	"                     --sbatch=--partition=batch or --sbatch=--time=1:00:00\n"
	"                     (repeatable)\n"
	"  --dry-run          print the script; write and submit nothing\n"
	"\n"
	"The run options (-i, -H, -l, -w, -t, ...) are checked by a dry run of\n"
	"shard 0 before anything is submitted. Each task resumes its journal, so\n"
	"a task Slurm requeues, or one you resubmit (sbatch --array=K DIR/JOB.sbatch),\n"
	"runs only the hosts its shard has not finished.\n"
	"\n"
	"example:\n"
	"  fleetrun submit --slurm --shards 16 --sbatch=--partition=batch show-version -i routers.txt\n";

/* The command line and what it comes to. */
struct cmd_submit {
	struct submit_opts o;
	const char **sbatch; /* --sbatch values (argv's); the array malloced, owned */
	const char *dir;     /* --dir as given, or NULL */
	bool slurm;          /* --slurm */
	bool dry_run;        /* --dry-run: print the script, submit nothing */
	char *self;          /* this program's path: malloced, owned */
	char *name;          /* the job's name: malloced, owned */
	char *absdir;        /* the journals' directory, absolute: malloced, owned */
	char cwd[PATH_MAX];
};

static void cmd_submit_free(struct cmd_submit *s)
{
	free(s->sbatch);
	free(s->self);
	free(s->name);
	free(s->absdir);
}

/* submit's own options, which end at JOB: what follows is run's. Their
 * values have checks of their own (--shards as run's, an --sbatch line)
 * and getopt must stop at JOB, hence a switch and not cli.h's tables.
 * -1 to go on, or the exit code. */
static int cmd_submit_options(int argc, char **argv, struct cmd_submit *s)
{
	enum { OPT_SLURM = 256, OPT_SHARDS, OPT_DIR, OPT_SBATCH, OPT_DRY };
	static const struct option longopts[] = {
		{"slurm", no_argument, NULL, OPT_SLURM},
		{"shards", required_argument, NULL, OPT_SHARDS},
		{"dir", required_argument, NULL, OPT_DIR},
		{"sbatch", required_argument, NULL, OPT_SBATCH},
		{"dry-run", no_argument, NULL, OPT_DRY},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	struct err err;
	int c;

	/* '+': the options end at JOB */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SLURM:
			s->slurm = true;
			break;
		case OPT_SHARDS:
			if (shard_parse_count(optarg, &s->o.shards, &err) < 0) {
				log_error("submit: %s", err.msg);
				return CLI_EXIT_USAGE;
			}
			break;
		case OPT_DIR:
			s->dir = optarg;
			break;
		case OPT_SBATCH:
			if (strchr(optarg, '\n') || strchr(optarg, '\r') || optarg[0] != '-') {
				log_error("submit: --sbatch '%s': expected one sbatch option such as --partition=batch",
				          optarg);
				return CLI_EXIT_USAGE;
			}
			s->sbatch = xreallocarray(s->sbatch, s->o.nsbatch_args + 1, sizeof(*s->sbatch));
			s->sbatch[s->o.nsbatch_args++] = optarg;
			break;
		case OPT_DRY:
			s->dry_run = true;
			break;
		case 'h':
			fputs(cmd_submit_usage, stdout);
			return 0;
		default:
			fputs(cmd_submit_usage, stderr);
			return CLI_EXIT_USAGE;
		}
	}
	s->o.sbatch_args = s->sbatch;
	return -1;
}

/* After the options: JOB and run's options, and the places the script
 * names (this program, the current and the journals' directory). 0, or -1
 * with err. */
static int cmd_submit_prepare(int argc, char **argv, struct cmd_submit *s, struct err *err)
{
	struct submit_opts *o = &s->o;

	if (!s->slurm) {
		err_set(err, "submit: which scheduler? --slurm (for Kubernetes, see the Indexed Job in "
		        "runner/k8s/fleetrun-indexed-job.yaml)");
		return -1;
	}
	if (!o->shards) {
		err_set(err, "submit: how many shards? give --shards N");
		return -1;
	}
	if (optind >= argc) {
		err_set(err, "submit: which job? (fleetrun jobs lists them)");
		return -1;
	}
	o->job = argv[optind];
	o->run_args = (const char *const *)(argv + optind + 1);
	o->nrun_args = (size_t)(argc - optind - 1);
	if (submit_check_run_args(o->run_args, o->nrun_args, err) < 0)
		return -1;
	for (size_t i = 0; i < o->nrun_args; i++)
		o->resume |= strcmp(o->run_args[i], "--resume") == 0;
	if (!(s->self = jobdir_self_exe()) || !getcwd(s->cwd, sizeof(s->cwd))) {
		err_set(err, "submit: cannot tell where this program or this directory is");
		return -1;
	}
	o->fleetrun = s->self;
	o->cwd = s->cwd;
	o->job_name = s->name = job_name_from_path(o->job);
	if (s->dir) {
		s->absdir = s->dir[0] == '/' ? xstrdup(s->dir) : xasprintf("%s/%s", s->cwd, s->dir);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
		s->absdir = xasprintf("%s/fleetrun-%s-%s", s->cwd, s->name, stamp);
	}
	/* trailing slashes would double in the script's paths */
	for (size_t n = strlen(s->absdir); n > 1 && s->absdir[n - 1] == '/'; n--)
		s->absdir[n - 1] = '\0';
	o->dir = s->absdir;
	if (!submit_plain_path(o->dir) || !submit_plain_path(o->cwd) || !submit_plain_path(o->job_name)) {
		err_set(err, "submit: %s: the directory, the current directory and the job name go into #SBATCH lines "
		        "and file patterns: expected them without spaces, quotes, backslashes, $, ` or %%",
		        !submit_plain_path(o->dir) ? o->dir : !submit_plain_path(o->cwd) ? o->cwd : o->job_name);
		return -1;
	}
	return 0;
}

int cmd_submit(int argc, char **argv)
{
	struct cmd_submit s = {0};
	const struct submit_opts *o = &s.o;
	char *script_path = NULL;
	struct buf script = BUF_INIT, id = BUF_INIT;
	struct err err;
	int rc;

	if ((rc = cmd_submit_options(argc, argv, &s)) >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	if (cmd_submit_prepare(argc, argv, &s, &err) < 0 || submit_validate(o, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	submit_script(o, &script);
	if (s.dry_run) {
		fwrite(script.data, 1, script.len, stdout);
		rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_CUT;
		goto out;
	}
	if (submit_prepare_dir(o, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	script_path = xasprintf("%s/%s.sbatch", o->dir, s.name);
	if (submit_write_file(script_path, &script, &err) < 0 || submit_sbatch(script_path, &id, &err) < 0) {
		log_error("%s", err.msg);
		rc = CLI_EXIT_CUT;
		goto out;
	}
	printf("%s\n", id.data);
	fprintf(stderr,
	        "fleetrun: submitted Slurm job %s: %s over %u shards, journals in %s\n"
	        "  progress:      squeue -j %s\n"
	        "  one shard again (resumes its journal): sbatch --array=K %s\n"
	        "  when it ends:  fleetrun merge %s/results-*.jsonl -o %s/all.jsonl\n",
	        id.data, s.name, o->shards, o->dir, id.data, script_path, o->dir, o->dir);
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_CUT;
out:
	buf_free(&script);
	buf_free(&id);
	free(script_path);
	cmd_submit_free(&s);
	return rc;
}
