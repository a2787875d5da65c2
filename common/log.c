/* log: one formatted line per message on stderr, written with a single
 * write(2) so lines from the supervisor and its workers never interleave
 * mid-line. */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <unistd.h>

#include "termtext.h"

static const char *log_prog = "fleetrun";
static enum log_level log_lvl = LOG_WARN;
static void (*log_before)(void *ctx);
static void *log_before_ctx;

void log_set_hook(void (*before_write)(void *ctx), void *ctx)
{
	log_before = before_write;
	log_before_ctx = ctx;
}

void log_init(const char *prog, enum log_level level)
{
	log_prog = prog;
	log_lvl = level;
}

enum log_level log_level(void)
{
	return log_lvl;
}

void log_msg(enum log_level lvl, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info", "debug"};
	char msg[2048], line[2048];
	va_list ap;
	int n, m;

	if (lvl > log_lvl)
		return;
	n = snprintf(line, sizeof(line), "%s: %s: ", log_prog, names[lvl]);
	va_start(ap, fmt);
	m = vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (m < 0)
		return;
	if (m > (int)sizeof(msg) - 1)
		m = (int)sizeof(msg) - 1;
	/* Messages name hosts (inventories are data) and carry error texts
	 * (devices are hostile): what reaches the terminal is printable
	 * text, one line (termtext). */
	n += (int)termtext_copy(line + n, sizeof(line) - (size_t)n - 1, msg, (size_t)m, 0);
	line[n++] = '\n';
	if (log_before)
		log_before(log_before_ctx);
	ssize_t w = write(STDERR_FILENO, line, (size_t)n);
	(void)w;
}
