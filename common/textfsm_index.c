/* textfsm_index: the index of a template collection (textfsm_index.h),
 * read as textfsm's clitable reads it: comments are '#' lines (and, in
 * the header line only, anything after a '#'); cells are split on ',' and
 * trimmed; a row with another number of cells than the header is
 * skipped; every cell but the Template one is a Python expression (the
 * Command one after its [[...]] completions are expanded). */
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "textfsm_index.h"
#include "textfsm_prog.h"
#include "textfsm_regex.h"
#include "utf8.h"

struct textfsm_index_row {
	char *template;               /* malloced, owned */
	struct textfsm_regex *cells;  /* [ncols]; code NULL where empty or Template; owned */
	size_t line;
};

struct textfsm_index {
	char **cols;   /* [ncols] header names, malloced, owned */
	size_t ncols;
	size_t template_col, platform_col, command_col; /* (size_t)-1 when absent */
	struct textfsm_index_row *rows;
	size_t nrows;
	pcre2_match_data *md;
};

#define TEXTFSM_INDEX_NONE ((size_t)-1)

/* Trim Python's whitespace (ASCII's is enough for an index) off both ends. */
static void textfsm_index_trim(const char **s, size_t *n)
{
	while (*n && strchr(" \t\r\n\v\f", (*s)[0]))
		(*s)++, (*n)--;
	while (*n && strchr(" \t\r\n\v\f", (*s)[*n - 1]))
		(*n)--;
}

/* "sh[[ow]]" -> "sh(o(w)?)?": each [[word]] becomes its prefixes. */
static void textfsm_index_completion(const char *s, size_t n, struct buf *out)
{
	for (size_t i = 0; i < n;) {
		const char *end = NULL;

		/* "[[" then the shortest run of one or more characters before "]]" */
		if (i + 3 < n && s[i] == '[' && s[i + 1] == '[')
			end = memmem(s + i + 3, n - i - 3, "]]", 2);
		if (!end) {
			buf_putc(out, s[i++]);
			continue;
		}
		size_t nchars = 0;
		for (const char *c = s + i + 2; c < end;) {
			uint32_t cp;
			size_t l = utf8_decode((const unsigned char *)c, (size_t)(end - c), &cp);

			l = l ? l : 1;
			buf_putc(out, '(');
			buf_append(out, c, l);
			c += l;
			nchars++;
		}
		while (nchars--)
			buf_puts(out, ")?");
		i = (size_t)(end - s) + 2;
	}
}

/* The cells of one line, split on ',' and trimmed; their count. */
static size_t textfsm_index_split(const char *s, size_t n, const char ***cells, size_t **lens)
{
	size_t count = 1, k = 0;

	for (size_t i = 0; i < n; i++)
		count += s[i] == ',';
	*cells = xcalloc(count, sizeof(**cells));
	*lens = xcalloc(count, sizeof(**lens));
	for (;;) {
		const char *comma = memchr(s, ',', n);
		size_t l = comma ? (size_t)(comma - s) : n;

		(*cells)[k] = s;
		(*lens)[k] = l;
		textfsm_index_trim(&(*cells)[k], &(*lens)[k]);
		k++;
		if (!comma)
			return count;
		n -= l + 1;
		s = comma + 1;
	}
}

static int textfsm_index_header(struct textfsm_index *ix, const char *path, size_t lineno, const char *s,
                                size_t n, struct err *err)
{
	const char **cells;
	size_t *lens, count = textfsm_index_split(s, n, &cells, &lens);
	int r = -1;

	ix->cols = xcalloc(count, sizeof(*ix->cols));
	ix->ncols = count;
	ix->template_col = ix->platform_col = ix->command_col = TEXTFSM_INDEX_NONE;
	for (size_t c = 0; c < count; c++) {
		ix->cols[c] = xstrndup(cells[c], lens[c]);
		for (size_t d = 0; d < c; d++)
			if (strcmp(ix->cols[d], ix->cols[c]) == 0) {
				textfsm_err_at(err, path, lineno, "duplicate column '%s'", ix->cols[c]);
				goto out;
			}
		if (strcmp(ix->cols[c], "Template") == 0)
			ix->template_col = c;
		else if (strcmp(ix->cols[c], "Platform") == 0)
			ix->platform_col = c;
		else if (strcmp(ix->cols[c], "Command") == 0)
			ix->command_col = c;
	}
	if (ix->template_col == TEXTFSM_INDEX_NONE) {
		textfsm_err_at(err, path, lineno, "no 'Template' column in the header");
		goto out;
	}
	r = 0;
out:
	free(cells);
	free(lens);
	return r;
}

