/* shctx: where a position in POSIX shell text stands (outside quotes, in
 * "...", in '...', in $((...)), in a here-document), found by a small state
 * machine fed the text from its start.
 *
 * tmpl uses it to write each template value of an exec command as a
 * reference to an environment variable that fits the quoting context, so a
 * value is one word and is never parsed as shell syntax (DESIGN.md, "Trust
 * model": devices are hostile, inventories are data). It follows dash and
 * POSIX: quotes, backslashes, $(...), `...`, $((...)), comments and
 * here-documents. Where it guesses wrong (a `case` pattern's lone ')' inside
 * $(...)), the value is still never shell syntax: at worst it is split into
 * words or shows as the text of the reference. */
#ifndef FLEETRUN_SHCTX_H
#define FLEETRUN_SHCTX_H

#include <stdbool.h>
#include <stddef.h>

#define SHCTX_DEPTH 64
#define SHCTX_HEREDOCS 8
#define SHCTX_DELIM_MAX 128

enum shctx_where {
	SHCTX_WORD,           /* outside quotes: a command, $(...), `...` */
	SHCTX_DQUOTE,         /* inside "..." */
	SHCTX_SQUOTE,         /* inside '...' */
	SHCTX_ARITH,          /* inside $((...)): the text is an expression */
	SHCTX_HEREDOC,        /* a here-document body that expands $ (<<EOF) */
	SHCTX_HEREDOC_QUOTED, /* a here-document body taken as it is (<<'EOF') */
	SHCTX_COMMENT,        /* after # to the end of the line */
};

struct shctx_heredoc {
	char delim[SHCTX_DELIM_MAX + 1]; /* the delimiter word, quotes removed */
	bool quoted;                     /* any quote in it: the body is literal */
	bool strip_tabs;                 /* <<-: leading tabs are dropped */
};

struct shctx {
	unsigned char ctx[SHCTX_DEPTH]; /* ctx[0] is the command level */
	unsigned parens[SHCTX_DEPTH];   /* '(' open inside $( ) or $(( )) */
	size_t depth;                   /* entries in ctx */
	bool escaped;                   /* the last byte was an active backslash */
	bool word_start;                /* a '#' here starts a comment */
	bool line_start;                /* at the start of a here-document line */
	struct shctx_heredoc pending[SHCTX_HEREDOCS];
	size_t npending;                /* here-documents announced by << */
	size_t body;                    /* the one whose body is being read */
	const char *error;              /* NULL, or why the text cannot be followed */
};

void shctx_init(struct shctx *s);

/* Consume the next token of t (a NUL-terminated rest of the text): one
 * byte, or `$(`, `$((`, `))`, `<<WORD`, or a whole here-document
 * delimiter line. Returns the number of bytes taken (at least 1 when *t). */
size_t shctx_feed(struct shctx *s, const char *t);

/* The context a word inserted at this point stands in. */
enum shctx_where shctx_where(const struct shctx *s);

/* A word was inserted here (not from the text): it ends a pending escape
 * and is not the start of a word any more. */
void shctx_inserted(struct shctx *s);

#endif
