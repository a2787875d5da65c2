/* textfsm_regex: the regular expressions of TextFSM templates, which are
 * Python `re` syntax, translated to PCRE2 and compiled. Apart from the
 * template parser because it is a language of its own: what Python and
 * PCRE2 read differently is decided here, in one place, and what cannot be
 * translated faithfully is refused with the reason.
 *
 * Named groups are turned into plain numbered groups (Python and PCRE2
 * number groups alike, by their opening parenthesis), their names kept in
 * a table: PCRE2 10.42 limits names to 32 bytes where TextFSM allows 48,
 * and the engine looks values up by group number anyway. */
#ifndef FLEETRUN_TEXTFSM_REGEX_H
#define FLEETRUN_TEXTFSM_REGEX_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stddef.h>

/* A compiled expression and the names of its groups. */
struct textfsm_regex {
	pcre2_code *code;  /* owned; matches anchored at the start, as re.match */
	size_t ngroups;    /* capturing groups */
	char **names;      /* [ngroups + 1]: names[i] is group i's name (malloced) or NULL */
	int jit;           /* compiled by the JIT as well */
	int has_first;     /* first: the bytes a match can start with (else any) */
	unsigned char first[32]; /* a bitmap, as PCRE2_INFO_FIRSTBITMAP's */
};

/* Translate the Python expression py[0..len) and compile it into *out.
 * 0, or -1 with why (a sentence without the file:line, which the caller
 * knows) filled. */
int textfsm_regex_compile(const char *py, size_t len, struct textfsm_regex *out, char *why, size_t whylen);

/* Only the translation: the PCRE2 pattern (malloced) and the group names,
 * for tests. 0 or -1 with why. */
int textfsm_regex_translate(const char *py, size_t len, char **pattern, size_t *ngroups, char ***names, char *why,
                            size_t whylen);

/* Match s[0..n) at its start into md: pcre2_match's answer. An
 * expression too deep for the JIT's stack is matched again by the
 * interpreter, which has the whole heap limit: where Python finds a
 * match, so should we. */
int textfsm_regex_match(const struct textfsm_regex *re, const char *s, size_t n, pcre2_match_data *md);

void textfsm_regex_free(struct textfsm_regex *re);

#endif
