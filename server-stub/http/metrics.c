/*
 * metrics.c - Prometheus counters.
 *
 * Request counts are a dense [endpoint][status] array of atomics: no lock
 * on the request path. Exposure and error totals come from the store's
 * totals table, so they are exact across restarts.
 */
#include "http/metrics.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "buf.h"
#include "peer_log.h"
#include "rollout/rollout.h"

#define STATUS_MIN 100
#define STATUS_MAX 599

struct cs_metrics {
	atomic_uint_fast64_t requests[CS_EP_COUNT][STATUS_MAX - STATUS_MIN + 1];
	atomic_uint_fast64_t batches, duplicates, windows;
	atomic_uint_fast64_t notes[CS_NOTE_COUNT];
	atomic_bool leader;
};

static const char *const endpoint_names[CS_EP_COUNT] = {
	"flags", "stream", "events", "admin_flags", "admin_stats",
	"admin_rollouts", "admin_whoami", "admin_tokens", "admin_audit",
	"admin_webhooks", "ui", "metrics",
	"healthz", "other",
};

const char *cs_endpoint_name(cs_endpoint ep)
{
	return ep < CS_EP_COUNT ? endpoint_names[ep] : "other";
}

int cs_metrics_new(cs_metrics **out)
{
	*out = calloc(1, sizeof(**out)); /* zero bits = zero atomics */
	return *out ? CANARY_OK : CANARY_ENOMEM;
}

void cs_metrics_free(cs_metrics *m)
{
	free(m);
}

void cs_metrics_count(cs_metrics *m, cs_endpoint ep, unsigned int status)
{
	if (ep >= CS_EP_COUNT || status < STATUS_MIN || status > STATUS_MAX)
		return;
	atomic_fetch_add_explicit(&m->requests[ep][status - STATUS_MIN], 1,
		memory_order_relaxed);
}

void cs_metrics_ingested(cs_metrics *m, uint64_t windows, int duplicate)
{
	if (duplicate) {
		atomic_fetch_add_explicit(&m->duplicates, 1, memory_order_relaxed);
		return;
	}
	atomic_fetch_add_explicit(&m->batches, 1, memory_order_relaxed);
	atomic_fetch_add_explicit(&m->windows, windows, memory_order_relaxed);
}

void cs_metrics_note(cs_metrics *m, cs_note note, uint64_t n)
{
	if (note < CS_NOTE_COUNT && n)
		atomic_fetch_add_explicit(&m->notes[note], n,
			memory_order_relaxed);
}

void cs_metrics_set_leader(cs_metrics *m, bool leading)
{
	atomic_store_explicit(&m->leader, leading, memory_order_relaxed);
}

/* Label values escape \, " and newline (exposition format). */
static void put_label(canary__buf *t, const char *v)
{
	for (; *v; v++) {
		if (*v == '\\' || *v == '"')
			canary__buf_printf(t, "\\%c", *v);
		else if (*v == '\n')
			canary__buf_puts(t, "\\n");
		else
			canary__buf_put(t, v, 1);
	}
}

typedef struct totals_ctx {
	canary__buf *t;
	int pass; /* 0 = exposures, 1 = errors */
} totals_ctx;

static void put_total(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *arg)
{
	totals_ctx *c = arg;

	canary__buf_printf(c->t, "%s{flag=\"", c->pass ? "canary_errors_total" :
		"canary_exposures_total");
	put_label(c->t, flag);
	canary__buf_printf(c->t, "\",arm=\"%s\"} %llu\n", canary__arm_name(arm),
		(unsigned long long)(c->pass ? errors : exposures));
}

static int put_totals(canary__buf *t, cs_store *store)
{
	totals_ctx c = { t, 0 };
	int rc;

	canary__buf_printf(t, "# HELP canary_exposures_total Exposures reported by SDKs.\n"
		"# TYPE canary_exposures_total counter\n");
	rc = cs_store_totals(store, put_total, &c);
	c.pass = 1;
	canary__buf_printf(t, "# HELP canary_errors_total Errors reported by SDKs.\n"
		"# TYPE canary_errors_total counter\n");
	if (rc == CANARY_OK)
		rc = cs_store_totals(store, put_total, &c);
	return rc;
}

static void put_requests(canary__buf *t, cs_metrics *m)
{
	int ep, s;

	canary__buf_printf(t, "# HELP canary_http_requests_total HTTP responses by endpoint "
		"and status.\n# TYPE canary_http_requests_total counter\n");
	for (ep = 0; ep < CS_EP_COUNT; ep++) {
		for (s = STATUS_MIN; s <= STATUS_MAX; s++) {
			uint64_t n = atomic_load_explicit(
				&m->requests[ep][s - STATUS_MIN],
				memory_order_relaxed);

			if (n)
				canary__buf_printf(t, "canary_http_requests_total{endpoint=\"%s\","
					"status=\"%d\"} %llu\n", endpoint_names[ep], s,
					(unsigned long long)n);
		}
	}
}

