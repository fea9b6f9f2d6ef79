/*
 * controller_json.h - the rollout controller's JSON documents: the summary
 * of a rollout (GET /v1/admin/rollouts) and the decision records of its
 * history, and one arm's numbers (docs/server.md shows them).
 */
#ifndef CS_CONTROLLER_JSON_H
#define CS_CONTROLLER_JSON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rollout/rollout.h"
#include "store/storage.h"

struct cJSON;

/* The canary share of `step`, percent (0 past the last step). */
double cs_rollout_percent(const cs_rollout *r, size_t step);

/* Rollout summary (no history); NULL on ENOMEM. */
struct cJSON *cs_rollout_to_json(const cs_rollout *r);

/* The skeleton of every decision record, taken at r's step: time, step,
 * percent, source ("controller", "operator"), verdict (NULL = null),
 * action, rule, reason. NULL on ENOMEM. */
struct cJSON *cs_decision_new(const cs_rollout *r, int64_t now_ms,
	const char *source, const char *verdict, const char *action,
	const char *rule, const char *reason);

/* One arm's numbers as the object `name` of `parent`: exposures, errors,
 * error_rate, latency_count, p50_ms, p95_ms, p99_ms (null when there is
 * nothing to compute them from). false on ENOMEM. */
bool cs_arm_stats_to_json(struct cJSON *parent, const char *name,
	const cs_arm_stats *a);

/* The custom metrics (canary_record_metric()) of both arms as the object
 * "custom_metrics" of `parent`: {"stable": {"NAME": {"count", "sum",
 * "mean"}}, "canary": {...}} (the stats document's and each decision's,
 * as context: the judge does not weigh them). false on ENOMEM. */
bool cs_custom_metrics_to_json(struct cJSON *parent, const cs_metric_sum *m,
	size_t n);

/* What the judge saw and said, added to a decision: both arms since the
 * step started (arms[0..1]), the stable arm since the rollout started
 * (arms[CANARY__ARMS + CANARY_ARM_STABLE]), the deciding metric, SRM, the
 * evidence behind the verdict (scope), the units judged per arm (users),
 * every metric. false on ENOMEM. */
bool cs_decision_add_judgement(struct cJSON *d,
	const cs_arm_stats arms[2 * CANARY__ARMS], const cj_result *res);

/* What the state machine said beside its action: whether an alert is
 * open, how long the step still needs (decide_ms, -1 unknown) and a
 * larger step that would decide within max_step (suggest_percent, null:
 * none). false on ENOMEM. */
bool cs_decision_add_fsm(struct cJSON *d, const cj_decision *dec);

#endif
