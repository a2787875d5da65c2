/* selfstat: the supervisor's own cost (CPU time and peak memory), said
 * at -v after a run, for benchmarks. Apart from run.c because it reads
 * /proc and getrusage, which have nothing to do with running a job. */
#ifndef FLEETRUN_SELFSTAT_H
#define FLEETRUN_SELFSTAT_H

#include <stdint.h>

/* The supervisor's peak RSS in KiB (VmHWM), 0 when /proc cannot tell. */
long selfstat_peak_rss_kib(void);
/* One info line: CPU used so far, per host too, peak RSS, and the
 * number of workers: "supervisor: cpu 12.3 ms (4.56 us per host), peak
 * rss 7.8 MiB, 64 workers". */
void selfstat_report(uint64_t hosts, int workers);

#endif
