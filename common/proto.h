/* proto: the msgpack messages between supervisor and worker (DESIGN.md,
 * "Protocol"), encoded and decoded here and nowhere else. Every message is
 * a map with a "type"; unknown keys are ignored so either side can grow
 * fields without breaking the other.
 *
 *   supervisor -> worker  hello   {version, job_path, job, settings}
 *   supervisor -> worker  task    {id, attempt, host, vars, timeout_ms}
 *   worker -> supervisor  ready   {version, pid}
 *   worker -> supervisor  child   {id, pgid}   a step started (pgid > 0) or
 *                                 ended (pgid 0) a local process group, so
 *                                 the supervisor can kill it with the worker
 *   worker -> supervisor  result  struct proto_result below
 *   worker -> supervisor  login        {id, key}   before an SSH login: may
 *                                      it start? (--max-logins; key "" a
 *                                      device, "host:port" a jump host)
 *   supervisor -> worker  login_grant  {id, waited_ms}   it may
 *   worker -> supervisor  login_done   {id}   the login ended, however
 *                                      (struct proto_login below)
 *
 * The result is the one message that grows: its fields are tables in
 * proto.c (name, wire type, place in the struct), which the encoder and
 * the decoder both walk, so a field is named once and a map's size is
 * counted from the fields written. Everyone else reads the typed view. */
#ifndef FLEETRUN_PROTO_H
#define FLEETRUN_PROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "buf.h"
#include "kv.h"
#include "status.h"
#include "util.h"

#define PROTO_VERSION 1

/* Deepest nesting of arrays and maps accepted in a message. msgpack-c's
 * own unpacker stops at 32 too. */
#define PROTO_MAX_DEPTH 32

/* Most objects (every value, key and container counts) accepted in a
 * message. msgpack-c spends 24 bytes per object, so a frame of 60 MB of
 * nils in one array32 would cost the supervisor 1.4 GB to decode; real
 * messages hold a few thousand objects (strings are one object however
 * long). */
#define PROTO_MAX_OBJECTS (1u << 20)

/* Per-step capture cap of stdout and of stderr, unless the run sets one. */
#define PROTO_DEFAULT_OUTPUT_CAP (1024 * 1024)

enum proto_type {
	PROTO_HELLO,
	PROTO_TASK,
	PROTO_READY,
	PROTO_CHILD,
	PROTO_RESULT,
	PROTO_LOGIN,
	PROTO_LOGIN_GRANT,
	PROTO_LOGIN_DONE,
};

struct proto_settings {
	uint64_t output_cap; /* bytes of stdout / stderr kept per step */
	int log_level;       /* enum log_level of the run */
	int64_t cpu_limit_ms; /* CPU time a task may use, 0 for no limit */
	int max_logins;       /* SSH logins in progress at once, 0: no limit */
	int jump_max_logins;  /* of them to one jump host, 0: no limit; with
	                         neither, a worker never asks (login_gate.c) */
	bool transcript;      /* --transcript: results carry each host's session */
};

/* Most steps a result may hold: a job has at most JOB_MAX_STEPS, and the
 * decoder spends a struct proto_step on each (worker/task.c checks the
 * two agree). */
#define PROTO_MAX_STEPS 256

/* A packer that appends to a buf. */
void proto_packer_init(msgpack_packer *pk, struct buf *out);
void proto_pack_str(msgpack_packer *pk, const char *s, size_t n);
void proto_pack_cstr(msgpack_packer *pk, const char *s);

/* Whole frames (header included) appended to out. */
void proto_encode_hello(struct buf *out, const char *job_path, const char *job_src, size_t job_len,
                        const struct proto_settings *s);
void proto_encode_task(struct buf *out, uint64_t id, uint32_t attempt, const char *host,
                       const struct kvlist *vars, int64_t timeout_ms);
void proto_encode_ready(struct buf *out, int pid);
void proto_encode_child(struct buf *out, uint64_t id, int pgid);

/* Decode one frame's payload into a zone the caller keeps and clears
 * between frames (msgpack_zone_clear), so decoding a frame allocates
 * nothing once the zone has grown. On success returns 0, *obj (pointing
 * into the zone and into p[0..n)) and *type. The bytes are walked first
 * (limits above); trailing bytes, a non-map, a missing or unknown type are
 * errors (-1, err). */
