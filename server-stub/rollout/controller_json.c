/*
 * controller_json.c - the rollout controller's documents: a rollout's
 * summary and the decision records, with every number the judge saw.
 * Numbers the judge could not compute are null.
 */
#include "rollout/controller_json.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

/* A number, or null when it is not finite (no data, test not run). */
static bool add_num(cJSON *obj, const char *name, double v)
{
	return isfinite(v) ? cJSON_AddNumberToObject(obj, name, v) != NULL :
		cJSON_AddNullToObject(obj, name) != NULL;
}

double cs_rollout_percent(const cs_rollout *r, size_t step)
{
	return step < r->spec.nsteps ? r->spec.steps_bp[step] / 100.0 : 0;
}

cJSON *cs_rollout_to_json(const cs_rollout *r)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *spec = cs_rollout_spec_to_json(&r->spec);
	double effective = r->status == CJ_ROLLED_BACK ? 0 :
		cs_rollout_percent(r, r->step);
	bool ok = obj && spec &&
		cJSON_AddStringToObject(obj, "flag", r->flag) &&
		cJSON_AddNumberToObject(obj, "id", (double)r->id) &&
		cJSON_AddStringToObject(obj, "state", cj_status_name(r->status)) &&
		cJSON_AddStringToObject(obj, "reason", r->reason) &&
		cJSON_AddNumberToObject(obj, "step", (double)r->step) &&
		cJSON_AddNumberToObject(obj, "steps_total",
			(double)r->spec.nsteps) &&
		cJSON_AddNumberToObject(obj, "step_percent",
			cs_rollout_percent(r, r->step)) &&
		cJSON_AddNumberToObject(obj, "percent", effective) &&
		cJSON_AddNumberToObject(obj, "step_started_ms",
			(double)r->step_start_ms) &&
		cJSON_AddNumberToObject(obj, "step_config_version",
			(double)r->step_version) &&
		cJSON_AddNumberToObject(obj, "created_ms",
			(double)r->created_ms) &&
		cJSON_AddNumberToObject(obj, "updated_ms",
			(double)r->updated_ms);

	if (ok) {
		cJSON_AddItemToObject(obj, "spec", spec);
		return obj;
	}
	cJSON_Delete(spec);
	cJSON_Delete(obj);
	return NULL;
}

cJSON *cs_decision_new(const cs_rollout *r, int64_t now_ms,
	const char *source, const char *verdict, const char *action,
	const char *rule, const char *reason)
{
	cJSON *d = cJSON_CreateObject();
	bool ok = d &&
		cJSON_AddNumberToObject(d, "time_ms", (double)now_ms) &&
		cJSON_AddNumberToObject(d, "step", (double)r->step) &&
		cJSON_AddNumberToObject(d, "percent", cs_rollout_percent(r, r->step)) &&
		cJSON_AddStringToObject(d, "source", source) &&
		(verdict ? cJSON_AddStringToObject(d, "verdict", verdict) :
			cJSON_AddNullToObject(d, "verdict")) &&
		cJSON_AddStringToObject(d, "action", action) &&
		cJSON_AddStringToObject(d, "rule", rule) &&
		cJSON_AddStringToObject(d, "reason", reason);

	if (!ok) {
		cJSON_Delete(d);
		return NULL;
	}
	return d;
}

bool cs_arm_stats_to_json(cJSON *parent, const char *name,
	const cs_arm_stats *a)
{
	cJSON *o = cJSON_AddObjectToObject(parent, name);
	const canary__hist *h = &a->latency;

	return o &&
		cJSON_AddNumberToObject(o, "exposures", (double)a->exposures) &&
		cJSON_AddNumberToObject(o, "errors", (double)a->errors) &&
		add_num(o, "error_rate", a->exposures ?
			(double)a->errors / (double)a->exposures : NAN) &&
		cJSON_AddNumberToObject(o, "latency_count",
			(double)canary__hist_count(h)) &&
		add_num(o, "p50_ms", canary__hist_quantile(h, 0.50)) &&
		add_num(o, "p95_ms", canary__hist_quantile(h, 0.95)) &&
		add_num(o, "p99_ms", canary__hist_quantile(h, 0.99));
}

static bool add_metric(cJSON *arr, const cj_metric *m)
{
	cJSON *o = cJSON_CreateObject();

	if (!o || !cJSON_AddItemToArray(arr, o))
		return cJSON_Delete(o), false;
	return cJSON_AddStringToObject(o, "name", m->name) &&
		cJSON_AddBoolToObject(o, "enabled", m->enabled) &&
		cJSON_AddStringToObject(o, "verdict",
			cj_verdict_name(m->verdict)) &&
		cJSON_AddStringToObject(o, "rule", m->rule ? m->rule : "") &&
		cJSON_AddBoolToObject(o, "critical", m->critical) &&
		cJSON_AddStringToObject(o, "reason", m->reason) &&
		add_num(o, "stable", m->stable) &&
		add_num(o, "canary", m->canary) &&
		add_num(o, "statistic", m->statistic) &&
		add_num(o, "threshold", m->threshold) &&
		add_num(o, "pass_statistic", m->pass_statistic) &&
		add_num(o, "pass_threshold", m->pass_threshold);
}

