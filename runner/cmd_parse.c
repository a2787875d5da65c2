/* cmd_parse: `fleetrun parse --template FILE [INPUT]` or `fleetrun parse
 * --platform P --command C [INPUT]`: CLI text parsed with a TextFSM
 * template (given, or found in a collection's index) into JSON records,
 * offline, for writing and debugging templates. The engine is
 * common/textfsm*.c; this is its options, its files and its exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "textfsm.h"
#include "textfsm_index.h"

static const char cmd_parse_usage[] =
	"usage: fleetrun parse --template FILE [INPUT]\n"
	"       fleetrun parse --platform PLATFORM --command COMMAND [--templates DIR] [INPUT]\n"
	"\n"
	"Parse INPUT (stdin when there is none), the text a device printed, with\n"
	"a TextFSM template, and print its records as one JSON array on stdout:\n"
	"one object per record, keyed by the template's value names in\n"
	"lowercase, List values as arrays, as ntc-templates users get them.\n"
	"\n"
	"  -t, --template FILE    the TextFSM template\n"
	"  -p, --platform NAME    the device's platform (cisco_ios), and\n"
	"  -c, --command TEXT     the command it ran (show version, sh ver): the\n"
	"                         template is the first row of the collection's\n"
	"                         index that matches both\n"
	"      --templates DIR    the collection: DIR/index and its templates\n"
	"                         (default: $FLEETRUN_TEMPLATES)\n"
	"\n"
	"examples:\n"
	"  fleetrun parse -t show_version.textfsm show_version.txt\n"
	"  ssh rtr1 show ip interface brief | fleetrun parse -t ip_int_brief.textfsm | jq '.[].intf'\n"
	"  fleetrun parse --templates ntc-templates/templates -p cisco_ios -c 'sh ver' out.txt\n"
	"\n"
	"exit: 0 parsed, 1 the template's Error action refused the input, 2 usage\n"
	"error, or the template, the index or the input cannot be read, no row of\n"
	"the index matches, or the template is wrong (file:line says where), 3 the\n"
	"records cannot be written\n";

/* Larger than any command's output; the whole input is held at once. */
#define CMD_PARSE_MAX_INPUT (256u * 1024 * 1024)

struct cmd_parse_opts {
	const char *template;  /* -t */
	const char *platform;  /* -p */
	const char *command;   /* -c */
	const char *templates; /* --templates */
};

#define PARSE(member) CLI_FIELD(struct cmd_parse_opts, member)

static const struct cli_opt cmd_parse_options[] = {
	{"template", 't', true, cli_string, PARSE(template), 0, 0, NULL, NULL},
	{"platform", 'p', true, cli_string, PARSE(platform), 0, 0, NULL, NULL},
	{"command", 'c', true, cli_string, PARSE(command), 0, 0, NULL, NULL},
	{"templates", 0, true, cli_string, PARSE(templates), 0, 0, NULL, NULL},
	{NULL},
};

static const struct cli_table cmd_parse_tables[] = {
	{cmd_parse_options, 0},
};

/* All of fd into out, at most max bytes. 0, or -1 having logged why. */
static int cmd_parse_read(int fd, const char *name, size_t max, struct buf *out)
{
	char chunk[65536];

	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			log_error("parse: %s: cannot read: %s", name, strerror(errno));
			return -1;
		}
		if (n == 0)
			return 0;
		if (out->len + (size_t)n > max) {
			log_error("parse: %s: larger than %zu bytes", name, max);
			return -1;
		}
		buf_append(out, chunk, (size_t)n);
	}
}

static int cmd_parse_file(const char *path, size_t max, struct buf *out)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), r;

	if (fd < 0) {
		log_error("parse: %s: cannot read: %s", path, strerror(errno));
		return -1;
	}
	r = cmd_parse_read(fd, path, max, out);
	close(fd);
	return r;
}