int proto_decode(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj, enum proto_type *type,
                 struct err *err);

/* Bytes of a message: a view into the decoded payload (not NUL-terminated),
 * or what the encoder is to send. p NULL: none. */
struct proto_str {
	const char *p;
	size_t n;
};

static inline struct proto_str proto_cstr(const char *s)
{
	return (struct proto_str){s, s ? strlen(s) : 0};
}

/* The hello, decoded: views into the payload. */
struct proto_hello {
	struct proto_str job_path, job;
	struct proto_settings settings; /* defaults for what is not there */
};

/* 0, or -1 with err: another protocol version, no job. */
int proto_decode_hello(const msgpack_object *m, struct proto_hello *h, struct err *err);

/* A task, decoded by the worker. */
struct proto_task {
	uint64_t id;
	uint32_t attempt;
	char *host;          /* malloced, owned */
	struct kvlist vars;  /* host vars, owned */
	int64_t timeout_ms;
};

/* 0 and *t (zeroed first; proto_task_free it), or -1 with err (and *t
 * holding nothing): no id, host or timeout_ms. */
int proto_decode_task(const msgpack_object *m, struct proto_task *t, struct err *err);
void proto_task_free(struct proto_task *t);

/* A child message: 0 and *id, *pgid, or -1 when either is missing or out
 * of range (the supervisor checks which groups it may kill). */
int proto_decode_child(const msgpack_object *m, uint64_t *id, int64_t *pgid);

/* The fields of a step in a result, in the order they are sent (and the
 * keys of the step in the JSON record, which passes steps through). A bit
 * set in proto_step.has says the field is there: a step kind says what it
 * measured by setting bits (worker/step.h); the encoder writes exactly
 * those. */
enum proto_step_field {
	PROTO_STEP_KIND = 1u << 0,
	PROTO_STEP_NAME = 1u << 1,
	PROTO_STEP_EXIT = 1u << 2,        /* exec, ssh: ran to an exit status */
	PROTO_STEP_SIGNAL = 1u << 3,      /* exec, ssh: ended by a signal */
	PROTO_STEP_STDOUT = 1u << 4,      /* exec, ssh */
	PROTO_STEP_STDERR = 1u << 5,      /* exec, ssh */
	PROTO_STEP_HTTP_STATUS = 1u << 6, /* http */
	PROTO_STEP_BODY = 1u << 7,        /* http */
	PROTO_STEP_WITHHELD = 1u << 8,    /* http: an origin that got no credentials */
	PROTO_STEP_CONNECT_MS = 1u << 9,  /* tcp */
	PROTO_STEP_SENT = 1u << 10,       /* ping */
	PROTO_STEP_RECEIVED = 1u << 11,   /* ping */
	PROTO_STEP_RTT_MS = 1u << 12,     /* ping, with a reply */
	PROTO_STEP_TRUNCATED = 1u << 13,  /* exec, ssh, http */
	PROTO_STEP_STATUS = 1u << 14,
	PROTO_STEP_ERROR = 1u << 15,
	PROTO_STEP_DURATION_MS = 1u << 16,
	PROTO_STEP_PARSED = 1u << 17,     /* ssh, cli with parse: TextFSM records */
};

/* A step's main output: its stdout, or an HTTP body. */
#define PROTO_STEP_OUTPUT (PROTO_STEP_STDOUT | PROTO_STEP_BODY)

/* The keys of those fields, for readers of the JSON record (record.c
 * writes non-UTF-8 bytes under KEY_b64). */
#define PROTO_KEY_KIND "kind"
#define PROTO_KEY_NAME "name"
#define PROTO_KEY_EXIT "exit"
#define PROTO_KEY_SIGNAL "signal"
#define PROTO_KEY_STDOUT "stdout"
#define PROTO_KEY_STDERR "stderr"
#define PROTO_KEY_HTTP_STATUS "http_status"
#define PROTO_KEY_BODY "body"
#define PROTO_KEY_WITHHELD "credentials_withheld"
#define PROTO_KEY_CONNECT_MS "connect_ms"
#define PROTO_KEY_SENT "sent"
#define PROTO_KEY_RECEIVED "received"
#define PROTO_KEY_RTT_MS "rtt_ms"
#define PROTO_KEY_TRUNCATED "truncated"
#define PROTO_KEY_STATUS "status"
#define PROTO_KEY_ERROR "error"
#define PROTO_KEY_DURATION_MS "duration_ms"
#define PROTO_KEY_PARSED "parsed"

