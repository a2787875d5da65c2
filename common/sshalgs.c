/* sshalgs: see sshalgs.h. Written by hand: the spec grammar is OpenSSH's
 * (kex_assemble_names in its kex.c), which no library exports, and the
 * tables are this project's reading of what libssh2 1.11.1 supports
 * (libssh2_session_supported_algs, checked by the worker at run time:
 * worker/ssh_algs.c never passes libssh2 a name it does not list).
 *
 * Each table is in the order names are offered: the default ones first,
 * in OpenSSH 9.x's order, then the rest. pubkey shares the host key
 * table (the same names), with a default of its own. A pattern expands in that order
 * too, as OpenSSH expands one against its list of all names. */
#include "sshalgs.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"

struct sshalgs_alg {
	const char *name;
	unsigned dflt;    /* SSHALGS_IN(m) of each method whose default has it */
	const char *weak; /* NULL, or why it is weak */
};

#define SSHALGS_IN(m) (1u << (m))
/* a default of its own table; the host key table's is also pubkey's */
#define SSHALGS_D SSHALGS_IN(SSHALGS_NMETHODS)
#define SSHALGS_HOSTKEY_AND_PUBKEY (SSHALGS_D | SSHALGS_IN(SSHALGS_PUBKEY))

/* Why each weak name is weak, once: several names share a reason. */
#define SSHALGS_SHA1_DH                                                                                            \
	"its exchange hash is SHA-1, whose collisions are practical (SHAttered 2017, chosen-prefix 2020); OpenSSH " \
	"no longer offers it by default"
#define SSHALGS_SHA1_SIG                                                                                      \
	"RSA signatures with SHA-1, whose chosen-prefix collisions are practical (SHA-1 is a Shambles, 2020); " \
	"OpenSSH 8.8 disabled it by default"
#define SSHALGS_CBC                                                                                            \
	"CBC mode as SSH uses it leaks plaintext (Albrecht, Paterson, Watson 2009); OpenSSH dropped CBC from its " \
	"client defaults in 7.2"
#define SSHALGS_64BIT "a 64-bit block cipher in CBC mode: birthday collisions after a few GB (Sweet32, 2016)"
#define SSHALGS_RC4 "RC4, whose keystream biases are exploitable (RFC 7465 prohibits it in TLS); gone from OpenSSH"

static const struct sshalgs_alg sshalgs_kex[] = {
	{"curve25519-sha256", SSHALGS_D, NULL},
	{"curve25519-sha256@libssh.org", SSHALGS_D, NULL},
	{"ecdh-sha2-nistp256", SSHALGS_D, NULL},
	{"ecdh-sha2-nistp384", SSHALGS_D, NULL},
	{"ecdh-sha2-nistp521", SSHALGS_D, NULL},
	{"diffie-hellman-group-exchange-sha256", SSHALGS_D, NULL},
	{"diffie-hellman-group16-sha512", SSHALGS_D, NULL},
	{"diffie-hellman-group18-sha512", SSHALGS_D, NULL},
	{"diffie-hellman-group14-sha256", SSHALGS_D, NULL},
	{"diffie-hellman-group14-sha1", 0, SSHALGS_SHA1_DH},
	{"diffie-hellman-group1-sha1", 0,
	 "a 1024-bit prime shared by every server (Logjam, 2015: within reach of precomputation) and a SHA-1 "
	 "exchange hash; OpenSSH 7.0 disabled it"},
	{"diffie-hellman-group-exchange-sha1", 0,
	 SSHALGS_SHA1_DH "; the server also chooses the group, possibly a small one"},
};

/* Host key algorithms, and the same names as PubkeyAcceptedAlgorithms
 * (libssh2 applies that list to RSA keys only: which signature an RSA key
 * signs with; other key types sign as their type). Host certificates are
 * known to libssh2 but not in the host key default: fleetrun checks a
 * host key against known_hosts lines, not @cert-authority ones, so a
 * certificate would only ever be an unknown key. */
