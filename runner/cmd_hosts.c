/* cmd_hosts: `fleetrun hosts`: the targets as `fleetrun run` would expand
 * them (with -v their vars, with --shard one shard's), or, with --from,
 * the hosts of a journal by the status of their last record: a list to
 * give -i for a second run. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "cmd.h"
#include "journal.h"
#include "log.h"
#include "shard.h"
#include "status.h"
#include "termtext.h"
#include "tmpl.h"

static const char cmd_hosts_usage[] =
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

struct cmd_hosts_opts {
	struct cmd_targets targets;
	bool verbose;       /* -v: each host's vars too */
	const char *from;   /* --from JOURNAL */
	const char *status; /* --status LIST */
	const char *job;    /* --job NAME */
};

#define HOSTS(member) CLI_FIELD(struct cmd_hosts_opts, member)

static const struct cli_opt cmd_hosts_options[] = {
	{"verbose", 'v', false, cli_flag, HOSTS(verbose), 0, 0, NULL, NULL},
	{"from", 0, true, cli_string, HOSTS(from), 0, 0, NULL, NULL},
	{"status", 0, true, cli_string, HOSTS(status), 0, 0, NULL, NULL},
	{"job", 0, true, cli_string, HOSTS(job), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_hosts_tables[] = {
	{cmd_targets_options, offsetof(struct cmd_hosts_opts, targets)},
	{cmd_hosts_options, 0},
};

/* --status LIST into a set of statuses; "none" is index STATUS_COUNT. 0,
 * or -1 with err naming the first word that is not a status. */
static int cmd_hosts_status_set(const char *list, bool want[STATUS_COUNT + 1], struct err *err)
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
			err_set(err, "--status '%s': expected ok, failed, unreachable, auth, hostkey, timeout, "
			        "crashed, error, none or not-ok",
			        w);
			r = -1;
			break;
		}
	}
	free(copy);
	return r;
}

/* hosts --from: the hosts of a journal whose last record has a status
 * asked for. */
static int cmd_hosts_from_journal(const char *path, const char *status, const char *job)
{
	struct journal_index idx = {0};
	bool want[STATUS_COUNT + 1];
	struct err err;
	struct buf line = BUF_INIT;
	int rc = CLI_EXIT_USAGE;

	for (int i = 0; i <= STATUS_COUNT; i++)
		want[i] = !status;
	if ((status && cmd_hosts_status_set(status, want, &err) < 0) || journal_index_load(&idx, path, job, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	if (idx.mixed_jobs && !job) {
		log_error("%s: holds records of more than one job; say which with --job NAME", path);
		goto out;
	}
	/* idx.last is in the order hosts first appear in the journal */
	for (size_t i = 0; i < idx.len; i++)
		if (want[idx.last[i].final ? (int)idx.last[i].status : STATUS_COUNT]) {
			/* a journal is read back as data: text only */
			buf_reset(&line);
			termtext_puts(&line, idx.last[i].host, 0);
			puts(line.data ? line.data : "");
		}
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_CUT;
out:
	buf_free(&line);
	journal_index_free(&idx);
	return rc;
}

/* The targets, one a line; with verbose, each host's vars, secrets as
 * ***. The exit code. */
static int cmd_hosts_targets(const struct cmd_hosts_opts *o)
{
	struct shard shard;
	struct targets_opts to;
	struct targets *tg = NULL;
	struct host h;
	struct err err;
	struct buf line = BUF_INIT;
	int got, rc = CLI_EXIT_USAGE;

	if (shard_resolve(o->targets.shard, o->targets.shards, &shard, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	cmd_targets_opts(&o->targets, &to);
	if (targets_open(&to, &tg, &err) < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	while ((got = targets_next_in_shard(tg, &shard, &h, NULL, &err)) > 0) {
		/* inventories are data: their vars reach the terminal as
		 * text (termtext), never as control sequences */
		buf_reset(&line);
		termtext_puts(&line, h.name, 0);
		for (size_t i = 0; o->verbose && i < h.vars.len; i++) {
			const struct kv *v = &h.vars.items[i];

			buf_putc(&line, ' ');
			termtext_puts(&line, v->key, 0);
			buf_putc(&line, '=');
			termtext_puts(&line, tmpl_is_secret_name(v->key) ? "***" : v->value, 0);
		}
		puts(line.data ? line.data : "");
		host_free(&h);
	}
	if (got < 0) {
		log_error("%s", err.msg);
		goto out;
	}
	rc = fflush(stdout) == 0 ? 0 : CLI_EXIT_CUT;
out:
	buf_free(&line);
	if (tg)
		targets_close(tg);
	return rc;
}

int cmd_hosts(int argc, char **argv)
{
	struct cmd_hosts_opts o = {0};
	const struct cmd_targets *t = &o.targets;
	int rc;

	if ((rc = cli_command(argc, argv, cmd_hosts_usage, cmd_hosts_tables, ARRAY_LEN(cmd_hosts_tables), &o)) >= 0)
		goto out;
	rc = CLI_EXIT_USAGE;
	if (optind < argc) {
		log_error("hosts: unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if (o.from && (t->inventories.n || t->patterns.n || t->limit || t->shard)) {
		log_error("hosts: --from reads a journal; it does not mix with -i, -H, -l or --shard");
		goto out;
	}
	if (!o.from && (o.status || o.job)) {
		log_error("hosts: --status and --job apply to --from JOURNAL");
		goto out;
	}
	rc = o.from ? cmd_hosts_from_journal(o.from, o.status, o.job) : cmd_hosts_targets(&o);
out:
	cmd_targets_free(&o.targets);
	return rc;
}
