/*
 * events.c - counting events and turning them into batches (see events.h
 * and docs/events.md).
 *
 * Locks: `lock` guards the registry's writers, the pending windows and
 * every harvest; a stripe's `lock` guards its latency and metric cells.
 * Order: client write_lock -> lock -> stripe lock -> outbox lock.
 */
#define _GNU_SOURCE /* gethostname */
#include "events.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "canary/version.h"
#include "client.h"
#include "clock.h"
#include "error.h"
#include "histogram.h"
#include "event_batch.h"
#include "outbox.h"
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

typedef canary__ev_metric metric;
typedef canary__ev_window window;

struct canary__events {
	canary__ev_registry *reg;    /* inside the client */
	canary_client *c;
	const canary__alloc *a;
	pthread_mutex_t lock;
	stripe stripes[CANARY__EV_STRIPES];
	void *cells;                 /* every stripe's cells, one block */
	window *win;
	size_t nwin, capwin;
	size_t nhist;                /* pending windows with a histogram */
	uint64_t lost_windows;       /* pending windows that did not fit */
	uint64_t report_batches;     /* drops to report in the next batch */
	atomic_uint_least64_t refused_unreported; /* refused batches not yet
	                                 folded into report_batches (see
	                                 canary__events_done) */
	uint64_t report_windows;
	uint64_t reported_records;   /* dropped records already reported */
	int64_t window_start_ms;
	char instance_id[129];
	canary__outbox *outbox;
	uint64_t rng;
	/* Statistics. */
	atomic_uint_least64_t batches_written, batches_sent, batches_dropped;
	/* canary_flush() waits here for delivery. */
	pthread_mutex_t wait_lock;
	pthread_cond_t wait_cond;
	int64_t done_seq;
	int64_t newest_seq;
};

/* ---- lifetime -------------------------------------------------------------- */

static void set_instance_id(canary__events *ev)
{
	char host[64];

	if (gethostname(host, sizeof(host)) != 0 || !host[0])
		snprintf(host, sizeof(host), "unknown-host");
	host[sizeof(host) - 1] = '\0';
	snprintf(ev->instance_id, sizeof(ev->instance_id), "%s/pid-%ld", host,
		(long)getpid());
}

