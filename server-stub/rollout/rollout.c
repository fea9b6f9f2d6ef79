/*
 * rollout.c - rollout specs: defaults, strict parsing, JSON form.
 */
#include "rollout/rollout.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "json_read.h"

void cs_rollout_spec_default(cs_rollout_spec *s)
{
	static const uint32_t steps[] = { 100, 500, 2500, 5000, 10000 };

	memset(s, 0, sizeof(*s));
	memcpy(s->steps_bp, steps, sizeof(steps));
	s->nsteps = sizeof(steps) / sizeof(steps[0]);
	s->min_soak_ms = 5 * 60 * 1000;
	s->max_step_ms = 60 * 60 * 1000;
	s->interval_ms = 60 * 1000;
	cj_gates_default(&s->gates);
	s->on_stall = CJ_STALL_ROLLBACK;
	s->sustain_ms = s->grace_ms = s->max_wait_ms = -1;
	cs_rollout_spec_derive(s);
}

/* k x ms, at most the longest duration a spec may hold. */
static int64_t times(int64_t k, int64_t ms)
{
	return ms > CS_ROLLOUT_MAX_DURATION_MS / k ? CS_ROLLOUT_MAX_DURATION_MS :
		k * ms;
}

void cs_rollout_spec_derive(cs_rollout_spec *s)
{
	if (s->sustain_ms < 0)
		s->sustain_ms = times(2, s->interval_ms);
	if (s->grace_ms < 0)
		s->grace_ms = times(3, s->interval_ms);
	if (s->max_wait_ms < 0)
		s->max_wait_ms = times(8, s->max_step_ms);
}

int cs_parse_duration(const char *s, int64_t *ms)
{
	static const struct { const char *unit; int64_t ms; } units[] = {
		{ "ms", 1 }, { "s", 1000 }, { "m", 60000 }, { "h", 3600000 },
	};
	int64_t n = 0;
	size_t i;

	if (!s || *s < '0' || *s > '9')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		n = n * 10 + (*s - '0');
		if (n > CS_ROLLOUT_MAX_DURATION_MS)
			return -1;
	}
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(s, units[i].unit) == 0) {
			if (n > CS_ROLLOUT_MAX_DURATION_MS / units[i].ms)
				return -1;
			*ms = n * units[i].ms;
			return 0;
		}
	}
	return -1;
}

/* A JSON number of percent in steps of 0.01, as basis points within
 * lo..hi; false when it is not one. */
static bool percent_bp(const cJSON *item, double lo, double hi,
	uint32_t *bp)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble * 100.0;
	if (!(v >= lo && v <= hi) || fabs(v - round(v)) > 1e-6)
		return false;
	*bp = (uint32_t)round(v);
	return true;
}

static int parse_steps(const canary__json_reader *r, const cJSON *item,
	cs_rollout_spec *out)
{
	const cJSON *arr, *it;
	char at[32];
	size_t n = 0;
	int rc = canary__json_array(r, item, "", "steps", &arr);

	if (rc != CANARY_OK || !arr)
		return rc;
	cJSON_ArrayForEach(it, arr) {
		canary__path_index(at, sizeof(at), "steps", n);
		if (n == CS_ROLLOUT_MAX_STEPS)
			return canary__perror_set(r->err, "steps",
				"at most %d steps", CS_ROLLOUT_MAX_STEPS);
		if (!cJSON_IsNumber(it))
			return canary__perror_set(r->err, at,
				"must be a number (percent)");
		if (!percent_bp(it, 1, 10000, &out->steps_bp[n]))
			return canary__perror_set(r->err, at,
				"must be 0.01..100 in steps of 0.01");
		if (n > 0 && out->steps_bp[n] <= out->steps_bp[n - 1])
			return canary__perror_set(r->err, at,
				"must be greater than the step before");
		n++;
	}
	if (n == 0)
		return canary__perror_set(r->err, "steps", "must not be empty");
	out->nsteps = n;
	return CANARY_OK;
}

/* widen_undecided: a percent up to 50 (past half the traffic the stable
 * arm is the smaller one), or 0: off. */
static int parse_widen_undecided(const canary__json_reader *r,
	const cJSON *item, uint32_t *bp)
{
	if (item && !percent_bp(item, 0, 5000, bp))
		return canary__perror_set(r->err, "widen_undecided",
			"must be a percent 0.01..50 in steps of 0.01, or 0 (off)");
	return CANARY_OK;
}

