/*
 * rollout.c - rollout specs: defaults, strict parsing, JSON form.
 */
#include "rollout/rollout.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

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

static int parse_steps(const cJSON *arr, cs_rollout_spec *out, cs_perror *e)
{
	const cJSON *it;
	char field[32];
	size_t n = 0;

	if (!cJSON_IsArray(arr))
		return cs_fail(e, "steps", "must be an array of percentages");
	cJSON_ArrayForEach(it, arr) {
		double bp;

		snprintf(field, sizeof(field), "steps[%zu]", n);
		if (n == CS_ROLLOUT_MAX_STEPS)
			return cs_fail(e, "steps", "at most %d steps",
				CS_ROLLOUT_MAX_STEPS);
		if (!cJSON_IsNumber(it))
			return cs_fail(e, field, "must be a number (percent)");
		bp = it->valuedouble * 100.0;
		if (!(bp >= 1 && bp <= 10000) || fabs(bp - round(bp)) > 1e-6)
			return cs_fail(e, field, "must be 0.01..100 in steps of "
				"0.01");
		out->steps_bp[n] = (uint32_t)round(bp);
		if (n > 0 && out->steps_bp[n] <= out->steps_bp[n - 1])
			return cs_fail(e, field, "must be greater than the "
				"step before");
		n++;
	}
	if (n == 0)
		return cs_fail(e, "steps", "must not be empty");
	out->nsteps = n;
	return CANARY_OK;
}

static int parse_dur(const cJSON *v, const char *field, int64_t *ms,
	cs_perror *e)
{
	if (!cJSON_IsString(v) || cs_parse_duration(v->valuestring, ms) != 0)
		return cs_fail(e, field, "must be a duration like \"500ms\", "
			"\"2s\", \"5m\" or \"1h\" (at most 31 days)");
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
	U(min_latency); D(srm_alpha);
#undef D
#undef U
	return n;
}

#define NGATES 13

static int parse_gate(const cJSON *it, const gate_field *f, cs_perror *e)
{
	char field[64];

	snprintf(field, sizeof(field), "gates.%s", f->name);
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble))
		return cs_fail(e, field, "must be a number");
	if (f->d) {
		*f->d = it->valuedouble;
		return CANARY_OK;
	}
	if (it->valuedouble < 0 || it->valuedouble > 1e15 ||
	    it->valuedouble != floor(it->valuedouble))
		return cs_fail(e, field, "must be an integer >= 0");
	*f->u = (uint64_t)it->valuedouble;
	return CANARY_OK;
}

static int parse_lat_ratio(const cJSON *arr, cj_gates *g, cs_perror *e)
{
	int i;

	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) != 3)
		return cs_fail(e, "gates.lat_ratio", "must be [p50, p95, p99] "
			"ratios (0 turns one off)");
	for (i = 0; i < 3; i++) {
		const cJSON *v = cJSON_GetArrayItem(arr, i);

		if (!cJSON_IsNumber(v))
			return cs_fail(e, "gates.lat_ratio", "must hold numbers");
		g->lat_ratio[i] = v->valuedouble;
	}
	return CANARY_OK;
}

static int parse_gates(const cJSON *obj, cj_gates *g, cs_perror *e)
{
	gate_field f[NGATES];
	size_t n = gate_fields(g, f), i;
	const cJSON *it;
	char err[CANARY__ERRBUF];
	int rc = CANARY_OK;

	if (!cJSON_IsObject(obj))
		return cs_fail(e, "gates", "must be an object");
	cJSON_ArrayForEach(it, obj) {
		if (strcmp(it->string, "lat_ratio") == 0) {
			rc = parse_lat_ratio(it, g, e);
		} else {
			for (i = 0; i < n && strcmp(f[i].name, it->string); i++)
				;
			if (i == n)
				return cs_fail(e, "gates", "unknown gate \"%.64s\"",
					it->string);
			rc = parse_gate(it, &f[i], e);
		}
		if (rc != CANARY_OK)
			return rc;
	}
	if (cj_gates_validate(g, err, sizeof(err)) != 0) {
		char full[CANARY__ERRBUF + 8];

		snprintf(full, sizeof(full), "gates.%s", err);
		return cs_fail_from_config(e, full);
	}
	return CANARY_OK;
}

static int parse_flag_key(const cJSON *v, char *flag, cs_perror *e)
{
	size_t n;

	if (!cJSON_IsString(v))
		return cs_fail(e, "flag", "must be a string (the flag key)");
	n = strlen(v->valuestring);
	if (n == 0 || n > CANARY__MAX_KEY_LEN)
		return cs_fail(e, "flag", "must be 1..%d bytes",
			CANARY__MAX_KEY_LEN);
	memcpy(flag, v->valuestring, n + 1);
	return CANARY_OK;
}

