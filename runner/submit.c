/* submit: the Slurm job array of a sharded run. */
#include "submit.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "job.h"
#include "log.h"
#include "shard.h"

#define EXIT_USAGE 2
/* What is kept of a child's captured output. */
#define SUBMIT_CAPTURE_MAX (64 * 1024)

extern char **environ;

static const char usage_submit[] =
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

/* Characters that need no quoting in a shell word. */
static bool submit_shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_@%+=:,./-", *s))
			return false;
	return true;
}

/* One shell word: as it is when safe, else in single quotes, where only
 * the single quote itself needs care ('\''). */
static void submit_quote(struct buf *b, const char *s)
{
	if (submit_shell_safe(s)) {
		buf_puts(b, s);
		return;
	}
	buf_putc(b, '\'');
	for (; *s; s++) {
		if (*s == '\'')
			buf_puts(b, "'\\''");
		else
			buf_putc(b, *s);
	}
	buf_putc(b, '\'');
}

int submit_plain_path(const char *s)
{
	return *s && !strpbrk(s, " \t\n\r\"'\\$`%");
}

void submit_script(const struct submit_opts *o, struct buf *out)
{
	buf_printf(out,
	           "#!/bin/sh\n"
	           "# fleetrun submit: job %s over %u shards, one Slurm array task each.\n"
	           "# Task K runs the hosts of shard K into %s/results-K.jsonl and resumes\n"
	           "# that journal when it runs again (requeued, or resubmitted alone with\n"
	           "# sbatch --array=K %s/%s.sbatch).\n"
	           "# When the array has ended:\n"
	           "#   fleetrun merge %s/results-*.jsonl -o %s/all.jsonl\n",
	           o->job_name, o->shards, o->dir, o->dir, o->job_name, o->dir, o->dir);
	buf_printf(out, "#SBATCH --job-name=fleetrun-%s\n", o->job_name);
	buf_printf(out, "#SBATCH --array=0-%u\n", o->shards - 1);
	buf_printf(out, "#SBATCH --output=%s/slurm-%%A_%%a.out\n", o->dir);
	buf_printf(out, "#SBATCH --chdir=%s\n", o->cwd);
	for (size_t i = 0; i < o->nsbatch_args; i++)
		buf_printf(out, "#SBATCH %s\n", o->sbatch_args[i]);
	buf_puts(out, "exec ");
	submit_quote(out, o->fleetrun);
	buf_puts(out, " run ");
	submit_quote(out, o->job);
	buf_printf(out, " --shard auto --shards %u -o %s/results-%%K.jsonl --resume --format text", o->shards,
	           o->dir);
	for (size_t i = 0; i < o->nrun_args; i++) {
		buf_putc(out, ' ');
		submit_quote(out, o->run_args[i]);
	}
	buf_putc(out, '\n');
}

int submit_check_run_args(const char *const *args, size_t n, struct err *err)
{
	/* getopt takes any unambiguous prefix of a long option: --out is
	 * --output, so a prefix of these is refused too */
	static const char *const refused[] = {"output", "shard", "shards", "dry-run", "help"};

	for (size_t i = 0; i < n; i++) {
		const char *a = args[i];
		if (strcmp(a, "--") == 0)
			break;
		if (a[0] == '-' && a[1] == '-') {
			size_t len = strcspn(a + 2, "=");
			for (size_t k = 0; k < ARRAY_LEN(refused); k++) {
				if (len && strncmp(a + 2, refused[k], len) == 0) {
					err_set(err, "submit: '%s' is not a run option submit passes on: it sets -o, --shard "
					        "and --shards itself, and --dry-run would run nothing (submit --dry-run "
					        "prints the script)",
					        a);
					return -1;
				}
			}
			continue;
		}
		if (a[0] != '-' || !a[1])
			continue;
		/* a cluster of short options, such as -qo FILE or -w8 */
		for (const char *p = a + 1; *p; p++) {
			if (*p == 'o' || *p == 'h') {
				err_set(err, "submit: '%s': submit sets the journals itself (DIR/results-%%K.jsonl, see --dir)",
				        a);
				return -1;
			}
			if (strchr("iHlwt", *p)) {
				/* the rest is its value, or the next word is */
				if (!p[1])
					i++;
				break;
			}
		}
	}
	return 0;
}

/* This program's absolute path, for the script. NULL when unknown. */
static char *submit_self(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	return xstrdup(self);
}

/* Run argv (looked up in PATH) to its end, with its stdout (fd 1) or its
 * stderr (fd 2) read into cap, at most SUBMIT_CAPTURE_MAX bytes of it;
 * when stderr is captured, stdout goes to /dev/null. *status is its wait
 * status. 0, or -1 with err when it could not be started. */
