/* step: the interface every step kind implements (exec and sleep here; ssh,
 * http, tcp and ping plug in the same way: one file worker/step_KIND.c with
 * one run function, and one line in the table in task.c). */
#ifndef FLEETRUN_STEP_H
#define FLEETRUN_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "job.h"
#include "kv.h"
#include "proto.h"
#include "status.h"

/* What the supervisor asked for: one host. */
struct task {
	uint64_t id;
	uint32_t attempt;
	char *host;          /* malloced, owned */
	struct kvlist vars;  /* host vars */
	int64_t timeout_ms;
};

/* What a task's steps share beyond vars: the connections they reuse, and
 * what the supervisor must do for the task beside recording it. Freed by
 * task_run when the task ends. */
struct task_state {
	struct ssh_conn *ssh;     /* NULL or the task's SSH connection, owned */
	bool http_used;           /* an http step ran: close its connection */
	char *known_hosts_line;   /* NULL or malloced: accept-new saw a new key; its line */
};

struct step_ctx {
	const struct job *job;
	const struct step *step;
	const void *expect_re;     /* NULL or the step's compiled pcre2_code */
	const struct task *task;
	const struct tmpl_scope *scope; /* captured vars, host vars, built-ins */
	struct kvlist *captured;   /* vars captured so far; a step may add */
	struct kvlist *secrets;    /* values to mask in everything recorded */
	const struct proto_settings *settings;
	size_t output_cap;         /* bytes of stdout and of stderr to keep */
	int64_t deadline_us;       /* monotonic: the earlier of the task's
	                              deadline and the step's own timeout */
	bool deadline_is_task;     /* which of the two deadline_us is */
	int frame_fd;              /* for the child frames (proto.h) */
	struct task_state *state;  /* shared by the task's steps */
};

struct step_result {
	enum status status;
	char *error;        /* NULL or malloced, owned */
	bool has_exit;      /* exec, ssh: the command ran to an exit status */
	int exit_code;
	int term_signal;    /* 0, or the signal that ended the command */
	struct buf out;     /* captured stdout, or an HTTP body (at most
	                       output_cap bytes) */
	struct buf err;     /* captured stderr (at most output_cap bytes) */
	bool truncated;     /* some output was dropped past the cap */
	int http_status;    /* http: the final response's status, 0 if none */
	char *withheld;     /* http: NULL, or malloced: the origin a request
	                       went to without the job's credentials */
	int sent, received; /* ping: echo requests and replies */
	double rtt_ms;      /* ping: mean round trip; tcp: time to connect */
	int64_t duration_ms;
};

void step_result_free(struct step_result *r);

/* Each kind's run function fills r (already zeroed, status STATUS_OK) and
 * returns nothing: every outcome, even an internal error, is a result. */
void step_exec_run(struct step_ctx *ctx, struct step_result *r);
void step_ssh_run(struct step_ctx *ctx, struct step_result *r);
void step_http_run(struct step_ctx *ctx, struct step_result *r);
void step_tcp_run(struct step_ctx *ctx, struct step_result *r);
void step_ping_run(struct step_ctx *ctx, struct step_result *r);
/* For a job with HTTP steps, at start-up (the worker has one thread then):
 * load libcurl and compile the job's jq expressions (checks, captures),
 * once. -1 with err when libcurl cannot be loaded. */
int step_http_prepare(const struct job *job, struct err *err);
/* Close the task's HTTP connection, if any. */
void step_http_close(struct task_state *state);
/* Close the task's SSH connection, if any. */
void step_ssh_close(struct task_state *state);
void step_sleep_run(struct step_ctx *ctx, struct step_result *r);

/* Apply the step's `expect` to r->out: failed when it does not match. */
void step_check_expect(struct step_ctx *ctx, struct step_result *r);

#endif
