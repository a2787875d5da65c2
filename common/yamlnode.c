/* yamlnode: node helpers and the one mapping walker (see yamlnode.h).
 *
 * libyaml's document API gives a tree of nodes, each with its position in
 * the file, which is all validation needs; what is here turns a node into
 * a C value or into a message that says where it is and what was
 * expected. */
#include "yamlnode.h"

#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

static int ynode_vfail_at(struct ynode_ctx *c, yaml_mark_t mark, const char *fmt, va_list ap)
{
	char msg[768];

	vsnprintf(msg, sizeof(msg), fmt, ap);
	err_set(c->err, "%s:%zu:%zu: %s", c->path, mark.line + 1, mark.column + 1, msg);
	return -1;
}

int ynode_fail(struct ynode_ctx *c, yaml_node_t *n, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ynode_vfail_at(c, n->start_mark, fmt, ap);
	va_end(ap);
	return -1;
}

int ynode_fail_mark(struct ynode_ctx *c, yaml_mark_t mark, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	ynode_vfail_at(c, mark, fmt, ap);
	va_end(ap);
	return -1;
}

static int ynode_is_utf8_continuation(char ch)
{
	return ((unsigned char)ch & 0xC0) == 0x80;
}

/* libyaml's reader (bad UTF-8, control characters) reports a byte offset
 * rather than a mark; count lines and characters up to it ourselves. */
static yaml_mark_t ynode_mark_at_offset(const char *text, size_t len, size_t off)
{
	yaml_mark_t m = {0, 0, 0};
	size_t i;

	for (i = 0; i < off && i < len; i++) {
		if (text[i] == '\n' || (text[i] == '\r' && (i + 1 >= len || text[i + 1] != '\n'))) {
			m.line++;
			m.column = 0;
		} else if (text[i] != '\r' && !ynode_is_utf8_continuation(text[i])) {
			m.column++;
		}
	}
	m.index = i;
	return m;
}