static int parse_dur(const canary__json_reader *r, const cJSON *item,
	const char *name, int64_t *ms)
{
	const char *text = NULL;

	if (!item)
		return CANARY_OK;
	if (canary__json_string(r, item, "", name, 32, &text) != CANARY_OK ||
	    !text || cs_parse_duration(text, ms) != 0)
		return canary__perror_set(r->err, name, "must be a duration like "
			"\"500ms\", \"2s\", \"5m\" or \"1h\" (at most 31 days)");
	return CANARY_OK;
}

/* A gate: where it lives in cj_gates and whether it is a count. */
typedef struct gate_field {
	const char *name;
	double *d;
	uint64_t *u;
} gate_field;

static size_t gate_fields(cj_gates *g, gate_field *f)
{
	size_t n = 0;

#define D(x) f[n++] = (gate_field){ #x, &g->x, NULL }
#define U(x) f[n++] = (gate_field){ #x, NULL, &g->x }
	D(alpha); D(pass_alpha); D(err_ratio); D(err_abs); D(err_pass_ratio);
	D(err_critical_ratio); D(err_critical_rate); U(sparse_min_errors);
	D(lat_floor_ms); D(lat_critical_ratio); U(min_exposures);
	U(min_latency); D(srm_alpha); D(recent_alpha);
#undef D
#undef U
	return n;
}

#define NGATES 14
#define MAX_GATE_COUNT 1e15

static int parse_lat_ratio(const canary__json_reader *r, const cJSON *arr,
	cj_gates *g)
{
	int i;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 3)
		return canary__perror_set(r->err, "gates.lat_ratio",
			"must be [p50, p95, p99] ratios (0 turns one off)");
	for (i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, i);

		if (!cJSON_IsNumber(v))
			return canary__perror_set(r->err, "gates.lat_ratio",
				"must hold numbers");
		g->lat_ratio[i] = v->valuedouble;
	}
	return CANARY_OK;
}

/* Every gate is optional; a name that is not a gate is an error (a
 * mistyped gate must not silently keep its default). A stored spec from
 * before one indifference zone may pass at a looser margin than it
 * fails: it now passes at its FAIL margin. */
static int parse_gates(const canary__json_reader *r, const cJSON *item,
	cj_gates *g, bool stored)
{
	gate_field f[NGATES];
	const char *names[NGATES + 1];
	const cJSON *m[NGATES + 1], *obj;
	size_t n = gate_fields(g, f), i;
	int rc = canary__json_object(r, item, "", "gates", &obj);

	if (rc != CANARY_OK || !obj)
		return rc;
	for (i = 0; i < n; i++)
		names[i] = f[i].name;
	names[n] = "lat_ratio";
	rc = canary__json_members(r, obj, "gates", names, n + 1, m);
	for (i = 0; rc == CANARY_OK && i < n; i++) {
		uint64_t u;

		if (f[i].d)
			rc = canary__json_number(r, m[i], "gates", f[i].name,
				f[i].d);
		else if ((rc = canary__json_uint(r, m[i], "gates", f[i].name,
			    (uint64_t)MAX_GATE_COUNT, false, &u)) == CANARY_OK &&
			 m[i])
			*f[i].u = u;
	}
	if (rc == CANARY_OK && m[n])
		rc = parse_lat_ratio(r, m[n], g);
	if (rc == CANARY_OK && stored && g->err_pass_ratio > g->err_ratio)
		g->err_pass_ratio = g->err_ratio;
	if (rc == CANARY_OK && cj_gates_validate(g, "gates", r->err) != 0)
		rc = CANARY_EPARSE;
	return rc;
}

/* "rollback" or "pause" (`name` says what the pause means) into *pause. */
static int parse_rollback_or_pause(const canary__json_reader *r,
	const cJSON *item, const char *name, const char *pause_means,
	bool *pause)
{
	if (!item)
		return CANARY_OK;
	if (cJSON_IsString(item) && strcmp(item->valuestring, "rollback") == 0)
		*pause = false;
	else if (cJSON_IsString(item) && strcmp(item->valuestring, "pause") == 0)
		*pause = true;
	else
		return canary__perror_set(r->err, name,
			"must be \"rollback\" or \"pause\" (%s)", pause_means);
	return CANARY_OK;
}

