/* cmd_jobs: `fleetrun jobs`, the jobs that names find, and `fleetrun check`,
 * which validates job files: together because both are about finding and
 * reading jobs (jobdir.h) and share --jobs-dir. */
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "jobdir.h"
#include "log.h"
#include "platform.h"
#include "termtext.h"

static const char cmd_jobs_usage[] =
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

static const char cmd_check_usage[] =
	"usage: fleetrun check [--jobs-dir DIR] JOB...\n"
	"\n"
	"Validate job files. Errors name file:line:column; the exit status is 2\n"
	"when any job is invalid.\n"
	"\n"
	"examples:\n"
	"  fleetrun check jobs.d/*.yaml\n"
	"  fleetrun check show-version\n";

/* The options of check and jobs. */
struct cmd_jobs_opts {
	const char *jobs_dir; /* --jobs-dir, or NULL */
};

static const struct cli_opt cmd_jobs_options[] = {
	{"jobs-dir", 0, true, cli_string, CLI_FIELD(struct cmd_jobs_opts, jobs_dir), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_jobs_tables[] = {
	{cmd_jobs_options, 0},
};

int cmd_check(int argc, char **argv)
{
	struct cmd_jobs_opts o = {0};
	int rc;

	if ((rc = cli_command(argc, argv, cmd_check_usage, cmd_jobs_tables, ARRAY_LEN(cmd_jobs_tables), &o)) >= 0)
		return rc;
	rc = 0;
	if (optind >= argc) {
		fputs(cmd_check_usage, stderr);
		return CLI_EXIT_USAGE;
	}
	for (int i = optind; i < argc; i++) {
		struct job *job = NULL;
		struct err err;

		if (jobdir_load(argv[i], o.jobs_dir, &job, &err) < 0 || platform_check_job(job, &err) < 0) {
			log_error("%s", err.msg);
			job_free(job);
			rc = CLI_EXIT_USAGE;
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
int cmd_jobs(int argc, char **argv)
{
	struct cmd_jobs_opts o = {0};
	struct jobdir dirs[JOBDIR_MAX];
	struct jobdir_entry *e;
	struct buf line = BUF_INIT;
	size_t n, ndirs, dirw = 0;
	int rc;

	if ((rc = cli_command(argc, argv, cmd_jobs_usage, cmd_jobs_tables, ARRAY_LEN(cmd_jobs_tables), &o)) >= 0)
		return rc;
	rc = 0;
	ndirs = jobdir_list(o.jobs_dir, dirs);
	e = jobdir_entries(o.jobs_dir, &n);
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
