/* textfsm_engine: a compiled template (textfsm_prog.h) run over input
 * text, line by line, into records. Apart from the template parser: this
 * is the part that runs per host, and the part whose semantics the
 * differential test (tests/integration/test_textfsm_diff.py) holds
 * against the reference.
 *
 * The reference's behaviour, kept here:
 * - lines end where Python's str.splitlines ends them (\n, \r\n, \r, \v,
 *   \f, \x1c-\x1e, U+0085, U+2028, U+2029);
 * - in the current state, rules are tried in order; the first whose
 *   expression matches at the start of the line sets every value its
 *   groups name (a group that took no part sets the value to none), then
 *   its record action runs, then its line action: Next (the default) takes
 *   the next line, in the new state if the rule names one; Continue tries
 *   the following rules on the same line; Error ends the parse;
 * - reaching End or EOF stops reading; at the end of input a record is
 *   saved, unless the state is End or the template has an EOF state;
 * - saving a record: a Required value that is empty skips it (and clears),
 *   a record of nothing but empty values is not saved (and not cleared);
 *   empty values come out as "";
 * - Filldown keeps its last value across Clear (not Clearall); Fillup,
 *   when set, fills the empty cells of earlier records upward until one is
 *   set; a List value gathers every match since the last Clear, each as a
 *   string, or as a dict of its expression's named groups when it has
 *   more than one group. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

#include "textfsm_prog.h"

/* A value while parsing. */
struct textfsm_engine_var {
	struct textfsm_cell cur;      /* NULL or STR */
	struct textfsm_cell filldown; /* Filldown's kept value: NULL or STR */
	struct textfsm_cell list;     /* List's items: a LIST */
	size_t cap;                   /* of list.items */
};

struct textfsm_engine {
	struct textfsm *t;
	struct textfsm_engine_var *vars; /* [t->nvalues] */
	struct textfsm_records rec;
	size_t rec_cap;               /* rows */
	size_t state;                 /* an index, or TEXTFSM_TO_END / _TO_EOF */
	struct err *err;
};

static void textfsm_engine_cell_free(struct textfsm_cell *c)
{
	if (c->kind == TEXTFSM_LIST || c->kind == TEXTFSM_DICT) {
		for (size_t i = 0; i < c->len; i++)
			textfsm_engine_cell_free(&c->items[i]);
		free(c->items);
	}
	free(c->str);
	memset(c, 0, sizeof(*c));
}

static void textfsm_engine_cell_str(struct textfsm_cell *c, const char *s, size_t n)
{
	/* a value set line after line: its last string holds len + 1 bytes */
	if (c->kind == TEXTFSM_STR && c->str && c->len >= n) {
		memmove(c->str, s, n);
		c->str[n] = '\0';
		c->len = n;
		return;
	}
	textfsm_engine_cell_free(c);
	c->kind = TEXTFSM_STR;
	c->str = xstrndup(s, n);
	c->len = n;
}

static void textfsm_engine_cell_copy(struct textfsm_cell *dst, const struct textfsm_cell *src)
{
	textfsm_engine_cell_free(dst);
	*dst = *src;
	if (src->kind == TEXTFSM_STR) {
		dst->str = xstrndup(src->str, src->len);
	} else if (src->kind == TEXTFSM_LIST || src->kind == TEXTFSM_DICT) {
		dst->items = src->len ? xcalloc(src->len, sizeof(*dst->items)) : NULL;
		for (size_t i = 0; i < src->len; i++)
			textfsm_engine_cell_copy(&dst->items[i], &src->items[i]);
	}
}

/* Python's truth of a value: a non-empty string or list. */
static bool textfsm_engine_truthy(const struct textfsm_cell *c)
{
	return (c->kind == TEXTFSM_STR || c->kind == TEXTFSM_LIST) && c->len > 0;
}

static struct textfsm_cell *textfsm_engine_list_push(struct textfsm_engine_var *var)
{
	if (var->list.len == var->cap) {
		var->cap = var->cap ? var->cap * 2 : 4;
		var->list.items = xreallocarray(var->list.items, var->cap, sizeof(*var->list.items));
	}
	memset(&var->list.items[var->list.len], 0, sizeof(*var->list.items));
	return &var->list.items[var->list.len++];
}

static void textfsm_engine_list_clear(struct textfsm_engine_var *var)
{
	for (size_t i = 0; i < var->list.len; i++)
		textfsm_engine_cell_free(&var->list.items[i]);
	var->list.len = 0;
}

