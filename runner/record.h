/* record: the JSON Lines result record of one host (DESIGN.md, "Result
 * record").
 *
 * Records are written with yajl's streaming generator: it escapes every
 * string itself (control characters and NUL included) and allocates
 * nothing per value, which matters at 100,000 records a second. Bytes that
 * are not valid UTF-8 go out as base64 under KEY_b64 instead. */
#ifndef FLEETRUN_RECORD_H
#define FLEETRUN_RECORD_H

#include <stdbool.h>
#include <stdint.h>
#include <yajl/yajl_gen.h>

#include "buf.h"
#include "proto.h"
#include "status.h"
#include "util.h"

/* The key of bytes that are not UTF-8: KEY_b64. */
#define RECORD_B64_SUFFIX "_b64"

/* A worker's started_ms and duration_ms count when they fall within the
 * supervisor's own window for the task, this much either side. */
#define RECORD_CLOCK_SLACK_MS 60000
/* 9999-12-31T23:59:59.999Z: the latest "started" a record can say. */
#define RECORD_MAX_WALL_MS 253402300799999LL

struct record_info {
	const char *host;
	const char *job;
	uint32_t attempt;
	int worker;             /* pid of the worker that ran it, 0 if none */
	int64_t started_wall_ms;
	int64_t duration_ms;
	bool interrupted;       /* the run was stopped before the task finished */
	const char *shard;      /* "K/N" when the run is one shard of several, else NULL */
};

/* One rendered record, reused from host to host. */
struct record {
	yajl_gen gen;
	enum status status;
	int64_t duration_ms;
	const char *json;   /* the JSON object, no newline; valid until the next render */
	size_t json_len;
	struct buf error;   /* the error text, empty when none */
	bool has_error;
	struct buf first;   /* first line of the last non-empty stdout */
	int64_t when_sec;   /* the second last formatted into when, or -1 */
	char when[40];      /* its "...T...:SS.000Z" */
};

void record_init(struct record *r);
void record_free(struct record *r);

/* Render a worker's result, decoded (proto_decode_result): the steps and
 * vars from their raw maps, the rest from the view. */
void record_from_result(struct record *r, const struct proto_result *res, const struct record_info *info);

/* Render a record the supervisor writes itself: the worker crashed, timed
 * out or the run was interrupted. */
void record_make(struct record *r, const struct record_info *info, enum status status, const char *error);


#endif
