/*
 * series.c - a rollout as time series: the store's windows merged into
 * buckets, the decision history read once for the step changes, the
 * decisions' chart fields and the latest evidence.
 */
#include "rollout/series.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/controller_json.h"

/* After a rollout ends, a few windows more show the change taking hold. */
#define TAIL_WINDOWS 3

/* ---- points ---------------------------------------------------------- */

typedef struct bucketer {
	cJSON *points;
	uint64_t from_ms, bucket_ms;
	uint64_t start;          /* the open bucket's start */
	bool open;
	cs_arm_stats acc[CANARY__ARMS];
} bucketer;

static int close_bucket(bucketer *b)
{
	cJSON *o = cJSON_CreateObject();
	int a;

	if (!o || !cJSON_AddItemToArray(b->points, o))
		return cJSON_Delete(o), CANARY_ENOMEM;
	if (!cJSON_AddNumberToObject(o, "time_ms", (double)b->start) ||
	    !cs_arm_stats_to_json(o, "stable", &b->acc[CANARY_ARM_STABLE]) ||
	    !cs_arm_stats_to_json(o, "canary", &b->acc[CANARY_ARM_CANARY]))
		return CANARY_ENOMEM;
	for (a = 0; a < CANARY__ARMS; a++) {
		memset(&b->acc[a], 0, sizeof(b->acc[a]));
		canary__hist_init(&b->acc[a].latency);
	}
	return CANARY_OK;
}

static int add_window(const cs_series_point *p, void *ctx)
{
	bucketer *b = ctx;
	uint64_t start = b->from_ms + (p->window_ms - b->from_ms) /
		b->bucket_ms * b->bucket_ms;
	int a, rc;

	if (b->open && start != b->start && (rc = close_bucket(b)) !=
	    CANARY_OK)
		return rc;
	b->start = start;
	b->open = true;
	for (a = 0; a < CANARY__ARMS; a++) {
		b->acc[a].exposures += p->arm[a].exposures;
		b->acc[a].errors += p->arm[a].errors;
		b->acc[a].windows += p->arm[a].windows;
		canary__hist_merge(&b->acc[a].latency, &p->arm[a].latency);
	}
	return CANARY_OK;
}

/* The range [from, to) and the bucket width for at most max_points. */
static void plan_range(const cs_rollout *r, uint64_t window_ms,
	int64_t now_ms, uint64_t max_points, cs_stats_filter *f, bucketer *b)
{
	uint64_t created = r->created_ms > 0 ? (uint64_t)r->created_ms : 0;
	uint64_t end = now_ms > 0 ? (uint64_t)now_ms : 0;
	uint64_t span, per;

	memset(f, 0, sizeof(*f));
	b->from_ms = created / window_ms * window_ms;
	if (r->status != CJ_RUNNING && r->status != CJ_PAUSED &&
	    r->updated_ms > 0) {
		end = ((uint64_t)r->updated_ms / window_ms + 1 + TAIL_WINDOWS) *
			window_ms;
		f->until_ms = end;
	}
	f->since_ms = b->from_ms;
	span = end > b->from_ms ? end - b->from_ms : window_ms;
	per = (span + window_ms * max_points - 1) / (window_ms * max_points);
	b->bucket_ms = window_ms * (per ? per : 1);
}

static cJSON *points_json(cs_store *store, const cs_rollout *r,
	uint64_t window_ms, int64_t now_ms, uint64_t max_points,
	cJSON *doc, int *rc)
{
	bucketer *b = calloc(1, sizeof(*b)); /* four histograms: the heap */
	cs_stats_filter f;
	cJSON *points = NULL;

	*rc = CANARY_ENOMEM;
	if (!b)
		return NULL;
	canary__hist_init(&b->acc[CANARY_ARM_STABLE].latency);
	canary__hist_init(&b->acc[CANARY_ARM_CANARY].latency);
	plan_range(r, window_ms, now_ms, max_points, &f, b);
	b->points = points = cJSON_CreateArray();
	if (points && cJSON_AddNumberToObject(doc, "window_ms",
		    (double)window_ms) &&
	    cJSON_AddNumberToObject(doc, "bucket_ms", (double)b->bucket_ms) &&
	    cJSON_AddNumberToObject(doc, "from_ms", (double)b->from_ms) &&
	    cJSON_AddNumberToObject(doc, "to_ms", f.until_ms ?
		    (double)f.until_ms : (double)now_ms)) {
		*rc = cs_store_series(store, r->flag, &f, add_window, b);
		if (*rc == CANARY_OK && b->open)
			*rc = close_bucket(b);
	}
	free(b);
	if (*rc != CANARY_OK) {
		cJSON_Delete(points);
		return NULL;
	}
	return points;
}

