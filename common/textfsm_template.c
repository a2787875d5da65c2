/* textfsm_template: a TextFSM template's text read into a program
 * (textfsm_prog.h), as the reference (Google's textfsm 1.1, Debian's
 * python3-textfsm) reads it: Value lines up to the first blank line, then
 * states, each a name and its rules up to a blank line; '#' lines are
 * comments. Its quirks are kept where a template written for the
 * reference depends on them: a Value line is split on single spaces, a
 * rule's action is after its last " ->", "$$" is a '$' and a lone '$' an
 * error, a rule's expression matches at the start of a line.
 *
 * Where this is stricter, on purpose (README, "Structured results"): a
 * template must be UTF-8 without NUL bytes, and two values whose names
 * differ only in case are refused (the records' keys are lowercased).
 * Every error names the template's file:line. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textfsm_prog.h"
#include "utf8.h"

struct textfsm_template {
	const char *path;
	const char *p;    /* the text */
	size_t n, pos;
	size_t lineno;    /* of the line last read */
	struct textfsm *t;
	struct err *err;
};

int textfsm_err_at(struct err *err, const char *path, size_t line, const char *fmt, ...)
{
	char msg[sizeof(err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	err_set(err, "%s:%zu: %s", path, line, msg);
	return -1;
}

#define textfsm_template_fail(tp, line, ...) textfsm_err_at((tp)->err, (tp)->path, (line), __VA_ARGS__)

/* The length of the Python whitespace character that ends at p[n-1], or
 * 0: ASCII's, the separators \x1c-\x1f, and Unicode's spaces. */
static size_t textfsm_template_space_end(const char *p, size_t n)
{
	static const char *const wide[] = {"\xc2\x85", "\xc2\xa0", "\xe1\x9a\x80", "\xe2\x80\xa8", "\xe2\x80\xa9",
	                                   "\xe2\x80\xaf", "\xe2\x81\x9f", "\xe3\x80\x80"};
	unsigned char c;

	if (!n)
		return 0;
	c = (unsigned char)p[n - 1];
	if (c == ' ' || (c >= '\t' && c <= '\r') || (c >= 0x1c && c <= 0x1f))
		return 1;
	if (n >= 3 && (unsigned char)p[n - 3] == 0xe2 && (unsigned char)p[n - 2] == 0x80 && c >= 0x80 && c <= 0x8a)
		return 3;
	for (size_t k = 0; k < ARRAY_LEN(wide); k++) {
		size_t l = strlen(wide[k]);

		if (n >= l && memcmp(p + n - l, wide[k], l) == 0)
			return l;
	}
	return 0;
}

/* The same at the start of p[0..n). */
static size_t textfsm_template_space_start(const char *p, size_t n)
{
	for (size_t l = 1; l <= 3 && l <= n; l++)
		if (textfsm_template_space_end(p, l) == l)
			return l;
	return 0;
}

/* The next line, its end (\n, \r\n or \r, as Python's text files read)
 * and trailing whitespace cut. False at the end of the text. */
static bool textfsm_template_line(struct textfsm_template *tp, const char **line, size_t *len)
{
	size_t start = tp->pos, end, l;

	if (tp->pos >= tp->n)
		return false;
	while (tp->pos < tp->n && tp->p[tp->pos] != '\n' && tp->p[tp->pos] != '\r')
		tp->pos++;
	end = tp->pos;
	if (tp->pos < tp->n && tp->p[tp->pos] == '\r')
		tp->pos++;
	if (tp->pos < tp->n && tp->p[tp->pos] == '\n' && (tp->pos == end || tp->p[tp->pos - 1] == '\r'))
		tp->pos++;
	tp->lineno++;
	while ((l = textfsm_template_space_end(tp->p + start, end - start)))
		end -= l;
	*line = tp->p + start;
	*len = end - start;
	return true;
}

static bool textfsm_template_comment(const char *s, size_t n)
{
	size_t l;

	while ((l = textfsm_template_space_start(s, n))) {
		s += l;
		n -= l;
	}
	return n && s[0] == '#';
}

static bool textfsm_template_is(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && memcmp(s, word, n) == 0;
}

static const char *const textfsm_template_opt_names[TEXTFSM_NOPTS] = {"Filldown", "Fillup", "Key", "Required", "List"};

/* The options of a Value line, "Filldown,Required". */
static int textfsm_template_options(struct textfsm_template *tp, struct textfsm_value *v, const char *s, size_t n)
{
	const char *end = s + n;

	for (;;) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		size_t l = (size_t)((comma ? comma : end) - s);
		int k;

		for (k = 0; k < TEXTFSM_NOPTS; k++)
			if (textfsm_template_is(s, l, textfsm_template_opt_names[k]))
				break;
		if (k == TEXTFSM_NOPTS)
			return textfsm_template_fail(tp, tp->lineno,
			                        "unknown option \"%.*s\" (expected Filldown, Fillup, Key, Required or List)",
			                        (int)l, s);
		if (v->opts & (1u << k))
			return textfsm_template_fail(tp, tp->lineno, "duplicate option \"%s\"", textfsm_template_opt_names[k]);
		if (k == 4 && !(v->opts & TEXTFSM_OPT_REQUIRED))
			v->list_first = true;
		v->opts |= 1u << k;
		if (!comma)
			return 0;
		s = comma + 1;
	}
}

/* A List value's own expression: the dict of its named groups. */
static int textfsm_template_list_re(struct textfsm_template *tp, struct textfsm_value *v, const char *re, size_t n)
{
	char why[512];

	if (textfsm_regex_compile(re, n, &v->list_re, why, sizeof(why)) < 0)
		return textfsm_template_fail(tp, tp->lineno, "value '%s': %s", v->name, why);
	v->list_keys = xcalloc(v->list_re.ngroups + 1, sizeof(*v->list_keys));
	v->list_groups = xcalloc(v->list_re.ngroups + 1, sizeof(*v->list_groups));
	for (size_t g = 1; g <= v->list_re.ngroups; g++)
		if (v->list_re.names[g]) {
			v->list_keys[v->nlist] = v->list_re.names[g];
			v->list_groups[v->nlist++] = g;
		}
	return 0;
}

static int textfsm_template_value_check(struct textfsm_template *tp, struct textfsm_value *v)
{
	struct textfsm *t = tp->t;

	for (size_t i = 0; i < t->nvalues; i++) {
		if (strcmp(t->values[i].name, v->name) == 0)
			return textfsm_template_fail(tp, tp->lineno, "duplicate declarations for Value '%s'", v->name);
		if (strcmp(t->values[i].key, v->key) == 0)
			return textfsm_template_fail(tp, tp->lineno,
			                        "Value '%s' and Value '%s' (line %zu) differ only in case: the records' "
			                        "keys are lowercased",
			                        v->name, t->values[i].name, t->values[i].line);
	}
	return 0;
}

/* "Value [OPTIONS] NAME (REGEX)", split on single spaces as the reference
 * splits it (two spaces make an empty word). */
static int textfsm_template_value(struct textfsm_template *tp, const char *s, size_t n)
{
	struct textfsm_value v = {0};
	const char *end = s + n, *w1 = s + 6, *e1, *w2, *e2, *re, *name;
	size_t namelen, relen, count = 0;
	int r = -1;

	v.line = tp->lineno;
	e1 = memchr(w1, ' ', (size_t)(end - w1));
	if (!e1) {
		textfsm_template_fail(tp, tp->lineno, "expected at least 3 words: Value [OPTIONS] NAME (REGEX)");
		goto out;
	}
	w2 = e1 + 1;
	e2 = memchr(w2, ' ', (size_t)(end - w2));
	if (!e2)
		e2 = end;
	if (w2 < end && *w2 == '(') {
		name = w1, namelen = (size_t)(e1 - w1), re = w2;
	} else {
		if (textfsm_template_options(tp, &v, w1, (size_t)(e1 - w1)) < 0)
			goto out;
		name = w2, namelen = (size_t)(e2 - w2), re = e2 < end ? e2 + 1 : end;
	}
	relen = (size_t)(end - re);
	v.name = xstrndup(name, namelen);
	if (namelen > TEXTFSM_MAX_NAME) {
		textfsm_template_fail(tp, tp->lineno, "invalid Value name '%s' or name longer than %d", v.name,
		                 TEXTFSM_MAX_NAME);
		goto out;
	}
	for (size_t k = 0; k < relen; k++)
		count += re[k] == '(' ? 1 : re[k] == ')' ? -1 : 0;
	if (relen < 2 || re[0] != '(' || re[relen - 1] != ')' || count) {
		textfsm_template_fail(tp, tp->lineno, "Value '%s': its expression '%.*s' must be within a '()' pair", v.name,
		                 (int)relen, re);
		goto out;
	}
	v.key = xstrdup(v.name);
	for (char *c = v.key; *c; c++)
		*c = (char)tolower((unsigned char)*c);
	v.tmpl = xasprintf("(?P<%s>%.*s", v.name, (int)(relen - 1), re + 1);
	if (textfsm_template_value_check(tp, &v) < 0)
		goto out;
	if ((v.opts & TEXTFSM_OPT_LIST) && textfsm_template_list_re(tp, &v, re, relen) < 0)
		goto out;
	tp->t->values = xreallocarray(tp->t->values, tp->t->nvalues + 1, sizeof(v));
	tp->t->values[tp->t->nvalues++] = v;
	memset(&v, 0, sizeof(v));
	r = 0;
out:
	free(v.name);
	free(v.key);
	free(v.tmpl);
	textfsm_regex_free(&v.list_re);
	free(v.list_keys);
	free(v.list_groups);
	return r;
}

/* The Value lines, up to the first blank line. */
static int textfsm_template_values(struct textfsm_template *tp)
{
	const char *s;
	size_t n;

	while (textfsm_template_line(tp, &s, &n)) {
		if (!n)
			return 0;
		if (textfsm_template_comment(s, n))
			continue;
		if (n >= 6 && memcmp(s, "Value ", 6) == 0) {
			if (textfsm_template_value(tp, s, n) < 0)
				return -1;
		} else if (!tp->t->nvalues) {
			return textfsm_template_fail(tp, tp->lineno, "expected Value definitions first (Value [OPTIONS] NAME (REGEX))");
		} else {
			return textfsm_template_fail(tp, tp->lineno, "expected a blank line after the last Value line");
		}
	}
	return 0;
}

static const char *const textfsm_template_lineops[] = {"Next", "Continue", "Error"};
static const char *const textfsm_template_recops[] = {"NoRecord", "Record", "Clear", "Clearall"};

/* A word of \w characters (non-ASCII counted in, as Python's Unicode \w
 * counts most of it). */
static size_t textfsm_template_word(const char *s, size_t n)
{
	size_t k = 0;

	while (k < n && (isalnum((unsigned char)s[k]) || s[k] == '_' || (unsigned char)s[k] >= 0x80))
		k++;
	return k;
}

static int textfsm_template_lookup(const char *const *words, size_t nwords, const char *s, size_t n)
{
	for (size_t k = 0; k < nwords; k++)
		if (textfsm_template_is(s, n, words[k]))
			return (int)k;
	return -1;
}

static int textfsm_template_lineop(const char *s, size_t n)
{
	return textfsm_template_lookup(textfsm_template_lineops, ARRAY_LEN(textfsm_template_lineops), s, n);
}

static int textfsm_template_recop(const char *s, size_t n)
{
	return textfsm_template_lookup(textfsm_template_recops, ARRAY_LEN(textfsm_template_recops), s, n);
}

static size_t textfsm_template_skip_space(const char *s, size_t n)
{
	size_t k = 0, l;

	while ((l = textfsm_template_space_start(s + k, n - k)))
		k += l;
	return k;
}

/* The part after "->": [LINEOP[.RECORDOP] | RECORDOP] [STATE | "message"],
 * each part after whitespace. */
static int textfsm_template_action(struct textfsm_template *tp, struct textfsm_rule *ru, const char *s, size_t n)
{
	size_t k = 0, sp, w;
	int op;

	if (!n)
		return 0;
	if (!(sp = textfsm_template_skip_space(s, n)))
		goto bad;
	k = sp;
	w = textfsm_template_word(s + k, n - k);
	if ((op = textfsm_template_lineop(s + k, w)) >= 0) {
		ru->line_op = (enum textfsm_line_op)op;
		k += w;
		if (k < n && s[k] == '.') {
			k++;
			w = textfsm_template_word(s + k, n - k);
			op = textfsm_template_recop(s + k, w);
			if (op < 0)
				goto bad;
			ru->record_op = (enum textfsm_record_op)op;
			k += w;
		}
	} else if ((op = textfsm_template_recop(s + k, w)) >= 0) {
		ru->record_op = (enum textfsm_record_op)op;
		k += w;
	} else {
		k = 0; /* a state alone */
	}
	if (k == n)
		return 0;
	if (!(sp = textfsm_template_skip_space(s + k, n - k)))
		goto bad;
	k += sp;
	w = textfsm_template_word(s + k, n - k);
	if (!(w && k + w == n) && !(s[k] == '"' && n - k >= 2 && s[n - 1] == '"'))
		goto bad;
	ru->next_name = xstrndup(s + k, n - k);
	if (ru->line_op == TEXTFSM_CONTINUE)
		return textfsm_template_fail(tp, tp->lineno, "Continue cannot change state (-> %s): the line would be "
		                                        "matched again in the new state",
		                        ru->next_name);
	if (ru->line_op != TEXTFSM_ERROR && !w)
		return textfsm_template_fail(tp, tp->lineno, "a state name is letters, digits and '_' only, not %s",
		                        ru->next_name);
	return 0;
bad:
	return textfsm_template_fail(tp, tp->lineno,
	                        "badly formatted action '%.*s' (expected [Next|Continue|Error][.Record|.NoRecord|.Clear|"
	                        ".Clearall] [STATE|\"message\"])",
	                        (int)n, s);
}

/* ${name} and $name in a rule become the value's expression, $$ a '$';
 * any other '$' is an error (string.Template's rules). */
static int textfsm_template_subst(struct textfsm_template *tp, const char *s, size_t n, struct buf *out)
{
	for (size_t k = 0; k < n; k++) {
		size_t start, len;
		bool braced;

		if (s[k] != '$') {
			buf_putc(out, s[k]);
			continue;
		}
		if (k + 1 < n && s[k + 1] == '$') {
			buf_putc(out, '$');
			k++;
			continue;
		}
		braced = k + 1 < n && s[k + 1] == '{';
		start = k + 1 + braced;
		len = 0;
		if (start < n && (isalpha((unsigned char)s[start]) || s[start] == '_'))
			while (start + len < n && (isalnum((unsigned char)s[start + len]) || s[start + len] == '_'))
				len++;
		if (!len || (braced && (start + len >= n || s[start + len] != '}')))
			return textfsm_template_fail(tp, tp->lineno, "invalid '$' at column %zu: write ${Value} for a "
			                                        "value, $$ for a '$'",
			                        k + 1);
		size_t i;
		for (i = 0; i < tp->t->nvalues; i++)
			if (textfsm_template_is(s + start, len, tp->t->values[i].name))
				break;
		if (i == tp->t->nvalues)
			return textfsm_template_fail(tp, tp->lineno, "unknown value '%.*s' (no Value line declares it)",
			                        (int)len, s + start);
		buf_puts(out, tp->t->values[i].tmpl);
		k = start + len - 1 + braced;
	}
	return 0;
}

/* The groups of the rule's expression that are values. */
static void textfsm_template_assigns(struct textfsm *t, struct textfsm_rule *ru)
{
	ru->assign = xcalloc(ru->re.ngroups + 1, sizeof(*ru->assign));
	for (size_t g = 1; g <= ru->re.ngroups; g++) {
		if (!ru->re.names[g])
			continue;
		for (size_t i = 0; i < t->nvalues; i++)
			if (strcmp(ru->re.names[g], t->values[i].name) == 0) {
				ru->assign[ru->nassign].group = g;
				ru->assign[ru->nassign++].value = i;
				break;
			}
	}
	if (ru->re.ngroups > t->max_groups)
		t->max_groups = ru->re.ngroups;
}

/* One rule: "^regex [-> action]", whitespace at both ends cut. */
static int textfsm_template_rule(struct textfsm_template *tp, struct textfsm_state *st, const char *s, size_t n)
{
	struct textfsm_rule ru = {.next = TEXTFSM_STAY, .line = tp->lineno};
	struct buf re = BUF_INIT;
	size_t l, match;
	char why[768];
	int r = -1;

	while ((l = textfsm_template_space_start(s, n)))
		s += l, n -= l;
	match = n;
	/* the action is after the last whitespace-then-"->" */
	for (size_t k = n; k-- > 0;)
		if (k + 3 <= n && memcmp(s + k + 1, "->", 2) == 0 && textfsm_template_space_end(s, k + 1)) {
			match = k + 1 - textfsm_template_space_end(s, k + 1);
			if (textfsm_template_action(tp, &ru, s + k + 3, n - k - 3) < 0)
				goto out;
			break;
		}
	if (tp->t->nvalues) {
		if (textfsm_template_subst(tp, s, match, &re) < 0)
			goto out;
	} else {
		buf_append(&re, s, match);
	}
	buf_reserve(&re, 1);
	if (textfsm_regex_compile(re.data, re.len, &ru.re, why, sizeof(why)) < 0) {
		textfsm_template_fail(tp, tp->lineno, "invalid expression '%.*s': %s", (int)match, s, why);
		goto out;
	}
	textfsm_template_assigns(tp->t, &ru);
	st->rules = xreallocarray(st->rules, st->nrules + 1, sizeof(ru));
	st->rules[st->nrules++] = ru;
	memset(&ru, 0, sizeof(ru));
	r = 0;
out:
	textfsm_regex_free(&ru.re);
	free(ru.next_name);
	free(ru.assign);
	buf_free(&re);
	return r;
}

static int textfsm_template_state_name(struct textfsm_template *tp, const char *s, size_t n)
{
	struct textfsm *t = tp->t;
	size_t w = textfsm_template_word(s, n);

	if (w != n || n > TEXTFSM_MAX_NAME ||
	    textfsm_template_lineop(s, n) >= 0 ||
	    textfsm_template_recop(s, n) >= 0)
		return textfsm_template_fail(tp, tp->lineno,
		                        "invalid state name '%.*s' (letters, digits and '_', at most %d, not an action)",
		                        (int)n, s, TEXTFSM_MAX_NAME);
	for (size_t i = 0; i < t->nstates; i++)
		if (textfsm_template_is(s, n, t->states[i].name))
			return textfsm_template_fail(tp, tp->lineno, "duplicate state name '%.*s' (line %zu)", (int)n, s,
			                        t->states[i].line);
	t->states = xreallocarray(t->states, t->nstates + 1, sizeof(*t->states));
	memset(&t->states[t->nstates], 0, sizeof(*t->states));
	t->states[t->nstates].name = xstrndup(s, n);
	t->states[t->nstates++].line = tp->lineno;
	return 0;
}

/* The states: a name, then its rules, each starting with one or two
 * spaces or a tab and '^', up to a blank line. */
static int textfsm_template_states(struct textfsm_template *tp)
{
	const char *s;
	size_t n;

	for (;;) {
		struct textfsm_state *st;

		do {
			if (!textfsm_template_line(tp, &s, &n))
				return 0;
		} while (!n || textfsm_template_comment(s, n));
		if (textfsm_template_state_name(tp, s, n) < 0)
			return -1;
		while (textfsm_template_line(tp, &s, &n) && n) {
			if (textfsm_template_comment(s, n))
				continue;
			if (!((n >= 2 && memcmp(s, " ^", 2) == 0) || (n >= 3 && memcmp(s, "  ^", 3) == 0) ||
			      (n >= 2 && memcmp(s, "\t^", 2) == 0)))
				return textfsm_template_fail(tp, tp->lineno, "expected a rule: one or two spaces or a tab, then "
				                                        "'^' (or a blank line to end the state)");
			st = &tp->t->states[tp->t->nstates - 1];
			if (textfsm_template_rule(tp, st, s, n) < 0)
				return -1;
		}
	}
}

static size_t textfsm_template_find_state(const struct textfsm *t, const char *name)
{
	for (size_t i = 0; i < t->nstates; i++)
		if (strcmp(t->states[i].name, name) == 0)
			return i;
	return TEXTFSM_STAY;
}

/* Start must be there; End and EOF must be empty; every state a rule goes
 * to must exist. */
static int textfsm_template_resolve(struct textfsm_template *tp)
{
	struct textfsm *t = tp->t;
	size_t i;

	if ((t->start = textfsm_template_find_state(t, "Start")) == TEXTFSM_STAY)
		return textfsm_template_fail(tp, tp->lineno, "no 'Start' state (the state parsing begins in)");
	for (i = 0; i < t->nstates; i++) {
		struct textfsm_state *st = &t->states[i];

		if ((strcmp(st->name, "End") == 0 || strcmp(st->name, "EOF") == 0) && st->nrules)
			return textfsm_template_fail(tp, st->line, "the '%s' state must be empty", st->name);
		t->has_eof |= strcmp(st->name, "EOF") == 0;
		for (size_t k = 0; k < st->nrules; k++) {
			struct textfsm_rule *ru = &st->rules[k];

			if (!ru->next_name || ru->line_op == TEXTFSM_ERROR)
				continue;
			if (strcmp(ru->next_name, "End") == 0)
				ru->next = TEXTFSM_TO_END;
			else if (strcmp(ru->next_name, "EOF") == 0)
				ru->next = TEXTFSM_TO_EOF;
			else if ((ru->next = textfsm_template_find_state(t, ru->next_name)) == TEXTFSM_STAY)
				return textfsm_template_fail(tp, ru->line, "state '%s' not found (rule of state '%s')",
				                        ru->next_name, st->name);
		}
	}
	for (i = 0; i < t->nvalues; i++)
		if (t->values[i].list_re.ngroups > t->max_groups)
			t->max_groups = t->values[i].list_re.ngroups;
	t->md = pcre2_match_data_create((uint32_t)t->max_groups + 1, NULL);
	t->md_list = pcre2_match_data_create((uint32_t)t->max_groups + 1, NULL);
	if (!t->md || !t->md_list)
		return textfsm_template_fail(tp, tp->lineno, "out of memory");
	return 0;
}

int textfsm_compile(const char *path, const char *text, size_t len, struct textfsm **out, struct err *err)
{
	struct textfsm_template tp = {.path = path, .p = text, .n = len, .err = err};
	const char *nul = memchr(text, 0, len);
	int r = -1;

	tp.t = xcalloc(1, sizeof(*tp.t));
	tp.t->path = xstrdup(path);
	if (len > TEXTFSM_MAX_TEMPLATE) {
		err_set(err, "%s: larger than %d bytes", path, TEXTFSM_MAX_TEMPLATE);
		goto out;
	}
	if (nul || !utf8_valid((const unsigned char *)text, len)) {
		size_t line = 1, at = nul ? (size_t)(nul - text) : len;

		for (size_t k = 0; k < at; k++)
			line += text[k] == '\n';
		err_set(err, "%s:%zu: %s", path, nul ? line : (size_t)1,
		        nul ? "a NUL byte: a template is text" : "not UTF-8 text");
		goto out;
	}
	if (textfsm_template_values(&tp) < 0 || textfsm_template_states(&tp) < 0 || textfsm_template_resolve(&tp) < 0)
		goto out;
	*out = tp.t;
	tp.t = NULL;
	r = 0;
out:
	textfsm_free(tp.t);
	return r;
}

size_t textfsm_nvalues(const struct textfsm *t)
{
	return t->nvalues;
}

const char *textfsm_value_name(const struct textfsm *t, size_t i)
{
	return t->values[i].name;
}

const char *textfsm_value_key(const struct textfsm *t, size_t i)
{
	return t->values[i].key;
}

bool textfsm_value_required(const struct textfsm *t, size_t i)
{
	return (t->values[i].opts & TEXTFSM_OPT_REQUIRED) != 0;
}

size_t textfsm_value_line(const struct textfsm *t, size_t i)
{
	return t->values[i].line;
}

const char *textfsm_path(const struct textfsm *t)
{
	return t->path;
}

void textfsm_free(struct textfsm *t)
{
	if (!t)
		return;
	for (size_t i = 0; i < t->nvalues; i++) {
		struct textfsm_value *v = &t->values[i];

		free(v->name);
		free(v->key);
		free(v->tmpl);
		textfsm_regex_free(&v->list_re);
		free(v->list_keys);
		free(v->list_groups);
	}
	for (size_t i = 0; i < t->nstates; i++) {
		for (size_t k = 0; k < t->states[i].nrules; k++) {
			textfsm_regex_free(&t->states[i].rules[k].re);
			free(t->states[i].rules[k].next_name);
			free(t->states[i].rules[k].assign);
		}
		free(t->states[i].rules);
		free(t->states[i].name);
	}
	free(t->values);
	free(t->states);
	pcre2_match_data_free(t->md);
	pcre2_match_data_free(t->md_list);
	free(t->path);
	free(t);
}
