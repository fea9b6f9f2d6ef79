/*
 * store_pg_ingest.c - event batches in PostgreSQL: the batch id claimed
 * and the windows counted in one transaction, sums per arm, lifetime
 * totals, and forgetting old batch ids and windows.
 *
 * Idempotency across servers: the batch id is inserted with ON CONFLICT
 * DO NOTHING, so of two servers given the same batch at once, the second
 * waits for the first's transaction and counts nothing if it committed.
 * A batch's windows are upserted in one order (flag, arm, version) so two
 * batches never lock the same rows in opposite orders, into the part
 * (shard) of the window that the SDK instance maps to: instances
 * reporting one flag at once do not queue on one row. Stats add the parts
 * up inside the database and send only the sums and the merged histogram.
 */
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

#include "murmur3.h"
#include "saturate.h"

/* ---- histograms as arrays -------------------------------------------- */

char *cs_pg_array_bins(const canary__hist_entry *bins, size_t n, bool counts)
{
	/* "{" + up to 21 characters and a comma per entry + "}". */
	char *out = malloc(n * 22 + 3), *p = out;
	size_t i;

	if (!out)
		return NULL;
	*p++ = '{';
	for (i = 0; i < n; i++) {
		if (i)
			*p++ = ',';
		p += counts ? sprintf(p, "%llu", (unsigned long long)
			(bins[i].count > INT64_MAX ? INT64_MAX : bins[i].count)) :
			sprintf(p, "%d", (int)bins[i].index);
	}
	*p++ = '}';
	*p = '\0';
	return out;
}

int cs_pg_array_next(const char **pp, char *out, size_t cap)
{
	const char *p = *pp;
	size_t n = 0;
	bool quoted;

	if (*p == '{')
		p++;
	if (*p == '}' || *p == '\0')
		return -1;
	quoted = *p == '"';
	if (quoted)
		p++;
	while (*p && (quoted ? *p != '"' : (*p != ',' && *p != '}'))) {
		if (quoted && *p == '\\' && p[1])
			p++;
		if (n + 1 < cap)
			out[n++] = *p;
		p++;
	}
	if (quoted && *p != '"')
		return -1;
	if (quoted)
		p++;
	if (*p == ',')
		p++;
	out[n] = '\0';
	*pp = p;
	return 0;
}

/* ---- ingest ---------------------------------------------------------- */

/* Run a statement now, or (with `sent`) send it into the pipeline. */
static int run(cs_pg_conn *c, int which, const cs_pg_params *p, int *sent)
{
	if (!sent)
		return cs_pg_exec(c, which, p, NULL, NULL);
	(*sent)++;
	return cs_pg_send(c, which, p);
}

/* The window key with which every upsert of a window starts. */
static void window_key(cs_pg_params *p, const canary__ev_window *w, uint64_t window,
	int shard)
{
	cs_pg_params_init(p);
	cs_pg_text(p, w->flag);
	cs_pg_int(p, (int64_t)w->arm);
	cs_pg_uint(p, w->config_version);
	cs_pg_uint(p, window);
	cs_pg_int(p, shard);
}

static int upsert_metrics(cs_pg_conn *c, const canary__ev_window *w, uint64_t window,
	int shard, int *sent)
{
	cs_pg_params p;
	size_t i;
	int rc = CANARY_OK;

	for (i = 0; rc == CANARY_OK && i < w->nmetrics; i++) {
		window_key(&p, w, window, shard);
		cs_pg_text(&p, w->metrics[i].name);
		cs_pg_uint(&p, w->metrics[i].count);
		cs_pg_double(&p, w->metrics[i].sum);
		rc = run(c, P_METRIC_UPSERT, &p, sent);
	}
	return rc;
}

