/* summary: the end-of-run summary, as text or JSON. */
#include "summary.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "record.h"
#include "termtext.h"
#include "utf8.h"
#include "util.h"

static void summary_slow(struct summary *s, const char *host, int64_t ms)
{
	int i = SUMMARY_SLOWEST - 1;

	if (s->slowest[i].host && s->slowest[i].duration_ms >= ms)
		return;
	free(s->slowest[i].host);
	/* insertion into a tiny sorted array */
	while (i > 0 && (!s->slowest[i - 1].host || s->slowest[i - 1].duration_ms < ms)) {
		s->slowest[i] = s->slowest[i - 1];
		i--;
	}
	s->slowest[i].host = xstrdup(host);
	s->slowest[i].duration_ms = ms;
}

/* ---- the variable parts of an error text ---- */

enum summary_token_kind { TOKEN_NUMBER, TOKEN_ADDRESS };

struct summary_token {
	size_t off, len;
	enum summary_token_kind kind;
};

static const char *const summary_placeholder[] = {"<n>", "<addr>"};

static bool summary_is_word(char c)
{
	return isalnum((unsigned char)c) || c == '_';
}

/* An IPv4 address at s: four groups of 1-3 digits, not part of a longer
 * dotted run. Its length, or 0. */
static size_t summary_ipv4_len(const char *s)
{
	size_t i = 0;

	for (int group = 0; group < 4; group++) {
		size_t digits = 0;
		if (group > 0) {
			if (s[i] != '.')
				return 0;
			i++;
		}
		while (isdigit((unsigned char)s[i]) && digits < 4) {
			i++;
			digits++;
		}
		if (digits == 0 || digits > 3)
			return 0;
	}
	if (s[i] == '.' && isdigit((unsigned char)s[i + 1]))
		return 0;
	return i;
}

/* An IPv6 address at s (fe80::1, ::1, 2001:db8:0:0:0:0:0:1): a run of hex
 * digits and colons holding two colons or more and a hex digit, not glued
 * to a word. A colon ending the run ("fe80::1: refused") is the text's.
 * Its length, or 0. */
static size_t summary_ipv6_len(const char *s)
{
	size_t n = 0, colons = 0;
	bool hex = false;

	while (isxdigit((unsigned char)s[n]) || s[n] == ':')
		n++;
	if (n >= 2 && s[n - 1] == ':' && s[n - 2] != ':')
		n--;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ':')
			colons++;
		else
			hex = true;
	}
	if (colons < 2 || !hex || summary_is_word(s[n]) || s[n] == '.')
		return 0;
	return n;
}

/* The next number or address in s at or after *pos: true with *t filled
 * and *pos past it, false when there is none. Digits inside words count
 * (host names such as dev024 differ from host to host). */
static bool summary_next_token(const char *s, size_t *pos, struct summary_token *t)
{
	for (size_t i = *pos; s[i]; i++) {
		bool word_start = i == 0 || (!summary_is_word(s[i - 1]) && s[i - 1] != '.' && s[i - 1] != ':');
		size_t n = 0;

		if (word_start && (n = summary_ipv4_len(s + i)) == 0)
			n = summary_ipv6_len(s + i);
		if (n) {
			t->kind = TOKEN_ADDRESS;
		} else if (isdigit((unsigned char)s[i])) {
			/* a number, with its fraction: 0.07, 1.5 */
			while (isdigit((unsigned char)s[i + n]))
				n++;
			if (s[i + n] == '.' && isdigit((unsigned char)s[i + n + 1]))
				for (n++; isdigit((unsigned char)s[i + n]); n++)
					;
			t->kind = TOKEN_NUMBER;
		} else {
			continue;
		}
		t->off = i;
		t->len = n;
		*pos = i + n;
		return true;
	}
	return false;
}

void summary_error_key(const char *error, struct buf *out)
{
	struct summary_token t;
	size_t pos = 0, done = 0;

	buf_reset(out);
	while (summary_next_token(error, &pos, &t)) {
		buf_append(out, error + done, t.off - done);
		buf_puts(out, summary_placeholder[t.kind]);
		done = t.off + t.len;
	}
	buf_puts(out, error + done);
}

