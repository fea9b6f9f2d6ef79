/*
 * stats_json.c - the stats document: per-arm sums and latency quantiles.
 */
#include "api/stats_json.h"

#include <cjson/cJSON.h>
#include <math.h>

static bool add_quantile(cJSON *obj, const char *name, const cs_arm_stats *a,
	double q)
{
	double v = canary__hist_quantile(&a->latency, q);

	if (isnan(v))
		return cJSON_AddNullToObject(obj, name) != NULL;
	/* Three significant decimals of a millisecond are plenty at 1%. */
	return cJSON_AddNumberToObject(obj, name, round(v * 1000) / 1000) !=
		NULL;
}

static cJSON *arm_json(const cs_arm_stats *a)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *lat = cJSON_CreateObject();
	bool ok;

	ok = obj && lat &&
	     cJSON_AddNumberToObject(obj, "exposures", (double)a->exposures) &&
	     cJSON_AddNumberToObject(obj, "errors", (double)a->errors) &&
	     (a->exposures ?
		cJSON_AddNumberToObject(obj, "error_rate",
			(double)a->errors / (double)a->exposures) != NULL :
		cJSON_AddNullToObject(obj, "error_rate") != NULL) &&
	     cJSON_AddNumberToObject(obj, "windows", (double)a->windows) &&
	     cJSON_AddNumberToObject(lat, "count", (double)canary__hist_count(&a->latency)) &&
	     add_quantile(lat, "p50", a, 0.50) &&
	     add_quantile(lat, "p95", a, 0.95) &&
	     add_quantile(lat, "p99", a, 0.99);
	if (!ok) {
		cJSON_Delete(obj);
		cJSON_Delete(lat);
		return NULL;
	}
	cJSON_AddItemToObject(obj, "latency_ms", lat);
	return obj;
}

cJSON *cs_stats_to_json(const char *flag, const cs_stats_filter *f,
	const cs_arm_stats arms[CANARY__ARMS])
{
	cJSON *root = cJSON_CreateObject();
	cJSON *by_arm = cJSON_CreateObject();
	cJSON *st = arm_json(&arms[CANARY_ARM_STABLE]);
	cJSON *ca = arm_json(&arms[CANARY_ARM_CANARY]);
	bool ok;

	ok = root && by_arm && st && ca &&
	     cJSON_AddStringToObject(root, "flag", flag) &&
	     (f->has_config_version ?
		cJSON_AddNumberToObject(root, "config_version",
			(double)f->config_version) != NULL :
		cJSON_AddNullToObject(root, "config_version") != NULL) &&
	     cJSON_AddNumberToObject(root, "since", (double)f->since_ms);
	if (!ok) {
		cJSON_Delete(root);
		cJSON_Delete(by_arm);
		cJSON_Delete(st);
		cJSON_Delete(ca);
		return NULL;
	}
	cJSON_AddItemToObject(by_arm, "stable", st);
	cJSON_AddItemToObject(by_arm, "canary", ca);
	cJSON_AddItemToObject(root, "arms", by_arm);
	return root;
}
