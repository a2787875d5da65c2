/* parsedview: parsed records as short text; see parsedview.h. */
#include "parsedview.h"

#include <stdlib.h>
#include <string.h>

#include "termtext.h"
#include "util.h"

const msgpack_object *parsedview_first(const struct proto_result *res)
{
	for (size_t i = 0; res && i < res->nsteps; i++)
		if ((res->steps[i].has & PROTO_STEP_PARSED) && res->steps[i].parsed &&
		    res->steps[i].parsed->type == MSGPACK_OBJECT_ARRAY)
			return res->steps[i].parsed;
	return NULL;
}

void parsedview_value(struct buf *b, const msgpack_object *v)
{
	const char *p;
	size_t n;

	if (proto_obj_bytes(v, &p, &n)) {
		buf_append(b, p, n);
		return;
	}
	if (v->type == MSGPACK_OBJECT_ARRAY) {
		for (uint32_t i = 0; i < v->via.array.size; i++) {
			if (i)
				buf_putc(b, ',');
			parsedview_value(b, &v->via.array.ptr[i]);
		}
	} else if (v->type == MSGPACK_OBJECT_MAP) {
		for (uint32_t i = 0; i < v->via.map.size; i++) {
			if (i)
				buf_putc(b, ' ');
			parsedview_value(b, &v->via.map.ptr[i].key);
			buf_putc(b, '=');
			parsedview_value(b, &v->via.map.ptr[i].val);
		}
	}
	/* a nil: nothing */
}

/* " key=value" (no space before the first pair), escaped for the
 * terminal; the value in double quotes when it holds a space or a quote,
 * so that pairs read apart. */
static void parsedview_pair(struct buf *b, const char *k, size_t kn, const char *v, size_t vn)
{
	bool quote = memchr(v, ' ', vn) || memchr(v, '"', vn);

	if (b->len)
		buf_putc(b, ' ');
	termtext_append(b, k, kn, 0);
	buf_putc(b, '=');
	if (!quote) {
		termtext_append(b, v, vn, 0);
		return;
	}
	buf_putc(b, '"');
	while (vn > 0) {
		const char *q = memchr(v, '"', vn);
		size_t run = q ? (size_t)(q - v) : vn;
		termtext_append(b, v, run, 0);
		if (q)
			buf_append(b, "\\\"", 2);
		v += run + (q ? 1 : 0);
		vn -= run + (q ? 1 : 0);
	}
	buf_putc(b, '"');
}

void parsedview_line(struct buf *b, const msgpack_object *parsed, size_t cols)
{
	const msgpack_object *rec;
	struct buf pairs = BUF_INIT, val = BUF_INIT;
	size_t used, fit;

	if (parsed->via.array.size == 0) {
		buf_puts(b, "(no records)");
		return;
	}
	rec = &parsed->via.array.ptr[0];
	for (uint32_t i = 0; rec->type == MSGPACK_OBJECT_MAP && i < rec->via.map.size; i++) {
		const char *k;
		size_t kn;
		if (!proto_obj_bytes(&rec->via.map.ptr[i].key, &k, &kn))
			continue;
		buf_reset(&val);
		parsedview_value(&val, &rec->via.map.ptr[i].val);
		if (val.len)
			parsedview_pair(&pairs, k, kn, val.data, val.len);
	}
	if (!pairs.len)
		buf_puts(&pairs, "(no values)");
	fit = termtext_fit(pairs.data, pairs.len, cols, &used);
	if (fit < pairs.len) {
		/* room for the ellipsis, one column */
		fit = termtext_fit(pairs.data, pairs.len, cols > 1 ? cols - 1 : 0, &used);
		/* "minutes"…, not "minutes" … */
		while (fit > 0 && pairs.data[fit - 1] == ' ')
			fit--;
		buf_append(b, pairs.data, fit);
		buf_puts(b, "…");
	} else {
		buf_append(b, pairs.data, pairs.len);
	}
	if (parsed->via.array.size > 1)
		buf_printf(b, " (+%u record%s)", parsed->via.array.size - 1, parsed->via.array.size > 2 ? "s" : "");
	buf_free(&pairs);
	buf_free(&val);
}

static int parsedview_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The distinct non-empty values of key over the records, sorted, joined
 * with "," into out: false when there are none. */
static bool parsedview_values_of(struct buf *out, const msgpack_object *parsed, const char *key)
{
	char **vals = xcalloc(parsed->via.array.size + 1, sizeof(*vals));
	size_t nvals = 0;
	struct buf val = BUF_INIT, shown = BUF_INIT;

	for (uint32_t r = 0; r < parsed->via.array.size; r++) {
		const msgpack_object *rec = &parsed->via.array.ptr[r];
		for (uint32_t i = 0; rec->type == MSGPACK_OBJECT_MAP && i < rec->via.map.size; i++) {
			if (!proto_obj_is(&rec->via.map.ptr[i].key, key))
				continue;
			buf_reset(&val);
			buf_reset(&shown);
			parsedview_value(&val, &rec->via.map.ptr[i].val);
			/* compared as C strings: escaped first, so a NUL byte
			 * in a value is "\x00" and cuts nothing short (escaping
			 * escaped text again changes nothing) */
			termtext_append(&shown, val.data, val.len, 0);
			if (shown.len)
				vals[nvals++] = xstrndup(shown.data, shown.len);
			break;
		}
	}
	qsort(vals, nvals, sizeof(*vals), parsedview_cmp);
	for (size_t i = 0; i < nvals; i++) {
		if (i && strcmp(vals[i], vals[i - 1]) == 0)
			continue;
		if (out->len)
			buf_putc(out, ',');
		buf_puts(out, vals[i]);
	}
	for (size_t i = 0; i < nvals; i++)
		free(vals[i]);
	free(vals);
	buf_free(&val);
	buf_free(&shown);
	return nvals > 0;
}

bool parsedview_select(struct buf *b, const msgpack_object *parsed, char *const *keys, size_t nkeys)
{
	struct buf pairs = BUF_INIT, vals = BUF_INIT;
	bool found = true;

	for (size_t i = 0; found && i < nkeys; i++) {
		buf_reset(&vals);
		found = parsedview_values_of(&vals, parsed, keys[i]);
		if (found)
			parsedview_pair(&pairs, keys[i], strlen(keys[i]), vals.data, vals.len);
	}
	if (found)
		buf_append(b, pairs.data ? pairs.data : "", pairs.len);
	buf_free(&pairs);
	buf_free(&vals);
	return found;
}
