/*
 * judge.c - the canary judge (see judge.h; the choices are argued in
 * docs/analysis.md).
 */
#include "judge.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "error.h"

/* Rate ratios the FAIL tests mix over (canary / stable): wide, because a
 * new error class can be 100x while a bad config is 1.5x. Equal weights. */
static const double up_grid[] = { 1.5, 2, 3, 5, 10, 30, 100 };
/* Ratios, relative to the PASS null, the PASS tests mix over. */
static const double down_grid[] = { 0.75, 0.5, 0.25, 0.1 };
#define NUP (sizeof(up_grid) / sizeof(up_grid[0]))
#define NDOWN (sizeof(down_grid) / sizeof(down_grid[0]))

/* Sparse rule: canary-only errors whose exact conditional p-value under
 * equal rates, share^x_c, is at most this (3 errors: canary exposure at
 * most ~1.13x stable's). */
#define SPARSE_P 0.15
/* Concentration of the SRM Beta prior (GrowthBook's default). */
#define SRM_CONCENTRATION 10000.0

static const double quantiles[3] = { 0.5, 0.95, 0.99 };
static const char *const metric_names[CJ_M_COUNT] = {
	"errors", "latency_p50", "latency_p95", "latency_p99"
};
static const char *const latency_rules[3] = {
	"latency_p50", "latency_p95", "latency_p99"
};

void cj_gates_default(cj_gates *g)
{
	memset(g, 0, sizeof(*g));
	g->alpha = 0.002;
	g->pass_alpha = 0.05;
	g->err_ratio = 1.5;
	g->err_abs = 0.0005;
	g->err_pass_ratio = 2.0;
	g->err_critical_ratio = 5.0;
	g->err_critical_rate = 0;
	g->sparse_min_errors = 3;
	g->lat_ratio[0] = g->lat_ratio[1] = g->lat_ratio[2] = 1.2;
	g->lat_floor_ms = 5.0;
	g->lat_critical_ratio = 2.0;
	g->min_exposures = 1000;
	g->min_latency = 500;
	g->srm_alpha = 0.001;
}

static int bad(char *err, size_t errlen, const char *field, const char *what)
{
	if (err && errlen)
		snprintf(err, errlen, "%s: must be %s", field, what);
	return -1;
}

static bool in_range(double v, double lo, double hi)
{
	return v >= lo && v <= hi; /* false for NaN */
}

int cj_gates_validate(const cj_gates *g, char *err, size_t errlen)
{
	static const char *const lat_names[3] = {
		"lat_ratio[0]", "lat_ratio[1]", "lat_ratio[2]"
	};
	int i;

	if (!in_range(g->alpha, 1e-12, 0.5))
		return bad(err, errlen, "alpha", "in (0, 0.5]");
	if (!in_range(g->pass_alpha, 1e-12, 0.5))
		return bad(err, errlen, "pass_alpha", "in (0, 0.5]");
	if (!in_range(g->err_ratio, 1, 1e6))
		return bad(err, errlen, "err_ratio", ">= 1");
	if (!in_range(g->err_abs, 0, 0.999))
		return bad(err, errlen, "err_abs", "in [0, 1)");
	if (!in_range(g->err_pass_ratio, 1.0001, 1e6))
		return bad(err, errlen, "err_pass_ratio", "> 1");
	if (!in_range(g->err_critical_ratio, g->err_ratio, 1e6))
		return bad(err, errlen, "err_critical_ratio", ">= err_ratio");
	if (!in_range(g->err_critical_rate, 0, 0.999))
		return bad(err, errlen, "err_critical_rate", "in [0, 1)");
	for (i = 0; i < 3; i++)
		if (g->lat_ratio[i] != 0 && !in_range(g->lat_ratio[i], 1, 1e6))
			return bad(err, errlen, lat_names[i], "0 (off) or >= 1");
	if (!in_range(g->lat_floor_ms, 0, 3.6e6))
		return bad(err, errlen, "lat_floor_ms", "in [0, 3600000]");
	if (!in_range(g->lat_critical_ratio, 1, 1e6))
		return bad(err, errlen, "lat_critical_ratio", ">= 1");
	if (!in_range(g->srm_alpha, 1e-12, 0.5))
		return bad(err, errlen, "srm_alpha", "in (0, 0.5]");
	return 0;
}

