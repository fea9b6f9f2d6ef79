/*
 * canary-sim.c - drives the judge and the controller's state machine with
 * seeded synthetic traffic, many runs per scenario, and reports how often
 * rollouts are rolled back, completed or paused, and how long a rollback
 * takes. docs/analysis.md has the table and the command that made it.
 *
 *   canary-sim [--runs N] [--seed S] [--scenario NAME] [--markdown]
 *              [--rpm X] [--interval SECONDS] [--verbose]
 *   canary-sim --check   (fast scenarios, asserted bounds; ctest "sim")
 *   canary-sim --list
 *
 * Traffic per evaluation interval: requests ~ Poisson(rpm x interval);
 * each is canary with the rollout's share (times a bias for the SRM
 * scenario); errors ~ Binomial per arm; latencies lognormal, drawn straight
 * into histogram bins (a multinomial), the canary's scaled by a multiplier.
 * The judge sees the arms' counts since the step started, as the server
 * will give them; the state machine acts on its verdict.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/controller_fsm.h"
#include "rollout/judge.h"
#include "sim_traffic.h"

static const uint32_t steps[] = { 100, 500, 2500, 5000, 10000 };
#define NSTEPS 5
#define MINUTE_MS 60000LL

typedef struct scenario {
	const char *name;
	const char *what;
	double rpm;          /* requests per minute, both arms */
	double base_err;     /* stable error rate */
	double err_mult;     /* canary error rate = base_err x this ... */
	double canary_err;   /* ... or this when >= 0 */
	double lat_mult;     /* canary latency multiplier */
	double share_bias;   /* actual canary share = rollout share x this */
	bool no_canary;      /* the canary arm gets no exposures */
	int inject;          /* canary errors added in the first 10 minutes */
	size_t start_step;
	/* --check: rollback fraction bounds and the furthest step allowed */
	double lo, hi;
	int max_step;        /* -1: any */
	int check_runs;      /* 0: not part of --check */
} scenario;

static const scenario scenarios[] = {
	{ "healthy", "healthy canary, 10k req/min, 0.5% errors",
	  10000, 0.005, 1, -1, 1, 1, false, 0, 0, 0, 0.03, -1, 200 },
	{ "errors_2x", "2x error rate from the 1% step",
	  10000, 0.005, 2, -1, 1, 1, false, 0, 0, 0.80, 1, -1, 100 },
	{ "errors_5x", "5x error rate from the 1% step",
	  10000, 0.005, 5, -1, 1, 1, false, 0, 0, 0.95, 1, 0, 100 },
	{ "latency_1.3x", "1.3x latency (p95 1.3x) from the 1% step",
	  10000, 0.005, 1, -1, 1.3, 1, false, 0, 0, 0.95, 1, 0, 100 },
	{ "sparse_3v0_equal", "3 canary errors vs 0, equal exposure (50%)",
	  200, 0, 1, 0, 1, 1, false, 3, 3, 0.99, 1, -1, 100 },
	{ "sparse_3v0_1pct", "3 canary errors vs 0 at the 1% step",
	  10000, 0, 1, 0, 1, 1, false, 3, 0, 0.99, 1, 0, 100 },
	{ "errors_10pct_vs_0", "canary 10% errors, stable none",
	  10000, 0, 1, 0.10, 1, 1, false, 0, 0, 0.99, 1, 0, 100 },
	{ "no_canary_traffic", "canary gets no exposures (3 stray errors)",
	  10000, 0.005, 1, -1, 1, 1, true, 3, 0, 0, 0, 0, 100 },
	{ "srm_half_share", "canary gets half its rollout share",
	  10000, 0.005, 1, -1, 1, 0.5, false, 0, 0, 0, 0.01, 0, 100 },
	{ "healthy_rare_50pct", "healthy, 200 req/min, 0.1% errors, from 50%",
	  200, 0.001, 1, -1, 1, 1, false, 0, 3, 0, 0.05, -1, 200 },
	{ "healthy_1k", "healthy, 1k req/min, 0.5% errors",
	  1000, 0.005, 1, -1, 1, 1, false, 0, 0, 0, 0.03, -1, 0 },
};
#define NSCENARIOS (sizeof(scenarios) / sizeof(scenarios[0]))

