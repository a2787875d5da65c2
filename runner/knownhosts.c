/* knownhosts: see knownhosts.h. */
#include "knownhosts.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"

static uint64_t knownhosts_hash(const char *a, size_t an, const char *b, size_t bn)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (size_t i = 0; i < an; i++)
		h = (h ^ (unsigned char)a[i]) * 1099511628211ull;
	h = (h ^ 0xff) * 1099511628211ull;
	for (size_t i = 0; i < bn; i++)
		h = (h ^ (unsigned char)b[i]) * 1099511628211ull;
	return h;
}

static int knownhosts_seen(struct knownhosts *k, uint64_t h)
{
	for (size_t i = 0; i < k->nseen; i++)
		if (k->seen[i] == h)
			return 1;
	if (k->nseen == k->cap) {
		k->cap = k->cap ? k->cap * 2 : 64;
		k->seen = xreallocarray(k->seen, k->cap, sizeof(*k->seen));
	}
	k->seen[k->nseen++] = h;
	return 0;
}

int knownhosts_append(struct knownhosts *k, const char *path, size_t plen, const char *line, size_t llen,
                      struct err *err)
{
	char *p = NULL, *slash;
	struct buf b = BUF_INIT;
	int fd = -1, r = -1;

	while (llen > 0 && (line[llen - 1] == '\n' || line[llen - 1] == '\r'))
		llen--;
	if (plen == 0 || llen == 0 || memchr(path, '\0', plen) || memchr(line, '\0', llen) ||
	    memchr(line, '\n', llen) || memchr(line, '\r', llen)) {
		err_set(err, "malformed known_hosts entry from a worker");
		goto out;
	}
	if (knownhosts_seen(k, knownhosts_hash(path, plen, line, llen))) {
		r = 0;
		goto out;
	}
	p = xstrndup(path, plen);
	slash = strrchr(p, '/');
	if (slash && slash != p) {
		*slash = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST) {
			err_set(err, "%s: cannot create: %s", p, strerror(errno));
			goto out;
		}
		*slash = '/';
	}
	fd = open(p, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0 || flock(fd, LOCK_EX) < 0) {
		err_set(err, "%s: %s", p, strerror(errno));
		goto out;
	}
	buf_append(&b, line, llen);
	buf_putc(&b, '\n');
	/* one write of one whole line: O_APPEND keeps it in one piece */
	if (write(fd, b.data, b.len) != (ssize_t)b.len) {
		err_set(err, "%s: %s", p, strerror(errno));
		goto out;
	}
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	free(p);
	buf_free(&b);
	return r;
}

void knownhosts_free(struct knownhosts *k)
{
	free(k->seen);
	memset(k, 0, sizeof(*k));
}
