/*
 * test_judge.c - the canary judge on hand-made evaluations: sparse errors,
 * missing data, margins, sample ratio mismatch, latency gates, and the
 * anytime-validity of the error test under repeated looks.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <string.h>

#include "rollout/judge.h"
#include "sim_traffic.h"

static cj_gates gates;

static int setup(void **state)
{
	(void)state;
	cj_gates_default(&gates);
	return 0;
}

static cj_input arms(uint64_t ns, uint64_t xs, uint64_t nc, uint64_t xc,
	double share)
{
	cj_input in;

	memset(&in, 0, sizeof(in));
	in.stable.exposures = ns;
	in.stable.errors = xs;
	in.canary.exposures = nc;
	in.canary.errors = xc;
	in.canary_share = share;
	return in;
}

/* Errors only: latency gates off. */
static cj_result judge_errors_only(cj_input in)
{
	cj_gates g = gates;
	cj_result r;

	g.lat_ratio[0] = g.lat_ratio[1] = g.lat_ratio[2] = 0;
	cj_evaluate(&g, &in, &r);
	return r;
}

static void expect(const cj_result *r, cj_verdict v, const char *rule)
{
	if (r->verdict != v || strcmp(r->rule, rule) != 0)
		fail_msg("got %s %s (%s), want %s %s", cj_verdict_name(r->verdict),
			r->rule, r->reason, cj_verdict_name(v), rule);
}

static void test_gates_validate(void **state)
{
	cj_gates g = gates;
	char err[128];

	(void)state;
	assert_int_equal(cj_gates_validate(&g, err, sizeof(err)), 0);
	g.alpha = 0;
	assert_int_equal(cj_gates_validate(&g, err, sizeof(err)), -1);
	assert_string_equal(err, "alpha: must be in (0, 0.5]");
	g = gates;
	g.lat_ratio[1] = 0.5;
	assert_int_equal(cj_gates_validate(&g, err, sizeof(err)), -1);
	assert_string_equal(err, "lat_ratio[1]: must be 0 (off) or >= 1");
	g = gates;
	g.err_critical_ratio = 1.2;
	assert_int_equal(cj_gates_validate(&g, err, sizeof(err)), -1);
	g = gates;
	g.srm_alpha = NAN;
	assert_int_equal(cj_gates_validate(&g, err, sizeof(err)), -1);
}

/* No canary traffic: never FAIL, even with errors reported (errors can
 * arrive from units exposed in earlier windows). */
