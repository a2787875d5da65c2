/* known_hosts: OpenSSH's known_hosts format, read by us rather than by
 * libssh2 (whose 1.10 reader stops at the first line it cannot parse and
 * has a line-length limit, so one odd line hid every entry after it and a
 * host whose key had CHANGED passed for an unknown one).
 *
 * A line is: an optional marker (@cert-authority, @revoked), a host field
 * (comma-separated patterns with * ? and ! negation, "[host]:port" for a
 * port other than 22, or one hashed name |1|salt|HMAC-SHA1), a key type, a
 * base64 key and an optional comment. Every line is read on its own: one
 * we cannot parse is skipped, but if it could concern a host, that host is
 * never treated as unknown.
 *
 * Devices are hostile: a host key is data, compared byte for byte with
 * every entry that names the host. */
#ifndef FLEETRUN_KNOWN_HOSTS_H
#define FLEETRUN_KNOWN_HOSTS_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>
#include <time.h>

#include "util.h"

enum kh_marker {
	KH_MARK_NONE,
	KH_MARK_CA,      /* @cert-authority: signs host certificates */
	KH_MARK_REVOKED, /* @revoked: never to be accepted */
};

struct kh_entry {
	enum kh_marker marker;
	char *hosts;         /* malloced: the host field as written */
	char *type;          /* malloced; NULL when the key could not be read */
	unsigned char *blob; /* malloced: the key in SSH wire format */
	size_t bloblen;
	size_t line;         /* 1-based */
	/* a hashed host field, decoded once: 1 |1|salt|hash, -1 a hashed
	 * field we cannot decode, 0 patterns */
	int hashed;
	unsigned char *salt; /* malloced when hashed is 1 */
	size_t saltlen;
	unsigned char hash[20];
};

/* The entries that may concern one host: its index and whether it names
 * the host (1) or cannot be told (-1). */
struct kh_hit {
	size_t idx;
	int m;
};

/* A known_hosts file, parsed once and kept while it does not change. */
struct kh_file {
	char *path; /* NULL or malloced */
	struct kh_entry *v;
	size_t n, cap;
	bool exists;
	dev_t dev;
	ino_t ino;
	off_t size;
	struct timespec mtime;
	/* the last host looked up and its entries: a connection asks about
	 * one host several times (key types to offer, then its key), and a
	 * hashed entry costs an HMAC per look */
	char *memo_name; /* NULL or malloced */
	struct kh_hit *memo;
	size_t nmemo, memocap;
};

enum kh_verdict {
	KH_MATCH,      /* an entry for the host holds this key */
	KH_REVOKED,    /* a @revoked entry for the host holds this key */
	KH_CHANGED,    /* the host has entries, none with this key */
	KH_UNREADABLE, /* no usable entry, but a line that could be one could not be read */
	KH_UNKNOWN,    /* nothing about the host */
};

/* The name a host has in known_hosts, as OpenSSH writes it: "address" on
 * port 22, "[address]:port" otherwise; lower case. Malloced. */
char *kh_name(const char *address, const char *port);

/* Read path into f unless f already holds it and (when recheck) its
 * stat says it did not change. A missing file is an empty one. Returns 1
 * when it was (re)read, 0 when kept. */
int kh_load(struct kh_file *f, const char *path, bool recheck);
void kh_free(struct kh_file *f);

/* What f says of key (SSH wire format) for the host called name (see
 * kh_name). *line: the line that decided (0 for none). */
enum kh_verdict kh_check(struct kh_file *f, const char *name, const void *key, size_t len,
                         size_t *line);

/* Does f hold a key of this type (e.g. "ssh-ed25519") for the host? */
bool kh_has_type(struct kh_file *f, const char *name, const char *type);

/* Parse one line (no newline). 1 and *e (owned by the caller, free with
 * kh_entry_free), 0 for a blank or comment line, -1 with err for a line
 * that cannot be read (e->hosts is then set when its host field could be
 * told apart, else NULL). */
int kh_parse_line(const char *line, size_t len, size_t lineno, struct kh_entry *e, struct err *err);
void kh_entry_free(struct kh_entry *e);

/* Does the host field of an entry name this host? */
bool kh_hosts_match(const char *hosts, const char *name);

/* The supervisor's check of a line a worker asks it to append: exactly
 * "name type base64" with no marker, patterns or hashing, the key well
 * formed and of the type it says. 0, or -1 with err. */
int kh_line_check(const char *line, size_t len, const char *name, struct err *err);

#endif
