/* net: what the network steps share: where a host is, how long is left,
 * name resolution, and the one TCP connect with a deadline (tcp, ssh). */
#ifndef FLEETRUN_NET_H
#define FLEETRUN_NET_H

#include <netdb.h>
#include <stdint.h>

#include "step.h"

/* The host's address to use: the `address` host var, else its name. */
const char *net_address(const struct step_ctx *ctx);

/* getaddrinfo for host and port; 0 and *res (freeaddrinfo), or -1 with
 * err ("cannot resolve HOST: why"). */
int net_resolve_host(const char *host, const char *port, int socktype, struct addrinfo **res, struct err *err);

/* The same for the step's host (net_address); -1 with r set to
 * unreachable. */
int net_resolve(struct step_ctx *ctx, const char *port, int socktype, struct addrinfo **res,
                struct step_result *r);

/* Milliseconds until the step's deadline, at least 0. */
int net_left_ms(const struct step_ctx *ctx);

/* Connect a TCP socket (non-blocking, close-on-exec) to the first of res's
 * addresses that accepts, each in turn, before deadline_us (monotonic).
 * 0 and *fd; -1 and *why (strerror text of the last address's failure, or
 * "no address") when none accepted; 1 when the deadline came first. */
int net_connect(const struct addrinfo *res, int64_t deadline_us, int *fd, const char **why);

#endif