/* A step's parsed records, on the wire and in the record: an array of
 * maps (one per record), string keys, each value a string or, for a
 * TextFSM List value, an array of strings, nils or maps of strings (a
 * List expression's named groups). Bounds of one result's parsed records
 * together, which the worker keeps (worker/step_parse.c): objects (each
 * record, key and value counts; well under PROTO_MAX_OBJECTS) and bytes. */
#define PROTO_MAX_PARSED_OBJECTS (1u << 19)

/* One step of a result. Decoded, the strings are views into the payload
 * and the step into the zone; the numbers are what the worker said (a
 * worker may lie: an integer past INT64_MAX reads as INT64_MAX). */
struct proto_step {
	uint32_t has;              /* PROTO_STEP_* of the fields there */
	struct proto_str kind, name, status, error;
	struct proto_str out;      /* stdout or body (a step with both: its stdout) */
	struct proto_str err;      /* stderr */
	struct proto_str signal;   /* "TERM": the signal that ended the command */
	struct proto_str withheld; /* the origin a request went to without credentials */
	int64_t exit_code, http_status, sent, received, duration_ms;
	double connect_ms, rtt_ms;
	bool truncated;            /* some output was dropped past the cap */
	struct proto_str parsed_packed; /* encoding: the parsed records, packed
	                                   msgpack (the shape above) */
	const msgpack_object *parsed; /* decoded: the parsed records, checked to
	                                 have that shape; NULL when absent */
	const msgpack_object *raw; /* decoded: the step's map, for record.c to pass
	                              through whole; NULL when encoding */
};

/* What a task's SSH connection negotiated: the audit trail, recorded
 * under the result's (and the record's) "ssh" key. A bit set in has says
 * the field is there. Room for more (the jump chain) as further fields. */
enum proto_ssh_field {
	PROTO_SSH_KEX = 1u << 0,     /* key exchange, "curve25519-sha256" */
	PROTO_SSH_HOSTKEY = 1u << 1, /* host key algorithm, "ssh-ed25519" */
	PROTO_SSH_CIPHER = 1u << 2,  /* client to server, "aes128-ctr" */
	PROTO_SSH_MAC = 1u << 3,     /* "hmac-sha2-256", or "<implicit>" with an AEAD cipher */
	PROTO_SSH_AUTH = 1u << 4,    /* "publickey", "password", "keyboard-interactive" */
};

struct proto_ssh {
	uint32_t has; /* PROTO_SSH_* */
	struct proto_str kex, hostkey, cipher, mac, auth;
	const msgpack_object *raw; /* decoded: the map, for record.c to pass
	                              through whole; NULL when encoding */
};

/* The fields of a result, in the order they are sent. */
enum proto_result_field {
	PROTO_RESULT_TYPE = 1u << 0,
	PROTO_RESULT_ID = 1u << 1,
	PROTO_RESULT_STATUS = 1u << 2,
	PROTO_RESULT_STEPS = 1u << 3,
	PROTO_RESULT_VARS = 1u << 4,
	PROTO_RESULT_ERROR = 1u << 5,
	PROTO_RESULT_STARTED_MS = 1u << 6,
	PROTO_RESULT_DURATION_MS = 1u << 7,
	PROTO_RESULT_KNOWN_HOSTS = 1u << 8,
	PROTO_RESULT_JUMP = 1u << 9,
	PROTO_RESULT_SSH = 1u << 10,
	PROTO_RESULT_TRANSCRIPT = 1u << 11,
};

/* At most this many known_hosts lines in one result: the device's and
 * one per jump host (JUMPSPEC_MAX_HOPS). */
#define PROTO_MAX_KNOWN_HOSTS 9