int cs_pg_count_window(cs_pg_conn *c, const canary__ev_window *w, uint64_t window,
	int shard, int *sent)
{
	char *idx = cs_pg_array_bins(w->bins, w->nbins, false);
	char *cnt = cs_pg_array_bins(w->bins, w->nbins, true);
	cs_pg_params p;
	int rc = idx && cnt ? CANARY_OK : CANARY_ENOMEM;

	if (rc == CANARY_OK) {
		window_key(&p, w, window, shard);
		cs_pg_uint(&p, w->exposures);
		cs_pg_uint(&p, w->errors);
		cs_pg_uint(&p, w->latency_zero);
		cs_pg_text(&p, idx);
		cs_pg_text(&p, cnt);
		rc = run(c, P_WIN_UPSERT, &p, sent);
	}
	free(idx);
	free(cnt);
	if (rc == CANARY_OK)
		rc = upsert_metrics(c, w, window, shard, sent);
	return rc;
}

int cs_pg_add_total(cs_pg_conn *c, const char *flag, canary_arm arm, int shard,
	uint64_t exposures, uint64_t errors, uint64_t latency, int *sent)
{
	cs_pg_params p;

	cs_pg_params_init(&p);
	cs_pg_text(&p, flag);
	cs_pg_int(&p, (int64_t)arm);
	cs_pg_int(&p, shard);
	cs_pg_uint(&p, exposures);
	cs_pg_uint(&p, errors);
	cs_pg_uint(&p, latency);
	return run(c, P_TOTAL_UPSERT, &p, sent);
}

typedef struct ingesting {
	const canary__ev_batch *b;
	const canary__ev_window **order;  /* b's windows in lock order */
	uint64_t now, window;
	int shard;
	bool fresh;
} ingesting;

/* Claim the batch id; i->fresh is false when it was seen before. */
static int claim_batch(cs_pg_conn *c, ingesting *i)
{
	cs_pg_params p;
	uint64_t n = 0;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_text(&p, i->b->batch_id);
	cs_pg_text(&p, i->b->instance_id);
	cs_pg_uint(&p, i->now);
	cs_pg_uint(&p, i->b->count);
	cs_pg_uint(&p, i->b->dropped_batches);
	cs_pg_uint(&p, i->b->dropped_windows);
	rc = cs_pg_exec(c, P_BATCH_INSERT, &p, NULL, &n);
	i->fresh = rc == CANARY_OK && n == 1;
	return rc;
}

/* The totals, one upsert per (flag, arm), each run of them summed. */
static int add_totals(cs_pg_conn *c, ingesting *i, int *sent)
{
	uint64_t exposures, errors, latency;
	size_t k, from;
	int rc = CANARY_OK;

	for (from = 0; rc == CANARY_OK && from < i->b->count; from = k) {
		k = cs_batch_totals(i->order, i->b->count, from, &exposures,
			&errors, &latency);
		rc = cs_pg_add_total(c, i->order[from]->flag,
			i->order[from]->arm, i->shard, exposures, errors, latency,
			sent);
	}
	return rc;
}

/* The batch's upserts, sent at once (one round trip, not one per
 * statement). */
static int count_all(cs_pg_conn *c, ingesting *i)
{
	size_t k;
	int sent = 0, rc = cs_pg_pipe_begin(c), end;

	for (k = 0; rc == CANARY_OK && k < i->b->count; k++)
		rc = cs_pg_count_window(c, i->order[k], i->window, i->shard,
			&sent);
	/* What this instance sent, with its user-level evidence: appended,
	 * it takes no row lock. */
	for (k = 0; rc == CANARY_OK && k < i->b->count; k++) {
		const canary__ev_window *w = i->order[k];
		cs_pg_evidence_key key = { i->window, i->b->instance_id,
			i->window, w->exposures, w->errors };

		rc = cs_pg_add_evidence(c, w, &key, &sent);
	}
	/* The totals after every window row: one lock order for all. */
	if (rc == CANARY_OK)
		rc = add_totals(c, i, &sent);
	if (rc == CS_PG_ELOST)
		return rc;
	end = cs_pg_pipe_end(c, sent);
	return rc != CANARY_OK ? rc : end;
}

static int ingest_in(cs_pg_conn *c, void *arg)
{
	ingesting *i = arg;
	int rc = claim_batch(c, i);

	if (rc == CANARY_OK && i->fresh && i->b->count)
		rc = count_all(c, i);
	return rc;
}