/* ---- decisions ------------------------------------------------------- */

typedef struct reading {
	cJSON *steps;          /* step changes, oldest first */
	cJSON *decisions;      /* the last `keep`, oldest first */
	uint64_t kept, keep;
	cJSON *evidence;       /* the last controller decision */
} reading;

static bool is_step_change(const char *action)
{
	static const char *const changes[] = { "start", "widen", "promote",
		"rollback" };
	size_t i;

	for (i = 0; action && i < sizeof(changes) / sizeof(changes[0]); i++)
		if (strcmp(action, changes[i]) == 0)
			return true;
	return false;
}

/* Copy member `name` of `from` (when present) into `to`. */
static bool copy_member(cJSON *to, const cJSON *from, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(from, name);
	cJSON *dup;

	if (!v)
		return true;
	dup = cJSON_Duplicate(v, true);
	return dup && cJSON_AddItemToObject(to, name, dup);
}

/* The fields of `d` named in `names` (a NULL-terminated list). */
static cJSON *pick(const cJSON *d, const char *const *names)
{
	cJSON *o = cJSON_CreateObject();

	for (; o && *names; names++)
		if (!copy_member(o, d, *names)) {
			cJSON_Delete(o);
			return NULL;
		}
	return o;
}

/* {"stable": {"error_rate", "p95_ms"}, "canary": {...}} of a judgement. */
static bool pick_arms(cJSON *to, const cJSON *d)
{
	static const char *const fields[] = { "exposures", "error_rate",
		"p95_ms", NULL };
	const cJSON *arms = cJSON_GetObjectItemCaseSensitive(d, "arms");
	cJSON *o, *st, *ca;

	if (!cJSON_IsObject(arms))
		return true;
	o = cJSON_AddObjectToObject(to, "arms");
	st = pick(cJSON_GetObjectItemCaseSensitive(arms, "stable"), fields);
	ca = pick(cJSON_GetObjectItemCaseSensitive(arms, "canary"), fields);
	if (!o || !st || !ca) {
		cJSON_Delete(st);
		cJSON_Delete(ca);
		return false;
	}
	cJSON_AddItemToObject(o, "stable", st);
	cJSON_AddItemToObject(o, "canary", ca);
	return true;
}

static int keep_decision(reading *rd, const cJSON *d)
{
	static const char *const fields[] = { "time_ms", "step", "percent",
		"source", "verdict", "action", "rule", "reason", NULL };
	cJSON *o;

	if (!rd->keep)
		return CANARY_OK;
	o = pick(d, fields);
	if (!o || !pick_arms(o, d) || !cJSON_AddItemToArray(rd->decisions, o))
		return cJSON_Delete(o), CANARY_ENOMEM;
	if (++rd->kept > rd->keep) {
		cJSON_DeleteItemFromArray(rd->decisions, 0);
		rd->kept--;
	}
	return CANARY_OK;
}

static int add_step(reading *rd, const cJSON *d)
{
	static const char *const fields[] = { "time_ms", "step", "percent",
		"to_percent", "action", "source", "config_version", NULL };
	cJSON *o = pick(d, fields);

	if (!o || !cJSON_AddItemToArray(rd->steps, o))
		return cJSON_Delete(o), CANARY_ENOMEM;
	return CANARY_OK;
}

static int read_decision(const char *json, size_t len, void *ctx)
{
	reading *rd = ctx;
	cJSON *d = cJSON_ParseWithLength(json, len);
	const cJSON *src = cJSON_GetObjectItemCaseSensitive(d, "source");
	const char *action = cJSON_GetStringValue(
		cJSON_GetObjectItemCaseSensitive(d, "action"));
	int rc;

	if (!d)
		return CANARY_ESTORAGE;
	rc = keep_decision(rd, d);
	if (rc == CANARY_OK && is_step_change(action))
		rc = add_step(rd, d);
	if (rc == CANARY_OK && cJSON_IsString(src) &&
	    strcmp(src->valuestring, "controller") == 0) {
		cJSON_Delete(rd->evidence);
		rd->evidence = d;
		d = NULL;
	}
	cJSON_Delete(d);
	return rc;
}

