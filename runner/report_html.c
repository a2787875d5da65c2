/* report_html: the HTML page of `fleetrun report --html`. */
#include "report_html.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "proto.h"
#include "record.h"

/* The page template, runner/report_page.html, built into the program: the
 * assembler's .incbin copies the file's bytes in, so the page stays an
 * HTML file one can open in a browser and edit, and nothing is generated
 * at build time. The path is relative to the top of the tree, where make
 * runs the compiler; the Makefile makes this object depend on the file.
 * A NUL follows the bytes so the template is a C string. */
__asm__(".section .rodata\n"
        ".global report_html_page\n"
        ".hidden report_html_page\n"
        ".type report_html_page, @object\n"
        "report_html_page:\n"
        ".incbin \"runner/report_page.html\"\n"
        ".byte 0\n"
        ".previous\n");
extern const char report_html_page[];

/* Where the data goes in the template: before the page's own script, so
 * the data is in the document when that script runs. */
#define REPORT_HTML_MARK "<!-- fleetrun:data -->"

/* Write JSON into the page. It goes inside <script type="application/json">,
 * which ends at the first "</script" whatever JSON thinks, and where
 * "<!--" changes how the HTML parser reads on. So every '<' is written as
 * the JSON escape \u003c: outside strings JSON has no '<', inside them
 * the escape is the same character to JSON.parse. Host output cannot end
 * the block, whatever it holds. */
static void report_html_json_out(FILE *f, const unsigned char *p, size_t n)
{
	while (n > 0) {
		const unsigned char *lt = memchr(p, '<', n);
		size_t run = lt ? (size_t)(lt - p) : n;

		fwrite(p, 1, run, f);
		if (!lt)
			break;
		fputs("\\u003c", f);
		p += run + 1;
		n -= run + 1;
	}
}

/* Write the generator's JSON out and empty it for the next value. */
static void report_html_gen_flush(struct report_html *h)
{
	const unsigned char *out;
	size_t len;

	yajl_gen_get_buf(h->gen, &out, &len);
	report_html_json_out(h->f, out, len);
	yajl_gen_clear(h->gen);
	yajl_gen_reset(h->gen, NULL);
}

static void report_html_gen_str(yajl_gen g, const char *s)
{
	yajl_gen_string(g, (const unsigned char *)s, strlen(s));
}