static int parse_on_fail(const cJSON *v, bool *dry_run, cs_perror *e)
{
	if (cJSON_IsString(v) && strcmp(v->valuestring, "rollback") == 0)
		*dry_run = false;
	else if (cJSON_IsString(v) && strcmp(v->valuestring, "pause") == 0)
		*dry_run = true;
	else
		return cs_fail(e, "on_fail", "must be \"rollback\" or \"pause\" "
			"(dry run)");
	return CANARY_OK;
}

static int parse_member(const cJSON *it, char *flag, cs_rollout_spec *out,
	cs_perror *e)
{
	const char *k = it->string;

	if (flag && strcmp(k, "flag") == 0)
		return parse_flag_key(it, flag, e);
	if (strcmp(k, "steps") == 0)
		return parse_steps(it, out, e);
	if (strcmp(k, "min_soak") == 0)
		return parse_dur(it, k, &out->min_soak_ms, e);
	if (strcmp(k, "max_step") == 0)
		return parse_dur(it, k, &out->max_step_ms, e);
	if (strcmp(k, "interval") == 0)
		return parse_dur(it, k, &out->interval_ms, e);
	if (strcmp(k, "gates") == 0)
		return parse_gates(it, &out->gates, e);
	if (strcmp(k, "on_fail") == 0)
		return parse_on_fail(it, &out->dry_run, e);
	return cs_fail(e, k, "unknown field");
}

static int check_spec(const cs_rollout_spec *s, cs_perror *e)
{
	if (s->max_step_ms <= 0)
		return cs_fail(e, "max_step", "must be greater than 0");
	if (s->max_step_ms < s->min_soak_ms)
		return cs_fail(e, "max_step", "must be at least min_soak");
	if (s->interval_ms < CS_ROLLOUT_MIN_INTERVAL_MS)
		return cs_fail(e, "interval", "must be at least %dms",
			CS_ROLLOUT_MIN_INTERVAL_MS);
	return CANARY_OK;
}

int cs_rollout_parse(const char *body, size_t len,
	char flag[CANARY__MAX_KEY_LEN + 1], cs_rollout_spec *out,
	cs_perror *e)
{
	cJSON *doc = NULL;
	const cJSON *it;
	int rc = CANARY_OK;

	memset(e, 0, sizeof(*e));
	cs_rollout_spec_default(out);
	if (flag)
		flag[0] = '\0';
	if (len > CS_ROLLOUT_MAX_BODY)
		return cs_fail(e, "", "body over %u bytes", CS_ROLLOUT_MAX_BODY);
	doc = body ? cJSON_ParseWithLength(body, len) : NULL;
	if (!cJSON_IsObject(doc)) {
		rc = cs_fail(e, "", "body must be a JSON object");
		goto done;
	}
	cJSON_ArrayForEach(it, doc) {
		rc = parse_member(it, flag, out, e);
		if (rc != CANARY_OK)
			goto done;
	}
	if (flag && !flag[0]) {
		rc = cs_fail(e, "flag", "is required");
		goto done;
	}
	rc = check_spec(out, e);
done:
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
		add_gates(obj, s);
	if (!ok) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

int cs_rollout_parse_promote(const char *body, size_t len, bool *to_full,
	cs_perror *e)
{
	cJSON *doc;
	const cJSON *it;
	int rc = CANARY_OK;

	memset(e, 0, sizeof(*e));
	*to_full = false;
	if (!body || len == 0)
		return CANARY_OK;
	doc = cJSON_ParseWithLength(body, len);
	if (!cJSON_IsObject(doc)) {
		cJSON_Delete(doc);
		return cs_fail(e, "", "body must be a JSON object");
	}
	cJSON_ArrayForEach(it, doc) {
		if (strcmp(it->string, "to") != 0) {
			rc = cs_fail(e, it->string, "unknown field");
			break;
		}
		if (cJSON_IsString(it) && strcmp(it->valuestring, "full") == 0) {
			*to_full = true;
		} else if (!(cJSON_IsString(it) &&
			     strcmp(it->valuestring, "next") == 0)) {
			rc = cs_fail(e, "to", "must be \"next\" or \"full\"");
			break;
		}
	}
	cJSON_Delete(doc);
	return rc;
}

/* A decimal integer min..max (max <= 1000000) and nothing else. */
static int parse_bounded(const char *s, const char *field, uint64_t min,
	uint64_t max, uint64_t *out, cs_perror *e)
{
	uint64_t n = 0;
	const char *p = s;

	for (; *p >= '0' && *p <= '9' && n <= max; p++)
		n = n * 10 + (uint64_t)(*p - '0');
	if (p == s || *p || n < min || n > max)
		return cs_fail(e, field, "must be an integer %llu..%llu",
			(unsigned long long)min, (unsigned long long)max);
	*out = n;
	return CANARY_OK;
}

int cs_rollout_parse_last(const char *s, uint64_t *out, cs_perror *e)
{
	memset(e, 0, sizeof(*e));
	return parse_bounded(s, "last", 1, 1000000, out, e);
}

int cs_rollout_parse_series(const char *points, const char *decisions,
	cs_series_query *out, cs_perror *e)
{
	int rc = CANARY_OK;

	memset(e, 0, sizeof(*e));
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
