/* sshconfig_resolve: see sshconfig.h; resolving one host against the
 * directives sshconfig.c read: which Host and Match blocks apply (ssh's
 * match.c patterns), which values are taken (the first; IdentityFile
 * collects), and the ~ and %-tokens of what is taken. */
#include <ctype.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "buf.h"
#include "sshconfig.h"
#include "sshconfig_dir.h"

/* ------------------------------------------------------------ patterns */

/* ssh's match_pattern: '*' any run, '?' one character, case as given.
 * Greedy with one backtrack point: linear in practice, never
 * exponential on hostile patterns. */
static bool sshconfig_glob(const char *s, const char *p)
{
	const char *star = NULL, *resume = NULL;

	while (*s) {
		if (*p == '*') {
			star = ++p;
			resume = s;
		} else if (*p == '?' || *p == *s) {
			p++;
			s++;
		} else if (star) {
			p = star;
			s = ++resume;
		} else {
			return false;
		}
	}
	while (*p == '*')
		p++;
	return !*p;
}

/* ssh's match_pattern_list: a comma list of patterns, each maybe
 * negated; a negated one that matches makes the whole list false. With
 * fold, the string and patterns compare in lowercase (host names). */
static bool sshconfig_list_match(const char *s, const char *list, bool fold)
{
	char *str = xstrdup(s), *pats = xstrdup(list), *save = NULL;
	bool got = false, neg_hit = false;

	if (fold) {
		for (char *c = str; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		for (char *c = pats; *c; c++)
			*c = (char)tolower((unsigned char)*c);
	}
	for (char *pat = strtok_r(pats, ",", &save); pat && !neg_hit; pat = strtok_r(NULL, ",", &save)) {
		bool neg = *pat == '!';
		if (sshconfig_glob(str, pat + neg)) {
			if (neg)
				neg_hit = true;
			else
				got = true;
		}
	}
	free(str);
	free(pats);
	return got && !neg_hit;
}

/* ------------------------------------------------------------ resolving */

/* What the %-tokens stand for. */
struct sshconfig_tokens {
	const char *d, *u, *h, *r, *p, *n, *l, *L;
	char i[24];
};

static const char *sshconfig_token(const struct sshconfig_tokens *t, char c)
{
	switch (c) {
	case 'd': return t->d;
	case 'u': return t->u;
	case 'h': return t->h;
	case 'r': return t->r;
	case 'p': return t->p;
	case 'n': return t->n;
	case 'l': return t->l;
	case 'L': return t->L;
	case 'i': return t->i;
	default: return NULL;
	}
}

/* in with its %-tokens (those in allowed) replaced; for a path, a
 * leading ~ is $HOME and a token other than %d must not be empty, '.',
 * '..' or hold a '/': a host or user name never climbs out of the
 * directory the config names. Malloced, or NULL with why. */
static char *sshconfig_expand(const char *in, const struct sshconfig_tokens *t, const char *allowed, bool path,
                              struct err *why)
{
	struct buf b = BUF_INIT;
	const char *s = in;

	buf_puts(&b, "");
	if (path && s[0] == '~' && (s[1] == '/' || !s[1])) {
		buf_puts(&b, t->d);
		s++;
	} else if (path && s[0] == '~') {
		err_set(why, "'%.200s': ~user is not supported (expected ~/ or an absolute path)", in);
		goto fail;
	}
	for (; *s; s++) {
		const char *v;

		if (path && s[0] == '$' && s[1] == '{') {
			err_set(why, "'%.200s': ${...} (environment) is not supported", in);
			goto fail;
		}
		if (*s != '%') {
			buf_putc(&b, *s);
			continue;
		}
		if (s[1] == '%') {
			buf_putc(&b, '%');
			s++;
			continue;
		}
		if (!s[1] || !strchr(allowed, s[1]) || !(v = sshconfig_token(t, s[1]))) {
			err_set(why, "'%.200s': unknown token %%%c (expected one of %%%% %s)", in, s[1] ? s[1] : ' ',
			        allowed);
			goto fail;
		}
		if (path && s[1] != 'd' && (!*v || !strcmp(v, ".") || !strcmp(v, "..") || strchr(v, '/'))) {
			err_set(why, "'%.200s': %%%c is '%.64s', which cannot be part of a file name", in, s[1], v);
			goto fail;
		}
		buf_puts(&b, v);
		s++;
	}
	return buf_steal(&b);
fail:
	buf_free(&b);
	return NULL;
}

/* The walk's state for one host. */
struct sshconfig_walk {
	const struct sshconfig *cfg;
	const struct sshconfig_query *q;
	char *host_lc;         /* q->host in lowercase: Host lines match it */
	const struct sshconfig_dir **ids; /* IdentityFile directives, in order */
	size_t nids;
	const struct sshconfig_dir *set[SSHCONFIG_KW_COUNT]; /* the value taken */
};

/* The target host name so far, as Match host sees it (lowercase). */
static char *sshconfig_walk_hostname(const struct sshconfig_walk *w)
{
	const struct sshconfig_dir *hn = w->set[SSHCONFIG_HOSTNAME];
	struct sshconfig_tokens t = {.h = w->host_lc};
	struct err why;
	char *s;

	if (w->q->hostname)
		return xstrdup(w->q->hostname);
	if (!hn || !(s = sshconfig_expand(hn->argv[0], &t, "h", false, &why)))
		return xstrdup(w->host_lc);
	for (char *c = s; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return s;
}

/* One criterion of a Match line. */
static bool sshconfig_criterion(const struct sshconfig_walk *w, const char *crit, const char *arg)
{
	const struct sshconfig_query *q = w->q;
	const struct sshconfig_dir *u = w->set[SSHCONFIG_USER];
	bool r = false;

	if (!strcasecmp(crit, "all")) {
		r = true;
	} else if (!strcasecmp(crit, "host")) {
		char *hn = sshconfig_walk_hostname(w);
		r = sshconfig_list_match(hn, arg, true);
		free(hn);
	} else if (!strcasecmp(crit, "originalhost")) {
		r = sshconfig_list_match(q->host, arg, false);
	} else if (!strcasecmp(crit, "user")) {
		r = sshconfig_list_match(q->user ? q->user : u ? u->argv[0] : q->local_user, arg, false);
	} else if (!strcasecmp(crit, "localuser")) {
		r = sshconfig_list_match(q->local_user, arg, false);
	}
	return r;
}

static bool sshconfig_match(const struct sshconfig_walk *w, const struct sshconfig_dir *d)
{
	for (size_t i = 0; i < d->argc;) {
		bool neg = d->argv[i][0] == '!';
		const char *crit = d->argv[i] + neg;
		bool noarg = !strcasecmp(crit, "all");

		if (sshconfig_criterion(w, crit, noarg ? "" : d->argv[i + 1]) == neg)
			return false;
		i += noarg ? 1 : 2;
	}
	return true;
}

/* A Host line: one of its patterns matches the host, and none of its
 * negated ones. */
static bool sshconfig_host_line(const struct sshconfig_walk *w, const struct sshconfig_dir *d)
{
	bool got = false;

	for (size_t i = 0; i < d->argc; i++) {
		bool neg = d->argv[i][0] == '!';
		if (sshconfig_glob(w->host_lc, d->argv[i] + neg)) {
			if (neg)
				return false;
			got = true;
		}
	}
	return got;
}

/* An option in a block that applies: the first value wins (IdentityFile
 * collects them); ProxyJump and ProxyCommand exclude each other. */
static int sshconfig_take(struct sshconfig_walk *w, const struct sshconfig_dir *d, struct err *err)
{
	if (d->kw == SSHCONFIG_IDENTITYFILE) {
		if (w->nids >= SSHCONFIG_MAX_IDENTITIES) {
			err_set(err, "%s:%d: more than %d IdentityFile values", w->cfg->files[d->file], d->line,
			        SSHCONFIG_MAX_IDENTITIES);
			return -1;
		}
		w->ids = xreallocarray(w->ids, w->nids + 1, sizeof(*w->ids));
		w->ids[w->nids++] = d;
		return 0;
	}
	if (w->set[d->kw] || (d->kw == SSHCONFIG_PROXYJUMP && w->set[SSHCONFIG_PROXYCOMMAND]) ||
	    (d->kw == SSHCONFIG_PROXYCOMMAND && w->set[SSHCONFIG_PROXYJUMP]))
		return 0;
	w->set[d->kw] = d;
	return 0;
}

/* Walk the directives: which blocks apply, which values are taken. */
static int sshconfig_walk(struct sshconfig_walk *w, struct err *err)
{
	/* per file level: is the block active, and must its blocks never
	 * match (an Include inside a block that does not apply) */
	struct {
		bool active, never;
	} st[SSHCONFIG_MAX_DEPTH + 4];
	int top = 0;
	bool active = true, never = false;

	for (size_t i = 0; i < w->cfg->ndirs; i++) {
		const struct sshconfig_dir *d = &w->cfg->dirs[i];

		switch (d->kind) {
		case SSHCONFIG_D_PUSH:
			if (top >= (int)ARRAY_LEN(st))
				abort(); /* reading bounds the depth */
			st[top].active = active;
			st[top++].never = never;
			if (d->top) {
				active = true;
				never = false;
			} else {
				never = never || !active;
			}
			break;
		case SSHCONFIG_D_POP:
			if (top > 0) {
				active = st[--top].active;
				never = st[top].never;
			}
			break;
		case SSHCONFIG_D_HOST:
			active = !never && sshconfig_host_line(w, d);
			break;
		case SSHCONFIG_D_MATCH:
			active = !never && !d->never && sshconfig_match(w, d);
			break;
		case SSHCONFIG_D_OPT:
			if (active && sshconfig_take(w, d, err) < 0)
				return -1;
			break;
		}
	}
	return 0;
}

/* The value of d for the result: HostName with %h (lowercase, as ssh
 * has it), the files with ~ and their tokens, the rest as read. */
static char *sshconfig_final(const struct sshconfig_walk *w, const struct sshconfig_dir *d,
                             const struct sshconfig_tokens *t, struct err *err)
{
	const char *paths = "dhnprulLi";
	struct err why;
	char *v = NULL;

	if (d->kw == SSHCONFIG_HOSTNAME) {
		/* %h here is the host as named, not the HostName it makes */
		struct sshconfig_tokens th = {.h = w->host_lc};
		v = sshconfig_expand(d->argv[0], &th, "h", false, &why);
		for (char *c = v; c && *c; c++)
			*c = (char)tolower((unsigned char)*c);
	} else if (d->kw == SSHCONFIG_IDENTITYFILE) {
		v = sshconfig_expand(d->argv[0], t, paths, true, &why);
	} else if (d->kw == SSHCONFIG_USERKNOWNHOSTSFILE) {
		struct buf b = BUF_INIT;
		char **files = NULL;
		size_t n = 0;

		/* read as one value, split again: each file on its own */
		if (sshconfig_split(d->argv[0], &files, &n) == 0) {
			for (size_t i = 0; i < n; i++) {
				char *f = sshconfig_expand(files[i], t, paths, true, &why);
				if (!f) {
					buf_free(&b);
					break;
				}
				buf_printf(&b, "%s%s", i ? " " : "", f);
				free(f);
			}
			v = b.data ? buf_steal(&b) : NULL;
			sshconfig_argv_free(files);
		} else {
			err_set(&why, "unterminated quote");
		}
	} else {
		v = xstrdup(d->argv[0]);
	}
	if (!v)
		err_set(err, "%s:%d: %s %s", w->cfg->files[d->file], d->line, sshconfig_kw_name(d->kw), why.msg);
	return v;
}

/* The first of UserKnownHostsFile's files, expanded (sshconfig_final
 * checked them all). */
static char *sshconfig_final_first(const struct sshconfig_walk *w, const struct sshconfig_dir *d,
                                   const struct sshconfig_tokens *t)
{
	char **files = NULL, *f = NULL;
	size_t n = 0;
	struct err why;

	(void)w;
	if (sshconfig_split(d->argv[0], &files, &n) == 0 && n > 0)
		f = sshconfig_expand(files[0], t, "dhnprulLi", true, &why);
	sshconfig_argv_free(files);
	return f;
}

int sshconfig_resolve(const struct sshconfig *cfg, const struct sshconfig_query *q, struct sshconfig_host *out,
                      struct err *err)
{
	struct sshconfig_walk w = {.cfg = cfg, .q = q};
	struct sshconfig_host h = {0};
	struct sshconfig_tokens t = {0};
	const char *home = getenv("HOME");
	char lhost[256] = "", *hostname = NULL, *dot;
	struct passwd *pw = q->local_user ? NULL : getpwuid(getuid());
	struct sshconfig_query qq = *q;
	int r = -1;

	if (!qq.local_user)
		qq.local_user = pw ? pw->pw_name : "root";
	q = &qq;
	w.q = q;
	w.host_lc = xstrdup(q->host);
	for (char *c = w.host_lc; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	if (sshconfig_walk(&w, err) < 0)
		goto out;
	/* the tokens are the connection's final values: what is given,
	 * else what the config says, else ssh's defaults */
	hostname = sshconfig_walk_hostname(&w);
	gethostname(lhost, sizeof(lhost) - 1);
	t.d = home ? home : "";
	t.u = q->local_user;
	t.h = hostname;
	t.r = q->user ? q->user : w.set[SSHCONFIG_USER] ? w.set[SSHCONFIG_USER]->argv[0] : t.u;
	t.p = q->port ? q->port : w.set[SSHCONFIG_PORT] ? w.set[SSHCONFIG_PORT]->argv[0] : "22";
	t.n = q->host;
	t.l = lhost;
	t.L = lhost;
	if ((dot = strchr(lhost, '.')))
		t.L = xstrndup(lhost, (size_t)(dot - lhost));
	snprintf(t.i, sizeof(t.i), "%u", (unsigned)getuid());
	for (int k = 0; k < SSHCONFIG_KW_COUNT; k++) {
		const struct sshconfig_dir *d = w.set[k];
		if (!d)
			continue;
		if (!(h.val[k] = sshconfig_final(&w, d, &t, err)))
			goto out;
		if (k == SSHCONFIG_USERKNOWNHOSTSFILE)
			h.known_hosts = sshconfig_final_first(&w, d, &t);
		h.where[k] = xasprintf("%s:%d", cfg->files[d->file], d->line);
	}
	h.identity_files = xreallocarray(NULL, w.nids + 1, sizeof(char *));
	h.identity_where = xreallocarray(NULL, w.nids + 1, sizeof(char *));
	for (size_t i = 0; i < w.nids; i++) {
		if (!(h.identity_files[i] = sshconfig_final(&w, w.ids[i], &t, err)))
			goto out;
		h.identity_where[i] = xasprintf("%s:%d", cfg->files[w.ids[i]->file], w.ids[i]->line);
		h.nidentity_files++;
	}
	if (w.nids)
		h.where[SSHCONFIG_IDENTITYFILE] = xstrdup(h.identity_where[0]);
	*out = h;
	memset(&h, 0, sizeof(h));
	r = 0;
out:
	sshconfig_host_free(&h);
	if (t.L != lhost)
		free((char *)t.L);
	free(hostname);
	free(w.host_lc);
	free(w.ids);
	return r;
}

void sshconfig_host_free(struct sshconfig_host *h)
{
	for (int k = 0; k < SSHCONFIG_KW_COUNT; k++) {
		free(h->val[k]);
		free(h->where[k]);
	}
	free(h->known_hosts);
	for (size_t i = 0; i < h->nidentity_files; i++) {
		free(h->identity_files[i]);
		free(h->identity_where[i]);
	}
	free(h->identity_files);
	free(h->identity_where);
	memset(h, 0, sizeof(*h));
}

int sshconfig_host_ms(const struct sshconfig_host *h, enum sshconfig_kw kw, int64_t *ms)
{
	const char *v = h->val[kw];

	if (!v || !strcmp(v, "none"))
		return -1;
	*ms = (int64_t)strtoll(v, NULL, 10) * 1000;
	return 0;
}

int sshconfig_host_policy(const struct sshconfig_host *h)
{
	const char *v = h->val[SSHCONFIG_STRICTHOSTKEYCHECKING];

	if (!v)
		return -1;
	/* ask cannot ask anyone in a batch run: as strict. no/off would
	 * take any key, a changed one too: fleetrun takes new ones only. */
	if (!strcmp(v, "true") || !strcmp(v, "ask"))
		return 0; /* HOSTKEY_STRICT */
	return 1;         /* HOSTKEY_ACCEPT_NEW */
}
