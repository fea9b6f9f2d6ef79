/*
 * utf8.c - strict UTF-8 validation (RFC 3629, table 3-7 of Unicode).
 */
#include "utf8.h"

/* Length of the sequence a lead byte starts, and the range its second byte
 * must fall in (the first continuation byte is where overlongs, surrogates
 * and values above U+10FFFF show). 0 = not a lead byte. */
static size_t sequence(unsigned char b, unsigned char *lo, unsigned char *hi)
{
	*lo = 0x80;
	*hi = 0xBF;
	if (b >= 0xC2 && b <= 0xDF)
		return 2;
	if (b >= 0xE0 && b <= 0xEF) {
		if (b == 0xE0)
			*lo = 0xA0;
		else if (b == 0xED)
			*hi = 0x9F;
		return 3;
	}
	if (b >= 0xF0 && b <= 0xF4) {
		if (b == 0xF0)
			*lo = 0x90;
		else if (b == 0xF4)
			*hi = 0x8F;
		return 4;
	}
	return 0;
}

bool canary__utf8_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;

	if (!s)
		return len == 0;
	while (i < len) {
		unsigned char lo, hi;
		size_t n, k;

		if (p[i] < 0x80) {
			if (p[i] == 0)
				return false;
			i++;
			continue;
		}
		n = sequence(p[i], &lo, &hi);
		if (n == 0 || len - i < n)
			return false;
		if (p[i + 1] < lo || p[i + 1] > hi)
			return false;
		for (k = 2; k < n; k++)
			if (p[i + k] < 0x80 || p[i + k] > 0xBF)
				return false;
		i += n;
	}
	return true;
}
