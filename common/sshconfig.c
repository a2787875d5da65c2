/* sshconfig: see sshconfig.h; this file reads the files, resolving a
 * host is sshconfig_resolve.c. Written by hand: no library reads
 * ssh_config but OpenSSH itself, whose readconf.c is tied to its own
 * Options struct and fatal() exits. The grammar follows OpenSSH 9's
 * readconf.c and match.c (checked against `ssh -G` in
 * tests/integration/test_sshconfig.py); the code is our own.
 *
 * Reading turns the files into one list of directives (Host, Match, an
 * option, and the start and end of each included file), checking every
 * value as ssh does, even in blocks that match no host. Resolving walks
 * that list for one host. */
#include "sshconfig.h"
#include "sshconfig_dir.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SSHCONFIG_MAX_FILE (1 << 20)  /* bytes in one file */
#define SSHCONFIG_MAX_DIRS 100000     /* directives over all files */
#define SSHCONFIG_MAX_GLOB 256        /* files one Include pattern may name */
#define SSHCONFIG_MAX_KNOWN_HOSTS 16  /* files on one UserKnownHostsFile line */

/* A keyword's check of its arguments at read time. */
enum sshconfig_check {
	SSHCONFIG_C_ONE,   /* exactly one value */
	SSHCONFIG_C_PORT,  /* 1..65535 */
	SSHCONFIG_C_FLAG,  /* yes/no */
	SSHCONFIG_C_STRICT,
	SSHCONFIG_C_TIME,  /* a time in seconds (ssh's convtime) */
	SSHCONFIG_C_TIME_NONE, /* the same, or none */
	SSHCONFIG_C_FILES, /* one or more file names */
	SSHCONFIG_C_RAW,   /* the rest of the line as written */
};

static const struct sshconfig_kwdef {
	const char *name;
	enum sshconfig_kw kw;
	enum sshconfig_check check;
} sshconfig_kws[] = {
	{"HostName", SSHCONFIG_HOSTNAME, SSHCONFIG_C_ONE},
	{"User", SSHCONFIG_USER, SSHCONFIG_C_ONE},
	{"Port", SSHCONFIG_PORT, SSHCONFIG_C_PORT},
	{"IdentityFile", SSHCONFIG_IDENTITYFILE, SSHCONFIG_C_ONE},
	{"IdentitiesOnly", SSHCONFIG_IDENTITIESONLY, SSHCONFIG_C_FLAG},
	{"ProxyJump", SSHCONFIG_PROXYJUMP, SSHCONFIG_C_ONE},
	{"ProxyCommand", SSHCONFIG_PROXYCOMMAND, SSHCONFIG_C_RAW},
	{"UserKnownHostsFile", SSHCONFIG_USERKNOWNHOSTSFILE, SSHCONFIG_C_FILES},
	{"StrictHostKeyChecking", SSHCONFIG_STRICTHOSTKEYCHECKING, SSHCONFIG_C_STRICT},
	{"ConnectTimeout", SSHCONFIG_CONNECTTIMEOUT, SSHCONFIG_C_TIME_NONE},
	{"ServerAliveInterval", SSHCONFIG_SERVERALIVEINTERVAL, SSHCONFIG_C_TIME},
	{"KexAlgorithms", SSHCONFIG_KEXALGORITHMS, SSHCONFIG_C_ONE},
	{"HostKeyAlgorithms", SSHCONFIG_HOSTKEYALGORITHMS, SSHCONFIG_C_ONE},
	{"Ciphers", SSHCONFIG_CIPHERS, SSHCONFIG_C_ONE},
	{"MACs", SSHCONFIG_MACS, SSHCONFIG_C_ONE},
	{"PubkeyAcceptedAlgorithms", SSHCONFIG_PUBKEYACCEPTEDALGORITHMS, SSHCONFIG_C_ONE},
	{"PubkeyAcceptedKeyTypes", SSHCONFIG_PUBKEYACCEPTEDALGORITHMS, SSHCONFIG_C_ONE}, /* its old name */
};

