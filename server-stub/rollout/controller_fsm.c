/*
 * controller_fsm.c - the rollout controller's pure decision function.
 */
#include "controller_fsm.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "attributes.h"

const char *cj_action_name(cj_action a)
{
	switch (a) {
	case CJ_ACT_NONE:
		return "none";
	case CJ_ACT_HOLD:
		return "hold";
	case CJ_ACT_WIDEN:
		return "widen";
	case CJ_ACT_PROMOTE:
		return "promote";
	case CJ_ACT_PAUSE:
		return "pause";
	case CJ_ACT_ROLLBACK:
		return "rollback";
	case CJ_ACT_COMPLETE:
		return "complete";
	}
	return "?";
}

const char *cj_status_name(cj_status s)
{
	switch (s) {
	case CJ_RUNNING:
		return "running";
	case CJ_PAUSED:
		return "paused";
	case CJ_ROLLED_BACK:
		return "rolled_back";
	case CJ_COMPLETED:
		return "completed";
	}
	return "?";
}

static void decide(cj_decision *d, cj_action a, const char *rule,
	const char *fmt, ...) CANARY__PRINTF(4, 5);

static void decide(cj_decision *d, cj_action a, const char *rule,
	const char *fmt, ...)
{
	va_list ap;

	d->action = a;
	d->rule = rule;
	va_start(ap, fmt);
	vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
	va_end(ap);
}

static uint32_t bp_at(const cj_rollout *r, size_t step)
{
	return step < r->nsteps ? r->steps_bp[step] : 0;
}

static void on_fail(const cj_rollout *r, const cj_result *v, cj_decision *d)
{
	if (r->dry_run) {
		decide(d, CJ_ACT_PAUSE, "dry_run_fail",
			"dry run: would roll back (%s: %s)", v->rule, v->reason);
		return;
	}
	decide(d, CJ_ACT_ROLLBACK, v->critical ? "fail_critical" : "fail",
		"%s: %s", v->rule, v->reason);
	d->next_bp = 0;
}

/* The judge raised an alert: hold for the grace, then act. */
static void on_alert(const cj_rollout *r, const cj_result *v, int64_t now,
	cj_decision *d)
{
	int64_t since = r->alert_since_ms ? r->alert_since_ms : now;
	int64_t left = r->grace_ms - (now - since);

	d->alert = true;
	d->alert_since_ms = since;
	if (left > 0) {
		decide(d, CJ_ACT_HOLD, "alert", "alert %s: %s (acting in %llds "
			"unless it clears)", v->rule, v->reason,
			(long long)((left + 999) / 1000));
	} else if (r->dry_run || r->on_stall == CJ_STALL_PAUSE) {
		decide(d, CJ_ACT_PAUSE, "stall", "%s for %llds: %s%s", v->rule,
			(long long)((now - since) / 1000), v->reason, r->dry_run ?
			" (dry run: would roll back)" : "");
	} else {
		decide(d, CJ_ACT_ROLLBACK, "stall", "%s for %llds: %s", v->rule,
			(long long)((now - since) / 1000), v->reason);
		d->next_bp = 0;
	}
}

static void widen(const cj_rollout *r, int64_t age_ms, cj_decision *d)
{
	d->next_step = r->step + 1;
	d->next_bp = bp_at(r, d->next_step);
	d->pass_since_ms = 0;
	if (d->next_step + 1 < r->nsteps)
		decide(d, CJ_ACT_WIDEN, "pass", "PASS after %llds: widen to "
			"%.2f%%", (long long)(age_ms / 1000), d->next_bp / 100.0);
	else if (r->bake_ms > 0)
		decide(d, CJ_ACT_PROMOTE, "pass", "PASS after %llds: to the "
			"last step, %.2f%%, baking for %llds",
			(long long)(age_ms / 1000), d->next_bp / 100.0,
			(long long)(r->bake_ms / 1000));
	else
		decide(d, CJ_ACT_PROMOTE, "pass", "PASS after %llds: to the "
			"last step, %.2f%%", (long long)(age_ms / 1000),
			d->next_bp / 100.0);
}

/* PASS: widen once it has held for sustain_ms after the soak. */
static void on_pass(const cj_rollout *r, int64_t now, cj_decision *d)
{
	int64_t age = now - r->step_start_ms;
	int64_t since = r->pass_since_ms ? r->pass_since_ms : now;
	int64_t soaked = r->step_start_ms + r->min_soak_ms;
	int64_t held = now - (since > soaked ? since : soaked);

	d->pass_since_ms = since;
	if (age < r->min_soak_ms)
		decide(d, CJ_ACT_HOLD, "soak", "PASS, soaking %llds of %llds",
			(long long)(age / 1000),
			(long long)(r->min_soak_ms / 1000));
	else if (held < r->sustain_ms)
		decide(d, CJ_ACT_HOLD, "sustain", "PASS held %llds of %llds "
			"after the soak", (long long)(held / 1000),
			(long long)(r->sustain_ms / 1000));
	else
		widen(r, age, d);
}

