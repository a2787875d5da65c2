/* platform: a network platform's CLI as data (jobs.d/platforms/NAME.yaml):
 * the prompt of each mode, how to go from one mode to another, what to
 * send once on login, pagers and the key that continues them, error and
 * question patterns, and how to save. The `cli` step kind
 * (worker/step_cli.c) drives a device with nothing but this.
 *
 * Apart from job.c because a platform file is not a job: it is data,
 * shared by every job that names it, and a host var may choose it (a
 * name, never a path). The supervisor loads it to check it (`fleetrun
 * check`, before a run) and each worker loads it again, with the same
 * code, compiling every pattern (PCRE2) once for all its tasks. Errors
 * name file:line:column and say what was expected, as job errors do. */
#ifndef FLEETRUN_PLATFORM_H
#define FLEETRUN_PLATFORM_H

#include <stddef.h>

#include "util.h"

#define PLATFORM_MAX_PATTERNS 16 /* errors, questions, pagers, on_login, above_prompt */
#define PLATFORM_NAME_MAX 64

/* The CLI modes a platform may have. Config covers its sub-modes
 * (interface, router, line): one pattern for all of them. */
enum platform_mode {
	PLATFORM_MODE_USER,
	PLATFORM_MODE_PRIVILEGED,
	PLATFORM_MODE_CONFIG,
	PLATFORM_NMODES,
};

/* A pattern as written (for messages) and compiled (a pcre2_code *,
 * owned). */
struct platform_re {
	char *text;
	void *re;
};

struct platform_question {
	struct platform_re pattern;
	char *answer; /* sent, followed by a newline; "" is a bare newline */
};

/* One platform, loaded and compiled. Everything owned; free with
 * platform_free. */
struct platform {
	char *name;                                 /* the file's name without .yaml */
	char *path;                                 /* the file it came from */
	char *description;                          /* NULL or text */
	struct platform_re prompt[PLATFORM_NMODES]; /* re NULL: no such mode; a
	                                               prompt pattern matches a
	                                               whole last line */
	struct platform_re above_prompt[PLATFORM_MAX_PATTERNS]; /* whole lines the
	                                               device prints between output
	                                               and prompt (Junos's blank line,
	                                               [edit]): the prompt's */
	size_t nabove_prompt;
	char *on_login[PLATFORM_MAX_PATTERNS];      /* commands sent once, in order */
	size_t non_login;
	char *enable;                               /* NULL, or the command from
	                                               user to privileged mode */
	struct platform_re enable_password;         /* its password prompt */
	char *disable;                              /* NULL, or back to user mode */
	char *config_enter;                         /* NULL, or into config mode */
	char *config_exit;                          /* back to privileged mode,
	                                               from any sub-mode */
	char *config_discard;                       /* NULL, or sent in config
	                                               mode before config_exit
	                                               when a push failed: drops
	                                               the uncommitted changes
	                                               (Junos rollback 0) */
	char *exit;                                 /* NULL, or leaving one level */
	struct platform_re pager[PLATFORM_MAX_PATTERNS]; /* matched against the
	                                               last line */
	size_t npager;
	char *pager_continue;                       /* the key sent at a pager */
	struct platform_re error[PLATFORM_MAX_PATTERNS]; /* anywhere in a
	                                               command's output: failed */
	size_t nerror;
	struct platform_question question[PLATFORM_MAX_PATTERNS]; /* the last line */
	size_t nquestion;
	char *save;                                 /* NULL, or saving the config
	                                               (sent after leaving config
	                                               mode) */
	char *commit;                               /* NULL, or committing it
	                                               (sent in config mode) */
	char *commit_confirmed;                     /* NULL, or a commit that rolls
	                                               back unless confirmed:
	                                               {minutes} and {seconds} in
	                                               it replaced (checked) */
};

/* commit_confirmed of p with the time filled in: malloced. */
char *platform_commit_confirmed(const struct platform *p, long long minutes);

/* name is a platform name: 1 to PLATFORM_NAME_MAX-1 of [A-Za-z0-9_.-],
 * not starting with a dot (never a path: a host var may give it). */
int platform_name_ok(const char *name);

/* Parse a platform file's text. 0 and *out, or -1 with "path:line:column:
 * what was expected" in err. */
int platform_parse(const char *path, const char *text, size_t len, struct platform **out, struct err *err);

/* Where the platform `name` is for the job at job_path: the job's own
 * directory's platforms/ first (a user's file wins or adds), then
 * platforms/ in the places jobs are looked for by name:
 * $FLEETRUN_JOBS_DIR, ./jobs.d, jobs.d beside the program's directory (a
 * build tree, bin/../jobs.d) and PREFIX/share/fleetrun/jobs.d, the
 * shipped ones. The supervisor and its workers share directory,
 * environment and working directory, so they find the same file. 0 and *path (malloced), or -1 with err saying where it looked. */
int platform_find(const char *job_path, const char *name, char **path, struct err *err);

/* platform_find then read and parse. A file writable by group or
 * others, or in a directory anyone may write (not sticky), is refused:
 * it says what is typed on devices, as a job says what runs. */
int platform_load(const char *job_path, const char *name, struct platform **out, struct err *err);

void platform_free(struct platform *p);

struct job;
/* The platform file the job names in its cli section, when it has cli
 * or config steps: loaded and parsed (fleetrun check and run, before any
 * worker starts), and able to do what the config steps ask (config mode,
 * save, commit, commit_confirmed). 0, or -1 with the file's error. */
int platform_check_job(const struct job *job, struct err *err);

struct step_config;
/* What a config step asks of p that p does not have (its name in the
 * platform file, for messages), or NULL. */
const char *platform_lacks(const struct platform *p, const struct step_config *cf);

const char *platform_mode_name(enum platform_mode m);

#endif