/* The template the index of the collection names for the platform and
 * the command: its path, malloced, or NULL having logged why. */
static char *cmd_parse_lookup(const struct cmd_parse_opts *o)
{
	const char *dir = o->templates ? o->templates : getenv("FLEETRUN_TEMPLATES");
	struct textfsm_index *ix = NULL;
	struct buf text = BUF_INIT;
	char *path = NULL, *found = NULL;
	const char *tpl;
	struct err err;
	size_t line;

	if (!dir || !*dir) {
		log_error("parse: which collection? give --templates DIR or set FLEETRUN_TEMPLATES");
		goto out;
	}
	path = xasprintf("%s/index", dir);
	if (cmd_parse_file(path, TEXTFSM_MAX_TEMPLATE + 1, &text) < 0)
		goto out;
	if (textfsm_index_parse(path, text.data ? text.data : "", text.len, &ix, &err) < 0) {
		log_error("parse: %s", err.msg);
		goto out;
	}
	if (!(tpl = textfsm_index_find(ix, o->platform, o->command, &line))) {
		log_error("parse: %s: no row for platform '%s' and command '%s'", path, o->platform, o->command);
		goto out;
	}
	if (strchr(tpl, ':')) {
		log_error("parse: %s:%zu: several templates joined with ':' are not supported yet", path, line);
		goto out;
	}
	found = xasprintf("%s/%s", dir, tpl);
out:
	textfsm_index_free(ix);
	buf_free(&text);
	free(path);
	return found;
}

int cmd_parse(int argc, char **argv)
{
	struct cmd_parse_opts o = {0};
	struct buf tpl = BUF_INIT, input = BUF_INIT, json = BUF_INIT;
	struct textfsm_records recs = TEXTFSM_RECORDS_INIT;
	struct textfsm *t = NULL;
	const char *in = NULL;
	char *found = NULL; /* the template the index names */
	struct err err;
	int rc;

	if ((rc = cli_command(argc, argv, cmd_parse_usage, cmd_parse_tables, ARRAY_LEN(cmd_parse_tables), &o)) >= 0)
		return rc;
	rc = CLI_EXIT_USAGE;
	if (o.template ? o.platform || o.command : !o.platform || !o.command) {
		log_error("parse: which template? give --template FILE, or --platform and --command");
		fputs(cmd_parse_usage, stderr);
		goto out;
	}
	if (optind < argc && !(in = cli_one_operand(argc, argv, cmd_parse_usage, "",
	                                            "parse: one input at a time (got '%s' after it)")))
		goto out;
	if (!o.template && !(found = cmd_parse_lookup(&o)))
		goto out;
	if (found)
		o.template = found;
	if (cmd_parse_file(o.template, TEXTFSM_MAX_TEMPLATE + 1, &tpl) < 0)
		goto out;
	if (textfsm_compile(o.template, tpl.data ? tpl.data : "", tpl.len, &t, &err) < 0) {
		log_error("parse: %s", err.msg);
		goto out;
	}
	if (in ? cmd_parse_file(in, CMD_PARSE_MAX_INPUT, &input) < 0
	       : cmd_parse_read(STDIN_FILENO, "stdin", CMD_PARSE_MAX_INPUT, &input) < 0)
		goto out;
	if (textfsm_parse(t, input.data ? input.data : "", input.len, &recs, &err) < 0) {
		log_error("parse: %s", err.msg);
		rc = 1;
		goto out;
	}
	textfsm_records_json(t, &recs, &json);
	buf_putc(&json, '\n');
	if (fd_write_all(STDOUT_FILENO, json.data, json.len) < 0) {
		log_error("parse: cannot write the records: %s", strerror(errno));
		rc = CLI_EXIT_CUT;
		goto out;
	}
	rc = 0;
out:
	textfsm_records_free(&recs);
	textfsm_free(t);
	buf_free(&tpl);
	buf_free(&input);
	buf_free(&json);
	free(found);
	return rc;
}