static void test_no_canary_traffic(void **state)
{
	cj_result r = judge_errors_only(arms(100000, 500, 0, 7, 0.01));

	(void)state;
	expect(&r, CJ_INCONCLUSIVE, "no_canary_traffic");
	r = judge_errors_only(arms(0, 0, 0, 0, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "no_canary_traffic");
	r = judge_errors_only(arms(0, 0, 5000, 400, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "no_stable_traffic");
}

/* Kayenta's blind spot: 3 canary errors, 0 stable, equal exposure. */
static void test_sparse_three_vs_zero(void **state)
{
	cj_result r = judge_errors_only(arms(2000, 0, 2000, 3, 0.5));

	(void)state;
	expect(&r, CJ_FAIL, "errors_sparse");
	/* Roughly equal exposure also counts. */
	r = judge_errors_only(arms(1900, 0, 2000, 3, 0.5));
	expect(&r, CJ_FAIL, "errors_sparse");
	/* 2 errors are not enough to call it. */
	r = judge_errors_only(arms(2000, 0, 2000, 2, 0.5));
	assert_int_not_equal(r.verdict, CJ_FAIL);
	/* With the canary 10x the stable's exposure, 3 vs 0 is expected. */
	r = judge_errors_only(arms(2000, 0, 20000, 3, 10.0 / 11));
	assert_int_not_equal(r.verdict, CJ_FAIL);
	/* At the 1% step 3 vs 0 is overwhelming evidence. */
	r = judge_errors_only(arms(99000, 0, 1000, 3, 0.01));
	assert_int_equal(r.verdict, CJ_FAIL);
}

/* With the stable's long-run record, 3 vs 0 this step FAILs only when the
 * record is clean enough to make 3 canary errors surprising. */
static void test_sparse_with_history(void **state)
{
	cj_input in = arms(2000, 0, 2000, 3, 0.5);
	cj_result r;

	(void)state;
	in.stable_history = (cj_arm){ 100000, 100, NULL }; /* 0.1% */
	r = judge_errors_only(in);
	assert_int_not_equal(r.verdict, CJ_FAIL);
	in.stable_history = (cj_arm){ 100000, 0, NULL };   /* never */
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_sparse");
	in.stable_history = (cj_arm){ 100000, 2, NULL };   /* 0.002% */
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_sparse");
}

static void test_ten_percent_vs_none(void **state)
{
	cj_result r = judge_errors_only(arms(99000, 0, 1000, 100, 0.01));

	(void)state;
	assert_int_equal(r.verdict, CJ_FAIL);
	assert_true(r.critical);
	/* Even early, below the minimum exposures. */
	r = judge_errors_only(arms(9900, 0, 100, 10, 0.01));
	assert_int_equal(r.verdict, CJ_FAIL);
}

static void test_healthy_passes(void **state)
{
	cj_result r = judge_errors_only(arms(990000, 4950, 10000, 50, 0.01));
	const cj_metric *m = &r.metrics[CJ_M_ERRORS];

	(void)state;
	expect(&r, CJ_PASS, "pass");
	assert_string_equal(m->rule, "errors_ok");
	assert_true(fabs(m->stable - 0.005) < 1e-12);
	assert_true(fabs(m->canary - 0.005) < 1e-12);
	assert_true(m->pass_statistic >= m->pass_threshold);
	assert_true(m->statistic < m->threshold);
	/* Zero errors anywhere, enough exposure to bound the canary. */
	r = judge_errors_only(arms(99000, 0, 10000, 0, 0.0917));
	expect(&r, CJ_PASS, "pass");
}

static void test_min_exposures(void **state)
{
	cj_result r = judge_errors_only(arms(49500, 250, 500, 2, 0.01));

	(void)state;
	expect(&r, CJ_INCONCLUSIVE, "min_exposures");
}

static void test_regressions_fail(void **state)
{
	/* 2x with plenty of data. */
	cj_result r = judge_errors_only(arms(500000, 2500, 500000, 5000, 0.5));

	(void)state;
	expect(&r, CJ_FAIL, "errors_ratio");
	assert_false(r.critical);
	/* 6x: critical. */
	r = judge_errors_only(arms(99000, 495, 1000, 30, 0.01));
	expect(&r, CJ_FAIL, "errors_critical");
	assert_true(r.critical);
	/* 2x but too little data yet: hold, do not pass. */
	r = judge_errors_only(arms(99000, 495, 1000, 10, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "errors_undecided");
}

/* A significant but harmless difference stays inside the margins. */
static void test_practical_margin(void **state)
{
	/* 1.3x, hugely significant, under the 1.5x margin. */
	cj_result r = judge_errors_only(arms(5000000, 25000, 5000000, 32500, 0.5));

	(void)state;
	assert_true(r.metrics[CJ_M_ERRORS].statistic >= 1e6);
	assert_int_not_equal(r.verdict, CJ_FAIL);
	/* 3x but 0.0002 absolute: under the absolute margin. */
	r = judge_errors_only(arms(5000000, 500, 5000000, 1500, 0.5));
	assert_int_not_equal(r.verdict, CJ_FAIL);
}

static void test_sample_ratio_mismatch(void **state)
{
	/* Rollout says 1%, canary got 2% of exposures. */
	cj_result r = judge_errors_only(arms(98000, 490, 2000, 10, 0.01));

	(void)state;
	expect(&r, CJ_INCONCLUSIVE, "srm");
	assert_true(r.srm_statistic >= r.srm_threshold);
	assert_true(fabs(r.share_observed - 0.02) < 1e-12);
	/* A regular FAIL is held too ... */
	r = judge_errors_only(arms(490000, 2450, 10000, 120, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "srm");
	/* ... but a gross breach still rolls back. */
	r = judge_errors_only(arms(98000, 490, 2000, 300, 0.01));
	assert_int_equal(r.verdict, CJ_FAIL);
	assert_true(r.critical);
	/* A matching split is no SRM. */
	r = judge_errors_only(arms(99000, 495, 1000, 5, 0.01));
	assert_true(r.srm_statistic < 1);
}

static void fill(canary__hist *h, double median, double spread, int n)
{
	int i;

	canary__hist_init(h);
	/* Deterministic quantiles of a lognormal-like shape. */
	for (i = 0; i < n; i++) {
		double u = (i + 0.5) / n;
		double z = log(u / (1 - u)) / 1.7; /* logistic ~ normal */

		canary__hist_add(h, median * exp(spread * z));
	}
}

static void test_latency(void **state)
{
	static canary__hist hs, hc;
	cj_input in = arms(100000, 500, 100000, 500, 0.5);
	cj_result r;

	(void)state;
	in.stable.latency = &hs;
	in.canary.latency = &hc;
	fill(&hs, 100, 0.5, 100000);
	fill(&hc, 100, 0.5, 100000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "pass");
	assert_true(fabs(r.metrics[CJ_M_P95].stable - r.metrics[CJ_M_P95].canary)
		< 1e-9);
	/* 1.3x slower everywhere. */
	fill(&hc, 130, 0.5, 100000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_p50");
	assert_int_equal(r.metrics[CJ_M_P95].verdict, CJ_FAIL);
	assert_true(r.metrics[CJ_M_P95].canary /
		r.metrics[CJ_M_P95].stable > 1.25);
	/* 2.5x: critical. */
	fill(&hc, 250, 0.5, 100000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_critical");
	/* 1.3x of 1 ms is under the 5 ms floor. */
	fill(&hs, 1, 0.5, 100000);
	fill(&hc, 1.3, 0.5, 100000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "pass");
	/* Only the tail got slower: p99 catches it. */
	fill(&hs, 100, 0.5, 100000);
	fill(&hc, 100, 0.5, 100000);
	canary__hist_add_bin(&hc, canary__hist_index(550), 700);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_p99");
	assert_int_equal(r.metrics[CJ_M_P50].verdict, CJ_PASS);
	/* A gross tail is critical. */
	canary__hist_add_bin(&hc, canary__hist_index(2000), 3000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_critical");
}

static void test_latency_missing(void **state)
{
	static canary__hist hs;
	cj_input in = arms(100000, 500, 1000, 5, 0.01);
	cj_result r;

	(void)state;
	fill(&hs, 100, 0.5, 1000);
	in.stable.latency = &hs;
	cj_evaluate(&gates, &in, &r);
	assert_int_equal(r.verdict, CJ_INCONCLUSIVE);
	assert_string_equal(r.metrics[CJ_M_P95].rule, "latency_no_data");
	/* Too few samples: hold. */
	in.canary.latency = &hs;
	fill(&hs, 100, 0.5, 100);
	cj_evaluate(&gates, &in, &r);
	assert_int_equal(r.verdict, CJ_INCONCLUSIVE);
	assert_string_equal(r.metrics[CJ_M_P95].rule, "latency_min_samples");
}

/* Ville's inequality in practice: under equal rates, checking after every
 * error for 400 errors, the e-value reaches 1/alpha in at most ~alpha of
 * sequences (alpha = 0.05 here so the check has resolution). */
static void test_evalue_anytime_valid(void **state)
{
	static const double rho[] = { 1.5, 2, 3, 5, 10, 30, 100 };
	const double share = 0.2, threshold = log(20);
	sim_rng rng;
	int runs = 4000, crossed = 0, i, j;

	(void)state;
	sim_rng_seed(&rng, 1234);
	for (i = 0; i < runs; i++) {
		double xc = 0, xs = 0;

		for (j = 0; j < 400; j++) {
			if (sim_uniform(&rng) < share)
				xc++;
			else
				xs++;
			if (cj_log_evalue_ratio(xc, xs, share, 1 - share, 1, rho,
				7) >= threshold) {
				crossed++;
				break;
			}
		}
	}
	assert_true(crossed <= runs * 0.05);
	/* And it is not vacuous: 3x is found. */
	assert_true(cj_log_evalue_ratio(60, 80, 0.2, 0.8, 1, rho, 7) >= threshold);
}

static void test_srm_bf_matches_lgamma(void **state)
{
	double nc = 1234, ns = 98765, w = 0.0125, c = 10000;
	double a = c * w, b = c * (1 - w);
	double want = lgamma(a + nc) + lgamma(b + ns) - lgamma(a + b + nc + ns) -
		(lgamma(a) + lgamma(b) - lgamma(a + b)) - nc * log(w) -
		ns * log(1 - w);

	(void)state;
	assert_true(fabs(cj_log_srm_bf(nc, ns, w) - want) < 1e-6);
	assert_true(cj_log_srm_bf(10, 10, 0) == 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_gates_validate, setup),
		cmocka_unit_test_setup(test_no_canary_traffic, setup),
		cmocka_unit_test_setup(test_sparse_three_vs_zero, setup),
		cmocka_unit_test_setup(test_sparse_with_history, setup),
		cmocka_unit_test_setup(test_ten_percent_vs_none, setup),
		cmocka_unit_test_setup(test_healthy_passes, setup),
		cmocka_unit_test_setup(test_min_exposures, setup),
		cmocka_unit_test_setup(test_regressions_fail, setup),
		cmocka_unit_test_setup(test_practical_margin, setup),
		cmocka_unit_test_setup(test_sample_ratio_mismatch, setup),
		cmocka_unit_test_setup(test_latency, setup),
		cmocka_unit_test_setup(test_latency_missing, setup),
		cmocka_unit_test_setup(test_evalue_anytime_valid, setup),
		cmocka_unit_test_setup(test_srm_bf_matches_lgamma, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
