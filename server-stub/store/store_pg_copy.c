/*
 * store_pg_copy.c - a whole PostgreSQL store out (dump, from one
 * REPEATABLE READ snapshot, rows streamed so a large store is never held
 * whole) and into an empty one (load, one transaction), for
 * canary-server migrate.
 *
 * A window is dumped once per part (shard) it is kept in; loading adds the
 * parts up again, as ingest would have. Loaded windows and totals go to
 * part 0.
 */
#include "store/store_pg.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "store/records.h"

/* ---- out ------------------------------------------------------------- */

typedef struct dumper {
	const cs_copy_sink *to;
} dumper;

static int flag_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	canary__flag f;
	int rc = cs_record_flag_read(PQgetvalue(r, 0, 0),
		(size_t)PQgetlength(r, 0, 0), &f);

	if (rc == CANARY_OK)
		rc = to->flag(to->ctx, &f);
	canary__flag_clear(canary__alloc_default(), &f);
	return rc;
}

static int batch_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_batch_seen b;

	b.batch_id = cs_pg_str(r, 0);
	b.instance_id = cs_pg_str(r, 1);
	b.received_ms = cs_pg_u64(r, 2);
	b.windows = cs_pg_u64(r, 3);
	b.dropped_batches = cs_pg_u64(r, 4);
	b.dropped_windows = cs_pg_u64(r, 5);
	return to->batch(to->ctx, &b);
}

/* Elements of a text array column, counted. */
static size_t array_len(const char *a)
{
	char tmp[2];
	size_t n = 0;

	while (cs_pg_array_next(&a, tmp, sizeof(tmp)) == 0)
		n++;
	return n;
}

/* The histogram: indices in column `ci`, counts in `cc`. */
int cs_pg_read_bins(const PGresult *r, int ci, int cc, canary__ev_window *w)
{
	const char *pi = cs_pg_str(r, ci), *pc = cs_pg_str(r, cc);
	char a[32], b[32];
	size_t n = array_len(pi);

	w->bins = n ? calloc(n, sizeof(*w->bins)) : NULL;
	if (n && !w->bins)
		return CANARY_ENOMEM;
	while (w->nbins < n && cs_pg_array_next(&pi, a, sizeof(a)) == 0 &&
	       cs_pg_array_next(&pc, b, sizeof(b)) == 0) {
		w->bins[w->nbins].index = (int32_t)strtol(a, NULL, 10);
		w->bins[w->nbins++].count = strtoull(b, NULL, 10);
	}
	return w->nbins == n ? CANARY_OK : CANARY_ESTORAGE;
}

/* The custom metrics: names, counts, sums in columns 9..11. */
static int read_metrics(const PGresult *r, canary__ev_window *w)
{
	const char *pn = cs_pg_str(r, 9), *pc = cs_pg_str(r, 10),
		*ps = cs_pg_str(r, 11);
	char b[32], c[64];
	size_t n = array_len(pn);

	w->metrics = n ? calloc(n, sizeof(*w->metrics)) : NULL;
	if (n && !w->metrics)
		return CANARY_ENOMEM;
	while (w->nmetrics < n) {
		canary__ev_metric *m = &w->metrics[w->nmetrics];

		if (cs_pg_array_next(&pn, m->name, sizeof(m->name)) != 0 ||
		    cs_pg_array_next(&pc, b, sizeof(b)) != 0 ||
		    cs_pg_array_next(&ps, c, sizeof(c)) != 0)
			return CANARY_ESTORAGE;
		m->count = strtoull(b, NULL, 10);
		m->sum = strtod(c, NULL);
		w->nmetrics++;
	}
	return CANARY_OK;
}

void cs_pg_window_head(const PGresult *r, int counts, uint64_t start_ms,
	canary__ev_window *w)
{
	int64_t arm = cs_pg_i64(r, 1);

	memset(w, 0, sizeof(*w));
	snprintf(w->flag, sizeof(w->flag), "%s", cs_pg_str(r, 0));
	w->arm = arm == CANARY_ARM_CANARY ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE;
	w->config_version = cs_pg_u64(r, 2);
	w->start_ms = w->end_ms = start_ms;
	w->exposures = cs_pg_u64(r, counts);
	w->errors = cs_pg_u64(r, counts + 1);
	w->latency_zero = cs_pg_u64(r, counts + 2);
}