/* List: the item a match adds. */
static void textfsm_engine_list_add(struct textfsm_engine *e, const struct textfsm_value *v,
                                    struct textfsm_engine_var *var)
{
	struct textfsm_cell *item = textfsm_engine_list_push(var);
	PCRE2_SIZE *ov;

	if (var->cur.kind == TEXTFSM_STR && v->list_re.ngroups > 1 && v->nlist &&
	    textfsm_regex_match(&v->list_re, var->cur.str, var->cur.len, e->t->md_list) >= 0) {
		ov = pcre2_get_ovector_pointer(e->t->md_list);
		item->kind = TEXTFSM_DICT;
		item->len = v->nlist;
		item->keys = v->list_keys;
		item->items = xcalloc(v->nlist, sizeof(*item->items));
		for (size_t k = 0; k < v->nlist; k++) {
			size_t g = v->list_groups[k];

			if (ov[2 * g] != PCRE2_UNSET)
				textfsm_engine_cell_str(&item->items[k], var->cur.str + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
		}
		return;
	}
	textfsm_engine_cell_copy(item, &var->cur);
}

/* Fillup: the value set now fills the empty cells above it. */
static void textfsm_engine_fillup(struct textfsm_engine *e, size_t idx)
{
	const struct textfsm_cell *cur = &e->vars[idx].cur;

	if (!textfsm_engine_truthy(cur))
		return;
	for (size_t r = e->rec.n; r-- > 0;) {
		struct textfsm_cell *c = &e->rec.cells[r * e->rec.nvalues + idx];

		if (textfsm_engine_truthy(c))
			break;
		textfsm_engine_cell_copy(c, cur);
	}
}

/* A value set by a match: s[0..n), or none (s NULL). */
static void textfsm_engine_assign(struct textfsm_engine *e, size_t idx, const char *s, size_t n)
{
	const struct textfsm_value *v = &e->t->values[idx];
	struct textfsm_engine_var *var = &e->vars[idx];

	if (s)
		textfsm_engine_cell_str(&var->cur, s, n);
	else
		textfsm_engine_cell_free(&var->cur);
	if (v->opts & TEXTFSM_OPT_FILLDOWN)
		textfsm_engine_cell_copy(&var->filldown, &var->cur);
	if (v->opts & TEXTFSM_OPT_FILLUP)
		textfsm_engine_fillup(e, idx);
	if (v->opts & TEXTFSM_OPT_LIST)
		textfsm_engine_list_add(e, v, var);
}

/* Clear: every value but a Filldown's (which takes its kept value back). */
static void textfsm_engine_clear(struct textfsm_engine *e)
{
	for (size_t i = 0; i < e->t->nvalues; i++) {
		const struct textfsm_value *v = &e->t->values[i];
		struct textfsm_engine_var *var = &e->vars[i];

		textfsm_engine_cell_free(&var->cur);
		if (v->opts & TEXTFSM_OPT_FILLDOWN)
			textfsm_engine_cell_copy(&var->cur, &var->filldown);
		else if (v->opts & TEXTFSM_OPT_LIST)
			textfsm_engine_list_clear(var);
	}
}

static void textfsm_engine_clearall(struct textfsm_engine *e)
{
	for (size_t i = 0; i < e->t->nvalues; i++) {
		textfsm_engine_cell_free(&e->vars[i].cur);
		textfsm_engine_cell_free(&e->vars[i].filldown);
		textfsm_engine_list_clear(&e->vars[i]);
	}
}

/* Whether value i lets the record be saved: false when it is Required and
 * empty. Which thing Required looks at depends on the order of the
 * options: after List, the list; before it, the last value set. *empty
 * stays true while every value so far is empty. */
static bool textfsm_engine_check_cell(const struct textfsm_engine *e, size_t i, bool *empty)
{
	const struct textfsm_value *v = &e->t->values[i];
	const struct textfsm_engine_var *var = &e->vars[i];

	if (v->opts & TEXTFSM_OPT_LIST) {
		if ((v->opts & TEXTFSM_OPT_REQUIRED) && !(v->list_first ? var->list.len : textfsm_engine_truthy(&var->cur)))
			return false;
		*empty &= !var->list.len;
		return true;
	}
	if ((v->opts & TEXTFSM_OPT_REQUIRED) && !textfsm_engine_truthy(&var->cur))
		return false;
	*empty &= var->cur.kind == TEXTFSM_NULL;
	return true;
}

/* Value i into the record's cell. What the Clear after the record would
 * drop anyway (the value of neither Filldown nor List, which Clear frees)
 * is moved rather than copied: one string less to allocate and free per
 * value and record. */
static void textfsm_engine_save_cell(struct textfsm_engine *e, size_t i, struct textfsm_cell *cell)
{
	const struct textfsm_value *v = &e->t->values[i];
	struct textfsm_engine_var *var = &e->vars[i];

	if (v->opts & TEXTFSM_OPT_LIST)
		textfsm_engine_cell_copy(cell, &var->list);
	else if (v->opts & TEXTFSM_OPT_FILLDOWN)
		textfsm_engine_cell_copy(cell, &var->cur);
	else {
		*cell = var->cur;
		memset(&var->cur, 0, sizeof(var->cur));
	}
	if (cell->kind == TEXTFSM_NULL)
		textfsm_engine_cell_str(cell, "", 0);
}

static void textfsm_engine_record(struct textfsm_engine *e)
{
	size_t nv = e->t->nvalues, i;
	struct textfsm_cell *row;
	bool empty = true;

	if (!nv)
		return;
	for (i = 0; i < nv; i++)
		if (!textfsm_engine_check_cell(e, i, &empty)) {
			textfsm_engine_clear(e);
			return;
		}
	/* a record of nothing but empty values: not saved, not cleared */
	if (empty)
		return;
	if (e->rec.n == e->rec_cap) {
		e->rec_cap = e->rec_cap ? e->rec_cap * 2 : 16;
		e->rec.cells = xreallocarray(e->rec.cells, e->rec_cap * nv, sizeof(*e->rec.cells));
	}
	row = &e->rec.cells[e->rec.n * nv];
	memset(row, 0, nv * sizeof(*row));
	for (i = 0; i < nv; i++)
		textfsm_engine_save_cell(e, i, &row[i]);
	e->rec.n++;
	textfsm_engine_clear(e);
}

/* The bytes that may end a line (the first byte of U+0085, U+2028 and
 * U+2029 among them): the scan skips every other byte at one test each. */
static const unsigned char textfsm_engine_ends[256] = {
	['\n'] = 1, ['\v'] = 1, ['\f'] = 1, ['\r'] = 1, [0x1c] = 1, [0x1d] = 1, [0x1e] = 1, [0xc2] = 1, [0xe2] = 1,
};

#ifdef __SSE2__
/* How many bytes at the start of u[0..n) surely end no line, 16 at a
 * time: lines are tens of bytes long and this scan is a third of a parse
 * that matches little. The bytes left (a candidate, or the last < 16) go
 * through the table. SSE2 is in every x86-64. */
static size_t textfsm_engine_skip(const unsigned char *u, size_t n)
{
	const __m128i lo = _mm_set1_epi8('\n'), fs = _mm_set1_epi8(0x1c), c2 = _mm_set1_epi8((char)0xc2),
	              e2 = _mm_set1_epi8((char)0xe2), three = _mm_set1_epi8(3), two = _mm_set1_epi8(2);
	size_t k = 0;

	for (; k + 16 <= n; k += 16) {
		__m128i x = _mm_loadu_si128((const __m128i *)(u + k));
		/* x - base <= span (unsigned): min(d, span) == d */
		__m128i d1 = _mm_sub_epi8(x, lo), d2 = _mm_sub_epi8(x, fs);
		__m128i hit = _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(d1, three), d1),
		                           _mm_cmpeq_epi8(_mm_min_epu8(d2, two), d2));

