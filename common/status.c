/* status: names of task statuses as they appear in records. */
#include "status.h"

#include <string.h>

static const char *const status_names[STATUS_COUNT] = {
	[STATUS_OK] = "ok",
	[STATUS_FAILED] = "failed",
	[STATUS_UNREACHABLE] = "unreachable",
	[STATUS_AUTH] = "auth",
	[STATUS_HOSTKEY] = "hostkey",
	[STATUS_TIMEOUT] = "timeout",
	[STATUS_CRASHED] = "crashed",
	[STATUS_ERROR] = "error",
};

const char *status_name(enum status s)
{
	return (unsigned)s < STATUS_COUNT ? status_names[s] : "error";
}

int status_parse(const char *name, unsigned long len)
{
	for (int i = 0; i < STATUS_COUNT; i++)
		if (strlen(status_names[i]) == len && memcmp(status_names[i], name, len) == 0)
			return i;
	return -1;
}
