/*
 * batch_parse.c - strict parser for the POST /v1/events batch.
 *
 * Everything present is checked (types, ranges, sizes, order of histogram
 * bins); unknown fields are ignored for forward compatibility. The first
 * error wins and names its field, e.g. "windows[2].exposures".
 */
#include "parse/batch_parse.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h" /* CANARY__MAX_KEY_LEN: flag keys match the config's */
#include "histogram.h"

const char *cs_arm_name(cs_arm arm)
{
	return arm == CS_ARM_CANARY ? "canary" : "stable";
}

static bool is_count(const cJSON *item, uint64_t max, uint64_t *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!isfinite(v) || v < 0 || v > (double)max || floor(v) != v)
		return false;
	*out = (uint64_t)v;
	return true;
}

/* An integer member 0..max; absent → required error or `dflt`. */
static int get_u64(const cJSON *obj, const char *name, const char *path,
	bool required, uint64_t max, uint64_t *out, cs_perror *e)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	char field[160];

	snprintf(field, sizeof(field), "%s%s%s", path, *path ? "." : "", name);
	if (!item) {
		*out = 0;
		return required ? cs_fail(e, field, "required") : CANARY_OK;
	}
	if (!is_count(item, max, out))
		return cs_fail(e, field, "must be an integer 0..%llu",
			(unsigned long long)max);
	return CANARY_OK;
}

/* A required string member of 1..max bytes; returns a borrowed pointer. */
static int get_str(const cJSON *obj, const char *name, const char *path,
	size_t max, const char **out, cs_perror *e)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	char field[160];
	size_t len;

	snprintf(field, sizeof(field), "%s%s%s", path, *path ? "." : "", name);
	if (!item)
		return cs_fail(e, field, "required");
	if (!cJSON_IsString(item) || !item->valuestring)
		return cs_fail(e, field, "must be a string");
	len = strlen(item->valuestring);
	if (len == 0 || len > max)
		return cs_fail(e, field, "must be 1..%zu bytes", max);
	*out = item->valuestring;
	return CANARY_OK;
}

static int dup_str(const char *s, char **out, cs_perror *e)
{
	*out = strdup(s);
	return *out ? CANARY_OK : cs_oom(e);
}

static int parse_batch_id(const cJSON *root, cs_batch *b, cs_perror *e)
{
	const char *id;
	size_t i;
	int rc = get_str(root, "batch_id", "", 32, &id, e);

	if (rc != CANARY_OK)
		return rc;
	for (i = 0; id[i]; i++)
		if (!((id[i] >= '0' && id[i] <= '9') ||
		      (id[i] >= 'a' && id[i] <= 'f')))
			break;
	if (i != 32 || id[i] != '\0')
		return cs_fail(e, "batch_id", "must be 32 lowercase hex digits");
	memcpy(b->batch_id, id, 33);
	return CANARY_OK;
}

static int parse_dropped(const cJSON *root, cs_batch *b, cs_perror *e)
{
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	int rc;

	if (!d || cJSON_IsNull(d))
		return CANARY_OK;
	if (!cJSON_IsObject(d))
		return cs_fail(e, "dropped", "must be an object");
	rc = get_u64(d, "batches", "dropped", false, CS_MAX_COUNT,
		&b->dropped_batches, e);
	if (rc == CANARY_OK)
		rc = get_u64(d, "windows", "dropped", false, CS_MAX_COUNT,
			&b->dropped_windows, e);
	return rc;
}

/* Keep the non-empty bins of a dense histogram, sparse. */
static int sparse_bins(const canary__hist *h, cs_window *w, cs_perror *e)
{
	int i;

	w->latency_zero = h->zero;
	if (h->lo > h->hi)
		return CANARY_OK;
	w->bins = calloc((size_t)(h->hi - h->lo + 1), sizeof(*w->bins));
	if (!w->bins)
		return cs_oom(e);
	for (i = h->lo; i <= h->hi; i++) {
		uint64_t n = canary__hist_bin(h, i);

		if (n) {
			w->bins[w->nbins].index = i;
			w->bins[w->nbins].count = n;
			w->nbins++;
		}
	}
	return CANARY_OK;
}

/* The shared wire decoder validates; `scratch` is reused per window. */
static int parse_latency(const cJSON *win, const char *path, cs_window *w,
	canary__hist *scratch, cs_perror *e)
{
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(win, "latency_ms");
	char field[160], err[CANARY__ERRBUF];
	int rc;

	if (!lat || cJSON_IsNull(lat))
		return CANARY_OK;
	snprintf(field, sizeof(field), "%s.latency_ms", path);
	if (!cJSON_IsObject(lat))
		return cs_fail(e, field, "must be an object");
	err[0] = '\0';
	rc = canary__hist_from_json(scratch, lat, field, err, sizeof(err));
	if (rc == CANARY_EPARSE)
		return cs_fail_from_config(e, err);
	if (rc != CANARY_OK)
		return cs_oom(e);
	return sparse_bins(scratch, w, e);
}

