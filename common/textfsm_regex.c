/* textfsm_regex: Python `re` expressions of TextFSM templates, translated
 * to PCRE2 (textfsm_regex.h says why this is apart).
 *
 * The translation walks the expression once, as Python's parser reads it
 * (Python 3.11, the reference's interpreter on Debian 12), and writes the
 * PCRE2 equivalent:
 *   (?P<name>...)   a plain group; the name goes to the table
 *   (?P=name)       \g{N}; (?(name)...) becomes (?(N)...)
 *   \Z              \z (Python's \Z is the very end; PCRE2's allows a
 *                   final newline)
 *   \v \uXXXX \UXXXXXXXX \0 \NNN   the character, as \x{...} (PCRE2 reads
 *                   \v as a class and knows no \u)
 *   \1..\99         \g{N}, after Python's own octal-or-group rule
 *   {,n}            {0,n} (PCRE2 10.42 reads {,n} as text)
 *   [ inside a set  \[ (Python has no [:alpha:] classes)
 *   \s \S           with \x1c-\x1f, which Python counts as spaces
 *   (?i:...) (?ms-i:...)   kept; (?u:...) is Python's default, dropped
 * and refuses, with the reason, what Python refuses (unknown escapes,
 * global flags after the start: "^(?i)..." is an error in Python 3.11)
 * and what PCRE2 would read otherwise (\N{name}, the x, a and L flags). */
#include <ctype.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "textfsm_regex.h"
#include "util.h"

/* Deeper nesting than any template needs; keeps the walk bounded. */
#define TEXTFSM_REGEX_MAX_DEPTH 200

struct textfsm_regex_walk {
	const char *p;    /* the Python expression */
	size_t n, i;      /* its length, the position */
	struct buf out;   /* the PCRE2 pattern */
	size_t ngroups;
	char **names;     /* [ngroups + 1] */
	bool *closed;     /* [ngroups + 1]: group i's ')' was seen */
	size_t stack[TEXTFSM_REGEX_MAX_DEPTH]; /* open parentheses: group number, or 0 */
	size_t depth;
	size_t cond_max;  /* the highest group a conditional names by number */
	char *why;
	size_t whylen;
};

__attribute__((format(printf, 2, 3))) static int textfsm_regex_fail(struct textfsm_regex_walk *w, const char *fmt,
                                                                   ...)
{
	va_list ap;
	int n;

	n = snprintf(w->why, w->whylen, "at offset %zu of the expression: ", w->i);
	if (n < 0 || (size_t)n >= w->whylen)
		return -1;
	va_start(ap, fmt);
	vsnprintf(w->why + n, w->whylen - (size_t)n, fmt, ap);
	va_end(ap);
	return -1;
}

static bool textfsm_regex_isoct(char c)
{
	return c >= '0' && c <= '7';
}

/* Python identifiers, approximately: ASCII letters, digits and _, and any
 * character past ASCII (Python allows most of them). */
static bool textfsm_regex_isident(unsigned char c, bool first)
{
	return c == '_' || isalpha(c) || c >= 0x80 || (!first && isdigit(c));
}

/* n hex digits at w->i, into *cp; the position moves past them. */
static int textfsm_regex_hex(struct textfsm_regex_walk *w, size_t ndigits, uint32_t *cp)
{
	uint32_t v = 0;

	for (size_t k = 0; k < ndigits; k++) {
		char c = w->i + k < w->n ? w->p[w->i + k] : 0;

		if (!isxdigit((unsigned char)c))
			return textfsm_regex_fail(w, "expected %zu hex digits after \\%c", ndigits, w->p[w->i - 1]);
		v = v * 16 + (uint32_t)(isdigit((unsigned char)c) ? c - '0' : (tolower((unsigned char)c) - 'a' + 10));
	}
	w->i += ndigits;
	*cp = v;
	return 0;
}

static int textfsm_regex_char(struct textfsm_regex_walk *w, uint32_t cp)
{
	if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
		return textfsm_regex_fail(w, "character U+%X is not one UTF-8 can carry", (unsigned)cp);
	buf_printf(&w->out, "\\x{%X}", (unsigned)cp);
	return 0;
}

