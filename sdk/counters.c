/*
 * counters.c - counting without contention (see counters.h and
 * docs/events.md).
 */
#include "counters.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "event_batch.h"
#include "histogram.h"
#include "saturate.h"
#include "snapshot.h"

typedef struct lat_cell {
	const canary__ev_table *t;       /* NULL = free */
	uint32_t flag;
	canary_arm arm;
	int lo, hi;                      /* non-empty bin range */
	uint64_t zero;
	uint32_t bins[CANARY__HIST_BINS];
} lat_cell;

typedef struct metric_cell {
	const canary__ev_table *t;       /* NULL = free */
	uint32_t flag;
	canary_arm arm;
	char name[CANARY__EV_METRIC_NAME_MAX + 1];
	uint64_t count;
	double sum;
} metric_cell;

typedef struct stripe {
	_Alignas(CANARY__CACHE_LINE) pthread_mutex_t lock;
	atomic_uint_least64_t ignored;   /* refused record calls */
	atomic_uint_least64_t dropped;   /* records lost at a bound */
	lat_cell *lat;
	metric_cell *met;
} stripe;

struct canary__counters {
	canary__ev_registry *reg;    /* inside the client */
	const canary__alloc *a;
	const canary__logger *log;
	pthread_mutex_t lock;
	stripe stripes[CANARY__EV_STRIPES];
	void *cells;                 /* every stripe's cells, one block */
};

/* ---- lifetime -------------------------------------------------------------- */

static void table_free(canary__counters *k, canary__ev_table *t)
{
	if (t)
		canary__free(k->a, t->users_block);
	canary__free(k->a, t);
}