const char *cj_verdict_name(cj_verdict v)
{
	switch (v) {
	case CJ_PASS:
		return "PASS";
	case CJ_FAIL:
		return "FAIL";
	case CJ_INCONCLUSIVE:
		return "INCONCLUSIVE";
	}
	return "?";
}

/* ---- statistics ---- */

double cj_log_mixture_lr(double x, double y, double p0, const double *p_alt,
	size_t k)
{
	double l[16], top = -INFINITY, sum = 0;
	size_t j;

	if (!(p0 > 0 && p0 < 1) || k == 0 || k > 16)
		return 0; /* no test possible: e = 1, never significant */
	for (j = 0; j < k; j++) {
		double p = p_alt[j];

		l[j] = x * log(p / p0) + y * log((1 - p) / (1 - p0));
		if (l[j] > top)
			top = l[j];
	}
	for (j = 0; j < k; j++)
		sum += exp(l[j] - top);
	return top + log(sum / (double)k);
}

double cj_log_evalue_ratio(double x_c, double x_s, double n_c, double n_s,
	double r0, const double *rho, size_t k)
{
	double p_alt[16], p0;
	size_t j;

	if (!(n_c > 0 && n_s > 0) || k > 16)
		return 0;
	p0 = r0 * n_c / (r0 * n_c + n_s);
	for (j = 0; j < k; j++) {
		double r = r0 * rho[j];

		p_alt[j] = r * n_c / (r * n_c + n_s);
	}
	return cj_log_mixture_lr(x_c, x_s, p0, p_alt, k);
}

/* log Gamma(x), x > 0: shift up to x >= 10, then Stirling's series
 * (error < 1e-12). Not libm's lgamma: glibc's writes the global signgam,
 * and this must be callable from any thread. */
static double log_gamma(double x)
{
	double shift = 0, z, z2;

	while (x < 10) {
		shift += log(x);
		x += 1;
	}
	z = 1 / x;
	z2 = z * z;
	return (x - 0.5) * log(x) - x + 0.91893853320467274178 +
	       z * (1.0 / 12 - z2 * (1.0 / 360 - z2 * (1.0 / 1260 -
	       z2 / 1680))) - shift;
}

static double log_beta(double a, double b)
{
	return log_gamma(a) + log_gamma(b) - log_gamma(a + b);
}

double cj_log_srm_bf(double n_c, double n_s, double w)
{
	double a, b;

	if (!(w > 0 && w < 1))
		return 0;
	a = SRM_CONCENTRATION * w;
	b = SRM_CONCENTRATION * (1 - w);
	return log_beta(a + n_c, b + n_s) - log_beta(a, b) -
	       n_c * log(w) - n_s * log1p(-w);
}

static double e_of(double log_e)
{
	return exp(log_e > 700 ? 700 : log_e);
}

/* ---- metrics ---- */

static void say(cj_metric *m, cj_verdict v, const char *rule, bool critical,
	const char *fmt, ...) CANARY__PRINTF(5, 6);

static void say(cj_metric *m, cj_verdict v, const char *rule, bool critical,
	const char *fmt, ...)
{
	va_list ap;

	m->verdict = v;
	m->rule = rule;
	m->critical = critical;
	va_start(ap, fmt);
	vsnprintf(m->reason, sizeof(m->reason), fmt, ap);
	va_end(ap);
}

/* P(X >= k) for X ~ Poisson(mu), k >= 1: the terms from k upward. */
static double poisson_tail(double k, double mu)
{
	double log_term, sum = 0;
	int j;

	if (mu <= 0)
		return 0;
	if (mu >= k)
		return 1; /* at least about a half: never surprising */
	log_term = k * log(mu) - mu - log_gamma(k + 1);
	for (j = 0; j < 1000; j++) {
		double t = exp(log_term);

		sum += t;
		if (t < sum * 1e-12)
			break;
		log_term += log(mu / (k + j + 1));
	}
	return fmin(sum, 1);
}

