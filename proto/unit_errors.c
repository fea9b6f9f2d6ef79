/*
 * unit_errors.c - the bounded exact map of units with errors (see
 * unit_errors.h).
 */
#include "unit_errors.h"

#include <string.h>

#include "canary/canary.h"
#include "saturate.h"

int canary__uerr_init(canary__unit_errors *u, canary__uerr_slot *slots,
	size_t cap)
{
	if (!slots || cap < 4 || (cap & (cap - 1)) != 0)
		return CANARY_EINVAL;
	u->slot = slots;
	u->cap = cap;
	canary__uerr_clear(u);
	return 0;
}

void canary__uerr_clear(canary__unit_errors *u)
{
	memset(u->slot, 0, u->cap * sizeof(*u->slot));
	u->used = 0;
	u->mapped = u->sum_sq = u->max = u->unmapped = 0;
}

/* The unit's slot, or the free slot where it would go (linear probing;
 * the map is never full, so the probe ends). */
static canary__uerr_slot *find(canary__unit_errors *u, uint64_t unit)
{
	size_t i = (size_t)(unit ^ unit >> 32) & (u->cap - 1);

	while (u->slot[i].unit && u->slot[i].unit != unit)
		i = (i + 1) & (u->cap - 1);
	return &u->slot[i];
}

void canary__uerr_add(canary__unit_errors *u, uint64_t unit_hash)
{
	uint64_t unit = unit_hash ? unit_hash : 1;
	canary__uerr_slot *s = find(u, unit);
	uint64_t c;

	if (!s->unit) {
		/* At most 3/4 full: a free slot always ends a probe. */
		if (4 * (u->used + 1) > 3 * u->cap) {
			u->unmapped = canary__sat_add(u->unmapped, 1);
			return;
		}
		s->unit = unit;
		u->used++;
	}
	c = s->count;
	if (c == UINT64_MAX)
		return; /* 2^64 errors of one unit: keep the saturated counts */
	s->count = c + 1;
	u->mapped = canary__sat_add(u->mapped, 1);
	/* (c + 1)^2 - c^2 = 2c + 1 */
	u->sum_sq = c > (UINT64_MAX - 1) / 2 ? UINT64_MAX :
		canary__sat_add(u->sum_sq, 2 * c + 1);
	if (s->count > u->max)
		u->max = s->count;
}
