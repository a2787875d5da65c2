/* task: run the steps of the job for one host, in order, and send the
 * result. The first step that does not end ok ends the task with its
 * status. The step kinds are the table below; the result's wire form is
 * proto.c's. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "cli_transcript.h"
#include "clock.h"
#include "frame.h"
#include "login_gate.h"
#include "step.h"
#include "taskscope.h"
#include "tmpl.h"
#include "util.h"

/* A whole result must stay under FRAME_MAX: this much of it is for
 * captured output, the rest for names, errors and vars. */
#define TASK_OUTPUT_BUDGET (FRAME_MAX - 4u * 1024 * 1024)

_Static_assert(JOB_MAX_STEPS <= PROTO_MAX_STEPS, "a result holds every step of a job");

/* The step kinds, one file each (worker/step_KIND.c): a new kind is its
 * file and its name here. */
extern const struct step_ops step_exec_ops, step_sleep_ops, step_ssh_ops, step_http_ops, step_tcp_ops,
	step_ping_ops, step_cli_ops, step_cli_config_ops;
/* (cli before ssh: its shell closes before the connection it is on) */
static const struct step_ops *const task_kinds[] = {
	&step_exec_ops, &step_sleep_ops, &step_cli_ops, &step_cli_config_ops, &step_ssh_ops, &step_http_ops,
	&step_tcp_ops, &step_ping_ops,
};

static const struct step_ops *task_kind(enum step_kind kind)
{
	for (size_t k = 0; k < ARRAY_LEN(task_kinds); k++)
		if (task_kinds[k]->kind == kind)
			return task_kinds[k];
	return NULL;
}

int task_prepare(const struct job *job, struct err *err)
{
	for (size_t k = 0; k < ARRAY_LEN(task_kinds); k++)
		if (task_kinds[k]->prepare && task_kinds[k]->prepare(job, err) < 0)
			return -1;
	return 0;
}

void task_finish(void)
{
	for (size_t k = 0; k < ARRAY_LEN(task_kinds); k++)
		if (task_kinds[k]->finish)
			task_kinds[k]->finish();
}

/* Run one step into r, its output and error masked. */
static void task_step(struct step_ctx *ctx, struct step_result *r)
{
	const struct step_ops *ops = task_kind(ctx->step->kind);
	int64_t t0 = clock_mono_us();

	if (ctx->step->timeout_ms > 0 && t0 + ctx->step->timeout_ms * 1000 < ctx->deadline_us) {
		ctx->deadline_us = t0 + ctx->step->timeout_ms * 1000;
		ctx->deadline_is_task = false;
	}
	r->status = STATUS_OK;
	if (ops)
		ops->run(ctx, r);
	r->duration_ms = (clock_mono_us() - t0) / 1000;
	/* Secrets can come back in output or in error text (a command
	 * that echoes its token): mask them before anything is sent. */
	tmpl_mask(&r->out, ctx->secrets);
	tmpl_mask(&r->err, ctx->secrets);
	if (r->error) {
		struct buf e = BUF_INIT;
		buf_puts(&e, r->error);
		tmpl_mask(&e, ctx->secrets);
		free(r->error);
		r->error = buf_steal(&e);
	}
}

/* One step's record: kind, name, status, duration_ms and, when not ok,
 * error; then what its kind measured. The view points into st and r. */
static void task_view_step(const struct step *st, const struct step_result *r, struct proto_step *v)
{
	const struct step_ops *ops = task_kind(st->kind);

	memset(v, 0, sizeof(*v));
	v->has = PROTO_STEP_KIND | PROTO_STEP_NAME | PROTO_STEP_STATUS | PROTO_STEP_DURATION_MS;
	v->kind = proto_cstr(step_kind_name(st->kind));
	v->name = proto_cstr(st->name);
	v->status = proto_cstr(status_name(r->status));
	v->duration_ms = r->duration_ms;
	if (r->error) {
		v->has |= PROTO_STEP_ERROR;
		v->error = proto_cstr(r->error);
	}
	if (ops && ops->pack)
		ops->pack(r, v);
}