int cs_pg_ingest(struct cs_store_impl *s, const canary__ev_batch *b, uint64_t now,
	uint64_t width_ms, bool *duplicate)
{
	const char *inst = b->instance_id;
	ingesting i;
	int rc;

	*duplicate = false;
	memset(&i, 0, sizeof(i));
	i.b = b;
	i.now = now;
	i.window = width_ms ? now / width_ms * width_ms : now;
	i.shard = (int)(canary__murmur3_32(inst, strlen(inst), 0) %
		CS_PG_SHARDS);
	if (cs_batch_order(b, &i.order) != CANARY_OK)
		return CANARY_ENOMEM;
	/* Idempotent: after a lost COMMIT the batch id says whether it
	 * was counted. */
	rc = cs_pg_transact(s, CS_PG_WRITE | CS_PG_IDEMPOTENT, ingest_in, &i);
	free(i.order);
	if (rc == CANARY_OK)
		*duplicate = !i.fresh;
	return rc;
}

/* ---- stats and totals ------------------------------------------------ */

void cs_pg_filter_params(cs_pg_params *p, const char *flag,
	const cs_stats_filter *f)
{
	cs_pg_params_init(p);
	cs_pg_text(p, flag);
	if (f && f->has_config_version)
		cs_pg_uint(p, f->config_version);
	else
		cs_pg_text(p, NULL);
	cs_pg_uint(p, f ? f->since_ms : 0);
	cs_pg_uint(p, f ? f->until_ms : 0);
	cs_pg_uint(p, f ? f->min_config_version : 0);
	cs_pg_uint(p, f ? f->max_config_version : 0);
}

typedef struct summing {
	const char *flag;
	const cs_stats_filter *f;
	cs_arm_stats *out;
} summing;

static cs_arm_stats *arm_of(summing *m, const PGresult *r)
{
	int64_t arm = cs_pg_i64(r, 0);

	return arm >= 0 && arm < CANARY__ARMS ? &m->out[arm] : NULL;
}

static int add_sums(const PGresult *r, void *arg)
{
	cs_arm_stats *a = arm_of(arg, r);

	if (!a)
		return CANARY_OK;
	a->exposures = cs_pg_u64(r, 1);
	a->errors = cs_pg_u64(r, 2);
	a->latency.zero = cs_pg_u64(r, 3);
	a->latency.total += a->latency.zero;
	a->windows = cs_pg_u64(r, 4);
	a->first_ms = cs_pg_u64(r, 5);
	a->last_ms = cs_pg_u64(r, 6);
	return CANARY_OK;
}

static int add_bin(const PGresult *r, void *arg)
{
	cs_arm_stats *a = arm_of(arg, r);

	if (!a)
		return CANARY_OK;
	return canary__hist_add_bin(&a->latency, (int)cs_pg_i64(r, 1),
		cs_pg_u64(r, 2)) == CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
}

static int stats_in(cs_pg_conn *c, void *arg)
{
	summing *m = arg;
	cs_pg_params p;
	int rc, arm;

	for (arm = 0; arm < CANARY__ARMS; arm++) {
		memset(&m->out[arm], 0, sizeof(m->out[arm]));
		canary__hist_init(&m->out[arm].latency);
	}
	cs_pg_filter_params(&p, m->flag, m->f);
	rc = cs_pg_rows(c, P_STATS_SUMS, &p, add_sums, m);
	if (rc == CANARY_OK)
		rc = cs_pg_rows(c, P_STATS_HIST, &p, add_bin, m);
	if (rc == CANARY_OK && m->f && m->f->users)
		rc = cs_pg_stats_users(c, m->flag, m->f, m->out);
	return rc;
}

int cs_pg_stats(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS])
{
	summing m = { flag, f, out };

	return cs_pg_transact(s, CS_PG_READ, stats_in, &m);
}

/* A series walk: rows come in (window, arm, kind) order; a new window
 * hands the finished one to fn. */
