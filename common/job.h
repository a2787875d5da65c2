/* job: a job file (jobs.d/NAME.yaml) parsed into a validated struct.
 *
 * The supervisor parses and validates the file once; it then sends the
 * file's text to each worker in the hello frame and the worker parses the
 * same text with the same code, so the two can never disagree about what a
 * job means. Every error names file:line:column (1-based) and says what was
 * expected.
 *
 * The parser is job.c (top level, sections, steps and their kinds),
 * job_http.c (the http step) and yaml_json.c (an http step's JSON body),
 * over yamlnode.c's node helpers and mapping walker. */
#ifndef FLEETRUN_JOB_H
#define FLEETRUN_JOB_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"
#include "kv.h"
#include "sshalgs.h"
#include "util.h"

#define JOB_DEFAULT_TIMEOUT_MS 30000
#define JOB_MAX_STEPS 256

enum step_kind {
	STEP_EXEC,  /* exec: CMD  - a local command through /bin/sh -c */
	STEP_SLEEP, /* sleep: DURATION - a pause; sleep: 0 is a no-op */
	STEP_SSH,   /* ssh: CMD - a command on the host over SSH */
	STEP_HTTP,  /* http: "METHOD PATH" or a map - an HTTP/REST call */
	STEP_TCP,   /* tcp: PORT - can a TCP connection be made */
	STEP_PING,  /* ping: {count, timeout} - ICMP echo */
	STEP_CLI,   /* cli: CMD - a command in the device's interactive CLI */
	STEP_CONFIG, /* config: [LINE...] - lines pushed in the CLI's config mode */
};

#define JOB_CONFIG_MAX_LINES 1024

/* A config step: lines typed in the device's configuration mode (over
 * the task's cli session), then optionally committed and saved as its
 * platform file says. Owned by its struct step. */
struct step_config {
	char **lines;            /* templates, one line each; malloced */
	size_t nlines;           /* 0 allowed with commit or save (a
	                            confirming commit) */
	int save;                /* 1: the platform's save after leaving */
	int commit;              /* 1: the platform's commit before leaving */
	int64_t commit_confirmed_ms; /* 0, or the platform's commit_confirmed
	                            with this many (whole) minutes */
};

/* The job's `cli:` section: how its cli steps drive the device's CLI
 * (the connection itself is the ssh: section's). Host vars platform,
 * enable_secret and enable_secret_file override it per host. */
struct job_cli {
	char *platform;           /* a platform name (platform.h), not a
	                             template; NULL: the host var must give it */
	char *enable_secret;      /* template; normally ${env:NAME} */
	char *enable_secret_file; /* or a file holding it (first line) */
	int privileged;           /* 1 (default): steps run in privileged mode,
	                             entered with the platform's enable */
};

#define JOB_HTTP_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define JOB_HTTP_MAX_REDIRECTS 5

/* The job's `http:` section: connection settings for its http steps.
 * Strings are templates as written, NULL when absent; inventory host vars
 * of the same name override them per host (base, user, password,
 * password_file, token, ca, cert, cert_key, pinned_key, insecure). */
struct job_http {
	char *base;            /* URL prefix for steps that give a path */
	char *user;            /* basic auth user */
	char *password;        /* basic auth password; normally ${env:NAME} */
	char *password_file;   /* or a file holding it (first line) */
	char *token;           /* bearer token: Authorization: Bearer TOKEN */
	struct kvlist headers; /* sent with every request: name -> template */
	char *ca;              /* CA bundle file; default: the system's */
	char *cert;            /* client certificate file (PEM) */
	char *cert_key;        /* its key file (PEM) */
	char *pinned_key;      /* sha256//BASE64 public key pin */
	int insecure;          /* 1: no TLS verification (warned once a run) */
	int64_t connect_timeout_ms;
	int follow_redirects;  /* how many redirects to follow: 0 never
	                          (default), true in the file means
	                          JOB_HTTP_MAX_REDIRECTS; credentials go to the
	                          same origin only */
};

