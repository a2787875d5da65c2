/* utf8: the one UTF-8 decoder (Unicode's table 3-7: no overlongs, no
 * surrogates, nothing past U+10FFFF). By hand, not mbrtowc: the C
 * library's answer depends on the locale, and the supervisor runs in "C",
 * where every byte past ASCII is "invalid". Records (which bytes go out
 * as base64), the summary and terminal text all ask it. */
#ifndef FLEETRUN_UTF8_H
#define FLEETRUN_UTF8_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One character at p (n > 0 bytes there): its length and code point, or
 * 0 when p does not start a valid, shortest-form sequence. */
size_t utf8_decode(const unsigned char *p, size_t n, uint32_t *cp);

/* True when p[0..n) is well-formed UTF-8. */
bool utf8_valid(const unsigned char *p, size_t n);

#endif
