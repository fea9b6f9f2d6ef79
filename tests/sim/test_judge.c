/*
 * test_judge.c - the canary judge on hand-made evaluations: sparse errors,
 * missing data, margins, sample ratio mismatch, latency gates, the
 * anytime-validity of the error test under repeated looks; and judge v2:
 * errors judged on users (bursts, heavy users), FAIL before a mismatch,
 * silent canaries, inconsistent evidence, recent windows, the largest
 * contributor left out, the bake, the latency PASS test, apps without
 * latency, the time a step still needs, and the window ingest check.
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

#define P CANARY__HLL_P

static cj_gates gates;
/* Sketches for the v2 arms of a test (reset by setup). */
static uint8_t regs[24][CANARY__HLL_REGS(CANARY__HLL_P)];
static canary__hll sketch[24];
static int nsketch;

static int setup(void **state)
{
	(void)state;
	cj_gates_default(&gates);
	nsketch = 0;
	return 0;
}

static canary__hll *new_sketch(void)
{
	canary__hll *h = &sketch[nsketch];

	assert_true(nsketch < 24);
	canary__hll_init(h, P, regs[nsketch++]);
	return h;
}

static void add_ids(canary__hll *h, const char *prefix, long from, long to)
{
	char id[48];
	long i;

	for (i = from; i < to; i++) {
		int n = snprintf(id, sizeof(id), "%s%ld", prefix, i);

		canary__hll_add(h, id, (size_t)n);
	}
}

/*
 * The v2 fields of an arm: `units` distinct units named prefix0.., the
 * first `eunits` of them with the arm's errors spread evenly over them
 * (a burst of errors/eunits each), as the SDK's sketches and error map
 * would report them.
 */
static void users(cj_arm *a, const char *prefix, long units, long eunits)
{
	canary__hll *u = new_sketch(), *e = new_sketch();
	uint64_t c = eunits ? a->errors / (uint64_t)eunits : 0;
	uint64_t rest = eunits ? a->errors % (uint64_t)eunits : 0;

	add_ids(u, prefix, 0, units);
	add_ids(e, prefix, 0, eunits);
	a->units = u;
	a->error_units = e;
	a->sketched_exposures = a->exposures;
	a->sketched_errors = a->errors;
	a->error_sq = ((uint64_t)eunits - rest) * c * c + rest * (c + 1) * (c + 1);
	a->error_max = c + (rest ? 1 : 0);
	a->errors_unmapped = 0;
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
	canary__perror e;

	(void)state;
	assert_int_equal(cj_gates_validate(&g, "", &e), 0);
	g.alpha = 0;
	assert_int_equal(cj_gates_validate(&g, "", &e), -1);
	assert_string_equal(e.field, "alpha");
	assert_string_equal(e.message, "must be in (0, 0.5]");
	g = gates;
	g.lat_ratio[1] = 0.5;
	assert_int_equal(cj_gates_validate(&g, "gates", &e), -1);
	assert_string_equal(e.field, "gates.lat_ratio[1]");
	assert_string_equal(e.message, "must be 0 (off) or >= 1");
	g = gates;
	g.err_critical_ratio = 1.2;
	assert_int_equal(cj_gates_validate(&g, "", NULL), -1);
	g = gates;
	g.srm_alpha = NAN;
	assert_int_equal(cj_gates_validate(&g, "", &e), -1);
}

/* No canary traffic: never FAIL, even with errors reported (errors can
 * arrive from units exposed in earlier windows); with this much stable
 * traffic it is a mismatch, an alert. */
