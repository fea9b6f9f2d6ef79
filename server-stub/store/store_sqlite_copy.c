/*
 * store_sqlite_copy.c - a whole SQLite store out (dump, from one read
 * snapshot) and into an empty one (load, one write transaction), for
 * canary-server migrate. Its statements run once per copy, so they are
 * prepared here and finalized after, not kept on every connection.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "store/hist_blob.h"
#include "store/records.h"

/* ---- out ------------------------------------------------------------- */

enum {
	D_BATCHES, D_WINDOWS, D_METRICS, D_CONTRIB, D_ROLLOUTS, D_DECISIONS,
	D_AUDIT, D_DELIVERIES, D_COUNT
};

static const char *const dump_sql[D_COUNT] = {
	[D_BATCHES] = "SELECT batch_id, instance_id, received_ms, windows,"
		" dropped_batches, dropped_windows FROM batches"
		" ORDER BY received_ms, batch_id",
	[D_WINDOWS] = "SELECT flag, arm, config_version, window_ms, exposures,"
		" errors, latency_zero, latency, units, error_units,"
		" sketched_exposures, sketched_errors, error_sq, errors_unmapped,"
		" error_max FROM windows"
		" ORDER BY flag, arm, config_version, window_ms",
	[D_METRICS] = "SELECT name, count, sum FROM metrics WHERE flag = ?1"
		" AND arm = ?2 AND config_version = ?3 AND window_ms = ?4"
		" ORDER BY name",
	[D_CONTRIB] = "SELECT flag, arm, config_version, instance, last_ms,"
		" exposures, errors, latency_zero, latency, units, error_units,"
		" error_sq, errors_unmapped, error_max, sketched_exposures,"
		" sketched_errors FROM contributions"
		" ORDER BY flag, config_version, arm, instance",
	[D_ROLLOUTS] = "SELECT id, flag, spec, state, step, step_start_ms,"
		" step_version, reason, created_ms, updated_ms, rev,"
		" pass_since_ms, alert_since_ms, prev_step_version"
		" FROM rollouts ORDER BY id",
	[D_DECISIONS] = "SELECT rollout_id, time_ms, body FROM decisions"
		" ORDER BY id",
	[D_AUDIT] = "SELECT id, time_ms, actor, action, flag, config_version,"
		" body, segment FROM audit ORDER BY id",
	/* cs_sqlite_delivery_row()'s columns, and the payload. */
	[D_DELIVERIES] = "SELECT id, webhook_id, audit_id, event, flag, state,"
		" attempts, next_ms, created_ms, updated_ms, last_status,"
		" last_error, payload FROM deliveries ORDER BY id",
};

typedef struct dumper {
	sqlite3_stmt *st[D_COUNT];
	const cs_copy_sink *to;
} dumper;

/* Run `st` to the end, handing each row to `row`. */
static int each_row(dumper *d, sqlite3_stmt *st,
	int (*row)(dumper *d, sqlite3_stmt *st))
{
	int rc = CANARY_OK, step = SQLITE_DONE;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = row(d, st);
	cs_sqlite_reset(st);
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	return rc;
}

static int flag_row(dumper *d, sqlite3_stmt *st)
{
	canary__flag f;
	int rc = cs_record_flag_read((const char *)sqlite3_column_text(st, 0),
		(size_t)sqlite3_column_bytes(st, 0), &f);

	if (rc == CANARY_OK)
		rc = d->to->flag(d->to->ctx, &f);
	canary__flag_clear(canary__alloc_default(), &f);
	return rc;
}

static int batch_row(dumper *d, sqlite3_stmt *st)
{
	cs_batch_seen b;

	b.batch_id = cs_sqlite_text(st, 0);
	b.instance_id = cs_sqlite_text(st, 1);
	b.received_ms = cs_sqlite_u64(st, 2);
	b.windows = cs_sqlite_u64(st, 3);
	b.dropped_batches = cs_sqlite_u64(st, 4);
	b.dropped_windows = cs_sqlite_u64(st, 5);
	return d->to->batch(d->to->ctx, &b);
}