int canary__counters_new(canary__counters **out, const canary__alloc *a,
	const canary__logger *log, canary__ev_registry *reg)
{
	canary__counters *k;
	lat_cell *lat;
	metric_cell *met;
	size_t i;

	*out = NULL;
	k = canary__new(a, canary__counters);
	if (!k)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	k->a = a;
	k->log = log;
	k->reg = reg;
	pthread_mutex_init(&k->lock, NULL);
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		pthread_mutex_init(&k->stripes[i].lock, NULL);
	k->cells = canary__calloc(a, 1, CANARY__EV_STRIPES *
		(CANARY__EV_LAT_CELLS * sizeof(lat_cell) +
		 CANARY__EV_METRIC_CELLS * sizeof(metric_cell)));
	if (!k->cells) {
		canary__counters_free(k);
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	lat = k->cells;
	met = (metric_cell *)(lat + CANARY__EV_STRIPES * CANARY__EV_LAT_CELLS);
	for (i = 0; i < CANARY__EV_STRIPES; i++) {
		k->stripes[i].lat = lat + i * CANARY__EV_LAT_CELLS;
		k->stripes[i].met = met + i * CANARY__EV_METRIC_CELLS;
	}
	*out = k;
	return CANARY_OK;
}

void canary__counters_free(canary__counters *k)
{
	size_t i;

	if (!k)
		return;
	for (i = 0; i < CANARY__EV_TABLES; i++) {
		table_free(k, atomic_load(&k->reg->slots[i].table));
		atomic_store(&k->reg->slots[i].table, NULL);
		atomic_store(&k->reg->slots[i].snap, NULL);
	}
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		pthread_mutex_destroy(&k->stripes[i].lock);
	canary__free(k->a, k->cells);
	pthread_mutex_destroy(&k->lock);
	canary__delete(k->a, k, canary__counters);
}

/* ---- tables ---------------------------------------------------------------- */

/* Is the flag under an active rollout (the controller's state)? */
static bool rolled_out(const canary__flag *f)
{
	return strcmp(f->state, "running") == 0 ||
		strcmp(f->state, "paused") == 0;
}

static uintptr_t line_up(uintptr_t p)
{
	return (p + CANARY__CACHE_LINE - 1) & ~(uintptr_t)(CANARY__CACHE_LINE - 1);
}

/* The rolled-out flags' evidence, in its own block: users[] aligned, then
 * user_of[]. A failure leaves the table without (v1 windows). */
static void users_new(canary__counters *k, canary__ev_table *t,
	const canary__config *config)
{
	size_t i, n = 0, arms;
	uintptr_t p;

	for (i = 0; i < config->count; i++)
		n += rolled_out(&config->flags[i]);
	if (n > CANARY__EV_USER_FLAGS)
		n = CANARY__EV_USER_FLAGS;
	if (n == 0)
		return;
	arms = 2 * n * sizeof(canary__ue_arm);
	t->users_block = canary__calloc(k->a, 1, CANARY__CACHE_LINE + arms +
		config->count * sizeof(uint32_t));
	if (!t->users_block)
		return;
	p = line_up((uintptr_t)t->users_block);
	t->users = (canary__ue_arm *)p;
	t->user_of = (uint32_t *)(p + arms);
	for (i = 0, n = 0; i < config->count && n < CANARY__EV_USER_FLAGS; i++)
		if (rolled_out(&config->flags[i]))
			t->user_of[i] = (uint32_t)++n;
}

static canary__ev_table *table_new(canary__counters *k,
	const canary__snapshot *snap)
{
	size_t per_line = CANARY__CACHE_LINE / sizeof(canary__ev_counter);
	size_t nflags = snap->config->count, stride, bytes;
	canary__ev_table *t;

	/* Each stripe starts on its own cache line; one allocation holds
	 * the table and its counters. */
	stride = (nflags * CANARY__EV_SLOTS + per_line - 1) / per_line * per_line;
	if (stride == 0)
		stride = per_line;
	bytes = CANARY__EV_STRIPES * stride * sizeof(canary__ev_counter);
	t = canary__calloc(k->a, 1, sizeof(*t) + bytes + CANARY__CACHE_LINE);
	if (!t)
		return NULL;
	t->counters = (canary__ev_counter *)line_up((uintptr_t)(t + 1));
	t->snap = snap;
	t->version = snap->version;
	t->nflags = (uint32_t)nflags;
	t->stride = stride;
	users_new(k, t, snap->config);
	return t;
}


void canary__counters_attach(canary__counters *k, const canary__snapshot *snap)
{
	canary__ev_table *t;
	unsigned i;

	if (snap->config->count > UINT32_MAX / 2)
		return;
	t = table_new(k, snap);
	if (!t)
		return; /* its records count as dropped */
	pthread_mutex_lock(&k->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++) {
		canary__ev_slot *s = &k->reg->slots[i];

		if (atomic_load_explicit(&s->snap, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->table, t, memory_order_relaxed);
		/* Published with the snapshot (release): a reader holding the
		 * snapshot sees the table. */
		atomic_store_explicit(&s->snap, snap, memory_order_release);
		atomic_store_explicit(&k->reg->hint, i, memory_order_relaxed);
		t = NULL;
		break;
	}
	pthread_mutex_unlock(&k->lock);
	if (t) {
		canary__log(k->log, CANARY_LOG_WARN,
			"events: %d configs are still in use; records under config version %" PRIu64 " are dropped (counted)",
			CANARY__EV_TABLES, snap->version);
		table_free(k, t);
	}
}

/* Under k->lock: the slot of `snap`, or NULL. */
static canary__ev_slot *slot_of(canary__counters *k,
	const canary__snapshot *snap)
{
	unsigned i;

	for (i = 0; i < CANARY__EV_TABLES; i++)
		if (atomic_load_explicit(&k->reg->slots[i].snap,
		    memory_order_relaxed) == snap)
			return &k->reg->slots[i];
	return NULL;
}

static void slot_release(canary__counters *k, canary__ev_slot *s)
{
	canary__ev_table *t = atomic_load_explicit(&s->table,
		memory_order_relaxed);

	atomic_store_explicit(&s->snap, NULL, memory_order_relaxed);
	atomic_store_explicit(&s->table, NULL, memory_order_relaxed);
	table_free(k, t);
}

void canary__counters_detach(canary__counters *k, const canary__snapshot *snap)
{
	canary__ev_slot *s;

	pthread_mutex_lock(&k->lock);
	s = slot_of(k, snap);
	if (s)
		slot_release(k, s);
	pthread_mutex_unlock(&k->lock);
}

void canary__counters_harvest_all(canary__counters *k, canary__table_fn fn,
	void *ctx)
{
	size_t i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++) {
		canary__ev_table *t = atomic_load_explicit(&k->reg->slots[i].table,
			memory_order_relaxed);

		if (t)
			fn(t, false, ctx);
	}
	pthread_mutex_unlock(&k->lock);
}

void canary__counters_retire(canary__counters *k, const canary__snapshot *snap,
	canary__table_fn fn, void *ctx)
{
	canary__ev_slot *s;
	canary__ev_table *t;

	pthread_mutex_lock(&k->lock);
	s = slot_of(k, snap);
	if (s) {
		/* No reader holds the snapshot any more: these are the last
		 * counts the table will ever get. */
		t = atomic_load_explicit(&s->table, memory_order_relaxed);
		if (t)
			fn(t, true, ctx);
		slot_release(k, s);
	}
	pthread_mutex_unlock(&k->lock);
}

bool canary__ev_table_any(const canary__ev_table *t, uint32_t flag,
	unsigned slot)
{
	unsigned s;

	for (s = 0; s < CANARY__EV_STRIPES; s++) {
		canary__ev_counter *k = &t->counters[s * t->stride +
			flag * CANARY__EV_SLOTS + slot];

		if (atomic_load_explicit(&k->exposures, memory_order_relaxed) ||
		    atomic_load_explicit(&k->errors, memory_order_relaxed))
			return true;
	}
	return false;
}

void canary__ev_table_take(canary__ev_table *t, uint32_t flag,
	unsigned slot, uint64_t *exposures, uint64_t *errors)
{
	unsigned s;

	*exposures = *errors = 0;
	for (s = 0; s < CANARY__EV_STRIPES; s++) {
		canary__ev_counter *k = &t->counters[s * t->stride +
			flag * CANARY__EV_SLOTS + slot];

		/* Exchange, not load: a count taken is a count gone, so
		 * nothing is sent twice or lost. */
		if (atomic_load_explicit(&k->exposures, memory_order_relaxed))
			*exposures = canary__sat_add(*exposures,
				atomic_exchange_explicit(&k->exposures, 0,
					memory_order_relaxed));
		if (atomic_load_explicit(&k->errors, memory_order_relaxed))
			*errors = canary__sat_add(*errors,
				atomic_exchange_explicit(&k->errors, 0,
					memory_order_relaxed));
	}
}

/* ---- records --------------------------------------------------------------- */

void canary__counters_count_dropped(canary__counters *k)
{
	atomic_fetch_add_explicit(&k->stripes[canary__ev_stripe()].dropped, 1,
		memory_order_relaxed);
}

void canary__counters_count_ignored(canary__counters *k)
{
	atomic_fetch_add_explicit(&k->stripes[canary__ev_stripe()].ignored, 1,
		memory_order_relaxed);
}

/* A total over the stripes: `dropped` or `ignored`. */
static uint64_t stripes_total(canary__counters *k, bool dropped)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < CANARY__EV_STRIPES; i++)
		n += atomic_load_explicit(dropped ? &k->stripes[i].dropped :
			&k->stripes[i].ignored, memory_order_relaxed);
	return n;
}

