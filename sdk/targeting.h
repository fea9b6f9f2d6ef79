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

#include "canary/canary.h"
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
