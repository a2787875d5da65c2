/* shard: which hosts a shard runs, and which shard this process is. */
#include "shard.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "hash.h"

/* FNV-1a over the name, then MurmurHash3's 64-bit finalizer: FNV alone
 * leaves names that differ in their last character close together in the
 * high bits, which the jump hash below consumes first. */
static uint64_t shard_key(const char *host)
{
	return hash_mix64(hash_fnv1a_str(host));
}

/* Jump consistent hash, as published (Lamping and Veach 2014): a key
 * walks forward through bucket counts, jumping to the next count at which
 * it would move; the last jump below count is its bucket. j grows by at
 * least one a turn, so the loop ends within count turns (ln(count) on
 * average). */
static uint32_t shard_jump(uint64_t key, uint32_t count)
{
	int64_t b = -1, j = 0;

	while (j < (int64_t)count) {
		b = j;
		key = key * 2862933555777941757ULL + 1;
		j = (int64_t)((double)(b + 1) * ((double)(1LL << 31) / (double)((key >> 33) + 1)));
	}
	return (uint32_t)b;
}

uint32_t shard_of(const char *host, uint32_t count)
{
	return count <= 1 ? 0 : shard_jump(shard_key(host), count);
}

bool shard_has(const struct shard *s, const char *host)
{
	return !s || s->count == 0 || shard_of(host, s->count) == s->index;
}

static void shard_set(struct shard *out, uint32_t index, uint32_t count)
{
	out->index = index;
	out->count = count;
	snprintf(out->label, sizeof(out->label), "%u/%u", index, count);
}

/* A whole decimal number with nothing around it. */
static int shard_number(const char *s, long long max, long long *out)
{
	return int_parse(s, 0, max, out);
}

int shard_parse_count(const char *text, uint32_t *out, struct err *err)
{
	long long n;

	if (shard_number(text, SHARD_MAX, &n) < 0 || n < 1) {
		err_set(err, "--shards '%s': expected a number of shards from 1 to %d", text, SHARD_MAX);
		return -1;
	}
	*out = (uint32_t)n;
	return 0;
}

int shard_parse(const char *text, struct shard *out, struct err *err)
{
	const char *slash = strchr(text, '/');
	char *k = NULL;
	long long index, count;
	int r = -1;

	if (!slash) {
		err_set(err, "--shard '%s': expected K/N (shard K of N, K from 0 to N-1, such as 0/4) or auto", text);
		goto out;
	}
	k = xstrndup(text, (size_t)(slash - text));
	if (shard_number(slash + 1, SHARD_MAX, &count) < 0 || count < 1) {
		err_set(err, "--shard '%s': expected N, the number of shards, from 1 to %d after the '/'", text,
		        SHARD_MAX);
		goto out;
	}
	if (shard_number(k, SHARD_MAX, &index) < 0) {
		err_set(err, "--shard '%s': expected K, the shard index, a number before the '/'", text);
		goto out;
	}
	if (index >= count) {
		err_set(err, "--shard '%s': shard indexes run from 0 to %lld (K/N is 0-based: 0/%lld is the first, "
		        "%lld/%lld the last)",
		        text, count - 1, count, count - 1, count);
		goto out;
	}
	shard_set(out, (uint32_t)index, (uint32_t)count);
	r = 0;
out:
	free(k);
	return r;
}

/* An environment variable holding a whole number: 1 and *out when set, 0
 * when unset or empty, -1 with err when it holds something else. */
static int shard_env(const char *name, long long *out, struct err *err)
{
	const char *v = getenv(name);

	if (!v || !*v)
		return 0;
	if (shard_number(v, INT32_MAX, out) < 0) {
		err_set(err, "--shard auto: %s='%s': expected a whole number", name, v);
		return -1;
	}
	return 1;
}

/* Inside a Slurm job array. */
static int shard_slurm(long long id, uint32_t count, struct shard *out, struct err *err)
{
	long long min, step = 1, n;
	int got;

	if (count) {
		/* the script fleetrun submit writes says --shards N and
		 * --array=0-(N-1); resubmitting part of it (sbatch --array=2)
		 * changes the array's count and minimum, not the ids */
		if (id >= count) {
			err_set(err, "--shard auto: SLURM_ARRAY_TASK_ID=%lld is not a shard index from 0 to %u (--shards %u): "
			        "submit the array as --array=0-%u, or a part of it",
			        id, count - 1, count, count - 1);
			return -1;
		}
		shard_set(out, (uint32_t)id, count);
		return 0;
	}
	if ((got = shard_env("SLURM_ARRAY_TASK_MIN", &min, err)) < 0)
		return -1;
	if (!got) {
		err_set(err, "--shard auto: SLURM_ARRAY_TASK_ID is set but SLURM_ARRAY_TASK_MIN is not; give --shards N "
		        "(the task id is then the shard index)");
		return -1;
	}
	if ((got = shard_env("SLURM_ARRAY_TASK_COUNT", &n, err)) < 0)
		return -1;
	if (!got || n < 1 || n > SHARD_MAX) {
		err_set(err, "--shard auto: SLURM_ARRAY_TASK_COUNT is %s; give --shards N (the task id is then the shard "
		        "index)",
		        got ? "out of range" : "not set");
		return -1;
	}
	if (shard_env("SLURM_ARRAY_TASK_STEP", &step, err) < 0)
		return -1;
	if (step < 1)
		step = 1;
	/* --array=1-8:2 gives ids 1,3,5,7: shards 0..3 of 4 */
	if (id < min || (id - min) % step != 0 || (id - min) / step >= n) {
		err_set(err, "--shard auto: SLURM_ARRAY_TASK_ID=%lld is not in the evenly stepped range the array's "
		        "MIN=%lld, STEP=%lld and COUNT=%lld describe (a list such as --array=1,5,9?); give --shards N and "
		        "use the array ids 0..N-1",
		        id, min, step, n);
		return -1;
	}
	shard_set(out, (uint32_t)((id - min) / step), (uint32_t)n);
	return 0;
}

