/* step_tcp: can a TCP connection be made to the host's port, and how long
 * does it take. Nothing is sent. */
#include <stdlib.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"
#include "tmpl.h"
#include "util.h"

static void step_tcp_run(struct step_ctx *ctx, struct step_result *r)
{
	struct buf port = BUF_INIT;
	struct addrinfo *res = NULL;
	struct err err;
	const char *why;
	int64_t t0 = clock_mono_us();
	int fd = -1, rc;

	if (tmpl_render(ctx->step->text, ctx->scope, TMPL_ENV_VALUE, &port, ctx->secrets, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	if (net_resolve(ctx, port.data, SOCK_STREAM, &res, r) < 0)
		goto out;
	rc = net_connect(res, ctx->deadline_us, &fd, &why);
	if (rc == 0) {
		r->rtt_ms = (clock_mono_us() - t0) / 1000.0;
		close(fd);
	} else if (rc > 0) {
		r->status = STATUS_TIMEOUT;
		r->error = xasprintf("connect to %s port %s did not finish before the %s deadline", net_address(ctx),
		                     port.data, ctx->deadline_is_task ? "task" : "step");
	} else {
		r->status = STATUS_UNREACHABLE;
		r->error = xasprintf("cannot connect to %s port %s: %s", net_address(ctx), port.data, why);
	}
out:
	if (res)
		freeaddrinfo(res);
	buf_free(&port);
}

/* The time to connect, when the port took the connection. */
static void step_tcp_pack(const struct step_result *r, struct proto_step *v)
{
	if (r->status == STATUS_OK) {
		v->has |= PROTO_STEP_CONNECT_MS;
		v->connect_ms = r->rtt_ms;
	}
}

const struct step_ops step_tcp_ops = {
	.kind = STEP_TCP,
	.run = step_tcp_run,
	.pack = step_tcp_pack,
};
