/*
 * histogram.c - DDSketch-style latency histogram: record, merge, quantile,
 * and the strict wire codec.
 */
#include "histogram.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>

#include "error.h"

#define SLOT(i) ((size_t)((i) - CANARY__HIST_MIN_INDEX))

static uint64_t sat_add(uint64_t a, uint64_t b)
{
	return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

void canary__hist_init(canary__hist *h)
{
	memset(h, 0, sizeof(*h));
	h->lo = CANARY__HIST_MAX_INDEX + 1;
	h->hi = CANARY__HIST_MIN_INDEX - 1;
}

canary__hist *canary__hist_new(const canary__alloc *a)
{
	canary__hist *h = canary__malloc(a, sizeof(*h));

	if (h)
		canary__hist_init(h);
	return h;
}

void canary__hist_free(const canary__alloc *a, canary__hist *h)
{
	canary__free(a, h);
}

static void add_at(canary__hist *h, int index, uint64_t count)
{
	h->bins[SLOT(index)] = sat_add(h->bins[SLOT(index)], count);
	h->total = sat_add(h->total, count);
	if (index < h->lo)
		h->lo = index;
	if (index > h->hi)
		h->hi = index;
}

int canary__hist_add(canary__hist *h, double ms)
{
	/* NaN fails both comparisons; infinities are not latencies. */
	if (!(ms > -INFINITY && ms < INFINITY))
		return CANARY_EINVAL;
	if (ms <= 0) {
		h->zero = sat_add(h->zero, 1);
		h->total = sat_add(h->total, 1);
		return CANARY_OK;
	}
	add_at(h, canary__hist_index(ms), 1);
	return CANARY_OK;
}

int canary__hist_add_bin(canary__hist *h, int index, uint64_t count)
{
	if (index < CANARY__HIST_MIN_INDEX || index > CANARY__HIST_MAX_INDEX)
		return CANARY_EINVAL;
	if (count)
		add_at(h, index, count);
	return CANARY_OK;
}

void canary__hist_merge(canary__hist *dst, const canary__hist *src)
{
	int i;

	dst->zero = sat_add(dst->zero, src->zero);
	if (src->zero)
		dst->total = sat_add(dst->total, src->zero);
	for (i = src->lo; i <= src->hi; i++)
		if (src->bins[SLOT(i)])
			add_at(dst, i, src->bins[SLOT(i)]);
}

uint64_t canary__hist_count(const canary__hist *h)
{
	return h->total;
}

uint64_t canary__hist_bin(const canary__hist *h, int index)
{
	if (index < CANARY__HIST_MIN_INDEX || index > CANARY__HIST_MAX_INDEX)
		return 0;
	return h->bins[SLOT(index)];
}

double canary__hist_value(int index)
{
	const double gamma = (1 + CANARY_HIST_ALPHA) / (1 - CANARY_HIST_ALPHA);

	return 2.0 * exp((double)index / CANARY__HIST_INV_LOG_GAMMA) /
	       (gamma + 1.0);
}

double canary__hist_quantile(const canary__hist *h, double q)
{
	double rank, cum;
	int i;

	if (!(q >= 0 && q <= 1) || h->total == 0)
		return NAN;
	rank = q * (double)(h->total - 1);
	cum = (double)h->zero;
	if (cum > rank)
		return 0.0;
	for (i = h->lo; i <= h->hi; i++) {
		cum += (double)h->bins[SLOT(i)];
		if (cum > rank)
			return canary__hist_value(i);
	}
	/* Only reachable through saturated counts: answer the top bin. */
	return h->hi >= h->lo ? canary__hist_value(h->hi) : 0.0;
}

uint64_t canary__hist_count_above(const canary__hist *h, double ms)
{
	uint64_t n = 0;
	int i, from;

	if (ms != ms)
		return 0;
	from = ms <= 0 ? h->lo : canary__hist_index(ms) + 1;
	if (from < h->lo)
		from = h->lo;
	for (i = from; i <= h->hi; i++)
		n = sat_add(n, h->bins[SLOT(i)]);
	return n;
}

/* ---- wire codec ---- */

static double wire_count(uint64_t c)
{
	return (double)(c > CANARY__HIST_MAX_COUNT ? CANARY__HIST_MAX_COUNT : c);
}

static bool add_pair(cJSON *bins, int index, uint64_t count)
{
	cJSON *pair = cJSON_CreateArray();

	if (!pair || !cJSON_AddItemToArray(bins, pair)) {
		cJSON_Delete(pair);
		return false;
	}
	return cJSON_AddItemToArray(pair, cJSON_CreateNumber(index)) &&
	       cJSON_AddItemToArray(pair,
		       cJSON_CreateNumber(wire_count(count)));
}

struct cJSON *canary__hist_to_json(const canary__hist *h)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *bins;
	int i;

	if (!obj || !cJSON_AddNumberToObject(obj, "zero", wire_count(h->zero)))
		goto fail;
	bins = cJSON_AddArrayToObject(obj, "bins");
	if (!bins)
		goto fail;
	for (i = h->lo; i <= h->hi; i++)
		if (h->bins[SLOT(i)] && !add_pair(bins, i, h->bins[SLOT(i)]))
			goto fail;
	return obj;
fail:
	cJSON_Delete(obj);
	return NULL;
}


