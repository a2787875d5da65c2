/* Unit tests for runner/shard.c: every host in exactly one shard, balance,
 * stability when hosts are added and when a shard is added, pinned values
 * (a change of the hash would strand the journals of running shards),
 * --shard K/N parsing, --shard auto inside Slurm job arrays and
 * Kubernetes Indexed Jobs, the %K/%N journal pattern, the targets
 * filtered by shard (runner/targets.c), and the shard in records. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "record.h"
#include "shard.h"
#include "targets.h"
#include "util.h"

static const char *const shard_env_vars[] = {
	"SLURM_ARRAY_TASK_ID", "SLURM_ARRAY_TASK_MIN", "SLURM_ARRAY_TASK_MAX", "SLURM_ARRAY_TASK_COUNT",
	"SLURM_ARRAY_TASK_STEP", "JOB_COMPLETION_INDEX", "FLEETRUN_SHARDS",
};

/* Every test starts and ends outside any Slurm array or Kubernetes Job,
 * whatever the environment make test runs in. */
static int clear_env(void **state)
{
	for (size_t i = 0; i < ARRAY_LEN(shard_env_vars); i++)
		unsetenv(shard_env_vars[i]);
	return 0;
}

static void name_of(char *out, size_t n, int i)
{
	snprintf(out, n, "host%06d", i);
}

static void test_every_host_in_one_shard(void **state)
{
	static const uint32_t counts[] = {1, 2, 3, 7, 16, 100, 1000};
	char name[64];

	for (size_t c = 0; c < ARRAY_LEN(counts); c++) {
		uint32_t n = counts[c];
		for (int i = 0; i < 3000; i++) {
			uint32_t owners = 0;
			snprintf(name, sizeof(name), "rtr%d.dc%d.example.net", i, i % 7);
			assert_true(shard_of(name, n) < n);
			for (uint32_t k = 0; k < n; k++) {
				struct shard s = {.index = k, .count = n};
				owners += shard_has(&s, name);
			}
			if (owners != 1)
				fail_msg("%s is in %u of %u shards", name, owners, n);
		}
	}
}

static void test_unsharded_has_every_host(void **state)
{
	struct shard none = {0};

	assert_true(shard_has(&none, "anything"));
	assert_true(shard_has(NULL, "anything"));
	assert_int_equal(shard_of("x", 1), 0);
}

/* 100,000 names over 16 shards: each within 5% of 6,250 (the binomial
 * spread is ~1.2%), for sequential names and for FQDN-like ones. */
static void test_balance_16(void **state)
{
	uint32_t seq[16] = {0}, fqdn[16] = {0};
	char name[64];

	for (int i = 0; i < 100000; i++) {
		name_of(name, sizeof(name), i);
		seq[shard_of(name, 16)]++;
		snprintf(name, sizeof(name), "core-rtr%02d.dc%d.pod%d.example.net", i % 40, i / 40 % 50, i / 2000);
		fqdn[shard_of(name, 16)]++;
	}
	for (int k = 0; k < 16; k++) {
		if (seq[k] < 6250 * 95 / 100 || seq[k] > 6250 * 105 / 100 || fqdn[k] < 6250 * 95 / 100 ||
		    fqdn[k] > 6250 * 105 / 100)
			fail_msg("shard %d of 16 holds %u sequential and %u FQDN names (expected 6250 +- 5%%)", k, seq[k],
			         fqdn[k]);
	}
}

/* A host's shard depends on its name alone: the hosts of a first
 * inventory keep their shards when it grows to twice its size. */
static void test_stable_when_hosts_are_added(void **state)
{
	enum { FIRST = 5000, ALL = 10000 };
	uint32_t *before = xcalloc(FIRST, sizeof(*before));
	char name[64];
	uint32_t moved = 0;

	for (int i = 0; i < FIRST; i++) {
		name_of(name, sizeof(name), i);
		before[i] = shard_of(name, 16);
	}
	for (int i = 0; i < ALL; i++) {
		name_of(name, sizeof(name), ALL - 1 - i); /* another order, and new hosts */
		if (ALL - 1 - i < FIRST)
			moved += shard_of(name, 16) != before[ALL - 1 - i];
	}
	assert_int_equal(moved, 0);
	free(before);
}

