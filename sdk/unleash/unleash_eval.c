/*
 * unleash_eval.c - isEnabled and getVariant over a compiled model.
 *
 * Order, as in Unleash: the feature's switch, then its dependencies (each
 * parent evaluated with the same context, one level only: a parent that
 * has dependencies of its own fails the child, which also breaks cycles),
 * then the strategies in order, the first that matches wins (none at all:
 * on for everyone). A strategy matches when its constraints and segments
 * do and then its own rule does.
 */
#include <string.h>

#include "unleash_model.h"

static const canary__field session_field = {
	"sessionId", 9, CANARY__FIELD_SESSION_ID, 0
};
static const canary__field user_field = { "userId", 6, CANARY__FIELD_USER_ID, 0 };
static const canary__field address_field = {
	"remoteAddress", 13, CANARY__FIELD_REMOTE_ADDRESS, 0
};

/* A hash bucket 1..100 of `id` (NULL: not enabled) within the percent. */
static bool in_rollout(const canary__unleash_strategy *s, const char *id)
{
	return id && s->percent > 0 &&
	       canary__unleash_normalized(&s->prefix, id, 100) <= s->percent;
}

static bool flexible(const canary__unleash_model *m,
	const canary__unleash_strategy *s, const canary__context *ctx)
{
	const char *id;

	if (s->percent == 0)
		return false;
	if (s->stickiness.mode == CANARY__UL_STICK_RANDOM)
		return canary__unleash_random(m, 100) <= s->percent;
	id = canary__unleash_stick_value(&s->stickiness, ctx, false);
	if (!id && s->stickiness.mode == CANARY__UL_STICK_DEFAULT)
		return canary__unleash_random(m, 100) <= s->percent;
	return in_rollout(s, id);
}

static bool address_listed(const canary__unleash_strategy *s,
	const canary__context *ctx)
{
	const char *v = canary__context_value(ctx, &address_field);
	canary__ipaddr ip;
	uint32_t i;

	if (!v || !canary__ipaddr_parse(v, strlen(v), &ip))
		return false;
	for (i = 0; i < s->address_count; i++)
		if (canary__cidr_contains(&s->addresses[i], &ip))
			return true;
	return false;
}

/* `*targeted`: the strategy's constraints and segments matched, whatever
 * its own rule then says. */
static bool strategy_matches(const canary__unleash_model *m,
	const canary__unleash_strategy *s, const canary__context *ctx,
	bool *targeted)
{
	const char *v;

	if (s->kind == CANARY__UL_UNKNOWN || !canary__rules_match(&s->rules, ctx))
		return false;
	*targeted = true;
	switch (s->kind) {
	case CANARY__UL_DEFAULT:
		return true;
	case CANARY__UL_USER_WITH_ID:
		v = canary__context_value(ctx, &user_field);
		return v && canary__str_sorted_contains(s->user_ids,
			s->user_id_count, v, strlen(v), false);
	case CANARY__UL_GRADUAL_USER_ID:
		return in_rollout(s, canary__context_value(ctx, &user_field));
	case CANARY__UL_GRADUAL_SESSION_ID:
		return in_rollout(s, canary__context_value(ctx, &session_field));
	case CANARY__UL_GRADUAL_RANDOM:
		return s->percent > 0 && canary__unleash_random(m, 100) <= s->percent;
	case CANARY__UL_FLEXIBLE:
		return flexible(m, s, ctx);
	case CANARY__UL_REMOTE_ADDRESS:
		return address_listed(s, ctx);
	case CANARY__UL_HOSTNAME:
		return s->host_match;
	default:
		return false;
	}
}

/* The feature's own rules, dependencies aside. */
static bool own_rules(const canary__unleash_model *m,
	const canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_result *r)
{
	uint32_t i;

	r->strategy = -1;
	r->targeted = true;
	if (f->strategy_count == 0) {
		r->why = CANARY__UNLEASH_NO_STRATEGY;
		return r->enabled = true;
	}
	r->targeted = false;
	for (i = 0; i < f->strategy_count; i++) {
		if (strategy_matches(m, &f->strategies[i], ctx, &r->targeted)) {
			r->why = CANARY__UNLEASH_STRATEGY;
			r->strategy = (int32_t)i;
			return r->enabled = true;
		}
	}
	r->why = CANARY__UNLEASH_NO_MATCH;
	return r->enabled = false;
}

static const canary__unleash_vdef *variant_of(const canary__unleash_model *m,
	const canary__unleash_feature *f, const canary__unleash_result *r,
	const canary__context *ctx)
{
	const canary__unleash_vdef *v = NULL;

	if (r->strategy >= 0)
		v = canary__unleash_choose(m, &f->strategies[r->strategy].variants,
			ctx);
	return v ? v : canary__unleash_choose(m, &f->variants, ctx);
}

static bool dependency_holds(const canary__unleash_model *m,
	const canary__unleash_dependency *d, const canary__context *ctx)
{
	const canary__unleash_feature *p;
	const canary__unleash_vdef *v;
	canary__unleash_result r;
	const char *name;

	if (d->feature < 0)
		return false;
	p = &m->features[d->feature];
	if (p->dep_count > 0)
		return false;
	if (!(p->enabled && own_rules(m, p, ctx, &r)))
		return !d->enabled;
	if (!d->enabled)
		return false;
	if (d->variant_count == 0)
		return true;
	v = variant_of(m, p, &r, ctx);
	name = v ? v->name : "disabled";
	return canary__str_sorted_contains(d->variants, d->variant_count, name,
		strlen(name), false);
}

static bool evaluate(const canary__unleash_model *m,
	const canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_result *r)
{
	uint32_t i;

	r->strategy = -1;
	r->enabled = false;
	r->targeted = false;
	if (!f) {
		r->why = CANARY__UNLEASH_NOT_FOUND;
		return false;
	}
	if (!f->enabled) {
		r->why = CANARY__UNLEASH_DISABLED;
		return false;
	}
	for (i = 0; i < f->dep_count; i++) {
		if (!dependency_holds(m, &f->deps[i], ctx)) {
			r->why = CANARY__UNLEASH_DEPENDENCY;
			return false;
		}
	}
	return own_rules(m, f, ctx, r);
}

bool canary__unleash_enabled(const canary__unleash_model *m,
	const char *name, size_t name_len, const canary__context *ctx,
	canary__unleash_result *out)
{
	canary__unleash_result r;

	evaluate(m, canary__unleash_find(m, name, name_len), ctx, &r);
	if (out)
		*out = r;
	return r.enabled;
}

bool canary__unleash_feature_enabled(const canary__unleash_model *m,
	const canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_result *out)
{
	return evaluate(m, f, ctx, out);
}

void canary__unleash_get_variant(const canary__unleash_model *m,
	const char *name, size_t name_len, const canary__context *ctx,
	canary__unleash_variant *out)
{
	canary__unleash_result r;

	canary__unleash_feature_variant(m, canary__unleash_find(m, name,
		name_len), ctx, out, &r);
}

void canary__unleash_feature_variant(const canary__unleash_model *m,
	const canary__unleash_feature *f, const canary__context *ctx,
	canary__unleash_variant *out, canary__unleash_result *r)
{
	const canary__unleash_vdef *v = NULL;

	out->feature_enabled = evaluate(m, f, ctx, r);
	if (out->feature_enabled)
		v = variant_of(m, f, r, ctx);
	out->enabled = v != NULL;
	out->name = v ? v->name : "disabled";
	out->payload_type = v ? v->payload_type : NULL;
	out->payload_value = v ? v->payload_value : NULL;
}