static int window_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	canary__ev_window w;
	cs_window_row row = { &w, 0, 0 };
	int rc;

	cs_pg_window_head(r, 4, cs_pg_u64(r, 3), &w);
	rc = cs_pg_read_bins(r, 7, 8, &w);
	if (rc == CANARY_OK)
		rc = read_metrics(r, &w);
	if (rc == CANARY_OK)
		rc = to->window(to->ctx, &row);
	free(w.bins);
	free(w.metrics);
	return rc;
}

static int total_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	uint64_t arm = cs_pg_u64(r, 1);

	if (arm >= CANARY__ARMS)
		return CANARY_ESTORAGE;
	return to->total(to->ctx, cs_pg_str(r, 0), (canary_arm)arm,
		cs_pg_u64(r, 2), cs_pg_u64(r, 3), cs_pg_u64(r, 4));
}

static int rollout_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_rollout *ro = malloc(sizeof(*ro));
	int rc = ro ? cs_pg_rollout_row(r, ro) : CANARY_ENOMEM;

	if (rc == CANARY_OK)
		rc = to->rollout(to->ctx, ro);
	free(ro);
	return rc;
}

static int decision_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;

	return to->decision(to->ctx, cs_pg_i64(r, 0), cs_pg_i64(r, 1),
		cs_pg_str(r, 2), (size_t)PQgetlength(r, 0, 2));
}

static int token_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_token t;

	cs_pg_token_row(r, &t);
	return to->token(to->ctx, &t);
}

static int segment_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	canary__segdef seg;
	int rc = cs_record_segment_read(PQgetvalue(r, 0, 0),
		(size_t)PQgetlength(r, 0, 0), &seg);

	if (rc == CANARY_OK)
		rc = to->segment(to->ctx, &seg);
	canary__segdef_clear(canary__alloc_default(), &seg);
	return rc;
}

static int audit_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_audit_stored a;

	a.id = cs_pg_i64(r, 0);
	a.time_ms = cs_pg_i64(r, 1);
	a.actor = cs_pg_str(r, 2);
	a.action = cs_pg_str(r, 3);
	a.flag = cs_pg_str(r, 4);
	a.config_version = cs_pg_u64(r, 5);
	a.json = cs_pg_str(r, 6);
	a.len = (size_t)PQgetlength(r, 0, 6);
	a.segment = cs_pg_str(r, 7);
	return to->audit(to->ctx, &a);
}

static int webhook_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_webhook *w = malloc(sizeof(*w));
	int rc;

	if (!w)
		return CANARY_ENOMEM;
	cs_pg_webhook_row(r, w);
	rc = to->webhook(to->ctx, w);
	free(w);
	return rc;
}

static int delivery_row(const PGresult *r, void *arg)
{
	const cs_copy_sink *to = ((dumper *)arg)->to;
	cs_delivery d;
	int rc = cs_pg_delivery_row(r, &d, true);

	if (rc == CANARY_OK)
		rc = to->delivery(to->ctx, &d);
	free(d.payload);
	return rc;
}

static int dump_in(cs_pg_conn *c, void *arg)
{
	dumper *d = arg;
	uint64_t version = 0;
	int rc = cs_pg_version(c, &version);

	if (rc == CANARY_OK)
		rc = d->to->version(d->to->ctx, version);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_FLAGS_ALL, NULL, flag_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_BATCHES, NULL, batch_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_WINDOWS, NULL, window_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_TOTALS, NULL, total_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_ROLLOUTS, NULL, rollout_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_dump_evidence(c, d->to);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_DECISIONS, NULL, decision_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_TOKENS_ALL, NULL, token_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_SEGMENTS_ALL, NULL, segment_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_AUDIT, NULL, audit_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_WEBHOOKS_ALL, NULL, webhook_row, d);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_DUMP_DELIVERIES, NULL, delivery_row, d);
	return rc;
}

int cs_pg_dump(struct cs_store_impl *s, const cs_copy_sink *to)
{
	dumper d = { to };

	/* Not retried: the sink has taken rows already. The load it feeds
	 * is one transaction, so a failure leaves nothing behind. */
	return cs_pg_transact(s, CS_PG_READ | CS_PG_NO_RETRY, dump_in, &d);
}

/* ---- in -------------------------------------------------------------- */

typedef struct loader {
	cs_pg_conn *c;
	uint64_t skip;
	cs_copy_counts *n;
	int (*feed)(const cs_copy_sink *into, void *arg);
	void *arg;
	uint64_t version;
} loader;