static bool metric_name_ok(const char *s)
{
	size_t i;

	for (i = 0; s[i]; i++) {
		char c = s[i];

		if (i >= CS_MAX_METRIC_NAME ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		      (c >= '0' && c <= '9') || c == '_' || c == '.' || c == '-'))
			return false;
	}
	return i > 0;
}

static int parse_metric(const cJSON *m, const char *path, cs_metric *out,
	cs_perror *e)
{
	const cJSON *sum;
	char field[200];
	int rc;

	snprintf(field, sizeof(field), "%s.%s", path, m->string);
	if (!metric_name_ok(m->string))
		return cs_fail(e, field, "name must be 1..%d of [A-Za-z0-9_.-]",
			CS_MAX_METRIC_NAME);
	if (!cJSON_IsObject(m))
		return cs_fail(e, field, "must be an object");
	snprintf(out->name, sizeof(out->name), "%s", m->string);
	rc = get_u64(m, "count", field, true, CS_MAX_COUNT, &out->count, e);
	if (rc != CANARY_OK)
		return rc;
	sum = cJSON_GetObjectItemCaseSensitive(m, "sum");
	if (!sum)
		return CANARY_OK;
	if (!cJSON_IsNumber(sum) || !isfinite(sum->valuedouble) ||
	    fabs(sum->valuedouble) > 1e300) {
		snprintf(field, sizeof(field), "%s.%s.sum", path, m->string);
		return cs_fail(e, field, "must be a finite number");
	}
	out->sum = sum->valuedouble;
	return CANARY_OK;
}

static int parse_metrics(const cJSON *win, const char *path, cs_window *w,
	cs_perror *e)
{
	const cJSON *obj = cJSON_GetObjectItemCaseSensitive(win, "metrics");
	const cJSON *m;
	char field[160];
	size_t n, i;
	int rc;

	if (!obj || cJSON_IsNull(obj))
		return CANARY_OK;
	snprintf(field, sizeof(field), "%s.metrics", path);
	if (!cJSON_IsObject(obj))
		return cs_fail(e, field, "must be an object");
	n = (size_t)cJSON_GetArraySize(obj);
	if (n > CS_MAX_METRICS)
		return cs_fail(e, field, "more than %d metrics", CS_MAX_METRICS);
	if (n == 0)
		return CANARY_OK;
	w->metrics = calloc(n, sizeof(*w->metrics));
	if (!w->metrics)
		return cs_oom(e);
	cJSON_ArrayForEach(m, obj) {
		rc = parse_metric(m, field, &w->metrics[w->nmetrics], e);
		if (rc != CANARY_OK)
			return rc;
		/* A repeated name would be counted twice by the upsert. */
		for (i = 0; i < w->nmetrics; i++)
			if (strcmp(w->metrics[i].name, m->string) == 0)
				return cs_fail(e, field, "duplicate metric \"%s\"",
					m->string);
		w->nmetrics++;
	}
	return CANARY_OK;
}

static int parse_arm(const cJSON *win, const char *path, cs_window *w,
	cs_perror *e)
{
	const char *arm;
	int rc = get_str(win, "arm", path, 16, &arm, e);

	if (rc != CANARY_OK)
		return rc;
	if (strcmp(arm, "stable") == 0) {
		w->arm = CS_ARM_STABLE;
	} else if (strcmp(arm, "canary") == 0) {
		w->arm = CS_ARM_CANARY;
	} else {
		char field[160];

		snprintf(field, sizeof(field), "%s.arm", path);
		return cs_fail(e, field, "must be \"stable\" or \"canary\"");
	}
	return CANARY_OK;
}