		hit = _mm_or_si128(hit, _mm_or_si128(_mm_cmpeq_epi8(x, c2), _mm_cmpeq_epi8(x, e2)));
		if (_mm_movemask_epi8(hit))
			break;
	}
	return k;
}
#else
static size_t textfsm_engine_skip(const unsigned char *u, size_t n)
{
	return 0;
}
#endif

/* The end of the line at p[0..n): its length, and in *next where the
 * following line starts. */
static size_t textfsm_engine_line_end(const char *p, size_t n, size_t *next)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t k = textfsm_engine_skip(u, n);

	for (; k < n; k++) {
		if (!textfsm_engine_ends[u[k]])
			continue;
		if (u[k] == '\r') {
			*next = k + 1 + (k + 1 < n && u[k + 1] == '\n');
			return k;
		}
		if (u[k] == 0xc2) {
			if (k + 1 < n && u[k + 1] == 0x85) {
				*next = k + 2;
				return k;
			}
			continue;
		}
		if (u[k] == 0xe2) {
			if (k + 2 < n && u[k + 1] == 0x80 && (u[k + 2] == 0xa8 || u[k + 2] == 0xa9)) {
				*next = k + 3;
				return k;
			}
			continue;
		}
		*next = k + 1;
		return k;
	}
	*next = n;
	return n;
}

