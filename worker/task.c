/* task: run the steps of the job for one host, in order, and build the
 * result frame. The first step that does not end ok ends the task with its
 * status. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "clock.h"
#include "frame.h"
#include "log.h"
#include "tmpl.h"
#include "util.h"
#include "worker.h"

/* A whole result must stay under FRAME_MAX: this much of it is for
 * captured output, the rest for names, errors and vars. */
#define TASK_OUTPUT_BUDGET (FRAME_MAX - 4u * 1024 * 1024)

static const struct {
	enum step_kind kind;
	void (*run)(struct step_ctx *, struct step_result *);
} step_kinds[] = {
	{STEP_EXEC, step_exec_run},
	{STEP_SLEEP, step_sleep_run},
	{STEP_SSH, step_ssh_run},
	{STEP_HTTP, step_http_run},
	{STEP_TCP, step_tcp_run},
	{STEP_PING, step_ping_run},
};

void step_result_free(struct step_result *r)
{
	free(r->error);
	free(r->withheld);
	buf_free(&r->out);
	buf_free(&r->err);
}

void step_check_expect(struct step_ctx *ctx, struct step_result *r)
{
	pcre2_match_data *md;
	int rc;

	if (!ctx->expect_re)
		return;
	md = pcre2_match_data_create_from_pattern(ctx->expect_re, NULL);
	rc = pcre2_match(ctx->expect_re, (PCRE2_SPTR)(r->out.data ? r->out.data : ""), r->out.len, 0, 0, md,
	                 NULL);
	pcre2_match_data_free(md);
	if (rc < 0) {
		r->status = STATUS_FAILED;
		r->error = xasprintf("expect '%s' did not match the output", ctx->step->expect);
	}
}

/* Output as msgpack bin: bytes as they came. The supervisor decides how
 * to put them into JSON (string when valid UTF-8, else base64). */
static void task_pack_bytes(msgpack_packer *pk, const struct buf *b)
{
	msgpack_pack_bin(pk, b->len);
	msgpack_pack_bin_body(pk, b->data ? b->data : "", b->len);
}

/* One step's record. Every kind has kind, name, status, duration_ms and,
 * when not ok, error; then what it measured: exit/stdout/stderr for
 * commands, http_status/body (and credentials_withheld: the origin that
 * got none) for HTTP, connect_ms for tcp, sent/received/
 * rtt_ms for ping. */
static void task_pack_step(msgpack_packer *pk, const struct step *st, const struct step_result *r)
{
	bool is_cmd = st->kind == STEP_EXEC || st->kind == STEP_SSH;
	bool is_http = st->kind == STEP_HTTP;
	size_t n = 4 + (r->error ? 1 : 0);

	if (is_cmd)
		n += 3 + (r->has_exit ? 1 : 0) + (r->term_signal ? 1 : 0);
	else if (is_http)
		n += 3 + (r->withheld ? 1 : 0);
	else if (st->kind == STEP_TCP)
		n += r->status == STATUS_OK ? 1 : 0;
	else if (st->kind == STEP_PING)
		n += 2 + (r->received ? 1 : 0);
	msgpack_pack_map(pk, n);
	proto_pack_cstr(pk, "kind");
	proto_pack_cstr(pk, step_kind_name(st->kind));
	proto_pack_cstr(pk, "name");
	proto_pack_cstr(pk, st->name);
	if (is_cmd) {
		if (r->has_exit) {
			proto_pack_cstr(pk, "exit");
			msgpack_pack_int(pk, r->exit_code);
		}
		if (r->term_signal) {
			const char *abbrev = sigabbrev_np(r->term_signal);
			proto_pack_cstr(pk, "signal");
			proto_pack_cstr(pk, abbrev ? abbrev : "?");
		}
		proto_pack_cstr(pk, "stdout");
		task_pack_bytes(pk, &r->out);
		proto_pack_cstr(pk, "stderr");
		task_pack_bytes(pk, &r->err);
	} else if (is_http) {
		proto_pack_cstr(pk, "http_status");
		msgpack_pack_int(pk, r->http_status);
		proto_pack_cstr(pk, "body");
		task_pack_bytes(pk, &r->out);
		if (r->withheld) {
			proto_pack_cstr(pk, "credentials_withheld");
			proto_pack_cstr(pk, r->withheld);
		}
	} else if (st->kind == STEP_TCP && r->status == STATUS_OK) {
		proto_pack_cstr(pk, "connect_ms");
		msgpack_pack_double(pk, r->rtt_ms);
	} else if (st->kind == STEP_PING) {
		proto_pack_cstr(pk, "sent");
		msgpack_pack_int(pk, r->sent);
		proto_pack_cstr(pk, "received");
		msgpack_pack_int(pk, r->received);
		if (r->received) {
			proto_pack_cstr(pk, "rtt_ms");
			msgpack_pack_double(pk, r->rtt_ms);
		}
	}
	if (is_cmd || is_http) {
		proto_pack_cstr(pk, "truncated");
		if (r->truncated)
			msgpack_pack_true(pk);
		else
			msgpack_pack_false(pk);
	}
	proto_pack_cstr(pk, "status");
	proto_pack_cstr(pk, status_name(r->status));
	if (r->error) {
		proto_pack_cstr(pk, "error");
		proto_pack_cstr(pk, r->error);
	}
	proto_pack_cstr(pk, "duration_ms");
	msgpack_pack_int64(pk, r->duration_ms);
}