/* Octal digits after a backslash (up to 3 in all, first already read). */
static int textfsm_regex_octal(struct textfsm_regex_walk *w, uint32_t v, size_t have)
{
	while (have < 3 && w->i < w->n && textfsm_regex_isoct(w->p[w->i])) {
		v = v * 8 + (uint32_t)(w->p[w->i++] - '0');
		have++;
	}
	if (v > 0377)
		return textfsm_regex_fail(w, "octal escape value \\%o outside of range 0-0o377", (unsigned)v);
	return textfsm_regex_char(w, v);
}

/* A group reference \N or (?P=name): only to a group already closed. */
static int textfsm_regex_groupref(struct textfsm_regex_walk *w, size_t g)
{
	if (g == 0 || g > w->ngroups)
		return textfsm_regex_fail(w, "invalid group reference %zu", g);
	if (!w->closed[g])
		return textfsm_regex_fail(w, "cannot refer to an open group");
	buf_printf(&w->out, "\\g{%zu}", g);
	return 0;
}

/* \1..\99 or an octal \NNN, as Python tells them apart: three octal
 * digits are a character, anything else is a group. */
static int textfsm_regex_digits(struct textfsm_regex_walk *w, char c)
{
	size_t g = (size_t)(c - '0');

	if (c == '0')
		return textfsm_regex_octal(w, 0, 1);
	if (w->i < w->n && isdigit((unsigned char)w->p[w->i])) {
		char d = w->p[w->i++];

		if (textfsm_regex_isoct(c) && textfsm_regex_isoct(d) && w->i < w->n && textfsm_regex_isoct(w->p[w->i]))
			return textfsm_regex_octal(w, (uint32_t)((c - '0') * 8 + (d - '0')), 2);
		g = g * 10 + (size_t)(d - '0');
	}
	return textfsm_regex_groupref(w, g);
}

/* The escapes both languages read alike, with Python's meaning. */
static bool textfsm_regex_same_escape(char c, bool in_set)
{
	if (strchr("dDsSwWafnrt", c))
		return true;
	return !in_set && strchr("AbB", c);
}

/* One escape; w->i is past the backslash. In a set, \b is a backspace
 * (in both), and anchors are errors (in Python). */
static int textfsm_regex_escape(struct textfsm_regex_walk *w, bool in_set)
{
	uint32_t cp;
	char c;

	if (w->i >= w->n)
		return textfsm_regex_fail(w, "bad escape (end of pattern)");
	c = w->p[w->i++];
	if ((unsigned char)c >= 0x80) {
		/* \é is é: the character alone, PCRE2 has nothing to escape */
		buf_putc(&w->out, c);
		return 0;
	}
	if (!isalnum((unsigned char)c)) {
		buf_putc(&w->out, '\\');
		buf_putc(&w->out, c);
		return 0;
	}
	/* Python's \s has the separators \x1c-\x1f, Unicode's White_Space not */
	if (c == 's' || (c == 'S' && !in_set)) {
		buf_puts(&w->out, in_set ? "\\s\\x{1C}-\\x{1F}" : c == 's' ? "[\\s\\x{1C}-\\x{1F}]" : "[^\\s\\x{1C}-\\x{1F}]");
		return 0;
	}
	if (textfsm_regex_same_escape(c, in_set) || (in_set && c == 'b')) {
		buf_putc(&w->out, '\\');
		buf_putc(&w->out, c);
		return 0;
	}
	switch (c) {
	case 'Z':
		if (in_set)
			break;
		buf_puts(&w->out, "\\z");
		return 0;
	case 'v':
		buf_puts(&w->out, "\\x{B}");
		return 0;
	case 'x':
		return textfsm_regex_hex(w, 2, &cp) < 0 ? -1 : textfsm_regex_char(w, cp);
	case 'u':
		return textfsm_regex_hex(w, 4, &cp) < 0 ? -1 : textfsm_regex_char(w, cp);
	case 'U':
		return textfsm_regex_hex(w, 8, &cp) < 0 ? -1 : textfsm_regex_char(w, cp);
	case 'N':
		return textfsm_regex_fail(w, "\\N{...} (a character by its name) is not supported: write the character");
	default:
		if (isdigit((unsigned char)c)) {
			if (in_set) {
				if (!textfsm_regex_isoct(c))
					return textfsm_regex_fail(w, "bad escape \\%c", c);
				return textfsm_regex_octal(w, (uint32_t)(c - '0'), 1);
			}
			return textfsm_regex_digits(w, c);
		}
	}
	w->i--;
	return textfsm_regex_fail(w, "bad escape \\%c", c);
}