typedef struct rollout_pass {
	canary__buf *t;
	int pass; /* 0 = state, 1 = step */
} rollout_pass;

static int put_rollout(const cs_rollout *r, void *arg)
{
	static const cj_status states[] = { CJ_RUNNING, CJ_PAUSED,
		CJ_ROLLED_BACK, CJ_COMPLETED };
	rollout_pass *p = arg;
	size_t i;

	if (p->pass == 1) {
		canary__buf_printf(p->t, "canary_rollout_step_percent{flag=\"");
		put_label(p->t, r->flag);
		canary__buf_printf(p->t, "\"} %g\n", r->status == CJ_ROLLED_BACK ? 0 :
			r->spec.steps_bp[r->step] / 100.0);
		return CANARY_OK;
	}
	for (i = 0; i < sizeof(states) / sizeof(states[0]); i++) {
		canary__buf_printf(p->t, "canary_rollout_state{flag=\"");
		put_label(p->t, r->flag);
		canary__buf_printf(p->t, "\",state=\"%s\"} %d\n", cj_status_name(states[i]),
			r->status == states[i]);
	}
	return CANARY_OK;
}

/* The latest rollout of each flag: one state series per possible state
 * (1 for the current one), and the canary share it holds now. */
static int put_rollouts(canary__buf *t, cs_store *store)
{
	rollout_pass p = { t, 0 };
	int rc;

	canary__buf_printf(t, "# HELP canary_rollout_state State of the flag's latest "
		"rollout (1 = current).\n# TYPE canary_rollout_state gauge\n");
	rc = cs_store_rollouts_each(store, CS_ROLLOUTS_LATEST, put_rollout,
		&p);
	p.pass = 1;
	canary__buf_printf(t, "# HELP canary_rollout_step_percent Canary share the flag's "
		"rollout holds now, percent.\n"
		"# TYPE canary_rollout_step_percent gauge\n");
	if (rc == CANARY_OK)
		rc = cs_store_rollouts_each(store, CS_ROLLOUTS_LATEST,
			put_rollout, &p);
	return rc;
}

/* ---- live rollouts: each arm of the current step, the last verdict --- */

/* What /metrics shows of one live rollout. */
typedef struct live_view {
	char flag[CANARY__MAX_KEY_LEN + 1];
	int64_t id;
	uint64_t step_version;
	uint64_t exposures[CANARY__ARMS], errors[CANARY__ARMS];
	double q[CANARY__ARMS][3];        /* p50, p95, p99 in ms (NaN: none) */
	const char *verdict;         /* the judge's last, or NULL */
	cs_metric_sum *sums;         /* the step's custom metrics */
	size_t nsums;
} live_view;

typedef struct live_list {
	live_view *v;
	size_t n, cap;
} live_list;

static int collect_live(const cs_rollout *r, void *arg)
{
	live_list *l = arg;
	live_view *v;

	if (cs_grow((void **)&l->v, &l->cap, l->n, sizeof(*l->v)) != CANARY_OK)
		return CANARY_ENOMEM;
	v = &l->v[l->n++];
	memset(v, 0, sizeof(*v));
	snprintf(v->flag, sizeof(v->flag), "%s", r->flag);
	v->id = r->id;
	v->step_version = r->step_version;
	return CANARY_OK;
}

/* The newest controller decision's verdict (one the judge gave). */
static int last_verdict(const char *json, size_t len, void *arg)
{
	static const char *const names[] = { "PASS", "FAIL", "INCONCLUSIVE" };
	cJSON *d = cJSON_ParseWithLength(json, len);
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(d, "verdict");
	size_t i;

	for (i = 0; cJSON_IsString(v) && i < 3; i++)
		if (strcmp(v->valuestring, names[i]) == 0)
			*(const char **)arg = names[i]; /* oldest first: last wins */
	cJSON_Delete(d);
	return CANARY_OK;
}

