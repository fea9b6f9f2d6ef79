/*
 * store_sqlite_ingest.c - event batches in SQLite: the batch id claimed
 * and the windows counted in one transaction (`batches`, `windows` with
 * their latency BLOBs, `metrics`, `totals`), sums per arm, the series
 * of windows, lifetime totals, and forgetting old batch ids.
 */
#include "store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "saturate.h"
#include "store/hist_blob.h"
#include "store/sketch_blob.h"

/* Bind the (flag, arm, config_version, window) key shared by the upserts. */
static void bind_key(sqlite3_stmt *st, const canary__ev_window *w, uint64_t window)
{
	sqlite3_bind_text(st, 1, w->flag, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)w->arm);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)w->config_version);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)window);
}

static int upsert_window(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window, uint64_t sketched_exposures, uint64_t sketched_errors)
{
	sqlite3_stmt *st = c->st[S_WIN_UPSERT];
	unsigned char *blob = NULL;
	size_t blen = 0;
	int rc = cs_hist_blob_encode(w->bins, w->nbins, &blob, &blen);

	if (rc != CANARY_OK)
		return rc;
	bind_key(st, w, window);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)w->exposures);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)w->errors);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)w->latency_zero);
	if (blob)
		sqlite3_bind_blob64(st, 8, blob, blen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	cs_sqlite_bind_users(st, 9, w);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)sketched_exposures);
	sqlite3_bind_int64(st, 12, (sqlite3_int64)sketched_errors);
	rc = cs_sqlite_done(st);
	free(blob);
	return rc;
}

static int upsert_metrics(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window)
{
	sqlite3_stmt *st = c->st[S_METRIC_UPSERT];
	size_t i;
	int rc = CANARY_OK;

	for (i = 0; rc == CANARY_OK && i < w->nmetrics; i++) {
		bind_key(st, w, window);
		sqlite3_bind_text(st, 5, w->metrics[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)w->metrics[i].count);
		sqlite3_bind_double(st, 7, w->metrics[i].sum);
		rc = cs_sqlite_done(st);
	}
	return rc;
}

static int upsert_total(cs_sqlite_conn *c, const char *flag, canary_arm arm,
	uint64_t exposures, uint64_t errors, uint64_t latency)
{
	sqlite3_stmt *st = c->st[S_TOTAL_UPSERT];

	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)arm);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)exposures);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)errors);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)latency);
	return cs_sqlite_done(st);
}

int cs_sqlite_count_window_as(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window, uint64_t sketched_exposures, uint64_t sketched_errors)
{
	int rc = upsert_window(c, w, window, sketched_exposures,
		sketched_errors);

	if (rc == CANARY_OK)
		rc = upsert_metrics(c, w, window);
	return rc;
}

int cs_sqlite_count_window(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window)
{
	return cs_sqlite_count_window_as(c, w, window,
		w->has_users ? w->exposures : 0, w->has_users ? w->errors : 0);
}

static int ingest_window(cs_sqlite_conn *c, const char *instance,
	const canary__ev_window *w, uint64_t window, bool live)
{
	int rc = cs_sqlite_count_window(c, w, window);

	if (rc == CANARY_OK)
		rc = cs_sqlite_contribute(c, instance, w, window,
			w->has_users ? w->exposures : 0,
			w->has_users ? w->errors : 0, live);
	return rc;
}

/* The windows of one flag, from order[from] on (whether its rollout is
 * live asked once), with one totals upsert per arm; where the next flag
 * starts in *next. */
static int ingest_flag(cs_sqlite_conn *c, const char *instance,
	const canary__ev_window *const *order, size_t n, size_t from,
	uint64_t window, size_t *next)
{
	const char *flag = order[from]->flag;
	uint64_t exposures, errors, latency;
	bool live = false;
	size_t k = from, end;
	int rc = cs_sqlite_rollout_live(c, flag, &live);

	while (rc == CANARY_OK && k < n && strcmp(order[k]->flag, flag) == 0) {
		end = cs_batch_totals(order, n, k, &exposures, &errors,
			&latency);
		rc = upsert_total(c, flag, order[k]->arm, exposures, errors,
			latency);
		for (; rc == CANARY_OK && k < end; k++)
			rc = ingest_window(c, instance, order[k], window, live);
	}
	*next = k;
	return rc;
}

/* Claim the batch id; *fresh is false when it was seen before. */
static int claim_batch(cs_sqlite_conn *c, const canary__ev_batch *b, uint64_t now,
	bool *fresh)
{
	sqlite3_stmt *st = c->st[S_BATCH_INSERT];
	int rc;

	sqlite3_bind_text(st, 1, b->batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)b->count);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)b->dropped_batches);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)b->dropped_windows);
	rc = cs_sqlite_done(st);
	*fresh = rc == CANARY_OK && sqlite3_changes(c->db) == 1;
	return rc;
}

/* The windows in cs_batch_order()'s order: a flag's rollout looked up
 * once, a (flag, arm)'s totals summed into one upsert. */
