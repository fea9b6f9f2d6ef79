/*
 * canary-sim.c - drives the real judge and the real controller state
 * machine with simulated traffic that is not the judge's model, many
 * seeded runs per scenario, and reports how often rollouts are rolled
 * back, completed or paused, and how long it took. docs/analysis.md has
 * the table and the command that made it.
 *
 *   canary-sim [--runs N] [--seed S] [--scenario NAME] [--markdown]
 *              [--interval SECONDS] [--horizon MINUTES] [--verbose]
 *              [--trace] [--requests] [--rules] [--harm]
 *              [--widen-undecided PERCENT]
 *   canary-sim --check [--scenario NAME]  (fast scenarios, asserted
 *              bounds; ctest "sim")
 *   canary-sim --bound  (what no valid PASS can do at the 1% step,
 *              sim_bound.h)
 *   canary-sim --list
 *
 * Each run: a population of users (sim_users.h) makes requests at the
 * scenario's rate; the real bucketing assigns each user its arm; 8 SDK
 * instances (users stick to one) record exposures, errors, latency, unit
 * sketches and error dispersion into one window per arm per interval
 * (sim_pipeline.h); the server side sums the step's windows; every
 * interval the judge evaluates and the state machine acts. Steps 1, 5,
 * 25, 50, 100%, soak 10 min, max 60 min per step, horizon 8 hours; run i
 * uses seed S + 7919 i.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/controller_fsm.h"
#include "rollout/judge.h"
#include "sim_bound.h"
#include "sim_pipeline.h"
#include "sim_requests.h"
#include "sim_scenarios.h"
#include "sim_traffic.h"
#include "sim_users.h"

static const uint32_t steps[] = { 100, 500, 2500, 5000, 10000 };
#define NSTEPS 5
#define MINUTE_MS 60000LL
#define SOAK_MIN 10
#define MAX_STEP_MIN 60
#define SUSTAIN_MIN 2
#define GRACE_MIN 3
#define RECENT_LONG 5  /* intervals in the longer recent window */
#define REAL_INSTANCES 8u
#define DEFAULT_USERS 200000u
/* The poisoning client claims this multiple of the real traffic. */
#define POISON_VOLUME 3.0
#define INCIDENT_MIN 20
#define TWO_PI 6.283185307179586

typedef struct sim_opts {
	int runs;
	uint64_t seed;
	double interval_s;
	int horizon_min;
	bool markdown;
	bool verbose;        /* print every rollback and pause with its reason */
	bool trace;          /* print every tick */
	bool requests;       /* windows without the user-level fields: the
	                        judge counts requests as units (v1) */
	bool rules;          /* print how the runs ended, by rule */
	bool harm;           /* print the canary requests served while a
	                        regression was on (p50 / p95) */
	uint32_t widen_undecided_bp; /* the rollout option (0: off) */
} sim_opts;

/* Buffers every run reuses. */
typedef struct world {
	sim_population pop;
	uint32_t pop_users;
	sim_pipe pipe;
	sim_arm before;      /* the last partial step's stable arm (bake) */
	sim_lat_table lat_base, lat_bad;
} world;

typedef struct outcome {
	bool rolled_back, completed, paused;
	bool before_onset;   /* rolled back before a late regression began */
	double t_rollback;   /* minutes from the start, or from the onset */
	double t_complete;   /* minutes from the start */
	size_t rollback_step;
	size_t max_step;
	const char *rule;    /* the judge rule behind the rollback */
	/* How the run ended: the state machine's rule and the judge's at the
	 * rollback, the pause or the horizon (--rules). */
	const char *end_action, *end_rule;
	size_t end_step;
	double canary_req;   /* canary requests served while the scenario's
	                        regression was on (from the start, or from a
	                        late onset), as delivered to the server */
} outcome;

/* One rollout in progress. */
typedef struct run {
	const scenario *sc;
	const sim_opts *o;
	sim_rng rng;
	cj_rollout r;
	int64_t onset_ms;    /* when the late regression began; -1: not yet */
	size_t onset_step;
	int onset_min;
	int64_t onset_step_ms; /* when onset_step began; -1: not yet */
	double phase_min;    /* of the daily cycle */
	int incident_min;    /* incident start */
	int inject[16];      /* minutes with an injected canary error */
} run;

static double interval_min(const sim_opts *o)
{
	return o->interval_s / 60.0;
}

/* ---- one interval of traffic ----------------------------------------- */

static bool regressed(const run *x)
{
	return x->sc->onset == SIM_ONSET_START || x->onset_ms >= 0;
}

