/* submit: the Slurm job array of a sharded run: the batch script, the
 * check of the run options (a dry run of shard 0), the journals'
 * directory, and sbatch. The command line is cmd_submit.c's. */
#include "submit.h"

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

/* What is kept of a child's captured output. */
#define SUBMIT_CAPTURE_MAX (64 * 1024)

extern char **environ;

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

int submit_validate(const struct submit_opts *o, struct err *err)
{
	size_t n = 0, max = o->nrun_args + 12;
	char **argv = xcalloc(max, sizeof(*argv));
	char *journal = xasprintf("%s/results-%%K.jsonl", o->dir);
	char count[32];
	struct buf cap = BUF_INIT;
	struct err spawn_err;
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
	if (submit_spawn(argv, 2, &cap, &status, &spawn_err) < 0) {
		err_set(err, "submit: %s", spawn_err.msg);
		goto out;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		/* its messages say what is wrong */
		fwrite(cap.data ? cap.data : "", 1, cap.len, stderr);
		err_set(err, "submit: the run options were refused (a dry run of shard 0 failed, above); nothing was "
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

int submit_prepare_dir(const struct submit_opts *o, struct err *err)
{
	struct stat sb;

	if (mkdir(o->dir, 0700) == 0)
		return 0;
	if (errno != EEXIST || stat(o->dir, &sb) < 0 || !S_ISDIR(sb.st_mode)) {
		err_set(err, "submit: --dir %s: cannot create the directory: %s", o->dir,
		        errno == EEXIST ? "a file has that name" : strerror(errno));
		return -1;
	}
	for (uint32_t k = 0; k < o->shards && !o->resume; k++) {
		char *path = xasprintf("%s/results-%u.jsonl", o->dir, k);
		int there = access(path, F_OK) == 0;
		free(path);
		if (there) {
			err_set(err, "submit: %s already holds journals of an earlier submission (results-%u.jsonl): give "
			        "another --dir, or --resume to continue them",
			        o->dir, k);
			return -1;
		}
	}
	return 0;
}

int submit_write_file(const char *path, const struct buf *b, struct err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	int r = -1;

	if (fd < 0) {
		err_set(err, "submit: %s: cannot write: %s", path, strerror(errno));
		return -1;
	}
	if (fd_write_all(fd, b->data, b->len) < 0) {
		err_set(err, "submit: %s: cannot write: %s", path, strerror(errno));
		goto out;
	}
	r = 0;
out:
	close(fd);
	return r;
}

int submit_sbatch(const char *script, struct buf *id, struct err *err)
{
	char *argv[] = {"sbatch", "--parsable", (char *)script, NULL};
	struct err spawn_err;
	int status = 0;
	size_t n;

	if (submit_spawn(argv, 1, id, &status, &spawn_err) < 0) {
		err_set(err, "submit: %s (is this a Slurm submit host? sbatch must be in PATH)", spawn_err.msg);
		return -1;
	}
	if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) {
		err_set(err, "submit: sbatch %s failed (%s %d; its message is above); nothing was submitted", script,
		        WIFEXITED(status) ? "exit" : "signal", WIFEXITED(status) ? WEXITSTATUS(status) : WTERMSIG(status));
		return -1;
	}
	/* "JOBID" or "JOBID;CLUSTER", and a newline */
	buf_putc(id, '\0');
	n = strcspn(id->data, ";\n");
	id->data[n] = '\0';
	id->len = n;
	if (n == 0) {
		err_set(err, "submit: sbatch said nothing about the job it submitted");
		return -1;
	}
	return 0;
}
