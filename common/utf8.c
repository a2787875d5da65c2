/* utf8: see utf8.h. */
#include "utf8.h"

size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp)
{
	unsigned char c = p[0], lo = 0x80, hi = 0xBF;
	size_t need;
	uint32_t v;

	if (c < 0x80) {
		*cp = c;
		return 1;
	}
	if (c >= 0xC2 && c <= 0xDF) {
		need = 1;
		v = c & 0x1F;
	} else if (c >= 0xE0 && c <= 0xEF) {
		need = 2;
		v = c & 0x0F;
		lo = c == 0xE0 ? 0xA0 : 0x80; /* overlong */
		hi = c == 0xED ? 0x9F : 0xBF; /* surrogates */
	} else if (c >= 0xF0 && c <= 0xF4) {
		need = 3;
		v = c & 0x07;
		lo = c == 0xF0 ? 0x90 : 0x80; /* overlong */
		hi = c == 0xF4 ? 0x8F : 0xBF; /* past U+10FFFF */
	} else {
		return 0;
	}
	if (need >= n || p[1] < lo || p[1] > hi)
		return 0;
	for (size_t k = 1; k <= need; k++) {
		if (p[k] < 0x80 || p[k] > 0xBF)
			return 0;
		v = v << 6 | (p[k] & 0x3F);
	}
	*cp = v;
	return need + 1;
}

bool utf8_valid(const unsigned char *p, size_t n)
{
	uint32_t cp;

	for (size_t i = 0, len; i < n; i += len) {
		/* ASCII runs are most of any output: skip the call */
		if (p[i] < 0x80) {
			len = 1;
			continue;
		}
		if ((len = utf8_decode(p + i, n - i, &cp)) == 0)
			return false;
	}
	return true;
}
