/* selfstat: CPU time from getrusage, peak RSS from /proc/self/status. */
#include "selfstat.h"

#include <stdio.h>
#include <sys/resource.h>

#include "log.h"

/* From /proc (VmHWM): ru_maxrss would carry the peak of whatever process
 * exec'd us. */
long selfstat_peak_rss_kib(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[256];
	long kib = 0;

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmHWM: %ld kB", &kib) == 1)
			break;
	fclose(f);
	return kib;
}

void selfstat_report(uint64_t hosts, int workers)
{
	/* the workers are children and are not counted in RUSAGE_SELF */
	struct rusage ru;
	double cpu_ms;

	getrusage(RUSAGE_SELF, &ru);
	cpu_ms = ru.ru_utime.tv_sec * 1e3 + ru.ru_utime.tv_usec / 1e3 + ru.ru_stime.tv_sec * 1e3 +
	         ru.ru_stime.tv_usec / 1e3;
	log_info("supervisor: cpu %.1f ms (%.2f us per host), peak rss %.1f MiB, %d workers", cpu_ms,
	         hosts ? cpu_ms * 1000 / hosts : 0.0, selfstat_peak_rss_kib() / 1024.0, workers);
}
