/* task: freeing a task and its stable key. */
#include "task.h"

#include <stdlib.h>
#include <string.h>

#include "hash.h"

void task_rec_free(struct task_rec *t)
{
	if (!t)
		return;
	host_free(&t->host);
	free(t);
}

uint64_t task_key(const char *job, const char *host)
{
	return hash_fnv1a_pair(job, strlen(job), host, strlen(host));
}