typedef struct walking {
	const char *flag;
	const cs_stats_filter *f;
	cs_series_point *p;
	cs_series_fn fn;
	void *ctx;
	bool open;
} walking;

static int series_row(const PGresult *r, void *arg)
{
	walking *w = arg;
	uint64_t window = cs_pg_u64(r, 0);
	int64_t arm = cs_pg_i64(r, 1);
	cs_arm_stats *a;
	int rc = CANARY_OK;

	if (w->open && window != w->p->window_ms)
		rc = w->fn(w->p, w->ctx);
	if (rc != CANARY_OK)
		return rc;
	if (!w->open || window != w->p->window_ms)
		cs_series_point_reset(w->p, window);
	w->open = true;
	if (arm < 0 || arm >= CANARY__ARMS)
		return CANARY_OK;
	a = &w->p->arm[arm];
	if (cs_pg_i64(r, 2) == 1)
		return canary__hist_add_bin(&a->latency, (int)cs_pg_i64(r, 3),
			cs_pg_u64(r, 4)) == CANARY_OK ? CANARY_OK :
			CANARY_ESTORAGE;
	a->exposures = cs_pg_u64(r, 4);
	a->errors = cs_pg_u64(r, 5);
	a->latency.zero = cs_pg_u64(r, 6);
	a->latency.total += a->latency.zero;
	a->windows = cs_pg_u64(r, 7);
	return CANARY_OK;
}

static int series_in(cs_pg_conn *c, void *arg)
{
	walking *w = arg;
	cs_pg_params p;
	int rc;

	w->open = false;
	cs_pg_filter_params(&p, w->flag, w->f);
	rc = cs_pg_rows(c, P_SERIES, &p, series_row, w);
	if (rc == CANARY_OK && w->open)
		rc = w->fn(w->p, w->ctx);
	return rc;
}

int cs_pg_series(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
	void *ctx)
{
	walking w = { flag, f, p, fn, ctx, false };

	return cs_pg_transact(s, CS_PG_READ, series_in, &w);
}

typedef struct totalling {
	char **flags;
	uint64_t (*nums)[3];
	size_t n, cap;
} totalling;

/* Rows are kept until the transaction ends: a retry must not call the
 * caller's function twice for a row. */
static int keep_total(const PGresult *r, void *arg)
{
	totalling *t = arg;

	if (t->n == t->cap) {
		size_t cap = t->cap ? t->cap * 2 : 16;
		char **f = realloc(t->flags, cap * sizeof(*f));
		uint64_t (*v)[3];

		if (!f)
			return CANARY_ENOMEM;
		t->flags = f;
		v = realloc(t->nums, cap * sizeof(*v));
		if (!v)
			return CANARY_ENOMEM;
		t->nums = v;
		t->cap = cap;
	}
	t->flags[t->n] = strdup(cs_pg_str(r, 0));
	if (!t->flags[t->n])
		return CANARY_ENOMEM;
	t->nums[t->n][0] = cs_pg_u64(r, 1);
	t->nums[t->n][1] = cs_pg_u64(r, 2);
	t->nums[t->n][2] = cs_pg_u64(r, 3);
	t->n++;
	return CANARY_OK;
}

static void forget_totals(totalling *t)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		free(t->flags[i]);
	t->n = 0;
}

static int totals_in(cs_pg_conn *c, void *arg)
{
	forget_totals(arg);
	return cs_pg_rows(c, P_TOTALS, NULL, keep_total, arg);
}

int cs_pg_totals(struct cs_store_impl *s, cs_totals_fn fn, void *ctx)
{
	totalling t;
	size_t i;
	int rc;

	memset(&t, 0, sizeof(t));
	rc = cs_pg_transact(s, CS_PG_READ, totals_in, &t);
	for (i = 0; rc == CANARY_OK && i < t.n; i++)
		if (t.nums[i][0] < CANARY__ARMS)
			fn(t.flags[i], (canary_arm)t.nums[i][0], t.nums[i][1],
				t.nums[i][2], ctx);
	forget_totals(&t);
	free(t.flags);
	free(t.nums);
	return rc;
}

