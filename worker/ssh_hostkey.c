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
#include "ssh_algs.h"
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

/* The session's algorithm preferences (ssh_algs.c), with this file's
 * known_hosts cache: the host key types it holds for the host go first. */
int ssh_hostkey_pref(struct ssh_login *l, struct err *err)
{
	return ssh_algs_apply(l->session, &l->params, &ssh_hostkey_kh, err);
}