static int parse_on_stall(const canary__json_reader *r, const cJSON *item,
	cj_on_stall *out)
{
	bool pause = *out == CJ_STALL_PAUSE;
	int rc = parse_rollback_or_pause(r, item, "on_stall", "wait for a "
		"person", &pause);

	*out = pause ? CJ_STALL_PAUSE : CJ_STALL_ROLLBACK;
	return rc;
}

static int check_spec(const cs_rollout_spec *s, canary__perror *e)
{
	if (s->max_step_ms <= 0)
		return canary__perror_set(e, "max_step", "must be greater than 0");
	if (s->max_step_ms < s->min_soak_ms)
		return canary__perror_set(e, "max_step", "must be at least min_soak");
	if (s->interval_ms < CS_ROLLOUT_MIN_INTERVAL_MS)
		return canary__perror_set(e, "interval", "must be at least %dms",
			CS_ROLLOUT_MIN_INTERVAL_MS);
	if (s->max_wait_ms < s->max_step_ms)
		return canary__perror_set(e, "max_wait", "must be at least "
			"max_step");
	return CANARY_OK;
}

/* The members of a spec; a request also names its flag (the last one). */
enum { R_STEPS, R_SOAK, R_MAX_STEP, R_INTERVAL, R_GATES, R_ON_FAIL,
	R_SUSTAIN, R_GRACE, R_ON_STALL, R_BAKE, R_MAX_WAIT, R_WIDEN_UNDECIDED,
	R_FLAG, R_COUNT };
static const char *const spec_names[R_COUNT] = { "steps", "min_soak",
	"max_step", "interval", "gates", "on_fail", "sustain", "grace",
	"on_stall", "bake", "max_wait", "widen_undecided", "flag" };

static int parse_spec(const canary__json_reader *r, const cJSON *doc,
	char *flag, cs_rollout_spec *out)
{
	const cJSON *m[R_COUNT];
	const char *key = NULL;
	int rc = canary__json_members(r, doc, "", spec_names,
		flag ? R_COUNT : R_FLAG, m);

	if (rc == CANARY_OK && flag)
		rc = canary__json_name(r, m[R_FLAG], "", "flag",
			CANARY__MAX_KEY_LEN, &key);
	if (rc == CANARY_OK && flag)
		memcpy(flag, key, strlen(key) + 1);
	if (rc == CANARY_OK)
		rc = parse_steps(r, m[R_STEPS], out);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_SOAK], "min_soak", &out->min_soak_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_MAX_STEP], "max_step", &out->max_step_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_INTERVAL], "interval", &out->interval_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_SUSTAIN], "sustain", &out->sustain_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_GRACE], "grace", &out->grace_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_BAKE], "bake", &out->bake_ms);
	if (rc == CANARY_OK)
		rc = parse_dur(r, m[R_MAX_WAIT], "max_wait", &out->max_wait_ms);
	if (rc == CANARY_OK)
		rc = parse_widen_undecided(r, m[R_WIDEN_UNDECIDED],
			&out->widen_undecided_bp);
	if (rc == CANARY_OK)
		rc = parse_gates(r, m[R_GATES], &out->gates, !flag);
	if (rc == CANARY_OK)
		rc = parse_rollback_or_pause(r, m[R_ON_FAIL], "on_fail",
			"dry run", &out->dry_run);
	if (rc == CANARY_OK)
		rc = parse_on_stall(r, m[R_ON_STALL], &out->on_stall);
	cs_rollout_spec_derive(out);
	return rc;
}

int cs_rollout_parse(const char *body, size_t len,
	char flag[CANARY__MAX_KEY_LEN + 1], cs_rollout_spec *out,
	canary__perror *e)
{
	canary__json_reader r;
	cJSON *doc = NULL;
	int rc;

	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY |
		CANARY__JSON_UTF8, e);
	cs_rollout_spec_default(out);
	/* Derived again once what they derive from is read. */
	out->sustain_ms = out->grace_ms = out->max_wait_ms = -1;
	if (flag)
		flag[0] = '\0';
	rc = canary__json_parse(&r, body, len, CS_ROLLOUT_MAX_BODY, NULL, &doc);
	if (rc == CANARY_OK)
		rc = parse_spec(&r, doc, flag, out);
	if (rc == CANARY_OK)
		rc = check_spec(out, e);
	cJSON_Delete(doc);
	return rc;
}