static void test_no_canary_traffic(void **state)
{
	cj_result r = judge_errors_only(arms(100000, 500, 0, 7, 0.01));

	(void)state;
	expect(&r, CJ_INCONCLUSIVE, "srm");
	assert_true(r.alert);
	r = judge_errors_only(arms(1000, 5, 0, 0, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "no_canary_traffic");
	assert_false(r.alert);
	r = judge_errors_only(arms(0, 0, 0, 0, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "no_canary_traffic");
	r = judge_errors_only(arms(0, 0, 5000, 400, 0.01));
	expect(&r, CJ_INCONCLUSIVE, "srm"); /* the stable arm went quiet */
	r = judge_errors_only(arms(0, 0, 10, 0, 0.01));
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
	in.stable_history = (cj_arm){ .exposures = 100000, .errors = 100 };
	r = judge_errors_only(in); /* 0.1%: 3 errors are not surprising */
	assert_int_not_equal(r.verdict, CJ_FAIL);
	in.stable_history = (cj_arm){ .exposures = 100000 }; /* never */
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_sparse");
	in.stable_history = (cj_arm){ .exposures = 100000, .errors = 2 };
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
	cj_result r = judge_errors_only(arms(980000, 4900, 20000, 100, 0.02));
	const cj_metric *m = &r.metrics[CJ_M_ERRORS];

	(void)state;
	expect(&r, CJ_PASS, "pass");
	assert_string_equal(m->rule, "errors_ok");
	assert_true(fabs(m->stable - 0.005) < 1e-12);
	assert_true(fabs(m->canary - 0.005) < 1e-12);
	assert_true(m->pass_statistic >= m->pass_threshold);
	assert_true(m->statistic < m->threshold);
	assert_true(r.decide_ms == 0);
	/* Half the data: not yet shown below 1.5x (the PASS margin is the
	 * FAIL margin), and the judge says how long it still needs. */
	r = judge_errors_only(arms(245000, 1225, 5000, 25, 0.02));
	expect(&r, CJ_INCONCLUSIVE, "errors_undecided");
	assert_true(r.decide_ms == -1); /* no span given */
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
	/* Rollout says 1%, canary got 2% of exposures (v1: of units). */
	cj_result r = judge_errors_only(arms(98000, 490, 2000, 10, 0.01));

	(void)state;
	expect(&r, CJ_INCONCLUSIVE, "srm");
	assert_true(r.srm_statistic >= r.srm_threshold);
	assert_true(fabs(r.share_observed - 0.02) < 1e-12);
	assert_true(r.alert);
	/* A mismatch never hides a FAIL: it is looked for first. */
	r = judge_errors_only(arms(490000, 2450, 10000, 120, 0.01));
	expect(&r, CJ_FAIL, "errors_ratio");
	r = judge_errors_only(arms(98000, 490, 2000, 300, 0.01));
	assert_int_equal(r.verdict, CJ_FAIL);
	assert_true(r.critical);
	/* A matching split is no SRM. */
	r = judge_errors_only(arms(99000, 495, 1000, 5, 0.01));
	assert_true(r.srm_statistic < 1);
}

/* ---- judge v2 ---- */

/* A canary with 6 retry bursts of 20 where 2.5 were expected: 2.4x the
 * stable's errors per request, but 6 users. Judged on requests (v1
 * windows) it FAILs; on users it does not. */
static void test_bursts_are_one_user(void **state)
{
	cj_input in = arms(990000, 4960, 10000, 120, 0.01);
	cj_result r = judge_errors_only(in);

	(void)state;
	expect(&r, CJ_FAIL, "errors_ratio");
	users(&in.stable, "s", 990000, 248);
	users(&in.canary, "c", 10000, 6);
	r = judge_errors_only(in);
	assert_int_not_equal(r.verdict, CJ_FAIL);
	assert_true(fabs(r.error_units[1] - 6) < 0.5);
	assert_true(fabs(r.dispersion[1] - 20) < 1e-9);
	/* Five times the users with errors: that FAILs. */
	in = arms(990000, 4960, 10000, 260, 0.01);
	users(&in.stable, "s", 990000, 248);
	users(&in.canary, "c", 10000, 13);
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_critical");
}

/* A canary with no error yet has no dispersion of its own: its clean
 * requests count at the stable arm's cluster size (errors 20 at a time:
 * 6,000 requests are about 300 chances to err, no proof of health). */
static void test_clean_canary_bursty_errors(void **state)
{
	cj_input in = arms(594000, 2960, 6000, 0, 0.01);
	cj_result r;

	(void)state;
	users(&in.stable, "s", 594000, 148);
	users(&in.canary, "c", 6000, 0);
	r = judge_errors_only(in);
	expect(&r, CJ_INCONCLUSIVE, "errors_undecided");
	/* Independent errors: the same clean canary passes. */
	in = arms(594000, 2960, 6000, 0, 0.01);
	users(&in.stable, "s", 594000, 2960);
	users(&in.canary, "c", 6000, 0);
	r = judge_errors_only(in);
	expect(&r, CJ_PASS, "pass");
}

/* Heavy users make the split of requests drift; the split of users is
 * what assignment controls. */
static void test_srm_on_users(void **state)
{
	cj_input in = arms(98000, 490, 2000, 10, 0.01);
	cj_result r;

	(void)state;
	users(&in.stable, "s", 49500, 490);
	users(&in.canary, "c", 500, 10);
	r = judge_errors_only(in);
	assert_int_not_equal(r.verdict, CJ_FAIL);
	assert_false(r.alert);
	assert_true(fabs(r.share_observed - 0.01) < 0.001);
	/* 60% of its share of users: a mismatch. */
	nsketch = 0;
	in = arms(98000, 490, 2000, 10, 0.01);
	users(&in.stable, "s", 49700, 490);
	users(&in.canary, "c", 300, 10);
	r = judge_errors_only(in);
	expect(&r, CJ_INCONCLUSIVE, "srm");
	assert_true(r.alert);
}

/* A canary that stops reporting while the stable arm reports. */
static void test_canary_silent(void **state)
{
	cj_input in = arms(99000, 495, 1000, 5, 0.01);
	cj_result r;

	(void)state;
	in.recent[0].stable = (cj_arm){ .exposures = 9900, .errors = 50 };
	in.recent[0].span_ms = 60000;
	r = judge_errors_only(in);
	expect(&r, CJ_INCONCLUSIVE, "canary_silent");
	assert_true(r.alert);
	/* At 100 requests a minute a quiet minute is no evidence. */
	in = arms(9900, 50, 100, 0, 0.01);
	in.recent[0].stable = (cj_arm){ .exposures = 99 };
	in.recent[0].span_ms = 60000;
	r = judge_errors_only(in);
	assert_false(r.alert);
}

static void expect_bad(cj_input in, const char *why)
{
	cj_result r = judge_errors_only(in);

	expect(&r, CJ_INCONCLUSIVE, "bad_evidence");
	assert_true(r.alert);
	if (!strstr(r.reason, why))
		fail_msg("reason \"%s\" lacks \"%s\"", r.reason, why);
}

/* Evidence that contradicts itself is not judged. */
static void test_bad_evidence(void **state)
{
	cj_input in = arms(1000, 5, 1000, 100, 0.5);

	(void)state;
	in.canary.exposures = 50;
	expect_bad(in, "100 errors in 50 exposures");
	in = arms(100000, 500, 100000, 500, 0.5);
	users(&in.stable, "s", 100000, 500);
	users(&in.canary, "c", 100000, 500);
	in.canary.error_units = in.stable.error_units; /* other units */
	expect_bad(in, "error_units holds units that units does not");
	in = arms(1000, 5, 1000, 5, 0.5);
	users(&in.stable, "s", 1000, 5);
	users(&in.canary, "c", 1000, 5);
	in.canary.error_sq = 4;
	expect_bad(in, "error dispersion inconsistent");
	in = arms(1000, 5, 1000, 5, 0.5);
	users(&in.stable, "s", 1000, 5);
	users(&in.canary, "c", 5000, 5);
	expect_bad(in, "units from 1000 exposures");
	in = arms(1000, 5, 1000, 5, 0.5);
	in.top[0].canary = (cj_arm){ .exposures = 2000 };
	in.top[0].span_ms = 60000;
	expect_bad(in, "a part of the step holds more than the step");
}

/* Late regressions: the cumulative step dilutes them, the recent windows
 * do not. */
static void test_recent_window(void **state)
{
	cj_input in = arms(500000, 2500, 500000, 3500, 0.5);
	cj_result r = judge_errors_only(in);

	(void)state;
	assert_int_not_equal(r.verdict, CJ_FAIL);
	in.recent[0] = (cj_evidence){ (cj_arm){ .exposures = 25000,
		.errors = 125 }, (cj_arm){ .exposures = 25000, .errors = 625 },
		60000 };
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_critical");
	assert_string_equal(r.scope, "recent");
	/* The recent windows' level is stricter: 2x on little data is not
	 * enough there. */
	in.recent[0].canary.errors = 150;
	in.recent[0].stable.errors = 75;
	in.recent[0].canary.exposures = in.recent[0].stable.exposures = 15000;
	r = judge_errors_only(in);
	assert_int_not_equal(r.verdict, CJ_FAIL);
}

/* One client cannot decide: a poisoning instance claims 3x the traffic
 * with no canary errors. */
static void test_largest_contributor(void **state)
{
	cj_input in = arms(400000, 2000, 400000, 1000, 0.5);
	cj_result r = judge_errors_only(in);

	(void)state;
	/* With its data the 2x canary looks better than stable ... */
	assert_int_not_equal(r.verdict, CJ_FAIL);
	/* ... without it, it FAILs. */
	in.top[0].stable = (cj_arm){ .exposures = 300000, .errors = 1500 };
	in.top[0].canary = (cj_arm){ .exposures = 300000 };
	in.top[0].span_ms = 600000;
	r = judge_errors_only(in);
	expect(&r, CJ_FAIL, "errors_ratio");
	assert_string_equal(r.scope, "without_top");
	/* A contributor whose canary is quietly better than the others'
	 * blocks a PASS without failing anything. */
	in = arms(980000, 4900, 20000, 100, 0.02);
	in.top[0].stable = (cj_arm){ .exposures = 490000, .errors = 2450 };
	in.top[0].canary = (cj_arm){ .exposures = 10000, .errors = 20 };
	in.top[0].span_ms = 600000;
	r = judge_errors_only(in);
	expect(&r, CJ_INCONCLUSIVE, "pass_without_top");
	/* An honest one with its share of everything does not. */
	in.top[0].canary.errors = 50;
	r = judge_errors_only(in);
	expect(&r, CJ_PASS, "pass");
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

static canary__hist hs, hc;

/* Equal healthy error counts, latency from hs and hc. */
static cj_input with_latency(void)
{
	cj_input in = arms(100000, 500, 100000, 500, 0.5);

	in.stable.latency = &hs;
	in.canary.latency = &hc;
	return in;
}

static void test_latency(void **state)
{
	cj_input in = with_latency();
	cj_result r;

	(void)state;
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
	/* Only the tail got slower, p99 about 1.4x: inside p99's margin of
	 * 1.5, the indifference zone, so no FAIL (and here a PASS). */
	fill(&hs, 100, 0.5, 100000);
	fill(&hc, 100, 0.5, 100000);
	canary__hist_add_bin(&hc, canary__hist_index(550), 700);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "pass");
	assert_true(r.metrics[CJ_M_P99].canary / r.metrics[CJ_M_P99].stable
		> 1.3);
	/* A slower tail, p99 about 1.8x: p99 catches it. */
	fill(&hc, 100, 0.5, 100000);
	canary__hist_add_bin(&hc, canary__hist_index(700), 1200);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_p99");
	assert_int_equal(r.metrics[CJ_M_P50].verdict, CJ_PASS);
	assert_int_not_equal(r.metrics[CJ_M_P95].verdict, CJ_FAIL);
	/* A gross tail is critical. */
	canary__hist_add_bin(&hc, canary__hist_index(2000), 3000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "latency_critical");
}

static void test_latency_missing(void **state)
{
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

/* The latency PASS is a test: under the margin is not enough on little
 * data. */
static void test_latency_pass_is_a_test(void **state)
{
	cj_input in = with_latency();
	cj_result r;

	(void)state;
	fill(&hs, 100, 0.5, 100000);
	fill(&hc, 110, 0.5, 600);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_INCONCLUSIVE, "latency_undecided");
	assert_true(r.metrics[CJ_M_P95].canary < 1.2 * r.metrics[CJ_M_P95].stable);
	fill(&hc, 110, 0.5, 100000);
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "pass");
}

/* An app that records no latency: the gates say so and step aside. */
static void test_latency_absent(void **state)
{
	cj_input in = arms(980000, 4900, 20000, 100, 0.02);
	cj_result r;

	(void)state;
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_INCONCLUSIVE, "latency_no_data");
	in.latency_never = true;
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "pass");
	assert_string_equal(r.metrics[CJ_M_P95].rule, "latency_absent");
	assert_false(r.metrics[CJ_M_P95].enabled);
}