uint64_t canary__counters_dropped(canary__counters *k)
{
	return stripes_total(k, true);
}

uint64_t canary__counters_ignored(canary__counters *k)
{
	return stripes_total(k, false);
}

int canary__counters_error(canary__counters *k, const canary__snapshot *snap,
	uint32_t flag, unsigned slot, const char *unit)
{
	canary__ev_table *t = canary__ev_find(k->reg, snap);
	canary__ue_arm *u;

	if (!t) {
		canary__counters_count_dropped(k);
		return CANARY_ENOMEM;
	}
	u = slot < CANARY__EV_INELIGIBLE ? canary__ev_users_of(t, flag,
		(canary_arm)slot) : NULL;
	if (u && unit && *unit)
		canary__ue_error(u, canary__hll_hash(unit, strlen(unit)));
	else
		atomic_fetch_add_explicit(
			&canary__ev_counter_of(t, flag, slot)->errors, 1,
			memory_order_relaxed);
	return CANARY_OK;
}

static lat_cell *lat_cell_for(stripe *s, const canary__ev_table *t,
	uint32_t flag, canary_arm arm)
{
	lat_cell *free_cell = NULL;
	size_t i;

	for (i = 0; i < CANARY__EV_LAT_CELLS; i++) {
		lat_cell *cell = &s->lat[i];

		if (cell->t == t && cell->flag == flag && cell->arm == arm)
			return cell;
		if (!cell->t && !free_cell)
			free_cell = cell;
	}
	if (free_cell) {
		free_cell->t = t;
		free_cell->flag = flag;
		free_cell->arm = arm;
		free_cell->lo = CANARY__HIST_MAX_INDEX + 1;
		free_cell->hi = CANARY__HIST_MIN_INDEX - 1;
	}
	return free_cell;
}

