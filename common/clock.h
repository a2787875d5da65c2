/* clock: the monotonic clock for deadlines, the wall clock for records. */
#ifndef FLEETRUN_CLOCK_H
#define FLEETRUN_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
int64_t clock_wall_ms(void);
/* "2026-11-21T23:50:01.123Z" into out (at least 32 bytes). */
void clock_iso8601(int64_t wall_ms, char *out, unsigned long outlen);

#endif
