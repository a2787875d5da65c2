/* cmd_report: `fleetrun report JOURNAL`: its options; the summary and the
 * page are report.c's. */
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "report.h"

static const char cmd_report_usage[] =
	"usage: fleetrun report JOURNAL [--summary text|json] [--html OUT] [--job NAME] [-f] [-q]\n"
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
	"  -f, --follow           while a run writes the journal, print each host's\n"
	"                         line as it comes (as run does on a terminal), then\n"
	"                         the summary once the run ends\n"
	"  -q, --quiet            no summary on stdout (with --html)\n"
	"\n"
	"examples:\n"
	"  fleetrun report run.jsonl\n"
	"  fleetrun report run.jsonl --summary json | jq .counts\n"
	"  fleetrun report run.jsonl --html run.html -q\n"
	"  fleetrun report run.jsonl --follow\n"
	"\n"
	"exit: 0 every host ok, 1 some host not ok or not finished, 2 the journal\n"
	"cannot be read, 3 the page cannot be written\n";

struct cmd_report_opts {
	struct report_opts report;
	enum summary_format summary; /* --summary, or SUMMARY_NONE: not asked for */
	bool quiet;                  /* -q */
};

#define REPORT(member) CLI_FIELD(struct cmd_report_opts, member)

static const struct cli_opt cmd_report_options[] = {
	{"summary", 0, true, cli_enum, REPORT(summary), 0, 0, cmd_summary_words, CMD_SUMMARY_EXPECTED},
	{"html", 0, true, cli_string, REPORT(report.html), 0, 0, NULL, NULL},
	{"job", 0, true, cli_string, REPORT(report.job), 0, 0, NULL, NULL},
	{"follow", 'f', false, cli_flag, REPORT(report.follow), 0, 0, NULL, NULL},
	{"quiet", 'q', false, cli_flag, REPORT(quiet), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_report_tables[] = {
	{cmd_report_options, 0},
};

int cmd_report(int argc, char **argv)
{
	struct cmd_report_opts o = {.summary = SUMMARY_NONE};
	int rc;

	if ((rc = cli_command(argc, argv, cmd_report_usage, cmd_report_tables, ARRAY_LEN(cmd_report_tables), &o)) >= 0)
		return rc;
	o.report.journal = cli_one_operand(argc, argv, cmd_report_usage,
	                                   "report: which journal? (the -o FILE of a run)",
	                                   "report: one journal at a time (got '%s' after it)");
	if (!o.report.journal)
		return CLI_EXIT_USAGE;
	o.report.format = o.summary != SUMMARY_NONE ? o.summary : o.quiet ? SUMMARY_NONE : SUMMARY_TEXT;
	return report_run(&o.report);
}