/* A set [...]; w->i is past the '['. */
static int textfsm_regex_set(struct textfsm_regex_walk *w)
{
	size_t start;

	buf_putc(&w->out, '[');
	if (w->i < w->n && w->p[w->i] == '^') {
		buf_putc(&w->out, '^');
		w->i++;
	}
	start = w->i;
	while (w->i < w->n) {
		char c = w->p[w->i++];

		if (c == ']' && w->i - 1 > start) {
			buf_putc(&w->out, ']');
			return 0;
		}
		if (c == '\\') {
			if (textfsm_regex_escape(w, true) < 0)
				return -1;
		} else if (c == '[' || c == ']') {
			buf_putc(&w->out, '\\');
			buf_putc(&w->out, c);
		} else {
			buf_putc(&w->out, c);
		}
	}
	return textfsm_regex_fail(w, "unterminated character set");
}

/* A name up to the terminator; its extent in *s, *len. */
static int textfsm_regex_name(struct textfsm_regex_walk *w, char term, const char **s, size_t *len)
{
	size_t start = w->i;

	while (w->i < w->n && w->p[w->i] != term) {
		if (!textfsm_regex_isident((unsigned char)w->p[w->i], w->i == start))
			return textfsm_regex_fail(w, "bad character in group name");
		w->i++;
	}
	if (w->i >= w->n || w->i == start)
		return textfsm_regex_fail(w, w->i == start ? "missing group name" : "unterminated group name");
	*s = w->p + start;
	*len = w->i - start;
	w->i++;
	return 0;
}

static size_t textfsm_regex_lookup(const struct textfsm_regex_walk *w, const char *s, size_t len)
{
	for (size_t g = 1; g <= w->ngroups; g++)
		if (w->names[g] && strlen(w->names[g]) == len && memcmp(w->names[g], s, len) == 0)
			return g;
	return 0;
}

static int textfsm_regex_push(struct textfsm_regex_walk *w, size_t group)
{
	if (w->depth >= TEXTFSM_REGEX_MAX_DEPTH)
		return textfsm_regex_fail(w, "groups nested deeper than %d", TEXTFSM_REGEX_MAX_DEPTH);
	w->stack[w->depth++] = group;
	return 0;
}

/* A new capturing group, named or not. */
static int textfsm_regex_group(struct textfsm_regex_walk *w, const char *name, size_t len)
{
	if (name && textfsm_regex_lookup(w, name, len))
		return textfsm_regex_fail(w, "redefinition of group name '%.*s'", (int)len, name);
	w->ngroups++;
	w->names = xreallocarray(w->names, w->ngroups + 1, sizeof(*w->names));
	w->closed = xreallocarray(w->closed, w->ngroups + 1, sizeof(*w->closed));
	w->names[w->ngroups] = name ? xstrndup(name, len) : NULL;
	w->closed[w->ngroups] = false;
	buf_putc(&w->out, '(');
	return textfsm_regex_push(w, w->ngroups);
}

/* Inline flags (?imsu-ims:...) or (?imsu); w->i is at the first letter. */
static int textfsm_regex_flags(struct textfsm_regex_walk *w, size_t at)
{
	struct buf on = BUF_INIT, off = BUF_INIT;
	bool minus = false;
	int r = -1;

	for (; w->i < w->n; w->i++) {
		char c = w->p[w->i];

		if (c == '-' && !minus) {
			minus = true;
		} else if (c == 'i' || c == 'm' || c == 's') {
			buf_putc(minus ? &off : &on, c);
		} else if (c == 'u' && !minus) {
			/* Unicode matching is Python's default for text, and ours */
		} else if (c == 'x' || c == 'a' || c == 'L') {
			textfsm_regex_fail(w, "the inline flag '%c' is not supported", c);
			goto out;
		} else {
			break;
		}
	}
	if (w->i < w->n && w->p[w->i] == ')' && !minus) {
		/* Python 3.11: global flags only at the very start */
		if (at != 0) {
			textfsm_regex_fail(w, "global flags not at the start of the expression (Python 3.11 "
			                      "refuses them too): scope them, as (?i:...)");
			goto out;
		}
		buf_printf(&w->out, "(?%s)", on.data ? on.data : "");
		w->i++;
		r = 0;
		goto out;
	}
	if (w->i >= w->n || w->p[w->i] != ':') {
		textfsm_regex_fail(w, "unknown flag or missing ':' in inline flags");
		goto out;
	}
	w->i++;
	buf_printf(&w->out, "(?%s%s%s:", on.data ? on.data : "", off.len ? "-" : "", off.data ? off.data : "");
	r = textfsm_regex_push(w, 0);
out:
	buf_free(&on);
	buf_free(&off);
	return r;
}

