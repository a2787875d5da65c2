/* textfsm_json: a parse's records as JSON, the shape ntc-templates users
 * get from netmiko: an array of objects keyed by the lowercased value
 * names, List values as arrays (of strings, nulls, or objects of their
 * named groups, whose names keep their case). Apart from the engine, as
 * the msgpack of a step's result will be: each one walks the same cells. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_gen.h>

#include "textfsm_prog.h"
#include "utf8.h"

/* Strings are what PCRE2 matched in UTF mode, so UTF-8; a byte that is
 * not (which would make the JSON invalid) goes out as U+FFFD. */
static void textfsm_json_string(yajl_gen g, const char *s, size_t n)
{
	struct buf fixed = BUF_INIT;

	if (utf8_valid((const unsigned char *)s, n)) {
		yajl_gen_string(g, (const unsigned char *)s, n);
		return;
	}
	for (size_t k = 0; k < n;) {
		uint32_t cp;
		size_t l = utf8_decode((const unsigned char *)s + k, n - k, &cp);

		if (l) {
			buf_append(&fixed, s + k, l);
			k += l;
		} else {
			buf_puts(&fixed, "\xef\xbf\xbd");
			k++;
		}
	}
	yajl_gen_string(g, (const unsigned char *)fixed.data, fixed.len);
	buf_free(&fixed);
}

static void textfsm_json_cell(yajl_gen g, const struct textfsm_cell *c)
{
	switch (c->kind) {
	case TEXTFSM_NULL:
		yajl_gen_null(g);
		break;
	case TEXTFSM_STR:
		textfsm_json_string(g, c->str, c->len);
		break;
	case TEXTFSM_LIST:
		yajl_gen_array_open(g);
		for (size_t i = 0; i < c->len; i++)
			textfsm_json_cell(g, &c->items[i]);
		yajl_gen_array_close(g);
		break;
	case TEXTFSM_DICT:
		yajl_gen_map_open(g);
		for (size_t i = 0; i < c->len; i++) {
			textfsm_json_string(g, c->keys[i], strlen(c->keys[i]));
			textfsm_json_cell(g, &c->items[i]);
		}
		yajl_gen_map_close(g);
		break;
	}
}

void textfsm_records_json(const struct textfsm *t, const struct textfsm_records *r, struct buf *out)
{
	yajl_gen g = yajl_gen_alloc(NULL);
	const unsigned char *text;
	size_t len;

	if (!g) {
		fputs("fleetrun: out of memory\n", stderr);
		exit(UTIL_EXIT_OOM);
	}
	yajl_gen_array_open(g);
	for (size_t row = 0; row < r->n; row++) {
		yajl_gen_map_open(g);
		for (size_t i = 0; i < r->nvalues; i++) {
			textfsm_json_string(g, t->values[i].key, strlen(t->values[i].key));
			textfsm_json_cell(g, &r->cells[row * r->nvalues + i]);
		}
		yajl_gen_map_close(g);
	}
	yajl_gen_array_close(g);
	yajl_gen_get_buf(g, &text, &len);
	buf_append(out, text, len);
	yajl_gen_free(g);
}