/* The custom metrics of the window the cursor `win` is on. */
static int window_metrics(dumper *d, sqlite3_stmt *win, canary__ev_window *w)
{
	sqlite3_stmt *st = d->st[D_METRICS];
	size_t cap = 0;
	int rc = CANARY_OK, i, step;

	for (i = 1; i <= 4; i++)
		sqlite3_bind_value(st, i, sqlite3_column_value(win, i - 1));
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		canary__ev_metric *m;

		if (w->nmetrics == cap) {
			cap = cap ? cap * 2 : 8;
			m = realloc(w->metrics, cap * sizeof(*m));
			if (!m) {
				rc = CANARY_ENOMEM;
				break;
			}
			w->metrics = m;
		}
		m = &w->metrics[w->nmetrics++];
		memset(m, 0, sizeof(*m));
		snprintf(m->name, sizeof(m->name), "%s", cs_sqlite_text(st, 0));
		m->count = cs_sqlite_u64(st, 1);
		m->sum = sqlite3_column_double(st, 2);
	}
	cs_sqlite_reset(st);
	return rc;
}

/* The key, counts and latency of a windows or contributions row: flag,
 * arm, config_version at 0..2, then exposures, errors, latency_zero,
 * latency from `counts`, and the sketch pair and figures after them. The
 * caller frees w->bins. */
static int window_of(sqlite3_stmt *st, int counts, canary__ev_window *w)
{
	int u = counts + 4;

	memset(w, 0, sizeof(*w));
	snprintf(w->flag, sizeof(w->flag), "%s", cs_sqlite_text(st, 0));
	w->arm = sqlite3_column_int(st, 1) == CANARY_ARM_CANARY ?
		CANARY_ARM_CANARY : CANARY_ARM_STABLE;
	w->config_version = cs_sqlite_u64(st, 2);
	w->exposures = cs_sqlite_count(st, counts);
	w->errors = cs_sqlite_count(st, counts + 1);
	w->latency_zero = cs_sqlite_count(st, counts + 2);
	if (sqlite3_column_type(st, u) != SQLITE_NULL) {
		w->has_users = true;
		w->users.units.bytes = (uint8_t *)sqlite3_column_blob(st, u);
		w->users.units.len = (size_t)sqlite3_column_bytes(st, u);
		w->users.error_units.bytes = (uint8_t *)sqlite3_column_blob(st,
			u + 1);
		w->users.error_units.len = (size_t)sqlite3_column_bytes(st,
			u + 1);
	}
	return cs_hist_blob_decode(sqlite3_column_blob(st, counts + 3),
		(size_t)sqlite3_column_bytes(st, counts + 3), &w->bins,
		&w->nbins);
}

static int window_row(dumper *d, sqlite3_stmt *st)
{
	canary__ev_window w;
	cs_window_row row;
	int rc = window_of(st, 4, &w);

	w.start_ms = w.end_ms = cs_sqlite_u64(st, 3);
	row.w = &w;
	row.sketched_exposures = cs_sqlite_u64(st, 10);
	row.sketched_errors = cs_sqlite_u64(st, 11);
	w.users.error_sq = cs_sqlite_u64(st, 12);
	w.users.errors_unmapped = cs_sqlite_u64(st, 13);
	w.users.error_max = cs_sqlite_u64(st, 14);
	if (rc == CANARY_OK)
		rc = window_metrics(d, st, &w);
	if (rc == CANARY_OK)
		rc = d->to->window(d->to->ctx, &row);
	free(w.bins);
	free(w.metrics);
	return rc;
}

static int total_row(dumper *d, sqlite3_stmt *st)
{
	int arm = sqlite3_column_int(st, 1);

	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_ESTORAGE;
	return d->to->total(d->to->ctx, cs_sqlite_text(st, 0), (canary_arm)arm,
		cs_sqlite_count(st, 2), cs_sqlite_count(st, 3), cs_sqlite_count(st, 4));
}

static int contribution_row(dumper *d, sqlite3_stmt *st)
{
	canary__ev_window w;
	cs_contribution_row row;
	int rc = window_of(st, 5, &w);

	w.users.error_sq = cs_sqlite_u64(st, 11);
	w.users.errors_unmapped = cs_sqlite_u64(st, 12);
	w.users.error_max = cs_sqlite_u64(st, 13);
	row.sketched_exposures = cs_sqlite_count(st, 14);
	row.sketched_errors = cs_sqlite_count(st, 15);
	row.w = &w;
	row.instance = cs_sqlite_text(st, 3);
	row.last_ms = cs_sqlite_u64(st, 4);
	if (rc == CANARY_OK)
		rc = d->to->contribution(d->to->ctx, &row);
	free(w.bins);
	return rc;
}

