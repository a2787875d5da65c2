/* jobdir: where jobs are found, and which places may hold them (see
 * jobdir.h for the rules and why); where this program and the worker
 * are. */
#include "jobdir.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "buf.h"
#include "log.h"

char *jobdir_self_exe(void)
{
	char self[PATH_MAX];
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return NULL;
	self[n] = '\0';
	return xstrdup(self);
}

char *jobdir_self(void)
{
	char *self = jobdir_self_exe(), *slash = self ? strrchr(self, '/') : NULL;

	if (!slash) {
		free(self);
		return NULL;
	}
	*slash = '\0';
	return self;
}

char *jobdir_worker_path(void)
{
	const char *env = getenv("FLEETRUN_WORKER");
	char *dir, *path;

	if (env && *env)
		return xstrdup(env);
	/* the worker sits beside the supervisor: bin/, or PREFIX/bin */
	dir = jobdir_self();
	path = dir ? xasprintf("%s/fleetrun-worker", dir) : xstrdup("fleetrun-worker");
	free(dir);
	return path;
}

size_t jobdir_list(const char *opt, struct jobdir out[JOBDIR_MAX])
{
	static char installed[PATH_MAX + 32];
	size_t n = 0;
	const char *env = getenv("FLEETRUN_JOBS_DIR");

	if (opt)
		out[n++] = (struct jobdir){opt, true};
	if (env && *env)
		out[n++] = (struct jobdir){env, false};
	out[n++] = (struct jobdir){"./jobs.d", false};
	if (!installed[0]) {
		char *dir = jobdir_self();
		snprintf(installed, sizeof(installed), "%s/../share/fleetrun/jobs.d", dir ? dir : "/usr/local/bin");
		free(dir);
	}
	out[n++] = (struct jobdir){installed, false};
	return n;
}

bool jobdir_is_path(const char *arg)
{
	size_t n = strlen(arg);
	return strchr(arg, '/') || (n > 5 && strcmp(arg + n - 5, ".yaml") == 0) ||
	       (n > 4 && strcmp(arg + n - 4, ".yml") == 0);
}

static bool jobdir_owner_ok(uid_t uid)
{
	return uid == geteuid() || uid == 0;
}

/* The last checks of a directory and of a job file: writable by anyone
 * (unless world_ok), by group (unless chosen). */
static bool jobdir_mode_ok(unsigned mode, bool chosen, bool world_ok, char *why, size_t n)
{
	if (mode & S_IWOTH && !world_ok)
		snprintf(why, n, "writable by anyone (mode %04o)", mode);
	else if (!chosen && mode & S_IWGRP)
		snprintf(why, n, "writable by group (mode %04o)", mode);
	else
		return true;
	return false;
}

/* Why a directory may not hold jobs: false with why filled, or true.
 * Found by name: the user's or root's, writable by no one else. Chosen
 * (--jobs-dir, a path's directory): not writable by anyone unless sticky. */
static bool jobdir_dir_ok(const struct stat *sb, bool chosen, char *why, size_t n)
{
	unsigned mode = sb->st_mode & 07777;

	if (!S_ISDIR(sb->st_mode))
		snprintf(why, n, "not a directory");
	else if (!chosen && !jobdir_owner_ok(sb->st_uid))
		snprintf(why, n, "owned by uid %u, not by you or root", (unsigned)sb->st_uid);
	else
		return jobdir_mode_ok(mode, chosen, chosen && mode & S_ISVTX, why, n);
	return false;
}

/* The same for a job file; shared: its directory is writable by others
 * (a sticky one, so only the file's owner can replace it). */
static bool jobdir_file_ok(const struct stat *sb, bool chosen, bool shared, char *why, size_t n)
{
	if (!S_ISREG(sb->st_mode))
		snprintf(why, n, "not a regular file");
	else if (!chosen && !jobdir_owner_ok(sb->st_uid))
		snprintf(why, n, "owned by uid %u, not by you or root", (unsigned)sb->st_uid);
	else if (shared && !jobdir_owner_ok(sb->st_uid))
		snprintf(why, n, "owned by uid %u in a directory anyone can write", (unsigned)sb->st_uid);
	else
		return jobdir_mode_ok(sb->st_mode & 07777, chosen, false, why, n);
	return false;
}