static int parse_window(const cJSON *win, const char *path, cs_window *w,
	canary__hist *scratch, cs_perror *e)
{
	const char *flag;
	int rc;

	if (!cJSON_IsObject(win))
		return cs_fail(e, path, "must be an object");
	rc = get_str(win, "flag", path, CANARY__MAX_KEY_LEN, &flag, e);
	if (rc == CANARY_OK)
		rc = dup_str(flag, &w->flag, e);
	if (rc == CANARY_OK)
		rc = parse_arm(win, path, w, e);
	if (rc == CANARY_OK)
		rc = get_u64(win, "config_version", path, true, CS_MAX_COUNT,
			&w->config_version, e);
	if (rc == CANARY_OK)
		rc = get_u64(win, "start_ms", path, true, CS_MAX_COUNT,
			&w->start_ms, e);
	if (rc == CANARY_OK)
		rc = get_u64(win, "end_ms", path, true, CS_MAX_COUNT, &w->end_ms,
			e);
	if (rc == CANARY_OK && w->end_ms < w->start_ms) {
		char field[160];

		snprintf(field, sizeof(field), "%s.end_ms", path);
		rc = cs_fail(e, field, "must not be before start_ms");
	}
	if (rc == CANARY_OK)
		rc = get_u64(win, "exposures", path, true, CS_MAX_COUNT,
			&w->exposures, e);
	if (rc == CANARY_OK)
		rc = get_u64(win, "errors", path, true, CS_MAX_COUNT, &w->errors,
			e);
	if (rc == CANARY_OK)
		rc = parse_latency(win, path, w, scratch, e);
	if (rc == CANARY_OK)
		rc = parse_metrics(win, path, w, e);
	return rc;
}

static int parse_windows(const cJSON *root, cs_batch *b,
	canary__hist *scratch, cs_perror *e)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "windows");
	const cJSON *win;
	size_t n;
	int rc;

	if (!arr)
		return cs_fail(e, "windows", "required");
	if (!cJSON_IsArray(arr))
		return cs_fail(e, "windows", "must be an array");
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CS_EVENTS_MAX_WINDOWS)
		return cs_fail(e, "windows", "more than %d windows",
			CS_EVENTS_MAX_WINDOWS);
	b->windows = calloc(n ? n : 1, sizeof(*b->windows));
	if (!b->windows)
		return cs_oom(e);
	cJSON_ArrayForEach(win, arr) {
		char path[32];

		snprintf(path, sizeof(path), "windows[%zu]", b->count);
		rc = parse_window(win, path, &b->windows[b->count], scratch,
			e);
		b->count++; /* so cs_batch_clear() frees the partial window */
		if (rc != CANARY_OK)
			return rc;
	}
	return CANARY_OK;
}

static int parse_root(const cJSON *root, cs_batch *b, canary__hist *scratch,
	cs_perror *e)
{
	const char *s;
	int rc;

	if (!cJSON_IsObject(root))
		return cs_fail(e, "", "body must be a JSON object");
	rc = parse_batch_id(root, b, e);
	if (rc == CANARY_OK)
		rc = get_str(root, "instance_id", "", CS_MAX_INSTANCE_ID, &s, e);
	if (rc == CANARY_OK)
		rc = dup_str(s, &b->instance_id, e);
	if (rc == CANARY_OK)
		rc = get_str(root, "sdk_version", "", CS_MAX_SDK_VERSION, &s, e);
	if (rc == CANARY_OK)
		rc = dup_str(s, &b->sdk_version, e);
	if (rc == CANARY_OK)
		rc = get_u64(root, "sent_at_ms", "", true, CS_MAX_COUNT,
			&b->sent_at_ms, e);
	if (rc == CANARY_OK)
		rc = parse_dropped(root, b, e);
	if (rc == CANARY_OK)
		rc = parse_windows(root, b, scratch, e);
	return rc;
}

int cs_events_parse(const char *body, size_t len, cs_batch *out, cs_perror *e)
{
	cJSON *root = NULL;
	canary__hist *scratch = NULL;
	const char *end = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!body || len == 0)
		return cs_fail(e, "", "empty body");
	if (len > CS_EVENTS_MAX_BODY)
		return cs_fail(e, "", "body larger than %u bytes",
			CS_EVENTS_MAX_BODY);
	root = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!root)
		return cs_fail(e, "", "malformed JSON");
	while (end && end < body + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	scratch = canary__hist_new(canary__alloc_default());
	if (!scratch)
		rc = cs_oom(e);
	else if (end != body + len)
		rc = cs_fail(e, "", "trailing data after the JSON value");
	else
		rc = parse_root(root, out, scratch, e);
	canary__hist_free(canary__alloc_default(), scratch);
	cJSON_Delete(root);
	if (rc != CANARY_OK)
		cs_batch_clear(out);
	return rc;
}

void cs_batch_clear(cs_batch *b)
{
	size_t i;

	if (!b)
		return;
	for (i = 0; i < b->count; i++) {
		free(b->windows[i].flag);
		free(b->windows[i].bins);
		free(b->windows[i].metrics);
	}
	free(b->windows);
	free(b->instance_id);
	free(b->sdk_version);
	memset(b, 0, sizeof(*b));
}