int ynode_fail_load(struct ynode_ctx *c, const yaml_parser_t *parser, const char *text, size_t len)
{
	yaml_mark_t m;

	switch (parser->error) {
	case YAML_READER_ERROR:
		m = ynode_mark_at_offset(text, len, parser->problem_offset);
		if (parser->problem_value != -1)
			return ynode_fail_mark(c, m, "invalid YAML: %s (0x%X)", parser->problem,
			                       (unsigned)parser->problem_value);
		return ynode_fail_mark(c, m, "invalid YAML: %s", parser->problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
	case YAML_COMPOSER_ERROR:
		if (parser->context)
			return ynode_fail_mark(c, parser->problem_mark, "invalid YAML: %s (%s at line %zu column %zu)",
			                       parser->problem ? parser->problem : "error", parser->context,
			                       parser->context_mark.line + 1, parser->context_mark.column + 1);
		return ynode_fail_mark(c, parser->problem_mark, "invalid YAML: %s",
		                       parser->problem ? parser->problem : "error");
	default:
		err_set(c->err, "%s: cannot parse YAML: out of memory", c->path);
		return -1;
	}
}

const char *ynode_excerpt(const char *s, size_t len, char *out, size_t outlen)
{
	size_t max = outlen > 8 ? outlen - 8 : 0; /* room for "...", NUL and a
	                                              character's tail */
	size_t i, n = 0;

	for (i = 0; i < len && (n < max || ynode_is_utf8_continuation(s[i])); i++) {
		unsigned char ch = (unsigned char)s[i];
		out[n++] = ch < 0x20 || ch == 0x7f ? '?' : (char)ch;
	}
	if (i < len) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	out[n] = '\0';
	return out;
}

size_t ynode_char_position(const char *s, size_t off)
{
	size_t i, pos = 1;

	for (i = 0; i < off && s[i]; i++)
		if (!ynode_is_utf8_continuation(s[i]))
			pos++;
	return pos;
}

yaml_node_t *ynode_at(struct ynode_ctx *c, int id)
{
	return yaml_document_get_node(c->doc, id);
}

const char *ynode_scalar(yaml_node_t *n)
{
	return (const char *)n->data.scalar.value;
}

/* A file never means the string "null" when it writes `description:
 * null`; a quoted "null" is the word. */
int ynode_is_null(yaml_node_t *n)
{
	static const char *const nulls[] = {"", "~", "null", "Null", "NULL"};
	size_t i;

	if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return 0;
	for (i = 0; i < ARRAY_LEN(nulls); i++)
		if (strcmp(ynode_scalar(n), nulls[i]) == 0)
			return 1;
	return 0;
}

const char *ynode_desc(yaml_node_t *n, char *out, size_t outlen)
{
	switch (n->type) {
	case YAML_MAPPING_NODE:
		return "a mapping";
	case YAML_SEQUENCE_NODE:
		return "a list";
	case YAML_SCALAR_NODE:
		if (ynode_is_null(n))
			return "nothing";
		out[0] = '\'';
		ynode_excerpt(ynode_scalar(n), n->data.scalar.length, out + 1, outlen - 2);
		strcat(out, "'");
		return out;
	default:
		return "nothing";
	}
}

int ynode_want_scalar(struct ynode_ctx *c, const char *what, yaml_node_t *n, const char *expected)
{
	char desc[80];

	if (n->type != YAML_SCALAR_NODE || ynode_is_null(n))
		return ynode_fail(c, n, "'%s': expected %s, got %s", what, expected, ynode_desc(n, desc, sizeof(desc)));
	/* "\0" in a quoted scalar would silently cut the C string short */
	if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
		return ynode_fail(c, n, "'%s': contains a NUL character", what);
	return 0;
}

int ynode_want_key(struct ynode_ctx *c, yaml_node_t *k)
{
	char desc[80];

	if (k->type != YAML_SCALAR_NODE)
		return ynode_fail(c, k, "expected a key name, got %s", ynode_desc(k, desc, sizeof(desc)));
	if (memchr(k->data.scalar.value, '\0', k->data.scalar.length))
		return ynode_fail(c, k, "a key name contains a NUL character");
	return 0;
}

/* An empty name would be a group, host or var no one can name again (a
 * -l pattern, a ${var}); a NUL would cut the C string short. */
int ynode_want_name(struct ynode_ctx *c, yaml_node_t *k, const char *expected)
{
	char desc[80];

	if (k->type != YAML_SCALAR_NODE || !k->data.scalar.length)
		return ynode_fail(c, k, "expected %s, got %s", expected, ynode_desc(k, desc, sizeof(desc)));
	if (memchr(k->data.scalar.value, '\0', k->data.scalar.length))
		return ynode_fail(c, k, "%s contains a NUL character", expected);
	return 0;
}

int ynode_get_duration(struct ynode_ctx *c, const char *what, yaml_node_t *n, int64_t *ms)
{
	char desc[80];

	if (ynode_want_scalar(c, what, n, YNODE_DURATION_EXPECTED) < 0)
		return -1;
	if (duration_parse(ynode_scalar(n), ms) < 0)
		return ynode_fail(c, n, "'%s': expected %s, got %s", what, YNODE_DURATION_EXPECTED,
		                  ynode_desc(n, desc, sizeof(desc)));
	return 0;
}

int ynode_get_deadline(struct ynode_ctx *c, const char *what, yaml_node_t *n, int64_t *ms)
{
	if (ynode_get_duration(c, what, n, ms) < 0)
		return -1;
	if (*ms == 0)
		return ynode_fail(c, n, "'%s': must be more than 0", what);
	return 0;
}

/* A boolean key reads the one grammar of util.h's bool_parse, as a host
 * var does. A quoted "yes" counts too, as a quoted "22" is a port: a value
 * is its text, whatever its style. */
int ynode_get_bool(struct ynode_ctx *c, const char *what, yaml_node_t *n, int *out)
{
	char desc[80];
	bool b;

	if (ynode_want_scalar(c, what, n, UTIL_BOOL_EXPECTED) < 0)
		return -1;
	if (bool_parse(ynode_scalar(n), &b) < 0)
		return ynode_fail(c, n, "'%s': expected %s, got %s", what, UTIL_BOOL_EXPECTED,
		                  ynode_desc(n, desc, sizeof(desc)));
	*out = b;
	return 0;
}

int ynode_get_count(struct ynode_ctx *c, const char *what, yaml_node_t *n, long long min, long long max,
                    long long *out)
{
	char desc[80], expected[64];
	const char *s;

	snprintf(expected, sizeof(expected), "a whole number from %lld to %lld", min, max);
	if (ynode_want_scalar(c, what, n, expected) < 0)
		return -1;
	s = ynode_scalar(n);
	if (s[strspn(s, "0123456789")] != '\0' || int_parse(s, min, max, out) < 0)
		return ynode_fail(c, n, "'%s': expected %s, got %s", what, expected, ynode_desc(n, desc, sizeof(desc)));
	return 0;
}

void ynode_list_append(char *out, size_t outlen, const char *name)
{
	size_t n = strlen(out);

	snprintf(out + n, outlen - n, "%s%s", n ? ", " : "", name);
}

const char *ymap_key_list(const struct ymap *m, char *out, size_t outlen)
{
	size_t i;

	out[0] = '\0';
	for (i = 0; i < m->nkeys; i++)
		ynode_list_append(out, outlen, m->keys[i].name);
	return out;
}

int ymap_fail_duplicate(struct ynode_ctx *c, yaml_node_t *k, const char *name, yaml_node_t *first)
{
	return ynode_fail(c, k, "duplicate key '%s' (first at line %zu)", name, first->start_mark.line + 1);
}

/* m->nkeys when name is not one of m's keys */
static size_t ymap_index(const struct ymap *m, const char *name)
{
	size_t i;

	for (i = 0; i < m->nkeys; i++)
		if (strcmp(m->keys[i].name, name) == 0)
			break;
	return i;
}

static int ymap_fail_unknown(struct ynode_ctx *c, const struct ymap *m, yaml_node_t *k)
{
	char ex[80], keys[512]; /* the ssh: section has ~25 keys */

	ynode_excerpt(ynode_scalar(k), k->data.scalar.length, ex, sizeof(ex));
	ymap_key_list(m, keys, sizeof(keys));
	if (!m->what)
		return ynode_fail(c, k, "unknown key '%s' (expected one of: %s)", ex, keys);
	return ynode_fail(c, k, "unknown key '%s' in %s (expected one of: %s)", ex, m->what, keys);
}

int ymap_walk(struct ynode_ctx *c, yaml_node_t *map, const struct ymap *m, void *obj)
{
	yaml_node_t *seen[YMAP_MAX_KEYS] = {NULL};
	char desc[80];
	yaml_node_pair_t *p;
	size_t i;

	if (map->type != YAML_MAPPING_NODE)
		return ynode_fail(c, map, "expected a mapping, got %s", ynode_desc(map, desc, sizeof(desc)));
	if (m->nkeys > YMAP_MAX_KEYS)
		return ynode_fail(c, map, "cannot check more than %d keys in one mapping", YMAP_MAX_KEYS);
	for (p = map->data.mapping.pairs.start; p < map->data.mapping.pairs.top; p++) {
		yaml_node_t *k = ynode_at(c, p->key);
		int r;

		if (ynode_want_key(c, k) < 0)
			return -1;
		i = ymap_index(m, ynode_scalar(k));
		if (i == m->nkeys) {
			r = m->other ? m->other(c, k, obj) : 0;
			if (r < 0)
				return -1;
			if (r > 0)
				continue;
			return ymap_fail_unknown(c, m, k);
		}
		if (seen[i])
			return ymap_fail_duplicate(c, k, m->keys[i].name, seen[i]);
		seen[i] = k;
		if (m->keys[i].parse(c, &m->keys[i], k, ynode_at(c, p->value), obj) < 0)
			return -1;
	}
	for (i = 0; i < m->nexclusive; i++) {
		size_t a = ymap_index(m, m->exclusive[i][0]), b = ymap_index(m, m->exclusive[i][1]);

		if (a == m->nkeys || b == m->nkeys || !seen[a] || !seen[b])
			continue;
		return ynode_fail(c, seen[a]->start_mark.index > seen[b]->start_mark.index ? seen[a] : seen[b],
		                  "give %s or %s, not both", m->exclusive[i][0], m->exclusive[i][1]);
	}
	return 0;
}