/* Keywords fleetrun does not use and does not warn about: each only
 * matters to an interactive ssh, or asks for something fleetrun never
 * does anyway (send the environment, forward an agent or X11, GSSAPI,
 * multiplexing). Debian's own /etc/ssh/ssh_config sets three of them;
 * `fleetrun hosts --ssh` still lists them. HashKnownHosts: fleetrun
 * appends the keys it accepts unhashed (README). */
static const char *const sshconfig_quiet[] = {
	"SendEnv",       "HashKnownHosts", "GSSAPIAuthentication", "GSSAPIDelegateCredentials",
	"ForwardAgent",  "ForwardX11",     "ForwardX11Trusted",    "VisualHostKey",
	"LogLevel",      "EscapeChar",     "ControlMaster",        "ControlPath",
	"ControlPersist", "AddKeysToAgent", "IgnoreUnknown", /* fleetrun errs on no keyword */
};

/* Match criteria: the ones resolved, and the ones a block is never
 * taken for (exec runs a command: never on a config's word; the others
 * need what fleetrun does not do: canonicalisation, a final pass, tags,
 * local network checks). */
static const char *const sshconfig_match_known[] = {"all", "host", "originalhost", "user", "localuser"};
static const char *const sshconfig_match_never[] = {"exec",    "canonical", "final",   "localnetwork",
                                                    "tagged",  "command",   "version", "sessiontype"};

const char *sshconfig_kw_name(enum sshconfig_kw kw)
{
	for (size_t i = 0; i < ARRAY_LEN(sshconfig_kws); i++)
		if (sshconfig_kws[i].kw == kw)
			return sshconfig_kws[i].name;
	return "?";
}

static bool sshconfig_in(const char *const *list, size_t n, const char *word)
{
	for (size_t i = 0; i < n; i++)
		if (!strcasecmp(list[i], word))
			return true;
	return false;
}

/* ------------------------------------------------------------ lexing */

/* One argument of a line, ssh's argv_split: whitespace ends it unless
 * quoted ('...' or "..."), a backslash escapes a quote, a backslash or a
 * space. *sp moves past it. 1 and *out (malloced), 0 at the end of the
 * line (or a # comment), -1 on an unterminated quote. With key, a single
 * '=' also ends it (the keyword's "Keyword=value"). */
static int sshconfig_arg(const char **sp, bool key, char **out)
{
	const char *s = *sp;
	struct buf b = BUF_INIT;
	char quote = 0;

	s += strspn(s, " \t\r\f");
	if (key && *s == '=')
		s++;
	if (!*s || *s == '#') {
		*sp = s;
		return 0;
	}
	buf_puts(&b, "");
	for (; *s; s++) {
		if (*s == '\\' && (s[1] == '"' || s[1] == '\'' || s[1] == '\\' || (!quote && s[1] == ' '))) {
			buf_putc(&b, *++s);
		} else if (quote) {
			if (*s == quote)
				quote = 0;
			else
				buf_putc(&b, *s);
		} else if (*s == '"' || *s == '\'') {
			quote = *s;
		} else if (strchr(" \t\r\f", *s) || (key && *s == '=')) {
			break;
		} else {
			buf_putc(&b, *s);
		}
	}
	if (quote) {
		buf_free(&b);
		return -1;
	}
	if (key && *s) {
		s += strspn(s, " \t\r\f");
		if (*s == '=')
			s++;
	}
	*sp = s;
	*out = buf_steal(&b);
	return 1;
}

void sshconfig_argv_free(char **argv)
{
	for (size_t i = 0; argv && argv[i]; i++)
		free(argv[i]);
	free(argv);
}

/* The arguments after the keyword. 0 and *argv (NULL-terminated) and *argc, or -1 (quotes). */
int sshconfig_split(const char *s, char ***argv, size_t *argc)
{
	char **v = NULL, *a;
	size_t n = 0;
	int rc;

	while ((rc = sshconfig_arg(&s, false, &a)) == 1) {
		v = xreallocarray(v, n + 2, sizeof(*v));
		v[n++] = a;
		v[n] = NULL;
	}
	if (rc < 0) {
		sshconfig_argv_free(v);
		return -1;
	}
	*argv = v;
	*argc = n;
	return 0;
}

/* ------------------------------------------------------------ values */