/* A conditional (?(name)yes|no) or (?(N)yes|no); w->i is past "(?(". */
static int textfsm_regex_cond(struct textfsm_regex_walk *w)
{
	const char *s = w->p + w->i, *end = memchr(s, ')', w->n - w->i);
	size_t len, g = 0;

	if (!end || end == s)
		return textfsm_regex_fail(w, "missing group name in conditional");
	len = (size_t)(end - s);
	if (isdigit((unsigned char)s[0])) {
		for (size_t k = 0; k < len; k++) {
			if (!isdigit((unsigned char)s[k]) || g > 1000)
				return textfsm_regex_fail(w, "bad group number in conditional");
			g = g * 10 + (size_t)(s[k] - '0');
		}
		/* Python allows a group defined later: checked at the end */
		if (g == 0)
			return textfsm_regex_fail(w, "bad group number in conditional");
		if (g > w->cond_max)
			w->cond_max = g;
	} else if (textfsm_regex_name(w, ')', &s, &len) < 0) {
		return -1;
	} else if (!(g = textfsm_regex_lookup(w, s, len))) {
		return textfsm_regex_fail(w, "unknown group name '%.*s'", (int)len, s);
	}
	w->i = (size_t)(end - w->p) + 1;
	buf_printf(&w->out, "(?(%zu)", g);
	return textfsm_regex_push(w, 0);
}

/* An extension "(?..."; w->i is past "(?". */
static int textfsm_regex_extension(struct textfsm_regex_walk *w, size_t at)
{
	const char *rest = w->p + w->i;
	size_t left = w->n - w->i;
	const char *s;
	size_t len;

	if (left >= 2 && rest[0] == 'P' && rest[1] == '<') {
		w->i += 2;
		if (textfsm_regex_name(w, '>', &s, &len) < 0)
			return -1;
		return textfsm_regex_group(w, s, len);
	}
	if (left >= 2 && rest[0] == 'P' && rest[1] == '=') {
		size_t g;

		w->i += 2;
		if (textfsm_regex_name(w, ')', &s, &len) < 0)
			return -1;
		if (!(g = textfsm_regex_lookup(w, s, len)))
			return textfsm_regex_fail(w, "unknown group name '%.*s'", (int)len, s);
		return textfsm_regex_groupref(w, g);
	}
	if (left >= 1 && rest[0] == '#') {
		const char *end = memchr(rest, ')', left);

		if (!end)
			return textfsm_regex_fail(w, "missing ), unterminated comment");
		w->i += (size_t)(end - rest) + 1;
		return 0;
	}
	if (left >= 1 && (rest[0] == ':' || rest[0] == '=' || rest[0] == '!' || rest[0] == '>')) {
		buf_puts(&w->out, "(?");
		buf_putc(&w->out, rest[0]);
		w->i++;
		return textfsm_regex_push(w, 0);
	}
	if (left >= 2 && rest[0] == '<' && (rest[1] == '=' || rest[1] == '!')) {
		buf_puts(&w->out, "(?<");
		buf_putc(&w->out, rest[1]);
		w->i += 2;
		return textfsm_regex_push(w, 0);
	}
	if (left >= 1 && rest[0] == '(') {
		w->i++;
		return textfsm_regex_cond(w);
	}
	if (left >= 1 && (strchr("imsuxaL-", rest[0])))
		return textfsm_regex_flags(w, at);
	return textfsm_regex_fail(w, "unknown extension ?%.*s (Python's re has no such group; named groups "
	                             "are written (?P<name>...))",
	                          left ? 1 : 0, rest);
}

/* A brace: Python's quantifier {m}, {m,}, {,n}, {m,n} (PCRE2 10.42 reads
 * {,n} as text, so the 0 is written), or a literal '{'. */