static int fill_live(cs_store *store, live_view *v, cs_arm_stats *arms)
{
	static const double qs[3] = { 0.50, 0.95, 0.99 };
	cs_stats_filter f;
	cs_history h = { 16, last_verdict, &v->verdict, 0 };
	cs_rollout *r = malloc(sizeof(*r));
	int rc = r ? CANARY_OK : CANARY_ENOMEM, a, i;

	memset(&f, 0, sizeof(f));
	f.min_config_version = v->step_version;
	if (rc == CANARY_OK)
		rc = cs_store_stats(store, v->flag, &f, arms);
	if (rc == CANARY_OK)
		rc = cs_store_metric_sums(store, v->flag, &f, &v->sums,
			&v->nsums);
	if (rc == CANARY_OK)
		rc = cs_store_rollout_get(store, v->flag, r, &h);
	free(r);
	for (a = 0; rc == CANARY_OK && a < CANARY__ARMS; a++) {
		v->exposures[a] = arms[a].exposures;
		v->errors[a] = arms[a].errors;
		for (i = 0; i < 3; i++)
			v->q[a][i] = canary__hist_quantile(&arms[a].latency, qs[i]);
	}
	return rc;
}

static void put_flag_arm(canary__buf *t, const char *series, const char *flag,
	int arm)
{
	canary__buf_printf(t, "%s{flag=\"", series);
	put_label(t, flag);
	canary__buf_printf(t, "\",arm=\"%s\"",
		canary__arm_name((canary_arm)arm));
}

static void put_live_counts(canary__buf *t, const live_list *l)
{
	size_t i;
	int a, k;

	for (k = 0; k < 2; k++) {
		const char *name = k ? "canary_rollout_errors" :
			"canary_rollout_exposures";

		canary__buf_printf(t, "# HELP %s %s of each arm in the current "
			"step of a live rollout.\n# TYPE %s gauge\n", name,
			k ? "Errors" : "Exposures", name);
		for (i = 0; i < l->n; i++)
			for (a = 0; a < CANARY__ARMS; a++) {
				put_flag_arm(t, name, l->v[i].flag, a);
				canary__buf_printf(t, "} %llu\n",
					(unsigned long long)(k ? l->v[i].errors[a] :
					l->v[i].exposures[a]));
			}
	}
}

static void put_live_latency(canary__buf *t, const live_list *l)
{
	static const char *const qn[3] = { "0.5", "0.95", "0.99" };
	size_t i;
	int a, q;

	canary__buf_printf(t, "# HELP canary_rollout_latency_ms Latency "
		"quantiles of each arm in the current step of a live rollout.\n"
		"# TYPE canary_rollout_latency_ms gauge\n");
	for (i = 0; i < l->n; i++)
		for (a = 0; a < CANARY__ARMS; a++)
			for (q = 0; q < 3; q++) {
				if (isnan(l->v[i].q[a][q]))
					continue;
				put_flag_arm(t, "canary_rollout_latency_ms",
					l->v[i].flag, a);
				canary__buf_printf(t, ",quantile=\"%s\"} %g\n",
					qn[q], l->v[i].q[a][q]);
			}
}

static void put_live_verdicts(canary__buf *t, const live_list *l)
{
	static const char *const names[] = { "PASS", "FAIL", "INCONCLUSIVE" };
	size_t i, k;

	canary__buf_printf(t, "# HELP canary_rollout_verdict The judge's last "
		"verdict on a live rollout (1 = it).\n"
		"# TYPE canary_rollout_verdict gauge\n");
	for (i = 0; i < l->n; i++) {
		if (!l->v[i].verdict)
			continue;
		for (k = 0; k < 3; k++) {
			canary__buf_printf(t, "canary_rollout_verdict{flag=\"");
			put_label(t, l->v[i].flag);
			canary__buf_printf(t, "\",verdict=\"%s\"} %d\n",
				names[k], l->v[i].verdict == names[k]);
		}
	}
}

static void put_live_metrics(canary__buf *t, const live_list *l)
{
	size_t i, j;
	int k;

	for (k = 0; k < 2; k++) {
		const char *name = k ? "canary_rollout_metric_sum" :
			"canary_rollout_metric_count";

		canary__buf_printf(t, "# HELP %s Custom metrics "
			"(canary_record_metric) of each arm in the current step "
			"of a live rollout: %s.\n"
			"# TYPE %s gauge\n", name, k ? "the sum of the values" :
			"how many values", name);
		for (i = 0; i < l->n; i++)
			for (j = 0; j < l->v[i].nsums; j++) {
				const cs_metric_sum *m = &l->v[i].sums[j];

				put_flag_arm(t, name, l->v[i].flag, (int)m->arm);
				canary__buf_printf(t, ",name=\"");
				put_label(t, m->name);
				if (k)
					canary__buf_printf(t, "\"} %.17g\n",
						m->sum);
				else
					canary__buf_printf(t, "\"} %llu\n",
						(unsigned long long)m->count);
			}
	}
}

