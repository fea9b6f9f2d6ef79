/*
 * test_histogram.c - the protocol v1 latency histogram: index accuracy
 * against libm, the 1% relative-error bound, quantiles, merge, and the
 * sparse form (its JSON codec is the event batch's: test_events_batch).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "histogram.h"
#include "sim_traffic.h"

static double gamma_(void)
{
	return (1 + CANARY_HIST_ALPHA) / (1 - CANARY_HIST_ALPHA);
}

/* The wire spec's formula, with libm. */
static int libm_index(double x)
{
	return (int)ceil(log(x) / log(gamma_()));
}

/* Distance of x from the nearest bin edge, in bin widths. */
static double edge_distance(double x)
{
	double v = log(x) / log(gamma_());

	return fabs(v - nearbyint(v));
}

static void test_index_range_constants(void **state)
{
	(void)state;
	assert_int_equal(libm_index(CANARY_HIST_MIN_MS), CANARY__HIST_MIN_INDEX);
	assert_int_equal(libm_index(CANARY_HIST_MAX_MS), CANARY__HIST_MAX_INDEX);
	assert_int_equal(canary__hist_index(CANARY_HIST_MIN_MS),
		CANARY__HIST_MIN_INDEX);
	assert_int_equal(canary__hist_index(CANARY_HIST_MAX_MS),
		CANARY__HIST_MAX_INDEX);
	/* Clamping. */
	assert_int_equal(canary__hist_index(1e-9), CANARY__HIST_MIN_INDEX);
	assert_int_equal(canary__hist_index(5e-324), CANARY__HIST_MIN_INDEX);
	assert_int_equal(canary__hist_index(1e300), CANARY__HIST_MAX_INDEX);
	assert_int_equal(canary__hist_index(1.0), 0);
}

/* The fast index equals libm's except within 1e-9 of a bin width from an
 * edge, over 2 million log-uniform values across the whole range. */
static void test_index_matches_libm(void **state)
{
	sim_rng rng;
	double lo = log(CANARY_HIST_MIN_MS), hi = log(CANARY_HIST_MAX_MS);
	long mismatches = 0;
	int i;

	(void)state;
	sim_rng_seed(&rng, 42);
	for (i = 0; i < 2000000; i++) {
		double x = exp(lo + (hi - lo) * sim_uniform(&rng));
		int fast = canary__hist_index(x), slow = libm_index(x);

		if (fast != slow) {
			mismatches++;
			assert_true(abs(fast - slow) == 1);
			assert_true(edge_distance(x) < 1e-9);
		}
	}
	assert_true(mismatches < 10);
}

/* Values at and next to every bin edge. */
static void test_index_at_edges(void **state)
{
	int i;

	(void)state;
	for (i = CANARY__HIST_MIN_INDEX; i < CANARY__HIST_MAX_INDEX; i++) {
		double edge = pow(gamma_(), i);
		double below = nextafter(edge, 0) * (1 - 1e-12);
		double above = nextafter(edge, INFINITY) * (1 + 1e-12);

		if (below >= CANARY_HIST_MIN_MS)
			assert_int_equal(canary__hist_index(below), i);
		assert_int_equal(canary__hist_index(above), i + 1);
		assert_true(abs(canary__hist_index(edge) - i) <= 1);
	}
}

/* Every value in range is within alpha of its bin's representative
 * (allowing 1e-9 relative for values exactly on an edge). */
static void test_relative_error_bound(void **state)
{
	sim_rng rng;
	double lo = log(CANARY_HIST_MIN_MS), hi = log(CANARY_HIST_MAX_MS);
	double worst = 0;
	int i;

	(void)state;
	sim_rng_seed(&rng, 7);
	for (i = 0; i < 1000000; i++) {
		double x = exp(lo + (hi - lo) * sim_uniform(&rng));
		double v = canary__hist_value(canary__hist_index(x));
		double err = fabs(v - x) / x;

		if (err > worst)
			worst = err;
	}
	for (i = CANARY__HIST_MIN_INDEX + 1; i <= CANARY__HIST_MAX_INDEX; i++) {
		double edge = pow(gamma_(), i);
		double v = canary__hist_value(canary__hist_index(edge));

		if (fabs(v - edge) / edge > worst)
			worst = fabs(v - edge) / edge;
	}
	assert_true(worst <= CANARY_HIST_ALPHA * (1 + 1e-9));
	/* And the bound is tight: the sketch is not coarser than needed. */
	assert_true(worst > CANARY_HIST_ALPHA * 0.99);
}

