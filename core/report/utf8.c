/* UTF-8 for the report writers (HTML, JUnit XML, Prometheus labels). */
#include "originaudit/scan.h"

static int is_cont(unsigned char c)
{
	return (c & 0xc0) == 0x80;
}

size_t oa_utf8_len(const unsigned char *s, size_t n)
{
	unsigned char c;

	if (n == 0) {
		return 0;
	}
	c = s[0];
	if (c < 0x80) {
		return 1;
	}
	if (c >= 0xc2 && c <= 0xdf) {
		return n >= 2 && is_cont(s[1]) ? 2 : 0;
	}
	if (c >= 0xe0 && c <= 0xef) {
		unsigned char lo = c == 0xe0 ? 0xa0 : 0x80;
		/* 0xED A0-BF would encode a UTF-16 surrogate. */
		unsigned char hi = c == 0xed ? 0x9f : 0xbf;

		return n >= 3 && s[1] >= lo && s[1] <= hi && is_cont(s[2]) ? 3 : 0;
	}
	if (c >= 0xf0 && c <= 0xf4) {
		unsigned char lo = c == 0xf0 ? 0x90 : 0x80;
		unsigned char hi = c == 0xf4 ? 0x8f : 0xbf;

		return n >= 4 && s[1] >= lo && s[1] <= hi && is_cont(s[2]) && is_cont(s[3]) ? 4 : 0;
	}
	return 0;
}