/* A late regression starts onset_min minutes after its step began. */
static void maybe_onset(run *x, int64_t start_ms)
{
	if (x->sc->onset == SIM_ONSET_START || x->onset_ms >= 0)
		return;
	if (x->onset_step_ms < 0 && x->r.step == x->onset_step)
		x->onset_step_ms = x->r.step_start_ms;
	if (x->onset_step_ms >= 0 &&
	    start_ms - x->onset_step_ms >= x->onset_min * MINUTE_MS)
		x->onset_ms = start_ms;
}

static double cycle(const run *x, double minute)
{
	return 1 + x->sc->diurnal *
		sin(TWO_PI * (minute + x->phase_min) / 1440.0);
}

static void make_load(const run *x, const world *w, double minute,
	sim_load *l)
{
	const scenario *sc = x->sc;
	double share = steps[x->r.step] * (sc->share_bias > 0 ?
		sc->share_bias : 1);
	double err = sc->base_err * cycle(x, minute), cerr;
	bool bad = regressed(x) && !sc->crash;

	if (sc->incident > 0 && minute >= x->incident_min &&
	    minute < x->incident_min + INCIDENT_MIN)
		err *= sc->incident;
	cerr = sc->canary_err > 0 ? sc->canary_err :
		err * (sc->err_mult > 0 ? sc->err_mult : 1);
	memset(l, 0, sizeof(*l));
	l->requests = sc->rpm * interval_min(x->o) * cycle(x, minute);
	l->err[0] = fmin(err, 1);
	l->err[1] = fmin(bad ? cerr : err, 1);
	l->burst = sc->burst > 1 ? sc->burst : 1;
	l->canary_bp = sc->no_canary ? 0 : (uint32_t)fmin(share, 10000);
	if (!sc->no_latency) {
		l->lat[0] = &w->lat_base;
		l->lat[1] = bad ? &w->lat_bad : &w->lat_base;
	}
}

/* Canary errors of fresh units, reported without exposures. */
static void inject(run *x, sim_pipe *p, int minute)
{
	int i;

	for (i = 0; i < x->sc->inject && i < 16; i++)
		if (x->inject[i] == minute)
			sim_pipe_error(p, 0, 1, sim_next(&x->rng));
}

/* The poisoning client: well-formed windows claiming POISON_VOLUME times
 * the real traffic in both arms at the rollout's split (so the split looks
 * right), stable errors at the base rate, no canary errors, fresh units,
 * fast latencies. It wants a bad canary promoted. */
static void poison(run *x, world *w, const sim_load *l)
{
	unsigned inst = w->pipe.ninst - 1;
	double share = steps[x->r.step] / 10000.0;
	int arm;

	for (arm = 0; arm < 2; arm++) {
		double n = POISON_VOLUME * l->requests * (arm ? share : 1 - share);
		uint64_t k, fake = sim_poisson(&x->rng, n);
		uint64_t errors = arm ? 0 : sim_binomial(&x->rng, fake, l->err[0]);

		for (k = 0; k < fake; k++) {
			uint64_t unit = sim_next(&x->rng);

			sim_pipe_expose(&w->pipe, inst, arm, unit,
				sim_lat_bin(&w->lat_base, &x->rng));
			if (k < errors)
				sim_pipe_error(&w->pipe, inst, arm, unit);
		}
	}
}

static void traffic(run *x, world *w, int tick)
{
	const sim_opts *o = x->o;
	int64_t start_ms = (int64_t)((tick - 1) * o->interval_s * 1000);
	double minute = (double)start_ms / (double)MINUTE_MS;
	sim_load l;

	maybe_onset(x, start_ms);
	make_load(x, w, minute, &l);
	sim_pipe_begin(&w->pipe);
	sim_requests(&x->rng, &w->pop, &l, &w->pipe);
	inject(x, &w->pipe, (int)minute);
	if (x->sc->poisoner)
		poison(x, w, &l);
	sim_pipe_deliver(&w->pipe, x->sc->crash && regressed(x),
		(int64_t)(o->interval_s * 1000));
}

/* ---- the judge's input ------------------------------------------------ */

/* Sketch views for every arm the input borrows. */
typedef struct feed {
	canary__hll hll[2 * (2 + 2 * CJ_RECENT_MAX + 2 * CJ_TOP_MAX + 1)];
	int used;
	bool v1;             /* leave the user-level fields out */
} feed;

/* A summed arm as the server hands it to the judge: every simulated
 * window carries the v2 fields, unless --requests drops them. */