/* A controller's widen or promote goes to the next step, a rollback to
 * 0, a start stays; an operator's record says where it went. */
static int fill_to_percent(cJSON *steps, const cs_rollout *r)
{
	cJSON *s;

	cJSON_ArrayForEach(s, steps) {
		const char *action = cJSON_GetStringValue(
			cJSON_GetObjectItemCaseSensitive(s, "action"));
		const cJSON *step = cJSON_GetObjectItemCaseSensitive(s, "step");
		double to = 0;

		if (cJSON_GetObjectItemCaseSensitive(s, "to_percent"))
			continue;
		if (cJSON_IsNumber(step) && step->valuedouble >= 0 &&
		    strcmp(action, "start") == 0)
			to = cs_rollout_percent(r, (size_t)step->valuedouble);
		else if (cJSON_IsNumber(step) && step->valuedouble >= 0 &&
		    strcmp(action, "rollback") != 0)
			to = cs_rollout_percent(r,
				(size_t)step->valuedouble + 1);
		if (!cJSON_AddNumberToObject(s, "to_percent", to))
			return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

/* The rollout and its history; the history's parts go into `doc`. */
static int read_rollout(cs_store *store, const char *flag, uint64_t keep,
	cs_rollout *r, cJSON *doc)
{
	reading rd = { cJSON_AddArrayToObject(doc, "steps"),
		cJSON_AddArrayToObject(doc, "decisions"), 0, keep, NULL };
	cs_history h = { 0, read_decision, &rd, 0 };
	int rc = rd.steps && rd.decisions ? cs_store_rollout_get(store, flag,
		r, &h) : CANARY_ENOMEM;
	cJSON *evidence = rd.evidence;

	if (rc == CANARY_OK)
		rc = fill_to_percent(rd.steps, r);
	if (rc == CANARY_OK && !cJSON_AddNumberToObject(doc,
		    "decisions_total", (double)h.total))
		rc = CANARY_ENOMEM;
	if (rc == CANARY_OK && !evidence)
		evidence = cJSON_CreateNull();
	if (rc == CANARY_OK && (!evidence ||
	    !cJSON_AddItemToObject(doc, "evidence", evidence)))
		rc = CANARY_ENOMEM;
	if (rc != CANARY_OK)
		cJSON_Delete(evidence);
	return rc;
}

/* The rollout's summary as "rollout", and its points. */
static int add_summary_and_points(cs_store *store, const cs_rollout *r,
	uint64_t window_ms, int64_t now_ms, const cs_series_query *q,
	cJSON *doc)
{
	cJSON *summary = cs_rollout_to_json(r), *points;
	int rc = CANARY_OK;

	if (!summary || !cJSON_AddItemToObject(doc, "rollout", summary)) {
		cJSON_Delete(summary);
		return CANARY_ENOMEM;
	}
	points = points_json(store, r, window_ms, now_ms, q->max_points, doc,
		&rc);
	if (rc == CANARY_OK && !cJSON_AddItemToObject(doc, "points", points)) {
		cJSON_Delete(points);
		rc = CANARY_ENOMEM;
	}
	return rc;
}

int cs_rollout_series(cs_store *store, const char *flag, uint64_t window_ms,
	int64_t now_ms, const cs_series_query *q, cJSON **out)
{
	cs_rollout *r = malloc(sizeof(*r));
	cJSON *doc = cJSON_CreateObject();
	int rc = r && doc ? read_rollout(store, flag, q->max_decisions, r,
		doc) : CANARY_ENOMEM;

	if (rc == CANARY_OK)
		rc = add_summary_and_points(store, r, window_ms ? window_ms :
			1000, now_ms, q, doc);
	free(r);
	*out = NULL;
	if (rc != CANARY_OK) {
		cJSON_Delete(doc);
		return rc;
	}
	*out = doc;
	return CANARY_OK;
}
