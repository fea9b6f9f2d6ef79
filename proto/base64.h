/*
 * base64.h - binary fields of the JSON wire formats (the event batch's
 * sketches of units) as RFC 4648 base64: the standard alphabet, padded
 * with '='. The decoder is strict: no whitespace, no missing or extra
 * padding, and the unused bits of the last character must be zero, so
 * every byte string has exactly one text and the text round-trips.
 */
#ifndef CANARY_PROTO_BASE64_H
#define CANARY_PROTO_BASE64_H

#include <stddef.h>
#include <stdint.h>

#include "buf.h"

/* Characters the text of `len` bytes takes (no NUL). */
static inline size_t canary__base64_len(size_t len)
{
	return (len + 2) / 3 * 4;
}

/* Append the text of in[0..len) to `out` (no quotes). */
void canary__base64_put(canary__buf *out, const uint8_t *in, size_t len);

/*
 * Decode text[0..len) into out (room for len / 4 * 3 bytes); *outlen gets
 * the bytes written.
 * @return 0, or -1 when the text is not canonical base64.
 */
int canary__base64_decode(const char *text, size_t len, uint8_t *out,
	size_t *outlen);

#endif