static void arm_of(feed *f, const sim_arm *a, cj_arm *out)
{
	canary__hll *u = &f->hll[f->used++], *e = &f->hll[f->used++];

	sim_arm_sketches(a, u, e);
	memset(out, 0, sizeof(*out));
	out->exposures = a->exposures;
	out->errors = a->errors;
	out->latency = &a->lat;
	if (f->v1)
		return;
	out->units = u;
	out->error_units = e;
	out->sketched_exposures = a->exposures;
	out->sketched_errors = a->errors;
	out->error_sq = a->error_sq;
	out->errors_unmapped = a->errors_unmapped;
	out->error_max = a->error_max;
}

static void evidence_of(feed *f, const sim_arm *arms, int64_t span_ms,
	cj_evidence *out)
{
	arm_of(f, &arms[0], &out->stable);
	arm_of(f, &arms[1], &out->canary);
	out->span_ms = span_ms;
}

/* The instance with the most exposures in `arm`; -1 when fewer than two
 * instances reported the step. */
static int largest(const sim_pipe *p, int arm)
{
	unsigned i, reporting = 0;
	int best = -1;

	for (i = 0; i < p->ninst; i++) {
		if (p->part[i][0].exposures + p->part[i][1].exposures == 0)
			continue;
		reporting++;
		if (best < 0 || p->part[i][arm].exposures >
		    p->part[best][arm].exposures)
			best = (int)i;
	}
	return reporting >= 2 ? best : -1;
}

static void top_contributors(feed *f, const sim_pipe *p, int64_t span,
	cj_input *in)
{
	int c = largest(p, 1), s = largest(p, 0), n = 0;

	if (c >= 0)
		evidence_of(f, p->part[c], span, &in->top[n++]);
	if (s >= 0 && s != c)
		evidence_of(f, p->part[s], span, &in->top[n++]);
}

static void judge_input(world *w, const run *x, int64_t now, feed *f,
	cj_input *in)
{
	sim_pipe *p = &w->pipe;
	int64_t interval_ms = (int64_t)(x->o->interval_s * 1000);
	int last = (p->ring_next + SIM_RECENT - 1) % SIM_RECENT;

	memset(in, 0, sizeof(*in));
	f->used = 0;
	f->v1 = x->o->requests;
	arm_of(f, &p->step[0], &in->stable);
	arm_of(f, &p->step[1], &in->canary);
	in->canary_share = steps[x->r.step] / 10000.0;
	in->stable_history = (cj_arm){ .exposures = p->hist_exposures,
		.errors = p->hist_errors };
	in->step_ms = now - x->r.step_start_ms;
	in->history_ms = p->hist_ms;
	in->latency_never = p->latency_ever == 0;
	if (p->ring_len > 0) {
		evidence_of(f, p->ring[last], interval_ms, &in->recent[0]);
		sim_pipe_recent(p, RECENT_LONG);
		if (p->ring_len > 1)
			evidence_of(f, p->recent, interval_ms *
				(p->ring_len < RECENT_LONG ? p->ring_len :
				RECENT_LONG), &in->recent[1]);
	}
	top_contributors(f, p, in->step_ms, in);
	if (x->r.step + 1 == NSTEPS && x->r.bake_ms > 0)
		arm_of(f, &w->before, &in->before);
}

/* ---- one rollout ------------------------------------------------------ */

static int population(const scenario *sc, world *w, sim_rng *rng,
	uint64_t seed)
{
	uint32_t n = sc->users ? sc->users : DEFAULT_USERS;
	char salt[40];

	if (w->pop_users != n) {
		sim_pop_free(&w->pop);
		if (sim_pop_new(&w->pop, n) != 0)
			return -1;
		w->pop_users = n;
	}
	snprintf(salt, sizeof(salt), "sim-%llu", (unsigned long long)seed);
	sim_pop_draw(&w->pop, rng, salt, sc->rate_sigma, sc->err_sigma,
		REAL_INSTANCES);
	return 0;
}