static int rollout_row(dumper *d, sqlite3_stmt *st)
{
	cs_rollout *r = malloc(sizeof(*r));
	int rc = r ? cs_sqlite_rollout_row(st, r) : CANARY_ENOMEM;

	if (rc == CANARY_OK)
		rc = d->to->rollout(d->to->ctx, r);
	free(r);
	return rc;
}

static int decision_row(dumper *d, sqlite3_stmt *st)
{
	return d->to->decision(d->to->ctx, sqlite3_column_int64(st, 0),
		sqlite3_column_int64(st, 1), cs_sqlite_text(st, 2),
		(size_t)sqlite3_column_bytes(st, 2));
}

static int token_row(dumper *d, sqlite3_stmt *st)
{
	cs_token t;

	cs_sqlite_token_row(st, &t);
	return d->to->token(d->to->ctx, &t);
}

static int segment_row(dumper *d, sqlite3_stmt *st)
{
	canary__segdef seg;
	int rc = cs_record_segment_read(cs_sqlite_text(st, 0),
		(size_t)sqlite3_column_bytes(st, 0), &seg);

	if (rc == CANARY_OK)
		rc = d->to->segment(d->to->ctx, &seg);
	canary__segdef_clear(canary__alloc_default(), &seg);
	return rc;
}

static int audit_row(dumper *d, sqlite3_stmt *st)
{
	cs_audit_stored a;

	a.id = sqlite3_column_int64(st, 0);
	a.time_ms = sqlite3_column_int64(st, 1);
	a.actor = cs_sqlite_text(st, 2);
	a.action = cs_sqlite_text(st, 3);
	a.flag = cs_sqlite_text(st, 4);
	a.config_version = cs_sqlite_u64(st, 5);
	a.json = cs_sqlite_text(st, 6);
	a.len = (size_t)sqlite3_column_bytes(st, 6);
	a.segment = cs_sqlite_text(st, 7);
	return d->to->audit(d->to->ctx, &a);
}

static int webhook_row(dumper *d, sqlite3_stmt *st)
{
	cs_webhook *w = malloc(sizeof(*w));
	int rc = w ? cs_sqlite_webhook_row(st, w) : CANARY_ENOMEM;

	if (rc == CANARY_OK)
		rc = d->to->webhook(d->to->ctx, w);
	free(w);
	return rc;
}

static int delivery_row(dumper *d, sqlite3_stmt *st)
{
	cs_delivery del;
	int rc = cs_sqlite_delivery_row(st, &del, true);

	if (rc == CANARY_OK)
		rc = d->to->delivery(d->to->ctx, &del);
	free(del.payload);
	return rc;
}

static int dump_all(cs_sqlite_conn *c, dumper *d)
{
	uint64_t version = 0;
	int rc = cs_sqlite_version(c, &version);

	if (rc == CANARY_OK)
		rc = d->to->version(d->to->ctx, version);
	if (rc == CANARY_OK)
		rc = each_row(d, c->st[S_FLAGS_ALL], flag_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_BATCHES], batch_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_WINDOWS], window_row);
	if (rc == CANARY_OK)
		rc = each_row(d, c->st[S_TOTALS], total_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_ROLLOUTS], rollout_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_CONTRIB], contribution_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_DECISIONS], decision_row);
	if (rc == CANARY_OK)
		rc = each_row(d, c->st[S_TOKENS_ALL], token_row);
	if (rc == CANARY_OK)
		rc = each_row(d, c->st[S_SEGMENTS_ALL], segment_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_AUDIT], audit_row);
	if (rc == CANARY_OK)
		rc = each_row(d, c->st[S_WEBHOOKS_ALL], webhook_row);
	if (rc == CANARY_OK)
		rc = each_row(d, d->st[D_DELIVERIES], delivery_row);
	return rc;
}

int cs_sqlite_dump(struct cs_store_impl *s, const cs_copy_sink *to)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	dumper d;
	int rc = c ? CANARY_OK : CANARY_ESTORAGE, i;

	memset(&d, 0, sizeof(d));
	d.to = to;
	for (i = 0; rc == CANARY_OK && i < D_COUNT; i++)
		if (sqlite3_prepare_v2(c->db, dump_sql[i], -1, &d.st[i], NULL) !=
		    SQLITE_OK)
			rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK)
		rc = dump_all(c, &d);
	for (i = 0; i < D_COUNT; i++)
		sqlite3_finalize(d.st[i]);
	return c ? cs_sqlite_read_end(s, c, rc) : rc;
}

/* ---- in -------------------------------------------------------------- */