void task_run(const struct job *job, void *const *expect_res, const struct proto_settings *settings,
              const struct proto_task *task, int frame_fd, struct buf *out)
{
	struct taskscope ts; /* shared with --dry-run: taskscope.h */
	struct task_state state = {0};
	struct step_result *results = xcalloc(job->nsteps, sizeof(*results));
	struct proto_step *views = xcalloc(job->nsteps, sizeof(*views));
	int64_t started_wall = clock_wall_ms(), started = clock_mono_us();
	/* a transcript's text can pass its max by one stride */
	size_t budget = TASK_OUTPUT_BUDGET - (settings->transcript ? 2 * CLI_TRANSCRIPT_MAX : 0), nrun = 0;
	struct proto_result res = {.id = task->id, .status = STATUS_OK, .steps = views, .vars = &ts.captured};
	struct buf transcript = BUF_INIT;

	taskscope_init(&ts, job->name, task->host, &task->vars);
	if (settings->transcript)
		state.transcript = cli_transcript_new();
	for (size_t i = 0; i < job->nsteps && res.status == STATUS_OK; i++) {
		struct step_ctx ctx = {
			.job = job,
			.step = &job->steps[i],
			.expect_re = expect_res[i],
			.task = task,
			.scope = &ts.scope,
			.captured = &ts.captured,
			.secrets = &ts.secrets,
			.settings = settings,
			.output_cap = settings->output_cap < budget / 2 ? settings->output_cap : budget / 2,
			/* a wait for a login slot is not the task's time */
			.deadline_us = started + task->timeout_ms * 1000 + state.login_wait_us,
			.deadline_is_task = true,
			.frame_fd = frame_fd,
			.state = &state,
		};

		cli_transcript_note(state.transcript, "step %zu (%s): %s", i + 1, step_kind_name(job->steps[i].kind),
		                    job->steps[i].name);
		task_step(&ctx, &results[i]);
		cli_transcript_note(state.transcript, "step %zu: %s%s%s", i + 1, status_name(results[i].status),
		                    results[i].error ? ": " : "", results[i].error ? results[i].error : "");
		budget -= results[i].out.len + results[i].err.len + results[i].parsed.len;
		nrun++;
		if (results[i].status != STATUS_OK) {
			res.status = results[i].status;
			res.error = proto_cstr(results[i].error);
		}
	}
	for (size_t k = 0; k < ARRAY_LEN(task_kinds); k++)
		if (task_kinds[k]->close)
			task_kinds[k]->close(&state);
	/* a login that failed is over once its connection is closed */
	login_gate_leave();

	for (size_t i = 0; i < nrun; i++)
		task_view_step(&job->steps[i], &results[i], &views[i]);
	res.nsteps = nrun;
	/* a captured var named like a secret is recorded as *** */
	for (size_t i = 0; i < ts.captured.len; i++) {
		if (tmpl_is_secret_name(ts.captured.items[i].key)) {
			free(ts.captured.items[i].value);
			ts.captured.items[i].value = xstrdup("***");
		}
	}
	res.started_ms = started_wall;
	res.duration_ms = (clock_mono_us() - started) / 1000;
	if (state.nknown_hosts) {
		/* accept-new met hosts it did not know (the device, jump
		 * hosts): the supervisor checks each line and appends it */
		res.has |= PROTO_RESULT_KNOWN_HOSTS;
		for (size_t i = 0; i < state.nknown_hosts; i++)
			res.known_hosts_lines[i] = proto_cstr(state.known_hosts_lines[i]);
		res.nknown_hosts = state.nknown_hosts;
	}
	if (state.jump) {
		res.has |= PROTO_RESULT_JUMP;
		res.jump = proto_cstr(state.jump);
	}
	if (state.ssh_negotiated.has) {
		res.has |= PROTO_RESULT_SSH;
		res.ssh = state.ssh_negotiated;
	}
	if (state.transcript) {
		/* rendered here, where the task's secrets are all known */
		cli_transcript_render(state.transcript, task->host, &ts.secrets, &transcript);
		res.has |= PROTO_RESULT_TRANSCRIPT;
		res.transcript = (struct proto_str){transcript.data ? transcript.data : "", transcript.len};
	}
	proto_encode_result(out, &res);

	for (size_t i = 0; i < job->nsteps; i++)
		step_result_free(&results[i]);
	free(results);
	free(views);
	for (size_t i = 0; i < state.nknown_hosts; i++)
		free(state.known_hosts_lines[i]);
	free(state.jump);
	cli_transcript_free(state.transcript);
	buf_free(&transcript);
	taskscope_free(&ts);
}