/* The worker's result for one task. The encoder always sends type, id,
 * status, steps, vars, error (nil when none), started_ms and duration_ms,
 * and known_hosts_add, jump and ssh when has says so; the decoder needs
 * id, status and steps. */
struct proto_result {
	uint32_t has;                /* PROTO_RESULT_* of the fields there */
	uint64_t id;
	enum status status;
	struct proto_str error;      /* the task's error; p NULL: none */
	struct proto_step *steps;    /* encoding: the caller's; decoded: in the zone */
	size_t nsteps;               /* at most PROTO_MAX_STEPS */
	const struct kvlist *vars;   /* encoding: the captured vars (NULL: none) */
	const msgpack_object *vars_raw; /* decoded: the vars map, NULL when absent */
	int64_t started_ms;          /* wall clock; decoded only from an int64: */
	int64_t duration_ms;         /* a worker's times are hints (record.c) */
	/* accept-new met new host keys (the device's, jump hosts'): their
	 * lines, for the supervisor to check. On the wire an array of
	 * {line: str} maps (one map alone is taken as one line). */
	struct proto_str known_hosts_lines[PROTO_MAX_KNOWN_HOSTS];
	size_t nknown_hosts;
	struct proto_str jump;       /* the jump chain the connection went
	                                through: "user@host:port,..." */
	struct proto_ssh ssh;        /* what the SSH connection negotiated */
	struct proto_str transcript; /* --transcript: the host's session as
	                                text for DIR/HOST, secrets masked
	                                (worker/cli_transcript.h); never in
	                                the record */
};

/* The result as a whole frame appended to out. */
void proto_encode_result(struct buf *out, const struct proto_result *r);

/* The typed view of a decoded result message (proto_decode), its steps in
 * zone (the zone m was decoded into: they go with its next clear). 0, or
 * -1 with err when a field the view holds has the wrong type, or id,
 * status or steps is missing. Unknown fields are let through, in the
 * steps' raw maps. */
int proto_decode_result(const msgpack_object *m, msgpack_zone *zone, struct proto_result *r, struct err *err);

/* The fields of the login messages. */
enum proto_login_field {
	PROTO_LOGIN_ID = 1u << 0,
	PROTO_LOGIN_KEY = 1u << 1,
	PROTO_LOGIN_WAITED = 1u << 2,
};

/* A login, login_grant or login_done message (which: its type). Decoded,
 * key is a view into the payload. */
struct proto_login {
	uint32_t has;          /* PROTO_LOGIN_* of the fields there */
	uint64_t id;           /* the task's */
	struct proto_str key;  /* login: "" (or absent) a device, "host:port" a jump host */
	int64_t waited_ms;     /* login_grant: how long the supervisor held it back */
};

/* type is PROTO_LOGIN, PROTO_LOGIN_GRANT or PROTO_LOGIN_DONE; the fields
 * in l->has are sent, and id always. */
void proto_encode_login(struct buf *out, enum proto_type type, const struct proto_login *l);
/* The typed view of a decoded login message: 0, or -1 with err when a
 * field has the wrong type or id is missing. */
int proto_decode_login(const msgpack_object *m, struct proto_login *l, struct err *err);

/* Field access on a decoded map; NULL / -1 when absent or of another type. */
const msgpack_object *proto_get(const msgpack_object *map, const char *key);
int proto_get_str(const msgpack_object *map, const char *key, const char **s, size_t *n);
int proto_get_u64(const msgpack_object *map, const char *key, uint64_t *v);
int proto_get_i64(const msgpack_object *map, const char *key, int64_t *v);
/* A str or bin object's bytes. */
bool proto_obj_bytes(const msgpack_object *o, const char **s, size_t *n);
bool proto_obj_is(const msgpack_object *o, const char *s);

/* Exit codes of the worker, part of the protocol: WORKER_EXIT_FATAL tells
 * the supervisor not to start another worker like this one (the next
 * would fail the same way), whenever it comes. */
#define WORKER_EXIT_OK 0
#define WORKER_EXIT_TERM 1
#define WORKER_EXIT_FATAL 2
/* and UTIL_EXIT_OOM (4): an allocation failed, as under --worker-mem */

#endif
