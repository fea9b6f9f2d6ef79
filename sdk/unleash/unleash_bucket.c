/*
 * unleash_bucket.c - Unleash's normalised hashes, stickiness and the
 * random source, and variant selection by weight.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <string.h>
#include <time.h>

#include "random.h"
#include "unleash_model.h"

uint32_t canary__unleash_normalized(const canary__murmur3 *prefix,
	const char *id, uint32_t normalizer)
{
	canary__murmur3 s = *prefix;

	canary__mm3_update(&s, id, strlen(id));
	return canary__mm3_final(&s) % normalizer + 1;
}

/* xorshift64* per thread: no lock, no shared cache line written. Seeded
 * on first use from the clock and the thread's own address, so threads
 * and processes differ; not reproducible, not for security. */
static _Thread_local uint64_t rng_state;

static uint32_t thread_random(void *ctx)
{
	(void)ctx;
	if (rng_state == 0) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		rng_state = ((uint64_t)ts.tv_sec * 1000000000u +
			(uint64_t)ts.tv_nsec) ^
			((uint64_t)(uintptr_t)&rng_state * 0x9e3779b97f4a7c15u);
	}
	return (uint32_t)(canary__random_next(&rng_state) >> 32);
}

uint32_t canary__unleash_random(const canary__unleash_model *model,
	uint32_t n)
{
	uint32_t r = model->random_fn ? model->random_fn(model->random_ctx) :
		thread_random(NULL);

	return (uint32_t)(((uint64_t)r * n) >> 32) + 1;
}

static const canary__field default_order[] = {
	{ "userId", 6, CANARY__FIELD_USER_ID, 0 },
	{ "sessionId", 9, CANARY__FIELD_SESSION_ID, 0 },
	{ "remoteAddress", 13, CANARY__FIELD_REMOTE_ADDRESS, 0 }
};

const char *canary__unleash_stick_value(const canary__unleash_stickiness *s,
	const canary__context *ctx, bool variant_order)
{
	size_t i, n = variant_order ? 3 : 2;

	if (s->mode == CANARY__UL_STICK_FIELD)
		return canary__context_value(ctx, &s->field);
	if (s->mode == CANARY__UL_STICK_RANDOM)
		return NULL;
	for (i = 0; i < n; i++) {
		const char *v = canary__context_value(ctx, &default_order[i]);

		if (v)
			return v;
	}
	return NULL;
}

static bool overridden(const canary__unleash_vdef *v,
	const canary__context *ctx)
{
	uint32_t i;

	for (i = 0; i < v->override_count; i++) {
		const canary__unleash_override *o = &v->overrides[i];
		const char *value = canary__context_value(ctx, &o->field);

		if (value && canary__str_sorted_contains(o->values, o->count, value,
		    strlen(value), false))
			return true;
	}
	return false;
}

const canary__unleash_vdef *canary__unleash_choose(
	const canary__unleash_model *model, const canary__unleash_variants *vs,
	const canary__context *ctx)
{
	const char *seed;
	uint32_t target, counter = 0, i;

	if (vs->count == 0 || vs->total_weight == 0)
		return NULL;
	for (i = 0; i < vs->count; i++)
		if (overridden(&vs->items[i], ctx))
			return &vs->items[i];
	seed = canary__unleash_stick_value(&vs->stickiness, ctx, true);
	target = seed ? canary__unleash_normalized(&vs->prefix, seed,
		vs->total_weight) : canary__unleash_random(model, vs->total_weight);
	for (i = 0; i < vs->count; i++) {
		if (vs->items[i].weight == 0)
			continue;
		counter += vs->items[i].weight;
		if (counter >= target)
			return &vs->items[i];
	}
	return NULL;
}
