/*
 * bucket.h - the bucketing contract (docs/protocol.md, "Bucketing").
 */
#ifndef CANARY_PROTO_BUCKET_H
#define CANARY_PROTO_BUCKET_H

#include <stdint.h>
#include <string.h>

#include "murmur3.h"

#define CANARY__BUCKETS 10000u

/* Map a 32-bit hash to [0, 10000) so that the first two decimal digits of
 * the bucket are h % 100: at whole percents the canary set is exactly
 * Unleash's flexibleRollout set (h % 100 + 1 <= percent). */
static inline uint32_t canary__bucket_of_hash(uint32_t h)
{
	return (h % 100u) * 100u + (h / 100u) % 100u;
}

/* The midstate after hashing "<salt>:"; each unit continues from it. */
static inline void canary__bucket_prefix(canary__murmur3 *s, const char *salt,
	size_t salt_len)
{
	canary__mm3_init(s, 0);
	canary__mm3_update(s, salt, salt_len);
	canary__mm3_update(s, ":", 1);
}

static inline uint32_t canary__bucket_unit(const canary__murmur3 *prefix,
	const char *unit, size_t unit_len)
{
	canary__murmur3 s = *prefix;

	canary__mm3_update(&s, unit, unit_len);
	return canary__bucket_of_hash(canary__mm3_final(&s));
}

#endif