static const struct sshalgs_alg sshalgs_hostkey[] = {
	{"ssh-ed25519", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"ecdsa-sha2-nistp256", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"ecdsa-sha2-nistp384", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"ecdsa-sha2-nistp521", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"rsa-sha2-512", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"rsa-sha2-256", SSHALGS_HOSTKEY_AND_PUBKEY, NULL},
	{"ssh-ed25519-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"ecdsa-sha2-nistp256-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"ecdsa-sha2-nistp384-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"ecdsa-sha2-nistp521-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"rsa-sha2-512-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"rsa-sha2-256-cert-v01@openssh.com", SSHALGS_IN(SSHALGS_PUBKEY), NULL},
	{"ssh-rsa", 0, SSHALGS_SHA1_SIG},
	{"ssh-rsa-cert-v01@openssh.com", 0, SSHALGS_SHA1_SIG},
};

static const struct sshalgs_alg sshalgs_ciphers[] = {
	{"chacha20-poly1305@openssh.com", SSHALGS_D, NULL},
	{"aes128-ctr", SSHALGS_D, NULL},
	{"aes192-ctr", SSHALGS_D, NULL},
	{"aes256-ctr", SSHALGS_D, NULL},
	{"aes128-gcm@openssh.com", SSHALGS_D, NULL},
	{"aes256-gcm@openssh.com", SSHALGS_D, NULL},
	{"aes128-cbc", 0, SSHALGS_CBC},
	{"aes192-cbc", 0, SSHALGS_CBC},
	{"aes256-cbc", 0, SSHALGS_CBC},
	{"rijndael-cbc@lysator.liu.se", 0, SSHALGS_CBC " (an old name of aes256-cbc)"},
	{"3des-cbc", 0, SSHALGS_64BIT},
	{"blowfish-cbc", 0, SSHALGS_64BIT},
	{"cast128-cbc", 0, SSHALGS_64BIT},
	{"arcfour", 0, SSHALGS_RC4},
	{"arcfour128", 0, SSHALGS_RC4},
};

/* hmac-sha1 stays a default as in OpenSSH: an HMAC does not rest on
 * SHA-1's collision resistance. */
static const struct sshalgs_alg sshalgs_macs[] = {
	{"hmac-sha2-256-etm@openssh.com", SSHALGS_D, NULL},
	{"hmac-sha2-512-etm@openssh.com", SSHALGS_D, NULL},
	{"hmac-sha1-etm@openssh.com", SSHALGS_D, NULL},
	{"hmac-sha2-256", SSHALGS_D, NULL},
	{"hmac-sha2-512", SSHALGS_D, NULL},
	{"hmac-sha1", SSHALGS_D, NULL},
	{"hmac-sha1-96", 0, "a tag cut to 96 bits; OpenSSH 6.7 dropped it from its defaults"},
	{"hmac-md5", 0, "MD5, broken for collisions since 2004; OpenSSH 6.7 dropped it from its defaults"},
	{"hmac-md5-96", 0, "MD5 and a tag cut to 96 bits; OpenSSH 6.7 dropped it from its defaults"},
	{"hmac-ripemd160", 0, "legacy, little studied; OpenSSH 7.6 removed it"},
	{"hmac-ripemd160@openssh.com", 0, "legacy, little studied; OpenSSH 7.6 removed it"},
};

/* Most names in a table: results are kept as index arrays this long. */
#define SSHALGS_MAX 16

/* Is a the default of method m (whose table it is in)? */
static bool sshalgs_is_default(enum sshalgs_method m, const struct sshalgs_alg *a)
{
	return a->dflt & (m == SSHALGS_PUBKEY ? SSHALGS_IN(SSHALGS_PUBKEY) : SSHALGS_D);
}

static const struct sshalgs_table {
	const char *setting;
	const struct sshalgs_alg *algs;
	size_t n;
} sshalgs_tables[SSHALGS_NMETHODS] = {
	[SSHALGS_KEX] = {"kex", sshalgs_kex, ARRAY_LEN(sshalgs_kex)},
	[SSHALGS_HOSTKEY] = {"hostkey", sshalgs_hostkey, ARRAY_LEN(sshalgs_hostkey)},
	[SSHALGS_CIPHERS] = {"ciphers", sshalgs_ciphers, ARRAY_LEN(sshalgs_ciphers)},
	[SSHALGS_MACS] = {"macs", sshalgs_macs, ARRAY_LEN(sshalgs_macs)},
	[SSHALGS_PUBKEY] = {"pubkey", sshalgs_hostkey, ARRAY_LEN(sshalgs_hostkey)},
};

_Static_assert(ARRAY_LEN(sshalgs_kex) <= SSHALGS_MAX && ARRAY_LEN(sshalgs_hostkey) <= SSHALGS_MAX &&
                       ARRAY_LEN(sshalgs_ciphers) <= SSHALGS_MAX && ARRAY_LEN(sshalgs_macs) <= SSHALGS_MAX,
               "SSHALGS_MAX");

const char *sshalgs_setting(enum sshalgs_method m)
{
	return (size_t)m < SSHALGS_NMETHODS ? sshalgs_tables[m].setting : "?";
}

int sshalgs_method_parse(const char *setting, enum sshalgs_method *m)
{
	for (size_t i = 0; i < SSHALGS_NMETHODS; i++) {
		if (!strcmp(sshalgs_tables[i].setting, setting)) {
			*m = (enum sshalgs_method)i;
			return 0;
		}
	}
	return -1;
}

/* names joined with sep into out: all of them, or the default ones. */
static const char *sshalgs_join(enum sshalgs_method m, bool only_default, const char *sep, char *out, size_t outlen)
{
	const struct sshalgs_table *t = &sshalgs_tables[m];
	size_t len = 0;

	out[0] = '\0';
	for (size_t i = 0; i < t->n; i++) {
		if (only_default && !sshalgs_is_default(m, &t->algs[i]))
			continue;
		len += (size_t)snprintf(out + len, outlen - len, "%s%s", len ? sep : "", t->algs[i].name);
		if (len >= outlen)
			break;
	}
	return out;
}

const char *sshalgs_default(enum sshalgs_method m)
{
	static char lists[SSHALGS_NMETHODS][512];

	return sshalgs_join(m, true, ",", lists[m], sizeof(lists[m]));
}

const char *sshalgs_known(enum sshalgs_method m)
{
	static char lists[SSHALGS_NMETHODS][1024];

	return sshalgs_join(m, 0, ",", lists[m], sizeof(lists[m]));
}

static const struct sshalgs_alg *sshalgs_find(enum sshalgs_method m, const char *name, size_t len)
{
	const struct sshalgs_table *t = &sshalgs_tables[m];

	for (size_t i = 0; i < t->n; i++)
		if (strlen(t->algs[i].name) == len && !memcmp(t->algs[i].name, name, len))
			return &t->algs[i];
	return NULL;
}

const char *sshalgs_weak_why(enum sshalgs_method m, const char *name)
{
	const struct sshalgs_alg *a = (size_t)m < SSHALGS_NMETHODS ? sshalgs_find(m, name, strlen(name)) : NULL;

	return a ? a->weak : NULL;
}

bool sshalgs_list_has(const char *list, const char *name, size_t namelen)
{
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		if (n == namelen && !memcmp(p, name, n))
			return true;
		p = comma ? comma + 1 : NULL;
	}
	return false;
}

