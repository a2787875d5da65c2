/* net: what the tcp and ping steps share: where a host is, and how long
 * is left. */
#ifndef FLEETRUN_NET_H
#define FLEETRUN_NET_H

#include <netdb.h>

#include "step.h"

/* The host's address to use: the `address` host var, else its name. */
const char *net_address(const struct step_ctx *ctx);

/* getaddrinfo for the host; 0 and *res (freeaddrinfo), or -1 with r set to
 * unreachable ("cannot resolve"). */
int net_resolve(struct step_ctx *ctx, const char *port, int socktype, struct addrinfo **res,
                struct step_result *r);

/* Milliseconds until the step's deadline, at least 0. */
int net_left_ms(const struct step_ctx *ctx);

#endif
