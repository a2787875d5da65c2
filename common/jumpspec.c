/* jumpspec: see jumpspec.h. */
#include "jumpspec.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int jumpspec_name_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

static int jumpspec_name_ok(const char *s, size_t n)
{
	if (n == 0 || n > 253 || s[0] == '-')
		return 0;
	for (size_t i = 0; i < n; i++)
		if (!jumpspec_name_char(s[i]))
			return 0;
	return 1;
}

static int jumpspec_ipv6_ok(const char *s, size_t n)
{
	char tmp[64];
	struct in6_addr a;

	if (n == 0 || n >= sizeof(tmp))
		return 0;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* 1-65535, digits only. */
static int jumpspec_port_ok(const char *s, size_t n)
{
	unsigned long v = 0;

	if (n == 0 || n > 5)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!isdigit((unsigned char)s[i]))
			return 0;
		v = v * 10 + (unsigned long)(s[i] - '0');
	}
	return v >= 1 && v <= 65535;
}

/* One hop, s[0..n). 0, or -1 with err. */
static int jumpspec_hop(const char *s, size_t n, size_t idx, struct jumpspec_hop *h, struct err *err)
{
	const char *at = memchr(s, '@', n), *host = s, *end = s + n, *colon = NULL;
	size_t hlen;

	if (at) {
		if (!jumpspec_name_ok(s, (size_t)(at - s))) {
			err_set(err, "jump hop %zu: bad user (expected letters, digits, '.', '-', '_')", idx);
			return -1;
		}
		h->user = xstrndup(s, (size_t)(at - s));
		host = at + 1;
	}
	if (host < end && *host == '[') {
		const char *close = memchr(host, ']', (size_t)(end - host));
		if (!close || !jumpspec_ipv6_ok(host + 1, (size_t)(close - host - 1))) {
			err_set(err, "jump hop %zu: bad IPv6 address (expected [address])", idx);
			return -1;
		}
		h->host = xstrndup(host + 1, (size_t)(close - host - 1));
		colon = close + 1 < end ? close + 1 : NULL;
		if (colon && *colon != ':') {
			err_set(err, "jump hop %zu: expected ':port' after ']'", idx);
			return -1;
		}
	} else {
		colon = memchr(host, ':', (size_t)(end - host));
		hlen = colon ? (size_t)(colon - host) : (size_t)(end - host);
		if (!jumpspec_name_ok(host, hlen)) {
			err_set(err, "jump hop %zu: bad host (expected letters, digits, '.', '-', '_', or [IPv6])",
			        idx);
			return -1;
		}
		h->host = xstrndup(host, hlen);
	}
	if (colon) {
		if (!jumpspec_port_ok(colon + 1, (size_t)(end - colon - 1))) {
			err_set(err, "jump hop %zu: bad port (expected 1-65535)", idx);
			return -1;
		}
		snprintf(h->port, sizeof(h->port), "%.*s", (int)(end - colon - 1), colon + 1);
	} else {
		snprintf(h->port, sizeof(h->port), "22");
	}
	return 0;
}

int jumpspec_parse(const char *spec, struct jumpspec *out, struct err *err)
{
	const char *p = spec;
	int r = -1;

	memset(out, 0, sizeof(*out));
	if (!spec || !*spec || !strcmp(spec, "none"))
		return 0;
	for (;;) {
		const char *comma = strchr(p, ',');
		size_t n = comma ? (size_t)(comma - p) : strlen(p);

		if (out->n == JUMPSPEC_MAX_HOPS) {
			err_set(err, "jump: more than %d hops", JUMPSPEC_MAX_HOPS);
			goto out;
		}
		if (jumpspec_hop(p, n, out->n + 1, &out->hops[out->n], err) < 0) {
			out->n++;
			goto out;
		}
		out->n++;
		if (!comma)
			break;
		p = comma + 1;
	}
	r = 0;
out:
	if (r < 0)
		jumpspec_free(out);
	return r;
}

void jumpspec_free(struct jumpspec *j)
{
	for (size_t i = 0; i < j->n; i++) {
		free(j->hops[i].user);
		free(j->hops[i].host);
	}
	memset(j, 0, sizeof(*j));
}