static void run_init(run *x, const scenario *sc, const sim_opts *o,
	world *w, uint64_t seed)
{
	int i;

	memset(x, 0, sizeof(*x));
	x->sc = sc;
	x->o = o;
	sim_rng_seed(&x->rng, seed);
	x->r.steps_bp = steps;
	x->r.nsteps = NSTEPS;
	x->r.step = sc->start_step;
	x->r.min_soak_ms = SOAK_MIN * MINUTE_MS;
	x->r.max_step_ms = MAX_STEP_MIN * MINUTE_MS;
	x->r.max_wait_ms = 8 * MAX_STEP_MIN * MINUTE_MS;
	x->r.sustain_ms = SUSTAIN_MIN * MINUTE_MS;
	x->r.grace_ms = GRACE_MIN * MINUTE_MS;
	x->r.bake_ms = sc->bake_min * MINUTE_MS;
	x->r.widen_undecided_bp = o->widen_undecided_bp;
	x->r.status = CJ_RUNNING;
	x->onset_ms = x->onset_step_ms = -1;
	x->onset_step = (size_t)(sim_uniform(&x->rng) * (NSTEPS - 1));
	x->onset_min = (int)(sim_uniform(&x->rng) * SOAK_MIN);
	if (sc->onset == SIM_ONSET_AT) {
		x->onset_step = sc->onset_step;
		x->onset_min = sc->onset_min;
	}
	x->phase_min = sim_uniform(&x->rng) * 1440;
	x->incident_min = 5 + (int)(sim_uniform(&x->rng) * 116);
	for (i = 0; i < sc->inject && i < 16; i++)
		x->inject[i] = (int)(sim_uniform(&x->rng) * 10);
	sim_pipe_reset(&w->pipe, REAL_INSTANCES + (sc->poisoner ? 1 : 0));
	/* Starting past the first step: an hour of stable history, what
	 * the server would have seen. */
	if (sc->start_step > 0) {
		w->pipe.hist_exposures = sim_poisson(&x->rng, sc->rpm * 60);
		w->pipe.hist_errors = sim_binomial(&x->rng,
			w->pipe.hist_exposures, sc->base_err);
		w->pipe.hist_ms = 60 * MINUTE_MS;
	}
}

/* --trace: every tick, what the judge saw and what the state machine
 * did (stable / canary). */
static void trace(const sim_opts *o, int tick, const run *x,
	const cj_input *in, const cj_result *res, const cj_decision *d)
{
	if (!o->trace)
		return;
	printf("t=%d step=%zu exposures=%llu/%llu errors=%llu/%llu "
		"units=%.0f/%.0f error_units=%.0f/%.0f %s %s [%s] | %s: %s\n",
		tick, x->r.step, (unsigned long long)in->stable.exposures,
		(unsigned long long)in->canary.exposures,
		(unsigned long long)in->stable.errors,
		(unsigned long long)in->canary.errors, res->units[0],
		res->units[1], res->error_units[0], res->error_units[1],
		cj_verdict_name(res->verdict), res->rule, res->scope,
		cj_action_name(d->action), d->reason);
}

static void say(const run *x, uint64_t seed, int64_t now,
	const cj_decision *d)
{
	if (x->o->verbose && (d->action == CJ_ACT_ROLLBACK ||
	    d->action == CJ_ACT_PAUSE))
		printf("  seed %llu t=%dmin step %zu %s: %s\n",
			(unsigned long long)seed, (int)(now / MINUTE_MS),
			x->r.step, cj_action_name(d->action), d->reason);
}

/* Record what the decision means for the run; true when it is over. */
static bool account(const run *x, const cj_decision *d,
	const cj_result *res, int64_t now, outcome *out)
{
	double t = (double)now / MINUTE_MS;

	if (x->r.step > out->max_step)
		out->max_step = x->r.step;
	if (!out->paused) {
		out->end_action = d->rule;
		out->end_rule = res->rule;
		out->end_step = x->r.step;
	}
	switch (d->action) {
	case CJ_ACT_ROLLBACK:
		out->rolled_back = true;
		out->rollback_step = x->r.step;
		out->rule = res->rule;
		out->before_onset = x->sc->onset != SIM_ONSET_START &&
			x->onset_ms < 0;
		out->t_rollback = x->onset_ms >= 0 ?
			(double)(now - x->onset_ms) / MINUTE_MS : t;
		return true;
	case CJ_ACT_PROMOTE:
	case CJ_ACT_COMPLETE:
		if (x->r.status != CJ_COMPLETED)
			return false; /* promoted into a bake */
		out->completed = true;
		out->t_complete = t;
		return true;
	case CJ_ACT_PAUSE:
		out->paused = true;
		return false;
	default:
		return false;
	}
}

