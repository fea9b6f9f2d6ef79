/*
 * saturate.h - counts that stop at UINT64_MAX instead of wrapping.
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

#endif
