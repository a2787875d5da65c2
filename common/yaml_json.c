/* yaml_json: a YAML value as JSON text (see yaml_json.h).
 *
 * yajl writes the JSON, so escaping and number syntax are its; what is
 * here is the YAML side: which plain scalars are numbers, booleans and
 * null, and the bounds on depth and size. */
#include "yaml_json.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "buf.h"

/* One conversion: the generator, and a scratch buffer for numbers. */
struct yaml_json {
	struct ynode_ctx *c;
	const char *what;          /* the key, for messages */
	yaml_json_string_fn check; /* NULL or the caller's check */
	yajl_gen g;
	struct buf num;
};

/* YAML 1.1 reads these plain scalars as numbers: decimal with _ between
 * digits, 0x hex, 0b binary, 0o and leading-0 octal, and floats (also
 * YAML 1.2's 1e5 and 1.). Appends the JSON spelling of the number to out
 * and returns 1, or returns 0: not a number (.inf and .nan, which JSON
 * cannot spell, included), and so a string. */
static int yaml_json_number(const char *s, struct buf *out)
{
	const char *p = s, *ip, *fp = NULL, *xp = NULL;
	char digits[72];
	size_t nd = 0, ni = 0, nf = 0;
	int neg = 0, base = 0;

	if (*p == '-' || *p == '+')
		neg = *p++ == '-';
	if (p[0] == '0' && (p[1] == 'x' || p[1] == 'o' || p[1] == 'b'))
		base = p[1] == 'x' ? 16 : p[1] == 'o' ? 8 : 2, p += 2;
	if (base) {
		unsigned long long v;
		char *end;

		for (; *p; p++) {
			int d = *p >= '0' && *p <= '9' ? *p - '0' : *p >= 'a' && *p <= 'f' ? *p - 'a' + 10 :
			        *p >= 'A' && *p <= 'F' ? *p - 'A' + 10 : *p == '_' && nd ? -2 : -1;
			if (d == -2)
				continue;
			if (d < 0 || d >= base || nd + 1 >= sizeof(digits))
				return 0;
			digits[nd++] = *p;
		}
		if (!nd)
			return 0;
		digits[nd] = '\0';
		errno = 0;
		v = strtoull(digits, &end, base);
		if (errno)
			return 0;
		buf_printf(out, "%s%llu", neg && v ? "-" : "", v);
		return 1;
	}
	/* [0-9][0-9_]* then .[0-9_]* then [eE][-+]?[0-9]+ */
	ip = p;
	if (*p >= '0' && *p <= '9')
		while ((*p >= '0' && *p <= '9') || *p == '_')
			ni += *p++ != '_';
	if (*p == '.') {
		fp = ++p;
		while ((*p >= '0' && *p <= '9') || *p == '_')
			nf += *p++ != '_';
	}
	if ((*p == 'e' || *p == 'E') && ni + nf) {
		xp = ++p;
		if (*p == '-' || *p == '+')
			p++;
		if (!(*p >= '0' && *p <= '9'))
			return 0;
		while (*p >= '0' && *p <= '9')
			p++;
	}
	if (*p || ni + nf == 0)
		return 0;
	if (!fp && !xp && *ip == '0' && ni > 1) {
		/* 0755: YAML 1.1 octal, or (with an 8 or 9) no number at all */
		unsigned long long v = 0;

		for (p = ip; *p; p++) {
			if (*p == '_')
				continue;
			if (*p > '7' || v > (~0ULL >> 3))
				return 0;
			v = v * 8 + (unsigned)(*p - '0');
		}
		buf_printf(out, "%s%llu", neg && v ? "-" : "", v);
		return 1;
	}
	/* JSON wants no + sign, no _, no leading zeros, digits on both sides
	 * of the point */
	if (neg)
		buf_putc(out, '-');
	while (*ip == '0' || *ip == '_')
		if (*ip++ == '0')
			ni--;
	if (ni == 0)
		buf_putc(out, '0');
	for (p = ip; (*p >= '0' && *p <= '9') || *p == '_'; p++)
		if (*p != '_')
			buf_putc(out, *p);
	if (fp) {
		buf_putc(out, '.');
		if (nf == 0)
			buf_putc(out, '0');
		for (p = fp; (*p >= '0' && *p <= '9') || *p == '_'; p++)
			if (*p != '_')
				buf_putc(out, *p);
	}
	if (xp) {
		buf_putc(out, 'e');
		buf_puts(out, xp);
	}
	return 1;
}

static int yaml_json_plain(yaml_node_t *n, const char *word)
{
	return n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && strcmp(ynode_scalar(n), word) == 0;
}

