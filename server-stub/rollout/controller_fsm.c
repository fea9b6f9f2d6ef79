/*
 * controller_fsm.c - the rollout controller's pure decision function.
 */
#include "controller_fsm.h"

#include <stdarg.h>
#include <stdio.h>

#include "error.h"

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

static void on_pass(const cj_rollout *r, int64_t age_ms, cj_decision *d)
{
	d->next_step = r->step + 1;
	d->next_bp = bp_at(r, d->next_step);
	if (d->next_step + 1 >= r->nsteps)
		decide(d, CJ_ACT_PROMOTE, "pass", "PASS after %llds: to the "
			"last step, %.2f%%", (long long)(age_ms / 1000),
			d->next_bp / 100.0);
	else
		decide(d, CJ_ACT_WIDEN, "pass", "PASS after %llds: widen to "
			"%.2f%%", (long long)(age_ms / 1000), d->next_bp / 100.0);
}

void cj_fsm_tick(const cj_rollout *r, const cj_result *v, int64_t now_ms,
	cj_decision *d)
{
	int64_t age = now_ms - r->step_start_ms;
	cj_verdict verdict = v ? v->verdict : CJ_INCONCLUSIVE;
	const char *rule = v ? v->rule : "no_result";

	d->next_step = r->step;
	d->next_bp = bp_at(r, r->step);
	if (r->status == CJ_ROLLED_BACK || r->status == CJ_COMPLETED ||
	    r->step + 1 >= r->nsteps) {
		decide(d, CJ_ACT_NONE, "done", "rollout is %s",
			r->step + 1 >= r->nsteps && r->status == CJ_RUNNING ?
			"at its last step" : cj_status_name(r->status));
		return;
	}
	if (verdict == CJ_FAIL && v) {
		on_fail(r, v, d);
		return;
	}
	if (r->status == CJ_PAUSED) {
		decide(d, CJ_ACT_NONE, "paused", "paused: waiting for resume "
			"(judge: %s %s)", cj_verdict_name(verdict), rule);
		return;
	}
	if (verdict == CJ_PASS && age >= r->min_soak_ms) {
		on_pass(r, age, d);
		return;
	}
	if (age >= r->max_step_ms) {
		decide(d, CJ_ACT_PAUSE, "max_time", "no PASS within %llds at "
			"%.2f%% (last: %s %s)", (long long)(r->max_step_ms / 1000),
			d->next_bp / 100.0, cj_verdict_name(verdict), rule);
		return;
	}
	if (verdict == CJ_PASS) {
		decide(d, CJ_ACT_HOLD, "soak", "PASS, soaking %llds of %llds",
			(long long)(age / 1000),
			(long long)(r->min_soak_ms / 1000));
		return;
	}
	decide(d, CJ_ACT_HOLD, rule, "%s: %s", cj_verdict_name(verdict),
		v ? v->reason : "no evaluation");
}

void cj_fsm_apply(cj_rollout *r, const cj_decision *d, int64_t now_ms)
{
	switch (d->action) {
	case CJ_ACT_NONE:
	case CJ_ACT_HOLD:
		break;
	case CJ_ACT_WIDEN:
		r->step = d->next_step;
		r->step_start_ms = now_ms;
		break;
	case CJ_ACT_PROMOTE:
		r->step = d->next_step;
		r->step_start_ms = now_ms;
		r->status = CJ_COMPLETED;
		break;
	case CJ_ACT_PAUSE:
		r->status = CJ_PAUSED;
		break;
	case CJ_ACT_ROLLBACK:
		r->status = CJ_ROLLED_BACK;
		break;
	}
}

int cj_fsm_resume(cj_rollout *r, int64_t now_ms)
{
	if (r->status != CJ_PAUSED)
		return -1;
	r->status = CJ_RUNNING;
	r->step_start_ms = now_ms;
	return 0;
}