static void test_add_zero_nan_inf(void **state)
{
	canary__hist h;

	(void)state;
	canary__hist_init(&h);
	assert_int_equal(canary__hist_add(&h, 0.0), CANARY_OK);
	assert_int_equal(canary__hist_add(&h, -3.0), CANARY_OK);
	assert_int_equal(canary__hist_add(&h, NAN), CANARY_EINVAL);
	assert_int_equal(canary__hist_add(&h, INFINITY), CANARY_EINVAL);
	assert_int_equal(canary__hist_add(&h, -INFINITY), CANARY_EINVAL);
	assert_int_equal(h.zero, 2);
	assert_int_equal(canary__hist_count(&h), 2);
	assert_int_equal(canary__hist_add(&h, 1e12), CANARY_OK);
	assert_int_equal(canary__hist_bin(&h, CANARY__HIST_MAX_INDEX), 1);
	assert_int_equal(canary__hist_count(&h), 3);
	assert_int_equal(canary__hist_add_bin(&h, CANARY__HIST_MAX_INDEX + 1, 1),
		CANARY_EINVAL);
	assert_int_equal(canary__hist_add_bin(&h, CANARY__HIST_MIN_INDEX - 1, 1),
		CANARY_EINVAL);
	assert_int_equal(canary__hist_bin(&h, 10000), 0);
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

/* Quantiles are within alpha of the exact order statistic of rank
 * floor(q (n - 1)), on skewed random data. */
static void test_quantiles_vs_exact(void **state)
{
	static const double qs[] = { 0, 0.01, 0.25, 0.5, 0.9, 0.95, 0.99,
		0.999, 1 };
	enum { N = 20001 };
	double *data = malloc(N * sizeof(double));
	sim_rng rng;
	canary__hist h;
	size_t i;

	(void)state;
	sim_rng_seed(&rng, 99);
	assert_non_null(data);
	canary__hist_init(&h);
	for (i = 0; i < N; i++) {
		/* lognormal-ish: exp of a sum of uniforms */
		double z = sim_uniform(&rng) + sim_uniform(&rng) +
			sim_uniform(&rng) - 1.5;

		data[i] = 100 * exp(2 * z);
		assert_int_equal(canary__hist_add(&h, data[i]), CANARY_OK);
	}
	qsort(data, N, sizeof(double), cmp_double);
	for (i = 0; i < sizeof(qs) / sizeof(qs[0]); i++) {
		double exact = data[(size_t)floor(qs[i] * (N - 1))];
		double est = canary__hist_quantile(&h, qs[i]);

		assert_true(fabs(est - exact) / exact <=
			CANARY_HIST_ALPHA * (1 + 1e-9));
	}
	free(data);
}

static void test_quantile_edges(void **state)
{
	canary__hist h;

	(void)state;
	canary__hist_init(&h);
	assert_true(isnan(canary__hist_quantile(&h, 0.5)));
	canary__hist_add(&h, 0);
	canary__hist_add(&h, 0);
	canary__hist_add(&h, 10);
	assert_true(isnan(canary__hist_quantile(&h, -0.1)));
	assert_true(isnan(canary__hist_quantile(&h, 1.1)));
	assert_true(isnan(canary__hist_quantile(&h, NAN)));
	/* ranks 0,1 are the zero bucket; rank 2 is 10 ms */
	assert_true(canary__hist_quantile(&h, 0.5) == 0.0);
	assert_true(fabs(canary__hist_quantile(&h, 1.0) - 10) <= 0.1);
	/* q (n-1) = 1.98 < 2: still the zero bucket */
	assert_true(canary__hist_quantile(&h, 0.99) == 0.0);
	/* count_above */
	assert_int_equal(canary__hist_count_above(&h, 0), 1);
	assert_int_equal(canary__hist_count_above(&h, 5), 1);
	assert_int_equal(canary__hist_count_above(&h, 10), 0);
	assert_int_equal(canary__hist_count_above(&h, NAN), 0);
}

static void test_merge(void **state)
{
	canary__hist a, b, both;
	sim_rng rng;
	int i;

	(void)state;
	sim_rng_seed(&rng, 5);
	canary__hist_init(&a);
	canary__hist_init(&b);
	canary__hist_init(&both);
	for (i = 0; i < 5000; i++) {
		double x = 1000 * sim_uniform(&rng), y = 5 * sim_uniform(&rng);

		canary__hist_add(&a, x);
		canary__hist_add(&b, y - 0.5);
		canary__hist_add(&both, x);
		canary__hist_add(&both, y - 0.5);
	}
	canary__hist_merge(&a, &b);
	assert_int_equal(canary__hist_count(&a), 10000);
	assert_int_equal(a.zero, both.zero);
	assert_int_equal(a.lo, both.lo);
	assert_int_equal(a.hi, both.hi);
	assert_memory_equal(a.bins, both.bins, sizeof(a.bins));
	/* Saturation instead of wrap-around. */
	canary__hist_init(&b);
	canary__hist_add_bin(&b, 0, UINT64_MAX - 1);
	canary__hist_add_bin(&b, 0, 5);
	assert_true(canary__hist_bin(&b, 0) == UINT64_MAX);
	assert_true(canary__hist_count(&b) == UINT64_MAX);
}

static void test_new_free(void **state)
{
	canary__hist *h = canary__hist_new(canary__alloc_default());

	(void)state;
	assert_non_null(h);
	assert_int_equal(canary__hist_count(h), 0);
	canary__hist_free(canary__alloc_default(), h);
	canary__hist_free(canary__alloc_default(), NULL);
}

/* The sparse form (what the event batch and the stores carry) holds
 * exactly the dense histogram's counts. */
static void test_sparse_roundtrip(void **state)
{
	const canary__alloc *a = canary__alloc_default();
	canary__hist h, back;
	canary__hist_entry *bins, bad = { CANARY__HIST_MAX_INDEX + 1, 1 };
	size_t n;

	(void)state;
	canary__hist_init(&h);
	canary__hist_add(&h, 0);
	canary__hist_add(&h, 1.0);
	canary__hist_add(&h, 1.0);
	canary__hist_add(&h, 250);
	canary__hist_add(&h, 1e-6);
	assert_int_equal(canary__hist_to_bins(a, &h, &bins, &n), CANARY_OK);
	assert_int_equal(n, 3);
	assert_int_equal(bins[0].index, -345);
	assert_int_equal(bins[1].index, 0);
	assert_int_equal(bins[1].count, 2);
	assert_int_equal(bins[2].index, 277);
	canary__hist_init(&back);
	back.zero = back.total = h.zero;
	assert_int_equal(canary__hist_add_bins(&back, bins, n), CANARY_OK);
	assert_int_equal(back.total, h.total);
	assert_int_equal(back.lo, h.lo);
	assert_int_equal(back.hi, h.hi);
	assert_memory_equal(back.bins, h.bins, sizeof(h.bins));
	canary__free(a, bins);
	assert_int_equal(canary__hist_add_bins(&back, &bad, 1), CANARY_EINVAL);
	/* Empty: no array at all. */
	canary__hist_init(&h);
	assert_int_equal(canary__hist_to_bins(a, &h, &bins, &n), CANARY_OK);
	assert_null(bins);
	assert_int_equal(n, 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_index_range_constants),
		cmocka_unit_test(test_index_matches_libm),
		cmocka_unit_test(test_index_at_edges),
		cmocka_unit_test(test_relative_error_bound),
		cmocka_unit_test(test_add_zero_nan_inf),
		cmocka_unit_test(test_quantiles_vs_exact),
		cmocka_unit_test(test_quantile_edges),
		cmocka_unit_test(test_merge),
		cmocka_unit_test(test_new_free),
		cmocka_unit_test(test_sparse_roundtrip),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