/* Canary-only errors: stable clean over min exposures, canary with enough
 * errors at no more than the stable's exposure (see SPARSE_P) and, when
 * the stable's long-run rate is known, more than it explains. */
static bool sparse_errors(const cj_gates *g, const cj_input *in, double xc,
	double xs, double nc, double ns)
{
	double share = nc / (nc + ns);
	double nh = (double)in->stable_history.exposures;

	if (g->sparse_min_errors == 0 || xs > 0)
		return false;
	if (xc < (double)g->sparse_min_errors || ns < (double)g->min_exposures)
		return false;
	if (pow(share, xc) > SPARSE_P || xc / nc < g->err_abs)
		return false;
	if (nh > ns && poisson_tail(xc, nc *
	    (double)in->stable_history.errors / nh) > g->alpha)
		return false;
	return true;
}

/* Significantly above an absolute error-rate cap (one-sample test). */
static bool above_cap(const cj_gates *g, double xc, double nc)
{
	double cap = g->err_critical_rate, p_alt[4];
	size_t j;

	if (cap <= 0)
		return false;
	for (j = 0; j < 4; j++)
		p_alt[j] = fmin(cap * up_grid[j], (1 + cap) / 2);
	return cj_log_mixture_lr(xc, fmax(nc - xc, 0), cap, p_alt, 4) >=
	       log(1 / g->alpha);
}

/* PASS side: the canary is below err_pass_ratio x stable, or below the
 * absolute tolerance stable + err_abs (stable's rate taken as known). */
static double errors_pass_log_e(const cj_gates *g, double xc, double xs,
	double nc, double ns)
{
	double tol = fmax(g->err_pass_ratio * xs / ns, xs / ns + g->err_abs);
	double ratio_e, abs_e = 0, p_alt[NDOWN];
	size_t j;

	ratio_e = cj_log_evalue_ratio(xc, xs, nc, ns, g->err_pass_ratio,
		down_grid, NDOWN);
	if (tol < 1) {
		for (j = 0; j < NDOWN; j++)
			p_alt[j] = tol * down_grid[j];
		abs_e = cj_log_mixture_lr(xc, fmax(nc - xc, 0), tol, p_alt,
			NDOWN);
	}
	return fmax(ratio_e, abs_e);
}

static void judge_errors(const cj_gates *g, const cj_input *in, cj_metric *m)
{
	double ns = (double)in->stable.exposures, xs = (double)in->stable.errors;
	double nc = (double)in->canary.exposures, xc = (double)in->canary.errors;
	double ps, pc, log_e;
	bool sig, margin;

	m->threshold = 1 / g->alpha;
	m->pass_threshold = 1 / g->pass_alpha;
	if (nc == 0 || ns == 0) {
		say(m, CJ_INCONCLUSIVE, "no_data", false,
			"no %s exposures", nc == 0 ? "canary" : "stable");
		return;
	}
	ps = xs / ns;
	pc = xc / nc;
	m->stable = ps;
	m->canary = pc;
	log_e = cj_log_evalue_ratio(xc, xs, nc, ns, 1, up_grid, NUP);
	m->statistic = e_of(log_e);
	sig = log_e >= log(m->threshold);
	margin = pc >= g->err_ratio * ps && pc - ps >= g->err_abs;
	if (sig && margin && pc >= g->err_critical_ratio * ps) {
		say(m, CJ_FAIL, "errors_critical", true,
			"canary errors %.3g%% vs stable %.3g%%: at least %gx, "
			"e-value %.3g >= %.3g", 100 * pc, 100 * ps,
			g->err_critical_ratio, m->statistic, m->threshold);
		return;
	}
	if (above_cap(g, xc, nc)) {
		say(m, CJ_FAIL, "errors_rate_critical", true,
			"canary errors %.3g%% significantly above the %.3g%% cap",
			100 * pc, 100 * g->err_critical_rate);
		return;
	}
	if (sig && margin) {
		say(m, CJ_FAIL, "errors_ratio", false,
			"canary errors %.3g%% vs stable %.3g%%, e-value %.3g >= "
			"%.3g", 100 * pc, 100 * ps, m->statistic, m->threshold);
		return;
	}
	if (sparse_errors(g, in, xc, xs, nc, ns)) {
		say(m, CJ_FAIL, "errors_sparse", false,
			"%.0f canary errors in %.0f exposures, none in %.0f "
			"stable exposures", xc, nc, ns);
		return;
	}
	if (nc < (double)g->min_exposures || ns < (double)g->min_exposures) {
		say(m, CJ_INCONCLUSIVE, "min_exposures", false,
			"%.0f canary / %.0f stable exposures, need %llu each",
			nc, ns, (unsigned long long)g->min_exposures);
		return;
	}
	m->pass_statistic = e_of(errors_pass_log_e(g, xc, xs, nc, ns));
	if (m->pass_statistic >= m->pass_threshold)
		say(m, CJ_PASS, "errors_ok", false,
			"canary errors %.3g%% vs stable %.3g%%: below %gx "
			"(e-value %.3g)", 100 * pc, 100 * ps, g->err_pass_ratio,
			m->pass_statistic);
	else
		say(m, CJ_INCONCLUSIVE, "errors_undecided", false,
			"canary errors %.3g%% vs stable %.3g%%: not yet shown "
			"below %gx", 100 * pc, 100 * ps, g->err_pass_ratio);
}

