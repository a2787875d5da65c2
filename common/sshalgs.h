/* sshalgs: which SSH algorithms a connection offers, from an
 * OpenSSH-syntax spec (KexAlgorithms, HostKeyAlgorithms, Ciphers, MACs,
 * PubkeyAcceptedAlgorithms).
 *
 * Apart from the worker's SSH code because it is pure data and text: no
 * libssh2 here, so the job parser, hostcfg and the supervisor (its one
 * warning per run about weak algorithms) read the same tables as the
 * worker that sets libssh2's preferences from them.
 *
 * For each method there is the list of every name libssh2 1.11.1 knows
 * (its libssh2_session_supported_algs, minus the kex pseudo-algorithms
 * ext-info-c and kex-strict-c-v00@openssh.com, which libssh2 adds
 * itself), the default (OpenSSH 9.x's defaults restricted to what libssh2
 * 1.11.1 supports: not libssh2's own default, which still offers
 * diffie-hellman-group1-sha1 and ssh-rsa), and the weak names, each with
 * why (sshalgs.c). A spec is applied to the default as OpenSSH does:
 *
 *   a,b    exactly these, in this order
 *   +a,b   the default, then these
 *   -a,b   the default without these
 *   ^a,b   these first, then the rest of the default
 *
 * and every name may be a pattern with * and ? (OpenSSH's match_pattern;
 * no negation). A name or pattern that matches no name libssh2 knows is an
 * error that says which are known: a typo must not leave a host on a
 * default the operator meant to change. */
#ifndef FLEETRUN_SSHALGS_H
#define FLEETRUN_SSHALGS_H

#include <stdbool.h>
#include <stddef.h>

#include "buf.h"
#include "util.h"

enum sshalgs_method {
	SSHALGS_KEX,     /* KexAlgorithms */
	SSHALGS_HOSTKEY, /* HostKeyAlgorithms */
	SSHALGS_CIPHERS, /* Ciphers (both directions) */
	SSHALGS_MACS,    /* MACs (both directions) */
	SSHALGS_PUBKEY,  /* PubkeyAcceptedAlgorithms (libssh2's SIGN_ALGO) */
	SSHALGS_NMETHODS,
};

/* The method's setting name: the key under the job's ssh: algorithms:
 * and the host var ("kex", "hostkey", "ciphers", "macs", "pubkey"). */
const char *sshalgs_setting(enum sshalgs_method m);

/* The method of a setting name: 0 and *m, or -1. */
int sshalgs_method_parse(const char *setting, enum sshalgs_method *m);

/* The default and every known name, comma-separated (static). */
const char *sshalgs_default(enum sshalgs_method m);
const char *sshalgs_known(enum sshalgs_method m);

/* Why name is weak (static text), or NULL when it is not weak or not
 * known. */
const char *sshalgs_weak_why(enum sshalgs_method m, const char *name);

/* The algorithms a spec leaves (NULL or "" is the default). 0 and *list
 * (malloced, comma-separated, in the order offered) and, when weak is not
 * NULL, *weak (malloced comma-separated weak names the list enables beyond
 * the default, or NULL when none), or -1 with err ("kex: unknown
 * algorithm 'x' (known: ...)", "kex: -* leaves no algorithm") and nothing
 * set. */
int sshalgs_apply(enum sshalgs_method m, const char *spec, char **list, char **weak, struct err *err);

/* Is name one of the comma-separated list's names? */
bool sshalgs_list_has(const char *list, const char *name, size_t namelen);

/* What a server offers in its KEXINIT, for saying why no algorithm was
 * agreed (libssh2 only says "Unable to exchange encryption keys"). The
 * lists are the device's words: kept only when made of the characters
 * algorithm names have, and cut short. */
struct sshalgs_offer {
	char *names[SSHALGS_NMETHODS]; /* malloced comma lists, or NULL
	                                  (pubkey: always NULL, not in KEXINIT);
	                                  ciphers and MACs: client to server */
};

/* The first bytes a server sent (lines before and including its
 * identification, then its first binary packet, unencrypted): 0 and *o
 * when they hold a whole KEXINIT, else -1 and *o empty. */
int sshalgs_offer_parse(const unsigned char *p, size_t n, struct sshalgs_offer *o);
void sshalgs_offer_free(struct sshalgs_offer *o);

/* For each method where specs[m] (NULL: the default) and the offer share
 * no name: "kex: the device offers only X; ..." and what would reach it
 * ("kex: +X", marked weak when it is), appended to out. Nothing when every
 * method shares a name. */
void sshalgs_offer_explain(const struct sshalgs_offer *o, const char *const specs[SSHALGS_NMETHODS], struct buf *out);

#endif /* FLEETRUN_SSHALGS_H */