/* ssh's convtime: "90", "1m30s", "2h" (s m h d w, any case). Seconds, or -1. */
static long long sshconfig_time(const char *s)
{
	long long total = 0;

	if (!*s)
		return -1;
	while (*s) {
		char *end;
		long long mult = 1, v;

		errno = 0;
		if (!isdigit((unsigned char)*s))
			return -1;
		v = strtoll(s, &end, 10);
		if (errno || v < 0)
			return -1;
		switch (tolower((unsigned char)*end)) {
		case '\0': break;
		case 's': end++; break;
		case 'm': mult = 60; end++; break;
		case 'h': mult = 3600; end++; break;
		case 'd': mult = 86400; end++; break;
		case 'w': mult = 604800; end++; break;
		default: return -1;
		}
		if (v > INT_MAX / mult || total > INT_MAX - v * mult)
			return -1;
		total += v * mult;
		s = end;
	}
	return total;
}

/* Check an option's arguments and give its stored value: NULL with err
 * ("expected ...") when they are wrong. raw is the rest of the line. */
static char *sshconfig_value(const struct sshconfig_kwdef *d, char **argv, size_t argc, const char *raw,
                             struct err *err)
{
	const char *a = argv[0];
	long long t;

	if (d->check == SSHCONFIG_C_RAW)
		return xstrdup(raw);
	if (d->check == SSHCONFIG_C_FILES) {
		struct buf b = BUF_INIT;
		if (argc > SSHCONFIG_MAX_KNOWN_HOSTS) {
			err_set(err, "%s: more than %d files", d->name, SSHCONFIG_MAX_KNOWN_HOSTS);
			return NULL;
		}
		for (size_t i = 0; i < argc; i++)
			buf_printf(&b, "%s%s", i ? " " : "", argv[i]);
		return buf_steal(&b);
	}
	if (argc != 1) {
		err_set(err, "%s: expected one value, got %zu", d->name, argc);
		return NULL;
	}
	switch (d->check) {
	case SSHCONFIG_C_PORT: {
		char *end;
		long v = strtol(a, &end, 10);
		if (*end || end == a || v < 1 || v > 65535) {
			err_set(err, "bad port '%.64s' (expected a number 1-65535)", a);
			return NULL;
		}
		return xasprintf("%ld", v);
	}
	case SSHCONFIG_C_FLAG:
		if (!strcasecmp(a, "yes") || !strcasecmp(a, "true"))
			return xstrdup("yes");
		if (!strcasecmp(a, "no") || !strcasecmp(a, "false"))
			return xstrdup("no");
		err_set(err, "%s '%.64s': expected yes or no", d->name, a);
		return NULL;
	case SSHCONFIG_C_STRICT:
		/* kept as ssh -G prints it */
		if (!strcasecmp(a, "yes") || !strcasecmp(a, "true"))
			return xstrdup("true");
		if (!strcasecmp(a, "no") || !strcasecmp(a, "false") || !strcasecmp(a, "off"))
			return xstrdup("false");
		if (!strcasecmp(a, "ask") || !strcasecmp(a, "accept-new"))
			return xstrdup(a[0] == 'a' || a[0] == 'A' ? (strlen(a) == 3 ? "ask" : "accept-new") : a);
		err_set(err, "%s '%.64s': expected yes, no, off, ask or accept-new", d->name, a);
		return NULL;
	case SSHCONFIG_C_TIME_NONE:
		if (!strcasecmp(a, "none"))
			return xstrdup("none");
		/* fall through */
	case SSHCONFIG_C_TIME:
		if ((t = sshconfig_time(a)) < 0) {
			err_set(err, "%s '%.64s': expected a time (seconds, or like 1m30s)%s", d->name, a,
			        d->check == SSHCONFIG_C_TIME_NONE ? " or none" : "");
			return NULL;
		}
		return xasprintf("%lld", t);
	default:
		return xstrdup(a);
	}
}

/* ------------------------------------------------------------ reading */

/* What reading one file needs to know. */
struct sshconfig_reader {
	struct sshconfig *cfg;
	bool user;           /* relative Includes under ~/.ssh, else /etc/ssh */
	unsigned flags;
	int depth;
	char *stack[SSHCONFIG_MAX_DEPTH + 2]; /* the files being read, resolved */
	int nstack;
};