/* A row; one with the wrong number of cells is skipped, as clitable does. */
static int textfsm_index_row(struct textfsm_index *ix, const char *path, size_t lineno, const char *s, size_t n,
                             struct err *err)
{
	struct textfsm_index_row row = {.line = lineno};
	const char **cells;
	size_t *lens, count = textfsm_index_split(s, n, &cells, &lens);
	struct buf re = BUF_INIT;
	char why[512];
	int r = -1;

	if (count != ix->ncols) {
		r = 0;
		goto out;
	}
	row.cells = xcalloc(ix->ncols, sizeof(*row.cells));
	row.template = xstrndup(cells[ix->template_col], lens[ix->template_col]);
	for (size_t c = 0; c < count; c++) {
		if (c == ix->template_col || !lens[c])
			continue;
		buf_reset(&re);
		if (c == ix->command_col)
			textfsm_index_completion(cells[c], lens[c], &re);
		else
			buf_append(&re, cells[c], lens[c]);
		if (textfsm_regex_compile(re.data, re.len, &row.cells[c], why, sizeof(why)) < 0) {
			textfsm_err_at(err, path, lineno, "column %s: %s", ix->cols[c], why);
			goto out;
		}
	}
	ix->rows = xreallocarray(ix->rows, ix->nrows + 1, sizeof(*ix->rows));
	ix->rows[ix->nrows++] = row;
	memset(&row, 0, sizeof(row));
	r = 0;
out:
	if (row.cells)
		for (size_t c = 0; c < ix->ncols; c++)
			textfsm_regex_free(&row.cells[c]);
	free(row.cells);
	free(row.template);
	free(cells);
	free(lens);
	buf_free(&re);
	return r;
}

int textfsm_index_parse(const char *path, const char *text, size_t len, struct textfsm_index **out, struct err *err)
{
	struct textfsm_index *ix = xcalloc(1, sizeof(*ix));
	size_t pos = 0, lineno = 0;
	int r = -1;

	if (memchr(text, 0, len) || !utf8_valid((const unsigned char *)text, len)) {
		textfsm_err_at(err, path, 1, "not UTF-8 text");
		goto out;
	}
	while (pos < len) {
		/* lines end as Python's text files end them: \n, \r\n, \r */
		size_t start = pos, n;

		while (pos < len && text[pos] != '\n' && text[pos] != '\r')
			pos++;
		n = pos - start;
		pos += pos < len ? 1 + (text[pos] == '\r' && pos + 1 < len && text[pos + 1] == '\n') : 0;
		lineno++;
		if (!ix->cols) {
			const char *s = text + start, *hash = memchr(s, '#', n);
			size_t hn = hash ? (size_t)(hash - s) : n;

			textfsm_index_trim(&s, &hn);
			if (hn && textfsm_index_header(ix, path, lineno, s, hn, err) < 0)
				goto out;
		} else if (n && text[start] != '#' && textfsm_index_row(ix, path, lineno, text + start, n, err) < 0) {
			goto out;
		}
	}
	if (!ix->cols) {
		textfsm_err_at(err, path, lineno ? lineno : 1, "no header line (Template, Hostname, Platform, Command)");
		goto out;
	}
	ix->md = pcre2_match_data_create(1, NULL);
	*out = ix;
	ix = NULL;
	r = 0;
out:
	textfsm_index_free(ix);
	return r;
}

static bool textfsm_index_cell_matches(const struct textfsm_index *ix, const struct textfsm_index_row *row,
                                       size_t col, const char *value)
{
	if (col == TEXTFSM_INDEX_NONE || !row->cells[col].code)
		return true;
	return textfsm_regex_match(&row->cells[col], value, strlen(value), ix->md) >= 0;
}

const char *textfsm_index_find(const struct textfsm_index *ix, const char *platform, const char *command,
                               size_t *line)
{
	for (size_t i = 0; i < ix->nrows; i++) {
		const struct textfsm_index_row *row = &ix->rows[i];

		if (textfsm_index_cell_matches(ix, row, ix->platform_col, platform) &&
		    textfsm_index_cell_matches(ix, row, ix->command_col, command)) {
			*line = row->line;
			return row->template;
		}
	}
	return NULL;
}

void textfsm_index_free(struct textfsm_index *ix)
{
	if (!ix)
		return;
	for (size_t i = 0; i < ix->nrows; i++) {
		for (size_t c = 0; c < ix->ncols; c++)
			textfsm_regex_free(&ix->rows[i].cells[c]);
		free(ix->rows[i].cells);
		free(ix->rows[i].template);
	}
	for (size_t c = 0; c < ix->ncols; c++)
		free(ix->cols[c]);
	free(ix->cols);
	free(ix->rows);
	pcre2_match_data_free(ix->md);
	free(ix);
}