void task_run(const struct job *job, void *const *expect_res, const struct proto_settings *settings,
              const struct task *task, int frame_fd, struct buf *out)
{
	struct kvlist captured = KVLIST_INIT, secrets = KVLIST_INIT, builtins = KVLIST_INIT;
	struct task_state state = {0};
	struct step_result *results = xcalloc(job->nsteps, sizeof(*results));
	struct tmpl_scope scope = {&captured, &task->vars, &builtins};
	int64_t started_wall = clock_wall_ms(), started = clock_mono_us();
	int64_t task_deadline = started + task->timeout_ms * 1000;
	size_t budget = TASK_OUTPUT_BUDGET, nrun = 0;
	enum status status = STATUS_OK;
	const char *error = NULL;
	msgpack_packer pk;
	size_t start;

	tmpl_builtins(&builtins, job->name, task->host, &task->vars);
	/* Inventories hold passwords: a host var named like a secret is
	 * masked in everything this task records, whether a step uses it or
	 * not (a command may print its FLEETRUN_<NAME>). */
	for (size_t i = 0; i < task->vars.len; i++)
		if (tmpl_is_secret_name(task->vars.items[i].key))
			tmpl_secret_add(&secrets, task->vars.items[i].value);
	for (size_t i = 0; i < job->nsteps && status == STATUS_OK; i++) {
		const struct step *st = &job->steps[i];
		struct step_result *r = &results[i];
		struct step_ctx ctx = {
			.job = job,
			.step = st,
			.expect_re = expect_res[i],
			.task = task,
			.scope = &scope,
			.captured = &captured,
			.secrets = &secrets,
			.settings = settings,
			.output_cap = settings->output_cap < budget / 2 ? settings->output_cap : budget / 2,
			.deadline_us = task_deadline,
			.deadline_is_task = true,
			.frame_fd = frame_fd,
			.state = &state,
		};
		int64_t t0 = clock_mono_us();

		if (st->timeout_ms > 0 && t0 + st->timeout_ms * 1000 < task_deadline) {
			ctx.deadline_us = t0 + st->timeout_ms * 1000;
			ctx.deadline_is_task = false;
		}
		r->status = STATUS_OK;
		for (size_t k = 0; k < ARRAY_LEN(step_kinds); k++)
			if (step_kinds[k].kind == st->kind)
				step_kinds[k].run(&ctx, r);
		r->duration_ms = (clock_mono_us() - t0) / 1000;
		/* Secrets can come back in output or in error text (a command
		 * that echoes its token): mask them before anything is sent. */
		tmpl_mask(&r->out, &secrets);
		tmpl_mask(&r->err, &secrets);
		if (r->error) {
			struct buf e = BUF_INIT;
			buf_puts(&e, r->error);
			tmpl_mask(&e, &secrets);
			free(r->error);
			r->error = buf_steal(&e);
		}
		budget -= r->out.len + r->err.len;
		nrun++;
		if (r->status != STATUS_OK) {
			status = r->status;
			error = r->error;
		}
	}

	step_ssh_close(&state);
	step_http_close(&state);
	start = frame_begin(out);
	proto_packer_init(&pk, out);
	msgpack_pack_map(&pk, state.known_hosts_line ? 9 : 8);
	if (state.known_hosts_line) {
		/* accept-new met a host it did not know: the supervisor, the
		 * only writer of known_hosts, checks this line and appends it
		 * to the file it derives itself (a worker never names one) */
		proto_pack_cstr(&pk, "known_hosts_add");
		msgpack_pack_map(&pk, 1);
		proto_pack_cstr(&pk, "line");
		proto_pack_cstr(&pk, state.known_hosts_line);
	}
	proto_pack_cstr(&pk, "type");
	proto_pack_cstr(&pk, "result");
	proto_pack_cstr(&pk, "id");
	msgpack_pack_uint64(&pk, task->id);
	proto_pack_cstr(&pk, "status");
	proto_pack_cstr(&pk, status_name(status));
	proto_pack_cstr(&pk, "steps");
	msgpack_pack_array(&pk, nrun);
	for (size_t i = 0; i < nrun; i++)
		task_pack_step(&pk, &job->steps[i], &results[i]);
	proto_pack_cstr(&pk, "vars");
	msgpack_pack_map(&pk, captured.len);
	for (size_t i = 0; i < captured.len; i++) {
		proto_pack_cstr(&pk, captured.items[i].key);
		proto_pack_cstr(&pk, tmpl_is_secret_name(captured.items[i].key) ? "***" : captured.items[i].value);
	}
	proto_pack_cstr(&pk, "error");
	proto_pack_cstr_or_nil(&pk, error);
	proto_pack_cstr(&pk, "started_ms");
	msgpack_pack_int64(&pk, started_wall);
	proto_pack_cstr(&pk, "duration_ms");
	msgpack_pack_int64(&pk, (clock_mono_us() - started) / 1000);
	frame_end(out, start);

	for (size_t i = 0; i < job->nsteps; i++)
		step_result_free(&results[i]);
	free(results);
	free(state.known_hosts_line);
	kvlist_free(&captured);
	kvlist_free(&secrets);
	kvlist_free(&builtins);
}
