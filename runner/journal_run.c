/* journal_run: a run's start and end lines in its journal; see
 * journal_run.h. */
#include "journal_run.h"

#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "clock.h"
#include "journal.h"
#include "utf8.h"
#include "util.h"

static void journal_run_key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

static void journal_run_str(yajl_gen g, const char *k, const char *v)
{
	journal_run_key(g, k);
	yajl_gen_string(g, (const unsigned char *)v, strlen(v));
}

static void journal_run_int(yajl_gen g, const char *k, long long v)
{
	journal_run_key(g, k);
	yajl_gen_integer(g, v);
}

static void journal_run_time(yajl_gen g, const char *k, int64_t wall_ms)
{
	char when[40];

	clock_iso8601(wall_ms, when, sizeof(when));
	journal_run_str(g, k, when);
}

/* The job file's SHA-256 in hex into out[65]; "" when it cannot be read
 * (the run read it a moment ago: a race the line may show as such). */
static void journal_run_job_sha256(const char *path, char out[65])
{
	static const char hex[] = "0123456789abcdef";
	unsigned char md[EVP_MAX_MD_SIZE], chunk[8192];
	unsigned int mdlen = 0;
	EVP_MD_CTX *ctx = EVP_MD_CTX_new();
	FILE *f = path ? fopen(path, "re") : NULL;
	size_t n;

	out[0] = '\0';
	if (!ctx || !f || EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) != 1)
		goto out;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (EVP_DigestUpdate(ctx, chunk, n) != 1)
			goto out;
	if (ferror(f) || EVP_DigestFinal_ex(ctx, md, &mdlen) != 1 || mdlen != 32)
		goto out;
	for (unsigned i = 0; i < mdlen; i++) {
		out[2 * i] = hex[md[i] >> 4];
		out[2 * i + 1] = hex[md[i] & 15];
	}
	out[64] = '\0';
out:
	if (f)
		fclose(f);
	EVP_MD_CTX_free(ctx);
}

/* The yajl generator's text appended to out, and the generator freed. */
static void journal_run_take(yajl_gen g, struct buf *out)
{
	const unsigned char *p;
	size_t n;

	yajl_gen_get_buf(g, &p, &n);
	buf_append(out, p, n);
	yajl_gen_free(g);
}

void journal_run_start_json(const struct journal_run_start *s, struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	char sha[65];
	bool argv_ok = true;

	yajl_gen_map_open(g);
	journal_run_str(g, "run", "start");
	journal_run_str(g, "job", s->job);
	journal_run_job_sha256(s->job_path, sha);
	if (sha[0])
		journal_run_str(g, "job_sha256", sha);
	journal_run_int(g, "targets", (long long)s->targets);
	journal_run_int(g, "to_run", (long long)s->to_run);
	if (s->shard)
		journal_run_str(g, "shard", s->shard);
	/* a record is UTF-8: a command line that is not stays out (the
	 * resume line is then left to the user) */
	for (int i = 0; i < s->argc; i++)
		argv_ok &= utf8_valid((const unsigned char *)s->argv[i], strlen(s->argv[i]));
	if (argv_ok && s->argc > 0) {
		journal_run_key(g, "argv");
		yajl_gen_array_open(g);
		for (int i = 0; i < s->argc; i++)
			yajl_gen_string(g, (const unsigned char *)s->argv[i], strlen(s->argv[i]));
		yajl_gen_array_close(g);
	}
	journal_run_key(g, "options");
	yajl_gen_map_open(g);
	journal_run_int(g, "workers", s->workers);
	journal_run_int(g, "timeout_ms", s->timeout_ms);
	journal_run_key(g, "resume");
	yajl_gen_bool(g, s->resume);
	journal_run_key(g, "retry_failed");
	yajl_gen_bool(g, s->retry_failed);
	yajl_gen_map_close(g);
	journal_run_str(g, "fleetrun", FLEETRUN_VERSION);
	journal_run_time(g, "started", s->started_wall_ms);
	yajl_gen_map_close(g);
	journal_run_take(g, out);
}

