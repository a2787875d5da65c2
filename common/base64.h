/* base64: standard base64 (RFC 4648, with padding). By hand: libcurl
 * keeps its encoder private and neither yajl nor the other libraries we
 * link expose one. The supervisor writes output that is not text as
 * base64 (records' KEY_b64); the worker computes the Authorization: Basic
 * value libcurl will send, to mask it where a device echoes it. */
#ifndef FLEETRUN_BASE64_H
#define FLEETRUN_BASE64_H

#include <stddef.h>

#include "buf.h"

/* Append the encoding of p[0..n) to out. */
void base64_append(struct buf *out, const void *p, size_t n);

#endif