/* Which numbers and addresses differ between two errors of one key: bit
 * i for the i-th (past 64 they are not told apart). */
static uint64_t summary_differences(const char *a, const char *b)
{
	struct summary_token ta, tb;
	size_t pa = 0, pb = 0;
	uint64_t bits = 0;

	if (strcmp(a, b) == 0)
		return 0;
	for (unsigned i = 0; summary_next_token(a, &pa, &ta) && summary_next_token(b, &pb, &tb); i++) {
		bool same = ta.len == tb.len && memcmp(a + ta.off, b + tb.off, ta.len) == 0;
		if (!same)
			bits |= i < 64 ? UINT64_C(1) << i : 0;
	}
	/* the same key with no token differing below 64: one past it did */
	return bits ? bits : UINT64_C(1) << 63;
}

void summary_group_text(const struct summary_group *g, struct buf *out)
{
	struct summary_token t;
	size_t pos = 0, done = 0;

	buf_reset(out);
	if (!g->varied) {
		buf_puts(out, g->example);
		return;
	}
	for (unsigned i = 0; summary_next_token(g->example, &pos, &t); i++) {
		buf_append(out, g->example + done, t.off - done);
		if (i >= 64 || g->varied & UINT64_C(1) << i)
			buf_puts(out, summary_placeholder[t.kind]);
		else
			buf_append(out, g->example + t.off, t.len);
		done = t.off + t.len;
	}
	buf_puts(out, g->example + done);
}

void summary_add(struct summary *s, const char *host, enum status st, const char *error, int64_t duration_ms)
{
	struct summary_group *g = NULL;

	s->counts[st]++;
	s->total++;
	summary_slow(s, host, duration_ms);
	if (st == STATUS_OK)
		return;
	if (!error)
		error = "";
	summary_error_key(error, &s->scratch);
	for (size_t i = 0; i < s->ngroups && !g; i++)
		if (s->groups[i].status == st && strcmp(s->groups[i].key, s->scratch.data) == 0)
			g = &s->groups[i];
	if (g) {
		g->varied |= summary_differences(g->example, error);
	} else if (s->ngroups < SUMMARY_GROUPS_KEPT) {
		g = &s->groups[s->ngroups++];
		g->status = st;
		g->key = xstrdup(s->scratch.data);
		g->example = xstrdup(error);
	} else {
		s->other_errors++;
		return;
	}
	if (g->count < SUMMARY_GROUP_HOSTS)
		g->hosts[g->count] = xstrdup(host);
	g->count++;
}

/* The groups to show, the largest first (the earlier first among equals),
 * into shown; their number. The hosts of the others go to *others. */
static size_t summary_top_groups(const struct summary *s, const struct summary_group *shown[SUMMARY_GROUPS],
                                 uint64_t *others)
{
	const struct summary_group *all[SUMMARY_GROUPS_KEPT];
	size_t n = s->ngroups;

	for (size_t i = 0; i < n; i++) {
		size_t k = i;
		/* insertion sort: at most SUMMARY_GROUPS_KEPT entries */
		while (k > 0 && all[k - 1]->count < s->groups[i].count) {
			all[k] = all[k - 1];
			k--;
		}
		all[k] = &s->groups[i];
	}
	*others = s->other_errors;
	for (size_t i = SUMMARY_GROUPS; i < n; i++)
		*others += all[i]->count;
	if (n > SUMMARY_GROUPS)
		n = SUMMARY_GROUPS;
	memcpy(shown, all, n * sizeof(*shown));
	return n;
}

static double summary_rate(const struct summary *s, int64_t wall_ms)
{
	return wall_ms > 0 ? s->total / (wall_ms / 1000.0) : 0.0;
}

/* s as terminal-safe text (termtext) in b: error texts carry device
 * output (banners, refusals) and host names come from inventories. */
static const char *summary_safe(struct buf *b, const char *s)
{
	buf_reset(b);
	termtext_puts(b, s, 0);
	return b->data ? b->data : "";
}

/* How far the run got and how to run the rest, when it did not finish;
 * each run's wall time when several wrote the journal. */
