/* version: what fleetrun --version prints. */
#ifndef FLEETRUN_VERSION_H
#define FLEETRUN_VERSION_H

#include <stdio.h>

/* fleetrun's version and protocol, then the libssh2 and libcurl versions
 * the workers use, one line each. */
void version_print(FILE *out);

#endif