static uint64_t hist_n(const canary__hist *h)
{
	return h ? canary__hist_count(h) : 0;
}

static void judge_latency(const cj_gates *g, const cj_input *in, int qi,
	cj_metric *m)
{
	const canary__hist *hs = in->stable.latency, *hc = in->canary.latency;
	double ns = (double)hist_n(hs), nc = (double)hist_n(hc);
	double qs, qc, log_e, ratio = g->lat_ratio[qi];
	bool sig, over;
	int pct = (int)(quantiles[qi] * 100 + 0.5);

	m->enabled = ratio > 0;
	if (!m->enabled) {
		say(m, CJ_INCONCLUSIVE, "off", false, "not judged");
		return;
	}
	m->threshold = 1 / g->alpha;
	if (ns == 0 || nc == 0) {
		say(m, CJ_INCONCLUSIVE, "latency_no_data", false,
			"no %s latency samples", nc == 0 ? "canary" : "stable");
		return;
	}
	qs = canary__hist_quantile(hs, quantiles[qi]);
	qc = canary__hist_quantile(hc, quantiles[qi]);
	m->stable = qs;
	m->canary = qc;
	/* Requests above the stable quantile: equally frequent per request
	 * in both arms unless the canary is slower. */
	log_e = cj_log_evalue_ratio((double)canary__hist_count_above(hc, qs),
		(double)canary__hist_count_above(hs, qs), nc, ns, 1, up_grid,
		NUP);
	m->statistic = e_of(log_e);
	sig = log_e >= log(m->threshold);
	over = qc >= ratio * qs && qc - qs >= g->lat_floor_ms;
	if (sig && over && qc >= g->lat_critical_ratio * qs) {
		say(m, CJ_FAIL, "latency_critical", true,
			"canary p%d %.4gms vs stable %.4gms: at least %gx, "
			"e-value %.3g", pct, qc, qs, g->lat_critical_ratio,
			m->statistic);
		return;
	}
	if (sig && over) {
		say(m, CJ_FAIL, latency_rules[qi], false,
			"canary p%d %.4gms vs stable %.4gms (>= %gx, +%gms), "
			"e-value %.3g", pct, qc, qs, ratio, g->lat_floor_ms,
			m->statistic);
		return;
	}
	if (nc < (double)g->min_latency || ns < (double)g->min_latency) {
		say(m, CJ_INCONCLUSIVE, "latency_min_samples", false,
			"%.0f canary / %.0f stable latency samples, need %llu",
			nc, ns, (unsigned long long)g->min_latency);
		return;
	}
	if (over)
		say(m, CJ_INCONCLUSIVE, "latency_undecided", false,
			"canary p%d %.4gms vs stable %.4gms: over the margin, "
			"not yet significant", pct, qc, qs);
	else
		say(m, CJ_PASS, "latency_ok", false,
			"canary p%d %.4gms vs stable %.4gms", pct, qc, qs);
}