static struct sshconfig_dir *sshconfig_add(struct sshconfig *cfg, enum sshconfig_dir_kind kind, size_t file,
                                           int line, struct err *err)
{
	struct sshconfig_dir *d;

	if (cfg->ndirs >= SSHCONFIG_MAX_DIRS) {
		err_set(err, "%s:%d: more than %d directives in the ssh_config files", cfg->files[file], line,
		        SSHCONFIG_MAX_DIRS);
		return NULL;
	}
	if (cfg->ndirs == cfg->cap) {
		cfg->cap = cfg->cap ? cfg->cap * 2 : 32;
		cfg->dirs = xreallocarray(cfg->dirs, cfg->cap, sizeof(*cfg->dirs));
	}
	d = &cfg->dirs[cfg->ndirs++];
	*d = (struct sshconfig_dir){.kind = kind, .file = file, .line = line};
	return d;
}

/* Name a keyword fleetrun does not use, once a run. */
static void sshconfig_note_ignored(struct sshconfig *cfg, const char *what, const char *file, int line)
{
	struct buf key = BUF_INIT;

	buf_printf(&key, "\n%s\n", what);
	for (size_t i = 0; i < key.len; i++)
		key.data[i] = (char)tolower((unsigned char)key.data[i]);
	if (!cfg->ignored_names.data || !strstr(cfg->ignored_names.data, key.data)) {
		buf_append(&cfg->ignored_names, key.data, key.len - 1);
		if (!sshconfig_in(sshconfig_quiet, ARRAY_LEN(sshconfig_quiet), what))
			buf_printf(&cfg->ignored, "%s%.64s (%s:%d)", cfg->ignored.len ? ", " : "", what, file, line);
	}
	buf_free(&key);
}

/* A Match line: its criteria checked, as ssh does. */
static int sshconfig_check_match(struct sshconfig_dir *d, const char *file, const char **never,
                                 struct err *err)
{
	size_t i = 0;

	while (i < d->argc) {
		const char *crit = d->argv[i] + (d->argv[i][0] == '!');
		bool noarg = !strcasecmp(crit, "all") || !strcasecmp(crit, "canonical") || !strcasecmp(crit, "final");

		if (!sshconfig_in(sshconfig_match_known, ARRAY_LEN(sshconfig_match_known), crit) &&
		    !sshconfig_in(sshconfig_match_never, ARRAY_LEN(sshconfig_match_never), crit)) {
			err_set(err, "%s:%d: unsupported Match criterion '%.64s' (expected all, host, originalhost, user, "
			        "localuser, exec, canonical, final, localnetwork, tagged, command, version or sessiontype)",
			        file, d->line, crit);
			return -1;
		}
		/* ssh takes all alone, or after canonical or final */
		if (!strcasecmp(crit, "all") && d->argc > 1 &&
		    !(d->argc == 2 && i == 1 &&
		      (!strcasecmp(d->argv[0], "canonical") || !strcasecmp(d->argv[0], "final")))) {
			err_set(err, "%s:%d: Match all cannot be combined with other criteria", file, d->line);
			return -1;
		}
		if (sshconfig_in(sshconfig_match_never, ARRAY_LEN(sshconfig_match_never), crit) && !d->never) {
			d->never = true;
			*never = crit;
		}
		if (!noarg && i + 1 >= d->argc) {
			err_set(err, "%s:%d: Match %s needs an argument", file, d->line, crit);
			return -1;
		}
		i += noarg ? 1 : 2;
	}
	return 0;
}

static int sshconfig_read_file(struct sshconfig_reader *rd, const char *path, bool must_exist, struct err *err);

/* Is path (resolved) being read already, further up? */
static bool sshconfig_reading(const struct sshconfig_reader *rd, const char *real)
{
	for (int i = 0; i < rd->nstack; i++)
		if (!strcmp(rd->stack[i], real))
			return true;
	return false;
}

/* The same for a path not resolved yet. */
static bool sshconfig_reading_path(const struct sshconfig_reader *rd, const char *path)
{
	char *real = realpath(path, NULL);
	bool r = real && sshconfig_reading(rd, real);

	free(real);
	return r;
}