/* An http step. Strings are templates; NULL when absent. */
struct step_http {
	char *method;          /* GET when not given */
	char *path;            /* appended to the base; or */
	char *url;             /* a whole URL */
	struct kvlist headers; /* this step's own headers */
	char *body;            /* raw body */
	char *json;            /* body built from YAML, as JSON text whose
	                          strings may hold templates (rendered with JSON
	                          escaping); sent with Content-Type
	                          application/json */
	int expect_status[16]; /* accepted statuses; 0-terminated; a value
	                          under 10 means its class (2 = 2xx) */
	char *check;           /* jq expression that must be true */
	struct kvlist capture; /* var -> jq expression on the JSON response */
};

enum hostkey_policy {
	HOSTKEY_STRICT,     /* unknown or changed key: status hostkey (default) */
	HOSTKEY_ACCEPT_NEW, /* unknown key: recorded in known_hosts; changed: hostkey */
	HOSTKEY_OFF,        /* no check; only when asked for */
};

#define JOB_SSH_DEFAULT_CONNECT_TIMEOUT_MS 10000
#define JOB_SSH_DEFAULT_KEEPALIVE_MS 15000
/* jump_max_logins by default: below sshd's default MaxStartups start
 * (10), so a bastion left at its defaults never refuses a run, with two
 * to spare for the operator's own ssh sessions (README, "Pacing logins") */
#define JOB_SSH_DEFAULT_JUMP_MAX_LOGINS 8
/* the most max_logins and jump_max_logins may say */
#define JOB_SSH_LOGINS_MAX 100000

/* The job's `ssh:` section: connection settings for its ssh steps. The
 * string fields are templates as written (rendered per host by the
 * worker), NULL when absent. An inventory host var of the same name
 * (user, port, key, passphrase, passphrase_file, password, password_file,
 * agent, known_hosts, host_key_policy) overrides the job's value for that
 * host. */
struct job_ssh {
	char *user;            /* default: the login name running fleetrun */
	char *port;            /* default: 22 */
	char *key;             /* private key file */
	char *passphrase;      /* key passphrase; normally ${env:NAME} */
	char *passphrase_file; /* or a file holding it (first line) */
	char *password;        /* password / keyboard-interactive; ${env:NAME} */
	char *password_file;   /* or a file holding it (first line) */
	char *known_hosts;     /* default: ~/.ssh/known_hosts */
	int agent;             /* -1 not given (use the agent when SSH_AUTH_SOCK
	                          is set and nothing else is), 0 no, 1 yes */
	enum hostkey_policy host_key_policy;
	int64_t connect_timeout_ms; /* TCP connect + handshake + auth */
	int64_t idle_timeout_ms;    /* a command silent this long: timeout; 0 off */
	int64_t keepalive_ms;       /* SSH keepalive interval; 0 off */
	int pty;               /* 1: request a terminal for every command */
	char *jump;            /* "[user@]host[:port],..." or "none"; a template */
	char *jump_key;        /* the hops' private key file */
	char *jump_password;   /* the hops' password; normally ${env:NAME} */
	char *jump_password_file; /* or a file holding it (first line) */
	char *proxy_command;   /* /bin/sh -c command reaching the first host, as
	                          written: no template, %h %p %r %% substituted
	                          shell-quoted; never from a host var (code) */
	char *algorithms[SSHALGS_NMETHODS]; /* `algorithms: {kex: SPEC, ...}`:
	                          OpenSSH-syntax specs (sshalgs.h) by method,
	                          checked at load; NULL: the default. Not
	                          templates. Host vars kex, hostkey, ciphers,
	                          macs and pubkey override them per host */
	int max_logins;        /* SSH logins in progress at once, 0: no limit
	                          (fleetrun run --max-logins wins) */
	int jump_max_logins;   /* of them to one jump host; 0: no limit;
	                          default JOB_SSH_DEFAULT_JUMP_MAX_LOGINS */
	char *config;          /* ssh_config to read: NULL (~/.ssh/config, then
	                          /etc/ssh/ssh_config), "none", or a file (a
	                          leading ~/ is $HOME); never a host var: a
	                          config may hold ProxyCommand, which is code */
	unsigned given;        /* JOB_SSH_GIVEN_*: set by the file, not defaults */
};