/* Half the traffic: past it the stable arm is the smaller one, and more
 * canary share no longer brings evidence sooner. */
#define HALF_BP 5000u

/* A larger step (whole percent, at most HALF_BP) whose canary traffic
 * would decide within max_step, when this one will not. */
static void suggest(const cj_rollout *r, int64_t age, cj_decision *d)
{
	double need, bp = bp_at(r, r->step);

	if (d->decide_ms < 0 || r->max_step_ms <= 0 ||
	    age + d->decide_ms <= r->max_step_ms)
		return;
	need = bp * (double)(age + d->decide_ms) / (double)r->max_step_ms;
	need = ceil(need / 100) * 100;
	if (need > bp && need <= HALF_BP)
		d->suggest_bp = (uint32_t)need;
}

/* "; needs about 31m more at this traffic; a 3% first step would ..." */
static void eta_words(const cj_rollout *r, const cj_decision *d, char *buf,
	size_t len)
{
	int n = 0;

	buf[0] = '\0';
	if (d->decide_ms > 0)
		n = snprintf(buf, len, "; needs about %lldm more at this "
			"traffic", (long long)((d->decide_ms + 59999) / 60000));
	else if (d->decide_ms < 0)
		n = snprintf(buf, len, "; cannot decide at this traffic");
	if (d->suggest_bp && n >= 0 && (size_t)n < len)
		snprintf(buf + n, len - (size_t)n, "; a %.2f%% step would "
			"decide within %lldm", d->suggest_bp / 100.0,
			(long long)(r->max_step_ms / 60000));
}

/* Does an enabled metric's FAIL test lean toward FAIL: an e-value at or
 * past the square root of its threshold (half the way on a log scale)?
 * For a canary no worse than the stable arm that happens with chance at
 * most 1 / sqrt(threshold) at any time (Ville's inequality): 4.5% at the
 * default alpha. */
static bool leans_fail(const cj_result *v)
{
	size_t i;

	for (i = 0; i < CJ_M_COUNT; i++) {
		const cj_metric *m = &v->metrics[i];

		if (m->enabled && !isnan(m->statistic) &&
		    m->statistic >= sqrt(m->threshold))
			return true;
	}
	return false;
}

/*
 * At max_step without a PASS, does the rollout widen undecided? Only on
 * an INCONCLUSIVE verdict (an alert or a FAIL never gets here) that has
 * traffic to estimate from (more share of no traffic brings no evidence)
 * and no FAIL test leaning toward FAIL, never in a dry run (a FAIL there
 * only pauses, at the larger share), to the next step when that step is
 * at most widen_undecided and HALF_BP, and not the last. The judge's
 * tests hold at any share and a share k times larger brings evidence k
 * times sooner; the larger step judges its own windows afresh
 * (docs/analysis.md, "Widening an undecided step").
 */
static bool widens_undecided(const cj_rollout *r, const cj_result *v)
{
	return r->widen_undecided_bp > 0 && !r->dry_run && v &&
		v->verdict == CJ_INCONCLUSIVE && v->decide_ms >= 0 &&
		!leans_fail(v) && r->step + 2 < r->nsteps &&
		bp_at(r, r->step + 1) <= r->widen_undecided_bp &&
		bp_at(r, r->step + 1) <= HALF_BP;
}

static void widen_undecided(const cj_rollout *r, const cj_result *v,
	const char *eta, cj_decision *d)
{
	d->next_step = r->step + 1;
	d->next_bp = bp_at(r, d->next_step);
	decide(d, CJ_ACT_WIDEN, "undecided_widen", "no PASS within %llds at "
		"%.2f%% (last: %s %s)%s: widening to %.2f%%, at most %.2f%% "
		"undecided", (long long)(r->max_step_ms / 1000),
		bp_at(r, r->step) / 100.0, cj_verdict_name(v->verdict),
		v->rule, eta, d->next_bp / 100.0,
		r->widen_undecided_bp / 100.0);
}

/* INCONCLUSIVE: hold; past max_step widen when the rollout allows it
 * (widens_undecided()), else hold on to max_wait while there is traffic
 * to decide on, then pause for a person. */
