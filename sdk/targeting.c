/*
 * targeting.c - evaluating flags with rules, a stickiness attribute, or
 * from an Unleash server (see targeting.h).
 *
 * Order for a flag of our own config (docs/targeting.md): unit present,
 * deny list, allow list, the rules (failing one: stable, INELIGIBLE), the
 * stickiness value present (absent: stable, NO_UNIT, also ineligible: it
 * can never reach the canary), then the split over the stickiness value.
 */
#include "targeting.h"

#include <string.h>

#include "bucket.h"
#include "rules.h"
#include "unleash.h"
#include "unleash_model.h"

/* The engine's view of the caller's context: the same pointers. A
 * context of version 0 (zeroed) is read as version 1. */
static void context_of(canary_context *in, const char *unit,
	canary__context *out)
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

static void verdict(canary__verdict *v, canary_arm arm, canary_reason reason,
	canary_eval_error error, bool ineligible)
{
	v->arm = arm;
	v->reason = reason;
	v->error = error;
	v->ineligible = ineligible;
}

static void decide_rules(const canary__snapshot *snap,
	const canary__snap_entry *e, canary__context *ctx, canary__verdict *v)
{
	const canary__flag *f = e->flag;
	const canary__target_rules *t = f->target.compiled;
	const char *stick = ctx->user_id;
	int lists;

	if (!stick || !*stick) {
		verdict(v, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT, false);
		return;
	}
	if (e->has & CANARY__HAS_LISTS &&
	    (lists = canary__snap_lists(f, stick)) >= 0) {
		verdict(v, lists ? CANARY_ARM_CANARY : CANARY_ARM_STABLE,
			CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK, false);
		return;
	}
	canary__context_bind_to(ctx, snap->config->slots_id);
	/* The rules before the bucket: hashing the bucket first overlaps its
	 * chain of multiplications with the rules (about 1 ns less for an
	 * eligible unit) but costs an excluded unit a hash it does not use
	 * (about 7 ns more): measured, not done (docs/benchmarks.md). */
	if (t->has_rules &&
	    (v->rule = canary__rules_first_miss(&t->rules, ctx)) >= 0) {
		verdict(v, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE,
			CANARY_EVAL_OK, true);
		return;
	}
	if (t->stickiness.len)
		stick = canary__context_get(ctx, &t->stickiness);
	if (!stick) {
		verdict(v, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT, true);
		return;
	}
	v->bucket = canary__bucket_unit(&e->prefix, stick, strlen(stick));
	verdict(v, v->bucket < e->rollout_bp ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE, CANARY_REASON_SPLIT, CANARY_EVAL_OK, false);
}

/* Unleash's answer in our terms: on is the canary; a context outside
 * every strategy's constraints is ineligible; a percentage that left the
 * unit out is the split's stable. */
static void unleash_verdict(const canary__unleash_feature *f,
	const canary__unleash_result *r, canary__verdict *v)
{
	uint8_t kind;

	v->rule = r->strategy;
	switch (r->why) {
	case CANARY__UNLEASH_DISABLED:
		verdict(v, CANARY_ARM_STABLE, CANARY_REASON_DISABLED,
			CANARY_EVAL_OK, false);
		return;
	case CANARY__UNLEASH_DEPENDENCY:
		verdict(v, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE,
			CANARY_EVAL_OK, true);
		return;
	case CANARY__UNLEASH_NO_STRATEGY:
		verdict(v, CANARY_ARM_CANARY, CANARY_REASON_TARGETING_MATCH,
			CANARY_EVAL_OK, false);
		return;
	case CANARY__UNLEASH_STRATEGY:
		kind = f->strategies[r->strategy].kind;
		verdict(v, CANARY_ARM_CANARY, kind >= CANARY__UL_GRADUAL_USER_ID &&
			kind <= CANARY__UL_FLEXIBLE ? CANARY_REASON_SPLIT :
			CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK, false);
		return;
	default:
		verdict(v, CANARY_ARM_STABLE, r->targeted ? CANARY_REASON_SPLIT :
			CANARY_REASON_INELIGIBLE, CANARY_EVAL_OK, !r->targeted);
		return;
	}
}

void canary__target_decide(const canary__snapshot *snap,
	const canary__snap_entry *e, const char *unit, canary_context *ctx,
	canary__verdict *v)
{
	const canary__unleash_model *m = snap->config->engine;
	canary__unleash_result r;
	canary__context cx;

	v->bucket = 0;
	v->rule = -1;
	context_of(ctx, unit, &cx);
	if (!(e->has & CANARY__HAS_UNLEASH)) {
		decide_rules(snap, e, &cx, v);
		return;
	}
	canary__context_bind_to(&cx, snap->config->slots_id);
	canary__unleash_feature_enabled(m, e->flag->unleash, &cx, &r);
	unleash_verdict(e->flag->unleash, &r, v);
}

void canary__target_variant(const canary__snapshot *snap,
	const canary__snap_entry *e, canary_context *ctx,
	canary__unleash_variant *uv, canary__verdict *v)
{
	canary__unleash_result r;
	canary__context cx;

	v->bucket = 0;
	context_of(ctx, NULL, &cx);
	canary__context_bind_to(&cx, snap->config->slots_id);
	canary__unleash_feature_variant(snap->config->engine, e->flag->unleash,
		&cx, uv, &r);
	unleash_verdict(e->flag->unleash, &r, v);
}