/* The metric whose rule decided (errors when none did). */
static const cj_metric *deciding(const cj_result *res)
{
	int i;

	for (i = 0; i < CJ_M_COUNT; i++)
		if (res->metrics[i].enabled && res->rule &&
		    res->metrics[i].rule &&
		    strcmp(res->metrics[i].rule, res->rule) == 0)
			return &res->metrics[i];
	return &res->metrics[CJ_M_ERRORS];
}

/* The units the judge counted per arm (estimates from the sketches; the
 * requests for a v1 arm) and how clustered the errors were. */
static bool add_users(cJSON *d, const cj_result *res)
{
	static const char *const names[2] = { "stable", "canary" };
	cJSON *u = cJSON_AddObjectToObject(d, "users");
	int a;

	for (a = 0; u && a < 2; a++) {
		cJSON *o = cJSON_AddObjectToObject(u, names[a]);

		if (!o || !add_num(o, "units", res->units[a]) ||
		    !add_num(o, "error_units", res->error_units[a]) ||
		    !add_num(o, "dispersion", res->dispersion[a]))
			return false;
	}
	return u != NULL;
}

bool cs_decision_add_fsm(cJSON *d, const cj_decision *dec)
{
	return cJSON_AddBoolToObject(d, "alert", dec->alert) &&
		cJSON_AddNumberToObject(d, "decide_ms",
			(double)dec->decide_ms) &&
		(dec->suggest_bp ? cJSON_AddNumberToObject(d,
			"suggest_percent", dec->suggest_bp / 100.0) :
			cJSON_AddNullToObject(d, "suggest_percent")) != NULL;
}

bool cs_decision_add_judgement(cJSON *d, const cs_arm_stats arms[2 * CANARY__ARMS],
	const cj_result *res)
{
	const cj_metric *m = deciding(res);
	const cs_arm_stats *hist = &arms[CANARY__ARMS + CANARY_ARM_STABLE];
	cJSON *a = cJSON_AddObjectToObject(d, "arms");
	cJSON *h = cJSON_AddObjectToObject(d, "stable_history");
	cJSON *srm, *metrics;
	int i;

	if (!a || !cs_arm_stats_to_json(a, "stable", &arms[CANARY_ARM_STABLE]) ||
	    !cs_arm_stats_to_json(a, "canary", &arms[CANARY_ARM_CANARY]) || !h ||
	    !cJSON_AddNumberToObject(h, "exposures", (double)hist->exposures) ||
	    !cJSON_AddNumberToObject(h, "errors", (double)hist->errors))
		return false;
	if (!cJSON_AddStringToObject(d, "judge_rule", res->rule ? res->rule :
		"") || !cJSON_AddStringToObject(d, "judge_reason", res->reason) ||
	    !cJSON_AddStringToObject(d, "metric", m->name) ||
	    !add_num(d, "statistic", m->statistic) ||
	    !add_num(d, "threshold", m->threshold) ||
	    !add_num(d, "pass_statistic", m->pass_statistic) ||
	    !add_num(d, "pass_threshold", m->pass_threshold))
		return false;
	srm = cJSON_AddObjectToObject(d, "srm");
	if (!srm || !add_num(srm, "expected", res->share_expected) ||
	    !add_num(srm, "observed", res->share_observed) ||
	    !add_num(srm, "statistic", res->srm_statistic) ||
	    !add_num(srm, "threshold", res->srm_threshold))
		return false;
	if (!cJSON_AddStringToObject(d, "scope", res->scope ? res->scope :
		"step") || !add_users(d, res))
		return false;
	metrics = cJSON_AddArrayToObject(d, "metrics");
	for (i = 0; metrics && i < CJ_M_COUNT; i++)
		if (!add_metric(metrics, &res->metrics[i]))
			return false;
	return metrics != NULL;
}

bool cs_custom_metrics_to_json(cJSON *parent, const cs_metric_sum *m,
	size_t n)
{
	cJSON *all = cJSON_AddObjectToObject(parent, "custom_metrics");
	cJSON *arm[CANARY__ARMS];
	size_t i;

	if (!all)
		return false;
	arm[CANARY_ARM_STABLE] = cJSON_AddObjectToObject(all, "stable");
	arm[CANARY_ARM_CANARY] = cJSON_AddObjectToObject(all, "canary");
	if (!arm[CANARY_ARM_STABLE] || !arm[CANARY_ARM_CANARY])
		return false;
	for (i = 0; i < n; i++) {
		cJSON *o = cJSON_AddObjectToObject(arm[m[i].arm], m[i].name);

		if (!o || !cJSON_AddNumberToObject(o, "count",
			    (double)m[i].count) ||
		    !add_num(o, "sum", m[i].sum) ||
		    !add_num(o, "mean", m[i].count ?
			    m[i].sum / (double)m[i].count : NAN))
			return false;
	}
	return true;
}
