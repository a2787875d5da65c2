/* shctx: the quoting context of POSIX shell text; see shctx.h. Written by
 * hand: a shell parser library would bring a whole grammar for what needs
 * only the quoting rules of one (dash's) shell. */
#include "shctx.h"

#include <string.h>

enum {
	K_CMD,     /* the command level */
	K_CMDSUB,  /* $( ... ) */
	K_BQ,      /* ` ... ` */
	K_DQ,      /* " ... " */
	K_SQ,      /* ' ... ' */
	K_ARITH,   /* $(( ... )) */
	K_HEREDOC, /* a here-document body: pending[body] */
	K_COMMENT, /* # to the end of the line */
};

void shctx_init(struct shctx *s)
{
	memset(s, 0, sizeof(*s));
	s->ctx[0] = K_CMD;
	s->depth = 1;
	s->word_start = true;
}

static unsigned shctx_top(const struct shctx *s)
{
	return s->ctx[s->depth - 1];
}

static void shctx_push(struct shctx *s, unsigned k)
{
	if (s->depth == SHCTX_DEPTH) {
		s->error = "quotes and substitutions nested too deep to follow";
		return;
	}
	s->ctx[s->depth] = (unsigned char)k;
	s->parens[s->depth] = 0;
	s->depth++;
}

static void shctx_pop(struct shctx *s)
{
	if (s->depth > 1)
		s->depth--;
}

static bool shctx_is_command(unsigned k)
{
	return k == K_CMD || k == K_CMDSUB || k == K_BQ;
}

/* Bytes that end an unquoted word (and so start the next one). */
static bool shctx_is_break(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || strchr(";&|()<>", c) != NULL;
}

/* After `<<` or `<<-`: the delimiter word. Quotes in it are removed and
 * make the body literal (no $ expansion), as POSIX says. Returns the bytes
 * taken from t. */
static size_t shctx_heredoc_word(struct shctx *s, const char *t, bool strip_tabs)
{
	struct shctx_heredoc *h;
	size_t i = 0, n = 0;
	char quote = 0;

	while (t[i] == ' ' || t[i] == '\t')
		i++;
	if (s->npending == SHCTX_HEREDOCS) {
		s->error = "too many here-documents on one line to follow";
		return i;
	}
	h = &s->pending[s->npending];
	memset(h, 0, sizeof(*h));
	h->strip_tabs = strip_tabs;
	for (; t[i]; i++) {
		char c = t[i];

		if (quote) {
			if (c == quote) {
				quote = 0;
				continue;
			}
		} else if (c == '\'' || c == '"') {
			quote = c;
			h->quoted = true;
			continue;
		} else if (c == '\\' && t[i + 1]) {
			h->quoted = true;
			c = t[++i];
		} else if (shctx_is_break(c)) {
			break;
		}
		if (n == SHCTX_DELIM_MAX) {
			s->error = "a here-document delimiter too long to follow";
			return i;
		}
		h->delim[n++] = c;
	}
	if (n == 0 && !h->quoted) {
		s->error = "'<<' without a here-document delimiter";
		return i;
	}
	s->npending++;
	return i;
}

/* At the start of a here-document line: the delimiter line ends the body
 * (and starts the next pending one). Returns the bytes of that line, or 0
 * when the line is body text. */
static size_t shctx_heredoc_end(struct shctx *s, const char *t)
{
	const struct shctx_heredoc *h = &s->pending[s->body];
	size_t i = 0, dl = strlen(h->delim);

	if (h->strip_tabs)
		while (t[i] == '\t')
			i++;
	if (strncmp(t + i, h->delim, dl) != 0 || (t[i + dl] != '\n' && t[i + dl] != '\0'))
		return 0;
	i += dl + (t[i + dl] == '\n');
	shctx_pop(s);
	s->body++;
	if (s->body < s->npending) {
		shctx_push(s, K_HEREDOC);
		s->line_start = true;
	} else {
		s->npending = s->body = 0;
		s->line_start = false;
		s->word_start = true;
	}
	return i;
}

/* $( and $(( in the contexts that expand them. */
static size_t shctx_dollar(struct shctx *s, const char *t)
{
	if (t[1] != '(')
		return 1;
	if (t[2] == '(') {
		shctx_push(s, K_ARITH);
		return 3;
	}
	shctx_push(s, K_CMDSUB);
	s->word_start = true;
	return 2;
}

/* Inside "..." and an expanding here-document body: a backslash escapes
 * the next byte, ` and $( start substitutions; the rest is text. */
