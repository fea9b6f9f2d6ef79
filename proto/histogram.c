/*
 * histogram.c - DDSketch-style latency histogram: record, merge, quantile,
 * and the sparse form.
 */
#include "histogram.h"

#include <math.h>

#include "canary/canary.h"
#include "saturate.h"

#define SLOT(i) ((size_t)((i) - CANARY__HIST_MIN_INDEX))

void canary__hist_init(canary__hist *h)
{
	memset(h, 0, sizeof(*h));
	h->lo = CANARY__HIST_MAX_INDEX + 1;
	h->hi = CANARY__HIST_MIN_INDEX - 1;
}

canary__hist *canary__hist_new(const canary__alloc *a)
{
	canary__hist *h = canary__new(a, canary__hist);

	if (h)
		canary__hist_init(h);
	return h;
}

void canary__hist_free(const canary__alloc *a, canary__hist *h)
{
	canary__delete(a, h, canary__hist);
}

static void add_at(canary__hist *h, int index, uint64_t count)
{
	h->bins[SLOT(index)] = canary__sat_add(h->bins[SLOT(index)], count);
	h->total = canary__sat_add(h->total, count);
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
		h->zero = canary__sat_add(h->zero, 1);
		h->total = canary__sat_add(h->total, 1);
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

	dst->zero = canary__sat_add(dst->zero, src->zero);
	if (src->zero)
		dst->total = canary__sat_add(dst->total, src->zero);
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
		n = canary__sat_add(n, h->bins[SLOT(i)]);
	return n;
}

/* ---- sparse form ---- */

int canary__hist_to_bins(const canary__alloc *a, const canary__hist *h,
	canary__hist_entry **out, size_t *n)
{
	int i;

	*out = NULL;
	*n = 0;
	if (h->lo > h->hi)
		return CANARY_OK;
	*out = canary__calloc(a, (size_t)(h->hi - h->lo + 1), sizeof(**out));
	if (!*out)
		return CANARY_ENOMEM;
	for (i = h->lo; i <= h->hi; i++) {
		if (h->bins[SLOT(i)]) {
			(*out)[*n].index = i;
			(*out)[*n].count = h->bins[SLOT(i)];
			(*n)++;
		}
	}
	return CANARY_OK;
}

int canary__hist_add_bins(canary__hist *h, const canary__hist_entry *bins,
	size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (canary__hist_add_bin(h, bins[i].index, bins[i].count) !=
		    CANARY_OK)
			return CANARY_EINVAL;
	return CANARY_OK;
}