/* OpenSSH's match_pattern: * any run of bytes, ? any one byte, nothing
 * else special. fnmatch(3) would also read [...] and backslashes, which an
 * OpenSSH algorithm list does not have. */
static bool sshalgs_match(const char *pat, size_t plen, const char *s)
{
	if (plen == 0)
		return *s == '\0';
	if (*pat == '*') {
		for (;; s++) {
			if (sshalgs_match(pat + 1, plen - 1, s))
				return true;
			if (!*s)
				return false;
		}
	}
	if (!*s || (*pat != '?' && *pat != *s))
		return false;
	return sshalgs_match(pat + 1, plen - 1, s + 1);
}

/* An ordered set of a table's indexes. */
struct sshalgs_set {
	unsigned char idx[SSHALGS_MAX];
	size_t n;
};

static void sshalgs_add(struct sshalgs_set *s, size_t i)
{
	for (size_t k = 0; k < s->n; k++)
		if (s->idx[k] == i)
			return;
	s->idx[s->n++] = (unsigned char)i;
}

/* A pattern for messages: bounded, and a byte that is not printable ASCII
 * as '?' (a host var is data; its text must not forge output lines). */
static const char *sshalgs_excerpt(const char *p, size_t n, char *out, size_t outlen)
{
	size_t k = 0;

	for (; k < n && k + 4 < outlen; k++)
		out[k] = p[k] > ' ' && p[k] < 0x7f ? p[k] : '?';
	if (k < n)
		out[k++] = '.', out[k++] = '.', out[k++] = '.';
	out[k] = '\0';
	return out;
}

