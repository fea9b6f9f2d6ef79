/*
 * user_evidence.h - what lets canary-server judge users rather than
 * requests (docs/analysis.md, "Errors: judged on users"), counted without
 * a lock for the flags under an active rollout: per flag and arm, a
 * HyperLogLog sketch of the units exposed (or with an error), one of the
 * units with an error, and a bounded map from erroring unit to its errors
 * (proto/hll.h, proto/unit_errors.h: the same registers, hash and figures,
 * here with atomic updates). No unit id is kept, only its 64-bit hash.
 *
 * For such a flag the map IS the error counter: a window's errors are the
 * errors its map took (mapped or not), so the errors, the units mapped,
 * the sum of squares and the largest count that leave in one window always
 * agree with each other (the server refuses a window where they do not).
 *
 * Recording: one relaxed load per register touched, and a compare-exchange
 * only when the register grows (a unit not seen in the window, or a rare
 * rank); an error probes the map (a handful of slots) and adds one to its
 * slot. Never allocates, never blocks.
 *
 * Taking (the harvest, under the counters' lock): each register, count and
 * slot is exchanged with 0, so what a window took is not taken again; what
 * lands during the take goes to the next window. A take merges into plain
 * sketches (register maximum) and adds to running figures, so one pending
 * window can gather several takes.
 *
 * Memory: CANARY__UE_ARM_BYTES per arm, twice per rolled-out flag, per
 * counter table (docs/events.md).
 */
#ifndef CANARY_SDK_USER_EVIDENCE_H
#define CANARY_SDK_USER_EVIDENCE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "hll.h"
#include "unit_errors.h"

#define CANARY__UE_REGS CANARY__HLL_REGS(CANARY__HLL_P)
/* The map never holds more units than this per window (3/4 of its slots,
 * as proto/unit_errors.h: probes stay short). */
#define CANARY__UE_MAP_MAX (CANARY__UERR_SLOTS / 4 * 3)

typedef struct canary__ue_slot {
	atomic_uint_least64_t unit;  /* hash; 0 = free (a hash of 0 is 1) */
	atomic_uint_least64_t count; /* errors this window */
} canary__ue_slot;

/* One arm of one flag. */
typedef struct canary__ue_arm {
	atomic_uchar units[CANARY__UE_REGS];
	atomic_uchar error_units[CANARY__UE_REGS];
	canary__ue_slot map[CANARY__UERR_SLOTS];
	atomic_uint claimed;             /* slots taken this window */
	atomic_uint_least64_t unmapped;  /* errors that found no slot */
} canary__ue_arm;

#define CANARY__UE_ARM_BYTES sizeof(canary__ue_arm)

/* What takes add up to, for one window: the wire's figures. */
typedef struct canary__ue_figures {
	uint64_t errors;      /* every error the map took, mapped or not */
	uint64_t used;        /* slots with errors (units mapped) */
	uint64_t sum_sq;      /* sum over them of count^2 */
	uint64_t max;         /* largest count */
	uint64_t unmapped;
} canary__ue_figures;

/* Keep the larger rank in an atomic register. */
static inline void canary__ue_register(atomic_uchar *regs, uint64_t hash)
{
	atomic_uchar *r = &regs[canary__hll_register(hash, CANARY__HLL_P)];
	unsigned char rank = (unsigned char)canary__hll_rank(hash,
		CANARY__HLL_P);
	unsigned char cur = atomic_load_explicit(r, memory_order_relaxed);

	while (cur < rank && !atomic_compare_exchange_weak_explicit(r, &cur,
	    rank, memory_order_relaxed, memory_order_relaxed))
		;
}

/* Hot path: the unit (its canary__hll_hash) was exposed. */
static inline void canary__ue_expose(canary__ue_arm *a, uint64_t hash)
{
	canary__ue_register(a->units, hash);
}

/* The unit had an error: counted here, not in the stripe counters. */
void canary__ue_error(canary__ue_arm *a, uint64_t hash);

/* Anything to take? */
bool canary__ue_any(const canary__ue_arm *a);

/*
 * Take the arm's evidence: registers merged into units[] and
 * error_units[] (CANARY__UE_REGS each; units kept >= error_units, a unit
 * with an error being a unit of the window), figures added to *f.
 */
void canary__ue_take(canary__ue_arm *a, uint8_t *units, uint8_t *error_units,
	canary__ue_figures *f);

/* Forget everything (a forked child: the parent's to send). Not
 * concurrent with recording. */
void canary__ue_clear(canary__ue_arm *a);

#endif