static int run_one(const scenario *sc, const sim_opts *o, const cj_gates *g,
	world *w, uint64_t seed, outcome *out)
{
	int64_t interval_ms = (int64_t)(o->interval_s * 1000);
	int ticks = (int)(o->horizon_min * 60 / o->interval_s), t;
	uint64_t served = 0; /* the step's canary exposures so far */
	static run x;

	memset(out, 0, sizeof(*out));
	run_init(&x, sc, o, w, seed);
	if (population(sc, w, &x.rng, seed) != 0)
		return -1;
	out->max_step = x.r.step;
	for (t = 1; t <= ticks; t++) {
		int64_t now = t * interval_ms;
		static feed f;
		cj_input in;
		cj_result res;
		cj_decision d;

		traffic(&x, w, t);
		if (sc->onset == SIM_ONSET_START || x.onset_ms >= 0)
			out->canary_req += (double)(w->pipe.step[1].exposures -
				served);
		served = w->pipe.step[1].exposures;
		judge_input(w, &x, now, &f, &in);
		cj_evaluate(g, &in, &res);
		cj_fsm_tick(&x.r, &res, now, &d);
		cj_fsm_apply(&x.r, &d, now);
		trace(o, t, &x, &in, &res, &d);
		say(&x, seed, now, &d);
		if (account(&x, &d, &res, now, out))
			return 0;
		if (d.action == CJ_ACT_PROMOTE)
			w->before = w->pipe.step[0];
		if (d.action == CJ_ACT_WIDEN || d.action == CJ_ACT_PROMOTE) {
			sim_pipe_new_step(&w->pipe);
			served = 0;
		}
	}
	return 0;
}

/* ---- many rollouts ---------------------------------------------------- */

/* How runs ended (--rules): outcome, state machine rule, judge rule. */
#define ENDINGS_MAX 24
typedef struct ending {
	const char *kind, *action, *rule;
	size_t step;
	int count;
} ending;

typedef struct summary {
	int runs, rolled_back, before_onset, completed, paused, running;
	int rb_at_step[NSTEPS];       /* rollbacks by the step they left */
	ending endings[ENDINGS_MAX];
	int nendings;
	double rb_p50, rb_p95, done_p50, done_p95;
	double harm_p50, harm_p95;    /* canary_req over all runs */
	size_t max_step;              /* furthest step any run reached */
	size_t max_step_rolled_back;  /* furthest step a rollback happened at */
} summary;

static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;

	return (a > b) - (a < b);
}

/* Quantile over `of` runs, runs that never got there counting as +inf. */
static double quantile_of(double *v, int n, int of, double q)
{
	int k = (int)ceil(q * of) - 1;

	qsort(v, (size_t)n, sizeof(double), cmp_double);
	if (k < 0)
		k = 0;
	return k < n ? v[k] : INFINITY;
}

static void count_ending(summary *s, const char *kind, const outcome *out)
{
	const char *action = out->end_action ? out->end_action : "-";
	const char *rule = out->end_rule ? out->end_rule : "-";
	int i;

	for (i = 0; i < s->nendings; i++) {
		ending *e = &s->endings[i];

		if (!strcmp(e->kind, kind) && !strcmp(e->action, action) &&
		    !strcmp(e->rule, rule) && e->step == out->end_step) {
			e->count++;
			return;
		}
	}
	if (s->nendings < ENDINGS_MAX)
		s->endings[s->nendings++] = (ending){ kind, action, rule,
			out->end_step, 1 };
}

static void tally(summary *s, const outcome *out, double *t_rb,
	double *t_done)
{
	count_ending(s, out->rolled_back ? "rolled_back" : out->completed ?
		"completed" : out->paused ? "paused" : "running", out);
	if (out->rolled_back && out->rollback_step < NSTEPS)
		s->rb_at_step[out->rollback_step]++;
	s->runs++;
	if (out->max_step > s->max_step)
		s->max_step = out->max_step;
	if (out->rolled_back) {
		s->rolled_back++;
		s->before_onset += out->before_onset;
		if (out->rollback_step > s->max_step_rolled_back)
			s->max_step_rolled_back = out->rollback_step;
		t_rb[s->rolled_back - 1] = out->t_rollback;
	} else if (out->completed) {
		t_done[s->completed++] = out->t_complete;
	} else if (out->paused) {
		s->paused++;
	} else {
		s->running++;
	}
}

static void world_tables(world *w, const scenario *sc)
{
	sim_lat_table_init(&w->lat_base, sc->shape, 1);
	sim_lat_table_init(&w->lat_bad, sc->shape,
		sc->lat_mult > 0 ? sc->lat_mult : 1);
}

