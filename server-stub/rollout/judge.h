/*
 * judge.h - the canary judge: from the counts and latency histograms of the
 * stable (control) and canary arms over the same windows since the step
 * started, a verdict PASS / FAIL / INCONCLUSIVE per metric and overall,
 * the rule that fired, and every number it looked at.
 *
 * Pure functions: no I/O, no globals, no allocation; safe to call from any
 * thread. The statistics and their defaults are justified in
 * docs/analysis.md; in short:
 *  - errors: a one-sided anytime-valid e-value (mixture of likelihood
 *    ratios over a grid of rate ratios) for "canary errors per exposure
 *    are higher than stable's", conditional on the total errors, so it can
 *    be checked every interval; FAIL also needs a practical margin (ratio
 *    and absolute). PASS needs the mirror test: confidence that the canary
 *    is below pass_ratio x stable (or below stable + abs margin).
 *  - sparse errors: canary-only errors (stable 0 in >= min exposures,
 *    canary >= 3 at no more than the stable exposure, and surprising at
 *    the stable's long-run rate when that is known) FAIL.
 *  - latency: p50/p95/p99 from the merged histograms; FAIL needs the ratio
 *    and the absolute floor and a significant excess of canary requests
 *    above the stable quantile (same e-value machinery).
 *  - sample ratio mismatch: a Beta-mixture Bayes factor on the split of
 *    exposures against the rollout share; a mismatch holds (INCONCLUSIVE).
 *  - missing data never FAILs and never PASSes.
 */
#ifndef CJ_JUDGE_H
#define CJ_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

typedef enum cj_verdict {
	CJ_INCONCLUSIVE = 0, /* hold: not enough evidence either way */
	CJ_PASS = 1,
	CJ_FAIL = 2
} cj_verdict;

/* The judged metrics, in the order of cj_result.metrics. */
typedef enum cj_metric_id {
	CJ_M_ERRORS = 0,
	CJ_M_P50,
	CJ_M_P95,
	CJ_M_P99,
	CJ_M_COUNT
} cj_metric_id;

/*
 * Gates. cj_gates_default() fills the documented defaults; a 0 in a
 * latency ratio turns that quantile off (apps that record no latency turn
 * all three off, or latency would hold every step for want of data).
 */
typedef struct cj_gates {
	double alpha;          /* level of every FAIL test, per step (0.002) */
	double pass_alpha;     /* level of the tests that allow PASS (0.05) */
	double err_ratio;      /* FAIL needs canary rate >= this x stable (1.5) */
	double err_abs;        /* ... and canary - stable >= this (0.0005) */
	double err_pass_ratio; /* PASS needs canary < this x stable (2.0) */
	double err_critical_ratio; /* significant and >= this x: critical (5) */
	double err_critical_rate;  /* canary rate significantly above: 0 = off */
	uint64_t sparse_min_errors; /* canary-only errors that FAIL (3) */
	double lat_ratio[3];   /* p50, p95, p99 FAIL ratios (1.2 each); 0 = off */
	double lat_floor_ms;   /* ... and canary - stable >= this (5 ms) */
	double lat_critical_ratio; /* significant and >= this x: critical (2) */
	uint64_t min_exposures; /* per arm before PASS / sparse rule (1000) */
	uint64_t min_latency;   /* latency samples per arm before PASS (500) */
	double srm_alpha;       /* sample ratio mismatch level (0.001) */
} cj_gates;

void cj_gates_default(cj_gates *g);

/* @return 0, or -1 with `err` naming the bad field ("alpha: must be ..."). */
int cj_gates_validate(const cj_gates *g, char *err, size_t errlen);

/* One arm over the same windows as the other. */
typedef struct cj_arm {
	uint64_t exposures;
	uint64_t errors;
	const canary__hist *latency; /* borrowed for the call; NULL = none */
} cj_arm;

typedef struct cj_input {
	cj_arm stable;
	cj_arm canary;
	double canary_share; /* the rollout's share, rollout_bp / 10000 */
	/* Optional: the stable arm since the rollout started (all steps;
	 * latency unused; exposures 0 = unknown). It tells the sparse rule
	 * whether "stable had 0 errors this step" is luck or a clean record:
	 * with it, canary-only errors FAIL only when they are surprising
	 * (Poisson tail < alpha) at the stable's long-run rate. */
	cj_arm stable_history;
} cj_input;

typedef struct cj_metric {
	const char *name;    /* "errors", "latency_p50", ... (static) */
	bool enabled;
	cj_verdict verdict;
	bool critical;       /* FAIL from the critical tier */
	const char *rule;    /* machine name (static), e.g. "errors_ratio" */
	char reason[192];    /* one human sentence */
	double stable;       /* error rate, or quantile in ms (NaN: none) */
	double canary;
	double statistic;    /* e-value of the FAIL test (NaN: not run) */
	double threshold;    /* 1 / alpha */
	double pass_statistic; /* e-value of the PASS test (NaN: not run) */
	double pass_threshold; /* 1 / pass_alpha */
} cj_metric;

typedef struct cj_result {
	cj_verdict verdict;
	bool critical;
	const char *rule;    /* the rule that decided the overall verdict */
	char reason[256];
	uint64_t exposures[2]; /* [0] stable, [1] canary */
	uint64_t errors[2];
	double share_expected;
	double share_observed; /* NaN without exposures */
	double srm_statistic;  /* Bayes factor (NaN: not run) */
	double srm_threshold;  /* 1 / srm_alpha */
	cj_metric metrics[CJ_M_COUNT];
} cj_result;

/* Judge one evaluation. Gates are assumed valid (cj_gates_validate). */
void cj_evaluate(const cj_gates *g, const cj_input *in, cj_result *out);

const char *cj_verdict_name(cj_verdict v); /* "PASS", "FAIL", ... */

/*
 * The statistics, exposed for tests and docs/analysis.md.
 *
 * Log of the mixture likelihood ratio (1/k) sum_j L(p_alt[j]) / L(p0) for
 * `x` successes and `y` failures of Bernoulli(p): under p = p0 it is a
 * nonnegative martingale with mean 1 (and a supermartingale for every p
 * on the other side of p0 from all p_alt), so by Ville's inequality it
 * ever reaches 1/alpha with probability at most alpha.
 */
double cj_log_mixture_lr(double x, double y, double p0, const double *p_alt,
	size_t k);

/* Log e-value that canary events per exposure exceed r0 x stable's
 * (rho > 1) or fall below it (rho < 1), conditional on the total events:
 * x_c canary events of x_c + x_s, p0 = r0 n_c / (r0 n_c + n_s). */
double cj_log_evalue_ratio(double x_c, double x_s, double n_c, double n_s,
	double r0, const double *rho, size_t k);

/* Log Bayes factor of the exposure split against the share w (two-sided,
 * Beta(c w, c (1 - w)) mixture, c = 10000). */
double cj_log_srm_bf(double n_c, double n_s, double w);

#endif
