/* sshconfig: OpenSSH client configuration files (ssh_config(5)), read
 * the way ssh reads them, for the settings a fleet runner needs.
 *
 * Apart from hostcfg.c because it is a file format with its own grammar
 * (keywords, quoting, Host and Match blocks, Include) and its own
 * question ("what does ssh_config say for this host?"); hostcfg and
 * ssh_params put its answer below host vars and the job.
 *
 * The files are read once (sshconfig_load) into a list of directives;
 * each host is then resolved against that list (sshconfig_resolve), the
 * way ssh walks its files for one connection: Host and Match blocks
 * apply when they match, the first value of a keyword wins (IdentityFile
 * collects every value, in order), Include reads other files in place.
 * Match exec is never run: its block never matches, and it is named in
 * the ignored list. Keywords fleetrun does not use are collected with
 * their file:line (sshconfig_ignored) so a run names them once; a few
 * that only matter to an interactive ssh are left out of that list
 * (SSHCONFIG_QUIET in sshconfig.c). A config file is code (it may hold
 * ProxyCommand): only the job or the user's own files choose one, never
 * a host var. */
#ifndef FLEETRUN_SSHCONFIG_H
#define FLEETRUN_SSHCONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "util.h"

/* The keywords fleetrun uses, in the order `hosts --ssh` prints them. */
enum sshconfig_kw {
	SSHCONFIG_HOSTNAME,
	SSHCONFIG_USER,
	SSHCONFIG_PORT,
	SSHCONFIG_IDENTITYFILE,       /* every value kept: identity_files */
	SSHCONFIG_IDENTITIESONLY,     /* "yes" or "no" */
	SSHCONFIG_PROXYJUMP,          /* as written; "none" = no jump */
	SSHCONFIG_PROXYCOMMAND,       /* as written (its %h %p %r unexpanded) */
	SSHCONFIG_USERKNOWNHOSTSFILE, /* the files, expanded, space separated */
	SSHCONFIG_STRICTHOSTKEYCHECKING, /* as ssh -G: "true", "false", "ask"
	                                    or "accept-new" */
	SSHCONFIG_CONNECTTIMEOUT,     /* seconds, or "none" */
	SSHCONFIG_SERVERALIVEINTERVAL, /* seconds */
	SSHCONFIG_KEXALGORITHMS,      /* the five algorithm specs as written, */
	SSHCONFIG_HOSTKEYALGORITHMS,  /* with their +, - and ^ forms; */
	SSHCONFIG_CIPHERS,            /* sshalgs.h applies them */
	SSHCONFIG_MACS,
	SSHCONFIG_PUBKEYACCEPTEDALGORITHMS,
	SSHCONFIG_KW_COUNT
};

/* Does any line of the files read set kw (for any host)? cfg may be
 * NULL. What a caller that would resolve every host asks first. */
struct sshconfig;
bool sshconfig_sets(const struct sshconfig *cfg, enum sshconfig_kw kw);

/* The keyword's name as ssh_config(5) spells it ("HostName"). */
const char *sshconfig_kw_name(enum sshconfig_kw kw);

struct sshconfig_dir; /* one directive (sshconfig.c) */

/* The files read. Everything owned; free with sshconfig_free. */
struct sshconfig {
	struct sshconfig_dir *dirs; /* in the order ssh reads them */
	size_t ndirs, cap;
	char **files;               /* every file read, for directives' names */
	size_t nfiles;
	struct buf ignored;         /* "Keyword (file:line), ..." once each */
	struct buf ignored_names;   /* "\nKeyword\n..." lowercased, to dedupe */
};

/* What sshconfig_load reads. */
#define SSHCONFIG_NO_INCLUDE 0x1 /* Include lines are checked, not followed
                                    (the fuzz target) */

/* Read the job's choice: NULL (~/.ssh/config, then /etc/ssh/ssh_config;
 * either may be missing), "none" (nothing), or a file (as ssh -F; a
 * leading ~/ is $HOME; it must exist). ~ is $HOME throughout, as
 * everywhere in fleetrun. 0 and *cfg filled (sshconfig_free it even on
 * error), or -1 with err naming file:line and what was expected. */
int sshconfig_load(struct sshconfig *cfg, const char *choice, struct err *err);

/* Parse text as the file named name (its relative Includes under
 * ~/.ssh when user, else /etc/ssh). For tests and the fuzz target. */
int sshconfig_parse_text(struct sshconfig *cfg, const char *name, const char *text, size_t len, bool user,
                         unsigned flags, struct err *err);

void sshconfig_free(struct sshconfig *cfg);

/* Keywords met that fleetrun does not use: "SendEnv (/etc/ssh/ssh_config:50),
 * ..." or "" when none. */
const char *sshconfig_ignored(const struct sshconfig *cfg);

/* One host's question. Values given before the files (host var or job:
 * they win, as ssh -o does) are what Match and the %-tokens see. */
struct sshconfig_query {
	const char *host;       /* the host as named (inventory): %n, Host,
	                           Match originalhost */
	const char *hostname;   /* NULL, or the address given */
	const char *user;       /* NULL, or the remote user given */
	const char *port;       /* NULL, or the port given */
	const char *local_user; /* %u, Match localuser; NULL: the login name */
};

/* ssh_config's answer for one host. Everything malloced, owned. */
struct sshconfig_host {
	char *val[SSHCONFIG_KW_COUNT];   /* NULL when no matching block set it */
	char *where[SSHCONFIG_KW_COUNT]; /* "file:line" of the value */
	char *known_hosts;               /* UserKnownHostsFile's first file */
	char **identity_files;           /* expanded, in order */
	char **identity_where;           /* "file:line" of each */
	size_t nidentity_files;
};

/* Walk the directives for q. 0 and *out (sshconfig_host_free it), or -1
 * with err naming file:line (a %-token that cannot be expanded, a path
 * token that would climb out of its directory). */
int sshconfig_resolve(const struct sshconfig *cfg, const struct sshconfig_query *q, struct sshconfig_host *out,
                      struct err *err);

void sshconfig_host_free(struct sshconfig_host *h);

/* ConnectTimeout / ServerAliveInterval in milliseconds: 0 and *ms, or -1
 * when not set (or "none"). */
int sshconfig_host_ms(const struct sshconfig_host *h, enum sshconfig_kw kw, int64_t *ms);

/* StrictHostKeyChecking as a host_key_policy (job.h): yes and ask are
 * strict, accept-new and no/off are accept-new (fleetrun never connects
 * to a changed key); -1 when not set. */
int sshconfig_host_policy(const struct sshconfig_host *h);

#endif