static int simulate(const scenario *sc, const sim_opts *o, world *w,
	summary *s)
{
	double *t_rb = calloc((size_t)o->runs, sizeof(double));
	double *t_done = calloc((size_t)o->runs, sizeof(double));
	double *harm = calloc((size_t)o->runs, sizeof(double));
	cj_gates g;
	int i, rc = 0;

	memset(s, 0, sizeof(*s));
	cj_gates_default(&g);
	world_tables(w, sc);
	for (i = 0; t_rb && t_done && harm && rc == 0 && i < o->runs; i++) {
		outcome out;

		rc = run_one(sc, o, &g, w, o->seed + (uint64_t)i * 7919, &out);
		if (o->verbose && out.rolled_back)
			printf("  run %d: rolled back at step %zu (%s)\n", i,
				out.rollback_step, out.rule);
		tally(s, &out, t_rb, t_done);
		harm[i] = out.canary_req;
	}
	if (!t_rb || !t_done || !harm)
		rc = -1;
	if (rc == 0) {
		s->rb_p50 = quantile_of(t_rb, s->rolled_back, s->runs, 0.5);
		s->rb_p95 = quantile_of(t_rb, s->rolled_back, s->runs, 0.95);
		s->done_p50 = quantile_of(t_done, s->completed, s->runs, 0.5);
		s->done_p95 = quantile_of(t_done, s->completed, s->runs, 0.95);
		s->harm_p50 = quantile_of(harm, s->runs, s->runs, 0.5);
		s->harm_p95 = quantile_of(harm, s->runs, s->runs, 0.95);
	}
	free(t_rb);
	free(t_done);
	free(harm);
	return rc;
}

/* ---- output ----------------------------------------------------------- */

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
		printf("| scenario | runs | rolled back | completed | paused | "
			"running | rollback min p50 | p95 | complete min p50 "
			"| p95 | rolled back at 1/5/25/50/100%% |%s\n", o->harm ?
			" canary requests p50 | p95 |" : "");
		printf("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
			"---:|%s\n", o->harm ? "---:|---:|" : "");
	} else {
		printf("%-22s %5s %8s %8s %8s %8s %6s %6s %6s %6s %s\n",
			"scenario", "runs", "rollback", "complete", "paused",
			"running", "rb_p50", "rb_p95", "ok_p50", "ok_p95",
			"rb@1/5/25/50/100%");
	}
}

/* Rollbacks by step: "998/2/0/0/0". */
static void fmt_steps(char *buf, size_t len, const summary *s)
{
	snprintf(buf, len, "%d/%d/%d/%d/%d", s->rb_at_step[0],
		s->rb_at_step[1], s->rb_at_step[2], s->rb_at_step[3],
		s->rb_at_step[4]);
}

/* --rules: how the runs ended, most common first. */
static void print_endings(const summary *s)
{
	ending sorted[ENDINGS_MAX];
	int i, j, n = s->nendings;

	memcpy(sorted, s->endings, sizeof(ending) * (size_t)n);
	for (i = 1; i < n; i++)
		for (j = i; j > 0 && sorted[j].count > sorted[j - 1].count;
		    j--) {
			ending t = sorted[j];

			sorted[j] = sorted[j - 1];
			sorted[j - 1] = t;
		}
	for (i = 0; i < n; i++)
		printf("    %5.1f%% %-11s at %3u%% %-18s %s\n", 100.0 *
			sorted[i].count / s->runs, sorted[i].kind,
			steps[sorted[i].step] / 100, sorted[i].action,
			sorted[i].rule);
}

static void print_row(const scenario *sc, const sim_opts *o,
	const summary *s)
{
	char m50[16], m95[16], d50[16], d95[16], rb[32], at[64];
	double n = s->runs;

	fmt_minutes(m50, sizeof(m50), s->rb_p50);
	fmt_minutes(m95, sizeof(m95), s->rb_p95);
	fmt_minutes(d50, sizeof(d50), s->done_p50);
	fmt_minutes(d95, sizeof(d95), s->done_p95);
	fmt_steps(at, sizeof(at), s);
	if (s->before_onset)
		snprintf(rb, sizeof(rb), "%.1f%% (%.1f%% early)",
			100 * s->rolled_back / n, 100 * s->before_onset / n);
	else
		snprintf(rb, sizeof(rb), "%.1f%%", 100 * s->rolled_back / n);
	if (o->markdown)
		printf("| %s | %d | %s | %.1f%% | %.1f%% | %.1f%% | %s | %s | "
			"%s | %s | %s |", sc->name, s->runs, rb,
			100 * s->completed / n, 100 * s->paused / n,
			100 * s->running / n, m50, m95, d50, d95, at);
	else
		printf("%-22s %5d %8s %7.1f%% %7.1f%% %7.1f%% %6s %6s %6s "
			"%6s %s", sc->name, s->runs, rb,
			100 * s->completed / n, 100 * s->paused / n,
			100 * s->running / n, m50, m95, d50, d95, at);
	if (o->harm)
		printf(o->markdown ? " %.0f | %.0f |" : " canary req %.0f/%.0f",
			s->harm_p50, s->harm_p95);
	printf("\n");
	if (o->rules)
		print_endings(s);
	fflush(stdout);
}