int canary__events_new(canary__events **out, canary_client *c)
{
	canary__events *ev;
	size_t i;

	*out = NULL;
	ev = canary__calloc(&c->alloc, 1, sizeof(*ev));
	if (!ev)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	ev->c = c;
	ev->a = &c->alloc;
	ev->reg = &c->ev_reg;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_mutex_init(&ev->wait_lock, NULL);
	canary__cond_init(&ev->wait_cond);
	atomic_init(&ev->refused_unreported, 0);
	for (i = 0; i < CANARY__EV_STRIPES; i++) {
		stripe *s = &ev->stripes[i];

		pthread_mutex_init(&s->lock, NULL);
	}
	ev->cells = canary__calloc(ev->a, 1, CANARY__EV_STRIPES *
		(CANARY__EV_LAT_CELLS * sizeof(lat_cell) +
		 CANARY__EV_METRIC_CELLS * sizeof(metric_cell)));
	if (!ev->cells) {
		canary__events_free(ev);
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	for (i = 0; i < CANARY__EV_STRIPES; i++) {
		lat_cell *lat = (lat_cell *)ev->cells;
		metric_cell *met = (metric_cell *)(lat + CANARY__EV_STRIPES *
			CANARY__EV_LAT_CELLS);

		ev->stripes[i].lat = lat + i * CANARY__EV_LAT_CELLS;
		ev->stripes[i].met = met + i * CANARY__EV_METRIC_CELLS;
	}
	set_instance_id(ev);
	ev->window_start_ms = canary__wall_ms();
	ev->rng = (uint64_t)canary__wall_ms() ^ ((uint64_t)getpid() << 40) ^
		(uint64_t)(uintptr_t)ev;
	*out = ev;
	return CANARY_OK;
}

int canary__events_open_outbox(canary__events *ev, const char *path,
	char *note, size_t notelen)
{
	const canary_options *o = &ev->c->opts;
	int rc;

	rc = canary__outbox_open(&ev->outbox, ev->a, path,
		o->outbox_max_batches, o->outbox_max_bytes, note, notelen);
	if (rc == CANARY_ESTORAGE && path) {
		/* The file is the cache's too, which works: keep events in
		 * memory rather than losing them all. */
		char again[256];

		rc = canary__outbox_open(&ev->outbox, ev->a, NULL,
			o->outbox_max_batches, o->outbox_max_bytes, again,
			sizeof(again));
	}
	if (rc == CANARY_OK)
		ev->newest_seq = canary__outbox_newest(ev->outbox);
	return rc;
}

static void window_clear(canary__events *ev, window *w)
{
	canary__hist_free(ev->a, w->lat);
	canary__free(ev->a, w->metrics);
	memset(w, 0, sizeof(*w));
}

static void table_free(canary__events *ev, canary__ev_table *t)
{
	if (t)
		canary__free(ev->a, t);
}

void canary__events_free(canary__events *ev)
{
	size_t i;

	if (!ev)
		return;
	for (i = 0; i < CANARY__EV_TABLES; i++) {
		table_free(ev, atomic_load(&ev->reg->slots[i].table));
		atomic_store(&ev->reg->slots[i].table, NULL);
		atomic_store(&ev->reg->slots[i].snap, NULL);
	}
	for (i = 0; i < ev->nwin; i++)
		window_clear(ev, &ev->win[i]);
	canary__free(ev->a, ev->win);
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		pthread_mutex_destroy(&ev->stripes[i].lock);
	canary__free(ev->a, ev->cells);
	canary__outbox_close(ev->outbox);
	pthread_mutex_destroy(&ev->lock);
	pthread_mutex_destroy(&ev->wait_lock);
	pthread_cond_destroy(&ev->wait_cond);
	canary__free(ev->a, ev);
}

/* ---- tables ---------------------------------------------------------------- */

static canary__ev_table *table_new(canary__events *ev,
	const canary__snapshot *snap)
{
	size_t per_line = CANARY__CACHE_LINE / sizeof(canary__ev_counter);
	size_t nflags = snap->config->count, stride, bytes;
	canary__ev_table *t;
	uintptr_t p;

	/* Each stripe starts on its own cache line; one allocation holds
	 * the table and its counters. */
	stride = (nflags * 2 + per_line - 1) / per_line * per_line;
	if (stride == 0)
		stride = per_line;
	bytes = CANARY__EV_STRIPES * stride * sizeof(canary__ev_counter);
	t = canary__calloc(ev->a, 1, sizeof(*t) + bytes + CANARY__CACHE_LINE);
	if (!t)
		return NULL;
	p = ((uintptr_t)(t + 1) + CANARY__CACHE_LINE - 1) &
		~(uintptr_t)(CANARY__CACHE_LINE - 1);
	t->counters = (canary__ev_counter *)p;
	t->snap = snap;
	t->version = snap->version;
	t->nflags = (uint32_t)nflags;
	t->stride = stride;
	return t;
}

void canary__events_attach(canary__events *ev, const canary__snapshot *snap)
{
	canary__ev_table *t;
	unsigned i;

	if (snap->config->count > UINT32_MAX / 2)
		return;
	t = table_new(ev, snap);
	if (!t)
		return; /* its records count as dropped */
	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++) {
		canary__ev_slot *s = &ev->reg->slots[i];

		if (atomic_load_explicit(&s->snap, memory_order_relaxed))
			continue;
		atomic_store_explicit(&s->table, t, memory_order_relaxed);
		/* Published with the snapshot (release): a reader holding the
		 * snapshot sees the table. */
		atomic_store_explicit(&s->snap, snap, memory_order_release);
		atomic_store_explicit(&ev->reg->hint, i, memory_order_relaxed);
		t = NULL;
		break;
	}
	pthread_mutex_unlock(&ev->lock);
	if (t) {
		canary__log(ev->c, CANARY_LOG_WARN,
			"events: %d configs are still in use; records under config version %" PRIu64 " are dropped (counted)",
			CANARY__EV_TABLES, snap->version);
		table_free(ev, t);
	}
}