#define textfsm_engine_fail(e, line, ...) textfsm_err_at((e)->err, (e)->t->path, (line), __VA_ARGS__)

/* A rule's Error action. */
static int textfsm_engine_error(struct textfsm_engine *e, const struct textfsm_rule *ru, size_t lineno)
{
	const char *m = ru->next_name;
	size_t ml = m ? strlen(m) : 0;

	if (ml >= 2 && m[0] == '"')
		m++, ml -= 2;
	if (m)
		return textfsm_engine_fail(e, ru->line, "Error action in state '%s': %.*s (input line %zu)",
		                        e->t->states[e->state].name, (int)ml, m, lineno);
	return textfsm_engine_fail(e, ru->line, "Error action in state '%s' (input line %zu)", e->t->states[e->state].name,
	                        lineno);
}

/* One line through the current state's rules. */
static int textfsm_engine_line(struct textfsm_engine *e, const char *s, size_t n, size_t lineno)
{
	const struct textfsm_state *st = &e->t->states[e->state];

	for (size_t k = 0; k < st->nrules; k++) {
		const struct textfsm_rule *ru = &st->rules[k];
		PCRE2_SIZE *ov;
		int rc = textfsm_regex_match(&ru->re, s, n, e->t->md);

		if (rc == PCRE2_ERROR_NOMATCH)
			continue;
		if (rc < 0) {
			PCRE2_UCHAR msg[256];

			if (pcre2_get_error_message(rc, msg, sizeof(msg)) < 0)
				snprintf((char *)msg, sizeof(msg), "error %d", rc);
			return textfsm_engine_fail(e, ru->line, "matching input line %zu: %s", lineno, (char *)msg);
		}
		ov = pcre2_get_ovector_pointer(e->t->md);
		for (size_t a = 0; a < ru->nassign; a++) {
			size_t g = ru->assign[a].group;

			if (ov[2 * g] == PCRE2_UNSET)
				textfsm_engine_assign(e, ru->assign[a].value, NULL, 0);
			else
				textfsm_engine_assign(e, ru->assign[a].value, s + ov[2 * g], ov[2 * g + 1] - ov[2 * g]);
		}
		if (ru->record_op == TEXTFSM_RECORD)
			textfsm_engine_record(e);
		else if (ru->record_op == TEXTFSM_CLEAR)
			textfsm_engine_clear(e);
		else if (ru->record_op == TEXTFSM_CLEARALL)
			textfsm_engine_clearall(e);
		if (ru->line_op == TEXTFSM_ERROR)
			return textfsm_engine_error(e, ru, lineno);
		if (ru->line_op == TEXTFSM_CONTINUE)
			continue;
		if (ru->next != TEXTFSM_STAY)
			e->state = ru->next;
		break;
	}
	return 0;
}

int textfsm_parse(struct textfsm *t, const char *input, size_t len, struct textfsm_records *out, struct err *err)
{
	struct textfsm_engine e = {.t = t, .state = t->start, .err = err};
	size_t pos = 0, lineno = 0;
	int r = -1;

	textfsm_records_free(out);
	e.rec.nvalues = t->nvalues;
	e.vars = xcalloc(t->nvalues + 1, sizeof(*e.vars));
	for (size_t i = 0; i < t->nvalues; i++)
		e.vars[i].list.kind = TEXTFSM_LIST;
	while (pos < len) {
		size_t next, n = textfsm_engine_line_end(input + pos, len - pos, &next);

		if (textfsm_engine_line(&e, input + pos, n, ++lineno) < 0)
			goto out;
		pos += next;
		if (e.state == TEXTFSM_TO_END || e.state == TEXTFSM_TO_EOF)
			break;
	}
	if (e.state != TEXTFSM_TO_END && !t->has_eof)
		textfsm_engine_record(&e);
	*out = e.rec;
	memset(&e.rec, 0, sizeof(e.rec));
	r = 0;
out:
	for (size_t i = 0; i < t->nvalues; i++) {
		textfsm_engine_cell_free(&e.vars[i].cur);
		textfsm_engine_cell_free(&e.vars[i].filldown);
		textfsm_engine_cell_free(&e.vars[i].list);
	}
	free(e.vars);
	textfsm_records_free(&e.rec);
	return r;
}

void textfsm_records_free(struct textfsm_records *r)
{
	for (size_t i = 0; i < r->n * r->nvalues; i++)
		textfsm_engine_cell_free(&r->cells[i]);
	free(r->cells);
	memset(r, 0, sizeof(*r));
}