/* An Include line: each pattern globbed (~ is $HOME, relative under
 * ~/.ssh or /etc/ssh), each file read in place. */
static int sshconfig_include(struct sshconfig_reader *rd, char **argv, size_t argc, const char *file, int line,
                             struct err *err)
{
	const char *home = getenv("HOME");
	int r = 0;

	if (rd->flags & SSHCONFIG_NO_INCLUDE)
		return 0;
	for (size_t i = 0; i < argc && r == 0; i++) {
		char *pat;
		glob_t g;
		int grc;

		if (!strncmp(argv[i], "~/", 2))
			pat = xasprintf("%s/%s", home ? home : "", argv[i] + 2);
		else if (argv[i][0] == '/')
			pat = xstrdup(argv[i]);
		else if (rd->user)
			pat = xasprintf("%s/.ssh/%s", home ? home : "", argv[i]);
		else
			pat = xasprintf("/etc/ssh/%s", argv[i]);
		grc = glob(pat, 0, NULL, &g);
		if (grc == 0 && g.gl_pathc > SSHCONFIG_MAX_GLOB) {
			err_set(err, "%s:%d: Include %.200s names more than %d files", file, line, pat, SSHCONFIG_MAX_GLOB);
			r = -1;
		} else if (grc == 0) {
			for (size_t k = 0; k < g.gl_pathc && r == 0; k++) {
				if (rd->depth >= SSHCONFIG_MAX_DEPTH) {
					err_set(err, "%s:%d: Include nested deeper than %d files (expected no loop)", file,
					        line, SSHCONFIG_MAX_DEPTH);
					r = -1;
					break;
				}
				if (sshconfig_reading_path(rd, g.gl_pathv[k])) {
					err_set(err, "%s:%d: Include loop: %.200s is being read already (expected no loop)",
					        file, line, g.gl_pathv[k]);
					r = -1;
					break;
				}
				rd->depth++;
				r = sshconfig_read_file(rd, g.gl_pathv[k], true, err);
				rd->depth--;
			}
		} else if (grc != GLOB_NOMATCH) {
			err_set(err, "%s:%d: Include %.200s: cannot read the directory", file, line, pat);
			r = -1;
		}
		if (grc == 0 || grc == GLOB_NOMATCH)
			globfree(&g);
		free(pat);
	}
	return r;
}

/* One line: the keyword, then what it takes. 0, or -1 with err. */
static int sshconfig_line(struct sshconfig_reader *rd, size_t fi, int lineno, const char *text, struct err *err)
{
	struct sshconfig *cfg = rd->cfg;
	const char *file = cfg->files[fi], *s = text, *kw_end;
	char *kw = NULL, **argv = NULL, *raw = NULL;
	const struct sshconfig_kwdef *def = NULL;
	const char *never = NULL;
	struct sshconfig_dir *d;
	size_t argc = 0;
	int r = -1, rc;
	struct err why;

	rc = sshconfig_arg(&s, true, &kw);
	if (rc == 0)
		return 0; /* blank or comment */
	if (rc < 0) {
		err_set(err, "%s:%d: unterminated quote (expected a closing quote)", file, lineno);
		goto out;
	}
	kw_end = s;
	if (!*kw_end || *kw_end == '#') {
		err_set(err, "%s:%d: no argument after keyword '%.64s'", file, lineno, kw);
		goto out;
	}
	if (sshconfig_split(s, &argv, &argc) < 0) {
		err_set(err, "%s:%d: unterminated quote (expected a closing quote)", file, lineno);
		goto out;
	}
	if (argc == 0) {
		err_set(err, "%s:%d: no argument after keyword '%.64s'", file, lineno, kw);
		goto out;
	}
	for (size_t i = 0; i < ARRAY_LEN(sshconfig_kws); i++)
		if (!strcasecmp(sshconfig_kws[i].name, kw))
			def = &sshconfig_kws[i];
	if (!strcasecmp(kw, "Host") || !strcasecmp(kw, "Match")) {
		bool host = !strcasecmp(kw, "Host");
		if (!(d = sshconfig_add(cfg, host ? SSHCONFIG_D_HOST : SSHCONFIG_D_MATCH, fi, lineno, err)))
			goto out;
		d->argv = argv;
		d->argc = argc;
		argv = NULL;
		if (!host && sshconfig_check_match(d, file, &never, err) < 0)
			goto out;
		if (d->never) {
			char *what = xasprintf("Match %.32s", never);
			sshconfig_note_ignored(cfg, what, file, lineno);
			free(what);
		}
	} else if (!strcasecmp(kw, "Include")) {
		if (sshconfig_include(rd, argv, argc, file, lineno, err) < 0)
			goto out;
	} else if (def) {
		raw = sshconfig_value(def, argv, argc, kw_end + strspn(kw_end, " \t=") , &why);
		if (!raw) {
			err_set(err, "%s:%d: %s", file, lineno, why.msg);
			goto out;
		}
		if (!(d = sshconfig_add(cfg, SSHCONFIG_D_OPT, fi, lineno, err)))
			goto out;
		d->kw = def->kw;
		d->argv = xreallocarray(NULL, 2, sizeof(char *));
		d->argv[0] = raw;
		d->argv[1] = NULL;
		d->argc = 1;
		raw = NULL;
	} else {
		sshconfig_note_ignored(cfg, kw, file, lineno);
	}
	r = 0;
out:
	free(kw);
	free(raw);
	sshconfig_argv_free(argv);
	return r;
}

