/*
 * histogram.h - the latency histogram of protocol v1 (docs/protocol.md,
 * "Latency histogram"), shared by the SDK and canary-server.
 *
 * DDSketch-style log buckets with relative accuracy alpha = 0.01:
 * gamma = (1 + alpha) / (1 - alpha); a value x > 0 (milliseconds, clamped
 * to [CANARY_HIST_MIN_MS, CANARY_HIST_MAX_MS]) falls in bin
 * i = ceil(log(x) / log(gamma)), i.e. gamma^(i-1) < x <= gamma^i, whose
 * representative value 2 * gamma^i / (gamma + 1) is within alpha relative
 * error of every value in the bin. Values <= 0 count in a separate "zero"
 * bucket (represented as 0). Merging is adding counts bin by bin, so
 * merged quantiles are exactly those of the union of the data.
 *
 * In memory the counts are dense (about 1,100 counters, 8.8 KiB) so that
 * recording is an index computation and an increment: no allocation, no
 * libm call. On the wire and in storage they are sparse
 * (canary__hist_entry): indices strictly increasing, counts >= 1; the event
 * batch (event_batch.h) writes and reads them as
 *   {"zero": <count>, "bins": [[index, count], ...]}
 *
 * Threading: a histogram is a plain value; callers serialise access.
 */
#ifndef CANARY_PROTO_HISTOGRAM_H
#define CANARY_PROTO_HISTOGRAM_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "alloc.h"

#define CANARY_HIST_ALPHA 0.01
#define CANARY_HIST_MIN_MS 0.001
#define CANARY_HIST_MAX_MS 3.6e6
/* ceil(log(MIN_MS) / log(gamma)) and ceil(log(MAX_MS) / log(gamma));
 * test_histogram checks both against libm. */
#define CANARY__HIST_MIN_INDEX (-345)
#define CANARY__HIST_MAX_INDEX 755
#define CANARY__HIST_BINS (CANARY__HIST_MAX_INDEX - CANARY__HIST_MIN_INDEX + 1)

/* 1 / log(gamma), gamma = 1.01 / 0.99, and log(2), to double precision. */
#define CANARY__HIST_INV_LOG_GAMMA 49.99833328888678
#define CANARY__HIST_LN2 0.6931471805599453

typedef struct canary__hist {
	uint64_t zero;   /* values <= 0 */
	uint64_t total;  /* zero + every bin; saturates at UINT64_MAX */
	int lo, hi;      /* lowest, highest non-empty bin index; lo > hi: none */
	uint64_t bins[CANARY__HIST_BINS]; /* bins[i - CANARY__HIST_MIN_INDEX] */
} canary__hist;

/* One non-empty bin of the sparse form. */
typedef struct canary__hist_entry {
	int32_t index;
	uint64_t count;
} canary__hist_entry;

/*
 * Bin index of a value in milliseconds; `ms` must be > 0 and finite (the
 * caller routes the rest). Clamps to [MIN_MS, MAX_MS] first.
 *
 * Why not log(): the index must not depend on the platform's libm (its
 * rounding near bin edges, its speed on small targets), and recording
 * should not need libm at all. Speed on glibc x86-64 is about the same as
 * log() (7 ns vs 5-6 ns; docs/analysis.md section 7). The value's binary
 * exponent comes from its bits and log(mantissa) from the series
 * log(m) = 2 atanh(s), s = (m - 1) / (m + 1), with m in [sqrt(1/2), sqrt(2)),
 * |s| <= 0.1716; eight terms leave an error below 1e-13 in log(x), i.e.
 * below 1e-11 of a bin width. The index can therefore differ from libm's
 * ceil(log(x) / log(gamma)) only for values within ~1e-11 of a bin edge,
 * where either bin's representative is within alpha (+1e-11) of x.
 */
static inline int canary__hist_index(double ms)
{
	uint64_t bits;
	double m, s, s2, lnm, v;
	int e, i;

	if (ms < CANARY_HIST_MIN_MS)
		ms = CANARY_HIST_MIN_MS;
	else if (ms > CANARY_HIST_MAX_MS)
		ms = CANARY_HIST_MAX_MS;
	memcpy(&bits, &ms, sizeof(bits));
	e = (int)((bits >> 52) & 0x7ff) - 1023;
	bits = (bits & 0x000fffffffffffffull) | 0x3ff0000000000000ull;
	memcpy(&m, &bits, sizeof(m)); /* m in [1, 2) */
	if (m > 1.4142135623730951) {
		m *= 0.5;
		e++;
	}
	s = (m - 1.0) / (m + 1.0);
	s2 = s * s;
	lnm = 2.0 * s * (1.0 + s2 * (1.0 / 3 + s2 * (1.0 / 5 + s2 * (1.0 / 7 +
		s2 * (1.0 / 9 + s2 * (1.0 / 11 + s2 * (1.0 / 13 +
		s2 * (1.0 / 15))))))));
	v = ((double)e * CANARY__HIST_LN2 + lnm) * CANARY__HIST_INV_LOG_GAMMA;
	i = (int)v; /* truncates toward zero: ceil for v < 0 */
	if ((double)i < v)
		i++;
	return i;
}

/* Empty a histogram (also the initialiser for one in static storage). */
void canary__hist_init(canary__hist *h);

/* A heap histogram from the client's allocator, empty; NULL on ENOMEM.
 * Free with canary__hist_free() (NULL-safe). */
canary__hist *canary__hist_new(const canary__alloc *a);
void canary__hist_free(const canary__alloc *a, canary__hist *h);

/*
 * Record one value. Never allocates.
 * @return CANARY_OK; CANARY_EINVAL for NaN or infinity (not counted).
 */
int canary__hist_add(canary__hist *h, double ms);

/* Add `count` values to bin `index` (CANARY__HIST_MIN_INDEX..MAX_INDEX).
 * @return CANARY_OK; CANARY_EINVAL for an index out of range. */
int canary__hist_add_bin(canary__hist *h, int index, uint64_t count);

/* Add every count of `src` to `dst` (saturating). */
void canary__hist_merge(canary__hist *dst, const canary__hist *src);

/* Number of values recorded, zero bucket included. */
uint64_t canary__hist_count(const canary__hist *h);

/* Count in one bin (0 outside the range). */
uint64_t canary__hist_bin(const canary__hist *h, int index);

/* Representative value of bin `index`: 2 * gamma^index / (gamma + 1). */
double canary__hist_value(int index);

/*
 * Quantile q in [0, 1]: with n values, the value of rank floor(q * (n - 1))
 * (0-based, ascending), i.e. the first bucket, zero bucket first, whose
 * cumulative count exceeds q * (n - 1); returns that bucket's
 * representative (0 for the zero bucket). NaN when empty or q is outside
 * [0, 1].
 */
double canary__hist_quantile(const canary__hist *h, double q);

/* Values in bins strictly above the bin of `ms` (ms <= 0: every value
 * outside the zero bucket). The judge's exceedance count. */
uint64_t canary__hist_count_above(const canary__hist *h, double ms);

/*
 * The non-empty bins of `h`, ascending, in a new array from `a` (free it
 * with canary__free(); NULL with *n = 0 when there are none).
 * @return CANARY_OK or CANARY_ENOMEM.
 */
int canary__hist_to_bins(const canary__alloc *a, const canary__hist *h,
	canary__hist_entry **out, size_t *n);

/* Add sparse bins to `h` (saturating).
 * @return CANARY_OK; CANARY_EINVAL for an index out of range (the bins
 *         before it are added). */
int canary__hist_add_bins(canary__hist *h, const canary__hist_entry *bins,
	size_t n);

#endif