static void summary_print_progress(FILE *f, const struct summary_run *run, struct buf *safe)
{
	if (run->in_progress)
		fprintf(f, "  run in progress: a fleetrun run is still writing this journal\n");
	if (run->nruns > 1) {
		fprintf(f, "  %zu runs:", run->nruns);
		for (size_t i = 0; i < run->nruns; i++)
			fprintf(f, "%s %.2fs", i ? "," : "", run->run_wall_ms[i] / 1000.0);
		fputc('\n', f);
	}
	if (run->targets && run->finished < run->targets && !run->in_progress) {
		uint64_t stopped = run->targets - run->finished > run->not_started
		                           ? run->targets - run->finished - run->not_started
		                           : 0;
		fprintf(f, "  %llu of %llu hosts finished, ", (unsigned long long)run->finished,
		        (unsigned long long)run->targets);
		if (stopped)
			fprintf(f, "%llu stopped before they finished, ", (unsigned long long)stopped);
		fprintf(f, "%llu not started", (unsigned long long)run->not_started);
		if (run->resume)
			fprintf(f, "; resume with: %s", summary_safe(safe, run->resume));
		fputc('\n', f);
	}
}

void summary_print(const struct summary *s, FILE *f, const struct summary_run *run)
{
	const struct summary_group *shown[SUMMARY_GROUPS];
	struct buf text = BUF_INIT, safe = BUF_INIT;
	uint64_t others;
	size_t nshown = summary_top_groups(s, shown, &others);
	const char *sep = "";

	fprintf(f, "fleetrun: %s: %llu hosts in %.2fs (%.0f hosts/s)%s: ", summary_safe(&safe, run->job),
	        (unsigned long long)s->total, run->wall_ms / 1000.0, summary_rate(s, run->wall_ms),
	        run->interrupted ? ", interrupted" : "");
	for (int i = 0; i < STATUS_COUNT; i++) {
		if (!s->counts[i])
			continue;
		fprintf(f, "%s%llu %s", sep, (unsigned long long)s->counts[i], status_name((enum status)i));
		sep = ", ";
	}
	if (!s->total)
		fprintf(f, "nothing ran");
	fputc('\n', f);
	if (s->slowest[0].host) {
		fprintf(f, "  slowest:");
		for (int i = 0; i < SUMMARY_SLOWEST && s->slowest[i].host; i++)
			fprintf(f, "%s %s (%.2fs)", i ? "," : "", summary_safe(&safe, s->slowest[i].host),
			        s->slowest[i].duration_ms / 1000.0);
		fputc('\n', f);
	}
	for (size_t i = 0; i < nshown; i++) {
		const struct summary_group *g = shown[i];
		summary_group_text(g, &text);
		fprintf(f, "  %s (%llu): %s:", status_name(g->status), (unsigned long long)g->count,
		        text.len ? summary_safe(&safe, text.data) : "no error text");
		for (int h = 0; h < SUMMARY_GROUP_HOSTS && g->hosts[h]; h++)
			fprintf(f, "%s %s", h ? "," : "", summary_safe(&safe, g->hosts[h]));
		if (g->count > SUMMARY_GROUP_HOSTS)
			fprintf(f, ", ...");
		fputc('\n', f);
	}
	if (others)
		fprintf(f, "  and %llu more hosts not ok with other errors\n", (unsigned long long)others);
	if (s->unfinished)
		fprintf(f, "  not finished: %llu (hosts the run was stopped on)\n",
		        (unsigned long long)s->unfinished);
	summary_print_progress(f, run, &safe);
	fflush(f);
	buf_free(&text);
	buf_free(&safe);
}

static void summary_gen_key(yajl_gen g, const char *k)
{
	yajl_gen_string(g, (const unsigned char *)k, strlen(k));
}

/* A string value. Error texts and host names come from devices and
 * inventories and may not be UTF-8, which JSON cannot carry: such a text
 * is written with '?' for each byte past ASCII (a summary shows it; the
 * record keeps the bytes). */
static void summary_gen_text(yajl_gen g, const char *v)
{
	size_t n = strlen(v);

	if (utf8_valid((const unsigned char *)v, n)) {
		yajl_gen_string(g, (const unsigned char *)v, n);
	} else {
		char *copy = xstrdup(v);
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)copy[i] >= 0x80)
				copy[i] = '?';
		yajl_gen_string(g, (const unsigned char *)copy, n);
		free(copy);
	}
}

