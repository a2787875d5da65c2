/* status: the final state of one task on one host (DESIGN.md, "Task
 * statuses"). The order is the order of the summary. */
#ifndef FLEETRUN_STATUS_H
#define FLEETRUN_STATUS_H

enum status {
	STATUS_OK,
	STATUS_FAILED,
	STATUS_UNREACHABLE,
	STATUS_AUTH,
	STATUS_HOSTKEY,
	STATUS_TIMEOUT,
	STATUS_CRASHED,
	STATUS_ERROR,
	STATUS_COUNT
};

const char *status_name(enum status s);
/* Returns the status or -1 for an unknown name. */
int status_parse(const char *name, unsigned long len);

#endif
