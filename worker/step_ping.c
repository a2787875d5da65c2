/* step_ping: ICMP echo. An unprivileged ICMP datagram socket where the
 * system allows it (net.ipv4.ping_group_range), else a raw socket when we
 * may open one (root, CAP_NET_RAW), else a clear error. IPv4 and IPv6. */
#include <errno.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "net.h"
#include "util.h"

/* Between echo requests, as ping(8) does by default. */
#define PING_INTERVAL_MS 1000

static uint16_t ping_checksum(const void *p, size_t n)
{
	const uint8_t *b = p;
	uint32_t sum = 0;

	for (size_t i = 0; i + 1 < n; i += 2)
		sum += (uint32_t)(b[i] << 8 | b[i + 1]);
	if (n & 1)
		sum += (uint32_t)(b[n - 1] << 8);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return htons((uint16_t)~sum);
}

/* A socket for ICMP echo to this family: 0 and *fd, *raw; or -1. */
static int ping_socket(int family, int *fd, bool *raw)
{
	int proto = family == AF_INET6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP;

	*fd = socket(family, SOCK_DGRAM | SOCK_CLOEXEC, proto);
	*raw = false;
	if (*fd >= 0)
		return 0;
	*fd = socket(family, SOCK_RAW | SOCK_CLOEXEC, proto);
	*raw = true;
	return *fd >= 0 ? 0 : -1;
}

/* Is this the host we pinged? Only its address counts: a device, or
 * anyone on the path, can send echo replies from anywhere. */
static bool ping_from_target(const struct sockaddr_storage *from, socklen_t fromlen, const struct addrinfo *to)
{
	if (from->ss_family != to->ai_family)
		return false;
	if (to->ai_family == AF_INET)
		return fromlen >= (socklen_t)sizeof(struct sockaddr_in) &&
		       ((const struct sockaddr_in *)from)->sin_addr.s_addr ==
		               ((const struct sockaddr_in *)to->ai_addr)->sin_addr.s_addr;
	return fromlen >= (socklen_t)sizeof(struct sockaddr_in6) &&
	       !memcmp(&((const struct sockaddr_in6 *)from)->sin6_addr,
	               &((const struct sockaddr_in6 *)to->ai_addr)->sin6_addr, sizeof(struct in6_addr));
}

/* Is this datagram the echo reply to our request: from the address we
 * pinged, with the identifier and sequence we sent? Any other ICMP that
 * reaches the socket (a raw socket sees every echo reply to this machine;
 * an ICMP datagram socket every reply with its identifier, from anyone) is
 * not an answer from the host. */
static bool ping_is_reply(const uint8_t *buf, ssize_t n, const struct sockaddr_storage *from, socklen_t fromlen,
                          const struct addrinfo *to, bool raw, uint16_t id, uint16_t seq)
{
	const uint8_t *icmp = buf;
	ssize_t len = n;

	if (!ping_from_target(from, fromlen, to))
		return false;
	if (to->ai_family == AF_INET && raw) {
		/* raw IPv4 sockets deliver the IP header too */
		size_t ihl;
		if (n < 20)
			return false;
		ihl = (size_t)(buf[0] & 0x0f) * 4;
		if (ihl < 20 || n < (ssize_t)ihl + 8)
			return false;
		icmp += ihl;
		len -= (ssize_t)ihl;
	}
	if (len < 8)
		return false;
	if (to->ai_family == AF_INET && icmp[0] != ICMP_ECHOREPLY)
		return false;
	if (to->ai_family == AF_INET6 && icmp[0] != ICMP6_ECHO_REPLY)
		return false;
	if ((uint16_t)(icmp[4] << 8 | icmp[5]) != id)
		return false;
	return (uint16_t)(icmp[6] << 8 | icmp[7]) == seq;
}

/* The identifier of our echo requests on an ICMP datagram socket: the
 * kernel replaces ours with the socket's "port", bound at the first send. */
static int ping_dgram_id(int fd, uint16_t *id)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) < 0)
		return -1;
	if (ss.ss_family == AF_INET)
		*id = ntohs(((struct sockaddr_in *)&ss)->sin_port);
	else if (ss.ss_family == AF_INET6)
		*id = ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
	else
		return -1;
	return 0;
}

