/*
 * backoff.c - exponential backoff with full jitter.
 */
#include "backoff.h"

#include "random.h"

void canary__backoff_init(canary__backoff *b, uint32_t base_ms,
	uint32_t cap_ms, uint64_t seed)
{
	b->cap_ms = cap_ms < CANARY__BACKOFF_FLOOR_MS ?
		CANARY__BACKOFF_FLOOR_MS : cap_ms;
	b->base_ms = base_ms < CANARY__BACKOFF_FLOOR_MS ?
		CANARY__BACKOFF_FLOOR_MS : base_ms;
	if (b->base_ms > b->cap_ms)
		b->base_ms = b->cap_ms;
	b->attempt = 0;
	b->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

void canary__backoff_reset(canary__backoff *b)
{
	b->attempt = 0;
}

uint32_t canary__backoff_next(canary__backoff *b, uint32_t retry_after_ms)
{
	uint64_t ceiling = b->base_ms;
	uint64_t span, wait;
	unsigned i;

	for (i = 0; i < b->attempt && ceiling < b->cap_ms; i++)
		ceiling *= 2;
	if (ceiling > b->cap_ms)
		ceiling = b->cap_ms;
	if (b->attempt < 64)
		b->attempt++;
	span = ceiling - CANARY__BACKOFF_FLOOR_MS + 1;
	wait = CANARY__BACKOFF_FLOOR_MS + (canary__random_next(&b->rng) >> 11) % span;
	if (retry_after_ms > CANARY__RETRY_AFTER_MAX_MS)
		retry_after_ms = CANARY__RETRY_AFTER_MAX_MS;
	if (wait < retry_after_ms)
		wait = retry_after_ms;
	return (uint32_t)wait;
}