/* The keys of the ssh: section whose defaults ssh_config may replace
 * (host var > job > ssh_config > defaults): set when the file gives them. */
#define JOB_SSH_GIVEN_POLICY 0x1          /* host_key_policy */
#define JOB_SSH_GIVEN_CONNECT_TIMEOUT 0x2 /* connect_timeout */
#define JOB_SSH_GIVEN_KEEPALIVE 0x4       /* keepalive */

/* The job's `inventory_may:` section: what an inventory host var may
 * reach on this machine. Inventories are data (DESIGN.md, "Trust model"):
 * a host var value is taken as written, never rendered as a template,
 * except that ${env:NAME} is expanded for a NAME listed here; and a host
 * var that names a file (key, known_hosts, ca, cert, cert_key, *_file) is
 * used only when the file resolves under one of the directories listed
 * here; and a host var may turn a check off (host_key_policy accept-new
 * or off, insecure true) only when its name is listed here. The lists are
 * empty unless the job fills them. */
struct job_inventory_may {
	struct kvlist env;     /* NAME -> "": the environment variables */
	struct kvlist files;   /* DIR -> "": directories as written (absolute
	                          or ~/), each a prefix of whole path parts */
	struct kvlist settings; /* NAME -> "": host_key_policy, insecure: the
	                           checks a host var may turn off; kex, hostkey,
	                           ciphers, macs, pubkey: the algorithm host vars
	                           that may enable a weak algorithm */
};

/* What an ssh or cli step makes of its stdout (job_text.c): `parse:`
 * (TextFSM records) and `capture:` (variables for later steps). */
enum step_parse_mode {
	STEP_PARSE_NONE,
	STEP_PARSE_FILE, /* parse: textfsm:FILE */
	STEP_PARSE_AUTO, /* parse: auto: the template the index names for the
	                    host's platform and the rendered command */
};

/* One `capture:` entry of an ssh or cli step: a PCRE2 pattern on stdout,
 * or a jq expression on {"parsed": [...], "stdout": "..."}. */
struct step_capture {
	char *var;       /* the variable, without the '?'; malloced, owned */
	int optional;    /* written var?: no match (or null) gives "" */
	char *regex;     /* the pattern as written, or NULL; malloced, owned */
	void *re;        /* its pcre2_code, compiled at load; owned */
	uint32_t group;  /* the group that becomes the value: the one named
	                    like the variable, else 1, else 0 (no group) */
	char *jq;        /* or a jq expression; malloced, owned */
	int line, column; /* of the entry, for messages */
};

struct step_parse {
	enum step_parse_mode mode;
	char *template;   /* FILE: the path, resolved against the job's
	                     directory; malloced, owned */
	char *written;    /* FILE: as the job wrote it, for messages; owned */
	struct step_capture *captures; /* malloced array, owned */
	size_t ncaptures;
};

struct step {
	enum step_kind kind;
	char *text;       /* the kind key's value as written (command template,
	                     duration text); malloced, owned */
	char *name;       /* `name:` if given, else text; malloced, owned */
	char *expect;     /* PCRE2 pattern, or NULL; malloced, owned */
	int64_t timeout_ms; /* `timeout:` of this step, 0 when not given */
	int64_t sleep_ms; /* STEP_SLEEP: the pause */
	int pty;          /* STEP_SSH: -1 as the ssh section says, 0 no, 1 yes */
	struct step_http *http; /* STEP_HTTP: NULL otherwise; owned */
	struct step_config *config; /* STEP_CONFIG: NULL otherwise; owned */
	int ping_count;   /* STEP_PING: echo requests (default 1) */
	struct step_parse *parse; /* STEP_SSH, STEP_CLI: parse: and capture:,
	                             NULL when neither is given; owned */
	int line;         /* where the step starts in the file, 1-based */
	int column;
};