static int submit_spawn(char *const argv[], int capture_fd, struct buf *cap, int *status, struct err *err)
{
	posix_spawn_file_actions_t fa;
	int pfd[2] = {-1, -1}, r = -1, e;
	pid_t pid;
	char chunk[4096];
	ssize_t n;

	if (pipe2(pfd, O_CLOEXEC) < 0) {
		err_set(err, "pipe: %s", strerror(errno));
		return -1;
	}
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, pfd[1], capture_fd);
	if (capture_fd == 2)
		posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	e = posix_spawnp(&pid, argv[0], &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	close(pfd[1]);
	if (e != 0) {
		err_set(err, "%s: cannot run it: %s", argv[0], strerror(e));
		goto out;
	}
	/* until the child closes its end: when it exits */
	while ((n = read(pfd[0], chunk, sizeof(chunk))) != 0) {
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			break;
		if (cap->len < SUBMIT_CAPTURE_MAX)
			buf_append(cap, chunk, (size_t)n);
	}
	while (waitpid(pid, status, 0) < 0) {
		if (errno != EINTR) {
			err_set(err, "%s: waitpid: %s", argv[0], strerror(errno));
			goto out;
		}
	}
	r = 0;
out:
	close(pfd[0]);
	return r;
}

/* A dry run of shard 0 with the run options: the job, the options and the
 * targets are checked here, not in a queue an hour later. */
static int submit_validate(const struct submit_opts *o)
{
	size_t n = 0, max = o->nrun_args + 12;
	char **argv = xcalloc(max, sizeof(*argv));
	char *journal = xasprintf("%s/results-%%K.jsonl", o->dir);
	char count[32];
	struct buf cap = BUF_INIT;
	struct err err;
	int status = 0, r = -1;

	snprintf(count, sizeof(count), "0/%u", o->shards);
	argv[n++] = (char *)o->fleetrun;
	argv[n++] = "run";
	argv[n++] = (char *)o->job;
	for (size_t i = 0; i < o->nrun_args; i++)
		argv[n++] = (char *)o->run_args[i];
	argv[n++] = "--shard";
	argv[n++] = count;
	argv[n++] = "-o";
	argv[n++] = journal;
	argv[n++] = "--dry-run";
	argv[n] = NULL;
	if (submit_spawn(argv, 2, &cap, &status, &err) < 0) {
		log_error("submit: %s", err.msg);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* its messages say what is wrong */
		fwrite(cap.data ? cap.data : "", 1, cap.len, stderr);
		log_error("submit: the run options were refused (a dry run of shard 0 failed, above); nothing was "
		          "submitted");
		goto out;
	}
	r = 0;
out:
	buf_free(&cap);
	free(journal);
	free(argv);
	return r;
}

/* The journals' directory: created, or an earlier one whose journals this
 * submission may continue only when asked (--resume). */
