/* summary: the end-of-run summary. */
#include "summary.h"

#include <stdlib.h>
#include <string.h>

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
	for (size_t i = 0; i < s->ngroups; i++)
		if (s->groups[i].status == st && strcmp(s->groups[i].error, error) == 0)
			g = &s->groups[i];
	if (!g && s->ngroups < SUMMARY_GROUPS) {
		g = &s->groups[s->ngroups++];
		g->status = st;
		g->error = xstrdup(error);
	}
	if (!g) {
		s->other_errors++;
		return;
	}
	if (g->count < SUMMARY_GROUP_HOSTS)
		g->hosts[g->count] = xstrdup(host);
	g->count++;
}

void summary_print(const struct summary *s, FILE *f, const char *job, int64_t wall_ms, int interrupted)
{
	double secs = wall_ms / 1000.0;
	const char *sep = "";

	fprintf(f, "fleetrun: %s: %llu hosts in %.2fs (%.0f hosts/s)%s: ", job, (unsigned long long)s->total, secs,
	        secs > 0 ? s->total / secs : 0.0, interrupted ? ", interrupted" : "");
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
			fprintf(f, "%s %s (%.2fs)", i ? "," : "", s->slowest[i].host, s->slowest[i].duration_ms / 1000.0);
		fputc('\n', f);
	}
	for (size_t i = 0; i < s->ngroups; i++) {
		const struct summary_group *g = &s->groups[i];
		fprintf(f, "  %s (%llu): %s:", status_name(g->status), (unsigned long long)g->count,
		        g->error[0] ? g->error : "no error text");
		for (int h = 0; h < SUMMARY_GROUP_HOSTS && g->hosts[h]; h++)
			fprintf(f, "%s %s", h ? "," : "", g->hosts[h]);
		if (g->count > SUMMARY_GROUP_HOSTS)
			fprintf(f, ", ...");
		fputc('\n', f);
	}
	if (s->other_errors)
		fprintf(f, "  and %llu more hosts not ok with other errors\n", (unsigned long long)s->other_errors);
	fflush(f);
}

void summary_free(struct summary *s)
{
	for (int i = 0; i < SUMMARY_SLOWEST; i++)
		free(s->slowest[i].host);
	for (size_t i = 0; i < s->ngroups; i++) {
		free(s->groups[i].error);
		for (int h = 0; h < SUMMARY_GROUP_HOSTS; h++)
			free(s->groups[i].hosts[h]);
	}
	memset(s, 0, sizeof(*s));
}
