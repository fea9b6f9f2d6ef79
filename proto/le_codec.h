/*
 * le_codec.h - unsigned integers as little-endian bytes, whatever the
 * machine's byte order: the binary forms (the SDK's cached config, stored
 * histograms, sketches) and the bucketing hash's input blocks.
 */
#ifndef CANARY_PROTO_LE_CODEC_H
#define CANARY_PROTO_LE_CODEC_H

#include <stdint.h>

/* The low `n` bytes of `v` (n <= 8) at p; returns p + n. */
static inline unsigned char *canary__le_put(unsigned char *p, uint64_t v,
	unsigned n)
{
	unsigned i;

	for (i = 0; i < n; i++)
		p[i] = (unsigned char)(v >> (8 * i));
	return p + n;
}

/* The `n`-byte (n <= 8) integer at p. */
static inline uint64_t canary__le_get(const unsigned char *p, unsigned n)
{
	uint64_t v = 0;

	while (n--)
		v = v << 8 | p[n];
	return v;
}

/* The 4- and 8-byte integers at p, written out so that the compiler makes
 * each one load: the bucketing hash reads every unit through le32. */
static inline uint32_t canary__le32(const unsigned char *p)
{
	return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 |
	       (uint32_t)p[3] << 24;
}

static inline uint64_t canary__le64(const unsigned char *p)
{
	return canary__le32(p) | (uint64_t)canary__le32(p + 4) << 32;
}

#endif
