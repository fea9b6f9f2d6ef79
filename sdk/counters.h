/*
 * counters.h - counting exposures, errors, latencies and custom metrics
 * per (flag, arm) of a config snapshot, without contention (see
 * docs/events.md, "Counting without contention"). Taking the counts out
 * and turning them into batches is events.c's.
 *
 * Every published snapshot gets a counter table: for each of
 * CANARY__EV_STRIPES stripes, for each flag of the snapshot, for each arm
 * and for the units its targeting excludes (CANARY__EV_INELIGIBLE, counted
 * apart from the stable arm), an exposure and an error counter (relaxed
 * atomic adds). A thread uses
 * the stripe of its thread number, so threads do not share cache lines
 * unless there are more of them than stripes (then they share with a few,
 * still exactly). Counts are taken with atomic exchanges, so nothing is
 * lost or counted twice. Tables are found from the snapshot through a
 * small registry of CANARY__EV_TABLES slots keyed by the snapshot's
 * address; the registry lives in the client (live.h) so that the hot path
 * reads it without a pointer chase.
 *
 * A flag under an active rollout (its config state "running" or "paused")
 * also gets, per arm, the user-level evidence of user_evidence.h: its
 * exposures add the unit to a sketch, and its errors are counted in the
 * map of erroring units instead of the stripes. At most
 * CANARY__EV_USER_FLAGS flags of a config get it; the others' windows go
 * without (v1).
 *
 * Latency and metrics go to per-stripe pools of cells (a compact
 * histogram, or a count and sum per metric name), allocated once with the
 * client and taken under the stripe's mutex (one thread's, normally).
 *
 * Whatever does not fit (no table slot, no free cell) is counted as
 * dropped. Locks: `lock` (registry writers, table lifetimes; every harvest
 * holds it) before a stripe's lock.
 */
#ifndef CANARY_SDK_COUNTERS_H
#define CANARY_SDK_COUNTERS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"
#include "canary/canary.h"
#include "hazard.h"
#include "hll.h"
#include "log.h"
#include "user_evidence.h"

#define CANARY__EV_STRIPES 8         /* counter copies per flag and arm */
#define CANARY__EV_TABLES 8          /* snapshots that can count at once */
#define CANARY__EV_LAT_CELLS 8       /* latency series per stripe */
#define CANARY__EV_METRIC_CELLS 32   /* metric series per stripe */
#define CANARY__EV_USER_FLAGS 32     /* rolled-out flags with user-level
                                        evidence, per table */
#define CANARY__EV_INELIGIBLE 2      /* the counter slot after the arms */
#define CANARY__EV_SLOTS 3           /* stable, canary, ineligible */

struct canary__snapshot;
typedef struct canary__counters canary__counters;

/* One exposure/error counter pair. */
typedef struct canary__ev_counter {
	atomic_uint_least64_t exposures;
	atomic_uint_least64_t errors;
} canary__ev_counter;

typedef struct canary__ev_table {
	const struct canary__snapshot *snap;
	uint64_t version;
	uint32_t nflags;
	size_t stride;               /* counters per stripe (cache-line aligned) */
	canary__ev_counter *counters; /* [stripe][flag][slot], after the struct */
	/* User-level evidence: user_of[flag] is 1 + the flag's place in
	 * users[] (two arms each), 0 for none; NULL when no flag has any. */
	uint32_t *user_of;
	canary__ue_arm *users;
	void *users_block;           /* the allocation users[] lives in */
} canary__ev_table;

typedef struct canary__ev_slot {
	_Atomic(const struct canary__snapshot *) snap; /* NULL = free */
	_Atomic(canary__ev_table *) table;
} canary__ev_slot;

/* The part the hot path reads: kept here so lookups inline. */
typedef struct canary__ev_registry {
	canary__ev_slot slots[CANARY__EV_TABLES];
	atomic_uint hint;            /* slot of the newest table */
} canary__ev_registry;

/* `reg` (the client's) is borrowed for the counters' life. */
int canary__counters_new(canary__counters **out, const canary__alloc *a,
	const canary__logger *log, canary__ev_registry *reg);
/* Frees every table too. */
void canary__counters_free(canary__counters *k);

/* Writer side, under the client's config lock: give `snap` a table before
 * it is published (a failure leaves it without one: its records are
 * counted as dropped); forget it when it was not published after all. */
void canary__counters_attach(canary__counters *k,
	const struct canary__snapshot *snap);
void canary__counters_detach(canary__counters *k,
	const struct canary__snapshot *snap);

static inline unsigned canary__ev_stripe(void)
{
	return canary__thread_number() % CANARY__EV_STRIPES;
}

/* The table of a snapshot the caller holds (hazard), or NULL. */
static inline canary__ev_table *canary__ev_find(canary__ev_registry *r,
	const struct canary__snapshot *snap)
{
	unsigned i = atomic_load_explicit(&r->hint, memory_order_relaxed);
	unsigned n;

	for (n = 0; n < CANARY__EV_TABLES; n++, i = (i + 1) % CANARY__EV_TABLES) {
		canary__ev_slot *s = &r->slots[i];

		if (atomic_load_explicit(&s->snap, memory_order_acquire) == snap)
			return atomic_load_explicit(&s->table,
				memory_order_relaxed);
	}
	return NULL;
}

