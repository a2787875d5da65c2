/* net: host addresses, resolution and TCP connect with a deadline, for
 * the steps that open connections (tcp, ping, ssh). */
#include "net.h"

#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
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

int net_resolve_host(const char *host, const char *port, int socktype, struct addrinfo **res, struct err *err)
{
	struct addrinfo hints = {.ai_socktype = socktype};
	int rc = getaddrinfo(host, port, &hints, res);

	if (rc != 0) {
		err_set(err, "cannot resolve %s: %s", host, gai_strerror(rc));
		return -1;
	}
	return 0;
}

int net_resolve(struct step_ctx *ctx, const char *port, int socktype, struct addrinfo **res,
                struct step_result *r)
{
	struct err err;

	if (net_resolve_host(net_address(ctx), port, socktype, res, &err) < 0) {
		r->status = STATUS_UNREACHABLE;
		r->error = xstrdup(err.msg);
		return -1;
	}
	return 0;
}

int net_connect(const struct addrinfo *res, int64_t deadline_us, int *fd_out, const char **why)
{
	*why = "no address";
	for (const struct addrinfo *ai = res; ai; ai = ai->ai_next) {
		int soerr = 0, n, fd;
		socklen_t sl = sizeof(soerr);
		struct pollfd pfd;

		if (clock_mono_us() >= deadline_us)
			return 1;
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0) {
			*why = strerror(errno);
			continue;
		}
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
			*why = strerror(errno);
			close(fd);
			continue;
		}
		pfd = (struct pollfd){.fd = fd, .events = POLLOUT};
		do {
			int64_t left_ms = (deadline_us - clock_mono_us() + 999) / 1000;
			n = poll(&pfd, 1, left_ms <= 0 ? 0 : left_ms > INT_MAX ? INT_MAX : (int)left_ms);
		} while (n < 0 && errno == EINTR);
		if (n == 0) {
			close(fd);
			return 1;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) == 0 && soerr == 0) {
			*fd_out = fd;
			return 0;
		}
		*why = strerror(soerr ? soerr : errno);
		close(fd);
	}
	return -1;
}