/* The whole file, NUL-terminated, checked as ssh checks a user's file:
 * owned by us or root, writable by no one else (it may hold a
 * ProxyCommand). 1 and *text, 0 when it does not exist and need not, -1
 * with err. */
static int sshconfig_slurp(const char *path, bool must_exist, bool check_perm, char **text, size_t *len,
                           struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r = -1;
	struct stat st;
	char *buf = NULL;
	size_t n = 0;

	if (fd < 0) {
		if (errno == ENOENT && !must_exist)
			return 0;
		err_set(err, "%s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
		err_set(err, "%s: not a regular file (expected an ssh_config file)", path);
		goto out;
	}
	if (check_perm && ((st.st_uid != 0 && st.st_uid != getuid()) || (st.st_mode & 022))) {
		err_set(err, "%s: bad owner or permissions (expected owned by you or root, writable by no one else)",
		        path);
		goto out;
	}
	if (st.st_size > SSHCONFIG_MAX_FILE) {
		err_set(err, "%s: larger than %d bytes", path, SSHCONFIG_MAX_FILE);
		goto out;
	}
	buf = xmalloc((size_t)st.st_size + 1);
	while (n < (size_t)st.st_size) {
		ssize_t got = read(fd, buf + n, (size_t)st.st_size - n);
		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			err_set(err, "%s: cannot read: %s", path, strerror(errno));
			goto out;
		}
		if (got == 0)
			break;
		n += (size_t)got;
	}
	buf[n] = '\0';
	*text = buf;
	*len = n;
	buf = NULL;
	r = 1;
out:
	free(buf);
	close(fd);
	return r;
}

/* The lines of one file, between its PUSH and POP. */
static int sshconfig_lines(struct sshconfig_reader *rd, size_t fi, const char *text, size_t len, bool top,
                           struct err *err)
{
	struct sshconfig *cfg = rd->cfg;
	const char *p = text, *end = text + len;
	int lineno = 0;

	if (!sshconfig_add(cfg, SSHCONFIG_D_PUSH, fi, 0, err))
		return -1;
	cfg->dirs[cfg->ndirs - 1].top = top;
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t n = nl ? (size_t)(nl - p) : (size_t)(end - p);
		char *line;
		int rc;

		lineno++;
		if (memchr(p, '\0', n)) {
			err_set(err, "%s:%d: a NUL byte (expected text)", cfg->files[fi], lineno);
			return -1;
		}
		while (n > 0 && strchr(" \t\r\f", p[n - 1]))
			n--;
		line = xstrndup(p, n);
		rc = sshconfig_line(rd, fi, lineno, line, err);
		free(line);
		if (rc < 0)
			return -1;
		p = nl ? nl + 1 : end;
	}
	return sshconfig_add(cfg, SSHCONFIG_D_POP, fi, lineno, err) ? 0 : -1;
}