typedef struct sim_opts {
	int runs;
	uint64_t seed;
	double interval_s;
	double rpm;          /* 0: the scenario's */
	double lat_median, lat_sigma;
	int horizon_min;
	bool markdown;
	bool verbose;        /* print every rollback and pause with its reason */
} sim_opts;

typedef struct outcome {
	int rolled_back;     /* 1 when rolled back */
	int completed;
	int paused;
	double t_rollback;   /* minutes */
	double t_complete;
	size_t rollback_step;
	size_t max_step;
} outcome;

typedef struct arms {
	uint64_t n[2], x[2]; /* [0] stable, [1] canary; since the step began */
	canary__hist h[2];
	uint64_t hn, hx;     /* stable since the rollout began */
} arms;

static void arms_reset(arms *a)
{
	memset(a->n, 0, sizeof(a->n));
	memset(a->x, 0, sizeof(a->x));
	canary__hist_init(&a->h[0]);
	canary__hist_init(&a->h[1]);
}

/* One interval of traffic into the step's running totals. */
static void traffic(const scenario *sc, const sim_opts *o, sim_rng *rng,
	const sim_latency *lat, double share, uint64_t inject, arms *a)
{
	double rpm = o->rpm > 0 ? o->rpm : sc->rpm;
	double pc = sc->canary_err >= 0 ? sc->canary_err :
		fmin(1, sc->base_err * sc->err_mult);
	uint64_t total = sim_poisson(rng, rpm * o->interval_s / 60.0);
	uint64_t nc = sc->no_canary ? 0 : sim_binomial(rng, total, share);
	uint64_t ns = total - nc;

	uint64_t xs = sim_binomial(rng, ns, sc->base_err);

	a->n[0] += ns;
	a->n[1] += nc;
	a->x[0] += xs;
	a->hn += ns;
	a->hx += xs;
	a->x[1] += sim_binomial(rng, nc, pc) + inject;
	sim_latency_draw(rng, &lat[0], ns, &a->h[0]);
	sim_latency_draw(rng, &lat[1], nc, &a->h[1]);
}

/* Which ticks in the first 10 minutes get an injected canary error. */
static void pick_injections(const scenario *sc, const sim_opts *o,
	sim_rng *rng, int *ticks)
{
	int i, span = (int)(600 / o->interval_s);

	for (i = 0; i < sc->inject && i < 16; i++)
		ticks[i] = 1 + (int)(sim_uniform(rng) * (span > 0 ? span : 1));
}

static uint64_t injected_at(const scenario *sc, const int *ticks, int t)
{
	uint64_t n = 0;
	int i;

	for (i = 0; i < sc->inject && i < 16; i++)
		n += ticks[i] == t;
	return n;
}

static void run_one(const scenario *sc, const sim_opts *o,
	const cj_gates *g, const sim_latency *lat, uint64_t seed, arms *a,
	outcome *out)
{
	int64_t interval_ms = (int64_t)(o->interval_s * 1000);
	int ticks = (int)(o->horizon_min * 60 / o->interval_s), t;
	int inject_ticks[16] = { 0 };
	cj_rollout r;
	sim_rng rng;

	memset(out, 0, sizeof(*out));
	memset(&r, 0, sizeof(r));
	r.steps_bp = steps;
	r.nsteps = NSTEPS;
	r.step = sc->start_step;
	r.min_soak_ms = 10 * MINUTE_MS;
	r.max_step_ms = 60 * MINUTE_MS;
	r.status = CJ_RUNNING;
	out->max_step = r.step;
	sim_rng_seed(&rng, seed);
	pick_injections(sc, o, &rng, inject_ticks);
	arms_reset(a);
	/* Starting past the first step: the earlier steps' stable history
	 * (one hour of traffic) is what the server would have seen. */
	a->hn = a->hx = 0;
	if (sc->start_step > 0) {
		a->hn = sim_poisson(&rng, (o->rpm > 0 ? o->rpm : sc->rpm) * 60);
		a->hx = sim_binomial(&rng, a->hn, sc->base_err);
	}
	for (t = 1; t <= ticks; t++) {
		int64_t now = t * interval_ms;
		double share = steps[r.step] / 10000.0 * sc->share_bias;
		cj_input in;
		cj_result res;
		cj_decision d;

		traffic(sc, o, &rng, lat, fmin(share, 1),
			injected_at(sc, inject_ticks, t), a);
		in.stable = (cj_arm){ a->n[0], a->x[0], &a->h[0] };
		in.canary = (cj_arm){ a->n[1], a->x[1], &a->h[1] };
		in.canary_share = steps[r.step] / 10000.0;
		in.stable_history = (cj_arm){ a->hn, a->hx, NULL };
		cj_evaluate(g, &in, &res);
		cj_fsm_tick(&r, &res, now, &d);
		cj_fsm_apply(&r, &d, now);
		if (r.step > out->max_step)
			out->max_step = r.step;
		if (o->verbose && (d.action == CJ_ACT_ROLLBACK ||
		    d.action == CJ_ACT_PAUSE))
			printf("  seed %llu t=%dmin step %zu %s: %s\n",
				(unsigned long long)seed,
				(int)(now / MINUTE_MS), r.step,
				cj_action_name(d.action), d.reason);
		switch (d.action) {
		case CJ_ACT_ROLLBACK:
			out->rolled_back = 1;
			out->t_rollback = (double)now / MINUTE_MS;
			out->rollback_step = r.step;
			return;
		case CJ_ACT_PROMOTE:
			out->completed = 1;
			out->t_complete = (double)now / MINUTE_MS;
			return;
		case CJ_ACT_WIDEN:
			arms_reset(a); /* the judge sees the new step only */
			break;
		case CJ_ACT_PAUSE:
			out->paused = 1;
			break;
		default:
			break;
		}
	}
}

