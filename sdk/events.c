/*
 * events.c - counts into batches in the outbox (see events.h and
 * docs/events.md).
 *
 * Locks: `lock` guards the pending windows, the drop reports and every
 * harvest; `wait_lock` what canary_flush() waits on.
 * Order: client config lock -> lock -> counters' locks -> outbox lock.
 */
#define _GNU_SOURCE /* gethostname */
#include "events.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <sys/random.h>

#include "canary/version.h"
#include "clock.h"
#include "error.h"
#include "event_batch.h"
#include "histogram.h"
#include "outbox.h"
#include "random.h"
#include "saturate.h"
#include "snapshot.h"

typedef canary__ev_metric metric;
typedef canary__ev_window window;

/* A pending window's user-level evidence before its wire form: the
 * registers of its two sketches and the map's figures, as taken. */
typedef struct users_taken {
	uint8_t units[CANARY__UE_REGS];
	uint8_t error_units[CANARY__UE_REGS];
	canary__ue_figures f;
} users_taken;

/* What a pending window is built from besides its wire form: the dense
 * histogram it counts latencies into (sparse in the window at a flush),
 * and its user-level evidence (sketches encoded at a flush). */
typedef struct pending {
	canary__hist *lat;
	size_t capmetrics;
	users_taken *users;
	bool users_lost;     /* a take found no memory: sent without */
} pending;

