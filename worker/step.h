/* step: the interface every step kind implements, and what the kinds
 * share. A kind is one file, worker/step_KIND.c, exporting one
 * `const struct step_ops step_KIND_ops`, and one line in task.c's table
 * (the job parser, common/job.c, knows its name and syntax). */
#ifndef FLEETRUN_STEP_H
#define FLEETRUN_STEP_H

#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "job.h"
#include "kv.h"
#include "proto.h"
#include "status.h"

/* What a task's steps share beyond vars: the connections they reuse, and
 * what the supervisor must do for the task beside recording it. Freed by
 * task_run when the task ends. */
struct task_state {
	struct ssh_conn *ssh;     /* NULL or the task's SSH connection, owned */
	struct cli_session *cli;  /* NULL or the task's CLI shell on it, owned
	                             (closed before the connection) */
	bool http_used;           /* an http step ran: close its connection */
	/* accept-new saw new keys (the device's, a jump host's): their
	 * lines, malloced */
	char *known_hosts_lines[PROTO_MAX_KNOWN_HOSTS];
	size_t nknown_hosts;
	char *jump;               /* NULL, or the jump chain used (malloced) */
	struct proto_ssh ssh_negotiated; /* what the SSH connection agreed on, for
	                                    the record (views of static names) */
	int64_t login_wait_us;    /* waited for login slots (login_gate.h): the
	                             task's deadline moves by it */
	struct cli_transcript *transcript; /* NULL, or --transcript's collector
	                                      (cli_transcript.h), owned */
	size_t parsed_objects;    /* msgpack objects of the task's parsed
	                             records so far (step_parse.c) */
};

struct step_ctx {
	const struct job *job;
	const struct step *step;
	const void *expect_re;     /* NULL or the step's compiled pcre2_code */
	const struct proto_task *task; /* what the supervisor asked for: one host */
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
	bool has_parsed;    /* ssh, cli with parse: the records in parsed */
	struct buf parsed;  /* packed msgpack array (proto.h, "parsed") */
	int http_status;    /* http: the final response's status, 0 if none */
	char *withheld;     /* http: NULL, or malloced: the origin a request
	                       went to without the job's credentials */
	int sent, received; /* ping: echo requests and replies */
	double rtt_ms;      /* ping: mean round trip; tcp: time to connect */
	int64_t duration_ms;
};

/* One step kind. */
struct step_ops {
	enum step_kind kind;
	/* At start-up, once, whatever the job's steps (the worker has one
	 * thread then): load and compile what the kind's steps of this job
	 * need. 0, or -1 with err: the worker cannot run the job. NULL: none. */
	int (*prepare)(const struct job *job, struct err *err);
	/* Fill r (zeroed, status STATUS_OK). Returns nothing: every outcome,
	 * even an internal error, is a result. */
	void (*run)(struct step_ctx *ctx, struct step_result *r);
	/* When the task ends: close what the kind's steps share in state (a
	 * connection). NULL: nothing kept. */
	void (*close)(struct task_state *state);
	/* What a step of this kind measured into v: its fields and their
	 * PROTO_STEP_* bits (task.c fills kind, name, status, error and
	 * duration). NULL: nothing beyond those. */
	void (*pack)(const struct step_result *r, struct proto_step *v);
	/* When the worker exits: free what prepare made (jq programs), so
	 * that a leak check of the worker sees nothing. NULL: nothing. */
	void (*finish)(void);
};

/* step.c: what several kinds share. */
/* Keep a new known_hosts line (owned; NULL ignored) for the result. */
void step_known_host_add(struct task_state *s, char *line);
void step_result_free(struct step_result *r);
/* Apply the step's `expect` to r->out: failed when it does not match. */
void step_check_expect(struct step_ctx *ctx, struct step_result *r);
/* The fields of a command (exec, ssh): exit or signal, stdout, stderr,
 * truncated. v's strings point into r. */
void step_pack_command(const struct step_result *r, struct proto_step *v);

#endif