static const char *const journal_run_states[] = {
	[JOURNAL_RUN_FINISHED] = "finished",
	[JOURNAL_RUN_INTERRUPTED] = "interrupted",
	[JOURNAL_RUN_CUT] = "cut",
};

void journal_run_end_json(const struct journal_run_end *e, struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);

	yajl_gen_map_open(g);
	journal_run_str(g, "run", "end");
	journal_run_str(g, "job", e->job);
	journal_run_str(g, "state", journal_run_states[e->state]);
	journal_run_key(g, "counts");
	yajl_gen_map_open(g);
	for (int st = 0; st < STATUS_COUNT; st++)
		if (e->counts[st])
			journal_run_int(g, status_name((enum status)st), (long long)e->counts[st]);
	yajl_gen_map_close(g);
	journal_run_int(g, "not_started", (long long)e->not_started);
	journal_run_time(g, "started", e->started_wall_ms);
	journal_run_time(g, "ended", e->ended_wall_ms);
	journal_run_int(g, "wall_ms", e->wall_ms);
	yajl_gen_map_close(g);
	journal_run_take(g, out);
}

int journal_run_parse(yajl_val root, struct journal_run_mark *m)
{
	const char *apath[] = {"argv", NULL};
	const char *run, *started;
	int64_t v;

	if (!YAJL_IS_OBJECT(root) || journal_get_str(root, "host") || !(run = journal_get_str(root, "run")) ||
	    (strcmp(run, "start") != 0 && strcmp(run, "end") != 0) || !journal_get_str(root, "job"))
		return 0;
	memset(m, 0, sizeof(*m));
	m->start = strcmp(run, "start") == 0;
	m->job = journal_get_str(root, "job");
	v = journal_get_int(root, "targets");
	m->targets = v > 0 ? (uint64_t)v : 0;
	m->argv = yajl_tree_get(root, apath, yajl_t_array);
	m->state = journal_get_str(root, "state");
	if (!m->state)
		m->state = "";
	v = journal_get_int(root, "not_started");
	m->not_started = v > 0 ? (uint64_t)v : 0;
	m->wall_ms = journal_get_duration_ms(root, "wall_ms");
	started = journal_get_str(root, "started");
	if (!started || journal_time_ms(started, &m->started_ms) < 0)
		m->started_ms = 0;
	return 1;
}

/* arg as one shell word: as it is when it is plain, else in single
 * quotes ('\'' for a quote inside). */
static void journal_run_shell_word(const char *arg, struct buf *out)
{
	static const char plain[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%";

	if (*arg && strspn(arg, plain) == strlen(arg)) {
		buf_puts(out, arg);
		return;
	}
	buf_putc(out, '\'');
	for (const char *p = arg; *p; p++) {
		if (*p == '\'')
			buf_puts(out, "'\\''");
		else
			buf_putc(out, *p);
	}
	buf_putc(out, '\'');
}

void journal_run_resume_line(const char *const *argv, size_t argc, struct buf *out)
{
	bool has_resume = false;

	buf_puts(out, "fleetrun");
	for (size_t i = 0; i < argc; i++) {
		has_resume |= strcmp(argv[i], "--resume") == 0;
		buf_putc(out, ' ');
		journal_run_shell_word(argv[i], out);
	}
	if (!has_resume)
		buf_puts(out, " --resume");
}

int journal_run_resume_json(yajl_val argv, struct buf *out)
{
	const char **v;
	size_t n;

	if (!argv || !YAJL_IS_ARRAY(argv) || argv->u.array.len == 0)
		return -1;
	n = argv->u.array.len;
	for (size_t i = 0; i < n; i++)
		if (!YAJL_IS_STRING(argv->u.array.values[i]))
			return -1;
	v = xcalloc(n, sizeof(*v));
	for (size_t i = 0; i < n; i++)
		v[i] = YAJL_GET_STRING(argv->u.array.values[i]);
	journal_run_resume_line(v, n, out);
	free(v);
	return 0;
}