/* At 100%, the canary against the last step's stable arm: critical
 * changes only. */
static void test_bake(void **state)
{
	cj_input in = arms(0, 0, 100000, 550, 1);
	cj_result r;

	(void)state;
	in.latency_never = true;
	in.before = (cj_arm){ .exposures = 50000, .errors = 250 };
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "bake_ok");
	assert_string_equal(r.scope, "bake");
	in.canary.errors = 1800; /* 1.8% vs 0.5%: not critical */
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_PASS, "bake_ok");
	in.canary.errors = 3000; /* 6x */
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "errors_volume_critical");
	/* The same in the recent windows only. */
	in.canary.errors = 600;
	in.recent[0].canary = (cj_arm){ .exposures = 10000, .errors = 400 };
	in.recent[0].span_ms = 60000;
	cj_evaluate(&gates, &in, &r);
	expect(&r, CJ_FAIL, "errors_volume_critical");
}

/* How long the step still needs, from its traffic so far. */
static void test_decide_ms(void **state)
{
	cj_input in = arms(99000, 495, 1000, 5, 0.01);
	cj_result r;
	int64_t t1;

	(void)state;
	in.step_ms = 10 * 60000;
	r = judge_errors_only(in);
	expect(&r, CJ_INCONCLUSIVE, "errors_undecided");
	t1 = r.decide_ms;
	assert_true(t1 > 30 * 60000 && t1 < 300 * 60000);
	/* Twice the traffic: about half the time. */
	in = arms(198000, 990, 2000, 10, 0.01);
	in.step_ms = 10 * 60000;
	r = judge_errors_only(in);
	assert_true(r.decide_ms > t1 / 4 && r.decide_ms < t1 * 3 / 4);
	/* Before the step has traffic: from the stable history. */
	in = arms(0, 0, 0, 0, 0.01);
	in.stable_history = (cj_arm){ .exposures = 600000, .errors = 3000 };
	in.history_ms = 60 * 60000;
	r = judge_errors_only(in);
	assert_true(r.decide_ms > 30 * 60000 && r.decide_ms < 600 * 60000);
	/* 100 requests a minute: no estimate within a thousand spans. */
	in = arms(990, 5, 10, 0, 0.01);
	in.step_ms = 10 * 60000;
	r = judge_errors_only(in);
	assert_true(r.decide_ms > 100 * 60000 || r.decide_ms == -1);
}