/* ---- --check ---------------------------------------------------------- */

/* A fast scenario and what the judge's targets (docs/analysis.md, §11)
 * demand of it, with margin for the smaller number of runs. Bounds are on
 * shares of runs and on simulated minutes, never on wall-clock time. */
typedef struct check {
	const char *scenario;
	int runs;
	int horizon_min;     /* 0: the default */
	double rb_lo, rb_hi; /* bounds on the rolled-back share */
	double done_lo;      /* lower bound on the completed share */
	int rb_step;         /* no rollback after this step; -1: any */
	double rb_p50;       /* median minutes to roll back at most (0: any) */
	uint32_t widen_bp;   /* the rollout's widen_undecided (0: off) */
} check;

static const check checks[] = {
	{ "healthy", 40, 0, 0, 0.05, 0.85, -1, 0, 0 },
	{ "healthy_users", 30, 0, 0, 0.05, 0.85, -1, 0, 0 },
	{ "healthy_bursts20", 40, 90, 0, 0.05, 0, -1, 0, 0 },
	/* Started in a daily trough, a step projects far too long: it must
	 * hold on, not pause on the projection. */
	{ "healthy_diurnal", 40, 0, 0, 0.05, 0.9, -1, 0, 0 },
	/* A Pareto tail: a 1.2x margin at p99 kept the 1% step for hours
	 * (half were still at it after 5 hours); the p99 margin is 1.5. */
	{ "healthy_heavy_latency", 30, 300, 0, 0.05, 0.9, -1, 0, 0 },
	{ "shared_incident", 30, 150, 0, 0.04, 0, -1, 0, 0 },
	{ "no_latency", 20, 0, 0, 0.05, 0.8, -1, 0, 0 },
	{ "rare_errors", 30, 0, 0, 0.05, 0.85, -1, 0, 0 },
	{ "errors_5x", 60, 0, 0.97, 1, 0, 0, 6, 0 },
	{ "errors_5x_bursts20", 30, 0, 0.9, 1, 0, 0, 0, 0 },
	{ "errors_2x", 40, 0, 0.97, 1, 0, 1, 0, 0 },
	{ "share60_errors_2x", 30, 0, 0.95, 1, 0, -1, 0, 0 },
	{ "poisoned_2x", 30, 0, 0.95, 1, 0, -1, 0, 0 },
	{ "crash", 30, 0, 0.95, 1, 0, -1, 10, 0 },
	{ "late_errors_5x", 30, 0, 0.9, 1, 0, -1, 0, 0 },
	{ "late_latency_1.5x", 30, 0, 0.9, 1, 0, -1, 0, 0 },
	{ "low_traffic_20x", 30, 0, 0.9, 1, 0, -1, 120, 0 },
	{ "sparse_3v0_1pct", 30, 0, 0.95, 1, 0, 0, 0, 0 },
	{ "errors_10pct_vs_0", 20, 0, 0.99, 1, 0, 0, 0, 0 },
	/* widen_undecided 5%: a 1% step that cannot decide bursts of 5 in
	 * its hour widens, and identical canaries complete (62.5% without,
	 * 100% with, 200 runs); one the 1% step cannot reject in time is
	 * still rolled back, at 5%. */
	{ "healthy_bursts5", 30, 0, 0, 0.05, 0.9, -1, 0, 500 },
	{ "low_traffic_5x", 30, 0, 0.95, 1, 0, 1, 0, 500 },
};

static int check_one(const check *c, sim_opts o, world *w)
{
	const scenario *sc = sim_scenario(c->scenario);
	double rb, done;
	summary s;
	int failures = 0;

	o.runs = c->runs;
	o.widen_undecided_bp = c->widen_bp;
	if (c->horizon_min)
		o.horizon_min = c->horizon_min;
	if (!sc || simulate(sc, &o, w, &s) != 0)
		return 1;
	print_row(sc, &o, &s);
	rb = (double)s.rolled_back / s.runs;
	done = (double)s.completed / s.runs;
	if (rb < c->rb_lo || rb > c->rb_hi) {
		printf("  FAILED: rolled back %.3f, want [%.2f, %.2f]\n", rb,
			c->rb_lo, c->rb_hi);
		failures++;
	}
	if (done < c->done_lo) {
		printf("  FAILED: completed %.3f, want >= %.2f\n", done,
			c->done_lo);
		failures++;
	}
	if (c->rb_step >= 0 && s.rolled_back &&
	    s.max_step_rolled_back > (size_t)c->rb_step) {
		printf("  FAILED: rolled back at step %zu, want <= %d\n",
			s.max_step_rolled_back, c->rb_step);
		failures++;
	}
	if (c->rb_p50 > 0 && !(s.rb_p50 <= c->rb_p50)) {
		printf("  FAILED: median rollback %.0f min, want <= %.0f\n",
			s.rb_p50, c->rb_p50);
		failures++;
	}
	return failures;
}

