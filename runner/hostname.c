/* hostname: the one host-name check every inventory source applies, and
 * the quoting of inventory text in messages (see hostname.h). */
#include "hostname.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <stdio.h>
#include <string.h>

static int hostname_char(char c)
{
	return isalnum((unsigned char)c) || c == '.' || c == '-' || c == '_';
}

/* The %zone is an interface name, so the same characters as a host name. */
int hostname_is_ipv6(const char *s, size_t n)
{
	char tmp[INET6_ADDRSTRLEN + 1];
	struct in6_addr a;
	const char *pct = memchr(s, '%', n);
	size_t alen = pct ? (size_t)(pct - s) : n;

	if (alen >= sizeof(tmp) || (pct && pct + 1 == s + n))
		return 0;
	for (const char *z = pct ? pct + 1 : s + n; z < s + n; z++)
		if (!hostname_char(*z))
			return 0;
	memcpy(tmp, s, alen);
	tmp[alen] = '\0';
	return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* A character of a message about a bad name: never the raw byte, which
 * could be a terminal escape or a line break forging a log line. */
static const char *hostname_char_desc(char c, char *out, size_t outlen)
{
	unsigned char u = (unsigned char)c;

	if (c == ' ')
		return "space";
	if (c == '\t')
		return "tab";
	if (u < 0x20 || u == 0x7f)
		snprintf(out, outlen, "control character 0x%02X", u);
	else if (u >= 0x80)
		snprintf(out, outlen, "non-ASCII byte 0x%02X", u);
	else
		snprintf(out, outlen, "'%c'", c);
	return out;
}

/* User text quoted in a message: bounded, control and non-ASCII bytes as
 * '?', for the same reason. */
const char *hostname_quote(const char *s, char *out, size_t outlen)
{
	size_t n = 0, max = outlen > 4 ? outlen - 4 : 0;

	for (; *s && n < max; s++) {
		unsigned char u = (unsigned char)*s;
		out[n++] = u < 0x20 || u >= 0x7f ? '?' : *s;
	}
	if (*s && outlen > 4) {
		memcpy(out + n, "...", 3);
		n += 3;
	}
	if (outlen)
		out[n] = '\0';
	return out;
}

/* A message about a line or a YAML node may quote any of its text (a
 * group name, a key): control bytes become '?' there too. */
void hostname_scrub(char *msg)
{
	for (; *msg; msg++)
		if ((unsigned char)*msg < 0x20 || *msg == 0x7f)
			*msg = '?';
}

int hostname_check(const char *s, size_t n, unsigned flags, size_t *col, struct err *why)
{
	char d[48];

	if (n == 0) {
		*col = 0;
		err_set(why, "empty host name");
		return -1;
	}
	if (memchr(s, ':', n) &&
	    (hostname_is_ipv6(s, n) || (n > 2 && s[0] == '[' && s[n - 1] == ']' && hostname_is_ipv6(s + 1, n - 2))))
		return 0;
	/* A name is an argument to commands (ping, ssh, nslookup, ...): one
	 * starting with '-' would be read as an option. */
	if (s[0] == '-') {
		*col = 0;
		err_set(why, "host name starting with '-' (expected a letter or a digit first)");
		return -1;
	}
	/* '.' and '..' would be directories where a name becomes a path
	 * (--outdir), and no DNS name starts with a dot. */
	if (s[0] == '.') {
		*col = 0;
		err_set(why, "host name starting with '.' (expected a letter or a digit first)");
		return -1;
	}
	for (size_t i = 0; i < n; i++) {
		if ((s[i] == '[' || s[i] == ']') && (flags & HOSTNAME_RANGES)) {
			/* Range syntax: the range parser checks what is inside,
			 * and that the brackets balance. */
			const char *close = s[i] == '[' ? memchr(s + i, ']', n - i) : s + i;
			if (!close)
				break;
			i = (size_t)(close - s);
			continue;
		}
		if (!hostname_char(s[i])) {
			*col = i;
			err_set(why, "unexpected %s in host name (expected letters, digits, '.', '-', '_'%s or an "
				"IPv4/IPv6 address)", hostname_char_desc(s[i], d, sizeof(d)),
				(flags & HOSTNAME_RANGES) ? ", a range like [01-10]" : "");
			return -1;
		}
	}
	if (n > HOSTNAME_MAX_LEN) {
		*col = HOSTNAME_MAX_LEN;
		err_set(why, "host name longer than %d characters", HOSTNAME_MAX_LEN);
		return -1;
	}
	return 0;
}

