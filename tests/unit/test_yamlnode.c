/* Unit tests for common/yamlnode.c: ymap_walk (every key visited once and
 * in file order; unknown, duplicate and mutually exclusive keys refused
 * with "file:line:column: message"; the hook for keys read elsewhere) and
 * the node helpers whose words every schema shares, job file or
 * inventory. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "util.h"
#include "yamlnode.h"

#define PATH "t.yaml"

/* A loaded document and its context, for one test. */
struct doc {
	yaml_parser_t parser;
	yaml_document_t doc;
	struct err err;
	struct ynode_ctx c;
};

static yaml_node_t *load(struct doc *d, const char *text)
{
	memset(d, 0, sizeof(*d));
	assert_true(yaml_parser_initialize(&d->parser));
	yaml_parser_set_input_string(&d->parser, (const unsigned char *)text, strlen(text));
	assert_true(yaml_parser_load(&d->parser, &d->doc));
	d->c.path = PATH;
	d->c.doc = &d->doc;
	d->c.err = &d->err;
	return yaml_document_get_root_node(&d->doc);
}

static void unload(struct doc *d)
{
	yaml_document_delete(&d->doc);
	yaml_parser_delete(&d->parser);
}

/* What the walk saw: each key's visits, in order, and the values. */
struct seen {
	char order[8][16];
	int n;
	int calls[4];
	int64_t size_ms;
	int flag;
};

/* offset doubles as the index into calls[] */
static void note(struct seen *s, const struct ymap_key *key)
{
	snprintf(s->order[s->n++], sizeof(s->order[0]), "%s", key->name);
	s->calls[key->offset]++;
}

static int parse_name(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	note(obj, key);
	return ynode_want_scalar(c, key->name, v, "a string");
}

static int parse_wait(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	note(obj, key);
	return ynode_get_duration(c, key->name, v, &((struct seen *)obj)->size_ms);
}

static int parse_flag(struct ynode_ctx *c, const struct ymap_key *key, yaml_node_t *k, yaml_node_t *v, void *obj)
{
	note(obj, key);
	return ynode_get_bool(c, key->name, v, &((struct seen *)obj)->flag);
}

static const struct ymap_key keys[] = {
	{"name", parse_name, 0},
	{"password", parse_name, 1},
	{"password_file", parse_name, 2},
	{"wait", parse_wait, 3},
};
static const char *const exclusive[][2] = {
	{"password", "password_file"},
	{"name", "nosuchkey"}, /* names a key the table lacks: never fires */
};
static const struct ymap thing = {"thing", keys, ARRAY_LEN(keys), exclusive, ARRAY_LEN(exclusive), NULL};

/* Walk text with map; the error message, or "" when it walked clean. */
static const char *walk(const char *text, const struct ymap *map, struct seen *s, int *rc)
{
	static char msg[sizeof(((struct err *)0)->msg)];
	struct doc d;
	yaml_node_t *root = load(&d, text);

	memset(s, 0, sizeof(*s));
	*rc = ymap_walk(&d.c, root, map, s);
	snprintf(msg, sizeof(msg), "%s", *rc ? d.err.msg : "");
	unload(&d);
	return msg;
}

static void test_clean_map(void **state)
{
	struct seen s;
	int rc;

	(void)state;
	assert_string_equal(walk("wait: 2s\nname: x\npassword: y\n", &thing, &s, &rc), "");
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 3);
	/* in file order, each key once */
	assert_string_equal(s.order[0], "wait");
	assert_string_equal(s.order[1], "name");
	assert_string_equal(s.order[2], "password");
	assert_int_equal(s.calls[0], 1);
	assert_int_equal(s.calls[1], 1);
	assert_int_equal(s.calls[2], 0);
	assert_int_equal(s.calls[3], 1);
	assert_int_equal(s.size_ms, 2000);

	/* an empty mapping walks clean, visiting nothing */
	assert_string_equal(walk("{}", &thing, &s, &rc), "");
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 0);
}