int cs_sqlite_ingest(struct cs_store_impl *s, const canary__ev_batch *b, uint64_t now,
	uint64_t width_ms, bool *duplicate)
{
	uint64_t window = width_ms ? now / width_ms * width_ms : now;
	const canary__ev_window **order = NULL;
	bool fresh = false;
	size_t i = 0;
	int rc;

	*duplicate = false;
	if (cs_batch_order(b, &order) != CANARY_OK)
		return CANARY_ENOMEM;
	rc = cs_sqlite_write_begin(s);
	if (rc != CANARY_OK) {
		free(order);
		return rc;
	}
	rc = claim_batch(&s->w, b, now, &fresh);
	while (rc == CANARY_OK && fresh && i < b->count)
		rc = ingest_flag(&s->w, b->instance_id, order, b->count, i,
			window, &i);
	rc = cs_sqlite_write_end(s, rc);
	free(order);
	if (rc == CANARY_OK)
		*duplicate = !fresh;
	return rc;
}

void cs_sqlite_bind_filter(sqlite3_stmt *st, const char *flag,
	const cs_stats_filter *f)
{
	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	if (f && f->has_config_version)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)f->config_version);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, f ? (sqlite3_int64)f->since_ms : 0);
	sqlite3_bind_int64(st, 4, f ? (sqlite3_int64)f->until_ms : 0);
	sqlite3_bind_int64(st, 5, f ? (sqlite3_int64)f->min_config_version : 0);
	sqlite3_bind_int64(st, 6, f ? (sqlite3_int64)f->max_config_version : 0);
}

/* The user-level columns of a stats row (STATS_COLS 6..12) into `u`. */
static int add_users(sqlite3_stmt *st, cs_arm_users *u)
{
	int rc;

	if (sqlite3_column_type(st, 6) == SQLITE_NULL)
		return CANARY_OK;
	u->any = true;
	u->sketched_exposures = canary__sat_count(u->sketched_exposures,
		cs_sqlite_count(st, 8));
	u->sketched_errors = canary__sat_count(u->sketched_errors,
		cs_sqlite_count(st, 9));
	u->error_sq = canary__sat_count(u->error_sq, cs_sqlite_count(st, 10));
	u->errors_unmapped = canary__sat_count(u->errors_unmapped,
		cs_sqlite_count(st, 11));
	if (cs_sqlite_u64(st, 12) > u->error_max)
		u->error_max = cs_sqlite_u64(st, 12);
	rc = cs_sketch_blob_add_to(sqlite3_column_blob(st, 6),
		(size_t)sqlite3_column_bytes(st, 6), u->units);
	if (rc == CANARY_OK)
		rc = cs_sketch_blob_add_to(sqlite3_column_blob(st, 7),
			(size_t)sqlite3_column_bytes(st, 7), u->error_units);
	return rc;
}

/* Add one row of S_STATS_WIN / S_SERIES_WIN (STATS_COLS) to its arm;
 * histograms and sketches merge in C from their blobs, sketches only
 * when the filter asks. */
static int add_row(sqlite3_stmt *st, const cs_stats_filter *f,
	cs_arm_stats out[CANARY__ARMS])
{
	int arm = sqlite3_column_int(st, 0), rc;
	uint64_t start = cs_sqlite_u64(st, 5);
	cs_arm_stats *a;

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	a = &out[arm];
	/* Saturating: a sum never wraps round to a smaller one. */
	a->exposures = canary__sat_count(a->exposures, cs_sqlite_count(st, 1));
	a->errors = canary__sat_count(a->errors, cs_sqlite_count(st, 2));
	a->latency.zero = canary__sat_count(a->latency.zero,
		cs_sqlite_count(st, 3));
	a->latency.total = canary__sat_count(a->latency.total,
		cs_sqlite_count(st, 3));
	a->windows++;
	if (!a->first_ms || start < a->first_ms)
		a->first_ms = start;
	if (start > a->last_ms)
		a->last_ms = start;
	rc = cs_hist_blob_add_to(sqlite3_column_blob(st, 4),
		(size_t)sqlite3_column_bytes(st, 4), &a->latency);
	if (rc == CANARY_OK && f && f->users)
		rc = add_users(st, &a->users);
	return rc;
}

/* Sum matching rows per arm. */
static int stats_windows(cs_sqlite_conn *c, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS])
{
	sqlite3_stmt *st = c->st[S_STATS_WIN];
	int step = SQLITE_DONE, rc = CANARY_OK;

	cs_sqlite_bind_filter(st, flag, f);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = add_row(st, f, out);
	cs_sqlite_reset(st);
	if (rc != CANARY_OK)
		return rc;
	return step == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

int cs_sqlite_stats(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS])
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);

	if (!c)
		return CANARY_ESTORAGE;
	return cs_sqlite_read_end(s, c, stats_windows(c, flag, f, out));
}

/* Rows come in window order: a new window start hands the finished one
 * to fn. */
