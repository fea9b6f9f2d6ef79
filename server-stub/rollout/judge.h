/*
 * judge.h - the canary judge: from what the SDKs reported for the stable
 * (control) and canary arms over the same windows, a verdict PASS / FAIL /
 * INCONCLUSIVE per metric and overall, the rule that fired, whether it is
 * an alert, how long the step still needs, and every number it looked at.
 *
 * Pure functions: no I/O, no globals, no allocation; safe to call from any
 * thread. The statistics and their defaults are argued in docs/analysis.md;
 * in short:
 *  - errors are judged on USERS (units), not requests: the share of units
 *    with at least one error, canary against stable, from HyperLogLog
 *    sketches. Assignment is per unit, so whatever a unit does (a retry
 *    burst, a heavy user, a chronically failing device) it is one
 *    independent trial; the test is an anytime-valid e-value (a mixture of
 *    likelihood ratios over rate ratios), checked every interval. FAIL
 *    also needs a practical margin, PASS the mirror test below the same
 *    margin (one indifference zone). A request-level test, its variance
 *    inflated by the dispersion of errors over units, adds a critical
 *    tier for regressions that multiply errors per user.
 *  - late regressions: the same FAIL tests on the step's last windows
 *    (recent[]), at a stricter level, beside the cumulative ones.
 *  - latency: p50/p95/p99 from the merged histograms; FAIL needs the ratio,
 *    the floor and a significant excess of slow canary requests; PASS is a
 *    test too (the canary's share above ratio x the stable quantile is
 *    significantly below the quantile's tail). When no latency was ever
 *    recorded for the flag the latency gates say so and step aside.
 *  - one client cannot decide: a PASS needs each of the largest
 *    contributors (top[]) to agree with the others (its canary may not
 *    look better, against its own stable arm, than theirs); one that does
 *    not blocks the PASS, and the step is judged without it, where a FAIL
 *    is a FAIL.
 *  - stalls are alerts: a sample ratio mismatch on units, a canary that
 *    stopped reporting while the stable arm reports, or evidence that
 *    contradicts itself. The state machine rolls back after a grace.
 *  - FAIL is looked for first: a mismatch never hides a regression.
 *
 * What the SDK must send per window (flag, arm, config version), beside
 * exposures, errors and latency_ms (protocol v1):
 *   units           HyperLogLog (proto/hll.h, precision CANARY__HLL_P) of
 *                   the units exposed or with an error in the window
 *   error_units     HyperLogLog of the units with >= 1 error (within units)
 *   error_sq        from proto/unit_errors.h: sum over mapped units of
 *                   (errors of the unit in the window)^2
 *   error_units_mapped, error_max, errors_unmapped: the map's `used`,
 *                   `max` and `unmapped`
 * all or none of them (a window without them is a v1 window), and the
 * batch's instance id. cj_window_check() is the ingest check of one window.
 *
 * What the server must keep per (flag, arm, config version) — per window,
 * or running sums from which these can be formed — and per instance:
 *   counts summed; histograms merged; sketches merged (register maximum:
 *   idempotent, a replayed window changes nothing); error_sq,
 *   errors_unmapped summed, error_max maxed; sketched_exposures and
 *   sketched_errors = the exposures and errors of v2 windows;
 * so that at each evaluation it can fill cj_input: the step's windows
 * (`stable`, `canary`, v1 meaning kept), the last windows of the step
 * (`recent`, e.g. the last interval and the last 5), the same sums for the
 * largest contributing instances (`top`), the stable arm since the rollout
 * began (`stable_history`), the stable arm of the last partial step
 * (`before`, for the bake at 100%), and whether any latency sample was
 * ever received for the flag (`latency_never`).
 */
#ifndef CJ_JUDGE_H
#define CJ_JUDGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "histogram.h"
#include "hll.h"
#include "parse_error.h"

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
 * latency ratio turns that quantile off.
 */