static void test_unknown_key(void **state)
{
	static const struct ymap top = {NULL, keys, ARRAY_LEN(keys), NULL, 0, NULL};
	struct seen s;
	int rc;

	(void)state;
	assert_string_equal(walk("name: x\n  # c\nsize: 3\n", &thing, &s, &rc),
	                    PATH ":3:1: unknown key 'size' in thing (expected one of: name, password, password_file, "
	                    "wait)");
	assert_int_equal(rc, -1);
	/* what came before was read, what came after was not */
	assert_int_equal(s.n, 1);
	/* at a file's top level there is no "in ..." */
	assert_string_equal(walk("{name: x, Name: y}", &top, &s, &rc),
	                    PATH ":1:11: unknown key 'Name' (expected one of: name, password, password_file, wait)");
	/* quoted user text: control bytes shown as '?', a long key cut short */
	assert_string_equal(walk("\"a\\tb\": 1\n", &thing, &s, &rc),
	                    PATH ":1:1: unknown key 'a?b' in thing (expected one of: name, password, password_file, "
	                    "wait)");
	assert_string_equal(walk("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa: 1\n",
	                         &thing, &s, &rc),
	                    PATH ":1:1: unknown key 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa...' "
	                    "in thing (expected one of: name, password, password_file, wait)");
	/* a key that is no key name */
	assert_string_equal(walk("? [a]\n: b\n", &thing, &s, &rc), PATH ":1:3: expected a key name, got a list");
	assert_int_equal(rc, -1);
}

static void test_duplicate_key(void **state)
{
	struct seen s;
	int rc;

	(void)state;
	assert_string_equal(walk("name: a\nwait: 1s\n\nname: b\n", &thing, &s, &rc),
	                    PATH ":4:1: duplicate key 'name' (first at line 1)");
	assert_int_equal(rc, -1);
	/* refused before the value is read again */
	assert_int_equal(s.calls[0], 1);
	assert_string_equal(walk("{wait: 1s,\n  wait: 2s}", &thing, &s, &rc),
	                    PATH ":2:3: duplicate key 'wait' (first at line 1)");
	assert_int_equal(s.size_ms, 1000);
}

static void test_exclusive_pair(void **state)
{
	struct seen s;
	int rc;

	(void)state;
	/* at whichever of the two comes second in the file, after the walk */
	assert_string_equal(walk("password: x\nname: n\npassword_file: /p\nwait: 1s\n", &thing, &s, &rc),
	                    PATH ":3:1: give password or password_file, not both");
	assert_int_equal(rc, -1);
	assert_int_equal(s.n, 4);
	assert_string_equal(walk("password_file: /p\npassword: x\n", &thing, &s, &rc),
	                    PATH ":2:1: give password or password_file, not both");
	/* one of the two is fine; a pair naming an absent key never fires */
	assert_string_equal(walk("password_file: /p\nname: n\n", &thing, &s, &rc), "");
	assert_int_equal(rc, 0);
}

/* Keys read elsewhere pass; one key has a sharper message of its own. */
static int other(struct ynode_ctx *c, yaml_node_t *k, void *obj)
{
	if (strcmp(ynode_scalar(k), "kind") == 0)
		return 1;
	if (strcmp(ynode_scalar(k), "timeout") == 0)
		return ynode_fail(c, k, "'timeout' goes elsewhere");
	return 0;
}

static void test_other_keys(void **state)
{
	static const struct ymap with_other = {"thing", keys, ARRAY_LEN(keys), NULL, 0, other};
	struct seen s;
	int rc;

	(void)state;
	assert_string_equal(walk("kind: x\nname: n\nkind: y\n", &with_other, &s, &rc), "");
	assert_int_equal(rc, 0);
	assert_int_equal(s.n, 1);
	assert_string_equal(walk("name: n\ntimeout: 1s\n", &with_other, &s, &rc), PATH ":2:1: 'timeout' goes elsewhere");
	assert_string_equal(walk("colour: red\n", &with_other, &s, &rc),
	                    PATH ":1:1: unknown key 'colour' in thing (expected one of: name, password, password_file, "
	                    "wait)");
	/* a value's own error stops the walk where it is */
	assert_string_equal(walk("name: n\nwait: soon\npassword: x\n", &with_other, &s, &rc),
	                    PATH ":2:7: 'wait': expected a duration such as 30s, 500ms or 2m, got 'soon'");
	assert_int_equal(s.n, 2);
}

static void test_not_a_mapping(void **state)
{
	struct seen s;
	int rc;

	(void)state;
	assert_string_equal(walk("[a, b]\n", &thing, &s, &rc), PATH ":1:1: expected a mapping, got a list");
	assert_int_equal(rc, -1);
}

