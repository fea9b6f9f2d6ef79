/*
 * saturate.h - counts that stop at their largest value instead of
 * wrapping: UINT64_MAX in memory, 2^53 - 1 for what documents carry.
 *
 * A wrapped count would turn the largest number of errors into the
 * smallest; a saturated one is still the largest. Nothing real reaches
 * 2^64, but a hostile batch can say it did.
 */
#ifndef CANARY_PROTO_SATURATE_H
#define CANARY_PROTO_SATURATE_H

#include <stdint.h>

static inline uint64_t canary__sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* A count as documents carry it: 2^53 - 1 at most (a JSON number is a
 * double; CANARY__JSON_MAX_INT), so that what is summed is also what a
 * stats document or the judge reads back, exactly, and never less. */
#define CANARY__MAX_COUNT 9007199254740991ull

static inline uint64_t canary__sat_count(uint64_t a, uint64_t b)
{
	uint64_t sum = canary__sat_add(a, b);

	return sum > CANARY__MAX_COUNT ? CANARY__MAX_COUNT : sum;
}

#endif