/* A copy of `len` bytes of `text`, NUL-terminated (a parameter). */
static char *terminated(const char *text, size_t len)
{
	char *t = malloc(len + 1);

	if (t) {
		memcpy(t, text, len);
		t[len] = '\0';
	}
	return t;
}

static int load_version(void *ctx, uint64_t version)
{
	loader *l = ctx;
	cs_pg_params p;

	l->version = version + l->skip;
	cs_pg_params_init(&p);
	cs_pg_uint(&p, l->version);
	return cs_pg_exec(l->c, P_LOAD_VERSION, &p, NULL, NULL);
}

static int load_flag(void *ctx, const canary__flag *f)
{
	loader *l = ctx;

	l->n->flags++;
	return cs_pg_write_flag(l->c, f);
}

static int load_batch(void *ctx, const cs_batch_seen *b)
{
	loader *l = ctx;
	cs_pg_params p;

	l->n->batches++;
	cs_pg_params_init(&p);
	cs_pg_text(&p, b->batch_id);
	cs_pg_text(&p, b->instance_id);
	cs_pg_uint(&p, b->received_ms);
	cs_pg_uint(&p, b->windows);
	cs_pg_uint(&p, b->dropped_batches);
	cs_pg_uint(&p, b->dropped_windows);
	return cs_pg_exec(l->c, P_BATCH_INSERT, &p, NULL, NULL);
}

/* A window's user-level evidence comes whole (instance NULL): the
 * windows' reads take it, the contributions' do not (they come apart). */
static int load_window(void *ctx, const cs_window_row *row)
{
	loader *l = ctx;
	const canary__ev_window *w = row->w;
	canary__ev_window counted;
	cs_pg_evidence_key k = { w->start_ms, NULL, w->start_ms,
		row->sketched_exposures, row->sketched_errors };
	int rc;

	l->n->windows++;
	rc = cs_pg_count_window(l->c, w, w->start_ms, 0, NULL);
	if (rc != CANARY_OK || !w->has_users)
		return rc;
	counted = *w;
	counted.exposures = row->sketched_exposures;
	counted.errors = row->sketched_errors;
	counted.nbins = 0;
	counted.latency_zero = 0;
	return cs_pg_add_evidence(l->c, &counted, &k, NULL);
}

static int load_total(void *ctx, const char *flag, canary_arm arm,
	uint64_t exposures, uint64_t errors, uint64_t latency)
{
	loader *l = ctx;

	l->n->totals++;
	return cs_pg_add_total(l->c, flag, arm, 0, exposures, errors, latency,
		NULL);
}

/* An instance's contribution comes whole (window_ms NULL). */
static int load_contribution(void *ctx, const cs_contribution_row *c)
{
	loader *l = ctx;
	cs_pg_evidence_key k = { 0, c->instance, c->last_ms,
		c->sketched_exposures, c->sketched_errors };

	l->n->contributions++;
	return cs_pg_add_evidence(l->c, c->w, &k, NULL);
}

static int load_rollout(void *ctx, const cs_rollout *r)
{
	loader *l = ctx;
	cs_pg_params p;
	char *spec = NULL;
	int rc = cs_record_spec_write(&r->spec, &spec);

	if (rc != CANARY_OK)
		return rc;
	l->n->rollouts++;
	cs_pg_rollout_params(&p, r, spec);
	cs_pg_int(&p, r->updated_ms);
	cs_pg_int(&p, r->rev);
	cs_pg_int(&p, r->id);
	rc = cs_pg_exec(l->c, P_LOAD_ROLLOUT, &p, NULL, NULL);
	cJSON_free(spec);
	return rc;
}

static int load_decision(void *ctx, int64_t rollout_id, int64_t time_ms,
	const char *json, size_t len)
{
	loader *l = ctx;
	cs_pg_params p;
	char *body = terminated(json, len);
	int rc;

	if (!body)
		return CANARY_ENOMEM;
	l->n->decisions++;
	cs_pg_params_init(&p);
	cs_pg_int(&p, rollout_id);
	cs_pg_int(&p, time_ms);
	cs_pg_text(&p, body);
	rc = cs_pg_exec(l->c, P_DECISION_INSERT, &p, NULL, NULL);
	free(body);
	return rc;
}

static int load_token(void *ctx, const cs_token *t)
{
	loader *l = ctx;
	cs_pg_params p;

	l->n->tokens++;
	cs_pg_token_params(&p, t);
	return cs_pg_exec(l->c, P_TOKEN_INSERT, &p, NULL, NULL);
}