/* The one boolean grammar (util.h), with UTIL_BOOL_EXPECTED in the
 * message; a quoted word counts as its text. */
static void test_get_bool(void **state)
{
	static const struct ymap_key flag_keys[] = {{"flag", parse_flag, 0}};
	static const struct ymap flags = {"thing", flag_keys, 1, NULL, 0, NULL};
	static const struct {
		const char *text;
		int value;
	} ok[] = {
		{"flag: true", 1}, {"flag: Yes", 1}, {"flag: ON", 1}, {"flag: 1", 1}, {"flag: 'on'", 1},
		{"flag: FALSE", 0}, {"flag: no", 0}, {"flag: Off", 0}, {"flag: 0", 0}, {"flag: \"0\"", 0},
	};
	struct seen s;
	size_t i;
	int rc;

	(void)state;
	for (i = 0; i < ARRAY_LEN(ok); i++) {
		assert_string_equal(walk(ok[i].text, &flags, &s, &rc), "");
		assert_int_equal(s.flag, ok[i].value);
	}
	assert_string_equal(walk("flag: maybe", &flags, &s, &rc),
	                    PATH ":1:7: 'flag': expected " UTIL_BOOL_EXPECTED ", got 'maybe'");
	assert_string_equal(walk("flag: y", &flags, &s, &rc), PATH ":1:7: 'flag': expected " UTIL_BOOL_EXPECTED ", got 'y'");
	assert_string_equal(walk("flag:", &flags, &s, &rc), PATH ":1:6: 'flag': expected " UTIL_BOOL_EXPECTED ", got nothing");
	assert_string_equal(walk("flag: [on]", &flags, &s, &rc),
	                    PATH ":1:7: 'flag': expected " UTIL_BOOL_EXPECTED ", got a list");
}

/* A name the file chooses (a host, a group): its first key's verdict. */
static const char *want_name(const char *text, struct doc *d)
{
	yaml_node_t *root = load(d, text);

	d->err.msg[0] = '\0';
	ynode_want_name(&d->c, ynode_at(&d->c, root->data.mapping.pairs.start->key), "a host name");
	unload(d);
	return d->err.msg;
}

static void test_want_name(void **state)
{
	struct doc d;

	(void)state;
	assert_string_equal(want_name("rtr1: x\n", &d), "");
	assert_string_equal(want_name("'~': x\n", &d), ""); /* a quoted word is its text */
	assert_string_equal(want_name("'': x\n", &d), PATH ":1:1: expected a host name, got ''");
	assert_string_equal(want_name("? \n: x\n", &d), PATH ":1:2: expected a host name, got nothing");
	assert_string_equal(want_name("[a]: x\n", &d), PATH ":1:1: expected a host name, got a list");
	assert_string_equal(want_name("{a: 1}: x\n", &d), PATH ":1:1: expected a host name, got a mapping");
	assert_string_equal(want_name("\"a\\0b\": x\n", &d), PATH ":1:1: a host name contains a NUL character");
}

/* libyaml's reader reports a byte offset; the message gives line and
 * character, as every other does. */
static void test_fail_load(void **state)
{
	static const char text[] = "a: 1\n\xc3\xa9: \"x\xff\"\n";
	yaml_parser_t parser;
	yaml_document_t doc;
	struct err err = {{0}};
	struct ynode_ctx c = {PATH, &doc, &err};

	(void)state;
	assert_true(yaml_parser_initialize(&parser));
	yaml_parser_set_input_string(&parser, (const unsigned char *)text, strlen(text));
	assert_false(yaml_parser_load(&parser, &doc));
	assert_int_equal(ynode_fail_load(&c, &parser, text, strlen(text)), -1);
	assert_string_equal(err.msg, PATH ":2:6: invalid YAML: invalid leading UTF-8 octet (0xFF)");
	yaml_parser_delete(&parser);
}

int main(void)
{
	static const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clean_map),
		cmocka_unit_test(test_unknown_key),
		cmocka_unit_test(test_duplicate_key),
		cmocka_unit_test(test_exclusive_pair),
		cmocka_unit_test(test_other_keys),
		cmocka_unit_test(test_not_a_mapping),
		cmocka_unit_test(test_get_bool),
		cmocka_unit_test(test_fail_load),
		cmocka_unit_test(test_want_name),
	};

	return cmocka_run_group_tests_name("yamlnode", tests, NULL, NULL);
}
