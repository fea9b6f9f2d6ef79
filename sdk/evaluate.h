/*
 * evaluate.h - the two steps every evaluation shares, for evaluate.c and
 * variant.c: finding the flag's entry by its key, and counting one
 * exposure. Inline: they are on the hot path.
 */
#ifndef CANARY_SDK_EVALUATE_H
#define CANARY_SDK_EVALUATE_H

#include <string.h>

#include "client.h"
#include "counters.h"
#include "snapshot.h"
#include "unknown_flags.h"

/* The entry of `flag` in `snap`, or NULL (the unknown key is noted, for
 * the worker to report). */
static inline const canary__snap_entry *canary__eval_find(canary_client *c,
	const canary__snapshot *snap, const char *flag)
{
	size_t flag_len = strlen(flag);
	uint32_t hash = canary__snapshot_hash(flag, flag_len);
	const canary__snap_entry *e;

	e = canary__snapshot_find_hashed(snap, flag, flag_len, hash);
	if (!e)
		canary__unknown_note(&c->unknown, flag, flag_len, hash);
	return e;
}

/* Count one exposure of `e` in `slot` (an arm, or ineligible) in the
 * snapshot's table (counters.h). */
static inline void canary__eval_expose(canary_client *c,
	const canary__snapshot *snap, const canary__snap_entry *e,
	unsigned slot, const char *unit)
{
	if (c->live.count_exposures &&
	    !canary__counters_expose(&c->live.ev_reg, snap, e->index, slot,
	    unit))
		canary__counters_count_dropped(c->counters);
}

#endif