static void on_hold(const cj_rollout *r, const cj_result *v, int64_t now,
	cj_decision *d)
{
	int64_t age = now - r->step_start_ms;
	cj_verdict verdict = v ? v->verdict : CJ_INCONCLUSIVE;
	const char *rule = v ? v->rule : "no_result";
	char eta[160];

	suggest(r, age, d);
	eta_words(r, d, eta, sizeof(eta));
	if (age < r->max_step_ms) {
		decide(d, CJ_ACT_HOLD, rule, "%s: %s%s",
			cj_verdict_name(verdict), v ? v->reason :
			"no evaluation", eta);
	} else if (widens_undecided(r, v)) {
		widen_undecided(r, v, eta, d);
	} else if (d->decide_ms >= 0 && age < r->max_wait_ms) {
		/* The estimate is from the traffic of now, not a forecast: a
		 * step started in a daily trough projects far too long, so
		 * past max_step it holds on (saying how long it needs) until
		 * max_wait rather than pausing on the projection. */
		decide(d, CJ_ACT_HOLD, "max_time_extended", "no PASS within "
			"%llds at %.2f%% (last: %s %s), holding on%s",
			(long long)(r->max_step_ms / 1000), d->next_bp / 100.0,
			cj_verdict_name(verdict), rule, eta);
	} else {
		decide(d, CJ_ACT_PAUSE, "max_time", "no PASS within %llds at "
			"%.2f%% (last: %s %s)%s",
			(long long)(r->max_step_ms / 1000), d->next_bp / 100.0,
			cj_verdict_name(verdict), rule, eta);
	}
}

/* At the last step with a bake: complete on a PASS once it has run. */
static void on_bake(const cj_rollout *r, const cj_result *v, int64_t now,
	cj_decision *d)
{
	int64_t age = now - r->step_start_ms;

	if (v && v->verdict == CJ_PASS && age >= r->bake_ms)
		decide(d, CJ_ACT_COMPLETE, "bake_done", "baked %llds at "
			"%.2f%%: %s", (long long)(age / 1000),
			d->next_bp / 100.0, v->reason);
	else
		decide(d, CJ_ACT_HOLD, "bake", "baking, %llds of %llds (%s %s)",
			(long long)(age / 1000), (long long)(r->bake_ms / 1000),
			cj_verdict_name(v ? v->verdict : CJ_INCONCLUSIVE),
			v ? v->rule : "no_result");
}

static bool at_last(const cj_rollout *r)
{
	return r->step + 1 >= r->nsteps;
}

static void start(const cj_rollout *r, const cj_result *v, cj_decision *d)
{
	memset(d, 0, sizeof(*d));
	d->next_step = r->step;
	d->next_bp = bp_at(r, r->step);
	d->pass_since_ms = r->pass_since_ms;
	d->alert_since_ms = r->alert_since_ms;
	d->decide_ms = v ? v->decide_ms : -1;
}

void cj_fsm_tick(const cj_rollout *r, const cj_result *v, int64_t now_ms,
	cj_decision *d)
{
	cj_verdict verdict = v ? v->verdict : CJ_INCONCLUSIVE;

	start(r, v, d);
	if (r->status == CJ_ROLLED_BACK || r->status == CJ_COMPLETED ||
	    (at_last(r) && r->bake_ms <= 0)) {
		decide(d, CJ_ACT_NONE, "done", "rollout is %s",
			at_last(r) && r->status == CJ_RUNNING ?
			"at its last step" : cj_status_name(r->status));
		return;
	}
	if (verdict == CJ_FAIL && v) {
		on_fail(r, v, d);
		return;
	}
	if (r->status == CJ_PAUSED) {
		decide(d, CJ_ACT_NONE, "paused", "paused: waiting for resume "
			"(judge: %s %s)", cj_verdict_name(verdict),
			v ? v->rule : "no_result");
		return;
	}
	if (v && v->alert) {
		on_alert(r, v, now_ms, d);
		return;
	}
	d->alert_since_ms = 0;
	if (at_last(r))
		on_bake(r, v, now_ms, d);
	else if (verdict == CJ_PASS)
		on_pass(r, now_ms, d);
	else {
		d->pass_since_ms = 0;
		on_hold(r, v, now_ms, d);
	}
}

void cj_fsm_apply(cj_rollout *r, const cj_decision *d, int64_t now_ms)
{
	r->pass_since_ms = d->pass_since_ms;
	r->alert_since_ms = d->alert_since_ms;
	switch (d->action) {
	case CJ_ACT_NONE:
	case CJ_ACT_HOLD:
		break;
	case CJ_ACT_WIDEN:
	case CJ_ACT_PROMOTE:
		r->step = d->next_step;
		r->step_start_ms = now_ms;
		r->pass_since_ms = r->alert_since_ms = 0;
		if (d->action == CJ_ACT_PROMOTE && r->bake_ms <= 0)
			r->status = CJ_COMPLETED;
		break;
	case CJ_ACT_PAUSE:
		r->status = CJ_PAUSED;
		r->pass_since_ms = r->alert_since_ms = 0;
		break;
	case CJ_ACT_ROLLBACK:
		r->status = CJ_ROLLED_BACK;
		break;
	case CJ_ACT_COMPLETE:
		r->status = CJ_COMPLETED;
		break;
	}
}

int cj_fsm_resume(cj_rollout *r, int64_t now_ms)
{
	if (r->status != CJ_PAUSED)
		return -1;
	r->status = CJ_RUNNING;
	r->step_start_ms = now_ms;
	r->pass_since_ms = r->alert_since_ms = 0;
	return 0;
}