int shard_auto(uint32_t count, struct shard *out, struct err *err)
{
	long long id, n;
	int got;

	if (!count) {
		if ((got = shard_env("FLEETRUN_SHARDS", &n, err)) < 0)
			return -1;
		if (got && (n < 1 || n > SHARD_MAX)) {
			err_set(err, "--shard auto: FLEETRUN_SHARDS=%lld: expected a number of shards from 1 to %d", n,
			        SHARD_MAX);
			return -1;
		}
		if (got)
			count = (uint32_t)n;
	}
	if ((got = shard_env("SLURM_ARRAY_TASK_ID", &id, err)) < 0)
		return -1;
	if (got)
		return shard_slurm(id, count, out, err);
	if ((got = shard_env("JOB_COMPLETION_INDEX", &id, err)) < 0)
		return -1;
	if (got) {
		if (!count) {
			err_set(err, "--shard auto: JOB_COMPLETION_INDEX is set (a Kubernetes Indexed Job) but not the "
			        "number of shards: give --shards N, or set FLEETRUN_SHARDS to the Job's completions");
			return -1;
		}
		if (id >= count) {
			err_set(err, "--shard auto: JOB_COMPLETION_INDEX=%lld is not a shard index from 0 to %u: the Job's "
			        "completions and the number of shards (%u) differ",
			        id, count - 1, count);
			return -1;
		}
		shard_set(out, (uint32_t)id, count);
		return 0;
	}
	err_set(err, "--shard auto: not inside a Slurm job array (no SLURM_ARRAY_TASK_ID) nor a Kubernetes Indexed "
	        "Job (no JOB_COMPLETION_INDEX); give the shard as --shard K/N");
	return -1;
}

int shard_resolve(const char *spec, const char *count, struct shard *out, struct err *err)
{
	uint32_t n = 0;
	struct shard s = {0};

	if (count && shard_parse_count(count, &n, err) < 0)
		return -1;
	if (!spec) {
		if (count) {
			err_set(err, "--shards %s: says how many shards --shard auto splits the run into; give --shard "
			        "auto too (or --shard K/%s)",
			        count, count);
			return -1;
		}
		*out = s;
		return 0;
	}
	if (strcmp(spec, "auto") == 0) {
		if (shard_auto(n, &s, err) < 0)
			return -1;
	} else {
		if (shard_parse(spec, &s, err) < 0)
			return -1;
		if (n && n != s.count) {
			err_set(err, "--shard %s with --shards %s: the counts differ", spec, count);
			return -1;
		}
	}
	*out = s;
	return 0;
}

bool shard_path_has_index(const char *pattern)
{
	for (const char *p = pattern; *p; p++) {
		if (p[0] == '%' && p[1] == 'K')
			return true;
		if (p[0] == '%' && p[1])
			p++;
	}
	return false;
}

char *shard_path(const char *pattern, const struct shard *s, struct err *err)
{
	struct buf b = BUF_INIT;
	char *r = NULL;

	if (!s || s->count == 0) {
		/* unsharded runs keep any name they were given, % and all,
		 * unless it asks for a shard */
		if (strstr(pattern, "%K") || strstr(pattern, "%N")) {
			err_set(err, "-o '%s': %%K and %%N name a shard; give --shard too", pattern);
			return NULL;
		}
		return xstrdup(pattern);
	}
	for (const char *p = pattern; *p; p++) {
		if (*p != '%') {
			buf_putc(&b, *p);
			continue;
		}
		switch (p[1]) {
		case 'K':
			buf_printf(&b, "%u", s->index);
			break;
		case 'N':
			buf_printf(&b, "%u", s->count);
			break;
		case '%':
			buf_putc(&b, '%');
			break;
		default:
			err_set(err, "-o '%s': expected %%K (the shard index), %%N (the number of shards) or %%%% (a "
			        "percent sign) after '%%'",
			        pattern);
			goto out;
		}
		p++;
	}
	r = buf_steal(&b);
out:
	buf_free(&b);
	return r;
}