static void step_ping_run(struct step_ctx *ctx, struct step_result *r)
{
	struct addrinfo *res = NULL;
	int fd = -1, count = ctx->step->ping_count > 0 ? ctx->step->ping_count : 1;
	uint16_t id = (uint16_t)(getpid() ^ (uintptr_t)ctx);
	double total_ms = 0;
	bool raw = false;

	if (net_resolve(ctx, NULL, SOCK_RAW, &res, r) < 0)
		goto out;
	if (ping_socket(res->ai_family, &fd, &raw) < 0) {
		r->status = STATUS_ERROR;
		r->error = xasprintf("cannot send ICMP echo: %s (allow it with sysctl net.ipv4.ping_group_range, "
		                     "or run as root / with CAP_NET_RAW)",
		                     strerror(errno));
		goto out;
	}
	for (int i = 0; i < count; i++) {
		uint8_t pkt[64], buf[1500];
		uint16_t seq = (uint16_t)(i + 1);
		int64_t sent_at = clock_mono_us(), wait_until;

		if (i > 0) {
			/* the interval, unless the deadline comes first */
			int64_t next = sent_at + PING_INTERVAL_MS * 1000;
			while (clock_mono_us() < next && clock_mono_us() < ctx->deadline_us)
				poll(NULL, 0, (int)((next - clock_mono_us()) / 1000) + 1);
			if (clock_mono_us() >= ctx->deadline_us)
				break;
			sent_at = clock_mono_us();
		}
		memset(pkt, 0, sizeof(pkt));
		pkt[0] = res->ai_family == AF_INET6 ? ICMP6_ECHO_REQUEST : ICMP_ECHO;
		pkt[4] = (uint8_t)(id >> 8);
		pkt[5] = (uint8_t)id;
		pkt[6] = (uint8_t)(seq >> 8);
		pkt[7] = (uint8_t)seq;
		memcpy(pkt + 8, "fleetrun ping", 13);
		if (res->ai_family == AF_INET) {
			uint16_t ck = ping_checksum(pkt, sizeof(pkt));
			memcpy(pkt + 2, &ck, 2);
		}
		if (sendto(fd, pkt, sizeof(pkt), 0, res->ai_addr, res->ai_addrlen) < 0) {
			r->status = STATUS_UNREACHABLE;
			r->error = xasprintf("cannot ping %s: %s", net_address(ctx), strerror(errno));
			goto out;
		}
		r->sent++;
		if (!raw && ping_dgram_id(fd, &id) < 0) {
			r->status = STATUS_ERROR;
			r->error = xasprintf("cannot read the ICMP socket's identifier: %s", strerror(errno));
			goto out;
		}
		/* wait for the reply until the next request is due or the deadline */
		wait_until = sent_at + PING_INTERVAL_MS * 1000;
		if (i == count - 1 || wait_until > ctx->deadline_us)
			wait_until = ctx->deadline_us;
		for (;;) {
			struct pollfd pfd = {.fd = fd, .events = POLLIN};
			struct sockaddr_storage from;
			socklen_t fromlen = sizeof(from);
			int64_t left = wait_until - clock_mono_us();
			ssize_t n;

			if (left <= 0 || poll(&pfd, 1, (int)(left / 1000) + 1) <= 0)
				break;
			memset(&from, 0, sizeof(from));
			n = recvfrom(fd, buf, sizeof(buf), MSG_DONTWAIT, (struct sockaddr *)&from, &fromlen);
			if (n > 0 && ping_is_reply(buf, n, &from, fromlen, res, raw, id, seq)) {
				r->received++;
				total_ms += (clock_mono_us() - sent_at) / 1000.0;
				break;
			}
		}
		/* a reply in hand and no more to send: done, no need to wait */
	}
	if (r->received) {
		r->rtt_ms = total_ms / r->received;
	} else if (clock_mono_us() >= ctx->deadline_us && r->sent < count) {
		r->status = STATUS_TIMEOUT;
		r->error = xasprintf("no echo reply from %s before the %s deadline", net_address(ctx),
		                     ctx->deadline_is_task ? "task" : "step");
	} else {
		r->status = STATUS_UNREACHABLE;
		r->error = xasprintf("no echo reply from %s (%d sent)", net_address(ctx), r->sent);
	}
out:
	if (fd >= 0)
		close(fd);
	if (res)
		freeaddrinfo(res);
}

/* Echo requests sent and replies received; the mean round trip when a
 * reply came. */
static void step_ping_pack(const struct step_result *r, struct proto_step *v)
{
	v->has |= PROTO_STEP_SENT | PROTO_STEP_RECEIVED;
	v->sent = r->sent;
	v->received = r->received;
	if (r->received) {
		v->has |= PROTO_STEP_RTT_MS;
		v->rtt_ms = r->rtt_ms;
	}
}

const struct step_ops step_ping_ops = {
	.kind = STEP_PING,
	.run = step_ping_run,
	.pack = step_ping_pack,
};