typedef struct cj_gates {
	double alpha;          /* level of every FAIL test, per step (0.002) */
	double pass_alpha;     /* level of the tests that allow PASS (0.05) */
	double err_ratio;      /* FAIL needs canary >= this x stable (1.5) */
	double err_abs;        /* ... and canary - stable >= this, per
	                          request (0.0005) */
	double err_pass_ratio; /* PASS needs canary < this x stable (1.5);
	                          at most err_ratio: one indifference zone */
	double err_critical_ratio; /* significant and >= this x: critical (5) */
	double err_critical_rate;  /* canary rate significantly above: 0 = off */
	uint64_t sparse_min_errors; /* canary-only erroring units (3) */
	double lat_ratio[3];   /* p50, p95, p99 margins (1.2, 1.2, 1.5); 0 = off */
	double lat_floor_ms;   /* ... and canary - stable >= this (5 ms) */
	double lat_critical_ratio; /* significant and >= this x: critical (2) */
	uint64_t min_exposures; /* per arm before PASS / sparse rule (1000) */
	uint64_t min_latency;   /* latency samples per arm before PASS (500) */
	double srm_alpha;       /* sample ratio mismatch level (0.001) */
	double recent_alpha;    /* level of each FAIL test on a recent window,
	                           per look (1e-5; see docs/analysis.md) */
} cj_gates;

void cj_gates_default(cj_gates *g);

/* @return 0, or -1 with `e` (may be NULL) naming the bad field, a member
 * of the object at `path` ("gates" gives "gates.alpha"; "": "alpha"). */
int cj_gates_validate(const cj_gates *g, const char *path,
	canary__perror *e);

/*
 * One arm's evidence over a set of windows (sums). The first three fields
 * are protocol v1 and keep their meaning; a v1-only arm (NULL sketches,
 * zero counts below) is judged as before, each request its own unit.
 */
typedef struct cj_arm {
	uint64_t exposures;
	uint64_t errors;
	const canary__hist *latency;    /* merged; borrowed; NULL = none */
	/* user-level evidence, from the windows that carried it (v2) */
	const canary__hll *units;       /* merged; NULL = no v2 window */
	const canary__hll *error_units; /* merged; NULL = no v2 window */
	uint64_t sketched_exposures;    /* exposures of the v2 windows */
	uint64_t sketched_errors;       /* errors of the v2 windows */
	uint64_t error_sq;              /* sum over v2 windows */
	uint64_t errors_unmapped;       /* sum over v2 windows */
	uint64_t error_max;             /* max over v2 windows */
} cj_arm;

/* Both arms over the same windows, and how long those windows span. */
typedef struct cj_evidence {
	cj_arm stable;
	cj_arm canary;
	int64_t span_ms;   /* 0: not given */
} cj_evidence;

#define CJ_RECENT_MAX 2
#define CJ_TOP_MAX 2

typedef struct cj_input {
	/* v1: the windows since the step began */
	cj_arm stable;
	cj_arm canary;
	double canary_share; /* the rollout's share, rollout_bp / 10000 */
	/* Optional: the stable arm since the rollout started (all steps;
	 * latency unused; exposures 0 = unknown), for the sparse rule and
	 * for estimating a step's duration before it has traffic. */
	cj_arm stable_history;
	/* v2 */
	int64_t step_ms;     /* span of the step's windows (0: unknown) */
	int64_t history_ms;  /* span of stable_history (0: unknown) */
	/* The step's last windows, shortest first (span_ms 0 ends the
	 * list): the recent-window FAIL tests and the silent-canary check. */
	cj_evidence recent[CJ_RECENT_MAX];
	/* The largest contributing instances' share of the step's windows
	 * (the instance with the most canary exposures, then the one with
	 * the most stable exposures, if another), only when at least two
	 * instances report; span_ms 0 ends the list. */
	cj_evidence top[CJ_TOP_MAX];
	/* True when no latency sample was ever received for the flag (any
	 * arm, any version): the app records none, and the latency gates
	 * step aside until one arrives. */
	bool latency_never;
	/* At the last step (canary_share 1) during a bake: the stable arm of
	 * the last partial step, compared with the canary before/after
	 * (exposures 0 = no bake). */
	cj_arm before;
} cj_input;

