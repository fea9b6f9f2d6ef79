/*
 * murmur3.h - MurmurHash3 x86_32 over data fed in pieces.
 *
 * Bit-exact with libmurmurhash's lmmh_x86_32 (tests/unit/test_bucket.c
 * checks it on random inputs). We hash in pieces so that the bucketing key
 * "<salt>:<unit>" is never copied: the "<salt>:" prefix is hashed once per
 * config into a midstate, and each evaluation only feeds the unit. Inline
 * because it is the whole cost of canary_enabled().
 */
#ifndef CANARY_PROTO_MURMUR3_H
#define CANARY_PROTO_MURMUR3_H

#include <stddef.h>
#include <stdint.h>

#include "le_codec.h"

typedef struct canary__murmur3 {
	uint32_t h;        /* running hash over the full 4-byte blocks */
	uint32_t tail;     /* up to 3 pending bytes, little-endian */
	uint32_t tail_len; /* how many bytes are pending (0..3) */
	uint32_t total;    /* bytes fed so far (mod 2^32, as the reference) */
} canary__murmur3;

#define CANARY__MM3_C1 0xcc9e2d51u
#define CANARY__MM3_C2 0x1b873593u

static inline uint32_t canary__rotl32(uint32_t x, int r)
{
	return (x << r) | (x >> (32 - r));
}

static inline uint32_t canary__mm3_scramble(uint32_t k)
{
	k *= CANARY__MM3_C1;
	k = canary__rotl32(k, 15);
	return k * CANARY__MM3_C2;
}

static inline uint32_t canary__mm3_mix(uint32_t h, uint32_t k)
{
	h ^= canary__mm3_scramble(k);
	h = canary__rotl32(h, 13);
	return h * 5u + 0xe6546b64u;
}

static inline void canary__mm3_init(canary__murmur3 *s, uint32_t seed)
{
	s->h = seed;
	s->tail = 0;
	s->tail_len = 0;
	s->total = 0;
}

static inline void canary__mm3_update(canary__murmur3 *s, const void *data,
	size_t len)
{
	const unsigned char *p = (const unsigned char *)data;
	uint32_t h = s->h;

	s->total += (uint32_t)len;
	/* Complete a block left pending by the previous piece. */
	while (s->tail_len && len) {
		s->tail |= (uint32_t)*p++ << (8 * s->tail_len);
		len--;
		if (++s->tail_len == 4) {
			h = canary__mm3_mix(h, s->tail);
			s->tail = 0;
			s->tail_len = 0;
		}
	}
	for (; len >= 4; p += 4, len -= 4)
		h = canary__mm3_mix(h, canary__le32(p));
	for (; len; len--)
		s->tail |= (uint32_t)*p++ << (8 * s->tail_len++);
	s->h = h;
}

static inline uint32_t canary__mm3_final(const canary__murmur3 *s)
{
	uint32_t h = s->h;

	if (s->tail_len)
		h ^= canary__mm3_scramble(s->tail);
	h ^= s->total;
	h ^= h >> 16;
	h *= 0x85ebca6bu;
	h ^= h >> 13;
	h *= 0xc2b2ae35u;
	h ^= h >> 16;
	return h;
}

/* One-shot convenience. */
static inline uint32_t canary__murmur3_32(const void *data, size_t len,
	uint32_t seed)
{
	canary__murmur3 s;

	canary__mm3_init(&s, seed);
	canary__mm3_update(&s, data, len);
	return canary__mm3_final(&s);
}

#endif