static void textfsm_regex_brace(struct textfsm_regex_walk *w)
{
	size_t j = w->i, lo = j, hi;
	bool comma = false;

	while (j < w->n && isdigit((unsigned char)w->p[j]))
		j++;
	hi = j;
	if (j < w->n && w->p[j] == ',') {
		comma = true;
		j++;
		while (j < w->n && isdigit((unsigned char)w->p[j]))
			j++;
	}
	if (j >= w->n || w->p[j] != '}' || (j == w->i && !comma)) {
		buf_puts(&w->out, "\\{");
		return;
	}
	buf_putc(&w->out, '{');
	if (hi == lo)
		buf_putc(&w->out, '0');
	else
		buf_append(&w->out, w->p + lo, hi - lo);
	if (comma) {
		buf_putc(&w->out, ',');
		buf_append(&w->out, w->p + hi + 1, j - hi - 1);
	}
	buf_putc(&w->out, '}');
	w->i = j + 1;
}

static int textfsm_regex_step(struct textfsm_regex_walk *w)
{
	size_t at = w->i;
	char c = w->p[w->i++];

	switch (c) {
	case '\\':
		return textfsm_regex_escape(w, false);
	case '[':
		return textfsm_regex_set(w);
	case '(':
		if (w->i < w->n && w->p[w->i] == '?') {
			w->i++;
			return textfsm_regex_extension(w, at);
		}
		return textfsm_regex_group(w, NULL, 0);
	case ')':
		if (w->depth == 0) {
			w->i--;
			return textfsm_regex_fail(w, "unbalanced parenthesis");
		}
		w->depth--;
		if (w->stack[w->depth])
			w->closed[w->stack[w->depth]] = true;
		buf_putc(&w->out, ')');
		return 0;
	case '{':
		textfsm_regex_brace(w);
		return 0;
	case ']':
		/* text in both; escaped, so PCRE2 never reads it otherwise */
		buf_puts(&w->out, "\\]");
		return 0;
	default:
		buf_putc(&w->out, c);
		return 0;
	}
}

int textfsm_regex_translate(const char *py, size_t len, char **pattern, size_t *ngroups, char ***names, char *why,
                            size_t whylen)
{
	struct textfsm_regex_walk w = {.p = py, .n = len, .out = BUF_INIT, .why = why, .whylen = whylen};
	int r = -1;

	w.names = xcalloc(1, sizeof(*w.names));
	w.closed = xcalloc(1, sizeof(*w.closed));
	while (w.i < w.n)
		if (textfsm_regex_step(&w) < 0)
			goto out;
	if (w.depth) {
		textfsm_regex_fail(&w, "missing ), unterminated subpattern");
		goto out;
	}
	if (w.cond_max > w.ngroups) {
		textfsm_regex_fail(&w, "invalid group reference %zu in a conditional", w.cond_max);
		goto out;
	}
	buf_reserve(&w.out, 1);
	*pattern = buf_steal(&w.out);
	*ngroups = w.ngroups;
	*names = w.names;
	w.names = NULL;
	r = 0;
out:
	if (w.names)
		for (size_t g = 0; g <= w.ngroups; g++)
			free(w.names[g]);
	free(w.names);
	free(w.closed);
	buf_free(&w.out);
	return r;
}

/* The bytes a match of pattern can start with, into re->first: a line
 * whose first byte is not one of them is no match, found without entering
 * PCRE2 at all (most lines match none of a state's rules). PCRE2 knows
 * the set only for unanchored patterns, so it is asked about a copy
 * compiled without the leading '^' and without PCRE2_ANCHORED: what an
 * unanchored match must start with, a match at the start must too. Left
 * unset (every byte may start a match) whenever PCRE2 does not know. */
