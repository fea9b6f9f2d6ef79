/*
 * unit_errors.h - how a window's errors cluster on units: a bounded exact
 * map from unit (its canary__hll_hash) to the errors it had, over a
 * caller-provided slot array (nothing here allocates).
 *
 * Why: errors come in bursts (a user retrying 20 times) and from heavy
 * users, and a test that counts requests as independent trials takes a
 * burst for 20 pieces of evidence. The judge counts units with errors
 * (canary__hll) for its main test; this map gives the dispersion of the
 * errors over those units, sum of squared per-unit counts, which inflates
 * the variance of request-level counts (phi = sum c^2 / sum c, 1 when every
 * error is a different unit, 20 for bursts of 20).
 *
 * Errors are rare, so the map is small: a unit takes a slot at its first
 * error and keeps it for the window. When the map is full (3/4 of the
 * slots, so probes stay short), an error of a unit without a slot is not
 * mapped: it is counted in `unmapped`, and the server assumes the worst
 * plausible clustering for those, as if each sat in a cluster as large as
 * the largest mapped one (sum_sq += unmapped x max). The window then still
 * counts every error; only the dispersion becomes an upper bound.
 *
 * Per window the SDK sends: error_units = `used`, error_sq = `sum_sq`,
 * error_max = `max`, errors_unmapped = `unmapped` (docs/protocol.md).
 * Threading: a plain value; callers serialise access.
 */
#ifndef CANARY_PROTO_UNIT_ERRORS_H
#define CANARY_PROTO_UNIT_ERRORS_H

#include <stddef.h>
#include <stdint.h>

/* Slots per arm and flag in the SDK: up to 96 erroring units per window
 * mapped exactly, 2 KiB. */
#define CANARY__UERR_SLOTS 128u

typedef struct canary__uerr_slot {
	uint64_t unit;  /* 0 = free (a unit hashing to 0 is stored as 1) */
	uint64_t count;
} canary__uerr_slot;

typedef struct canary__unit_errors {
	canary__uerr_slot *slot; /* borrowed, `cap` entries */
	size_t cap;              /* a power of two */
	size_t used;             /* units mapped */
	uint64_t mapped;         /* errors of mapped units */
	uint64_t sum_sq;         /* sum over mapped units of count^2 */
	uint64_t max;            /* largest count of a mapped unit */
	uint64_t unmapped;       /* errors of units that found the map full */
} canary__unit_errors;

/* @return 0; CANARY_EINVAL unless cap is a power of two >= 4. */
int canary__uerr_init(canary__unit_errors *u, canary__uerr_slot *slots,
	size_t cap);

/* Forget everything (a new window). */
void canary__uerr_clear(canary__unit_errors *u);

/* One error of the unit with this hash. Never allocates; saturates. */
void canary__uerr_add(canary__unit_errors *u, uint64_t unit_hash);

#endif