/* Jump consistent hashing: from 16 to 17 shards about 1/17 of the hosts
 * move, every one of them to the new shard. */
static void test_few_move_when_a_shard_is_added(void **state)
{
	char name[64];
	uint32_t moved = 0;

	for (int i = 0; i < 100000; i++) {
		uint32_t a, b;
		name_of(name, sizeof(name), i);
		a = shard_of(name, 16);
		b = shard_of(name, 17);
		if (a != b) {
			moved++;
			assert_int_equal(b, 16);
		}
	}
	/* 1/17 is 5.9% */
	if (moved < 4000 || moved > 8000)
		fail_msg("%u of 100000 hosts moved from 16 to 17 shards (expected ~5,900)", moved);
}

/* These values are the contract between runs: a shard resumed with a
 * newer fleetrun must select the same hosts as when it started. */
static void test_pinned_values(void **state)
{
	static const struct {
		const char *host;
		uint32_t count, shard;
	} want[] = {
		{"h0001", 4, 3},
		{"h0002", 4, 3},
		{"rtr1.example.net", 16, 13},
		{"10.0.0.1", 16, 9},
		{"", 7, 1},
	};

	for (size_t i = 0; i < ARRAY_LEN(want); i++) {
		uint32_t got = shard_of(want[i].host, want[i].count);
		if (got != want[i].shard)
			fail_msg("shard_of(\"%s\", %u) = %u, expected %u", want[i].host, want[i].count, got, want[i].shard);
	}
}

static void test_parse_good(void **state)
{
	struct shard s;
	struct err err;

	assert_int_equal(shard_parse("0/4", &s, &err), 0);
	assert_int_equal(s.index, 0);
	assert_int_equal(s.count, 4);
	assert_string_equal(s.label, "0/4");
	assert_int_equal(shard_parse("3/4", &s, &err), 0);
	assert_string_equal(s.label, "3/4");
	assert_int_equal(shard_parse("0/1", &s, &err), 0);
	assert_int_equal(shard_parse("99999/100000", &s, &err), 0);
}

static void assert_parse_error(const char *text, const char *says)
{
	struct shard s = {0};
	struct err err = {{0}};

	if (shard_parse(text, &s, &err) == 0)
		fail_msg("--shard '%s' was accepted as %s", text, s.label);
	if (!strstr(err.msg, says) || !strstr(err.msg, text))
		fail_msg("--shard '%s': error '%s' does not say '%s'", text, err.msg, says);
}

static void test_parse_bad(void **state)
{
	/* K/N is 0-based: N/N and past it are out of range */
	assert_parse_error("4/4", "from 0 to 3");
	assert_parse_error("5/4", "from 0 to 3");
	assert_parse_error("x", "expected K/N");
	assert_parse_error("", "expected K/N");
	assert_parse_error("1/0", "expected N");
	assert_parse_error("1/", "expected N");
	assert_parse_error("/4", "expected K");
	assert_parse_error("-1/4", "expected K");
	assert_parse_error("a/4", "expected K");
	assert_parse_error("1/4/2", "expected N");
	assert_parse_error("1/100001", "expected N");
	assert_parse_error("1/4x", "expected N");
}

static void test_parse_count(void **state)
{
	uint32_t n;
	struct err err;

	assert_int_equal(shard_parse_count("16", &n, &err), 0);
	assert_int_equal(n, 16);
	assert_int_equal(shard_parse_count("0", &n, &err), -1);
	assert_non_null(strstr(err.msg, "--shards '0'"));
	assert_int_equal(shard_parse_count("many", &n, &err), -1);
	assert_int_equal(shard_parse_count("100001", &n, &err), -1);
}

static void slurm(const char *id, const char *min, const char *count, const char *step)
{
	clear_env(NULL);
	setenv("SLURM_ARRAY_TASK_ID", id, 1);
	if (min)
		setenv("SLURM_ARRAY_TASK_MIN", min, 1);
	if (count)
		setenv("SLURM_ARRAY_TASK_COUNT", count, 1);
	if (step)
		setenv("SLURM_ARRAY_TASK_STEP", step, 1);
}

