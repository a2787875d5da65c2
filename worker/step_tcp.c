/* step_tcp: can a TCP connection be made to the host's port, and how long
 * does it take. Nothing is sent. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"
#include "tmpl.h"
#include "util.h"

const char *net_address(const struct step_ctx *ctx)
{
	const char *a = kvlist_get(&ctx->task->vars, "address");
	return a ? a : ctx->task->host;
}

int net_left_ms(const struct step_ctx *ctx)
{
	int64_t left = (ctx->deadline_us - clock_mono_us()) / 1000;
	return left > 0 ? (int)left : 0;
}

int net_resolve(struct step_ctx *ctx, const char *port, int socktype, struct addrinfo **res,
                struct step_result *r)
{
	struct addrinfo hints = {.ai_socktype = socktype};
	int rc = getaddrinfo(net_address(ctx), port, &hints, res);

	if (rc != 0) {
		r->status = STATUS_UNREACHABLE;
		r->error = xasprintf("cannot resolve %s: %s", net_address(ctx), gai_strerror(rc));
		return -1;
	}
	return 0;
}

void step_tcp_run(struct step_ctx *ctx, struct step_result *r)
{
	struct buf port = BUF_INIT;
	struct addrinfo *res = NULL;
	struct err err;
	const char *why = "no address";
	int64_t t0 = clock_mono_us();

	if (tmpl_render(ctx->step->text, ctx->scope, TMPL_ENV_VALUE, &port, ctx->secrets, &err) < 0) {
		r->status = STATUS_ERROR;
		r->error = xstrdup(err.msg);
		goto out;
	}
	if (net_resolve(ctx, port.data, SOCK_STREAM, &res, r) < 0)
		goto out;
	for (struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		int soerr = 0, n;
		socklen_t sl = sizeof(soerr);
		struct pollfd pfd;

		if (fd < 0) {
			why = strerror(errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			why = strerror(errno);
			close(fd);
			continue;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		do
			n = poll(&pfd, 1, net_left_ms(ctx));
		while (n < 0 && errno == EINTR);
		if (n == 0) {
			close(fd);
			r->status = STATUS_TIMEOUT;
			r->error = xasprintf("connect to %s port %s did not finish before the %s deadline",
			                     net_address(ctx), port.data, ctx->deadline_is_task ? "task" : "step");
			goto out;
		}
		getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl);
		close(fd);
		if (soerr == 0) {
			r->rtt_ms = (clock_mono_us() - t0) / 1000.0;
			goto out;
		}
		why = strerror(soerr);
	}
	r->status = STATUS_UNREACHABLE;
	r->error = xasprintf("cannot connect to %s port %s: %s", net_address(ctx), port.data, why);
out:
	if (res)
		freeaddrinfo(res);
	buf_free(&port);
}
