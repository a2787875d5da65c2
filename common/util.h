/* util: allocation that cannot fail silently, error text, small helpers.
 *
 * Like OpenSSH's xmalloc, running out of memory is fatal: every caller
 * checking for NULL would hide the real flow of the code for a case the
 * process cannot recover from anyway. */
#ifndef FLEETRUN_UTIL_H
#define FLEETRUN_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* The exit code of a process whose allocation failed (the x* functions
 * below exit with it): the supervisor tells a worker that ran out of
 * memory from one that crashed. */
#define UTIL_EXIT_OOM 4

void *xmalloc(size_t n);
void *xcalloc(size_t n, size_t size);
void *xrealloc(void *p, size_t n);
/* xreallocarray: like reallocarray(3), fatal on overflow or ENOMEM */
void *xreallocarray(void *p, size_t n, size_t size);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* An error message for the user, such as "jobs.d/x.yaml:3:5: unknown key
 * 'stpes' (expected one of: ...)". Fixed size so that filling it never
 * fails. */
struct err {
	char msg[1024];
};
void err_set(struct err *e, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Parse a duration: "30s", "500ms", "2m", "1h", "1.5s" or a bare number of
 * seconds. Returns 0 and sets *ms, or -1 when the text is not a duration. */
int duration_parse(const char *s, int64_t *ms);

/* Parse a size: "512M", "2G", "64k", "1.5GiB" or a bare number of bytes
 * (binary units). Returns 0 and sets *bytes, or -1. */
int size_parse(const char *s, uint64_t *bytes);

/* Parse a whole decimal number in [min, max]; 0 or -1. */
int int_parse(const char *s, long long min, long long max, long long *out);

/* The one boolean grammar, for job files, inventories and host vars
 * alike: true/false, yes/no, on/off, 1/0, in any case (Ansible's words
 * but its one-letter ones). Returns 0 and sets *out, or -1 for any other
 * text, which callers report with UTIL_BOOL_EXPECTED rather than read as
 * false: `insecure=ture` must not quietly mean "checked". */
#define UTIL_BOOL_EXPECTED "true or false (also yes/no, on/off, 1/0)"
int bool_parse(const char *s, bool *out);

/* Write all n bytes of p to fd, which blocks: a short write goes on where
 * it stopped and EINTR is retried. 0, or -1 with errno from write(2). The
 * one write loop: frames to the supervisor, records to stdout and the
 * journal, the progress line, --outdir files, the Slurm script. */
int fd_write_all(int fd, const void *p, size_t n);

#endif
