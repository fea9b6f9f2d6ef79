/*
 * events.h - exposures, errors, latencies and custom metrics per (flag,
 * arm, config version): counted in memory without contention, turned into
 * batches for the outbox (see docs/events.md).
 *
 * Counting. Every published snapshot gets a counter table: for each of
 * CANARY__EV_STRIPES stripes, for each flag of the snapshot, for each arm,
 * an exposure and an error counter (relaxed atomic adds). A thread uses
 * the stripe of its thread number, so threads do not share cache lines
 * unless there are more of them than stripes (then they share with a few,
 * still exactly). The flusher takes the counts with atomic exchanges, so
 * nothing is lost or counted twice. A table lives exactly as long as its
 * snapshot: when the hazard domain frees the snapshot (no reader left),
 * the table's last counts are harvested and the table freed. Tables are
 * found from the snapshot through a small registry of
 * CANARY__EV_TABLES slots keyed by the snapshot's address.
 *
 * Latency and metrics go to per-stripe pools of cells (a compact
 * histogram, or a count and sum per metric name), allocated once with the
 * client and taken under the stripe's mutex (one thread's, normally).
 *
 * Whatever does not fit (no table slot, no free cell, more pending
 * windows than a batch may carry) is counted as dropped and reported.
 */
#ifndef CANARY_SDK_EVENTS_H
#define CANARY_SDK_EVENTS_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "canary/canary.h"
#include "hazard.h"

#define CANARY__EV_STRIPES 8         /* counter copies per flag and arm */
#define CANARY__EV_TABLES 8          /* snapshots that can count at once */
#define CANARY__EV_LAT_CELLS 8       /* latency series per stripe */
#define CANARY__EV_METRIC_CELLS 32   /* metric series per stripe */
#define CANARY__EV_MAX_WINDOWS 10000 /* pending windows (and per batch) */
#define CANARY__EV_MAX_HISTS 256     /* pending windows with latency */
#define CANARY__EV_METRIC_NAME_MAX 64

struct canary_client;
struct canary__snapshot;
typedef struct canary__events canary__events;

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
	canary__ev_counter *counters; /* [stripe][flag][arm], after the struct */
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

int canary__events_new(canary__events **out, struct canary_client *c);
void canary__events_free(canary__events *ev);

/* The outbox: at `path` (the cache file) or, NULL or unusable, in memory.
 * `note` says what went wrong. */
int canary__events_open_outbox(canary__events *ev, const char *path,
	char *note, size_t notelen);

/* Writer side, under the client's write lock: give `snap` a table before
 * it is published (a failure leaves it without one: its records are
 * counted as dropped); forget it when it was not published after all. */
void canary__events_attach(canary__events *ev,
	const struct canary__snapshot *snap);
void canary__events_detach(canary__events *ev,
	const struct canary__snapshot *snap);

/* The hazard domain frees `snap`: harvest its table's last counts. */
void canary__events_retire(canary__events *ev,
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

static inline canary__ev_counter *canary__ev_counter_of(
	canary__ev_table *t, uint32_t flag, canary_arm arm)
{
	return &t->counters[canary__ev_stripe() * t->stride + flag * 2u +
		(unsigned)arm];
}

/* Hot path: one exposure. Returns false when it could not be counted. */
static inline bool canary__events_expose(canary__ev_registry *r,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm)
{
	canary__ev_table *t = canary__ev_find(r, snap);

	if (!t)
		return false;
	atomic_fetch_add_explicit(&canary__ev_counter_of(t, flag, arm)->exposures,
		1, memory_order_relaxed);
	return true;
}

/* Record calls (the arm already computed). CANARY_OK or CANARY_ENOMEM
 * (dropped: counted). */
int canary__events_error(canary__events *ev,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm);
int canary__events_latency(canary__events *ev,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm,
	double ms);
int canary__events_metric(canary__events *ev,
	const struct canary__snapshot *snap, uint32_t flag, canary_arm arm,
	const char *name, double value);

/* A lost exposure, or a refused record call. */
void canary__events_count_dropped(canary__events *ev);
void canary__events_count_ignored(canary__events *ev);

/*
 * Move every count into batches in the outbox (one transaction). Serialised
 * internally; any thread. *last_seq (may be NULL) is the outbox seq of the
 * last batch written, or of the newest batch already there when there was
 * nothing to write (0: the outbox is empty).
 * Returns CANARY_OK, CANARY_ENOMEM or CANARY_ESTORAGE (counts kept).
 */
int canary__events_flush(canary__events *ev, int64_t *last_seq);

/* Delivery (the worker). */
int canary__events_oldest(canary__events *ev, int64_t *seq, char **body,
	size_t *len);
/* The batch left the outbox: `delivered` (2xx) or refused (dropped). */
void canary__events_done(canary__events *ev, int64_t seq, bool delivered);
/* Wait until every batch up to `seq` left the outbox, or the timeout. */
bool canary__events_wait(canary__events *ev, int64_t seq,
	uint32_t timeout_ms);

/* Is a batch waiting in the outbox? */
bool canary__events_pending(canary__events *ev);

void canary__events_stats(canary__events *ev, canary_event_stats *out);

/* fork(): hold every lock across it (prefork, then unlock in both); in
 * the child, before use: forget the parent's counts, fresh outbox. */
void canary__events_prefork(canary__events *ev);
void canary__events_postfork_unlock(canary__events *ev);
int canary__events_postfork_child(canary__events *ev);

#endif