/* Under ev->lock: the slot of `snap`, or NULL. */
static canary__ev_slot *slot_of(canary__events *ev,
	const canary__snapshot *snap)
{
	unsigned i;

	for (i = 0; i < CANARY__EV_TABLES; i++)
		if (atomic_load_explicit(&ev->reg->slots[i].snap,
		    memory_order_relaxed) == snap)
			return &ev->reg->slots[i];
	return NULL;
}

static void slot_release(canary__events *ev, canary__ev_slot *s)
{
	canary__ev_table *t = atomic_load_explicit(&s->table,
		memory_order_relaxed);

	atomic_store_explicit(&s->snap, NULL, memory_order_relaxed);
	atomic_store_explicit(&s->table, NULL, memory_order_relaxed);
	table_free(ev, t);
}

void canary__events_detach(canary__events *ev, const canary__snapshot *snap)
{
	canary__ev_slot *s;

	pthread_mutex_lock(&ev->lock);
	s = slot_of(ev, snap);
	if (s)
		slot_release(ev, s);
	pthread_mutex_unlock(&ev->lock);
}

static void harvest(canary__events *ev, canary__ev_table *t, bool final);

void canary__events_retire(canary__events *ev, const canary__snapshot *snap)
{
	canary__ev_slot *s;

	pthread_mutex_lock(&ev->lock);
	s = slot_of(ev, snap);
	if (s) {
		/* No reader holds the snapshot any more: these are the last
		 * counts the table will ever get. */
		harvest(ev, atomic_load_explicit(&s->table, memory_order_relaxed),
			true);
		slot_release(ev, s);
	}
	pthread_mutex_unlock(&ev->lock);
}

/* ---- records --------------------------------------------------------------- */

void canary__events_count_dropped(canary__events *ev)
{
	atomic_fetch_add_explicit(&ev->stripes[canary__ev_stripe()].dropped, 1,
		memory_order_relaxed);
}

void canary__events_count_ignored(canary__events *ev)
{
	atomic_fetch_add_explicit(&ev->stripes[canary__ev_stripe()].ignored, 1,
		memory_order_relaxed);
}