static int load_audit(void *ctx, const cs_audit_stored *a)
{
	loader *l = ctx;
	cs_pg_params p;
	char *body = terminated(a->json, a->len);
	int rc;

	if (!body)
		return CANARY_ENOMEM;
	l->n->audit++;
	cs_pg_params_init(&p);
	cs_pg_int(&p, a->id);
	cs_pg_int(&p, a->time_ms);
	cs_pg_text(&p, a->actor);
	cs_pg_text(&p, a->action);
	cs_pg_text(&p, a->flag);
	cs_pg_uint(&p, a->config_version);
	cs_pg_text(&p, body);
	cs_pg_text(&p, a->segment);
	rc = cs_pg_exec(l->c, P_LOAD_AUDIT, &p, NULL, NULL);
	free(body);
	return rc;
}

static int load_webhook(void *ctx, const cs_webhook *w)
{
	loader *l = ctx;
	cs_pg_params p;

	l->n->webhooks++;
	cs_pg_params_init(&p);
	cs_pg_int(&p, w->id);
	cs_pg_text(&p, w->url);
	cs_pg_text(&p, w->secret);
	cs_pg_text(&p, w->events);
	cs_pg_int(&p, w->created_ms);
	cs_pg_text(&p, w->created_by);
	return cs_pg_exec(l->c, P_LOAD_WEBHOOK, &p, NULL, NULL);
}

static int load_delivery(void *ctx, const cs_delivery *d)
{
	loader *l = ctx;
	cs_pg_params p;

	l->n->deliveries++;
	cs_pg_params_init(&p);
	cs_pg_int(&p, d->id);
	cs_pg_int(&p, d->webhook_id);
	cs_pg_int(&p, d->audit_id);
	cs_pg_text(&p, d->event);
	cs_pg_text(&p, d->flag);
	cs_pg_text(&p, d->state);
	cs_pg_int(&p, d->attempts);
	cs_pg_int(&p, d->next_ms);
	cs_pg_int(&p, d->created_ms);
	cs_pg_int(&p, d->updated_ms);
	cs_pg_int(&p, d->last_status);
	cs_pg_text(&p, d->last_error);
	cs_pg_text(&p, d->payload ? d->payload : "{}");
	return cs_pg_exec(l->c, P_LOAD_DELIVERY, &p, NULL, NULL);
}

static int load_segment(void *ctx, const canary__segdef *seg)
{
	loader *l = ctx;

	l->n->segments++;
	return cs_pg_write_segment(l->c, seg);
}

static int check_empty(cs_pg_conn *c)
{
	PGresult *r = NULL;
	int rc = cs_pg_exec(c, P_LOAD_EMPTY, NULL, &r, NULL);

	if (rc == CANARY_OK)
		rc = strcmp(cs_pg_str(r, 0), "t") == 0 ? CANARY_OK :
			CS_ECONFLICT;
	PQclear(r);
	return rc;
}

/* Tell running servers (if any) about the version the load set. */
static int announce(loader *l)
{
	cs_pg_params p;

	cs_pg_params_init(&p);
	cs_pg_uint(&p, l->version);
	return cs_pg_exec(l->c, P_NOTIFY, &p, NULL, NULL);
}

static int load_in(cs_pg_conn *c, void *arg)
{
	loader *l = arg;
	cs_copy_sink sink = { load_version, load_flag, load_batch, load_window,
		load_total, load_contribution, load_rollout, load_decision,
		load_token, load_audit, load_webhook, load_delivery, load_segment,
		l };
	int rc;

	l->c = c;
	memset(l->n, 0, sizeof(*l->n));
	rc = cs_pg_lock_version(c);
	if (rc == CANARY_OK)
		rc = check_empty(c);
	if (rc == CANARY_OK)
		rc = l->feed(&sink, l->arg);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_LOAD_SEQUENCE, NULL, NULL, NULL);
	if (rc == CANARY_OK)
		rc = announce(l);
	return rc;
}

int cs_pg_load(struct cs_store_impl *s,
	int (*feed)(const cs_copy_sink *into, void *arg), void *arg,
	uint64_t skip_versions, cs_copy_counts *counts)
{
	loader l;

	memset(&l, 0, sizeof(l));
	l.skip = skip_versions;
	l.n = counts;
	l.feed = feed;
	l.arg = arg;
	l.version = 1 + skip_versions;
	return cs_pg_transact(s, CS_PG_WRITE | CS_PG_NO_RETRY, load_in, &l);
}