static void assert_auto(uint32_t count, const char *label)
{
	struct shard s = {0};
	struct err err;

	if (shard_auto(count, &s, &err) < 0)
		fail_msg("--shard auto failed: %s", err.msg);
	assert_string_equal(s.label, label);
}

static void assert_auto_error(uint32_t count, const char *says)
{
	struct shard s = {0};
	struct err err = {{0}};

	if (shard_auto(count, &s, &err) == 0)
		fail_msg("--shard auto gave %s", s.label);
	if (!strstr(err.msg, says))
		fail_msg("error '%s' does not say '%s'", err.msg, says);
}

static void test_auto_slurm(void **state)
{
	/* sbatch --array=0-3: ids are indexes */
	slurm("2", "0", "4", "1");
	assert_auto(0, "2/4");
	/* --array=1-4: the position in the array */
	slurm("1", "1", "4", "1");
	assert_auto(0, "0/4");
	slurm("4", "1", "4", "1");
	assert_auto(0, "3/4");
	/* --array=1-7:2 (ids 1, 3, 5, 7) */
	slurm("5", "1", "4", "2");
	assert_auto(0, "2/4");
	slurm("4", "1", "4", "2");
	assert_auto_error(0, "evenly stepped");
	/* no step variable: step 1 */
	slurm("3", "0", "4", NULL);
	assert_auto(0, "3/4");
	/* with --shards, the id is the index: a resubmitted part of the
	 * array (sbatch --array=2) has its own count and minimum */
	slurm("2", "2", "1", "1");
	assert_auto(4, "2/4");
	slurm("4", "0", "5", "1");
	assert_auto_error(4, "SLURM_ARRAY_TASK_ID=4 is not a shard index from 0 to 3");
	/* FLEETRUN_SHARDS is --shards from the environment */
	slurm("2", "2", "1", "1");
	setenv("FLEETRUN_SHARDS", "8", 1);
	assert_auto(0, "2/8");
	/* what is missing or wrong is named */
	slurm("2", NULL, "4", "1");
	assert_auto_error(0, "SLURM_ARRAY_TASK_MIN is not");
	slurm("2", "0", NULL, "1");
	assert_auto_error(0, "SLURM_ARRAY_TASK_COUNT is not set");
	slurm("two", "0", "4", "1");
	assert_auto_error(0, "SLURM_ARRAY_TASK_ID='two'");
	clear_env(NULL);
}

static void test_auto_kubernetes(void **state)
{
	clear_env(NULL);
	setenv("JOB_COMPLETION_INDEX", "3", 1);
	assert_auto(8, "3/8");
	assert_auto_error(0, "FLEETRUN_SHARDS");
	setenv("FLEETRUN_SHARDS", "8", 1);
	assert_auto(0, "3/8");
	/* --shards wins over the environment */
	assert_auto(4, "3/4");
	assert_auto_error(3, "JOB_COMPLETION_INDEX=3 is not a shard index from 0 to 2");
	setenv("FLEETRUN_SHARDS", "0", 1);
	assert_auto_error(0, "FLEETRUN_SHARDS=0");
	setenv("FLEETRUN_SHARDS", "lots", 1);
	assert_auto_error(0, "FLEETRUN_SHARDS='lots'");
	clear_env(NULL);
}

static void test_auto_nowhere(void **state)
{
	clear_env(NULL);
	assert_auto_error(0, "not inside a Slurm job array");
	assert_auto_error(4, "--shard K/N");
	/* an empty variable is no variable */
	setenv("SLURM_ARRAY_TASK_ID", "", 1);
	assert_auto_error(4, "not inside a Slurm job array");
	clear_env(NULL);
}

static void test_resolve(void **state)
{
	struct shard s;
	struct err err;

	assert_int_equal(shard_resolve(NULL, NULL, &s, &err), 0);
	assert_int_equal(s.count, 0);
	assert_int_equal(shard_resolve("1/4", NULL, &s, &err), 0);
	assert_string_equal(s.label, "1/4");
	assert_int_equal(shard_resolve("1/4", "4", &s, &err), 0);
	assert_int_equal(shard_resolve("1/4", "8", &s, &err), -1);
	assert_non_null(strstr(err.msg, "differ"));
	assert_int_equal(shard_resolve(NULL, "4", &s, &err), -1);
	assert_non_null(strstr(err.msg, "--shard auto"));
	clear_env(NULL);
	setenv("JOB_COMPLETION_INDEX", "1", 1);
	assert_int_equal(shard_resolve("auto", "2", &s, &err), 0);
	assert_string_equal(s.label, "1/2");
	clear_env(NULL);
}

