/* libFuzzer target: the TextFSM template parser (common/textfsm_template.c)
 * and the translation of its Python expressions to PCRE2
 * (common/textfsm_regex.c) on a template's text, and the same text read
 * as a collection's index (common/textfsm_index.c); a template that compiles
 * is then run over a few lines of input and its records written as JSON,
 * which must parse back (UTF-8 and all).
 *
 * The text is handed over without a terminating NUL, exactly as long as
 * the input, so a read past its end is caught. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "textfsm.h"
#include "textfsm_index.h"
#include "util.h"

#define CHECK(cond)                                                                                          \
	do {                                                                                                 \
		if (!(cond)) {                                                                               \
			fprintf(stderr, "fuzz_textfsm_template: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                             \
		}                                                                                            \
	} while (0)

static const char fuzz_input[] = "Version 1.2 uptime is 3 days\nrtr1 uptime is 1 week\r\n\nport 1/1 up\n"
                                 "a b c\n  x = 1\nBEGIN\nname n1\nEND\n\xce\xa9 \xff\n";

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text = xmalloc(size ? size : 1);
	struct textfsm *t = NULL;
	struct textfsm_records r = TEXTFSM_RECORDS_INIT;
	struct err err;

	memcpy(text, data, size);
	if (textfsm_compile("fuzz.textfsm", text, size, &t, &err) == 0) {
		struct buf json = BUF_INIT;
		char why[128];

		if (textfsm_parse(t, fuzz_input, sizeof(fuzz_input) - 1, &r, &err) == 0) {
			yajl_val v;

			CHECK(r.nvalues == textfsm_nvalues(t));
			textfsm_records_json(t, &r, &json);
			v = yajl_tree_parse(json.data, why, sizeof(why));
			CHECK(v != NULL && YAJL_IS_ARRAY(v) && YAJL_GET_ARRAY(v)->len == r.n);
			yajl_tree_free(v);
		} else {
			CHECK(strncmp(err.msg, "fuzz.textfsm:", 13) == 0);
		}
		textfsm_records_free(&r);
		buf_free(&json);
		textfsm_free(t);
	} else {
		CHECK(strncmp(err.msg, "fuzz.textfsm:", 13) == 0);
	}
	{
		struct textfsm_index *ix = NULL;
		size_t line;

		if (textfsm_index_parse("fuzz.index", text, size, &ix, &err) == 0) {
			const char *tpl = textfsm_index_find(ix, "cisco_ios", "show version", &line);

			CHECK(!tpl || line >= 1);
			textfsm_index_free(ix);
		} else {
			CHECK(strncmp(err.msg, "fuzz.index:", 11) == 0);
		}
	}
	free(text);
	return 0;
}