static int submit_prepare_dir(const struct submit_opts *o, bool resume)
{
	struct stat sb;

	if (mkdir(o->dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || stat(o->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		log_error("submit: --dir %s: cannot create the directory: %s", o->dir,
		          errno == EEXIST ? "a file has that name" : strerror(errno));
		return -1;
	}
	for (uint32_t k = 0; k < o->shards && !resume; k++) {
		char *path = xasprintf("%s/results-%u.jsonl", o->dir, k);
		int there = access(path, F_OK) == 0;
		free(path);
		if (there) {
			log_error("submit: %s already holds journals of an earlier submission (results-%u.jsonl): give "
			          "another --dir, or --resume to continue them",
			          o->dir, k);
			return -1;
		}
	}
	return 0;
}

static int submit_write_file(const char *path, const struct buf *b)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	size_t off = 0;
	int r = -1;

	if (fd < 0) {
		log_error("submit: %s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	while (off < b->len) {
		ssize_t n = write(fd, b->data + off, b->len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_error("submit: %s: cannot write: %s", path, strerror(errno));
			goto out;
		}
		off += (size_t)n;
	}
	r = 0;
out:
	close(fd);
	return r;
}

/* sbatch --parsable SCRIPT; the job id into id. */
static int submit_sbatch(const char *script, struct buf *id)
{
	char *argv[] = {"sbatch", "--parsable", (char *)script, NULL};
	struct err err;
	int status = 0;
	size_t n;

	if (submit_spawn(argv, 1, id, &status, &err) < 0) {
		log_error("submit: %s (is this a Slurm submit host? sbatch must be in PATH)", err.msg);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		log_error("submit: sbatch %s failed (%s %d; its message is above); nothing was submitted", script,
		          WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	/* "JOBID" or "JOBID;CLUSTER", and a newline */
	buf_putc(id, '\0');
	n = strcspn(id->data, ";\n");
	id->data[n] = '\0';
	id->len = n;
	if (n == 0) {
		log_error("submit: sbatch said nothing about the job it submitted");
		return -1;
	}
	return 0;
}

int submit_cmd(int argc, char **argv)
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
	struct submit_opts o = {0};
	const char **sbatch = NULL;
	const char *dir = NULL;
	char *self = NULL, *name = NULL, *absdir = NULL, *script_path = NULL, cwd[PATH_MAX];
	struct buf script = BUF_INIT, id = BUF_INIT;
	struct err err;
	bool slurm = false, dry = false, resume = false;
	int c, rc = EXIT_USAGE;

	/* '+': the options end at JOB; what follows is run's */
	while ((c = getopt_long(argc, argv, "+h", longopts, NULL)) != -1) {
		switch (c) {
		case OPT_SLURM:
			slurm = true;
			break;
		case OPT_SHARDS:
			if (shard_parse_count(optarg, &o.shards, &err) < 0) {
				log_error("submit: %s", err.msg);
				goto out;
			}
			break;
		case OPT_DIR:
			dir = optarg;
			break;
		case OPT_SBATCH:
			if (strchr(optarg, '\n') || strchr(optarg, '\r') || optarg[0] != '-') {
				log_error("submit: --sbatch '%s': expected one sbatch option such as --partition=batch", optarg);
				goto out;
			}
			sbatch = xreallocarray(sbatch, o.nsbatch_args + 1, sizeof(*sbatch));
			sbatch[o.nsbatch_args++] = optarg;
			break;
		case OPT_DRY:
			dry = true;
			break;
		case 'h':
			fputs(usage_submit, stdout);
			rc = 0;
			goto out;
		default:
			fputs(usage_submit, stderr);
			goto out;
		}
	}
	o.sbatch_args = sbatch;
	if (!slurm) {
		log_error("submit: which scheduler? --slurm (for Kubernetes, see the Indexed Job in "
		          "runner/k8s/fleetrun-indexed-job.yaml)");
		goto out;
	}
	if (!o.shards) {
		log_error("submit: how many shards? give --shards N");
		goto out;
	}
	if (optind >= argc) {
		log_error("submit: which job? (fleetrun jobs lists them)");
		goto out;
	}
	o.job = argv[optind];
	o.run_args = (const char *const *)(argv + optind + 1);
	o.nrun_args = (size_t)(argc - optind - 1);
	if (submit_check_run_args(o.run_args, o.nrun_args, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	for (size_t i = 0; i < o.nrun_args; i++)
		resume |= strcmp(o.run_args[i], "--resume") == 0;
	if (!(self = submit_self()) || !getcwd(cwd, sizeof(cwd))) {
		log_error("submit: cannot tell where this program or this directory is");
		goto out;
	}
	o.fleetrun = self;
	o.cwd = cwd;
	o.job_name = name = job_name_from_path(o.job);
	if (dir) {
		absdir = dir[0] == '/' ? xstrdup(dir) : xasprintf("%s/%s", cwd, dir);
	} else {
		char stamp[32];
		time_t now = time(NULL);
		struct tm tm;
		strftime(stamp, sizeof(stamp), "%Y%m%d-%H%M%S", localtime_r(&now, &tm));
		absdir = xasprintf("%s/fleetrun-%s-%s", cwd, name, stamp);
	}
	/* trailing slashes would double in the script's paths */
	for (size_t n = strlen(absdir); n > 1 && absdir[n - 1] == '/'; n--)
		absdir[n - 1] = '\0';
	o.dir = absdir;
	if (!submit_plain_path(o.dir) || !submit_plain_path(o.cwd) || !submit_plain_path(o.job_name)) {
		log_error("submit: %s: the directory, the current directory and the job name go into #SBATCH lines "
		          "and file patterns: expected them without spaces, quotes, backslashes, $, ` or %%",
		          !submit_plain_path(o.dir) ? o.dir : !submit_plain_path(o.cwd) ? o.cwd : o.job_name);
		goto out;
	}
	if (submit_validate(&o) < 0)
		goto out;
	submit_script(&o, &script);
	if (dry) {
		fwrite(script.data, 1, script.len, stdout);
		rc = fflush(stdout) == 0 ? 0 : 3;
		goto out;
	}
	if (submit_prepare_dir(&o, resume) < 0)
		goto out;
	script_path = xasprintf("%s/%s.sbatch", o.dir, name);
	if (submit_write_file(script_path, &script) < 0 || submit_sbatch(script_path, &id) < 0) {
		rc = 3;
		goto out;
	}
	printf("%s\n", id.data);
	fprintf(stderr,
	        "fleetrun: submitted Slurm job %s: %s over %u shards, journals in %s\n"
	        "  progress:      squeue -j %s\n"
	        "  one shard again (resumes its journal): sbatch --array=K %s\n"
	        "  when it ends:  fleetrun merge %s/results-*.jsonl -o %s/all.jsonl\n",
	        id.data, name, o.shards, o.dir, id.data, script_path, o.dir, o.dir);
	rc = fflush(stdout) == 0 ? 0 : 3;
out:
	buf_free(&script);
	buf_free(&id);
	free(sbatch);
	free(self);
	free(name);
	free(absdir);
	free(script_path);
	return rc;
}