/* ---- overall ---- */

static void result_init(const cj_gates *g, const cj_input *in, cj_result *r)
{
	double n;
	int i;

	memset(r, 0, sizeof(*r));
	r->exposures[0] = in->stable.exposures;
	r->exposures[1] = in->canary.exposures;
	r->errors[0] = in->stable.errors;
	r->errors[1] = in->canary.errors;
	r->share_expected = in->canary_share;
	n = (double)in->stable.exposures + (double)in->canary.exposures;
	r->share_observed = n > 0 ? (double)in->canary.exposures / n : NAN;
	r->srm_statistic = NAN;
	r->srm_threshold = 1 / g->srm_alpha;
	for (i = 0; i < CJ_M_COUNT; i++) {
		cj_metric *m = &r->metrics[i];

		m->name = metric_names[i];
		m->enabled = true;
		m->rule = "";
		m->stable = m->canary = NAN;
		m->statistic = m->pass_statistic = NAN;
		m->threshold = m->pass_threshold = NAN;
	}
}

static void conclude(cj_result *r, cj_verdict v, const char *rule,
	bool critical, const char *reason)
{
	r->verdict = v;
	r->rule = rule;
	r->critical = critical;
	snprintf(r->reason, sizeof(r->reason), "%s", reason);
}

/* First enabled metric with verdict v (and critical, when asked). */
static const cj_metric *find(const cj_result *r, cj_verdict v, bool critical)
{
	int i;

	for (i = 0; i < CJ_M_COUNT; i++) {
		const cj_metric *m = &r->metrics[i];

		if (m->enabled && m->verdict == v && (!critical || m->critical))
			return m;
	}
	return NULL;
}

static bool srm_detected(cj_result *r, const cj_input *in)
{
	double w = in->canary_share, lbf;

	if (!(w > 0 && w < 1))
		return false;
	lbf = cj_log_srm_bf((double)in->canary.exposures,
		(double)in->stable.exposures, w);
	r->srm_statistic = e_of(lbf);
	return lbf >= log(r->srm_threshold);
}

void cj_evaluate(const cj_gates *g, const cj_input *in, cj_result *out)
{
	const cj_metric *m;
	char buf[256];
	bool srm;
	int i;

	result_init(g, in, out);
	srm = srm_detected(out, in);
	judge_errors(g, in, &out->metrics[CJ_M_ERRORS]);
	for (i = 0; i < 3; i++)
		judge_latency(g, in, i, &out->metrics[CJ_M_P50 + i]);
	if (in->canary.exposures == 0) {
		conclude(out, CJ_INCONCLUSIVE, "no_canary_traffic", false,
			"no canary exposures in the step's windows");
		return;
	}
	if (in->stable.exposures == 0) {
		conclude(out, CJ_INCONCLUSIVE, "no_stable_traffic", false,
			"no stable exposures to compare against");
		return;
	}
	/* A gross breach rolls back even when the split looks wrong. */
	if ((m = find(out, CJ_FAIL, true))) {
		conclude(out, CJ_FAIL, m->rule, true, m->reason);
		return;
	}
	if (srm) {
		snprintf(buf, sizeof(buf), "canary share %.4g%% of exposures, "
			"rollout %.4g%%: sample ratio mismatch (BF %.3g >= %.3g), "
			"holding", 100 * out->share_observed,
			100 * out->share_expected, out->srm_statistic,
			out->srm_threshold);
		conclude(out, CJ_INCONCLUSIVE, "srm", false, buf);
		return;
	}
	if ((m = find(out, CJ_FAIL, false)) ||
	    (m = find(out, CJ_INCONCLUSIVE, false))) {
		conclude(out, m->verdict, m->rule, m->critical, m->reason);
		return;
	}
	conclude(out, CJ_PASS, "pass", false, "every gate passed");
}