struct canary__events {
	canary__counters *counters;
	const canary__alloc *a;
	const canary__logger *log;
	uint32_t max_batches;
	uint64_t max_bytes;
	pthread_mutex_t lock;
	window *win;                 /* pending windows */
	pending *pend;               /* pend[i] goes with win[i] */
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
	char instance_id[CANARY__EV_MAX_INSTANCE_ID + 1];
	canary__outbox *outbox;
	canary__ev_encode_fn encode; /* NULL: the libcanary batch */
	void *encode_ctx;
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

int canary__events_new(canary__events **out, const canary__alloc *a,
	const canary__logger *log, canary__counters *counters,
	uint32_t outbox_max_batches, uint64_t outbox_max_bytes)
{
	canary__events *ev;

	*out = NULL;
	ev = canary__new(a, canary__events);
	if (!ev)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	ev->a = a;
	ev->log = log;
	ev->counters = counters;
	ev->max_batches = outbox_max_batches;
	ev->max_bytes = outbox_max_bytes;
	pthread_mutex_init(&ev->lock, NULL);
	pthread_mutex_init(&ev->wait_lock, NULL);
	canary__cond_init(&ev->wait_cond);
	atomic_init(&ev->refused_unreported, 0);
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
	int rc;

	rc = canary__outbox_open(&ev->outbox, ev->a, path, ev->max_batches,
		ev->max_bytes, note, notelen);
	if (rc == CANARY_ESTORAGE && path) {
		/* The file is the cache's too, which works: keep events in
		 * memory rather than losing them all. */
		char again[256];

		rc = canary__outbox_open(&ev->outbox, ev->a, NULL,
			ev->max_batches, ev->max_bytes, again, sizeof(again));
	}
	if (rc == CANARY_OK)
		ev->newest_seq = canary__outbox_newest(ev->outbox);
	return rc;
}

static void windows_clear(canary__events *ev)
{
	size_t i;

	for (i = 0; i < ev->nwin; i++) {
		canary__hist_free(ev->a, ev->pend[i].lat);
		canary__free(ev->a, ev->pend[i].users);
		canary__free(ev->a, ev->win[i].metrics);
		canary__free(ev->a, ev->win[i].bins);
		canary__free(ev->a, ev->win[i].users.units.bytes);
		canary__free(ev->a, ev->win[i].users.error_units.bytes);
	}
	ev->nwin = 0;
	ev->nhist = 0;
}

void canary__events_free(canary__events *ev)
{
	if (!ev)
		return;
	windows_clear(ev);
	canary__free(ev->a, ev->win);
	canary__free(ev->a, ev->pend);
	canary__outbox_close(ev->outbox);
	pthread_mutex_destroy(&ev->lock);
	pthread_mutex_destroy(&ev->wait_lock);
	pthread_cond_destroy(&ev->wait_cond);
	canary__delete(ev->a, ev, canary__events);
}

/* ---- harvest: counters and cells into pending windows ---------------------- */

/* Room for `cap` pending windows; false on ENOMEM (nothing changed). */
static bool windows_grow(canary__events *ev, size_t cap)
{
	window *win;
	pending *pend;

	win = canary__realloc(ev->a, ev->win, cap * sizeof(*win));
	if (!win)
		return false;
	ev->win = win;
	pend = canary__realloc(ev->a, ev->pend, cap * sizeof(*pend));
	if (!pend)
		return false;
	ev->pend = pend;
	ev->capwin = cap;
	return true;
}

/* A new pending window for (t, flag, arm); NULL when none fits. */
static window *window_new(canary__events *ev, const canary__ev_table *t,
	uint32_t flag, canary_arm arm)
{
	window *w;

	if (ev->nwin == ev->capwin) {
		size_t cap = ev->capwin ? ev->capwin * 2 : 64;

		if (ev->capwin >= CANARY__EV_MAX_WINDOWS)
			return NULL;
		if (cap > CANARY__EV_MAX_WINDOWS)
			cap = CANARY__EV_MAX_WINDOWS;
		if (!windows_grow(ev, cap))
			return NULL;
	}
	w = &ev->win[ev->nwin];
	memset(w, 0, sizeof(*w));
	memset(&ev->pend[ev->nwin], 0, sizeof(ev->pend[ev->nwin]));
	snprintf(w->flag, sizeof(w->flag), "%s", t->snap->config->flags[flag].key);
	w->arm = arm;
	w->config_version = t->version;
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

/* One table's harvest. */
typedef struct harvest {
	canary__events *ev;
	const canary__ev_table *t;
	size_t *index;
	bool final;
} harvest;

/* The user-level evidence of (flag, arm) into its window `w`; its errors
 * are the window's too. Without memory for the sketches the errors still
 * count and the window goes without them. */
static void take_users(harvest *h, window *w, canary__ue_arm *u)
{
	pending *p = &h->ev->pend[w - h->ev->win];
	canary__ue_figures got = { 0, 0, 0, 0, 0 };
	uint8_t *scratch = NULL;

	if (!p->users && !p->users_lost &&
	    !(p->users = canary__calloc(h->ev->a, 1, sizeof(*p->users))))
		p->users_lost = true;
	if (p->users_lost) {
		/* Taken all the same (a window cannot keep what it takes
		 * without its sketches), into registers thrown away. */
		scratch = canary__calloc(h->ev->a, 2, CANARY__UE_REGS);
		if (!scratch)
			return; /* left for the next take; errors not lost */
		canary__ue_take(u, scratch, scratch + CANARY__UE_REGS, &got);
		canary__free(h->ev->a, scratch);
	} else {
		canary__ue_take(u, p->users->units, p->users->error_units, &got);
		p->users->f.errors = canary__sat_add(p->users->f.errors,
			got.errors);
		p->users->f.used = canary__sat_add(p->users->f.used, got.used);
		p->users->f.sum_sq = canary__sat_add(p->users->f.sum_sq,
			got.sum_sq);
		p->users->f.unmapped = canary__sat_add(p->users->f.unmapped,
			got.unmapped);
		if (got.max > p->users->f.max)
			p->users->f.max = got.max;
	}
	w->errors = canary__sat_add(w->errors, got.errors);
}

static void harvest_counts(harvest *h, canary__ev_table *t)
{
	uint32_t f;
	unsigned slot;

	for (f = 0; f < t->nflags; f++) {
		for (slot = 0; slot < CANARY__EV_SLOTS; slot++) {
			bool apart = slot == CANARY__EV_INELIGIBLE;
			canary__ue_arm *u = apart ? NULL :
				canary__ev_users_of(t, f, (canary_arm)slot);
			uint64_t exp, err;
			window *w;

			if (!canary__ev_table_any(t, f, slot) &&
			    !(u && canary__ue_any(u)))
				continue;
			/* The window first: when it cannot be allocated the
			 * counts stay where they are for the next harvest
			 * instead of being taken and lost (window_for() still
			 * reports a lost window: at a snapshot's last harvest
			 * they are lost; at a flush that report is an
			 * overstatement, never an understatement). Units the
			 * targeting excludes go in the stable window, apart. */
			w = window_for(h->ev, t, h->index, f, apart ?
				CANARY_ARM_STABLE : (canary_arm)slot);
			if (!w)
				continue;
			canary__ev_table_take(t, f, slot, &exp, &err);
			if (apart) {
				w->ineligible = canary__sat_add(w->ineligible, exp);
				w->ineligible_errors =
					canary__sat_add(w->ineligible_errors, err);
			} else {
				w->exposures = canary__sat_add(w->exposures, exp);
				w->errors = canary__sat_add(w->errors, err);
			}
			if (u)
				take_users(h, w, u);
		}
	}
}

/* A latency cell's samples into its window. When they do not fit (no
 * window, no histogram) a flush leaves them in the cell for the next try;
 * the last harvest of a table drops them (counted), since the cell must
 * not name a freed table. */
static bool take_latency(void *ctx, uint32_t flag, canary_arm arm,
	const canary__lat_sample *s)
{
	harvest *h = ctx;
	canary__events *ev = h->ev;
	window *w = window_for(ev, h->t, h->index, flag, arm);
	canary__hist *lat = w ? ev->pend[w - ev->win].lat : NULL;
	int i;

	if (w && !lat && ev->nhist < CANARY__EV_MAX_HISTS &&
	    (lat = canary__hist_new(ev->a))) {
		ev->pend[w - ev->win].lat = lat;
		ev->nhist++;
	}
	if (!lat) {
		if (w && h->final)
			ev->lost_windows++;
		return false;
	}
	lat->zero = canary__sat_add(lat->zero, s->zero);
	lat->total = canary__sat_add(lat->total, s->zero);
	for (i = s->lo; i <= s->hi; i++)
		if (s->bins[i - CANARY__HIST_MIN_INDEX])
			canary__hist_add_bin(lat, i,
				s->bins[i - CANARY__HIST_MIN_INDEX]);
	return true;
}

/* As take_latency(). */
static bool take_metric(void *ctx, uint32_t flag, canary_arm arm,
	const char *name, uint64_t count, double sum)
{
	harvest *h = ctx;
	canary__events *ev = h->ev;
	window *w = window_for(ev, h->t, h->index, flag, arm);
	pending *p;
	size_t i;

	if (!w)
		return false;
	for (i = 0; i < w->nmetrics; i++) {
		if (strcmp(w->metrics[i].name, name) == 0) {
			w->metrics[i].count = canary__sat_add(w->metrics[i].count,
				count);
			w->metrics[i].sum += sum;
			return true;
		}
	}
	p = &ev->pend[w - ev->win];
	if (w->nmetrics == p->capmetrics) {
		size_t cap = p->capmetrics ? p->capmetrics * 2 : 4;
		metric *grown;

		if (p->capmetrics >= CANARY__EV_MAX_METRICS ||
		    !(grown = canary__realloc(ev->a, w->metrics, cap * sizeof(*grown)))) {
			if (h->final)
				ev->lost_windows++;
			return false;
		}
		w->metrics = grown;
		p->capmetrics = cap;
	}
	snprintf(w->metrics[w->nmetrics].name,
		sizeof(w->metrics[w->nmetrics].name), "%s", name);
	w->metrics[w->nmetrics].count = count;
	w->metrics[w->nmetrics].sum = sum;
	w->nmetrics++;
	return true;
}

/* Under ev->lock (and the counters' lock). `final`: the table's last
 * harvest (it is freed next). */
static void harvest_table(canary__ev_table *t, bool final, void *ctx)
{
	canary__events *ev = ctx;
	canary__cell_sink sink;
	harvest h;

	h.ev = ev;
	h.t = t;
	h.final = final;
	h.index = canary__calloc(ev->a, (size_t)t->nflags * 2 + 1,
		sizeof(*h.index));
	harvest_counts(&h, t);
	sink.latency = take_latency;
	sink.metric = take_metric;
	sink.ctx = &h;
	canary__counters_take_cells(ev->counters, t, final, &sink);
	canary__free(ev->a, h.index);
}

void canary__events_retire(canary__events *ev, const canary__snapshot *snap)
{
	pthread_mutex_lock(&ev->lock);
	canary__counters_retire(ev->counters, snap, harvest_table, ev);
	pthread_mutex_unlock(&ev->lock);
}

static bool outbox_full(canary__events *ev)
{
	uint64_t rows, bytes;

	canary__outbox_usage(ev->outbox, &rows, &bytes);
	return rows >= ev->max_batches;
}

/* A batch id unique across processes and restarts: the kernel's
 * randomness, with a generator seeded by time, pid and address as a
 * fallback. */
static void new_batch_id(void *ctx, char id[CANARY__EV_ID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	canary__events *ev = ctx;
	unsigned char r[CANARY__EV_ID_LEN / 2];
	size_t i;

	if (getrandom(r, sizeof(r), GRND_NONBLOCK) != (ssize_t)sizeof(r)) {
		uint64_t a = canary__random_next(&ev->rng);
		uint64_t b = canary__random_next(&ev->rng);

		memcpy(r, &a, 8);
		memcpy(r + 8, &b, 8);
	}
	for (i = 0; i < sizeof(r); i++) {
		id[2 * i] = hex[r[i] >> 4];
		id[2 * i + 1] = hex[r[i] & 15];
	}
	id[CANARY__EV_ID_LEN] = '\0';
}

/* One sketch's wire form into s (memory from `a`). */
static int seal_sketch(const canary__alloc *a, uint8_t *regs,
	canary__ev_sketch *s)
{
	canary__hll h = { CANARY__HLL_P, regs };

	s->bytes = canary__malloc(a, CANARY__EV_MAX_SKETCH);
	if (!s->bytes)
		return CANARY_ENOMEM;
	s->len = canary__hll_encode(&h, s->bytes, CANARY__EV_MAX_SKETCH);
	return CANARY_OK;
}

/* The user-level fields of a window, when it has them and they hold what
 * the server's check (cj_window_check) expects of them: the sketches can
 * be of so many units. A window whose counts were taken a moment apart
 * from its sketches at a thread's edge could fail that at a handful of
 * requests; it goes as a v1 window rather than be refused. */
static int seal_users(canary__events *ev, window *w, const pending *p)
{
	canary__hll u = { CANARY__HLL_P, p->users ? p->users->units : NULL };
	canary__hll e = { CANARY__HLL_P, p->users ? p->users->error_units :
		NULL };
	int rc;

	canary__free(ev->a, w->users.units.bytes);
	canary__free(ev->a, w->users.error_units.bytes);
	memset(&w->users, 0, sizeof(w->users));
	w->has_users = false;
	if (!p->users || p->users_lost ||
	    !canary__hll_plausible(canary__hll_estimate(&u), CANARY__HLL_P,
		(double)w->exposures + (double)w->errors) ||
	    !canary__hll_plausible(canary__hll_estimate(&e), CANARY__HLL_P,
		(double)w->errors))
		return CANARY_OK;
	rc = seal_sketch(ev->a, p->users->units, &w->users.units);
	if (rc == CANARY_OK)
		rc = seal_sketch(ev->a, p->users->error_units,
			&w->users.error_units);
	if (rc != CANARY_OK)
		return rc;
	w->users.error_units_mapped = p->users->f.used;
	w->users.error_sq = p->users->f.sum_sq;
	w->users.error_max = p->users->f.max;
	w->users.errors_unmapped = p->users->f.unmapped;
	w->has_users = true;
	return CANARY_OK;
}

/* The pending windows' wire form at a flush: their span, each histogram
 * in its sparse form, each sketch encoded. */
static int windows_seal(canary__events *ev, int64_t now)
{
	size_t i;

	for (i = 0; i < ev->nwin; i++) {
		window *w = &ev->win[i];

		w->start_ms = (uint64_t)ev->window_start_ms;
		w->end_ms = (uint64_t)now;
		canary__free(ev->a, w->bins);
		w->bins = NULL;
		w->nbins = 0;
		w->latency_zero = ev->pend[i].lat ? ev->pend[i].lat->zero : 0;
		if (ev->pend[i].lat && canary__hist_to_bins(ev->a,
		    ev->pend[i].lat, &w->bins, &w->nbins) != CANARY_OK)
			return CANARY_ENOMEM;
		if (seal_users(ev, w, &ev->pend[i]) != CANARY_OK)
			return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

/* Under ev->lock: write the batches, then forget what they carry. */
static int store_batches(canary__events *ev, int64_t now, int64_t *last_seq)
{
	canary__outbox_evicted evicted = { 0, 0, 0 };
	uint64_t records = canary__counters_dropped(ev->counters);
	uint64_t dwin = ev->report_windows + ev->lost_windows +
		(records - ev->reported_records);
	canary__outbox_item *items = NULL;
	canary__ev_batch head;
	canary__ev_body *b = NULL;
	size_t nb = 0, i;
	int rc;

	ev->report_batches += atomic_exchange(&ev->refused_unreported, 0);
	if (!ev->nwin && !ev->report_batches && !dwin)
		return CANARY_OK;
	if (!ev->nwin && outbox_full(ev))
		return CANARY_OK; /* a report alone must not push data out */
	memset(&head, 0, sizeof(head));
	snprintf(head.instance_id, sizeof(head.instance_id), "%s",
		ev->instance_id);
	snprintf(head.sdk_version, sizeof(head.sdk_version), "%s",
		CANARY_VERSION_STRING);
	head.sent_at_ms = (uint64_t)now;
	head.dropped_batches = ev->report_batches;
	head.dropped_windows = dwin;
	rc = windows_seal(ev, now);
	if (rc == CANARY_OK && ev->encode)
		rc = ev->encode(ev->encode_ctx, &head, ev->win, ev->nwin,
			CANARY__EV_SOFT_BODY, new_batch_id, ev, &b, &nb);
	else if (rc == CANARY_OK)
		rc = canary__ev_batches_build(ev->a, &head, ev->win, ev->nwin,
			CANARY__EV_SOFT_BODY, new_batch_id, ev, &b, &nb);
	/* An encoder may make no body at all. */
	if (rc == CANARY_OK && nb &&
	    !(items = canary__calloc(ev->a, nb, sizeof(*items))))
		rc = CANARY_ENOMEM;
	for (i = 0; rc == CANARY_OK && i < nb; i++) {
		items[i].batch_id = b[i].id;
		items[i].body = b[i].body;
		items[i].len = b[i].len;
		items[i].dropped_batches = b[i].dropped_batches;
		items[i].dropped_windows = b[i].dropped_windows;
	}
	if (rc == CANARY_OK && nb)
		rc = canary__outbox_put(ev->outbox, items, nb, &evicted, last_seq);
	canary__free(ev->a, items);
	canary__ev_bodies_free(ev->a, b, nb);
	if (rc != CANARY_OK)
		return rc == CANARY_ENOMEM ?
			canary__error_set(rc, "out of memory") : rc;
	/* Stored: what they carry is the outbox's now. */
	windows_clear(ev);
	ev->lost_windows = 0;
	ev->reported_records = records;
	ev->report_batches = evicted.batches + evicted.carried_batches;
	ev->report_windows = evicted.carried_windows;
	ev->window_start_ms = now;
	atomic_fetch_add(&ev->batches_written, nb);
	atomic_fetch_add(&ev->batches_dropped, evicted.batches);
	if (evicted.batches)
		canary__log(ev->log, CANARY_LOG_WARN,
			"event outbox full: dropped the %" PRIu64 " oldest batches (reported in the next batch)",
			evicted.batches);
	return CANARY_OK;
}

void canary__events_set_encoder(canary__events *ev, canary__ev_encode_fn fn,
	void *ctx)
{
	ev->encode = fn;
	ev->encode_ctx = ctx;
}

const char *canary__events_instance_id(const canary__events *ev)
{
	return ev->instance_id;
}

int canary__events_put_body(canary__events *ev, const char *body, size_t len)
{
	canary__outbox_evicted evicted = { 0, 0, 0 };
	canary__outbox_item item;
	char id[CANARY__EV_ID_LEN + 1];
	int64_t seq = 0;
	int rc;

	if (!ev->outbox)
		return CANARY_ESTATE;
	memset(&item, 0, sizeof(item));
	item.batch_id = id;
	item.body = body;
	item.len = len;
	pthread_mutex_lock(&ev->lock);
	new_batch_id(ev, id);
	rc = canary__outbox_put(ev->outbox, &item, 1, &evicted, &seq);
	if (rc == CANARY_OK) {
		ev->report_batches += evicted.batches + evicted.carried_batches;
		ev->report_windows += evicted.carried_windows;
		atomic_fetch_add(&ev->batches_written, 1);
	}
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

int canary__events_flush(canary__events *ev, int64_t *last_seq)
{
	int64_t seq = 0;
	int rc;

	if (!ev->outbox)
		return canary__error_set(CANARY_ESTATE, "no event outbox");
	pthread_mutex_lock(&ev->lock);
	canary__counters_harvest_all(ev->counters, harvest_table, ev);
	rc = store_batches(ev, canary__wall_ms(), &seq);
	if (seq)
		ev->newest_seq = seq;
	if (last_seq)
		*last_seq = ev->newest_seq;
	pthread_mutex_unlock(&ev->lock);
	return rc;
}

/* ---- the outbox's side of delivery ------------------------------------------ */

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
	out->ignored = canary__counters_ignored(ev->counters);
	out->dropped_records = canary__counters_dropped(ev->counters);
	out->dropped_batches = atomic_load(&ev->batches_dropped);
	out->batches_written = atomic_load(&ev->batches_written);
	out->batches_sent = atomic_load(&ev->batches_sent);
	out->outbox_batches = out->outbox_bytes = 0;
	if (ev->outbox)
		canary__outbox_usage(ev->outbox, &out->outbox_batches,
		&out->outbox_bytes);
}

/* ---- fork ---------------------------------------------------------------- */

void canary__events_prefork(canary__events *ev)
{
	pthread_mutex_lock(&ev->lock);
	canary__counters_prefork(ev->counters);
	pthread_mutex_lock(&ev->wait_lock);
}

void canary__events_postfork_unlock(canary__events *ev)
{
	pthread_mutex_unlock(&ev->wait_lock);
	canary__counters_postfork_unlock(ev->counters);
	pthread_mutex_unlock(&ev->lock);
}

int canary__events_postfork_child(canary__events *ev)
{
	/* The child is another instance: its own id and connection. What
	 * the parent had counted stays the parent's to send; the child's
	 * copy of the pending windows is forgotten. */
	set_instance_id(ev);
	pthread_mutex_lock(&ev->lock);
	canary__counters_postfork_child(ev->counters);
	windows_clear(ev);
	/* Drops not yet reported are the parent's to report, like its counts. */
	ev->lost_windows = 0;
	ev->report_batches = 0;
	atomic_store(&ev->refused_unreported, 0);
	ev->report_windows = 0;
	ev->reported_records = canary__counters_dropped(ev->counters);
	pthread_mutex_unlock(&ev->lock);
	ev->done_seq = 0;
	return ev->outbox ? canary__outbox_postfork(ev->outbox) : CANARY_OK;
}
