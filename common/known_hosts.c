/* known_hosts: see known_hosts.h.
 *
 * Written by hand rather than with libssh2's knownhost API: libssh2 1.10
 * (Debian 12) stops reading at the first line it cannot parse, so a long
 * line, an unknown key type or a @cert-authority line hid the entries
 * after it, and it cannot tell "no entry" from "an entry we could not
 * read". The format is small; OpenSSH's hostfile.c and match.c are the
 * reference for what it means. */
#include "known_hosts.h"

#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/params.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "log.h"

#define KH_SHA1_LEN 20

char *kh_name(const char *address, const char *port)
{
	long p = port ? strtol(port, NULL, 10) : 22;
	char *name = p == 22 ? xstrdup(address) : xasprintf("[%s]:%ld", address, p);

	for (char *c = name; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	return name;
}

/* Strict base64 (what ssh-keygen writes): the alphabet, '=' padding only
 * at the end, a length that is a multiple of 4. 0 and *out (malloced), or
 * -1. */
static int kh_b64_decode(const char *s, size_t n, unsigned char **out, size_t *outlen)
{
	unsigned char *o = NULL;
	size_t k = 0, pad = 0;
	int r = -1;

	if (n == 0 || n % 4 != 0)
		goto out;
	o = xmalloc(n / 4 * 3);
	for (size_t i = 0; i < n; i += 4) {
		uint32_t acc = 0;
		for (size_t j = 0; j < 4; j++) {
			char c = s[i + j];
			int v;
			if (c >= 'A' && c <= 'Z')
				v = c - 'A';
			else if (c >= 'a' && c <= 'z')
				v = c - 'a' + 26;
			else if (c >= '0' && c <= '9')
				v = c - '0' + 52;
			else if (c == '+')
				v = 62;
			else if (c == '/')
				v = 63;
			else if (c == '=' && i + 4 == n && j >= 2 && (j == 3 || s[i + 3] == '='))
				v = -1;
			else
				goto out;
			if (v < 0)
				pad++;
			else if (pad)
				goto out; /* data after padding */
			acc = acc << 6 | (uint32_t)(v < 0 ? 0 : v);
		}
		o[k++] = (unsigned char)(acc >> 16);
		o[k++] = (unsigned char)(acc >> 8);
		o[k++] = (unsigned char)acc;
	}
	*outlen = k - pad;
	*out = o;
	o = NULL;
	r = 0;
out:
	free(o);
	return r;
}

/* A glob with * and ?, case-insensitive (the name is lower case already),
 * iterative so a pattern of many stars cannot blow up. */
static bool kh_glob(const char *s, const char *p, size_t plen)
{
	size_t si = 0, pi = 0, star = SIZE_MAX, mark = 0, slen = strlen(s);

	while (si < slen) {
		if (pi < plen && (p[pi] == '?' || tolower((unsigned char)p[pi]) == (unsigned char)s[si])) {
			si++;
			pi++;
		} else if (pi < plen && p[pi] == '*') {
			star = pi++;
			mark = si;
		} else if (star != SIZE_MAX) {
			pi = star + 1;
			si = ++mark;
		} else {
			return false;
		}
	}
	while (pi < plen && p[pi] == '*')
		pi++;
	return pi == plen;
}

/* HMAC-SHA1 with one reused EVP_MAC context: HMAC() fetches the
 * algorithm on every call, ~5 us, which a known_hosts of thousands of
 * hashed lines pays per host. */
static bool kh_hmac_sha1(const unsigned char *key, size_t klen, const char *msg, unsigned char out[KH_SHA1_LEN])
{
	static EVP_MAC_CTX *ctx;
	size_t n = 0;

	if (!ctx) {
		EVP_MAC *mac = EVP_MAC_fetch(NULL, "HMAC", NULL);
		OSSL_PARAM params[] = {OSSL_PARAM_construct_utf8_string("digest", (char *)"SHA1", 0),
		                       OSSL_PARAM_construct_end()};
		if (!mac)
			return false;
		ctx = EVP_MAC_CTX_new(mac);
		EVP_MAC_free(mac);
		if (!ctx)
			return false;
		if (!EVP_MAC_CTX_set_params(ctx, params)) {
			EVP_MAC_CTX_free(ctx);
			ctx = NULL;
			return false;
		}
	}
	return EVP_MAC_init(ctx, key, klen, NULL) && EVP_MAC_update(ctx, (const unsigned char *)msg, strlen(msg)) &&
	       EVP_MAC_final(ctx, out, &n, KH_SHA1_LEN) && n == KH_SHA1_LEN;
}

/* Decode a hashed host field |1|salt|hash into e; patterns leave it 0. */
static void kh_hashed_decode(struct kh_entry *e)
{
	const char *salt, *bar;
	unsigned char *h = NULL;
	size_t hlen = 0;

	if (!e->hosts || strncmp(e->hosts, "|1|", 3) != 0)
		return;
	e->hashed = -1;
	salt = e->hosts + 3;
	bar = strchr(salt, '|');
	if (bar && kh_b64_decode(salt, (size_t)(bar - salt), &e->salt, &e->saltlen) == 0 &&
	    kh_b64_decode(bar + 1, strlen(bar + 1), &h, &hlen) == 0 && hlen == KH_SHA1_LEN && e->saltlen > 0) {
		memcpy(e->hash, h, KH_SHA1_LEN);
		e->hashed = 1;
	}
	free(h);
	if (e->hashed < 0) {
		free(e->salt);
		e->salt = NULL;
	}
}

/* 1: the field names the host; 0: it does not. */
static int kh_patterns_match(const char *hosts, const char *name)
{
	/* OpenSSH's match_hostname: a negated pattern that matches rules the
	 * line out whatever else matches */
	int got = 0;
	for (const char *p = hosts; *p;) {
		size_t len = strcspn(p, ",");
		bool neg = *p == '!';

		if (len > (neg ? 1u : 0u) && kh_glob(name, p + neg, len - neg)) {
			if (neg)
				return 0;
			got = 1;
		}
		p += len;
		if (*p == ',')
			p++;
	}
	return got;
}

/* 1: the entry names the host; 0: it does not; -1: it cannot be told (a
 * hashed name we cannot decode, a line without a host field). */
static int kh_entry_match(const struct kh_entry *e, const char *name)
{
	unsigned char md[KH_SHA1_LEN];

	if (!e->hosts || e->hashed < 0)
		return -1;
	if (e->hashed > 0)
		return kh_hmac_sha1(e->salt, e->saltlen, name, md) ? !CRYPTO_memcmp(md, e->hash, KH_SHA1_LEN) : -1;
	return kh_patterns_match(e->hosts, name);
}

bool kh_hosts_match(const char *hosts, const char *name)
{
	struct kh_entry e = {.hosts = (char *)hosts};
	int m;

	kh_hashed_decode(&e);
	m = kh_entry_match(&e, name);
	free(e.salt);
	return m == 1;
}

void kh_entry_free(struct kh_entry *e)
{
	free(e->hosts);
	free(e->type);
	free(e->blob);
	free(e->salt);
	memset(e, 0, sizeof(*e));
}

/* The next whitespace-separated token at *p: its start and length. */
static size_t kh_token(const char **p, const char *end, const char **tok)
{
	const char *s = *p, *t;

	while (s < end && (*s == ' ' || *s == '\t'))
		s++;
	t = s;
	while (t < end && *t != ' ' && *t != '\t')
		t++;
	*tok = s;
	*p = t;
	return (size_t)(t - s);
}

int kh_parse_line(const char *line, size_t len, size_t lineno, struct kh_entry *e, struct err *err)
{
	const char *p = line, *end = line + len, *tok;
	unsigned char *blob = NULL;
	size_t n, bloblen = 0, tlen;
	uint32_t inner;
	int r = -1;

	memset(e, 0, sizeof(*e));
	e->line = lineno;
	while (end > p && (end[-1] == '\r' || end[-1] == ' ' || end[-1] == '\t'))
		end--;
	n = kh_token(&p, end, &tok);
	if (n == 0 || *tok == '#')
		return 0;
	if (memchr(line, '\0', len)) {
		err_set(err, "a NUL byte in the line");
		goto out;
	}
	if (*tok == '@') {
		if (n == 15 && !memcmp(tok, "@cert-authority", 15))
			e->marker = KH_MARK_CA;
		else if (n == 8 && !memcmp(tok, "@revoked", 8))
			e->marker = KH_MARK_REVOKED;
		else {
			/* the host field still says which hosts it is about */
			if ((n = kh_token(&p, end, &tok)) > 0)
				e->hosts = xstrndup(tok, n);
			err_set(err, "unknown marker (expected @cert-authority or @revoked)");
			goto out;
		}
		n = kh_token(&p, end, &tok);
		if (n == 0) {
			err_set(err, "a marker and nothing else (expected host patterns, key type and key)");
			goto out;
		}
	}
	e->hosts = xstrndup(tok, n);
	tlen = kh_token(&p, end, &tok);
	if (tlen == 0) {
		err_set(err, "no key type after the host field");
		goto out;
	}
	e->type = xstrndup(tok, tlen);
	n = kh_token(&p, end, &tok);
	if (n == 0) {
		err_set(err, "no key after key type %s", e->type);
		goto out;
	}
	if (kh_b64_decode(tok, n, &blob, &bloblen) < 0) {
		err_set(err, "the key is not base64");
		goto out;
	}
	/* the key names its own type first; it must be the one the line says */
	inner = bloblen >= 4 ? (uint32_t)blob[0] << 24 | (uint32_t)blob[1] << 16 | (uint32_t)blob[2] << 8 | blob[3]
	                     : UINT32_MAX;
	if (inner != tlen || bloblen - 4 < tlen || memcmp(blob + 4, e->type, tlen) != 0) {
		err_set(err, "the key is not a %s key", e->type);
		goto out;
	}
	e->blob = blob;
	e->bloblen = bloblen;
	blob = NULL;
	r = 1;
out:
	free(blob);
	kh_hashed_decode(e);
	if (r < 0) {
		/* a line we cannot read keeps its host field, so the host it
		 * names is never taken for an unknown one */
		free(e->type);
		e->type = NULL;
	}
	return r;
}

void kh_free(struct kh_file *f)
{
	for (size_t i = 0; i < f->n; i++)
		kh_entry_free(&f->v[i]);
	free(f->v);
	free(f->path);
	free(f->memo_name);
	free(f->memo);
	memset(f, 0, sizeof(*f));
}

static void kh_push(struct kh_file *f, struct kh_entry *e)
{
	if (f->n == f->cap) {
		f->cap = f->cap ? f->cap * 2 : 64;
		f->v = xreallocarray(f->v, f->cap, sizeof(*f->v));
	}
	f->v[f->n++] = *e;
	memset(e, 0, sizeof(*e));
}

int kh_load(struct kh_file *f, const char *path, bool recheck)
{
	struct stat st;
	bool exists;
	FILE *fp = NULL;
	char *line = NULL;
	size_t cap = 0, lineno = 0, bad = 0, first_bad = 0;
	ssize_t len;
	struct err first_err = {""};

	if (f->path && !strcmp(f->path, path) && !recheck)
		return 0;
	exists = stat(path, &st) == 0;
	if (f->path && !strcmp(f->path, path) && exists == f->exists &&
	    (!exists || (st.st_dev == f->dev && st.st_ino == f->ino && st.st_size == f->size &&
	                 st.st_mtim.tv_sec == f->mtime.tv_sec && st.st_mtim.tv_nsec == f->mtime.tv_nsec)))
		return 0;
	kh_free(f);
	f->path = xstrdup(path);
	f->exists = exists;
	if (!exists)
		return 1;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	f->size = st.st_size;
	f->mtime = st.st_mtim;
	if (!(fp = fopen(path, "re"))) {
		/* unreadable: every host is one we could not check, never an
		 * unknown one (an entry of no host field says so) */
		struct kh_entry e = {.line = 0};
		log_warn("%s: %s", path, strerror(errno));
		kh_push(f, &e);
		return 1;
	}
	/* no line length limit: a host with hundreds of aliases is a valid
	 * line, and getline grows the buffer as OpenSSH does */
	while ((len = getline(&line, &cap, fp)) >= 0) {
		struct kh_entry e;
		struct err err;
		int rc;

		lineno++;
		if (len > 0 && line[len - 1] == '\n')
			len--;
		rc = kh_parse_line(line, (size_t)len, lineno, &e, &err);
		if (rc < 0 && !bad++) {
			first_bad = lineno;
			first_err = err;
		}
		if (rc != 0)
			kh_push(f, &e);
	}
	if (bad)
		log_warn("%s:%zu: cannot read this line (%s); skipped with %zu more, the rest is read", path,
		         first_bad, first_err.msg, bad - 1);
	free(line);
	fclose(fp);
	return 1;
}

/* The entries that may concern name, found once per host. */
static void kh_lookup(struct kh_file *f, const char *name)
{
	if (f->memo_name && !strcmp(f->memo_name, name))
		return;
	free(f->memo_name);
	f->memo_name = xstrdup(name);
	f->nmemo = 0;
	for (size_t i = 0; i < f->n; i++) {
		int m = kh_entry_match(&f->v[i], name);
		if (m == 0)
			continue;
		if (f->nmemo == f->memocap) {
			f->memocap = f->memocap ? f->memocap * 2 : 8;
			f->memo = xreallocarray(f->memo, f->memocap, sizeof(*f->memo));
		}
		f->memo[f->nmemo++] = (struct kh_hit){i, m};
	}
}

enum kh_verdict kh_check(struct kh_file *f, const char *name, const void *key, size_t len, size_t *line)
{
	size_t match = 0, known = 0, unreadable = 0;

	kh_lookup(f, name);
	for (size_t k = 0; k < f->nmemo; k++) {
		const struct kh_entry *e = &f->v[f->memo[k].idx];

		if (f->memo[k].m < 0 || !e->type) {
			/* a line that could be this host's but cannot be used */
			if (!unreadable)
				unreadable = e->line ? e->line : SIZE_MAX;
			continue;
		}
		bool same = e->bloblen == len && !memcmp(e->blob, key, len);
		if (e->marker == KH_MARK_REVOKED) {
			if (same) {
				*line = e->line;
				return KH_REVOKED;
			}
			continue;
		}
		/* a CA names the host but vouches only for certificates,
		 * which this client does not take: the host is known and a
		 * plain key is not among its keys */
		if (!known)
			known = e->line;
		if (e->marker == KH_MARK_NONE && same && !match)
			match = e->line;
	}
	if (match) {
		*line = match;
		return KH_MATCH;
	}
	if (known) {
		*line = known;
		return KH_CHANGED;
	}
	if (unreadable) {
		*line = unreadable == SIZE_MAX ? 0 : unreadable;
		return KH_UNREADABLE;
	}
	*line = 0;
	return KH_UNKNOWN;
}

bool kh_has_type(struct kh_file *f, const char *name, const char *type)
{
	kh_lookup(f, name);
	for (size_t k = 0; k < f->nmemo; k++) {
		const struct kh_entry *e = &f->v[f->memo[k].idx];
		if (f->memo[k].m > 0 && e->type && e->marker == KH_MARK_NONE && !strcmp(e->type, type))
			return true;
	}
	return false;
}

/* Is name one host, as kh_name writes it, with nothing known_hosts would
 * read as a pattern, a list, a hash or a marker? */
static bool kh_name_is_literal(const char *name)
{
	size_t n = strlen(name);
	const char *close;

	if (n > 0 && name[0] == '[') {
		close = strrchr(name, ']');
		if (!close || close[1] != ':' || !close[2] || strspn(close + 2, "0123456789") != strlen(close + 2))
			return false;
		n = (size_t)(close - name) - 1;
		name++;
	}
	if (n == 0 || name[0] == '@' || name[0] == '#')
		return false;
	for (size_t i = 0; i < n; i++)
		if (strchr(",*?!|[] \t#", name[i]) || (unsigned char)name[i] < 0x20 || name[i] == 0x7f)
			return false;
	return true;
}

int kh_line_check(const char *line, size_t len, const char *name, struct err *err)
{
	struct kh_entry e;
	size_t spaces = 0;
	int r = -1;

	memset(&e, 0, sizeof(e));
	if (memchr(line, '\n', len) || memchr(line, '\r', len) || memchr(line, '\0', len)) {
		err_set(err, "more than one line");
		goto out;
	}
	if (kh_parse_line(line, len, 1, &e, err) != 1)
		goto out;
	for (size_t i = 0; i < len; i++)
		spaces += line[i] == ' ';
	/* exactly "host type key", single spaces: what the worker writes */
	if (spaces != 2 || line[0] == ' ' || line[len - 1] == ' ' || memchr(line, '\t', len)) {
		err_set(err, "expected 'host type key'");
		goto out;
	}
	if (e.marker != KH_MARK_NONE || strcmp(e.hosts, name) != 0) {
		err_set(err, "the entry is not for %s", name);
		goto out;
	}
	/* inventories are data: an address such as "*" or "a,b" would be
	 * written as patterns vouching for the key on other hosts */
	if (!kh_name_is_literal(name)) {
		err_set(err, "%s is not a plain host name (no patterns, lists or markers)", name);
		goto out;
	}
	r = 0;
out:
	kh_entry_free(&e);
	return r;
}
