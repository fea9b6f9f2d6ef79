/*
 * random.h - xorshift64* (Vigna, "An experimental exploration of
 * Marsaglia's xorshift generators, scrambled", 2016): a fast generator for
 * backoff jitter, fallback batch ids and Unleash's random stickiness.
 * Never for secrets.
 */
#ifndef CANARY_PROTO_RANDOM_H
#define CANARY_PROTO_RANDOM_H

#include <stdint.h>

/* Advance *state and return the next 64 random bits. A zero state (which
 * xorshift never leaves) is replaced by a fixed non-zero one. */
static inline uint64_t canary__random_next(uint64_t *state)
{
	uint64_t x = *state ? *state : 0x9E3779B97F4A7C15ull;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

#endif
