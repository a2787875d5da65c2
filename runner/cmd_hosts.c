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
#include "hosts_ssh.h"
#include "jobdir.h"
#include "journal.h"
#include "log.h"
#include "shard.h"
#include "status.h"
#include "termtext.h"
#include "tmpl.h"

static const char cmd_hosts_usage[] =
	"usage: fleetrun hosts [-i INVENTORY]... [-H PATTERN]... [-x PATTERN]... [-l LIMIT]\n"
	"                      [--shard K/N|auto [--shards N]] [-v]\n"
	"                      [--ssh JOB [--jobs-dir DIR]]\n"
	"       fleetrun hosts --from JOURNAL [--status LIST] [--job NAME]\n"
	"\n"
	"Print the targets one per line, as `fleetrun run` would expand them;\n"
	"with -v, each host's vars too; with --shard, the hosts of that shard.\n"
	"With --ssh JOB, each host's SSH connection as JOB would make it, the way\n"
	"`ssh -G` prints one (host vars > job > ssh_config > defaults; secrets as\n"
	"***); with -v, where each value comes from.\n"
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
	"  fleetrun hosts -i hosts.txt --ssh show-version -v\n"
	"  fleetrun hosts --from run.jsonl --status failed,unreachable > again.txt\n"
	"  fleetrun run show-version -i again.txt\n";

struct cmd_hosts_opts {
	struct cmd_targets targets;
	bool verbose;       /* -v: each host's vars too */
	const char *from;   /* --from JOURNAL */
	const char *status; /* --status LIST */
	const char *job;    /* --job NAME */
	const char *ssh;    /* --ssh JOB */
	const char *jobs_dir; /* --jobs-dir DIR */
};

#define HOSTS(member) CLI_FIELD(struct cmd_hosts_opts, member)

static const struct cli_opt cmd_hosts_options[] = {
	{"verbose", 'v', false, cli_flag, HOSTS(verbose), 0, 0, NULL, NULL},
	{"from", 0, true, cli_string, HOSTS(from), 0, 0, NULL, NULL},
	{"status", 0, true, cli_string, HOSTS(status), 0, 0, NULL, NULL},
	{"job", 0, true, cli_string, HOSTS(job), 0, 0, NULL, NULL},
	{"ssh", 0, true, cli_string, HOSTS(ssh), 0, 0, NULL, NULL},
	{"jobs-dir", 0, true, cli_string, HOSTS(jobs_dir), 0, 0, NULL, NULL},
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

/* hosts --ssh: the job, and its ssh_config read as a run reads it. 0,
 * or -1 (said). */
static int cmd_hosts_ssh_setup(const struct cmd_hosts_opts *o, struct job **job, struct sshconfig *cfg)
{
	struct err err;

	if (jobdir_load(o->ssh, o->jobs_dir, job, &err) < 0 || sshconfig_load(cfg, (*job)->ssh.config, &err) < 0) {
		log_error("%s", err.msg);
		return -1;
	}
	if (*sshconfig_ignored(cfg))
		log_warn("ssh_config: not used by fleetrun: %s", sshconfig_ignored(cfg));
	return 0;
}

/* One host's connection, after a blank line but for the first. 0, or
 * -1 with err. */
static int cmd_hosts_ssh(const struct job *job, const struct sshconfig *cfg, const struct host *h, bool sources,
                         bool first, struct err *err)
{
	struct buf out = BUF_INIT;
	int r = hosts_ssh_print(job, cfg, h, sources, &out, err);

	if (r == 0)
		printf("%s%s", first ? "" : "\n", out.data ? out.data : "");
	buf_free(&out);
	return r;
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
	struct job *job = NULL;
	struct sshconfig cfg = {0};
	bool first = true;
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
	if (o->ssh && cmd_hosts_ssh_setup(o, &job, &cfg) < 0)
		goto out;
	while ((got = targets_next_in_shard(tg, &shard, &h, NULL, &err)) > 0) {
		if (job) {
			got = cmd_hosts_ssh(job, &cfg, &h, o->verbose, first, &err);
			first = false;
			host_free(&h);
			if (got < 0)
				break;
			continue;
		}
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
	if (job)
		job_free(job);
	sshconfig_free(&cfg);
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
	if (o.from && (t->inventories.n || t->patterns.n || t->excludes.n || t->limit || t->shard)) {
		log_error("hosts: --from reads a journal; it does not mix with -i, -H, -l or --shard");
		goto out;
	}
	if (o.from && o.ssh) {
		log_error("hosts: --ssh shows the targets' connections; it does not mix with --from");
		goto out;
	}
	if (o.jobs_dir && !o.ssh) {
		log_error("hosts: --jobs-dir applies to --ssh JOB");
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
