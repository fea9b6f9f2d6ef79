/*
 * backoff.h - when to try the flag service again after a failure.
 *
 * Exponential backoff with "full jitter": the n-th consecutive failure
 * waits a uniformly random time in [floor, min(cap, base * 2^n)], so many
 * clients that failed together do not come back together. A server's
 * Retry-After (parsed in transfer.c) is a lower bound on the wait. Pure:
 * the random generator is seeded by the caller, there is no clock.
 */
#ifndef CANARY_SDK_BACKOFF_H
#define CANARY_SDK_BACKOFF_H

#include <stdbool.h>
#include <stdint.h>

#define CANARY__BACKOFF_FLOOR_MS 50u        /* never retry sooner: no spin */
#define CANARY__RETRY_AFTER_MAX_MS 3600000u /* a Retry-After is capped at 1 h */

typedef struct canary__backoff {
	uint32_t base_ms;
	uint32_t cap_ms;
	unsigned attempt;  /* consecutive failures so far */
	uint64_t rng;      /* xorshift64* state, never 0 */
} canary__backoff;

/* `seed` 0 is allowed (a fixed non-zero state is used instead). */
void canary__backoff_init(canary__backoff *b, uint32_t base_ms,
	uint32_t cap_ms, uint64_t seed);

/* One more failure: how long to wait, in ms. `retry_after_ms` (0 = none)
 * is the server's request, honoured up to CANARY__RETRY_AFTER_MAX_MS. */
uint32_t canary__backoff_next(canary__backoff *b, uint32_t retry_after_ms);

/* A success: the next failure starts from the base again. */
void canary__backoff_reset(canary__backoff *b);

/* 401 and 403 mean the SDK key is wrong: retrying cannot help. */
static inline bool canary__http_status_is_fatal(long status)
{
	return status == 401 || status == 403;
}

#endif