static void assert_path(const char *pattern, const char *label, const char *want)
{
	struct shard s = {0};
	struct err err;
	char *got;

	if (label && shard_parse(label, &s, &err) < 0)
		fail_msg("%s", err.msg);
	got = shard_path(pattern, &s, &err);
	if (!got)
		fail_msg("shard_path(%s, %s): %s", pattern, label ? label : "unsharded", err.msg);
	assert_string_equal(got, want);
	free(got);
}

static void test_path(void **state)
{
	struct shard s = {0};
	struct err err;

	assert_path("results-%K.jsonl", "2/4", "results-2.jsonl");
	assert_path("r/%N/%K-of-%N-100%%.jsonl", "12/16", "r/16/12-of-16-100%.jsonl");
	assert_path("plain.jsonl", "0/2", "plain.jsonl");
	/* unsharded: a name is taken as it is, % and all */
	assert_path("run-100%.jsonl", NULL, "run-100%.jsonl");
	assert_null(shard_path("results-%K.jsonl", &s, &err));
	assert_non_null(strstr(err.msg, "--shard"));
	shard_parse("1/2", &s, &err);
	assert_null(shard_path("results-%d.jsonl", &s, &err));
	assert_non_null(strstr(err.msg, "%K"));
	assert_null(shard_path("results-%", &s, &err));
	assert_true(shard_path_has_index("a-%K"));
	assert_false(shard_path_has_index("a-%%K"));
	assert_false(shard_path_has_index("a-%N"));
}

/* The shards of an -H range: disjoint, and together every host. */
static void test_targets(void **state)
{
	const char *patterns[] = {"h[001-500]"};
	struct targets_opts o = {.patterns = patterns, .npatterns = 1};
	char seen[501] = {0};
	uint64_t total = 0;

	for (uint32_t k = 0; k < 3; k++) {
		struct shard s = {.index = k, .count = 3};
		struct targets *t;
		struct host h;
		struct err err;
		uint64_t others = 0, mine = 0;
		int got;

		if (targets_open(&o, &t, &err) < 0)
			fail_msg("%s", err.msg);
		while ((got = targets_next_in_shard(t, &s, &h, &others, &err)) > 0) {
			int i = atoi(h.name + 1);
			assert_int_equal(seen[i], 0);
			seen[i] = 1;
			mine++;
			host_free(&h);
		}
		assert_int_equal(got, 0);
		assert_int_equal(mine + others, 500);
		total += mine;
		targets_close(t);
	}
	assert_int_equal(total, 500);
}

static void test_record_carries_shard(void **state)
{
	struct record r;
	struct record_info ri = {.host = "h1", .job = "j", .attempt = 1, .started_wall_ms = 1700000000123};

	record_init(&r);
	record_make(&r, &ri, STATUS_OK, NULL);
	assert_null(memmem(r.json, r.json_len, "shard", 5));
	ri.shard = "2/4";
	record_make(&r, &ri, STATUS_OK, NULL);
	assert_non_null(memmem(r.json, r.json_len, "\"shard\":\"2/4\",\"status\"", 22));
	record_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_every_host_in_one_shard),
		cmocka_unit_test(test_unsharded_has_every_host),
		cmocka_unit_test(test_balance_16),
		cmocka_unit_test(test_stable_when_hosts_are_added),
		cmocka_unit_test(test_few_move_when_a_shard_is_added),
		cmocka_unit_test(test_pinned_values),
		cmocka_unit_test(test_parse_good),
		cmocka_unit_test(test_parse_bad),
		cmocka_unit_test(test_parse_count),
		cmocka_unit_test(test_auto_slurm),
		cmocka_unit_test(test_auto_kubernetes),
		cmocka_unit_test(test_auto_nowhere),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_path),
		cmocka_unit_test(test_targets),
		cmocka_unit_test(test_record_carries_shard),
	};

	return cmocka_run_group_tests(tests, clear_env, clear_env);
}
