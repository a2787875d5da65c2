/* clock: the monotonic clock for deadlines, the wall clock for records. */
#ifndef FLEETRUN_CLOCK_H
#define FLEETRUN_CLOCK_H

#include <stdint.h>

int64_t clock_mono_ms(void);
int64_t clock_mono_us(void);
int64_t clock_wall_ms(void);
/* "2026-11-21T23:50:01.123Z" into out (at least 32 bytes). */
void clock_iso8601(int64_t wall_ms, char *out, unsigned long outlen);

/* Keep in *d the earlier of two deadlines, 0 meaning "none" (OpenSSH's
 * ptimeout idea): the event loop folds every timer source through this
 * to find how long it may sleep. */
static inline void clock_deadline_min(int64_t *d, int64_t when)
{
	if (when && (!*d || when < *d))
		*d = when;
}

#endif