/* The names of the comma-separated patterns, in order: each must match
 * at least one known name. 0, or -1 with err. */
static int sshalgs_expand(enum sshalgs_method m, const char *pats, struct sshalgs_set *out, struct err *err)
{
	const struct sshalgs_table *t = &sshalgs_tables[m];
	const char *p = pats;
	char ex[80], known[1024];

	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		bool hit = false;

		if (n == 0) {
			err_set(err, "%s: an empty name in '%s' (expected names separated by commas)", t->setting,
			        sshalgs_excerpt(pats, strlen(pats), ex, sizeof(ex)));
			return -1;
		}
		for (size_t i = 0; i < t->n; i++) {
			if (sshalgs_match(p, n, t->algs[i].name)) {
				sshalgs_add(out, i);
				hit = true;
			}
		}
		if (!hit) {
			err_set(err, "%s: unknown algorithm '%s' (libssh2 1.11.1 knows: %s)", t->setting,
			        sshalgs_excerpt(p, n, ex, sizeof(ex)), sshalgs_join(m, 0, ", ", known, sizeof(known)));
			return -1;
		}
		if (!comma)
			return 0;
		p = comma + 1;
	}
}

/* The set's names, comma-separated (only the weak ones that are not
 * defaults, when weak_only); NULL when that is none. */
static char *sshalgs_names(enum sshalgs_method m, const struct sshalgs_set *s, bool weak_only)
{
	const struct sshalgs_table *t = &sshalgs_tables[m];
	struct buf b = BUF_INIT;

	for (size_t k = 0; k < s->n; k++) {
		const struct sshalgs_alg *a = &t->algs[s->idx[k]];
		if (weak_only && (!a->weak || sshalgs_is_default(m, a)))
			continue;
		buf_printf(&b, "%s%s", b.len ? "," : "", a->name);
	}
	return b.len ? buf_steal(&b) : (buf_free(&b), NULL);
}

int sshalgs_apply(enum sshalgs_method m, const char *spec, char **list, char **weak, struct err *err)
{
	const struct sshalgs_table *t = &sshalgs_tables[m];
	struct sshalgs_set named = {{0}, 0}, res = {{0}, 0};
	char op = spec && strchr("+-^", spec[0]) ? spec[0] : '\0';

	if (spec && *spec && sshalgs_expand(m, op ? spec + 1 : spec, &named, err) < 0)
		return -1;
	if (!spec || !*spec || op == '+' || op == '-') {
		for (size_t i = 0; i < t->n; i++) {
			bool removed = false;
			for (size_t k = 0; op == '-' && k < named.n; k++)
				removed |= named.idx[k] == i;
			if (sshalgs_is_default(m, &t->algs[i]) && !removed)
				sshalgs_add(&res, i);
		}
	}
	for (size_t k = 0; op != '-' && k < named.n; k++)
		sshalgs_add(&res, named.idx[k]);
	if (op == '^') /* the named first, then the rest of the default */
		for (size_t i = 0; i < t->n; i++)
			if (sshalgs_is_default(m, &t->algs[i]))
				sshalgs_add(&res, i);
	if (res.n == 0) {
		char ex[80];
		err_set(err, "%s: '%s' leaves no algorithm", t->setting, sshalgs_excerpt(spec, strlen(spec), ex, sizeof(ex)));
		return -1;
	}
	*list = sshalgs_names(m, &res, false);
	if (weak)
		*weak = sshalgs_names(m, &res, true);
	return 0;
}

/* ------------------------------------------------------ what a server offers */

#define SSHALGS_MSG_KEXINIT 20
/* No KEXINIT is this long; a longer list is cut at a comma. */
#define SSHALGS_OFFER_MAX 512