static int yaml_json_string(struct yaml_json *w, yaml_node_t *n)
{
	yajl_gen_status st;

	if (w->check && w->check(w->c, n) < 0)
		return -1;
	st = yajl_gen_string(w->g, n->data.scalar.value, n->data.scalar.length);
	if (st != yajl_gen_status_ok)
		return ynode_fail(w->c, n, "'%s': cannot write this value as JSON (yajl status %d)", w->what, (int)st);
	return 0;
}

/* One YAML node as JSON. Plain scalars are typed as JSON would read them
 * (null, true, false, numbers; yes/no/on/off stay strings: a JSON body
 * means the word), quoted ones are always strings. */
static int yaml_json_node(struct yaml_json *w, yaml_node_t *n, int depth)
{
	static const char *const trues[] = {"true", "True", "TRUE"}, *const falses[] = {"false", "False", "FALSE"};
	yajl_gen_status st = yajl_gen_status_ok;
	struct ynode_ctx *c = w->c;
	yajl_gen g = w->g;
	const unsigned char *out;
	char desc[80];
	size_t len, i;

	if (depth > YAML_JSON_MAX_DEPTH)
		return ynode_fail(c, n, "'%s': nested more than %d levels deep", w->what, YAML_JSON_MAX_DEPTH);
	switch (n->type) {
	case YAML_MAPPING_NODE: {
		yaml_node_pair_t *p;

		st = yajl_gen_map_open(g);
		for (p = n->data.mapping.pairs.start; st == yajl_gen_status_ok && p < n->data.mapping.pairs.top; p++) {
			yaml_node_t *k = ynode_at(c, p->key);

			if (k->type != YAML_SCALAR_NODE)
				return ynode_fail(c, k, "'%s': an object key must be a string, got %s", w->what,
				                  ynode_desc(k, desc, sizeof(desc)));
			if (yaml_json_string(w, k) < 0 || yaml_json_node(w, ynode_at(c, p->value), depth + 1) < 0)
				return -1;
		}
		if (st == yajl_gen_status_ok)
			st = yajl_gen_map_close(g);
		break;
	}
	case YAML_SEQUENCE_NODE: {
		yaml_node_item_t *it;

		st = yajl_gen_array_open(g);
		for (it = n->data.sequence.items.start; st == yajl_gen_status_ok && it < n->data.sequence.items.top;
		     it++)
			if (yaml_json_node(w, ynode_at(c, *it), depth + 1) < 0)
				return -1;
		if (st == yajl_gen_status_ok)
			st = yajl_gen_array_close(g);
		break;
	}
	case YAML_SCALAR_NODE:
		if (ynode_is_null(n)) {
			st = yajl_gen_null(g);
			break;
		}
		for (i = 0; i < ARRAY_LEN(trues); i++)
			if (yaml_json_plain(n, trues[i]) || yaml_json_plain(n, falses[i]))
				break;
		if (i < ARRAY_LEN(trues)) {
			st = yajl_gen_bool(g, yaml_json_plain(n, trues[i]));
			break;
		}
		buf_reset(&w->num);
		if (n->data.scalar.style == YAML_PLAIN_SCALAR_STYLE && yaml_json_number(ynode_scalar(n), &w->num)) {
			st = yajl_gen_number(g, w->num.data, w->num.len);
			break;
		}
		if (yaml_json_string(w, n) < 0)
			return -1;
		break;
	default:
		return ynode_fail(c, n, "'%s': cannot write this value as JSON", w->what);
	}
	if (st != yajl_gen_status_ok)
		return ynode_fail(c, n, "'%s': cannot write this value as JSON (yajl status %d)", w->what, (int)st);
	/* each node writes at least a byte, so this also bounds the walk
	 * when aliases repeat a subtree */
	yajl_gen_get_buf(g, &out, &len);
	if (len > YAML_JSON_MAX_BYTES)
		return ynode_fail(c, n, "'%s': longer than %d bytes as JSON", w->what, YAML_JSON_MAX_BYTES);
	return 0;
}

int yaml_json_write(struct ynode_ctx *c, const char *what, yaml_node_t *value, yaml_json_string_fn check,
                    char **out)
{
	struct yaml_json w = {.c = c, .what = what, .check = check, .num = BUF_INIT};
	const unsigned char *text;
	size_t len;
	int r = -1;

	w.g = yajl_gen_alloc(NULL);
	if (!w.g) {
		ynode_fail(c, value, "'%s': out of memory", what);
		goto out;
	}
	if (yaml_json_node(&w, value, 0) < 0)
		goto out;
	yajl_gen_get_buf(w.g, &text, &len);
	*out = xstrndup((const char *)text, len);
	r = 0;
out:
	if (w.g)
		yajl_gen_free(w.g);
	buf_free(&w.num);
	return r;
}
