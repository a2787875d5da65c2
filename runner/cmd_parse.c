/* cmd_parse: `fleetrun parse --template FILE [INPUT]`: CLI text parsed
 * with a TextFSM template into JSON records, offline, for writing and
 * debugging templates. The engine is common/textfsm*.c; this is its
 * options, its files and its exit codes. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "cmd.h"
#include "log.h"
#include "textfsm.h"

static const char cmd_parse_usage[] =
	"usage: fleetrun parse --template FILE [INPUT]\n"
	"\n"
	"Parse INPUT (stdin when there is none), the text a device printed, with\n"
	"the TextFSM template FILE, and print its records as one JSON array on\n"
	"stdout: one object per record, keyed by the template's value names in\n"
	"lowercase, List values as arrays, as ntc-templates users get them.\n"
	"\n"
	"  -t, --template FILE   the TextFSM template\n"
	"\n"
	"examples:\n"
	"  fleetrun parse -t show_version.textfsm show_version.txt\n"
	"  ssh rtr1 show ip interface brief | fleetrun parse -t ip_int_brief.textfsm | jq '.[].intf'\n"
	"\n"
	"exit: 0 parsed, 1 the template's Error action refused the input, 2 usage\n"
	"error, or the template or the input cannot be read or the template is\n"
	"wrong (file:line says where), 3 the records cannot be written\n";

/* Larger than any command's output; the whole input is held at once. */
#define CMD_PARSE_MAX_INPUT (256u * 1024 * 1024)

struct cmd_parse_opts {
	const char *template; /* -t */
};

#define PARSE(member) CLI_FIELD(struct cmd_parse_opts, member)

static const struct cli_opt cmd_parse_options[] = {
	{"template", 't', true, cli_string, PARSE(template), 0, 0, NULL, NULL},
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

int cmd_parse(int argc, char **argv)
{
	struct cmd_parse_opts o = {0};
	struct buf tpl = BUF_INIT, input = BUF_INIT, json = BUF_INIT;
	struct textfsm_records recs = TEXTFSM_RECORDS_INIT;
	struct textfsm *t = NULL;
	const char *in = NULL;
	struct err err;
	int rc;

	if ((rc = cli_command(argc, argv, cmd_parse_usage, cmd_parse_tables, ARRAY_LEN(cmd_parse_tables), &o)) >= 0)
		return rc;
	rc = CLI_EXIT_USAGE;
	if (!o.template || !*o.template) {
		log_error("parse: which template? give it with --template FILE");
		fputs(cmd_parse_usage, stderr);
		goto out;
	}
	if (optind < argc && !(in = cli_one_operand(argc, argv, cmd_parse_usage, "",
	                                            "parse: one input at a time (got '%s' after it)")))
		goto out;
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
	return rc;
}
