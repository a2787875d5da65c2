/* base64: see base64.h. */
#include "base64.h"

#include <stdint.h>

void base64_append(struct buf *out, const void *data, size_t n)
{
	static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = data;
	char q[4];

	buf_reserve(out, (n + 2) / 3 * 4);
	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) | (i + 2 < n ? p[i + 2] : 0);
		q[0] = tbl[v >> 18 & 63];
		q[1] = tbl[v >> 12 & 63];
		q[2] = i + 1 < n ? tbl[v >> 6 & 63] : '=';
		q[3] = i + 2 < n ? tbl[v & 63] : '=';
		buf_append(out, q, 4);
	}
}
