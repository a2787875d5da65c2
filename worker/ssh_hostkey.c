/* ssh_hostkey: a login's host key against known_hosts, with OpenSSH's
 * defaults: an unknown, changed or revoked key ends the login with status
 * hostkey before anything is sent. With accept-new, a key of a host
 * known_hosts says nothing about is let through and its line given back,
 * for the supervisor, which alone appends it, to the file it derives
 * itself. Devices and jump hosts alike: the same file, the same policy.
 * Apart from the login (ssh_session.c) because it is about the file, not
 * the connection. */
#include <limits.h>
#include <openssl/evp.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "known_hosts.h"
#include "ssh_session.h"

/* known_hosts is parsed once per worker and parsed again only when the
 * file changed and the cached copy did not know the key: with thousands
 * of lines, parsing costs more than the rest of a login. */
static struct kh_file ssh_hostkey_kh;

/* The known_hosts line for an accepted new key, for the supervisor:
 * "name type base64", as ssh-keygen writes it. */
static char *ssh_hostkey_line(const char *name, const char *key, size_t len)
{
	uint32_t tlen = len >= 4 ? (uint32_t)(unsigned char)key[0] << 24 | (uint32_t)(unsigned char)key[1] << 16 |
	                               (uint32_t)(unsigned char)key[2] << 8 | (unsigned char)key[3]
	                         : 0;
	char *b64, *line;

	if (tlen == 0 || tlen > len - 4 || len > INT_MAX / 2)
		return NULL;
	b64 = xmalloc(4 * ((len + 2) / 3) + 1);
	EVP_EncodeBlock((unsigned char *)b64, (const unsigned char *)key, (int)len);
	line = xasprintf("%s %.*s %s", name, (int)tlen, key + 4, b64);
	free(b64);
	return line;
}

/* 0: the host key may be used; -1: status hostkey, err says why. */
int ssh_hostkey_check(struct ssh_login *c, char **kh_new, struct err *err)
{
	const struct ssh_params *p = &c->params;
	size_t len = 0, line = 0;
	int type = 0, r = -1;
	const char *key = libssh2_session_hostkey(c->session, &len, &type);
	char *name = NULL;
	enum kh_verdict v;

	if (p->policy == HOSTKEY_OFF)
		return 0;
	if (!key) {
		err_set(err, "the host sent no host key");
		return -1;
	}
	name = kh_name(p->address, p->port);
	kh_load(&ssh_hostkey_kh, p->known_hosts, false);
	v = kh_check(&ssh_hostkey_kh, name, key, len, &line);
	/* maybe learned since we read it: the supervisor appends */
	if (v != KH_MATCH && kh_load(&ssh_hostkey_kh, p->known_hosts, true) == 1)
		v = kh_check(&ssh_hostkey_kh, name, key, len, &line);
	switch (v) {
	case KH_MATCH:
		r = 0;
		break;
	case KH_REVOKED:
		err_set(err, "host key for %s is REVOKED (known_hosts %s:%zu): refused; nothing sent", p->address,
		        p->known_hosts, line);
		break;
	case KH_CHANGED:
		/* under accept-new too: only a host known_hosts says nothing
		 * about is new, as OpenSSH says REMOTE HOST IDENTIFICATION
		 * HAS CHANGED */
		err_set(err, "host key for %s has CHANGED (known_hosts %s): possible man-in-the-middle; nothing sent",
		        p->address, p->known_hosts);
		break;
	case KH_UNREADABLE:
		if (line)
			err_set(err, "host key for %s cannot be checked: %s:%zu names the host but cannot be read; "
			             "nothing sent", p->address, p->known_hosts, line);
		else
			err_set(err, "host key for %s cannot be checked: %s cannot be read; nothing sent", p->address,
			        p->known_hosts);
		break;
	case KH_UNKNOWN:
		if (p->policy == HOSTKEY_ACCEPT_NEW) {
			*kh_new = ssh_hostkey_line(name, key, len);
			r = 0;
			break;
		}
		err_set(err, "host key for %s is not in %s (host_key_policy strict); nothing sent", p->address,
		        p->known_hosts);
		break;
	}
	free(name);
	return r;
}

/* Offer first the host key types known_hosts already holds for this
 * host, as OpenSSH does: a device whose known key is ECDSA must not be
 * called unknown because it also has an Ed25519 key. The rest follow in
 * OpenSSH's order. */
void ssh_hostkey_pref(struct ssh_login *c)
{
	static const struct {
		const char *alg;
		const char *type; /* in known_hosts */
	} algs[] = {
		{"ssh-ed25519", "ssh-ed25519"},
		{"ecdsa-sha2-nistp256", "ecdsa-sha2-nistp256"},
		{"ecdsa-sha2-nistp384", "ecdsa-sha2-nistp384"},
		{"ecdsa-sha2-nistp521", "ecdsa-sha2-nistp521"},
		{"rsa-sha2-512", "ssh-rsa"},
		{"rsa-sha2-256", "ssh-rsa"},
		{"ssh-rsa", "ssh-rsa"},
	};
	const struct ssh_params *p = &c->params;
	struct buf known = BUF_INIT, rest = BUF_INIT;
	char *name = kh_name(p->address, p->port);
	const char **sup = NULL;
	int nsup;

	if (p->policy != HOSTKEY_OFF)
		kh_load(&ssh_hostkey_kh, p->known_hosts, false);
	/* only names this libssh2 knows: it drops the others from the list
	 * with an overlapping memcpy (libssh2 1.10), which is undefined */
	nsup = libssh2_session_supported_algs(c->session, LIBSSH2_METHOD_HOSTKEY, &sup);
	for (size_t i = 0; i < ARRAY_LEN(algs); i++) {
		bool supported = false;
		for (int k = 0; k < nsup; k++)
			supported |= !strcmp(sup[k], algs[i].alg);
		if (!supported)
			continue;
		bool is_known = p->policy != HOSTKEY_OFF && kh_has_type(&ssh_hostkey_kh, name, algs[i].type);
		struct buf *to = is_known ? &known : &rest;
		buf_printf(to, "%s%s", to->len ? "," : "", algs[i].alg);
	}
	if (known.len && rest.len)
		buf_putc(&known, ',');
	buf_append(&known, rest.data, rest.len);
	if (known.len)
		libssh2_session_method_pref(c->session, LIBSSH2_METHOD_HOSTKEY, known.data);
	if (nsup > 0)
		libssh2_free(c->session, sup);
	buf_free(&known);
	buf_free(&rest);
	free(name);
}