/* The server's ingest check of one window. */
static void test_window_check(void **state)
{
	canary__hll *u = new_sketch(), *e = new_sketch();
	cj_window w = { .exposures = 100, .errors = 25 };
	char err[160];

	(void)state;
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), 0); /* v1 */
	add_ids(u, "w", 0, 90);
	add_ids(e, "w", 0, 3);
	w.units = u;
	w.error_units = e;
	w.error_units_mapped = 3;
	w.error_sq = 20 * 20 + 4 + 1; /* a burst of 20, then 2 and 1 */
	w.error_max = 20;
	w.errors_unmapped = 2;
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), 0);
	w.error_sq = 22; /* below the errors mapped */
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), -1);
	assert_non_null(strstr(err, "dispersion"));
	w.error_sq = 405;
	w.errors_unmapped = 30;
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), -1);
	assert_string_equal(err, "more unmapped errors than errors");
	w.errors_unmapped = 2;
	w.error_units = NULL;
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), -1);
	w.error_units = e;
	add_ids(e, "elsewhere", 0, 5);
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), -1);
	assert_string_equal(err, "error_units holds units that units does not");
	/* errors > exposures is allowed in one window */
	w.error_units = u;
	w.units = u;
	assert_int_equal(cj_window_check(&w, err, sizeof(err)), -1); /* 90 > 25 */
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
		cmocka_unit_test_setup(test_bursts_are_one_user, setup),
		cmocka_unit_test_setup(test_clean_canary_bursty_errors, setup),
		cmocka_unit_test_setup(test_srm_on_users, setup),
		cmocka_unit_test_setup(test_canary_silent, setup),
		cmocka_unit_test_setup(test_bad_evidence, setup),
		cmocka_unit_test_setup(test_recent_window, setup),
		cmocka_unit_test_setup(test_largest_contributor, setup),
		cmocka_unit_test_setup(test_latency_pass_is_a_test, setup),
		cmocka_unit_test_setup(test_latency_absent, setup),
		cmocka_unit_test_setup(test_bake, setup),
		cmocka_unit_test_setup(test_decide_ms, setup),
		cmocka_unit_test_setup(test_window_check, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