int canary__counters_latency(canary__counters *k, const canary__snapshot *snap,
	uint32_t flag, canary_arm arm, double ms)
{
	canary__ev_table *t = canary__ev_find(k->reg, snap);
	stripe *s = &k->stripes[canary__ev_stripe()];
	lat_cell *cell;
	int rc = CANARY_OK, i;

	if (!t) {
		canary__counters_count_dropped(k);
		return CANARY_ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	cell = lat_cell_for(s, t, flag, arm);
	if (!cell) {
		rc = CANARY_ENOMEM;
	} else if (ms <= 0) {
		cell->zero++;
	} else {
		i = canary__hist_index(ms);
		if (cell->bins[i - CANARY__HIST_MIN_INDEX] == UINT32_MAX) {
			rc = CANARY_ENOMEM;
		} else {
			cell->bins[i - CANARY__HIST_MIN_INDEX]++;
			if (i < cell->lo)
				cell->lo = i;
			if (i > cell->hi)
				cell->hi = i;
		}
	}
	pthread_mutex_unlock(&s->lock);
	if (rc != CANARY_OK)
		canary__counters_count_dropped(k);
	return rc;
}

static metric_cell *metric_cell_for(stripe *s, const canary__ev_table *t,
	uint32_t flag, canary_arm arm, const char *name)
{
	metric_cell *free_cell = NULL;
	size_t i;

	for (i = 0; i < CANARY__EV_METRIC_CELLS; i++) {
		metric_cell *cell = &s->met[i];

		if (cell->t == t && cell->flag == flag && cell->arm == arm &&
		    strcmp(cell->name, name) == 0)
			return cell;
		if (!cell->t && !free_cell)
			free_cell = cell;
	}
	if (free_cell) {
		free_cell->t = t;
		free_cell->flag = flag;
		free_cell->arm = arm;
		snprintf(free_cell->name, sizeof(free_cell->name), "%s", name);
		free_cell->count = 0;
		free_cell->sum = 0;
	}
	return free_cell;
}

int canary__counters_metric(canary__counters *k, const canary__snapshot *snap,
	uint32_t flag, canary_arm arm, const char *name, double value)
{
	canary__ev_table *t = canary__ev_find(k->reg, snap);
	stripe *s = &k->stripes[canary__ev_stripe()];
	metric_cell *cell;

	if (!t) {
		canary__counters_count_dropped(k);
		return CANARY_ENOMEM;
	}
	pthread_mutex_lock(&s->lock);
	cell = metric_cell_for(s, t, flag, arm, name);
	if (cell) {
		cell->count++;
		cell->sum += value;
	}
	pthread_mutex_unlock(&s->lock);
	if (!cell) {
		canary__counters_count_dropped(k);
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

/* ---- cells: offered to the harvest ----------------------------------------- */

static void lat_clear(lat_cell *cell)
{
	int i;

	for (i = cell->lo; i <= cell->hi; i++)
		cell->bins[i - CANARY__HIST_MIN_INDEX] = 0;
	cell->zero = 0;
	cell->t = NULL;
}

static void take_lat(lat_cell *cell, bool final, const canary__cell_sink *sink)
{
	canary__lat_sample s;

	s.zero = cell->zero;
	s.lo = cell->lo;
	s.hi = cell->hi;
	s.bins = cell->bins;
	if (sink->latency(sink->ctx, cell->flag, cell->arm, &s) || final)
		lat_clear(cell);
}

static void take_metric(metric_cell *cell, bool final,
	const canary__cell_sink *sink)
{
	if (sink->metric(sink->ctx, cell->flag, cell->arm, cell->name,
	    cell->count, cell->sum) || final)
		cell->t = NULL;
}

void canary__counters_take_cells(canary__counters *k,
	const canary__ev_table *t, bool final, const canary__cell_sink *sink)
{
	size_t s, i;

	for (s = 0; s < CANARY__EV_STRIPES; s++) {
		stripe *st = &k->stripes[s];

		pthread_mutex_lock(&st->lock);
		for (i = 0; i < CANARY__EV_LAT_CELLS; i++)
			if (st->lat[i].t == t)
				take_lat(&st->lat[i], final, sink);
		for (i = 0; i < CANARY__EV_METRIC_CELLS; i++)
			if (st->met[i].t == t)
				take_metric(&st->met[i], final, sink);
		pthread_mutex_unlock(&st->lock);
	}
}

/* ---- fork ---------------------------------------------------------------- */

void canary__counters_prefork(canary__counters *k)
{
	size_t i;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		pthread_mutex_lock(&k->stripes[i].lock);
}

void canary__counters_postfork_unlock(canary__counters *k)
{
	size_t i;

	for (i = CANARY__EV_STRIPES; i-- > 0;)
		pthread_mutex_unlock(&k->stripes[i].lock);
	pthread_mutex_unlock(&k->lock);
}

static void forget_counts(canary__ev_table *t)
{
	size_t i;

	if (!t)
		return;
	for (i = 0; i < CANARY__EV_STRIPES * t->stride; i++) {
		atomic_store(&t->counters[i].exposures, 0);
		atomic_store(&t->counters[i].errors, 0);
	}
	for (i = 0; t->user_of && i < t->nflags; i++) {
		canary__ue_arm *u = canary__ev_users_of(t, (uint32_t)i,
			CANARY_ARM_STABLE);

		if (u) {
			canary__ue_clear(u);
			canary__ue_clear(u + 1);
		}
	}
}

void canary__counters_postfork_child(canary__counters *k)
{
	size_t i, c;

	pthread_mutex_lock(&k->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++)
		forget_counts(atomic_load_explicit(&k->reg->slots[i].table,
			memory_order_relaxed));
	for (i = 0; i < CANARY__EV_STRIPES; i++) {
		for (c = 0; c < CANARY__EV_LAT_CELLS; c++)
			lat_clear(&k->stripes[i].lat[c]);
		for (c = 0; c < CANARY__EV_METRIC_CELLS; c++)
			k->stripes[i].met[c].t = NULL;
	}
	pthread_mutex_unlock(&k->lock);
}