static bool listed(const char *list, const char *name);

/* Every check, or those `only` names. */
static int run_checks(sim_opts o, world *w, const char *only)
{
	size_t i;
	int failures = 0;

	print_header(&o);
	for (i = 0; i < sizeof(checks) / sizeof(checks[0]); i++)
		if (!only || listed(only, checks[i].scenario))
			failures += check_one(&checks[i], o, w);
	return failures ? 1 : 0;
}

/* ---- main ------------------------------------------------------------- */

static void usage(void)
{
	fprintf(stderr, "usage: canary-sim [--runs N] [--seed S] "
		"[--scenario NAME] [--interval SECONDS] [--horizon MINUTES] "
		"[--markdown] [--verbose] [--trace] [--requests] [--rules] "
		"[--harm] [--widen-undecided PERCENT] | "
		"--check | --bound | "
		"--list\n");
}

static void list(void)
{
	size_t k;

	for (k = 0; k < sim_nscenarios; k++)
		printf("%-22s %s\n", sim_scenarios[k].name,
			sim_scenarios[k].what);
}

/* Is `name` one of the comma-separated names in `list`? */
static bool listed(const char *list, const char *name)
{
	size_t n = strlen(name);

	while (*list) {
		const char *end = strchr(list, ',');
		size_t len = end ? (size_t)(end - list) : strlen(list);

		if (len == n && strncmp(list, name, n) == 0)
			return true;
		list += len + (end ? 1 : 0);
	}
	return false;
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
		} else if (!strcmp(a, "--trace")) {
			o->trace = true;
		} else if (!strcmp(a, "--rules")) {
			o->rules = true;
		} else if (!strcmp(a, "--requests")) {
			o->requests = true;
		} else if (!strcmp(a, "--harm")) {
			o->harm = true;
		} else if (!strcmp(a, "--markdown")) {
			o->markdown = true;
		} else if (!strcmp(a, "--list")) {
			list();
			exit(0);
		} else if (!strcmp(a, "--bound")) {
			sim_bound_print();
			exit(0);
		} else if (v && !strcmp(a, "--runs")) {
			o->runs = atoi(v), i++;
		} else if (v && !strcmp(a, "--seed")) {
			o->seed = strtoull(v, NULL, 10), i++;
		} else if (v && !strcmp(a, "--scenario")) {
			*only = v, i++;
		} else if (v && !strcmp(a, "--interval")) {
			o->interval_s = atof(v), i++;
		} else if (v && !strcmp(a, "--horizon")) {
			o->horizon_min = atoi(v), i++;
		} else if (v && !strcmp(a, "--widen-undecided")) {
			double pct = atof(v);

			if (!(pct > 0 && pct <= 100)) {
				usage();
				return -1;
			}
			o->widen_undecided_bp = (uint32_t)(pct * 100 + 0.5), i++;
		} else {
			usage();
			return -1;
		}
	}
	if (o->runs < 1 || o->interval_s < 1 || o->horizon_min < 1) {
		usage();
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	sim_opts o = { 1000, 20251125, 60, 480, false, false, false, false,
		false, false, 0 };
	const char *only = NULL;
	bool do_check = false;
	static world w;
	size_t i;
	int rc = 0;

	if (parse_args(argc, argv, &o, &only, &do_check) != 0)
		return 2;
	if (do_check) {
		rc = run_checks(o, &w, only);
	} else {
		int ran = 0;

		print_header(&o);
		for (i = 0; rc == 0 && i < sim_nscenarios; i++) {
			summary s;

			if (only && !listed(only, sim_scenarios[i].name))
				continue;
			ran++;
			if (simulate(&sim_scenarios[i], &o, &w, &s) != 0)
				rc = 2;
			else
				print_row(&sim_scenarios[i], &o, &s);
		}
		if (!ran) {
			fprintf(stderr, "canary-sim: no scenario \"%s\" "
				"(--list)\n", only);
			rc = 2;
		}
	}
	sim_pop_free(&w.pop);
	return rc;
}
