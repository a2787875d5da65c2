/* textfsm_speed: the TextFSM engine's own speed, for tests/bench/run.py
 * (--only textfsm). Apart from `fleetrun parse` because that one also
 * reads the input, writes JSON and starts a process: figures the Python
 * reference (textfsm.TextFSM(...).ParseText) is not charged with. This is
 * the same thing as the Python side: a template compiled once, the input
 * in memory, textfsm_parse() timed alone.
 *
 *   textfsm_speed TEMPLATE INPUT MIN_SECONDS
 *
 * parses INPUT again and again for at least MIN_SECONDS (and at least 3
 * times) and prints one line:
 *   bytes B records R runs K best S median S
 * (seconds per parse of the whole input). Exit 0, or 1 with a message. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "textfsm.h"
#include "util.h"

static double textfsm_speed_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* The whole file, malloced; NULL with a message. */
static char *textfsm_speed_slurp(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	char *data = NULL;
	long n;

	if (!f) {
		fprintf(stderr, "textfsm_speed: %s: %s\n", path, strerror(errno));
		return NULL;
	}
	if (fseek(f, 0, SEEK_END) == 0 && (n = ftell(f)) >= 0 && fseek(f, 0, SEEK_SET) == 0) {
		data = xmalloc((size_t)n + 1);
		if (fread(data, 1, (size_t)n, f) != (size_t)n) {
			fprintf(stderr, "textfsm_speed: %s: short read\n", path);
			free(data);
			data = NULL;
		} else {
			data[n] = '\0';
			*len = (size_t)n;
		}
	}
	fclose(f);
	return data;
}

static int textfsm_speed_cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	struct textfsm_records recs = TEXTFSM_RECORDS_INIT;
	struct textfsm *t = NULL;
	char *tpl = NULL, *in = NULL;
	size_t tlen = 0, ilen = 0, runs = 0, cap = 64, nrec = 0;
	double *times = NULL, min_s, t_end;
	struct err err;
	int r = 1;

	if (argc != 4 || (min_s = atof(argv[3])) <= 0) {
		fprintf(stderr, "usage: textfsm_speed TEMPLATE INPUT MIN_SECONDS\n");
		return 2;
	}
	if (!(tpl = textfsm_speed_slurp(argv[1], &tlen)) || !(in = textfsm_speed_slurp(argv[2], &ilen)))
		goto out;
	if (textfsm_compile(argv[1], tpl, tlen, &t, &err) < 0) {
		fprintf(stderr, "textfsm_speed: %s\n", err.msg);
		goto out;
	}
	times = xcalloc(cap, sizeof(*times));
	t_end = textfsm_speed_now() + min_s;
	while (runs < 3 || textfsm_speed_now() < t_end) {
		double t0 = textfsm_speed_now();

		if (textfsm_parse(t, in, ilen, &recs, &err) < 0) {
			fprintf(stderr, "textfsm_speed: %s\n", err.msg);
			goto out;
		}
		if (runs == cap)
			times = xreallocarray(times, cap *= 2, sizeof(*times));
		times[runs++] = textfsm_speed_now() - t0;
		nrec = recs.n;
		textfsm_records_free(&recs);
	}
	qsort(times, runs, sizeof(*times), textfsm_speed_cmp);
	printf("bytes %zu records %zu runs %zu best %.9f median %.9f\n", ilen, nrec, runs, times[0], times[runs / 2]);
	r = 0;
out:
	textfsm_records_free(&recs);
	textfsm_free(t);
	free(times);
	free(tpl);
	free(in);
	return r;
}
