/* record: the JSON Lines result record of one host (DESIGN.md, "Result
 * record"), built with jansson so that no byte a device sends can break the
 * line: text that is not valid UTF-8 goes out as base64 under KEY_b64. */
#ifndef FLEETRUN_RECORD_H
#define FLEETRUN_RECORD_H

#include <jansson.h>
#include <msgpack.h>
#include <stdint.h>

#include "status.h"
#include "util.h"

struct record_info {
	const char *host;
	const char *job;
	uint32_t attempt;
	int worker;             /* pid of the worker that ran it, 0 if none */
	int64_t started_wall_ms;
	int64_t duration_ms;
};

/* From a worker's result message. Returns the record, with *status set,
 * or NULL with err when the message is not a valid result. */
json_t *record_from_result(const msgpack_object *res, const struct record_info *info, enum status *status,
                           struct err *err);

/* A record the supervisor writes itself: the worker crashed, timed out or
 * the run was interrupted. */
json_t *record_make(const struct record_info *info, enum status status, const char *error);

/* Set a string member; bytes that are not UTF-8 go to KEY_b64. */
void record_set_bytes(json_t *obj, const char *key, const char *p, size_t n);

#endif
