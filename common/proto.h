/* proto: the msgpack messages between supervisor and worker (DESIGN.md,
 * "Protocol"). Every message is a map with a "type"; unknown keys are
 * ignored so either side can grow fields without breaking the other.
 *
 *   supervisor -> worker  hello   {version, job_path, job, settings}
 *   supervisor -> worker  task    {id, attempt, host, vars, timeout_ms}
 *   worker -> supervisor  ready   {version, pid}
 *   worker -> supervisor  child   {id, pgid}   a step started (pgid > 0) or
 *                                 ended (pgid 0) a local process group, so
 *                                 the supervisor can kill it with the worker
 *   worker -> supervisor  result  {id, status, steps, vars, error,
 *                                  started_ms, duration_ms}
 */
#ifndef FLEETRUN_PROTO_H
#define FLEETRUN_PROTO_H

#include <msgpack.h>
#include <stdbool.h>
#include <stdint.h>

#include "buf.h"
#include "kv.h"
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
};

struct proto_settings {
	uint64_t output_cap; /* bytes of stdout / stderr kept per step */
	int log_level;       /* enum log_level of the run */
	int64_t cpu_limit_ms; /* CPU time a task may use, 0 for no limit */
};

/* A packer that appends to a buf. */
void proto_packer_init(msgpack_packer *pk, struct buf *out);
void proto_pack_str(msgpack_packer *pk, const char *s, size_t n);
void proto_pack_cstr(msgpack_packer *pk, const char *s);
/* nil when s is NULL */
void proto_pack_cstr_or_nil(msgpack_packer *pk, const char *s);
void proto_pack_kvlist(msgpack_packer *pk, const struct kvlist *l);

/* Whole frames (header included) appended to out. */
void proto_encode_hello(struct buf *out, const char *job_path, const char *job_src, size_t job_len,
                        const struct proto_settings *s);
void proto_encode_task(struct buf *out, uint64_t id, uint32_t attempt, const char *host,
                       const struct kvlist *vars, int64_t timeout_ms);
void proto_encode_ready(struct buf *out, int pid);
void proto_encode_child(struct buf *out, uint64_t id, int pgid);

/* Decode one frame's payload. On success returns 0, unp holds the object
 * tree (msgpack_unpacked_destroy when done) and *type its type. Trailing
 * bytes, a non-map, a missing or unknown type are errors (-1, err). */
int proto_decode(const char *p, size_t n, msgpack_unpacked *unp, enum proto_type *type, struct err *err);

/* The same into a zone the caller keeps and clears between frames
 * (msgpack_zone_clear), so decoding a frame allocates nothing once the
 * zone has grown: *obj points into the zone and the payload. */
int proto_decode_zone(const char *p, size_t n, msgpack_zone *zone, msgpack_object *obj, enum proto_type *type,
                      struct err *err);

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