int canary__events_error(canary__events *ev, const canary__snapshot *snap,
	uint32_t flag, canary_arm arm)
{
	canary__ev_table *t = canary__ev_find(ev->reg, snap);

	if (!t) {
		canary__events_count_dropped(ev);
		return CANARY_ENOMEM;
	}
	atomic_fetch_add_explicit(&canary__ev_counter_of(t, flag, arm)->errors,
		1, memory_order_relaxed);
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

int canary__events_latency(canary__events *ev, const canary__snapshot *snap,
	uint32_t flag, canary_arm arm, double ms)
{
	canary__ev_table *t = canary__ev_find(ev->reg, snap);
	stripe *s = &ev->stripes[canary__ev_stripe()];
	lat_cell *cell;
	int rc = CANARY_OK, i;

	if (!t) {
		canary__events_count_dropped(ev);
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
		canary__events_count_dropped(ev);
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

int canary__events_metric(canary__events *ev, const canary__snapshot *snap,
	uint32_t flag, canary_arm arm, const char *name, double value)
{
	canary__ev_table *t = canary__ev_find(ev->reg, snap);
	stripe *s = &ev->stripes[canary__ev_stripe()];
	metric_cell *cell;

	if (!t) {
		canary__events_count_dropped(ev);
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
		canary__events_count_dropped(ev);
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

/* ---- harvest: counters and cells into pending windows ---------------------- */

/* A new pending window for (t, flag, arm); NULL when none fits. */
static window *window_new(canary__events *ev, const canary__ev_table *t,
	uint32_t flag, canary_arm arm)
{
	window *w;

	if (ev->nwin == ev->capwin) {
		size_t cap = ev->capwin ? ev->capwin * 2 : 64;
		window *grown;

		if (ev->capwin >= CANARY__EV_MAX_WINDOWS)
			return NULL;
		if (cap > CANARY__EV_MAX_WINDOWS)
			cap = CANARY__EV_MAX_WINDOWS;
		grown = canary__realloc(ev->a, ev->win, cap * sizeof(*grown));
		if (!grown)
			return NULL;
		ev->win = grown;
		ev->capwin = cap;
	}
	w = &ev->win[ev->nwin];
	memset(w, 0, sizeof(*w));
	snprintf(w->flag, sizeof(w->flag), "%s", t->snap->config->flags[flag].key);
	w->arm = arm;
	w->version = t->version;
	ev->nwin++;
	return w;
}

/* The window of (flag, arm) in this harvest: `index` maps flag * 2 + arm
 * to a window number + 1 (NULL when it could not be allocated: then every
 * piece gets a window of its own, which the service adds up the same). */
static window *window_for(canary__events *ev, const canary__ev_table *t,
	size_t *index, uint32_t flag, canary_arm arm)
{
	size_t k = (size_t)flag * 2 + (size_t)arm;
	window *w;

	if (index && index[k])
		return &ev->win[index[k] - 1];
	w = window_new(ev, t, flag, arm);
	if (!w) {
		ev->lost_windows++;
		return NULL;
	}
	if (index)
		index[k] = ev->nwin;
	return w;
}

static void add_count(uint64_t *dst, uint64_t n)
{
	*dst = *dst + n < *dst ? UINT64_MAX : *dst + n;
}

static void harvest_counters(canary__events *ev, canary__ev_table *t,
	size_t *index)
{
	uint32_t f;
	unsigned arm, s;

	for (f = 0; f < t->nflags; f++) {
		for (arm = 0; arm < 2; arm++) {
			uint64_t exp = 0, err = 0;
			bool any = false;
			window *w;

			for (s = 0; s < CANARY__EV_STRIPES && !any; s++) {
				canary__ev_counter *k = &t->counters[s * t->stride +
					f * 2u + arm];

				any = atomic_load_explicit(&k->exposures,
					memory_order_relaxed) ||
					atomic_load_explicit(&k->errors,
					memory_order_relaxed);
			}
			if (!any)
				continue;
			/* The window first: when it cannot be allocated the
			 * counts stay where they are for the next harvest
			 * instead of being taken and lost (window_for() still
			 * reports a lost window: at a snapshot's last harvest
			 * they are lost; at a flush that report is an
			 * overstatement, never an understatement). */
			w = window_for(ev, t, index, f, (canary_arm)arm);
			if (!w)
				continue;
			for (s = 0; s < CANARY__EV_STRIPES; s++) {
				canary__ev_counter *k = &t->counters[s * t->stride +
					f * 2u + arm];

				/* Exchange, not load: a count taken is a count
				 * gone, so nothing is sent twice or lost. */
				if (atomic_load_explicit(&k->exposures, memory_order_relaxed))
					add_count(&exp, atomic_exchange_explicit(
						&k->exposures, 0, memory_order_relaxed));
				if (atomic_load_explicit(&k->errors, memory_order_relaxed))
					add_count(&err, atomic_exchange_explicit(
						&k->errors, 0, memory_order_relaxed));
			}
			add_count(&w->exposures, exp);
			add_count(&w->errors, err);
		}
	}
}

/* Move a cell's samples into `w`. When they do not fit (no window, no
 * histogram) a flush leaves them in the cell for the next try; the last
 * harvest of a table (`final`) drops them, since the cell must not name a
 * freed table. */
static void lat_into(canary__events *ev, window *w, lat_cell *cell,
	bool final)
{
	int i;

	if (w && !w->lat && ev->nhist < CANARY__EV_MAX_HISTS &&
	    (w->lat = canary__hist_new(ev->a)))
		ev->nhist++;
	if (w && w->lat) {
		w->lat->zero += cell->zero;
		w->lat->total += cell->zero;
		for (i = cell->lo; i <= cell->hi; i++)
			if (cell->bins[i - CANARY__HIST_MIN_INDEX])
				canary__hist_add_bin(w->lat, i,
					cell->bins[i - CANARY__HIST_MIN_INDEX]);
	} else if (!final) {
		return;
	} else if (w) {
		ev->lost_windows++;
	}
	for (i = cell->lo; i <= cell->hi; i++)
		cell->bins[i - CANARY__HIST_MIN_INDEX] = 0;
	cell->zero = 0;
	cell->t = NULL;
}

/* As lat_into(). */
static void metric_into(canary__events *ev, window *w, metric_cell *cell,
	bool final)
{
	size_t i;

	if (!w) {
		if (final)
			cell->t = NULL;
		return;
	}
	for (i = 0; i < w->nmetrics; i++) {
		if (strcmp(w->metrics[i].name, cell->name) == 0) {
			add_count(&w->metrics[i].count, cell->count);
			w->metrics[i].sum += cell->sum;
			cell->t = NULL;
			return;
		}
	}
	if (w->nmetrics == w->capmetrics) {
		size_t cap = w->capmetrics ? w->capmetrics * 2 : 4;
		metric *grown;

		if (w->capmetrics >= 64 ||
		    !(grown = canary__realloc(ev->a, w->metrics, cap * sizeof(*grown)))) {
			if (final) {
				ev->lost_windows++;
				cell->t = NULL;
			}
			return;
		}
		w->metrics = grown;
		w->capmetrics = cap;
	}
	cell->t = NULL;
	memcpy(w->metrics[w->nmetrics].name, cell->name, sizeof(cell->name));
	w->metrics[w->nmetrics].count = cell->count;
	w->metrics[w->nmetrics].sum = cell->sum;
	w->nmetrics++;
}

static void harvest_cells(canary__events *ev, canary__ev_table *t,
	size_t *index, bool final)
{
	size_t s, i;

	for (s = 0; s < CANARY__EV_STRIPES; s++) {
		stripe *st = &ev->stripes[s];

		pthread_mutex_lock(&st->lock);
		for (i = 0; i < CANARY__EV_LAT_CELLS; i++)
			if (st->lat[i].t == t)
				lat_into(ev, window_for(ev, t, index,
					st->lat[i].flag, st->lat[i].arm), &st->lat[i],
					final);
		for (i = 0; i < CANARY__EV_METRIC_CELLS; i++)
			if (st->met[i].t == t)
				metric_into(ev, window_for(ev, t, index,
					st->met[i].flag, st->met[i].arm), &st->met[i],
					final);
		pthread_mutex_unlock(&st->lock);
	}
}

/* Under ev->lock. `final`: the table's last harvest (it is freed next). */
static void harvest(canary__events *ev, canary__ev_table *t, bool final)
{
	size_t *index;

	if (!t)
		return;
	index = canary__calloc(ev->a, (size_t)t->nflags * 2 + 1, sizeof(*index));
	harvest_counters(ev, t, index);
	harvest_cells(ev, t, index, final);
	canary__free(ev->a, index);
}

static uint64_t dropped_records_total(canary__events *ev)
{
	uint64_t n = 0;
	size_t i;

	for (i = 0; i < CANARY__EV_STRIPES; i++)
		n += atomic_load_explicit(&ev->stripes[i].dropped,
			memory_order_relaxed);
	return n;
}

static bool outbox_full(canary__events *ev)
{
	uint64_t rows, bytes;

	canary__outbox_usage(ev->outbox, &rows, &bytes);
	return rows >= ev->c->opts.outbox_max_batches;
}

/* Under ev->lock: write the batches, then forget what they carry. */
static int store_batches(canary__events *ev, int64_t now, int64_t *last_seq)
{
	canary__outbox_evicted evicted = { 0, 0, 0 };
	uint64_t records = dropped_records_total(ev);
	uint64_t dwin = ev->report_windows + ev->lost_windows +
		(records - ev->reported_records);
	canary__outbox_item *items = NULL;
	canary__ev_batch_meta meta;
	canary__ev_batch *b = NULL;
	size_t nb = 0, i;
	int rc;

	ev->report_batches += atomic_exchange(&ev->refused_unreported, 0);
	if (!ev->nwin && !ev->report_batches && !dwin)
		return CANARY_OK;
	if (!ev->nwin && outbox_full(ev))
		return CANARY_OK; /* a report alone must not push data out */
	meta.instance_id = ev->instance_id;
	meta.start_ms = ev->window_start_ms;
	meta.now_ms = now;
	meta.dropped_batches = ev->report_batches;
	meta.dropped_windows = dwin;
	meta.rng = &ev->rng;
	rc = canary__ev_batches_build(ev->a, &meta, ev->win, ev->nwin, &b, &nb);
	if (rc == CANARY_OK && !(items = canary__calloc(ev->a, nb, sizeof(*items))))
		rc = CANARY_ENOMEM;
	for (i = 0; rc == CANARY_OK && i < nb; i++) {
		items[i].batch_id = b[i].id;
		items[i].body = b[i].body;
		items[i].len = b[i].len;
		items[i].dropped_batches = b[i].dropped_batches;
		items[i].dropped_windows = b[i].dropped_windows;
	}
	if (rc == CANARY_OK)
		rc = canary__outbox_put(ev->outbox, items, nb, &evicted, last_seq);
	canary__free(ev->a, items);
	canary__ev_batches_free(ev->a, b, nb);
	if (rc != CANARY_OK)
		return rc == CANARY_ENOMEM ?
			canary__error_set(rc, "out of memory") : rc;
	/* Stored: what they carry is the outbox's now. */
	for (i = 0; i < ev->nwin; i++)
		window_clear(ev, &ev->win[i]);
	ev->nwin = 0;
	ev->nhist = 0;
	ev->lost_windows = 0;
	ev->reported_records = records;
	ev->report_batches = evicted.batches + evicted.carried_batches;
	ev->report_windows = evicted.carried_windows;
	ev->window_start_ms = now;
	atomic_fetch_add(&ev->batches_written, nb);
	atomic_fetch_add(&ev->batches_dropped, evicted.batches);
	if (evicted.batches)
		canary__log(ev->c, CANARY_LOG_WARN,
			"event outbox full: dropped the %" PRIu64 " oldest batches (reported in the next batch)",
			evicted.batches);
	return CANARY_OK;
}

int canary__events_flush(canary__events *ev, int64_t *last_seq)
{
	int64_t seq = 0;
	size_t i;
	int rc;

	if (!ev->outbox)
		return canary__error_set(CANARY_ESTATE, "no event outbox");
	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++)
		harvest(ev, atomic_load_explicit(&ev->reg->slots[i].table,
			memory_order_relaxed), false);
	rc = store_batches(ev, canary__wall_ms(), &seq);
	if (seq)
		ev->newest_seq = seq;
	if (last_seq)
		*last_seq = ev->newest_seq;
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

/* ---- delivery ---------------------------------------------------------------- */

int canary__events_oldest(canary__events *ev, int64_t *seq, char **body,
	size_t *len)
{
	return canary__outbox_oldest(ev->outbox, seq, body, len);
}

void canary__events_done(canary__events *ev, int64_t seq, bool delivered)
{
	bool evicted;

	/* Under wait_lock: a canary_flush() waiter that sees the outbox empty
	 * must also see this batch counted, and its drop queued for the next
	 * batch's report (an atomic folded in by store_batches(): ev->lock
	 * cannot be taken here, the fork handlers take it before wait_lock). */
	pthread_mutex_lock(&ev->wait_lock);
	evicted = canary__outbox_remove(ev->outbox, seq) == CANARY_ESTATE;
	if (delivered) {
		atomic_fetch_add(&ev->batches_sent, 1);
	} else if (!evicted) {
		/* An evicted batch was counted and reported as dropped then. */
		atomic_fetch_add(&ev->batches_dropped, 1);
		atomic_fetch_add(&ev->refused_unreported, 1);
	}
	if (seq > ev->done_seq)
		ev->done_seq = seq;
	pthread_cond_broadcast(&ev->wait_cond);
	pthread_mutex_unlock(&ev->wait_lock);
}

static bool waited_enough(canary__events *ev, int64_t seq)
{
	uint64_t rows, bytes;

	if (ev->done_seq >= seq || !ev->outbox)
		return true;
	canary__outbox_usage(ev->outbox, &rows, &bytes);
	return rows == 0;
}

bool canary__events_wait(canary__events *ev, int64_t seq, uint32_t timeout_ms)
{
	struct timespec ts = canary__deadline(timeout_ms);
	bool ok;

	pthread_mutex_lock(&ev->wait_lock);
	while (!(ok = waited_enough(ev, seq)) &&
	       pthread_cond_timedwait(&ev->wait_cond, &ev->wait_lock, &ts) == 0)
		;
	pthread_mutex_unlock(&ev->wait_lock);
	return ok;
}

bool canary__events_pending(canary__events *ev)
{
	uint64_t rows = 0, bytes;

	if (ev->outbox)
		canary__outbox_usage(ev->outbox, &rows, &bytes);
	return rows > 0;
}

void canary__events_stats(canary__events *ev, canary_event_stats *out)
{
	size_t i;

	memset(out, 0, sizeof(*out));
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		out->ignored += atomic_load_explicit(&ev->stripes[i].ignored,
			memory_order_relaxed);
	out->dropped_records = dropped_records_total(ev);
	out->dropped_batches = atomic_load(&ev->batches_dropped);
	out->batches_written = atomic_load(&ev->batches_written);
	out->batches_sent = atomic_load(&ev->batches_sent);
	if (ev->outbox)
		canary__outbox_usage(ev->outbox, &out->outbox_batches,
		&out->outbox_bytes);
}

/* ---- fork ---------------------------------------------------------------- */

void canary__events_prefork(canary__events *ev)
{
	size_t i;

	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < CANARY__EV_STRIPES; i++)
		pthread_mutex_lock(&ev->stripes[i].lock);
	pthread_mutex_lock(&ev->wait_lock);
}

void canary__events_postfork_unlock(canary__events *ev)
{
	size_t i;

	pthread_mutex_unlock(&ev->wait_lock);
	for (i = CANARY__EV_STRIPES; i-- > 0;)
		pthread_mutex_unlock(&ev->stripes[i].lock);
	pthread_mutex_unlock(&ev->lock);
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
}

int canary__events_postfork_child(canary__events *ev)
{
	/* The child is another instance: its own id and connection. What
	 * the parent had counted stays the parent's to send; the child's
	 * copy of the pending windows is forgotten. */
	size_t i;

	set_instance_id(ev);
	pthread_mutex_lock(&ev->lock);
	for (i = 0; i < CANARY__EV_TABLES; i++)
		forget_counts(atomic_load_explicit(&ev->reg->slots[i].table,
			memory_order_relaxed));
	for (i = 0; i < CANARY__EV_STRIPES; i++) {
		size_t k;

		for (k = 0; k < CANARY__EV_LAT_CELLS; k++)
			lat_into(ev, NULL, &ev->stripes[i].lat[k], true);
		for (k = 0; k < CANARY__EV_METRIC_CELLS; k++)
			ev->stripes[i].met[k].t = NULL;
	}
	for (i = 0; i < ev->nwin; i++)
		window_clear(ev, &ev->win[i]);
	ev->nwin = 0;
	ev->nhist = 0;
	/* Drops not yet reported are the parent's to report, like its counts. */
	ev->lost_windows = 0;
	ev->report_batches = 0;
	atomic_store(&ev->refused_unreported, 0);
	ev->report_windows = 0;
	ev->reported_records = dropped_records_total(ev);
	pthread_mutex_unlock(&ev->lock);
	ev->done_seq = 0;
	return ev->outbox ? canary__outbox_postfork(ev->outbox) : CANARY_OK;
}
