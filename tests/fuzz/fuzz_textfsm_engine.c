/* libFuzzer target: the TextFSM engine (common/textfsm_engine.c and
 * textfsm_json.c) on random input text. The templates are compiled once,
 * as a worker compiles them, and used for every input: the first byte of
 * the input picks one, the rest is the text a device printed. Every parse
 * either fails with the template's file:line or gives records whose JSON
 * parses back with one object per record. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yajl/yajl_tree.h>

#include "buf.h"
#include "textfsm.h"
#include "util.h"

#define CHECK(cond)                                                                                        \
	do {                                                                                               \
		if (!(cond)) {                                                                             \
			fprintf(stderr, "fuzz_textfsm_engine: check failed at line %d: %s\n", __LINE__, #cond); \
			abort();                                                                           \
		}                                                                                          \
	} while (0)

/* Every option and action, lists of dicts, states, Error, End and EOF. */
static const char *const fuzz_templates[] = {
	"Value Filldown Dev (\\S+)\nValue Required,Key If (\\S+)\nValue Fillup Vlan (\\d+)\n"
	"Value List Addr ((?P<ip>[\\d.]+)(?:/(?P<len>\\d+))?)\nValue Descr (.*)\nValue List,Filldown Tag (\\w+)\n\n"
	"Start\n  ^dev ${Dev}\n  ^if \\S+ -> Continue.Record\n  ^if ${If}\n  ^vlan ${Vlan}\n"
	"  ^\\s+addr ${Addr}\n  ^descr ?${Descr}$$\n  ^tag ${Tag}\n  ^(?:x${Vlan}|y${Descr})\n"
	"  ^clear -> Clear\n  ^reset -> Clearall\n  ^rec -> Record\n  ^no -> NoRecord\n",
	"Value Name (\\S+)\nValue State (up|down)\nValue List Routes (\\S+)\n\n"
	"Start\n  ^BEGIN -> Body\n  ^ABORT -> Error \"aborted\"\n\n"
	"Body\n  ^name ${Name}\n  ^state ${State} -> Continue\n  ^state up -> Next.Record Body\n"
	"  ^route ${Routes}\n  ^END -> Next.Record Start\n  ^FAIL -> Error\n  ^STOP -> End\n  ^DONE -> EOF\n\nEOF\n",
	"Value Intf (\\S+)\nValue Ip (\\S+)\nValue Status (up|down|administratively down)\n\n"
	"Start\n  ^Interface\\s+IP -> Table\n\n"
	"Table\n  ^${Intf}\\s+${Ip}\\s+\\w+\\s+\\w+\\s+${Status}\\s*$$ -> Record\n  ^(?i:[a-z]+#)\n",
};

static struct textfsm *fuzz_compiled[sizeof(fuzz_templates) / sizeof(fuzz_templates[0])];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct textfsm_records r = TEXTFSM_RECORDS_INIT;
	struct textfsm *t;
	struct err err;
	size_t which;
	char *text;

	if (!fuzz_compiled[0])
		for (size_t i = 0; i < ARRAY_LEN(fuzz_templates); i++) {
			const char *s = fuzz_templates[i];

			CHECK(textfsm_compile("fuzz.textfsm", s, strlen(s), &fuzz_compiled[i], &err) == 0);
		}
	if (!size)
		return 0;
	which = data[0] % ARRAY_LEN(fuzz_templates);
	t = fuzz_compiled[which];
	text = xmalloc(size);
	memcpy(text, data + 1, size - 1);
	if (textfsm_parse(t, text, size - 1, &r, &err) == 0) {
		struct buf json = BUF_INIT;
		char why[128];
		yajl_val v;

		textfsm_records_json(t, &r, &json);
		v = yajl_tree_parse(json.data, why, sizeof(why));
		CHECK(v != NULL && YAJL_IS_ARRAY(v) && YAJL_GET_ARRAY(v)->len == r.n);
		yajl_tree_free(v);
		buf_free(&json);
	} else {
		CHECK(strncmp(err.msg, "fuzz.textfsm:", 13) == 0);
		CHECK(r.n == 0 && r.cells == NULL);
	}
	textfsm_records_free(&r);
	free(text);
	return 0;
}
