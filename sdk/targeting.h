/*
 * targeting.h - evaluating a flag that needs more than the unit: rules
 * that decide who is eligible for the canary, a stickiness attribute
 * (docs/targeting.md), or an Unleash feature (a config from the Unleash
 * config source, whose flags carry a compiled feature, config.h
 * `unleash`; docs/unleash.md). The plain
 * path (kill switch, lists, split) is evaluate.c's; it calls here for an
 * entry with CANARY__HAS_TARGET or CANARY__HAS_UNLEASH (snapshot.h).
 *
 * No lock, no I/O, no allocation: the caller holds the snapshot.
 */
#ifndef CANARY_SDK_TARGETING_H
#define CANARY_SDK_TARGETING_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "bucket.h"
#include "canary/canary.h"
#include "config.h"
#include "config_target.h"
#include "rules.h"
#include "snapshot.h"

struct canary__unleash_variant; /* unleash.h */

/* What an evaluation decided. `ineligible`: the unit is outside the
 * flag's targeting, so it is counted apart from the stable arm. */
typedef struct canary__verdict {
	canary_arm arm;
	canary_reason reason;
	canary_eval_error error;
	bool ineligible;
	uint32_t bucket;           /* when the split decided */
	int32_t rule;              /* which rule decided (canary_details.rule) */
} canary__verdict;

static inline void canary__verdict_set(canary__verdict *v,
	canary_arm arm, canary_reason reason, canary_eval_error error,
	bool ineligible)
{
	v->arm = arm;
	v->reason = reason;
	v->error = error;
	v->ineligible = ineligible;
}

/* The engine's view of the caller's context: the same pointers. A
 * context of version 0 (zeroed) is read as version 1. */
static inline void canary__target_context(canary_context *in,
	const char *unit, canary__context *out)
{
	if (!in) {
		memset(out, 0, sizeof(*out));
		out->user_id = unit;
		return;
	}
	/* Every field, without clearing first: this runs on every call. */
	out->user_id = in->unit;
	out->session_id = in->session_id;
	out->remote_address = in->remote_address;
	out->environment = in->environment;
	out->app_name = in->app_name;
	out->current_time = in->current_time;
	out->attrs = in->attrs;
	out->attr_count = in->attrs ? in->attr_count : 0;
	out->bind = &in->cache;
}

/*
 * A flag of our own config with targeting (CANARY__HAS_TARGET, not
 * CANARY__HAS_UNLEASH), as canary__target_decide() below. Inline, so
 * that canary_enabled_ctx() makes no call into targeting.c (the
 * constraint loop is still one call) and stores no verdict it does not
 * read (measured: docs/benchmarks.md).
 *
 * Order (docs/targeting.md): unit present, deny list, allow list, the
 * rules (failing one: stable, INELIGIBLE), the stickiness value present
 * (absent: stable, NO_UNIT, also ineligible: it can never reach the
 * canary), then the split over the stickiness value.
 */
static inline void canary__target_decide_rules(const canary__snapshot *snap,
	const canary__snap_entry *e, const char *unit, canary_context *ctx,
	canary__verdict *v)
{
	const canary__flag *f = e->flag;
	const canary__target_rules *t = f->target.compiled;
	canary__context cx;
	const char *stick;
	int lists;

	v->bucket = 0;
	v->rule = -1;
	canary__target_context(ctx, unit, &cx);
	stick = cx.user_id;
	if (!stick || !*stick) {
		canary__verdict_set(v, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT, false);
		return;
	}
	if (e->has & CANARY__HAS_LISTS &&
	    (lists = canary__snap_lists(f, stick)) >= 0) {
		canary__verdict_set(v, lists ? CANARY_ARM_CANARY :
			CANARY_ARM_STABLE, CANARY_REASON_TARGETING_MATCH,
			CANARY_EVAL_OK, false);
		return;
	}
	canary__context_bind_to(&cx, snap->config->slots_id);
	/* The rules before the bucket: hashing the bucket first overlaps it
	 * with the rules (about 2 ns less for an eligible unit) but costs an
	 * excluded unit a hash it does not use (about 10 ns more): measured,
	 * not done (docs/benchmarks.md). */
	if (t->has_rules &&
	    (v->rule = canary__rules_first_miss(&t->rules, &cx)) >= 0) {
		canary__verdict_set(v, CANARY_ARM_STABLE,
			CANARY_REASON_INELIGIBLE, CANARY_EVAL_OK, true);
		return;
	}
	if (t->stickiness.len)
		stick = canary__context_get(&cx, &t->stickiness);
	if (!stick) {
		canary__verdict_set(v, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT, true);
		return;
	}
	v->bucket = canary__bucket_unit(&e->prefix, stick, strlen(stick));
	canary__verdict_set(v, v->bucket < e->rollout_bp ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE, CANARY_REASON_SPLIT, CANARY_EVAL_OK, false);
}

/*
 * Decide for entry `e` of `snap` with `ctx` (NULL: `unit` alone, as
 * canary_enabled() asks). The flag is enabled and the stale policy does
 * not apply (the caller checked both). `ctx`'s cache may be written.
 */
void canary__target_decide(const canary__snapshot *snap,
	const canary__snap_entry *e, const char *unit, canary_context *ctx,
	canary__verdict *v);

/*
 * Unleash's getVariant for entry `e` (an Unleash feature, CANARY__HAS_UNLEASH)
 * with `ctx`, and in `v` what canary__target_decide() would have decided:
 * both from one evaluation, so a random rollout cannot make them differ.
 * The strings of `uv` are the snapshot's: copy them before leaving it.
 */
void canary__target_variant(const canary__snapshot *snap,
	const canary__snap_entry *e, canary_context *ctx,
	struct canary__unleash_variant *uv, canary__verdict *v);

#endif
