/* libFuzzer target: the job parser (common/job.c, job_http.c, yaml_json.c
 * and yamlnode.c) on a job file's text, from memory, as the worker parses
 * the hello's copy of it; then every step's templates rendered
 * (common/tmpl.c) as the worker would for a host.
 *
 * The text is handed over without a terminating NUL, exactly as long as
 * the input, so a read past its end is caught. jq expressions are not
 * compiled (JOB_PARSE_NO_JQ, as in the worker): jq 1.6 takes ~40 ms per
 * compile, which would leave the fuzzer a few runs a second, and jq is
 * not our code. PCRE2 patterns are compiled. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "job.h"
#include "kv.h"
#include "tmpl.h"
#include "util.h"

#define CHECK(cond)                                                                                  \
	do {                                                                                         \
		if (!(cond)) {                                                                       \
			fprintf(stderr, "fuzz_job: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                     \
		}                                                                                    \
	} while (0)

static void render(const char *t, const struct tmpl_scope *scope)
{
	struct buf out = BUF_INIT;
	struct kvlist secrets = KVLIST_INIT;
	struct err err;
	size_t off = 0;

	if (!t)
		return;
	/* The parser checked every template; rendering may still miss a
	 * variable, which is an error for that host, not a fault. */
	CHECK(tmpl_check(t, &off, &err) == 0);
	{
		struct kvlist env = KVLIST_INIT;
		tmpl_check_shell(t, &off, &err);
		tmpl_render_shell(t, scope, &out, &env, &secrets, &err);
		kvlist_free(&env);
	}
	buf_reset(&out);
	tmpl_render(t, scope, TMPL_ENV_VALUE, &out, &secrets, &err);
	buf_reset(&out);
	tmpl_render_json(t, scope, &out, &secrets, &err);
	buf_free(&out);
	kvlist_free(&secrets);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size ? size : 1);
	struct job *job = NULL;
	struct err err;

	memcpy(text, data, size);
	if (job_parse_flags("jobs.d/fuzz.yaml", text, size, JOB_PARSE_NO_JQ, &job, &err) == 0) {
		struct kvlist hostvars = KVLIST_INIT, builtins = KVLIST_INIT;
		struct tmpl_scope scope = {NULL, &hostvars, &builtins};

		CHECK(job->nsteps <= JOB_MAX_STEPS);
		CHECK(job->source_len == size && memcmp(job->source, data, size) == 0);
		kvlist_set(&hostvars, "user", "admin");
		kvlist_set(&hostvars, "token", "s3cret");
		tmpl_builtins(&builtins, job->name, "rtr1", &hostvars);
		for (size_t i = 0; i < job->nsteps; i++) {
			const struct step *st = &job->steps[i];

			render(st->text, &scope);
			CHECK(st->name != NULL);
			if (st->http) {
				render(st->http->path, &scope);
				render(st->http->url, &scope);
				render(st->http->body, &scope);
				for (size_t k = 0; k < st->http->headers.len; k++)
					render(st->http->headers.items[k].value, &scope);
			}
		}
		render(job->ssh.user, &scope);
		render(job->http.base, &scope);
		kvlist_free(&hostvars);
		kvlist_free(&builtins);
		job_free(job);
	} else {
		/* every error names the file */
		CHECK(strncmp(err.msg, "jobs.d/fuzz.yaml", 16) == 0);
	}
	free(text);
	return 0;
}
