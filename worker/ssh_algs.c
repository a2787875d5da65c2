/* ssh_algs: see ssh_algs.h. */
#include "ssh_algs.h"

#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "sshalgs.h"

/* libssh2's method for each of ours; ciphers and MACs are set for both
 * directions alike. pubkey is LIBSSH2_METHOD_SIGN_ALGO, which libssh2
 * applies to RSA keys only (rsa-sha2-512, rsa-sha2-256 or ssh-rsa) and
 * has no list of its own for: sshalgs' names are checked against its host
 * key list, which holds the same names (tests/unit/test_sshalgs.c). */
static const struct {
	int lib[2];     /* -1: none */
	int supported;  /* the method libssh2_session_supported_algs lists */
} ssh_algs_lib[SSHALGS_NMETHODS] = {
	[SSHALGS_KEX] = {{LIBSSH2_METHOD_KEX, -1}, LIBSSH2_METHOD_KEX},
	[SSHALGS_HOSTKEY] = {{LIBSSH2_METHOD_HOSTKEY, -1}, LIBSSH2_METHOD_HOSTKEY},
	[SSHALGS_CIPHERS] = {{LIBSSH2_METHOD_CRYPT_CS, LIBSSH2_METHOD_CRYPT_SC}, LIBSSH2_METHOD_CRYPT_CS},
	[SSHALGS_MACS] = {{LIBSSH2_METHOD_MAC_CS, LIBSSH2_METHOD_MAC_SC}, LIBSSH2_METHOD_MAC_CS},
	[SSHALGS_PUBKEY] = {{LIBSSH2_METHOD_SIGN_ALGO, -1}, LIBSSH2_METHOD_HOSTKEY},
};

/* The key type a known_hosts line holds for a host key algorithm: RSA
 * keys are "ssh-rsa" whatever hash signs with them. */
static const char *ssh_algs_kh_type(const char *alg)
{
	return !strncmp(alg, "rsa-sha2-", 9) ? "ssh-rsa" : alg;
}

/* list's names that libssh2 supports, comma-separated into out; host
 * keys: the types known_hosts holds for this host first, as OpenSSH
 * orders them, so a device whose known key is ECDSA is not called
 * unknown because it also has an Ed25519 key. */
static void ssh_algs_filter(LIBSSH2_SESSION *s, enum sshalgs_method m, const char *list, struct kh_file *kh,
                            const char *khname, struct buf *out)
{
	const char **sup = NULL;
	int nsup = libssh2_session_supported_algs(s, ssh_algs_lib[m].supported, &sup);
	struct buf rest = BUF_INIT;
	const char *p = list;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);
		bool supported = false;
		struct buf *to = out;

		for (int k = 0; k < nsup; k++)
			supported |= strlen(sup[k]) == n && !memcmp(sup[k], p, n);
		if (supported && m == SSHALGS_HOSTKEY && kh) {
			char *alg = xstrndup(p, n);
			if (!kh_has_type(kh, khname, ssh_algs_kh_type(alg)))
				to = &rest;
			free(alg);
		}
		if (supported)
			buf_printf(to, "%s%.*s", to->len ? "," : "", (int)n, p);
		p = comma ? comma + 1 : NULL;
	}
	if (out->len && rest.len)
		buf_putc(out, ',');
	buf_append(out, rest.data, rest.len);
	if (nsup > 0)
		libssh2_free(s, sup);
	buf_free(&rest);
}

int ssh_algs_apply(LIBSSH2_SESSION *s, struct ssh_params *p, struct kh_file *kh, struct err *err)
{
	char *khname = kh_name(p->address, p->port);
	struct buf prefs = BUF_INIT;
	int r = -1;

	if (p->policy != HOSTKEY_OFF)
		kh_load(kh, p->known_hosts, false);
	else
		kh = NULL;
	for (int m = 0; m < SSHALGS_NMETHODS; m++) {
		const char *spec = *ssh_params_algs(p, (enum sshalgs_method)m);
		char *list = NULL;

		if (sshalgs_apply((enum sshalgs_method)m, spec, &list, NULL, err) < 0)
			goto out;
		buf_reset(&prefs);
		ssh_algs_filter(s, (enum sshalgs_method)m, list, kh, khname, &prefs);
		free(list);
		if (!prefs.len) {
			err_set(err, "%s: '%.64s' leaves no algorithm this libssh2 supports",
			        sshalgs_setting((enum sshalgs_method)m), spec ? spec : "");
			goto out;
		}
		for (int d = 0; d < 2 && ssh_algs_lib[m].lib[d] >= 0; d++) {
			if (libssh2_session_method_pref(s, ssh_algs_lib[m].lib[d], prefs.data) != 0) {
				err_set(err, "%s: libssh2 refused '%.200s'", sshalgs_setting((enum sshalgs_method)m),
				        prefs.data);
				goto out;
			}
		}
	}
	r = 0;
out:
	buf_free(&prefs);
	free(khname);
	return r;
}

void ssh_algs_negotiated(LIBSSH2_SESSION *s, const char *auth, struct proto_ssh *out)
{
	const char *kex = libssh2_session_methods(s, LIBSSH2_METHOD_KEX);
	const char *hostkey = libssh2_session_methods(s, LIBSSH2_METHOD_HOSTKEY);
	const char *cipher = libssh2_session_methods(s, LIBSSH2_METHOD_CRYPT_CS);
	const char *mac = libssh2_session_methods(s, LIBSSH2_METHOD_MAC_CS);

	/* An AEAD cipher authenticates itself: the MAC libssh2 reports then
	 * (a made-up name, or one negotiated and unused) is not what protects
	 * the session. OpenSSH's word for it, as its log says. */
	if (cipher && (!strcmp(cipher, "chacha20-poly1305@openssh.com") || strstr(cipher, "-gcm@openssh.com")))
		mac = "<implicit>";
	memset(out, 0, sizeof(*out));
	const struct {
		const char *name;
		uint32_t bit;
		struct proto_str *at;
	} fields[] = {
		{kex, PROTO_SSH_KEX, &out->kex},          {hostkey, PROTO_SSH_HOSTKEY, &out->hostkey},
		{cipher, PROTO_SSH_CIPHER, &out->cipher}, {mac, PROTO_SSH_MAC, &out->mac},
		{auth, PROTO_SSH_AUTH, &out->auth},
	};
	for (size_t i = 0; i < ARRAY_LEN(fields); i++) {
		if (fields[i].name) {
			out->has |= fields[i].bit;
			*fields[i].at = proto_cstr(fields[i].name);
		}
	}
}

void ssh_algs_sniff(struct buf *first, const void *data, size_t n)
{
	if (first->len < SSH_ALGS_SNIFF_MAX)
		buf_append(first, data, n < SSH_ALGS_SNIFF_MAX - first->len ? n : SSH_ALGS_SNIFF_MAX - first->len);
}

void ssh_algs_explain(const struct buf *first, struct ssh_params *p, struct buf *out)
{
	const char *specs[SSHALGS_NMETHODS];
	struct sshalgs_offer offer;

	if (!first->len || sshalgs_offer_parse((const unsigned char *)first->data, first->len, &offer) < 0)
		return;
	for (int m = 0; m < SSHALGS_NMETHODS; m++)
		specs[m] = *ssh_params_algs(p, (enum sshalgs_method)m);
	sshalgs_offer_explain(&offer, specs, out);
	sshalgs_offer_free(&offer);
}