enum { L_EMPTY, L_VERSION, L_ROLLOUT, L_AUDIT, L_WEBHOOK, L_DELIVERY,
	L_COUNT };

static const char *const load_sql[L_COUNT] = {
	[L_EMPTY] = "SELECT (SELECT value FROM meta"
		" WHERE key = 'config_version') = 1"
		" AND NOT EXISTS (SELECT 1 FROM flags)"
		" AND NOT EXISTS (SELECT 1 FROM batches)"
		" AND NOT EXISTS (SELECT 1 FROM windows)"
		" AND NOT EXISTS (SELECT 1 FROM totals)"
		" AND NOT EXISTS (SELECT 1 FROM contributions)"
		" AND NOT EXISTS (SELECT 1 FROM rollouts)"
		" AND NOT EXISTS (SELECT 1 FROM tokens)"
		" AND NOT EXISTS (SELECT 1 FROM segments)"
		" AND NOT EXISTS (SELECT 1 FROM audit)"
		" AND NOT EXISTS (SELECT 1 FROM webhooks)",
	[L_VERSION] = "UPDATE meta SET value = ?1"
		" WHERE key = 'config_version'",
	/* ?1..?11 as S_ROLLOUT_INSERT's (cs_sqlite_bind_rollout). */
	[L_ROLLOUT] = "INSERT INTO rollouts(flag, spec, state, step,"
		" step_start_ms, step_version, reason, created_ms,"
		" pass_since_ms, alert_since_ms, prev_step_version, updated_ms,"
		" rev, id) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11,"
		" ?12, ?13, ?14)",
	[L_AUDIT] = "INSERT INTO audit(id, time_ms, actor, action, flag,"
		" config_version, body, segment)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
	[L_WEBHOOK] = "INSERT INTO webhooks(id, url, secret, events,"
		" created_ms, created_by) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[L_DELIVERY] = "INSERT INTO deliveries(id, webhook_id, audit_id, event,"
		" flag, state, attempts, next_ms, created_ms, updated_ms,"
		" last_status, last_error, payload) VALUES(?1, ?2, ?3, ?4, ?5,"
		" ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13)",
};

typedef struct loader {
	struct cs_store_impl *s;
	sqlite3_stmt *st[L_COUNT];
	uint64_t skip;
	cs_copy_counts *n;
} loader;

static int load_version(void *ctx, uint64_t version)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->st[L_VERSION];

	sqlite3_bind_int64(st, 1, (sqlite3_int64)(version + l->skip));
	return cs_sqlite_done(st);
}

static int load_flag(void *ctx, const canary__flag *f)
{
	loader *l = ctx;

	l->n->flags++;
	return cs_sqlite_write_flag(l->s, f);
}

static int load_batch(void *ctx, const cs_batch_seen *b)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->s->w.st[S_BATCH_INSERT];

	l->n->batches++;
	sqlite3_bind_text(st, 1, b->batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)b->received_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)b->windows);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)b->dropped_batches);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)b->dropped_windows);
	return cs_sqlite_done(st);
}

static int load_window(void *ctx, const cs_window_row *row)
{
	loader *l = ctx;

	l->n->windows++;
	return cs_sqlite_count_window_as(&l->s->w, row->w, row->w->start_ms,
		row->sketched_exposures, row->sketched_errors);
}

static int load_contribution(void *ctx, const cs_contribution_row *row)
{
	loader *l = ctx;
	bool live = false;
	int rc = cs_sqlite_rollout_live(&l->s->w, row->w->flag, &live);

	l->n->contributions++;
	if (rc == CANARY_OK)
		rc = cs_sqlite_contribute(&l->s->w, row->instance, row->w,
			row->last_ms, row->sketched_exposures,
			row->sketched_errors, live);
	return rc;
}

static int load_total(void *ctx, const char *flag, canary_arm arm,
	uint64_t exposures, uint64_t errors, uint64_t latency)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->s->w.st[S_TOTAL_UPSERT];

	l->n->totals++;
	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)arm);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)exposures);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)errors);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)latency);
	return cs_sqlite_done(st);
}

static int load_rollout(void *ctx, const cs_rollout *r)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->st[L_ROLLOUT];
	char *spec = NULL;
	int rc = cs_record_spec_write(&r->spec, &spec);

	if (rc != CANARY_OK)
		return rc;
	l->n->rollouts++;
	cs_sqlite_bind_rollout(st, r, spec);
	sqlite3_bind_int64(st, 12, r->updated_ms);
	sqlite3_bind_int64(st, 13, r->rev);
	sqlite3_bind_int64(st, 14, r->id);
	rc = cs_sqlite_done(st);
	cJSON_free(spec);
	return rc;
}