/* `slot`: a canary_arm, or CANARY__EV_INELIGIBLE. */
static inline canary__ev_counter *canary__ev_counter_of(
	canary__ev_table *t, uint32_t flag, unsigned slot)
{
	return &t->counters[canary__ev_stripe() * t->stride +
		flag * CANARY__EV_SLOTS + slot];
}

/* The user-level evidence of (flag, arm), or NULL when the flag has none. */
static inline canary__ue_arm *canary__ev_users_of(const canary__ev_table *t,
	uint32_t flag, canary_arm arm)
{
	uint32_t u = t->user_of ? t->user_of[flag] : 0;

	return u ? &t->users[(u - 1) * 2u + (unsigned)arm] : NULL;
}

/* Hot path: one exposure of `unit` (NULL or "": none). Returns false when
 * it could not be counted. */
static inline bool canary__counters_expose(canary__ev_registry *r,
	const struct canary__snapshot *snap, uint32_t flag, unsigned slot,
	const char *unit)
{
	canary__ev_table *t = canary__ev_find(r, snap);
	canary__ue_arm *u;

	if (!t)
		return false;
	atomic_fetch_add_explicit(&canary__ev_counter_of(t, flag, slot)->exposures,
		1, memory_order_relaxed);
	u = slot < CANARY__EV_INELIGIBLE ? canary__ev_users_of(t, flag,
		(canary_arm)slot) : NULL;
	if (u && unit && *unit)
		canary__ue_expose(u, canary__hll_hash(unit, strlen(unit)));
	return true;
}

/* Record calls (the arm, or for errors also CANARY__EV_INELIGIBLE, already
 * computed; `unit`, when not empty, for the user-level evidence).
 * CANARY_OK or CANARY_ENOMEM (dropped: counted). */
int canary__counters_error(canary__counters *k,
	const struct canary__snapshot *snap, uint32_t flag, unsigned slot,
	const char *unit);
int canary__counters_latency(canary__counters *k,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm,
	double ms);
int canary__counters_metric(canary__counters *k,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm,
	const char *name, double value);

/* A lost exposure, or a refused record call. */
void canary__counters_count_dropped(canary__counters *k);
void canary__counters_count_ignored(canary__counters *k);

/* Totals since the client started. */
uint64_t canary__counters_dropped(canary__counters *k);
uint64_t canary__counters_ignored(canary__counters *k);

/* ---- taking the counts out (the harvest, events.c) ---------------------- */

/* Called for each table harvested, with `lock` held; `final`: the table's
 * last harvest (it is freed right after). */
typedef void (*canary__table_fn)(canary__ev_table *t, bool final, void *ctx);

/* Every live table (a flush). */
void canary__counters_harvest_all(canary__counters *k, canary__table_fn fn,
	void *ctx);
/* The table of `snap`, which no reader holds any more: its last harvest,
 * then the table is freed. */
void canary__counters_retire(canary__counters *k,
	const struct canary__snapshot *snap, canary__table_fn fn, void *ctx);

/* Anything counted for (flag, slot)? A cheap look before taking. */
bool canary__ev_table_any(const canary__ev_table *t, uint32_t flag,
	unsigned slot);
/* Take (flag, slot)'s counts: exchanged to 0, so each count is taken once. */
void canary__ev_table_take(canary__ev_table *t, uint32_t flag,
	unsigned slot, uint64_t *exposures, uint64_t *errors);

/* A latency cell's samples: `bins[i - CANARY__HIST_MIN_INDEX]` for
 * lo <= i <= hi (zeros skipped by the reader), and values <= 0. */
typedef struct canary__lat_sample {
	uint64_t zero;
	int lo, hi;
	const uint32_t *bins;
} canary__lat_sample;

/* Where a table's cells go. Each function returns true when it took the
 * data (the cell is emptied), false to leave it for the next harvest; at
 * a table's last harvest the cell is emptied either way. */
typedef struct canary__cell_sink {
	bool (*latency)(void *ctx, uint32_t flag, canary_arm arm,
		const canary__lat_sample *s);
	bool (*metric)(void *ctx, uint32_t flag, canary_arm arm,
		const char *name, uint64_t count, double sum);
	void *ctx;
} canary__cell_sink;

/* Offer every cell of `t` to `sink`, each under its stripe's lock. */
void canary__counters_take_cells(canary__counters *k,
	const canary__ev_table *t, bool final, const canary__cell_sink *sink);

/* ---- fork ---------------------------------------------------------------- */

/* Hold every lock across fork() (then unlock in both processes); in the
 * child, forget what the parent had counted (it is the parent's to send). */
void canary__counters_prefork(canary__counters *k);
void canary__counters_postfork_unlock(canary__counters *k);
void canary__counters_postfork_child(canary__counters *k);

#endif