struct job {
	char *name;        /* file name without directory and .yaml; owned */
	char *path;        /* as given; owned */
	char *description; /* NULL or owned */
	int64_t timeout_ms; /* whole-task deadline; JOB_DEFAULT_TIMEOUT_MS if absent */
	int timeout_set;   /* 1 when the file gave `timeout:` */
	int retries;       /* extra attempts for unreachable/timeout/crashed, 0 if absent */
	struct job_ssh ssh; /* always filled: defaults when there is no section */
	int has_ssh;       /* 1 when the file has an ssh: section */
	struct job_http http; /* always filled: defaults when there is no section */
	int has_http;      /* 1 when the file has an http: section */
	struct job_cli cli; /* always filled: defaults when there is no section */
	int has_cli;       /* 1 when the file has a cli: section */
	struct job_inventory_may inventory_may; /* empty when not given */
	char *templates;   /* `templates:` a TextFSM collection (DIR/index),
	                      resolved against the job's directory; NULL when
	                      not given; owned */
	struct step *steps; /* malloced array of nsteps, owned */
	size_t nsteps;
	char *source;      /* the file's text, NUL-terminated; owned */
	size_t source_len;
};

/* A job's name from its file or from what the user typed: the file name
 * without .yaml/.yml ("jobs.d/show-version.yaml" -> "show-version").
 * Malloced. */
char *job_name_from_path(const char *path);

/* Parse job text. path is used in error messages and for the job's name.
 * On success returns 0 and sets *out (free with job_free); on error
 * returns -1 with "path:line:column: message" in err, *out untouched. */
int job_parse(const char *path, const char *text, size_t len, struct job **out, struct err *err);

/* The same with flags. JOB_PARSE_NO_JQ skips compiling the jq expressions
 * (checks and captures) and reading the TextFSM templates and index the
 * job names, for a job the supervisor has already validated: jq 1.6 takes
 * ~40 ms of CPU per compile, and every worker parses the job (and
 * compiles its templates once, worker/step_parse.c). */
#define JOB_PARSE_NO_JQ 0x1
int job_parse_flags(const char *path, const char *text, size_t len, unsigned flags, struct job **out,
                    struct err *err);

/* Read path and parse it. Errors as above ("path: cannot read: ..."). */
int job_load(const char *path, struct job **out, struct err *err);
/* The same from an open fd (read to its end, not closed); path names the
 * file in messages and gives the job its name. */
int job_load_fd(int fd, const char *path, struct job **out, struct err *err);

void job_free(struct job *job);

/* A file a job names (a template, an index): all of path appended to
 * out, at most max bytes. 0, or -1 with err ("PATH: cannot read: why"). */
int job_text_read_file(const char *path, size_t max, struct buf *out, struct err *err);
/* The same from fd (not closed); why follows "larger than N bytes". */
int job_read_fd(int fd, const char *path, size_t max, const char *why, struct buf *out, struct err *err);

/* The run's own template collection (--templates DIR, $FLEETRUN_TEMPLATES;
 * what names it) checked for a job with parse: auto steps: DIR/index
 * readable and well formed. 0 (also for no dir), or -1 with err. */
int job_text_check_run(const struct job *job, const char *dir, const char *what, struct err *err);

const char *step_kind_name(enum step_kind k);
const char *hostkey_policy_name(enum hostkey_policy p);
/* "strict", "accept-new", "off": 0 and *p, or -1. */
int hostkey_policy_parse(const char *s, enum hostkey_policy *p);

#endif