static uint32_t sshalgs_be32(const unsigned char *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* A name-list of the device, or NULL when it holds a byte no algorithm
 * name has (it is the device's text: it must not reach a record as is). */
static char *sshalgs_offer_list(const unsigned char *p, uint32_t n)
{
	size_t keep = n;

	for (uint32_t i = 0; i < n; i++)
		if (!(p[i] == ',' || p[i] == '@' || p[i] == '.' || p[i] == '-' || p[i] == '_' || p[i] == '+' ||
		      (p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'z') || (p[i] >= 'A' && p[i] <= 'Z')))
			return NULL;
	if (keep > SSHALGS_OFFER_MAX) {
		keep = SSHALGS_OFFER_MAX;
		while (keep > 0 && p[keep] != ',')
			keep--;
	}
	return xstrndup((const char *)p, keep);
}

/* The kex list without the extensions a server announces there
 * (ext-info-s, kex-strict-s-v00@openssh.com): they are no key exchange. */
static void sshalgs_offer_drop_pseudo(char **list)
{
	struct buf b = BUF_INIT;
	char *p = *list, *name;

	if (!p)
		return;
	while ((name = strsep(&p, ",")))
		if (*name && strncmp(name, "ext-info-", 9) && strncmp(name, "kex-strict-", 11))
			buf_printf(&b, "%s%s", b.len ? "," : "", name);
	free(*list);
	*list = b.len ? buf_steal(&b) : xstrdup("");
	buf_free(&b);
}

int sshalgs_offer_parse(const unsigned char *p, size_t n, struct sshalgs_offer *o)
{
	/* the lists in KEXINIT order: kex, host key, cipher c2s, cipher s2c,
	 * mac c2s; -1 for one not kept */
	static const int order[] = {SSHALGS_KEX, SSHALGS_HOSTKEY, SSHALGS_CIPHERS, -1, SSHALGS_MACS};
	size_t pos = 0, end;
	uint32_t plen;

	memset(o, 0, sizeof(*o));
	/* RFC 4253 4.2: lines before the identification may come first */
	for (;;) {
		const unsigned char *nl = memchr(p + pos, '\n', n - pos);
		bool ident;

		if (!nl)
			return -1;
		ident = n - pos >= 4 && !memcmp(p + pos, "SSH-", 4);
		pos = (size_t)(nl - p) + 1;
		if (ident)
			break;
	}
	if (n - pos < 6)
		return -1;
	plen = sshalgs_be32(p + pos);
	if (plen > n - pos - 4 || plen < 2 + 16 || p[pos + 5] != SSHALGS_MSG_KEXINIT)
		return -1;
	end = pos + 4 + plen;
	pos += 4 + 1 + 1 + 16; /* length, padding length, type, cookie */
	for (size_t i = 0; i < ARRAY_LEN(order); i++) {
		uint32_t len;

		if (end - pos < 4 || (len = sshalgs_be32(p + pos)) > end - pos - 4) {
			sshalgs_offer_free(o);
			return -1;
		}
		if (order[i] >= 0)
			o->names[order[i]] = sshalgs_offer_list(p + pos + 4, len);
		pos += 4 + len;
	}
	sshalgs_offer_drop_pseudo(&o->names[SSHALGS_KEX]);
	return 0;
}

void sshalgs_offer_free(struct sshalgs_offer *o)
{
	for (size_t i = 0; i < SSHALGS_NMETHODS; i++)
		free(o->names[i]);
	memset(o, 0, sizeof(*o));
}

void sshalgs_offer_explain(const struct sshalgs_offer *o, const char *const specs[SSHALGS_NMETHODS], struct buf *out)
{
	for (int m = 0; m < SSHALGS_NMETHODS; m++) {
		const char *offer = o->names[m], *p, *reach = NULL;
		char *ours = NULL;
		struct err err;
		bool shared = false;

		if (!offer || sshalgs_apply((enum sshalgs_method)m, specs[m], &ours, NULL, &err) < 0)
			continue;
		/* the first name both could use, and the first that would reach
		 * it: one libssh2 knows */
		for (p = offer; p && *p && !shared;) {
			const char *comma = strchr(p, ',');
			size_t n = comma ? (size_t)(comma - p) : strlen(p);
			const struct sshalgs_alg *a = sshalgs_find((enum sshalgs_method)m, p, n);
			shared = sshalgs_list_has(ours, p, n);
			if (a && !reach)
				reach = a->name;
			p = comma ? comma + 1 : NULL;
		}
		free(ours);
		if (shared || !*offer)
			continue;
		buf_printf(out, "%s%s: the device offers only %s", out->len ? "; " : "", sshalgs_setting((enum sshalgs_method)m),
		           offer);
		if (reach)
			buf_printf(out, " (%s: +%s would reach it%s)", sshalgs_setting((enum sshalgs_method)m), reach,
			           sshalgs_weak_why((enum sshalgs_method)m, reach) ? ", a weak algorithm" : "");
		else
			buf_printf(out, " (none of which libssh2 1.11.1 supports)");
	}
}