/* Open a directory to look in: its fd, -1 when it is not there (errno
 * ENOENT or ENOTDIR), or -2 with why filled when it may not be used.
 * *shared: writable by others (sticky). */
static int jobdir_open_dir(const char *path, bool chosen, bool *shared, char *why, size_t n)
{
	struct stat sb;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return -1;
		snprintf(why, n, "cannot open: %s", strerror(errno));
		return -2;
	}
	if (fstat(fd, &sb) < 0) {
		snprintf(why, n, "cannot stat: %s", strerror(errno));
		close(fd);
		return -2;
	}
	if (!jobdir_dir_ok(&sb, chosen, why, n)) {
		close(fd);
		return -2;
	}
	*shared = (sb.st_mode & S_IWOTH) != 0;
	return fd;
}

/* Read the job file base in dirfd, checked: 0 and *out, 1 when there is
 * no such file, -1 with err. path names it in messages and the job. */
static int jobdir_read(int dirfd, const char *base, const char *path, bool chosen, bool shared, struct job **out,
                       struct err *err)
{
	struct stat sb;
	char why[128];
	int fd, r = -1;

	/* O_NONBLOCK: a FIFO named like a job must not hang the open */
	fd = openat(dirfd, base, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
	if (fd < 0 && errno == ENOENT) {
		r = 1;
		goto out;
	}
	if (fd < 0 || fstat(fd, &sb) < 0) {
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		goto out;
	}
	if (!jobdir_file_ok(&sb, chosen, shared, why, sizeof(why))) {
		err_set(err, "%s: not used: %s; a job file is code (chmod go-w, or chown it)", path, why);
		goto out;
	}
	r = job_load_fd(fd, path, out, err) < 0 ? -1 : 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* A job given by path: its directory is the operator's choice. */
static int jobdir_load_path(const char *arg, struct job **out, struct err *err)
{
	char *dir = xstrdup(arg), *slash = strrchr(dir, '/'), why[128];
	const char *base = slash ? slash + 1 : arg;
	bool shared = false;
	int dirfd, r = -1;

	if (!slash)
		strcpy(dir, ".");
	else if (slash == dir)
		dir[1] = '\0';
	else
		*slash = '\0';
	dirfd = jobdir_open_dir(dir, true, &shared, why, sizeof(why));
	if (dirfd == -1) {
		err_set(err, "%s: cannot read: %s", arg, strerror(ENOENT));
		goto out;
	}
	if (dirfd < 0) {
		err_set(err, "%s: not used: its directory %s is %s; a job file is code", arg, dir, why);
		goto out;
	}
	r = jobdir_read(dirfd, base, arg, true, shared, out, err);
	if (r == 1) {
		err_set(err, "%s: cannot read: %s", arg, strerror(ENOENT));
		r = -1;
	}
	close(dirfd);
out:
	free(dir);
	return r;
}

/* Warn once per run about a directory that is skipped. */
static void jobdir_warn_skip(const char *path, bool chosen, const char *why)
{
	static char warned[JOBDIR_MAX][PATH_MAX];

	for (size_t i = 0; i < JOBDIR_MAX; i++) {
		if (strcmp(warned[i], path) == 0)
			return;
		if (!warned[i][0]) {
			snprintf(warned[i], sizeof(warned[i]), "%s", path);
			break;
		}
	}
	if (chosen)
		log_warn("not using --jobs-dir %s: %s; jobs are code", path, why);
	else
		log_warn("not using %s: %s; jobs are code: a job is found by name only in a directory of yours or "
		         "root's that no one else can write (or give --jobs-dir)",
		         path, why);
}

int jobdir_load(const char *arg, const char *opt, struct job **out, struct err *err)
{
	struct jobdir dirs[JOBDIR_MAX];
	size_t n;
	struct buf tried = BUF_INIT;
	char *base = NULL, *path = NULL, why[128];
	int r = -1;

	if (jobdir_is_path(arg))
		return jobdir_load_path(arg, out, err);
	n = jobdir_list(opt, dirs);
	base = xasprintf("%s.yaml", arg);
	for (size_t i = 0; i < n; i++) {
		bool shared = false;
		int dirfd = jobdir_open_dir(dirs[i].path, dirs[i].chosen, &shared, why, sizeof(why));
		int got;

		if (dirfd == -2 && dirs[i].chosen) {
			err_set(err, "--jobs-dir %s: not used: %s; a job file is code", dirs[i].path, why);
			goto out;
		}
		if (dirfd == -2) {
			jobdir_warn_skip(dirs[i].path, false, why);
			buf_printf(&tried, "%s%s (not used: %s)", tried.len ? ", " : "", dirs[i].path, why);
			continue;
		}
		buf_printf(&tried, "%s%s", tried.len ? ", " : "", dirs[i].path);
		if (dirfd < 0)
			continue;
		free(path);
		path = xasprintf("%s/%s", dirs[i].path, base);
		got = jobdir_read(dirfd, base, path, dirs[i].chosen, shared, out, err);
		close(dirfd);
		if (got <= 0) {
			r = got;
			goto out;
		}
	}
	err_set(err, "no job named '%s' in %s (fleetrun jobs lists them)", arg, tried.data ? tried.data : "");
out:
	free(base);
	free(path);
	buf_free(&tried);
	return r;
}

static int jobdir_entry_cmp(const void *a, const void *b)
{
	return strcmp(((const struct jobdir_entry *)a)->name, ((const struct jobdir_entry *)b)->name);
}

struct jobdir_entry *jobdir_entries(const char *opt, size_t *count)
{
	struct jobdir dirs[JOBDIR_MAX];
	size_t ndirs = jobdir_list(opt, dirs), n = 0;
	struct jobdir_entry *e = NULL;
	char why[128];

	for (size_t d = 0; d < ndirs; d++) {
		bool shared = false;
		int dirfd = jobdir_open_dir(dirs[d].path, dirs[d].chosen, &shared, why, sizeof(why));
		size_t first = n;
		DIR *dir;
		struct dirent *de;

		if (dirfd == -2)
			jobdir_warn_skip(dirs[d].path, dirs[d].chosen, why);
		if (dirfd < 0)
			continue;
		dir = fdopendir(dup(dirfd));
		while (dir && (de = readdir(dir)) != NULL) {
			size_t len = strlen(de->d_name);
			bool dup_name = false;
			struct err err;
			char *path;

			if (len <= 5 || strcmp(de->d_name + len - 5, ".yaml") != 0)
				continue;
			for (size_t k = 0; k < n && !dup_name; k++)
				dup_name = strlen(e[k].name) == len - 5 && strncmp(e[k].name, de->d_name, len - 5) == 0;
			if (dup_name)
				continue;
			e = xreallocarray(e, n + 1, sizeof(*e));
			memset(&e[n], 0, sizeof(*e));
			e[n].name = xstrndup(de->d_name, len - 5);
			e[n].dir = dirs[d].path;
			path = xasprintf("%s/%s", dirs[d].path, de->d_name);
			switch (jobdir_read(dirfd, de->d_name, path, dirs[d].chosen, shared, &e[n].job, &err)) {
			case 0:
				break;
			case 1:
				e[n].problem = xstrdup("removed while listed");
				break;
			default:
				e[n].problem = xstrdup(err.msg);
			}
			free(path);
			n++;
		}
		if (dir)
			closedir(dir);
		close(dirfd);
		qsort(e + first, n - first, sizeof(*e), jobdir_entry_cmp);
	}
	*count = n;
	return e;
}

void jobdir_entries_free(struct jobdir_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(e[i].name);
		free(e[i].problem);
		if (e[i].job)
			job_free(e[i].job);
	}
	free(e);
}