static int series_windows(cs_sqlite_conn *c, const char *flag,
	const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
	void *ctx)
{
	sqlite3_stmt *st = c->st[S_SERIES_WIN];
	int step = SQLITE_DONE, rc = CANARY_OK;
	bool open = false;

	cs_sqlite_bind_filter(st, flag, f);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		uint64_t w = cs_sqlite_u64(st, 5);

		if (open && w != p->window_ms)
			rc = fn(p, ctx);
		if (rc != CANARY_OK)
			break;
		if (!open || w != p->window_ms)
			cs_series_point_reset(p, w);
		open = true;
		rc = add_row(st, f, p->arm);
	}
	cs_sqlite_reset(st);
	if (rc != CANARY_OK)
		return rc;
	if (step != SQLITE_DONE)
		return CANARY_ESTORAGE;
	return open ? fn(p, ctx) : CANARY_OK;
}

int cs_sqlite_series(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
	void *ctx)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);

	if (!c)
		return CANARY_ESTORAGE;
	return cs_sqlite_read_end(s, c, series_windows(c, flag, f, p, fn,
		ctx));
}

int cs_sqlite_totals(struct cs_store_impl *s, cs_totals_fn fn, void *ctx)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	sqlite3_stmt *st;
	int step;

	if (!c)
		return CANARY_ESTORAGE;
	st = c->st[S_TOTALS];
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int arm = sqlite3_column_int(st, 1);

		if (arm >= 0 && arm < CANARY__ARMS)
			fn(cs_sqlite_text(st, 0), (canary_arm)arm,
				cs_sqlite_count(st, 2), cs_sqlite_count(st, 3), ctx);
	}
	cs_sqlite_reset(st);
	return cs_sqlite_read_end(s, c, step == SQLITE_DONE ? CANARY_OK :
		CANARY_ESTORAGE);
}

/* Delete what statement `which` finds before `before` (0: nothing); add
 * the count to *n. */
static int prune_one(struct cs_store_impl *s, int which, uint64_t before,
	uint64_t *n)
{
	sqlite3_stmt *st = s->w.st[which];
	int rc;

	if (!before)
		return CANARY_OK;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK)
		*n += (uint64_t)sqlite3_changes(s->w.db);
	return rc;
}

/* Every rollout's history to its first and last records. */
static int cap_decisions(struct cs_store_impl *s, uint64_t *n)
{
	sqlite3_stmt *st = s->w.st[S_CAP_DECISIONS];
	int rc;

	sqlite3_bind_int64(st, 1, CS_DECISIONS_HEAD);
	sqlite3_bind_int64(st, 2, CS_DECISIONS_TAIL);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK)
		*n += (uint64_t)sqlite3_changes(s->w.db);
	return rc;
}

int cs_sqlite_prune(struct cs_store_impl *s, const cs_retention *r,
	uint64_t *removed)
{
	uint64_t n = 0, metrics = 0;
	int rc;

	if (!r->batches_before_ms && !r->windows_before_ms &&
	    !r->decisions_before_ms && !r->audit_before_ms &&
	    !r->sketches_before_ms)
		return CANARY_OK;
	rc = cs_sqlite_write_begin(s);
	if (rc != CANARY_OK)
		return rc;
	rc = prune_one(s, S_PRUNE_BATCHES, r->batches_before_ms, &n);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_DECISIONS, r->decisions_before_ms, &n);
	if (rc == CANARY_OK && r->decisions_before_ms)
		rc = cap_decisions(s, &n);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_WINDOWS, r->windows_before_ms, &n);
	/* A window's metrics go with it; they are not counted apart. */
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_METRICS, r->windows_before_ms,
			&metrics);
	/* Forgetting evidence changes no count: not counted as removed. */
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_SKETCHES, r->sketches_before_ms,
			&metrics);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_CONTRIB, r->sketches_before_ms,
			&metrics);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_CONTRIB, r->windows_before_ms,
			&metrics);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_AUDIT, r->audit_before_ms, &n);
	if (rc == CANARY_OK)
		rc = prune_one(s, S_PRUNE_DELIVERIES, r->audit_before_ms, &n);
	rc = cs_sqlite_write_end(s, rc);
	if (rc == CANARY_OK && removed)
		*removed = n;
	return rc;
}

/* A filter and its flag, for cs_sqlite_bind_filter() through collect. */
typedef struct filtered {
	const char *flag;
	const cs_stats_filter *f;
} filtered;

static void bind_filtered(sqlite3_stmt *st, const void *arg)
{
	const filtered *x = arg;

	cs_sqlite_bind_filter(st, x->flag, x->f);
}

static int metric_row(sqlite3_stmt *st, void *out)
{
	cs_metric_sum *m = out;

	m->arm = sqlite3_column_int(st, 0) == CANARY_ARM_CANARY ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE;
	snprintf(m->name, sizeof(m->name), "%s", cs_sqlite_text(st, 1));
	m->count = cs_sqlite_count(st, 2);
	m->sum = sqlite3_column_double(st, 3);
	return CANARY_OK;
}

int cs_sqlite_metric_sums(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n)
{
	filtered x = { flag, f };

	return cs_sqlite_collect(s, S_METRIC_SUMS, bind_filtered, &x,
		metric_row, sizeof(**out), NULL, (void **)out, n);
}