static size_t shctx_feed_expanding(struct shctx *s, const char *t)
{
	if (*t == '\\')
		s->escaped = true;
	else if (*t == '`')
		shctx_push(s, K_BQ);
	else if (*t == '$')
		return shctx_dollar(s, t);
	return 1;
}

/* Inside $((...)): parentheses are counted to find the closing `))`;
 * substitutions nest. */
static size_t shctx_feed_arith(struct shctx *s, const char *t)
{
	unsigned *parens = &s->parens[s->depth - 1];

	if (*t == '(') {
		(*parens)++;
	} else if (*t == ')') {
		if (*parens == 0 && t[1] == ')') {
			shctx_pop(s);
			return 2;
		}
		if (*parens)
			(*parens)--;
	} else if (*t == '$') {
		return shctx_dollar(s, t);
	} else if (*t == '`') {
		shctx_push(s, K_BQ);
	}
	return 1;
}

/* The command level, $( ) and ` ` (k): words, quotes, operators,
 * comments, and the `<<` that announces a here-document. */
static size_t shctx_feed_command(struct shctx *s, const char *t, unsigned k)
{
	char c = *t;
	size_t n = 1;

	if (c == '#' && s->word_start) {
		shctx_push(s, K_COMMENT);
		return 1;
	}
	if (c == '\\') {
		s->escaped = true;
	} else if (c == '\'') {
		shctx_push(s, K_SQ);
	} else if (c == '"') {
		shctx_push(s, K_DQ);
	} else if (c == '`') {
		if (k == K_BQ)
			shctx_pop(s);
		else
			shctx_push(s, K_BQ);
	} else if (c == '$') {
		n = shctx_dollar(s, t);
		if (n > 1)
			return n;
	} else if (c == '(' && k == K_CMDSUB) {
		s->parens[s->depth - 1]++;
	} else if (c == ')' && k == K_CMDSUB) {
		if (s->parens[s->depth - 1] == 0) {
			shctx_pop(s);
			s->word_start = false;
			return 1;
		}
		s->parens[s->depth - 1]--;
	} else if (c == '<' && t[1] == '<') {
		bool strip = t[2] == '-';
		n = 2 + (strip ? 1 : 0);
		n += shctx_heredoc_word(s, t + n, strip);
		s->word_start = false;
		return n;
	} else if (c == '\n' && s->npending > s->body) {
		shctx_push(s, K_HEREDOC);
		s->line_start = true;
		return 1;
	}
	s->word_start = shctx_is_break(c);
	return n;
}

/* What happens first whatever the context (a here-document's delimiter
 * line, the byte after a backslash), then the context's own rules. */
size_t shctx_feed(struct shctx *s, const char *t)
{
	unsigned k = shctx_top(s);
	char c = *t;

	if (!c)
		return 0;
	if (k == K_HEREDOC && s->line_start) {
		size_t end = shctx_heredoc_end(s, t);
		if (end)
			return end;
		s->line_start = false;
	}
	if (s->escaped) {
		/* the escaped byte is literal; a backslash-newline joins lines */
		s->escaped = false;
		if (shctx_is_command(k))
			s->word_start = false;
		return 1;
	}
	switch (k) {
	case K_COMMENT:
		if (c == '\n') {
			shctx_pop(s);
			return shctx_feed(s, t);
		}
		return 1;
	case K_SQ:
		if (c == '\'')
			shctx_pop(s);
		return 1;
	case K_HEREDOC:
		if (c == '\n') {
			s->line_start = true;
			return 1;
		}
		return s->pending[s->body].quoted ? 1 : shctx_feed_expanding(s, t);
	case K_DQ:
		if (c == '"') {
			shctx_pop(s);
			return 1;
		}
		return shctx_feed_expanding(s, t);
	case K_ARITH:
		return shctx_feed_arith(s, t);
	default:
		return shctx_feed_command(s, t, k);
	}
}

enum shctx_where shctx_where(const struct shctx *s)
{
	switch (shctx_top(s)) {
	case K_DQ:
		return SHCTX_DQUOTE;
	case K_SQ:
		return SHCTX_SQUOTE;
	case K_ARITH:
		return SHCTX_ARITH;
	case K_HEREDOC:
		return s->pending[s->body].quoted ? SHCTX_HEREDOC_QUOTED : SHCTX_HEREDOC;
	case K_COMMENT:
		return SHCTX_COMMENT;
	default:
		return SHCTX_WORD;
	}
}

void shctx_inserted(struct shctx *s)
{
	s->escaped = false;
	s->word_start = false;
	s->line_start = false;
}