static char *dur_str(int64_t ms, char *buf, size_t len)
{
	snprintf(buf, len, "%lldms", (long long)ms);
	return buf;
}

static bool add_gates(cJSON *obj, const cs_rollout_spec *s)
{
	cj_gates g = s->gates;
	gate_field f[NGATES];
	size_t n = gate_fields(&g, f), i;
	cJSON *gates = cJSON_AddObjectToObject(obj, "gates"), *lat;

	if (!gates)
		return false;
	for (i = 0; i < n; i++)
		if (!cJSON_AddNumberToObject(gates, f[i].name,
			f[i].d ? *f[i].d : (double)*f[i].u))
			return false;
	lat = cJSON_CreateDoubleArray(g.lat_ratio, 3);
	return lat && cJSON_AddItemToObject(gates, "lat_ratio", lat);
}

cJSON *cs_rollout_spec_to_json(const cs_rollout_spec *s)
{
	cJSON *obj = cJSON_CreateObject(), *steps;
	char b[32];
	size_t i;
	bool ok = obj != NULL;

	steps = ok ? cJSON_AddArrayToObject(obj, "steps") : NULL;
	for (i = 0; steps && i < s->nsteps; i++)
		ok = ok && cJSON_AddItemToArray(steps,
			cJSON_CreateNumber(s->steps_bp[i] / 100.0));
	ok = ok && steps &&
		cJSON_AddStringToObject(obj, "min_soak",
			dur_str(s->min_soak_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "max_step",
			dur_str(s->max_step_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "interval",
			dur_str(s->interval_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "on_fail",
			s->dry_run ? "pause" : "rollback") &&
		cJSON_AddStringToObject(obj, "sustain",
			dur_str(s->sustain_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "grace",
			dur_str(s->grace_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "on_stall",
			s->on_stall == CJ_STALL_PAUSE ? "pause" : "rollback") &&
		cJSON_AddStringToObject(obj, "bake",
			dur_str(s->bake_ms, b, sizeof(b))) &&
		cJSON_AddStringToObject(obj, "max_wait",
			dur_str(s->max_wait_ms, b, sizeof(b))) &&
		add_gates(obj, s);
	/* Written only when set: a server from before the option reads
	 * every spec that does not use it. */
	if (ok && s->widen_undecided_bp)
		ok = cJSON_AddNumberToObject(obj, "widen_undecided",
			s->widen_undecided_bp / 100.0) != NULL;
	if (!ok) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

int cs_rollout_parse_promote(const char *body, size_t len, bool *to_full,
	canary__perror *e)
{
	static const char *const names[] = { "to" };
	canary__json_reader r;
	const cJSON *to;
	cJSON *doc = NULL;
	int rc;

	canary__json_reader_init(&r, CANARY__JSON_KNOWN_ONLY |
		CANARY__JSON_UTF8, e);
	*to_full = false;
	if (!body || len == 0)
		return CANARY_OK;
	rc = canary__json_parse(&r, body, len, CS_ROLLOUT_MAX_BODY, NULL, &doc);
	if (rc == CANARY_OK)
		rc = canary__json_members(&r, doc, "", names, 1, &to);
	if (rc == CANARY_OK && to) {
		if (cJSON_IsString(to) && strcmp(to->valuestring, "full") == 0)
			*to_full = true;
		else if (!(cJSON_IsString(to) &&
			   strcmp(to->valuestring, "next") == 0))
			rc = canary__perror_set(e, "to",
				"must be \"next\" or \"full\"");
	}
	cJSON_Delete(doc);
	return rc;
}

/* A decimal integer min..max (max <= 1000000) and nothing else. */
static int parse_bounded(const char *s, const char *field, uint64_t min,
	uint64_t max, uint64_t *out, canary__perror *e)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && n <= max; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == s || *p || n < min || n > max)
		return canary__perror_set(e, field, "must be an integer %llu..%llu",
			(unsigned long long)min, (unsigned long long)max);
	*out = n;
	return CANARY_OK;
}

int cs_rollout_parse_last(const char *s, uint64_t *out, canary__perror *e)
{
	canary__perror_clear(e);
	return parse_bounded(s, "last", 1, 1000000, out, e);
}

int cs_rollout_parse_series(const char *points, const char *decisions,
	cs_series_query *out, canary__perror *e)
{
	int rc = CANARY_OK;

	canary__perror_clear(e);
	out->max_points = CS_SERIES_DEFAULT_POINTS;
	out->max_decisions = CS_SERIES_DEFAULT_DECISIONS;
	if (points)
		rc = parse_bounded(points, "points", CS_SERIES_MIN_POINTS,
			CS_SERIES_MAX_POINTS, &out->max_points, e);
	if (rc == CANARY_OK && decisions)
		rc = parse_bounded(decisions, "decisions", 0,
			CS_SERIES_MAX_DECISIONS, &out->max_decisions, e);
	return rc;
}

int cs_rollout_status_parse(const char *name, cj_status *out)
{
	static const cj_status all[] = { CJ_RUNNING, CJ_PAUSED,
		CJ_ROLLED_BACK, CJ_COMPLETED };
	size_t i;

	for (i = 0; name && i < sizeof(all) / sizeof(all[0]); i++) {
		if (strcmp(name, cj_status_name(all[i])) == 0) {
			*out = all[i];
			return 0;
		}
	}
	return -1;
}

void cs_rollout_fsm(const cs_rollout *r, cj_rollout *out)
{
	memset(out, 0, sizeof(*out));
	out->steps_bp = r->spec.steps_bp;
	out->nsteps = r->spec.nsteps;
	out->step = r->step;
	out->step_start_ms = r->step_start_ms;
	out->min_soak_ms = r->spec.min_soak_ms;
	out->max_step_ms = r->spec.max_step_ms;
	out->status = r->status;
	out->dry_run = r->spec.dry_run;
	out->max_wait_ms = r->spec.max_wait_ms;
	out->sustain_ms = r->spec.sustain_ms;
	out->grace_ms = r->spec.grace_ms;
	out->on_stall = r->spec.on_stall;
	out->bake_ms = r->spec.bake_ms;
	out->widen_undecided_bp = r->spec.widen_undecided_bp;
	out->pass_since_ms = r->pass_since_ms;
	out->alert_since_ms = r->alert_since_ms;
}

static bool same_list(const canary__strlist *a, const canary__strlist *b)
{
	size_t i;

	if (a->count != b->count)
		return false;
	for (i = 0; i < a->count; i++)
		if (strcmp(a->items[i], b->items[i]) != 0)
			return false;
	return true;
}

/* NULL and "" are the same: nothing set. */
static bool same_text(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "") == 0;
}

const char *cs_rollout_guarded_field(const canary__flag *cur,
	const canary__flag *next)
{
	if (cur->rollout_bp != next->rollout_bp)
		return "rollout_bp";
	if (strcmp(cur->salt, next->salt) != 0)
		return "salt";
	if (!same_list(&cur->allow, &next->allow))
		return "allow";
	if (!same_list(&cur->deny, &next->deny))
		return "deny";
	/* Who is eligible, and what is bucketed: the arms' populations. */
	if (!same_text(cur->target.constraints, next->target.constraints))
		return "constraints";
	if (!same_list(&cur->target.segments, &next->target.segments))
		return "segments";
	if (!same_text(cur->target.stickiness, next->target.stickiness))
		return "stickiness";
	return NULL;
}

bool cs_rollout_live(const cs_rollout *r)
{
	return r->status == CJ_RUNNING || r->status == CJ_PAUSED;
}

const char *cs_rollout_event(const cs_rollout *before,
	const cs_rollout *after)
{
	if (!before)
		return after->status == CJ_COMPLETED ? "completed" : "started";
	if (after->status == before->status)
		return after->status == CJ_RUNNING && after->step > before->step ?
			"widened" : NULL;
	switch (after->status) {
	case CJ_ROLLED_BACK:
		return "rolled_back";
	case CJ_COMPLETED:
		return "completed";
	case CJ_PAUSED:
		return "paused";
	case CJ_RUNNING:
		return after->step > before->step ? "widened" : "resumed";
	}
	return NULL;
}