/* Read text as the file path (already resolved as real, for loops). */
static int sshconfig_read_text(struct sshconfig_reader *rd, const char *path, const char *real, const char *text,
                               size_t len, struct err *err)
{
	struct sshconfig *cfg = rd->cfg;
	int r;

	if (sshconfig_reading(rd, real)) {
		err_set(err, "%s: Include loop: the file includes itself (expected no loop)", path);
		return -1;
	}
	cfg->files = xreallocarray(cfg->files, cfg->nfiles + 1, sizeof(*cfg->files));
	cfg->files[cfg->nfiles++] = xstrdup(path);
	rd->stack[rd->nstack++] = xstrdup(real);
	r = sshconfig_lines(rd, cfg->nfiles - 1, text, len, rd->depth == 0, err);
	free(rd->stack[--rd->nstack]);
	return r;
}

static int sshconfig_read_file(struct sshconfig_reader *rd, const char *path, bool must_exist, struct err *err)
{
	/* the user's files and every included one, as ssh checks them */
	bool check_perm = rd->user || rd->depth > 0;
	char *text = NULL, *real = NULL;
	size_t len = 0;
	int r;

	r = sshconfig_slurp(path, must_exist, check_perm, &text, &len, err);
	if (r <= 0)
		return r;
	real = realpath(path, NULL);
	r = sshconfig_read_text(rd, path, real ? real : path, text, len, err);
	free(real);
	free(text);
	return r;
}

int sshconfig_parse_text(struct sshconfig *cfg, const char *name, const char *text, size_t len, bool user,
                         unsigned flags, struct err *err)
{
	struct sshconfig_reader rd = {.cfg = cfg, .user = user, .flags = flags};
	char *copy = xstrndup(text, len);
	int r;

	/* a NUL inside is an error of the text, not its end */
	if (strlen(copy) != len) {
		err_set(err, "%s: a NUL byte (expected text)", name);
		r = -1;
	} else {
		r = sshconfig_read_text(&rd, name, name, copy, len, err);
	}
	free(copy);
	return r;
}

int sshconfig_load(struct sshconfig *cfg, const char *choice, struct err *err)
{
	struct sshconfig_reader rd = {.cfg = cfg};
	const char *home = getenv("HOME");
	char *path = NULL;
	int r = -1;

	memset(cfg, 0, sizeof(*cfg));
	if (choice && !strcmp(choice, "none"))
		return 0;
	rd.user = true;
	if (choice) {
		path = !strncmp(choice, "~/", 2) ? xasprintf("%s/%s", home ? home : "", choice + 2) : xstrdup(choice);
		r = sshconfig_read_file(&rd, path, true, err);
		goto out;
	}
	if (home) {
		path = xasprintf("%s/.ssh/config", home);
		if (sshconfig_read_file(&rd, path, false, err) < 0)
			goto out;
	}
	rd.user = false;
	r = sshconfig_read_file(&rd, "/etc/ssh/ssh_config", false, err) < 0 ? -1 : 0;
out:
	free(path);
	return r;
}

bool sshconfig_sets(const struct sshconfig *cfg, enum sshconfig_kw kw)
{
	for (size_t i = 0; cfg && i < cfg->ndirs; i++)
		if (cfg->dirs[i].kind == SSHCONFIG_D_OPT && cfg->dirs[i].kw == (int)kw)
			return true;
	return false;
}

void sshconfig_free(struct sshconfig *cfg)
{
	for (size_t i = 0; i < cfg->ndirs; i++)
		sshconfig_argv_free(cfg->dirs[i].argv);
	free(cfg->dirs);
	for (size_t i = 0; i < cfg->nfiles; i++)
		free(cfg->files[i]);
	free(cfg->files);
	buf_free(&cfg->ignored);
	buf_free(&cfg->ignored_names);
	memset(cfg, 0, sizeof(*cfg));
}

const char *sshconfig_ignored(const struct sshconfig *cfg)
{
	return cfg->ignored.data ? cfg->ignored.data : "";
}