static int load_decision(void *ctx, int64_t rollout_id, int64_t time_ms,
	const char *json, size_t len)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->s->w.st[S_DECISION_INSERT];

	l->n->decisions++;
	sqlite3_bind_int64(st, 1, rollout_id);
	sqlite3_bind_int64(st, 2, time_ms);
	sqlite3_bind_text(st, 3, json, (int)len, SQLITE_STATIC);
	return cs_sqlite_done(st);
}

static int load_token(void *ctx, const cs_token *t)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->s->w.st[S_TOKEN_INSERT];

	l->n->tokens++;
	cs_sqlite_bind_token(st, t);
	return cs_sqlite_done(st);
}

static int load_audit(void *ctx, const cs_audit_stored *a)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->st[L_AUDIT];

	l->n->audit++;
	sqlite3_bind_int64(st, 1, a->id);
	sqlite3_bind_int64(st, 2, a->time_ms);
	sqlite3_bind_text(st, 3, a->actor, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, a->action, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, a->flag, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)a->config_version);
	sqlite3_bind_text(st, 7, a->json, (int)a->len, SQLITE_STATIC);
	sqlite3_bind_text(st, 8, a->segment, -1, SQLITE_STATIC);
	return cs_sqlite_done(st);
}

static int load_webhook(void *ctx, const cs_webhook *w)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->st[L_WEBHOOK];

	l->n->webhooks++;
	sqlite3_bind_int64(st, 1, w->id);
	sqlite3_bind_text(st, 2, w->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, w->events, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, w->created_ms);
	sqlite3_bind_text(st, 6, w->created_by, -1, SQLITE_STATIC);
	return cs_sqlite_done(st);
}

static int load_delivery(void *ctx, const cs_delivery *d)
{
	loader *l = ctx;
	sqlite3_stmt *st = l->st[L_DELIVERY];

	l->n->deliveries++;
	sqlite3_bind_int64(st, 1, d->id);
	sqlite3_bind_int64(st, 2, d->webhook_id);
	sqlite3_bind_int64(st, 3, d->audit_id);
	sqlite3_bind_text(st, 4, d->event, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, d->flag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, d->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, d->attempts);
	sqlite3_bind_int64(st, 8, d->next_ms);
	sqlite3_bind_int64(st, 9, d->created_ms);
	sqlite3_bind_int64(st, 10, d->updated_ms);
	sqlite3_bind_int64(st, 11, d->last_status);
	sqlite3_bind_text(st, 12, d->last_error, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 13, d->payload ? d->payload : "{}", -1,
		SQLITE_STATIC);
	return cs_sqlite_done(st);
}

static int load_segment(void *ctx, const canary__segdef *seg)
{
	loader *l = ctx;

	l->n->segments++;
	return cs_sqlite_write_segment(l->s, seg);
}

static int check_empty(loader *l)
{
	sqlite3_stmt *st = l->st[L_EMPTY];
	int rc = CANARY_ESTORAGE;

	if (sqlite3_step(st) == SQLITE_ROW)
		rc = sqlite3_column_int(st, 0) == 1 ? CANARY_OK : CS_ECONFLICT;
	cs_sqlite_reset(st);
	return rc;
}

int cs_sqlite_load(struct cs_store_impl *s,
	int (*feed)(const cs_copy_sink *into, void *arg), void *arg,
	uint64_t skip_versions, cs_copy_counts *counts)
{
	loader l = { s, { NULL }, skip_versions, counts };
	cs_copy_sink sink = { load_version, load_flag, load_batch, load_window,
		load_total, load_contribution, load_rollout, load_decision,
		load_token, load_audit, load_webhook, load_delivery, load_segment,
		&l };
	int rc = cs_sqlite_write_begin(s), i;

	if (rc != CANARY_OK)
		return rc;
	for (i = 0; rc == CANARY_OK && i < L_COUNT; i++)
		if (sqlite3_prepare_v2(s->w.db, load_sql[i], -1, &l.st[i],
			NULL) != SQLITE_OK)
			rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK)
		rc = check_empty(&l);
	if (rc == CANARY_OK)
		rc = feed(&sink, arg);
	for (i = 0; i < L_COUNT; i++)
		sqlite3_finalize(l.st[i]);
	return cs_sqlite_write_end(s, rc);
}
