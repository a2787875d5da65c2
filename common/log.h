/* log: messages for the user on stderr, "fleetrun: error: ...". */
#ifndef FLEETRUN_LOG_H
#define FLEETRUN_LOG_H

enum log_level { LOG_ERROR, LOG_WARN, LOG_INFO, LOG_DEBUG };

void log_init(const char *prog, enum log_level level);
enum log_level log_level(void);
/* Call before_write(ctx) before each message goes out (NULL: none): the
 * live progress line erases itself so a message never lands inside it.
 * ctx is the caller's, kept until the hook is set again. */
void log_set_hook(void (*before_write)(void *ctx), void *ctx);
void log_msg(enum log_level lvl, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#define log_error(...) log_msg(LOG_ERROR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) log_msg(LOG_DEBUG, __VA_ARGS__)

#endif
