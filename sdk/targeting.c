/*
 * targeting.c - evaluating flags with rules, a stickiness attribute, or
 * from an Unleash server (see targeting.h).
 *
 * A flag of our own config is decided by canary__target_decide_rules()
 * (targeting.h, inline for evaluate.c); an Unleash feature here.
 */
#include "targeting.h"

#include <string.h>

#include "unleash.h"
#include "unleash_model.h"

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
		canary__verdict_set(v, CANARY_ARM_STABLE,
			CANARY_REASON_DISABLED, CANARY_EVAL_OK, false);
		return;
	case CANARY__UNLEASH_DEPENDENCY:
		canary__verdict_set(v, CANARY_ARM_STABLE,
			CANARY_REASON_INELIGIBLE, CANARY_EVAL_OK, true);
		return;
	case CANARY__UNLEASH_NO_STRATEGY:
		canary__verdict_set(v, CANARY_ARM_CANARY,
			CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK, false);
		return;
	case CANARY__UNLEASH_STRATEGY:
		kind = f->strategies[r->strategy].kind;
		canary__verdict_set(v, CANARY_ARM_CANARY,
			kind >= CANARY__UL_GRADUAL_USER_ID &&
			kind <= CANARY__UL_FLEXIBLE ? CANARY_REASON_SPLIT :
			CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK, false);
		return;
	default:
		canary__verdict_set(v, CANARY_ARM_STABLE,
			r->targeted ? CANARY_REASON_SPLIT : CANARY_REASON_INELIGIBLE,
			CANARY_EVAL_OK, !r->targeted);
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

	if (!(e->has & CANARY__HAS_UNLEASH)) {
		canary__target_decide_rules(snap, e, unit, ctx, v);
		return;
	}
	v->bucket = 0;
	v->rule = -1;
	canary__target_context(ctx, unit, &cx);
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
	canary__target_context(ctx, NULL, &cx);
	canary__context_bind_to(&cx, snap->config->slots_id);
	canary__unleash_feature_variant(snap->config->engine, e->flag->unleash,
		&cx, uv, &r);
	unleash_verdict(e->flag->unleash, &r, v);
}
