/* sshconfig_dir: the directive list sshconfig.c reads the files into
 * and sshconfig_resolve.c walks for one host. Internal to those two, as
 * job_parse.h is to the job parser; everyone else uses sshconfig.h. */
#ifndef FLEETRUN_SSHCONFIG_DIR_H
#define FLEETRUN_SSHCONFIG_DIR_H

#include <stdbool.h>
#include <stddef.h>

#include "sshconfig.h"

#define SSHCONFIG_MAX_DEPTH 16       /* Include nesting, as OpenSSH's READCONF_MAX_DEPTH */
#define SSHCONFIG_MAX_IDENTITIES 100 /* as OpenSSH's SSH_MAX_IDENTITY_FILES */

enum sshconfig_dir_kind {
	SSHCONFIG_D_HOST,
	SSHCONFIG_D_MATCH,
	SSHCONFIG_D_OPT,
	SSHCONFIG_D_PUSH, /* an included file starts */
	SSHCONFIG_D_POP,  /* ... and ends */
};

struct sshconfig_dir {
	enum sshconfig_dir_kind kind;
	int kw;       /* D_OPT: enum sshconfig_kw */
	char **argv;  /* the arguments, NULL-terminated; owned */
	size_t argc;
	size_t file;  /* index into cfg->files */
	int line;
	bool never;   /* D_MATCH: names a criterion fleetrun never evaluates */
	bool top;     /* D_PUSH: a file ssh reads on its own (every Host and
	                 Match of it start afresh), not an Include */
};

/* The arguments of a line, ssh's argv_split (quotes, backslashes, a #
 * comment): 0 and *argv (NULL-terminated, free with
 * sshconfig_argv_free) and *argc, or -1 on an unterminated quote. */
int sshconfig_split(const char *s, char ***argv, size_t *argc);
void sshconfig_argv_free(char **argv);

#endif
