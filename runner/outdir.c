/* outdir: per-host output files. */
#include "outdir.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "hash.h"
#include "log.h"
#include "proto.h"

/* mkdir -p, mode 0700 for what it creates. */
static int outdir_mkdirs(const char *dir)
{
	char *p = xstrdup(dir);
	int r = 0;

	for (char *s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0700) < 0 && errno != EEXIST)
			r = -1;
		*s = '/';
	}
	if (mkdir(p, 0700) < 0 && errno != EEXIST)
		r = -1;
	free(p);
	return r;
}

int outdir_create(int dirfd, const char *name)
{
	if (unlinkat(dirfd, name, 0) < 0 && errno != ENOENT)
		return -1;
	return openat(dirfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
}

void outdir_init(struct outdir *d)
{
	memset(d, 0, sizeof(*d));
	d->dirfd = d->ok_fd = d->failed_fd = -1;
}

int outdir_open_dir(const char *option, const char *dir, struct err *err)
{
	int fd;

	if (outdir_mkdirs(dir) < 0 && errno != EEXIST) {
		err_set(err, "%s %s: cannot create: %s", option, dir, strerror(errno));
		return -1;
	}
	/* DIR itself is not followed either: a link planted at a shared
	 * path (/tmp/out) would have files created, and ok.txt replaced, in
	 * whatever directory it names */
	fd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0) {
		if (errno == ELOOP || errno == ENOTDIR)
			err_set(err, "%s %s: expected a directory, not a symbolic link or a file (give the "
			        "directory itself)",
			        option, dir);
		else
			err_set(err, "%s %s: %s", option, dir, strerror(errno));
	}
	return fd;
}

int outdir_open(struct outdir *d, const char *dir, struct err *err)
{
	outdir_init(d);
	if ((d->dirfd = outdir_open_dir("--outdir", dir, err)) < 0)
		return -1;
	d->ok_fd = outdir_create(d->dirfd, "ok.txt");
	if (d->ok_fd >= 0)
		d->failed_fd = outdir_create(d->dirfd, "failed.txt");
	if (d->ok_fd < 0 || d->failed_fd < 0) {
		err_set(err, "--outdir %s: cannot write ok.txt / failed.txt: %s", dir, strerror(errno));
		return -1;
	}
	d->path = xstrdup(dir);
	return 0;
}

/* A host's directory name, one to one: two hosts never share one. A
 * name made only of lower-case letters, digits and -_.:@+,= (what DNS
 * names and addresses are made of), not starting with '.', not ok.txt
 * or failed.txt and at most OUTDIR_NAME_MAX bytes is used as it is.
 * Any other name (a/b, .., Web1, a long one) is made safe (every other
 * byte becomes '_', a leading '.' gets a '_' before it, cut to
 * OUTDIR_NAME_MAX) and gets '~' and the 16 hex digits of a 64-bit
 * FNV-1a hash of the whole name: names used as they are hold no '~',
 * so they never meet one of these; and upper case only ever comes
 * with a hash, so a file system that folds case keeps them apart too. */
#define OUTDIR_NAME_MAX 128

static bool outdir_plain(unsigned char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || strchr("-_.:@+,=", c) != NULL;
}

void outdir_host_name(struct buf *b, const char *name)
{
	size_t n = strlen(name);
	bool plain = n > 0 && n <= OUTDIR_NAME_MAX && name[0] != '.' && strcmp(name, "ok.txt") != 0 &&
	             strcmp(name, "failed.txt") != 0;

	for (size_t i = 0; plain && i < n; i++)
		plain = outdir_plain((unsigned char)name[i]);
	if (plain) {
		buf_append(b, name, n);
		return;
	}
	if (name[0] == '.')
		buf_putc(b, '_');
	for (size_t i = 0; i < n && i < OUTDIR_NAME_MAX; i++) {
		unsigned char c = (unsigned char)name[i];
		buf_putc(b, outdir_plain(c) || (c >= 'A' && c <= 'Z') ? (char)c : '_');
	}
	buf_printf(b, "~%016llx", (unsigned long long)hash_fnv1a(HASH_FNV_INIT, name, n));
}

/* A step's name as one safe path component: no '/', no NUL, no leading
 * '.'. Lossy, and need not be more: the step's number before it keeps
 * the files of a host's steps apart. */
static void outdir_step_name(struct buf *b, const char *name, size_t n)
{
	if (n == 0 || name[0] == '.')
		buf_putc(b, '_');
	for (size_t i = 0; i < n && i < 128; i++) {
		char c = name[i];
		buf_putc(b, c == '/' || c == '\0' || c == ' ' || c == '\n' ? '_' : c);
	}
}

static void outdir_fail(struct outdir *d, const char *what)
{
	if (!d->warned)
		log_error("--outdir %s: %s: %s (further errors not shown)", d->path, what, strerror(errno));
	d->warned = true;
}

static void outdir_write(struct outdir *d, int fd, const char *p, size_t n, const char *what)
{
	if (fd_write_all(fd, p, n) < 0)
		outdir_fail(d, what);
}

/* DIR/HOST/NAME: created or replaced with these bytes. */
static void outdir_file(struct outdir *d, int hostfd, const char *name, const char *p, size_t n)
{
	int fd = outdir_create(hostfd, name);

	if (fd < 0) {
		outdir_fail(d, name);
		return;
	}
	outdir_write(d, fd, p, n, name);
	close(fd);
}

void outdir_put(struct outdir *d, const char *host, enum status st, const struct proto_result *res)
{
	struct buf *b = &d->scratch;
	int hostfd = -1;

	if (d->dirfd < 0)
		return;
	buf_reset(b);
	buf_printf(b, "%s\n", host);
	outdir_write(d, st == STATUS_OK ? d->ok_fd : d->failed_fd, b->data, b->len, "ok.txt/failed.txt");
	if (!res || res->nsteps == 0)
		return;
	buf_reset(b);
	outdir_host_name(b, host);
	if (mkdirat(d->dirfd, b->data, 0700) < 0 && errno != EEXIST) {
		outdir_fail(d, b->data);
		return;
	}
	hostfd = openat(d->dirfd, b->data, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (hostfd < 0) {
		outdir_fail(d, b->data);
		return;
	}
	for (size_t i = 0; i < res->nsteps; i++) {
		const struct proto_step *step = &res->steps[i];
		struct proto_str name = step->has & PROTO_STEP_NAME ? step->name : proto_cstr("step");
		size_t base;

		buf_reset(b);
		buf_printf(b, "%02zu-", i + 1);
		outdir_step_name(b, name.p, name.n > 64 ? 64 : name.n);
		base = b->len;
		if (step->has & PROTO_STEP_OUTPUT) {
			buf_puts(b, ".out");
			outdir_file(d, hostfd, b->data, step->out.p, step->out.n);
		}
		if (step->has & PROTO_STEP_STDERR) {
			b->len = base;
			buf_puts(b, ".err");
			outdir_file(d, hostfd, b->data, step->err.p, step->err.n);
		}
	}
	close(hostfd);
}

void outdir_close(struct outdir *d)
{
	if (d->dirfd >= 0)
		close(d->dirfd);
	if (d->ok_fd >= 0)
		close(d->ok_fd);
	if (d->failed_fd >= 0)
		close(d->failed_fd);
	free(d->path);
	buf_free(&d->scratch);
	memset(d, 0, sizeof(*d));
	d->dirfd = d->ok_fd = d->failed_fd = -1;
}