typedef struct cj_metric {
	const char *name;    /* "errors", "latency_p50", ... (static) */
	bool enabled;
	cj_verdict verdict;
	bool critical;       /* FAIL from the critical tier */
	const char *rule;    /* machine name (static), e.g. "errors_ratio" */
	char reason[192];    /* one human sentence */
	double stable;       /* share of units with errors, or quantile in ms
	                        (NaN: none) */
	double canary;
	double statistic;    /* e-value of the FAIL test (NaN: not run) */
	double threshold;    /* 1 / alpha */
	double pass_statistic; /* e-value of the PASS test (NaN: not run) */
	double pass_threshold; /* 1 / pass_alpha */
} cj_metric;

typedef struct cj_result {
	cj_verdict verdict;
	bool critical;
	/* A stall the controller alerts on and, after its grace, acts on:
	 * rules "srm", "canary_silent", "bad_evidence". */
	bool alert;
	const char *rule;    /* the rule that decided the overall verdict */
	const char *scope;   /* evidence behind it: "step", "recent",
	                        "without_top", "bake", "input" (static) */
	char reason[256];
	uint64_t exposures[2]; /* [0] stable, [1] canary (the step) */
	uint64_t errors[2];
	double units[2];       /* units judged (estimates) */
	double error_units[2]; /* units with errors judged */
	double dispersion[2];  /* errors per unit-window cluster, sum c^2 /
	                          sum c (1: independent) */
	double share_expected;
	double share_observed; /* of units; NaN without any */
	double srm_statistic;  /* Bayes factor (NaN: not run) */
	double srm_threshold;  /* 1 / srm_alpha */
	/* How much longer the step needs for every enabled PASS test, at
	 * its observed traffic with a canary like the stable arm: 0 when it
	 * passes now, -1 when it cannot be estimated (no traffic). */
	int64_t decide_ms;
	cj_metric metrics[CJ_M_COUNT];
} cj_result;

/* Judge one evaluation. Gates are assumed valid (cj_gates_validate). */
void cj_evaluate(const cj_gates *g, const cj_input *in, cj_result *out);

const char *cj_verdict_name(cj_verdict v); /* "PASS", "FAIL", ... */

/* One window as an SDK sent it (v1 fields, then v2: all or none). */
typedef struct cj_window {
	uint64_t exposures, errors;
	const canary__hist *latency;    /* NULL = none */
	const canary__hll *units;       /* NULL = v1 window */
	const canary__hll *error_units;
	uint64_t error_units_mapped, error_sq, error_max, errors_unmapped;
} cj_window;

/*
 * The server's ingest check of one window: every relation the SDK's
 * counting guarantees (error_units within units; the map's figures
 * consistent: used <= mapped errors <= sum of squares <= max x mapped
 * errors; unmapped <= errors; fewer erroring units than errors, fewer
 * units than exposures + errors, within the sketch's error). A window
 * that fails is refused as evidence. errors > exposures is allowed (an
 * error of a unit exposed in the previous window).
 * @return 0, or -1 with `err` saying why.
 */
int cj_window_check(const cj_window *w, char *err, size_t errlen);

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

/* Log e-value that canary events per trial exceed r0 x stable's
 * (rho > 1) or fall below it (rho < 1), conditional on the total events:
 * x_c canary events of x_c + x_s, p0 = r0 n_c / (r0 n_c + n_s). */
double cj_log_evalue_ratio(double x_c, double x_s, double n_c, double n_s,
	double r0, const double *rho, size_t k);

/* Log Bayes factor of the split n_c : n_s against the share w (two-sided,
 * Beta(c w, c (1 - w)) mixture, c = 10000). */
double cj_log_srm_bf(double n_c, double n_s, double w);

#endif