static int put_live(canary__buf *t, cs_store *store)
{
	live_list l = { NULL, 0, 0 };
	cs_arm_stats *arms = calloc(CANARY__ARMS, sizeof(*arms)); /* not the stack */
	size_t i;
	int rc = arms ? cs_store_rollouts_each(store, CS_ROLLOUTS_ACTIVE,
		collect_live, &l) : CANARY_ENOMEM;

	for (i = 0; rc == CANARY_OK && i < l.n; i++)
		rc = fill_live(store, &l.v[i], arms);
	if (rc == CANARY_OK) {
		put_live_counts(t, &l);
		put_live_latency(t, &l);
		put_live_verdicts(t, &l);
		put_live_metrics(t, &l);
	}
	for (i = 0; i < l.n; i++)
		free(l.v[i].sums);
	free(l.v);
	free(arms);
	return rc;
}

int cs_metrics_render(cs_metrics *m, cs_store *store, uint64_t version,
	uint64_t open_streams, char **out, size_t *len)
{
	canary__buf t;
	int rc;

	*out = NULL;
	canary__buf_init(&t, NULL);
	canary__buf_printf(&t, "# HELP canary_config_version Current flag config version.\n"
		"# TYPE canary_config_version gauge\ncanary_config_version %llu\n",
		(unsigned long long)version);
	canary__buf_printf(&t, "# HELP canary_streams_open Open /v1/stream connections.\n"
		"# TYPE canary_streams_open gauge\ncanary_streams_open %llu\n",
		(unsigned long long)open_streams);
	canary__buf_printf(&t, "# HELP canary_controller_leader 1 while this server holds "
		"the rollout controller's lease.\n"
		"# TYPE canary_controller_leader gauge\n"
		"canary_controller_leader %d\n",
		atomic_load(&m->leader) ? 1 : 0);
	canary__buf_printf(&t, "# HELP canary_event_batches_total Event batches accepted.\n"
		"# TYPE canary_event_batches_total counter\n"
		"canary_event_batches_total %llu\n"
		"# HELP canary_event_batches_duplicate_total Replayed batches "
		"acknowledged without counting.\n"
		"# TYPE canary_event_batches_duplicate_total counter\n"
		"canary_event_batches_duplicate_total %llu\n"
		"# HELP canary_event_windows_total Event windows accepted.\n"
		"# TYPE canary_event_windows_total counter\n"
		"canary_event_windows_total %llu\n",
		(unsigned long long)atomic_load(&m->batches),
		(unsigned long long)atomic_load(&m->duplicates),
		(unsigned long long)atomic_load(&m->windows));
	canary__buf_printf(&t, "# HELP canary_http_client_aborts_total Connections their "
		"clients closed mid-request or mid-answer.\n"
		"# TYPE canary_http_client_aborts_total counter\n"
		"canary_http_client_aborts_total %llu\n"
		"# HELP canary_http_deadline_closed_total Connections closed "
		"for missing a deadline (headers, body, idle).\n"
		"# TYPE canary_http_deadline_closed_total counter\n"
		"canary_http_deadline_closed_total %llu\n",
		(unsigned long long)cs_peer_log_aborts(),
		(unsigned long long)atomic_load(
			&m->notes[CS_NOTE_DEADLINE_CLOSED]));
	canary__buf_printf(&t, "# HELP canary_event_windows_dropped_total Event "
		"windows not counted: a config version the server never issued, "
		"or a flag it does not have.\n"
		"# TYPE canary_event_windows_dropped_total counter\n"
		"canary_event_windows_dropped_total{reason=\"unissued_version\"} "
		"%llu\n"
		"canary_event_windows_dropped_total{reason=\"unknown_flag\"} "
		"%llu\n"
		"# HELP canary_event_batches_over_budget_total Event batches "
		"refused (429) over their SDK key's budget.\n"
		"# TYPE canary_event_batches_over_budget_total counter\n"
		"canary_event_batches_over_budget_total %llu\n",
		(unsigned long long)atomic_load(
			&m->notes[CS_NOTE_DROPPED_VERSION]),
		(unsigned long long)atomic_load(&m->notes[CS_NOTE_DROPPED_FLAG]),
		(unsigned long long)atomic_load(&m->notes[CS_NOTE_OVER_BUDGET]));
	rc = put_totals(&t, store);
	if (rc == CANARY_OK)
		rc = put_rollouts(&t, store);
	if (rc == CANARY_OK)
		rc = put_live(&t, store);
	put_requests(&t, m);
	if (rc == CANARY_OK && t.failed)
		rc = CANARY_ENOMEM;
	if (rc != CANARY_OK) {
		canary__buf_free(&t);
		return rc;
	}
	*out = canary__buf_take(&t, len);
	return CANARY_OK;
}