typedef struct summary {
	int runs, rolled_back, at_first_step, completed, paused_only;
	double rb_median, rb_p95, done_median;
	size_t max_step;
	size_t max_step_rolled_back; /* furthest step a rollback happened at */
} summary;

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Quantile over all runs, with runs that never got there as +infinity. */
static double quantile_of(double *v, int n, int runs, double q)
{
	int k = (int)ceil(q * runs) - 1;

	qsort(v, (size_t)n, sizeof(double), cmp_double);
	if (k < 0)
		k = 0;
	return k < n ? v[k] : INFINITY;
}

static int simulate(const scenario *sc, const sim_opts *o, summary *s)
{
	static arms a;
	static sim_latency lat[2];
	double *t_rb = calloc((size_t)o->runs, sizeof(double));
	double *t_done = calloc((size_t)o->runs, sizeof(double));
	cj_gates g;
	int i, nrb = 0, ndone = 0;

	if (!t_rb || !t_done) {
		free(t_rb);
		free(t_done);
		return -1;
	}
	memset(s, 0, sizeof(*s));
	cj_gates_default(&g);
	sim_latency_init(&lat[0], o->lat_median, o->lat_sigma);
	sim_latency_init(&lat[1], o->lat_median * sc->lat_mult, o->lat_sigma);
	for (i = 0; i < o->runs; i++) {
		outcome out;

		run_one(sc, o, &g, lat, o->seed + (uint64_t)i * 7919, &a, &out);
		s->runs++;
		if (out.max_step > s->max_step)
			s->max_step = out.max_step;
		if (out.rolled_back) {
			s->rolled_back++;
			s->at_first_step += out.rollback_step == sc->start_step;
			if (out.rollback_step > s->max_step_rolled_back)
				s->max_step_rolled_back = out.rollback_step;
			t_rb[nrb++] = out.t_rollback;
		} else if (out.completed) {
			s->completed++;
			t_done[ndone++] = out.t_complete;
		} else if (out.paused) {
			s->paused_only++;
		}
	}
	s->rb_median = quantile_of(t_rb, nrb, o->runs, 0.5);
	s->rb_p95 = quantile_of(t_rb, nrb, o->runs, 0.95);
	s->done_median = quantile_of(t_done, ndone, ndone, 0.5);
	free(t_rb);
	free(t_done);
	return 0;
}

static void fmt_minutes(char *buf, size_t len, double m)
{
	if (isinf(m) || isnan(m))
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%.0f", m);
}

static void print_header(const sim_opts *o)
{
	if (o->markdown) {
		printf("| scenario | runs | rolled back | at start step | "
			"completed | paused | rollback min p50 | p95 | "
			"complete min p50 |\n");
		printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
	} else {
		printf("%-20s %6s %8s %8s %8s %8s %7s %7s %8s\n", "scenario",
			"runs", "rollback", "at_step", "complete", "paused",
			"rb_p50", "rb_p95", "done_p50");
	}
}

