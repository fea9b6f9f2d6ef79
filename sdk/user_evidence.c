/*
 * user_evidence.c - sketches of units and the map of erroring units,
 * lock-free (see user_evidence.h).
 */
#include "user_evidence.h"

#include "saturate.h"

/* The slot of `unit`, claiming a free one on the way; NULL when the map
 * has no room for another unit this window. Linear probes from the
 * unit's home slot; at most every slot once (a take may free slots under
 * us, so the bound, not the fill, ends a probe). */
static canary__ue_slot *slot_for(canary__ue_arm *a, uint64_t unit)
{
	size_t i = (size_t)(unit ^ unit >> 32) & (CANARY__UERR_SLOTS - 1), n;
	bool reserved = false;

	for (n = 0; n < CANARY__UERR_SLOTS; n++) {
		canary__ue_slot *s = &a->map[i];
		uint_least64_t cur = atomic_load_explicit(&s->unit,
			memory_order_relaxed);

		if (cur == unit)
			break;
		if (cur == 0) {
			if (!reserved && atomic_fetch_add_explicit(&a->claimed, 1,
			    memory_order_relaxed) >= CANARY__UE_MAP_MAX) {
				atomic_fetch_sub_explicit(&a->claimed, 1,
					memory_order_relaxed);
				return NULL;
			}
			reserved = true;
			if (atomic_compare_exchange_strong_explicit(&s->unit,
			    &cur, unit, memory_order_relaxed,
			    memory_order_relaxed))
				return s;
			if (cur == unit)
				break; /* another thread claimed it for us */
		}
		i = (i + 1) & (CANARY__UERR_SLOTS - 1);
	}
	if (reserved)
		atomic_fetch_sub_explicit(&a->claimed, 1, memory_order_relaxed);
	return n < CANARY__UERR_SLOTS ? &a->map[i] : NULL;
}

void canary__ue_error(canary__ue_arm *a, uint64_t hash)
{
	canary__ue_slot *s = slot_for(a, hash ? hash : 1);

	canary__ue_register(a->error_units, hash);
	canary__ue_register(a->units, hash);
	if (s)
		atomic_fetch_add_explicit(&s->count, 1, memory_order_relaxed);
	else
		atomic_fetch_add_explicit(&a->unmapped, 1, memory_order_relaxed);
}

bool canary__ue_any(const canary__ue_arm *a)
{
	size_t j;

	if (atomic_load_explicit(&a->unmapped, memory_order_relaxed))
		return true;
	for (j = 0; j < CANARY__UE_REGS; j++)
		if (atomic_load_explicit(&a->units[j], memory_order_relaxed))
			return true;
	return false;
}

/* Exchange each register with 0 and keep the larger in out[]. */
static void take_registers(atomic_uchar *regs, uint8_t *out)
{
	size_t j;

	for (j = 0; j < CANARY__UE_REGS; j++) {
		unsigned char v;

		if (!atomic_load_explicit(&regs[j], memory_order_relaxed))
			continue;
		v = atomic_exchange_explicit(&regs[j], 0, memory_order_relaxed);
		if (v > out[j])
			out[j] = v;
	}
}

static void take_map(canary__ue_arm *a, canary__ue_figures *f)
{
	uint64_t c;
	size_t i;

	for (i = 0; i < CANARY__UERR_SLOTS; i++) {
		canary__ue_slot *s = &a->map[i];

		if (!atomic_load_explicit(&s->unit, memory_order_relaxed) &&
		    !atomic_load_explicit(&s->count, memory_order_relaxed))
			continue;
		c = atomic_exchange_explicit(&s->count, 0, memory_order_relaxed);
		/* A unit's next error this window finds no slot of its own
		 * and takes a fresh one: counted as another unit-window,
		 * never lost. */
		atomic_store_explicit(&s->unit, 0, memory_order_relaxed);
		if (!c)
			continue;
		f->used++;
		f->errors = canary__sat_add(f->errors, c);
		f->sum_sq = canary__sat_add(f->sum_sq, c > UINT32_MAX ?
			UINT64_MAX : c * c);
		if (c > f->max)
			f->max = c;
	}
	atomic_store_explicit(&a->claimed, 0, memory_order_relaxed);
	c = atomic_exchange_explicit(&a->unmapped, 0, memory_order_relaxed);
	f->unmapped = canary__sat_add(f->unmapped, c);
	f->errors = canary__sat_add(f->errors, c);
}

void canary__ue_take(canary__ue_arm *a, uint8_t *units, uint8_t *error_units,
	canary__ue_figures *f)
{
	size_t j;

	/* Errors first: an error recorded meanwhile is in the units sketch
	 * of this take or of the next, like its count. */
	take_map(a, f);
	take_registers(a->error_units, error_units);
	take_registers(a->units, units);
	for (j = 0; j < CANARY__UE_REGS; j++)
		if (error_units[j] > units[j])
			units[j] = error_units[j];
}

void canary__ue_clear(canary__ue_arm *a)
{
	uint8_t u[CANARY__UE_REGS] = { 0 }, e[CANARY__UE_REGS] = { 0 };
	canary__ue_figures f = { 0, 0, 0, 0, 0 };

	canary__ue_take(a, u, e, &f);
}