int report_html_open(struct report_html *h, const char *path, const char *journal, struct err *err)
{
	const char *mark = strstr(report_html_page, REPORT_HTML_MARK);
	int fd = -1, r = -1;

	memset(h, 0, sizeof(*h));
	if (!mark) {
		err_set(err, "the built-in page template lacks its %s marker (runner/report_page.html)",
		        REPORT_HTML_MARK);
		goto out;
	}
	h->path = xstrdup(path);
	h->tmp_path = xasprintf("%s.tmp", path);
	/* a .tmp left by a report that was killed is replaced; O_EXCL after
	 * the unlink so a link planted in between is not followed */
	unlink(h->tmp_path);
	/* 0600, like the journal: the page holds what the devices printed */
	fd = open(h->tmp_path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	if (fd < 0) {
		err_set(err, "%s: cannot create: %s", h->tmp_path, strerror(errno));
		free(h->tmp_path);
		h->tmp_path = NULL;
		goto out;
	}
	h->f = fdopen(fd, "w");
	if (!h->f) {
		err_set(err, "%s: %s", h->tmp_path, strerror(errno));
		goto out;
	}
	fd = -1;
	h->gen = yajl_gen_alloc(NULL);
	if (!h->gen)
		abort();
	fwrite(report_html_page, 1, (size_t)(mark - report_html_page), h->f);
	fputs("<script type=\"application/json\" id=\"fleetrun-hosts\">{\"journal\":", h->f);
	report_html_gen_str(h->gen, journal);
	report_html_gen_flush(h);
	fputs(",\"columns\":[\"host\",\"status\",\"attempt\",\"worker\",\"started_ms\",\"duration_ms\",\"error\","
	      "\"output\",\"records\",\"values\"],\n\"hosts\":[\n",
	      h->f);
	r = 0;
out:
	if (fd >= 0)
		close(fd);
	return r;
}

/* ---- one host's output, as text for the page ---- */

/* Append at most what fits under REPORT_HTML_OUTPUT_CAP, cut on a UTF-8
 * character boundary (the journal's strings are valid UTF-8); count what
 * did not fit in *dropped. */
static void report_html_put(struct buf *b, const char *p, size_t n, size_t *dropped)
{
	size_t room = b->len < REPORT_HTML_OUTPUT_CAP ? REPORT_HTML_OUTPUT_CAP - b->len : 0;

	if (n > room) {
		while (room > 0 && ((unsigned char)p[room] & 0xC0) == 0x80)
			room--;
		*dropped += n - room;
		n = room;
	}
	buf_append(b, p, n);
}

static bool report_html_has(yajl_val obj, const char *key)
{
	const char *path[] = {key, NULL};
	return yajl_tree_get(obj, path, yajl_t_any) != NULL;
}

/* One step's output: a header line ("[name] exit 1"), then its stdout or
 * body, its stderr, or (ping, tcp) what it measured. */
static void report_html_step(struct buf *b, yajl_val step, size_t *dropped)
{
	const char *name = journal_get_str(step, PROTO_KEY_NAME), *kind = journal_get_str(step, PROTO_KEY_KIND);
	const char *status = journal_get_str(step, PROTO_KEY_STATUS), *out = journal_get_str(step, PROTO_KEY_STDOUT);
	const char *err = journal_get_str(step, PROTO_KEY_STDERR);
	struct buf head = BUF_INIT;
	bool binary = false;

	if (!out)
		out = journal_get_str(step, PROTO_KEY_BODY);
	binary = !out && (report_html_has(step, PROTO_KEY_STDOUT RECORD_B64_SUFFIX) ||
	                  report_html_has(step, PROTO_KEY_BODY RECORD_B64_SUFFIX));
	buf_printf(&head, "[%s]", name ? name : kind ? kind : "step");
	/* the numbers a step recorded: exit, http_status, connect_ms, rtt_ms... */
	for (size_t i = 0; i < step->u.object.len; i++) {
		const char *k = step->u.object.keys[i];
		yajl_val v = step->u.object.values[i];
		if (strcmp(k, PROTO_KEY_DURATION_MS) == 0)
			continue;
		if (YAJL_IS_INTEGER(v))
			buf_printf(&head, " %s %lld", k, YAJL_GET_INTEGER(v));
		else if (YAJL_IS_DOUBLE(v))
			buf_printf(&head, " %s %.3g", k, YAJL_GET_DOUBLE(v));
	}
	if (journal_get_str(step, PROTO_KEY_SIGNAL))
		buf_printf(&head, " signal %s", journal_get_str(step, PROTO_KEY_SIGNAL));
	if (status && strcmp(status, "ok") != 0)
		buf_printf(&head, " (%s)", status);
	buf_putc(&head, '\n');
	report_html_put(b, head.data, head.len, dropped);
	if (out && *out) {
		report_html_put(b, out, strlen(out), dropped);
		if (out[strlen(out) - 1] != '\n')
			report_html_put(b, "\n", 1, dropped);
	}
	if (binary)
		report_html_put(b, "(output that is not UTF-8: see the journal)\n", 44, dropped);
	if (err && *err) {
		report_html_put(b, "stderr:\n", 8, dropped);
		report_html_put(b, err, strlen(err), dropped);
		if (err[strlen(err) - 1] != '\n')
			report_html_put(b, "\n", 1, dropped);
	}
	buf_free(&head);
}

static void report_html_output(struct buf *b, yajl_val root)
{
	const char *path[] = {"steps", NULL};
	yajl_val steps = yajl_tree_get(root, path, yajl_t_array);
	size_t dropped = 0;

	buf_reset(b);
	buf_puts(b, "");
	for (size_t i = 0; steps && i < steps->u.array.len; i++)
		if (YAJL_IS_OBJECT(steps->u.array.values[i]))
			report_html_step(b, steps->u.array.values[i], &dropped);
	if (dropped)
		buf_printf(b, "\n[%zu more bytes: see the journal]", dropped);
}

/* ---- parsed records ---- */

/* The records of the first step that has "parsed": NULL when none. */
static yajl_val report_html_parsed(yajl_val root)
{
	const char *path[] = {"steps", NULL}, *ppath[] = {PROTO_KEY_PARSED, NULL};
	yajl_val steps = yajl_tree_get(root, path, yajl_t_array), parsed;

	for (size_t i = 0; steps && i < steps->u.array.len; i++)
		if (YAJL_IS_OBJECT(steps->u.array.values[i]) &&
		    (parsed = yajl_tree_get(steps->u.array.values[i], ppath, yajl_t_array)))
			return parsed;
	return NULL;
}

/* A value as text, as parsedview_value writes it for the terminal: a
 * string; a List's items joined with ","; named groups as "name=value"
 * pairs joined with " ". */
static void report_html_value(struct buf *b, yajl_val v)
{
	if (YAJL_IS_STRING(v)) {
		buf_puts(b, YAJL_GET_STRING(v));
	} else if (YAJL_IS_ARRAY(v)) {
		for (size_t i = 0; i < v->u.array.len; i++) {
			if (i)
				buf_putc(b, ',');
			report_html_value(b, v->u.array.values[i]);
		}
	} else if (YAJL_IS_OBJECT(v)) {
		for (size_t i = 0; i < v->u.object.len; i++) {
			if (i)
				buf_putc(b, ' ');
			buf_printf(b, "%s=", v->u.object.keys[i]);
			report_html_value(b, v->u.object.values[i]);
		}
	} else if (YAJL_IS_NUMBER(v)) {
		buf_puts(b, YAJL_GET_NUMBER(v));
	}
}

/* Are rec's keys the ones held (the first host's, kept when none were)? */
static void report_html_keys(struct report_html *h, yajl_val rec)
{
	size_t n = rec->u.object.len;

	if (!h->keys) {
		h->keys = xcalloc(n + 1, sizeof(*h->keys));
		for (size_t i = 0; i < n; i++)
			h->keys[i] = xstrdup(rec->u.object.keys[i]);
		h->nkeys = n;
		return;
	}
	if (n != h->nkeys)
		h->keys_differ = true;
	for (size_t i = 0; !h->keys_differ && i < n; i++)
		if (strcmp(rec->u.object.keys[i], h->keys[i]) != 0)
			h->keys_differ = true;
}

/* The row's record count and its first record's values (null: none). */
static void report_html_row_parsed(struct report_html *h, yajl_val root)
{
	yajl_val parsed = report_html_parsed(root), rec;
	yajl_gen g = h->gen;

	rec = parsed && parsed->u.array.len ? parsed->u.array.values[0] : NULL;
	yajl_gen_integer(g, parsed ? (long long)parsed->u.array.len : 0);
	if (!rec || !YAJL_IS_OBJECT(rec)) {
		yajl_gen_null(g);
		return;
	}
	if ((long long)parsed->u.array.len > h->most_records)
		h->most_records = (long long)parsed->u.array.len;
	report_html_keys(h, rec);
	yajl_gen_array_open(g);
	for (size_t i = 0; i < rec->u.object.len; i++) {
		buf_reset(&h->value);
		buf_puts(&h->value, "");
		report_html_value(&h->value, rec->u.object.values[i]);
		yajl_gen_string(g, (const unsigned char *)h->value.data, h->value.len);
	}
	yajl_gen_array_close(g);
}

void report_html_host(struct report_html *h, const struct journal_entry *e, int64_t started_ms,
                      int64_t duration_ms, const char *error)
{
	const char *wpath[] = {"worker", NULL};
	yajl_val worker = yajl_tree_get(e->root, wpath, yajl_t_number);
	yajl_gen g = h->gen;

	report_html_output(&h->text, e->root);
	yajl_gen_array_open(g);
	report_html_gen_str(g, e->host);
	report_html_gen_str(g, status_name(e->status));
	yajl_gen_integer(g, e->attempt);
	if (worker && YAJL_IS_INTEGER(worker))
		yajl_gen_integer(g, YAJL_GET_INTEGER(worker));
	else
		yajl_gen_null(g);
	yajl_gen_integer(g, started_ms);
	yajl_gen_integer(g, duration_ms);
	if (error)
		report_html_gen_str(g, error);
	else
		yajl_gen_null(g);
	yajl_gen_string(g, (const unsigned char *)h->text.data, h->text.len);
	report_html_row_parsed(h, e->root);
	yajl_gen_array_close(g);
	if (h->rows++)
		fputs(",\n", h->f);
	report_html_gen_flush(h);
}

int report_html_finish(struct report_html *h, const struct summary *s, const struct summary_run *run,
                       struct err *err)
{
	const char *rest = strstr(report_html_page, REPORT_HTML_MARK) + strlen(REPORT_HTML_MARK);
	char *json = NULL;
	size_t jlen = 0;
	FILE *mem = open_memstream(&json, &jlen);
	int r = -1;

	if (!mem) {
		err_set(err, "%s: %s", h->tmp_path, strerror(errno));
		goto out;
	}
	summary_print_json(s, mem, run);
	if (fclose(mem) != 0) {
		err_set(err, "%s: %s", h->tmp_path, strerror(errno));
		goto out;
	}
	/* the parsed columns: the keys every host with records has, or null */
	fputs("\n],\"parsed\":", h->f);
	if (h->keys && !h->keys_differ) {
		yajl_gen_map_open(h->gen);
		report_html_gen_str(h->gen, "columns");
		yajl_gen_array_open(h->gen);
		for (size_t i = 0; i < h->nkeys; i++)
			report_html_gen_str(h->gen, h->keys[i]);
		yajl_gen_array_close(h->gen);
		report_html_gen_str(h->gen, "most_records");
		yajl_gen_integer(h->gen, h->most_records);
		yajl_gen_map_close(h->gen);
		report_html_gen_flush(h);
	} else {
		fputs("null", h->f);
	}
	fputs("}</script>\n<script type=\"application/json\" id=\"fleetrun-summary\">", h->f);
	report_html_json_out(h->f, (const unsigned char *)json, jlen);
	fputs("</script>", h->f);
	fputs(rest, h->f);
	/* in order: what stdio holds, then the disk, as the journal is */
	if (fflush(h->f) != 0 || ferror(h->f) || fsync(fileno(h->f)) < 0) {
		err_set(err, "%s: cannot write: %s", h->tmp_path, strerror(errno));
		goto out;
	}
	if (fclose(h->f) != 0) {
		h->f = NULL;
		err_set(err, "%s: cannot write: %s", h->tmp_path, strerror(errno));
		goto out;
	}
	h->f = NULL;
	if (rename(h->tmp_path, h->path) < 0) {
		err_set(err, "%s: cannot rename to %s: %s", h->tmp_path, h->path, strerror(errno));
		goto out;
	}
	free(h->tmp_path);
	h->tmp_path = NULL; /* in place: nothing for report_html_free to remove */
	r = 0;
out:
	free(json);
	return r;
}

void report_html_free(struct report_html *h)
{
	if (h->f)
		fclose(h->f);
	if (h->tmp_path)
		unlink(h->tmp_path);
	if (h->gen)
		yajl_gen_free(h->gen);
	free(h->tmp_path);
	free(h->path);
	buf_free(&h->text);
	buf_free(&h->value);
	for (size_t i = 0; i < h->nkeys; i++)
		free(h->keys[i]);
	free(h->keys);
	memset(h, 0, sizeof(*h));
}