static void summary_gen_str(yajl_gen g, const char *k, const char *v)
{
	summary_gen_key(g, k);
	summary_gen_text(g, v);
}

static void summary_gen_int(yajl_gen g, const char *k, long long v)
{
	summary_gen_key(g, k);
	yajl_gen_integer(g, v);
}

void summary_print_json(const struct summary *s, FILE *f, const struct summary_run *run)
{
	const struct summary_group *shown[SUMMARY_GROUPS];
	struct buf text = BUF_INIT;
	uint64_t others;
	size_t nshown = summary_top_groups(s, shown, &others);
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *out;
	size_t len;
	char rate[32];

	if (!g)
		abort();
	yajl_gen_map_open(g);
	summary_gen_str(g, "job", run->job);
	summary_gen_int(g, "total", (long long)s->total);
	summary_gen_key(g, "counts");
	yajl_gen_map_open(g);
	for (int i = 0; i < STATUS_COUNT; i++)
		summary_gen_int(g, status_name((enum status)i), (long long)s->counts[i]);
	yajl_gen_map_close(g);
	summary_gen_int(g, "unfinished", (long long)s->unfinished);
	summary_gen_key(g, "interrupted");
	yajl_gen_bool(g, run->interrupted);
	summary_gen_int(g, "wall_ms", run->wall_ms);
	if (run->targets) {
		summary_gen_int(g, "targets", (long long)run->targets);
		summary_gen_int(g, "finished", (long long)run->finished);
		summary_gen_int(g, "not_started", (long long)run->not_started);
	}
	if (run->resume)
		summary_gen_str(g, "resume", run->resume);
	if (run->nruns) {
		summary_gen_key(g, "runs_wall_ms");
		yajl_gen_array_open(g);
		for (size_t i = 0; i < run->nruns; i++)
			yajl_gen_integer(g, run->run_wall_ms[i]);
		yajl_gen_array_close(g);
	}
	if (run->in_progress) {
		summary_gen_key(g, "in_progress");
		yajl_gen_bool(g, true);
	}
	/* two decimals: a rate, not a measurement to 17 digits */
	snprintf(rate, sizeof(rate), "%.2f", summary_rate(s, run->wall_ms));
	summary_gen_key(g, "rate");
	yajl_gen_number(g, rate, strlen(rate));
	summary_gen_key(g, "failures");
	yajl_gen_array_open(g);
	for (size_t i = 0; i < nshown; i++) {
		const struct summary_group *grp = shown[i];
		summary_group_text(grp, &text);
		yajl_gen_map_open(g);
		summary_gen_str(g, "status", status_name(grp->status));
		summary_gen_str(g, "error", text.data);
		summary_gen_str(g, "example", grp->example);
		summary_gen_int(g, "count", (long long)grp->count);
		summary_gen_key(g, "hosts");
		yajl_gen_array_open(g);
		for (int h = 0; h < SUMMARY_GROUP_HOSTS && grp->hosts[h]; h++)
			summary_gen_text(g, grp->hosts[h]);
		yajl_gen_array_close(g);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	summary_gen_int(g, "other_failures", (long long)others);
	summary_gen_key(g, "slowest");
	yajl_gen_array_open(g);
	for (int i = 0; i < SUMMARY_SLOWEST && s->slowest[i].host; i++) {
		yajl_gen_map_open(g);
		summary_gen_str(g, "host", s->slowest[i].host);
		summary_gen_int(g, "duration_ms", s->slowest[i].duration_ms);
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_map_close(g);
	yajl_gen_get_buf(g, &out, &len);
	fwrite(out, 1, len, f);
	fputc('\n', f);
	fflush(f);
	yajl_gen_free(g);
	buf_free(&text);
}

void summary_free(struct summary *s)
{
	for (int i = 0; i < SUMMARY_SLOWEST; i++)
		free(s->slowest[i].host);
	for (size_t i = 0; i < s->ngroups; i++) {
		free(s->groups[i].key);
		free(s->groups[i].example);
		for (int h = 0; h < SUMMARY_GROUP_HOSTS; h++)
			free(s->groups[i].hosts[h]);
	}
	buf_free(&s->scratch);
	memset(s, 0, sizeof(*s));
}