static void textfsm_regex_first(const char *pattern, pcre2_compile_context *cc, struct textfsm_regex *re)
{
	const char *p = pattern[0] == '^' ? pattern + 1 : pattern;
	uint32_t type = 0, unit = 0;
	const uint8_t *bits = NULL;
	pcre2_code *code;
	int err;
	PCRE2_SIZE off;

	code = pcre2_compile((PCRE2_SPTR)p, PCRE2_ZERO_TERMINATED, PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF,
	                     &err, &off, cc);
	if (!code)
		return;
	if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTBITMAP, &bits) == 0 && bits) {
		memcpy(re->first, bits, sizeof(re->first));
		re->has_first = 1;
	} else if (pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODETYPE, &type) == 0 && type == 1 &&
	           pcre2_pattern_info(code, PCRE2_INFO_FIRSTCODEUNIT, &unit) == 0 && unit < 256) {
		/* PCRE2 does not say whether the unit is caseless: a letter
		 * stands for both its cases, and for every non-ASCII lead byte
		 * too (under UCP, k and s have other cases there, K and long s) */
		re->first[unit >> 3] |= 1u << (unit & 7);
		if (isalpha((int)unit) || unit >= 0x80) {
			unsigned other = isupper((int)unit) ? (unsigned)tolower((int)unit) : (unsigned)toupper((int)unit);

			re->first[other >> 3] |= 1u << (other & 7);
			memset(re->first + 16, 0xff, 16);
		}
		re->has_first = 1;
	}
	pcre2_code_free(code);
}

int textfsm_regex_compile(const char *py, size_t len, struct textfsm_regex *out, char *why, size_t whylen)
{
	pcre2_compile_context *cc = NULL;
	char *pattern = NULL;
	char **names = NULL;
	size_t ngroups = 0;
	pcre2_code *code = NULL;
	uint32_t count = 0;
	int code_err, r = -1;
	PCRE2_SIZE off;

	if (textfsm_regex_translate(py, len, &pattern, &ngroups, &names, why, whylen) < 0)
		return -1;
	cc = pcre2_compile_context_create(NULL);
	if (!cc) {
		snprintf(why, whylen, "out of memory");
		goto out;
	}
	/* Lines come without their ends; LF alone keeps '.' and '$' as Python's. */
	pcre2_set_newline(cc, PCRE2_NEWLINE_LF);
	code = pcre2_compile((PCRE2_SPTR)pattern, PCRE2_ZERO_TERMINATED,
	                     PCRE2_ANCHORED | PCRE2_UTF | PCRE2_UCP | PCRE2_MATCH_INVALID_UTF, &code_err, &off, cc);
	if (!code) {
		PCRE2_UCHAR msg[256];

		if (pcre2_get_error_message(code_err, msg, sizeof(msg)) < 0)
			snprintf((char *)msg, sizeof(msg), "error %d", code_err);
		snprintf(why, whylen, "%s (in the expression as PCRE2 reads it: %s)", (char *)msg, pattern);
		goto out;
	}
	/* The table of names is by number: both must count alike. */
	if (pcre2_pattern_info(code, PCRE2_INFO_CAPTURECOUNT, &count) != 0 || count != ngroups) {
		snprintf(why, whylen, "internal error: %u groups in PCRE2, %zu in the translation", count, ngroups);
		goto out;
	}
	/* Faster when the platform has a JIT; the interpreter otherwise. */
	out->jit = pcre2_jit_compile(code, PCRE2_JIT_COMPLETE) == 0;
	out->has_first = 0;
	memset(out->first, 0, sizeof(out->first));
	textfsm_regex_first(pattern, cc, out);
	out->code = code;
	out->ngroups = ngroups;
	out->names = names;
	code = NULL;
	names = NULL;
	r = 0;
out:
	if (names)
		for (size_t g = 0; g <= ngroups; g++)
			free(names[g]);
	free(names);
	pcre2_code_free(code);
	pcre2_compile_context_free(cc);
	free(pattern);
	return r;
}

int textfsm_regex_match(const struct textfsm_regex *re, const char *s, size_t n, pcre2_match_data *md)
{
	if (re->has_first && (!n || !(re->first[(unsigned char)s[0] >> 3] & (1u << ((unsigned char)s[0] & 7)))))
		return PCRE2_ERROR_NOMATCH;
	/* the JIT's own entry: pcre2_match's checks cost as much as a short match */
	int rc = re->jit ? pcre2_jit_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, NULL)
	                 : pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, 0, md, NULL);

	if (rc == PCRE2_ERROR_JIT_STACKLIMIT)
		rc = pcre2_match(re->code, (PCRE2_SPTR)s, n, 0, PCRE2_NO_JIT, md, NULL);
	return rc;
}

void textfsm_regex_free(struct textfsm_regex *re)
{
	if (!re)
		return;
	if (re->names)
		for (size_t g = 0; g <= re->ngroups; g++)
			free(re->names[g]);
	free(re->names);
	pcre2_code_free(re->code);
	memset(re, 0, sizeof(*re));
}