static void print_row(const scenario *sc, const sim_opts *o, const summary *s)
{
	char m50[16], m95[16], d50[16];
	double n = s->runs;

	fmt_minutes(m50, sizeof(m50), s->rb_median);
	fmt_minutes(m95, sizeof(m95), s->rb_p95);
	fmt_minutes(d50, sizeof(d50), s->done_median);
	if (o->markdown)
		printf("| %s | %d | %.1f%% | %.1f%% | %.1f%% | %.1f%% | %s | %s "
			"| %s |\n", sc->name, s->runs,
			100 * s->rolled_back / n, 100 * s->at_first_step / n,
			100 * s->completed / n, 100 * s->paused_only / n, m50, m95,
			d50);
	else
		printf("%-20s %6d %7.1f%% %7.1f%% %7.1f%% %7.1f%% %7s %7s %8s\n",
			sc->name, s->runs, 100 * s->rolled_back / n,
			100 * s->at_first_step / n, 100 * s->completed / n,
			100 * s->paused_only / n, m50, m95, d50);
	fflush(stdout);
}

/* --check: every scenario with check_runs, asserted on rates only. */
static int check(sim_opts o)
{
	size_t i;
	int failures = 0;

	print_header(&o);
	for (i = 0; i < NSCENARIOS; i++) {
		const scenario *sc = &scenarios[i];
		summary s;
		double rate;

		if (!sc->check_runs)
			continue;
		o.runs = sc->check_runs;
		if (simulate(sc, &o, &s) != 0)
			return 2;
		print_row(sc, &o, &s);
		rate = (double)s.rolled_back / s.runs;
		if (rate < sc->lo || rate > sc->hi) {
			printf("  FAILED: rollback rate %.3f outside [%.2f, %.2f]\n",
				rate, sc->lo, sc->hi);
			failures++;
		}
		if (sc->max_step >= 0 && s.max_step > (size_t)sc->max_step) {
			printf("  FAILED: reached step %zu, allowed %d\n",
				s.max_step, sc->max_step);
			failures++;
		}
		if (sc->max_step >= 0 && s.rolled_back &&
		    s.max_step_rolled_back > (size_t)sc->max_step) {
			printf("  FAILED: rolled back only at step %zu\n",
				s.max_step_rolled_back);
			failures++;
		}
	}
	return failures ? 1 : 0;
}

static void usage(void)
{
	fprintf(stderr, "usage: canary-sim [--runs N] [--seed S] "
		"[--scenario NAME] [--rpm X] [--interval SECONDS] "
		"[--markdown] [--verbose] | --check | --list\n");
}

static int parse_args(int argc, char **argv, sim_opts *o, const char **only,
	bool *do_check)
{
	int i;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;

		if (!strcmp(a, "--check")) {
			*do_check = true;
		} else if (!strcmp(a, "--verbose")) {
			o->verbose = true;
		} else if (!strcmp(a, "--markdown")) {
			o->markdown = true;
		} else if (!strcmp(a, "--list")) {
			size_t k;

			for (k = 0; k < NSCENARIOS; k++)
				printf("%-20s %s\n", scenarios[k].name,
					scenarios[k].what);
			exit(0);
		} else if (v && !strcmp(a, "--runs")) {
			o->runs = atoi(v), i++;
		} else if (v && !strcmp(a, "--seed")) {
			o->seed = strtoull(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--scenario")) {
			*only = v, i++;
		} else if (v && !strcmp(a, "--rpm")) {
			o->rpm = atof(v), i++;
		} else if (v && !strcmp(a, "--interval")) {
			o->interval_s = atof(v), i++;
		} else {
			usage();
			return -1;
		}
	}
	if (o->runs < 1 || o->interval_s < 1) {
		usage();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sim_opts o = { 1000, 20251125, 60, 0, 100, 0.5, 300, false, false };
	const char *only = NULL;
	bool do_check = false;
	size_t i;

	if (parse_args(argc, argv, &o, &only, &do_check) != 0)
		return 2;
	if (do_check)
		return check(o);
	print_header(&o);
	for (i = 0; i < NSCENARIOS; i++) {
		summary s;

		if (only && strcmp(only, scenarios[i].name) != 0)
			continue;
		if (simulate(&scenarios[i], &o, &s) != 0)
			return 2;
		print_row(&scenarios[i], &o, &s);
	}
	return 0;
}