/* An exact integer in [min, max] (doubles: the wire is JSON). */
static bool int_in(const cJSON *item, double min, double max, double *out)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!(v >= min && v <= max) || floor(v) != v)
		return false;
	*out = v;
	return true;
}

static int decode_pair(canary__hist *out, const cJSON *pair, int prev,
	int *index, const char *path, size_t n, char *err, size_t errlen)
{
	const cJSON *ji, *jc;
	double vi, vc;

	if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
		return canary__parse_fail(err, errlen, "%s.bins[%zu]: must be [index, count]",
			path, n);
	ji = pair->child;
	jc = ji->next;
	if (!int_in(ji, CANARY__HIST_MIN_INDEX, CANARY__HIST_MAX_INDEX, &vi))
		return canary__parse_fail(err, errlen, "%s.bins[%zu][0]: must be an integer "
			"%d..%d", path, n, CANARY__HIST_MIN_INDEX,
			CANARY__HIST_MAX_INDEX);
	*index = (int)vi;
	if (n > 0 && *index <= prev)
		return canary__parse_fail(err, errlen, "%s.bins[%zu][0]: indices must be "
			"strictly increasing", path, n);
	if (!int_in(jc, 1, (double)CANARY__HIST_MAX_COUNT, &vc))
		return canary__parse_fail(err, errlen, "%s.bins[%zu][1]: must be an integer "
			"1..%llu", path, n,
			(unsigned long long)CANARY__HIST_MAX_COUNT);
	add_at(out, *index, (uint64_t)vc);
	return CANARY_OK;
}

int canary__hist_from_json(canary__hist *out, const struct cJSON *obj,
	const char *path, char *err, size_t errlen)
{
	const cJSON *zero, *bins, *pair;
	double vz = 0;
	size_t n = 0;
	int prev = 0, index = 0, rc;

	canary__hist_init(out);
	path = path ? path : "";
	if (!cJSON_IsObject(obj))
		return canary__parse_fail(err, errlen, "%s: must be an object", path);
	zero = cJSON_GetObjectItemCaseSensitive(obj, "zero");
	if (zero && !int_in(zero, 0, (double)CANARY__HIST_MAX_COUNT, &vz))
		return canary__parse_fail(err, errlen, "%s.zero: must be an integer 0..%llu",
			path, (unsigned long long)CANARY__HIST_MAX_COUNT);
	out->zero = (uint64_t)vz;
	out->total = out->zero;
	bins = cJSON_GetObjectItemCaseSensitive(obj, "bins");
	if (!bins)
		return canary__parse_fail(err, errlen, "%s.bins: required", path);
	if (!cJSON_IsArray(bins))
		return canary__parse_fail(err, errlen, "%s.bins: must be an array", path);
	cJSON_ArrayForEach(pair, bins) {
		rc = decode_pair(out, pair, prev, &index, path, n, err, errlen);
		if (rc != CANARY_OK) {
			canary__hist_init(out);
			return rc;
		}
		prev = index;
		n++;
	}
	return CANARY_OK;
}
