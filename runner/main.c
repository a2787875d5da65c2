/* fleetrun: the command line: the top-level usage, and the table of
 * subcommands, each in its cmd_*.c (cmd.h). Secrets are protected here,
 * before any of them runs. */
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#include "cmd.h"
#include "log.h"
#include "proto.h"
#include "util.h"
#include "version.h"

static const char main_usage[] =
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
	"  parse        CLI text to JSON records with a TextFSM template\n"
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

static const struct main_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
} main_cmds[] = {
	{"run", cmd_run},
	{"hosts", cmd_hosts},
	{"jobs", cmd_jobs},
	{"check", cmd_check},
	{"report", cmd_report},
	{"merge", cmd_merge},
	{"submit", cmd_submit},
	{"parse", cmd_parse},
};

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
		fputs(main_usage, cmd ? stdout : stderr);
		return cmd ? 0 : CLI_EXIT_USAGE;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		version_print(stdout);
		return 0;
	}
	/* getopt_long sees the subcommand as argv[0] */
	for (size_t i = 0; i < ARRAY_LEN(main_cmds); i++)
		if (strcmp(cmd, main_cmds[i].name) == 0)
			return main_cmds[i].run(argc - 1, argv + 1);
	log_error("unknown command '%s'", cmd);
	fputs(main_usage, stderr);
	return CLI_EXIT_USAGE;
}
