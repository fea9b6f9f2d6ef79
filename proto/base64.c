/*
 * base64.c - RFC 4648 base64, strict (see base64.h).
 */
#include "base64.h"

static const char alphabet[] =
	"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

void canary__base64_put(canary__buf *out, const uint8_t *in, size_t len)
{
	char quad[4];
	size_t i;

	for (i = 0; i < len; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;

		if (i + 1 < len)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		quad[0] = alphabet[v >> 18 & 63];
		quad[1] = alphabet[v >> 12 & 63];
		quad[2] = i + 1 < len ? alphabet[v >> 6 & 63] : '=';
		quad[3] = i + 2 < len ? alphabet[v & 63] : '=';
		canary__buf_put(out, quad, 4);
	}
}

/* The value of one character; -1 for anything outside the alphabet. */
static int value(char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

int canary__base64_decode(const char *text, size_t len, uint8_t *out,
	size_t *outlen)
{
	size_t i, n = 0;

	*outlen = 0;
	if (len % 4 != 0)
		return -1;
	for (i = 0; i < len; i += 4) {
		int v[4], k, pad = 0;
		uint32_t q = 0;

		for (k = 0; k < 4; k++) {
			v[k] = value(text[i + k]);
			/* '=' only at the end of the last quad, at most two */
			if (v[k] < 0 && !(text[i + k] == '=' && k >= 2 &&
			    i + 4 == len))
				return -1;
			if (v[k] < 0)
				pad++;
			else if (pad)
				return -1; /* a character after '=' */
			q = q << 6 | (uint32_t)(v[k] < 0 ? 0 : v[k]);
		}
		/* The bits the padding leaves unused must be 0. */
		if ((pad == 1 && (q & 0xff)) || (pad == 2 && (q & 0xffff)))
			return -1;
		out[n++] = (uint8_t)(q >> 16);
		if (pad < 2)
			out[n++] = (uint8_t)(q >> 8);
		if (pad < 1)
			out[n++] = (uint8_t)q;
	}
	*outlen = n;
	return 0;
}