/* ---- retention ------------------------------------------------------- */

typedef struct pruning {
	const cs_retention *r;
	uint64_t removed;
} pruning;

static int prune_one(cs_pg_conn *c, int which, uint64_t before,
	uint64_t *n)
{
	cs_pg_params p;
	uint64_t k = 0;
	int rc;

	if (!before)
		return CANARY_OK;
	cs_pg_params_init(&p);
	cs_pg_uint(&p, before);
	rc = cs_pg_exec(c, which, &p, NULL, &k);
	if (n)
		*n += k;
	return rc;
}

/* Every rollout's history to its first and last records. */
static int cap_decisions(cs_pg_conn *c, uint64_t *n)
{
	cs_pg_params p;
	uint64_t k = 0;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_uint(&p, CS_DECISIONS_HEAD);
	cs_pg_uint(&p, CS_DECISIONS_TAIL);
	rc = cs_pg_exec(c, P_CAP_DECISIONS, &p, NULL, &k);
	*n += k;
	return rc;
}

static int prune_in(cs_pg_conn *c, void *arg)
{
	pruning *pr = arg;
	int rc;

	pr->removed = 0;
	rc = prune_one(c, P_PRUNE_BATCHES, pr->r->batches_before_ms,
		&pr->removed);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_WINDOWS, pr->r->windows_before_ms,
			&pr->removed);
	/* A window's metrics go with it; they are not counted apart. */
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_METRICS, pr->r->windows_before_ms,
			NULL);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_DECISIONS, pr->r->decisions_before_ms,
			&pr->removed);
	if (rc == CANARY_OK && pr->r->decisions_before_ms)
		rc = cap_decisions(c, &pr->removed);
	/* Forgetting evidence changes no count: not counted as removed. */
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_EVIDENCE, pr->r->sketches_before_ms,
			NULL);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_EVIDENCE, pr->r->windows_before_ms,
			NULL);
	/* Merging parts changes no sum and forgets nothing. */
	if (rc == CANARY_OK)
		rc = prune_one(c, P_COMPACT_WINDOWS,
			pr->r->windows_settled_ms, NULL);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_COMPACT_METRICS,
			pr->r->windows_settled_ms, NULL);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_AUDIT, pr->r->audit_before_ms,
			&pr->removed);
	if (rc == CANARY_OK)
		rc = prune_one(c, P_PRUNE_DELIVERIES, pr->r->audit_before_ms,
			&pr->removed);
	if (rc == CANARY_OK)
		rc = cs_pg_settle_evidence(c, pr->r->windows_settled_ms);
	return rc;
}

int cs_pg_prune(struct cs_store_impl *s, const cs_retention *r,
	uint64_t *removed)
{
	pruning pr = { r, 0 };
	int rc;

	if (!r->batches_before_ms && !r->windows_before_ms &&
	    !r->windows_settled_ms && !r->decisions_before_ms &&
	    !r->audit_before_ms && !r->sketches_before_ms)
		return CANARY_OK;
	rc = cs_pg_transact(s, CS_PG_WRITE | CS_PG_IDEMPOTENT, prune_in, &pr);
	if (rc == CANARY_OK && removed)
		*removed = pr.removed;
	return rc;
}

/* ---- custom metrics -------------------------------------------------- */

static int sum_row(const PGresult *r, void *out)
{
	cs_metric_sum *row = out;

	row->arm = cs_pg_i64(r, 0) == CANARY_ARM_CANARY ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE;
	cs_pg_copy(row->name, sizeof(row->name), r, 1);
	row->count = cs_pg_u64(r, 2);
	row->sum = strtod(cs_pg_str(r, 3), NULL);
	return CANARY_OK;
}

int cs_pg_metric_sums(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n)
{
	cs_pg_params p;

	cs_pg_filter_params(&p, flag, f);
	return cs_pg_collect(s, P_METRIC_SUMS, &p, sum_row, sizeof(**out),
		NULL, (void **)out, n);
}
