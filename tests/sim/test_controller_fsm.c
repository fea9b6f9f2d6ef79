/*
 * test_controller_fsm.c - the controller's tick decision: widen after the
 * soak, roll back at once, hold, pause past max time, dry run, resume;
 * and the v2 options: a PASS that must hold after the soak, alerts with a
 * grace and on_stall, the bake at the last step, holding on past max_step
 * while the judge projects a decision, the suggested step, and widening
 * a step that cannot decide (widen_undecided).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "rollout/controller_fsm.h"

static const uint32_t steps[] = { 100, 500, 2500, 5000, 10000 };
#define MIN 60000LL

static cj_rollout rollout(void)
{
	cj_rollout r;

	memset(&r, 0, sizeof(r));
	r.steps_bp = steps;
	r.nsteps = 5;
	r.min_soak_ms = 10 * MIN;
	r.max_step_ms = 60 * MIN;
	r.status = CJ_RUNNING;
	return r;
}

static cj_result verdict(cj_verdict v, const char *rule, bool critical)
{
	cj_result res;

	memset(&res, 0, sizeof(res));
	res.verdict = v;
	res.rule = rule;
	res.critical = critical;
	strcpy(res.reason, "numbers");
	return res;
}

static cj_decision tick(const cj_rollout *r, cj_verdict v, int64_t now)
{
	cj_result res = verdict(v, v == CJ_FAIL ? "errors_ratio" : "x", false);
	cj_decision d;

	cj_fsm_tick(r, &res, now, &d);
	return d;
}

static void test_pass_waits_for_soak(void **state)
{
	cj_rollout r = rollout();
	cj_decision d = tick(&r, CJ_PASS, 5 * MIN);

	(void)state;
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "soak");
	d = tick(&r, CJ_PASS, 10 * MIN);
	assert_int_equal(d.action, CJ_ACT_WIDEN);
	assert_int_equal(d.next_step, 1);
	assert_int_equal(d.next_bp, 500);
	cj_fsm_apply(&r, &d, 10 * MIN);
	assert_int_equal(r.step, 1);
	assert_true(r.step_start_ms == 10 * MIN);
}

static void test_fail_rolls_back_at_once(void **state)
{
	cj_rollout r = rollout();
	cj_decision d = tick(&r, CJ_FAIL, 1000);

	(void)state;
	assert_int_equal(d.action, CJ_ACT_ROLLBACK);
	assert_int_equal(d.next_bp, 0);
	assert_string_equal(d.rule, "fail");
	assert_non_null(strstr(d.reason, "errors_ratio"));
	cj_fsm_apply(&r, &d, 1000);
	assert_int_equal(r.status, CJ_ROLLED_BACK);
	/* Terminal: nothing more happens. */
	d = tick(&r, CJ_PASS, 20 * MIN);
	assert_int_equal(d.action, CJ_ACT_NONE);
}

static void test_inconclusive_holds_then_pauses(void **state)
{
	cj_rollout r = rollout();
	cj_decision d = tick(&r, CJ_INCONCLUSIVE, 30 * MIN);

	(void)state;
	assert_int_equal(d.action, CJ_ACT_HOLD);
	d = tick(&r, CJ_INCONCLUSIVE, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_string_equal(d.rule, "max_time");
	cj_fsm_apply(&r, &d, 60 * MIN);
	assert_int_equal(r.status, CJ_PAUSED);
	/* Paused: PASS does not widen ... */
	d = tick(&r, CJ_PASS, 61 * MIN);
	assert_int_equal(d.action, CJ_ACT_NONE);
	/* ... FAIL still rolls back. */
	d = tick(&r, CJ_FAIL, 62 * MIN);
	assert_int_equal(d.action, CJ_ACT_ROLLBACK);
	/* Resume restarts the step clock. */
	assert_int_equal(cj_fsm_resume(&r, 70 * MIN), 0);
	assert_int_equal(cj_fsm_resume(&r, 70 * MIN), -1);
	d = tick(&r, CJ_INCONCLUSIVE, 75 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
}

static void test_no_result_never_moves(void **state)
{
	cj_rollout r = rollout();
	cj_decision d;

	(void)state;
	cj_fsm_tick(&r, NULL, 20 * MIN, &d);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "no_result");
	cj_fsm_tick(&r, NULL, 61 * MIN, &d);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
}

static void test_promote_at_last_step(void **state)
{
	cj_rollout r = rollout();
	cj_decision d;

	(void)state;
	r.step = 3;
	d = tick(&r, CJ_PASS, 15 * MIN);
	assert_int_equal(d.action, CJ_ACT_PROMOTE);
	assert_int_equal(d.next_bp, 10000);
	cj_fsm_apply(&r, &d, 15 * MIN);
	assert_int_equal(r.status, CJ_COMPLETED);
	assert_int_equal(r.step, 4);
	d = tick(&r, CJ_FAIL, 16 * MIN);
	assert_int_equal(d.action, CJ_ACT_NONE);
}

static void test_dry_run_pauses_instead(void **state)
{
	cj_rollout r = rollout();
	cj_decision d;

	(void)state;
	r.dry_run = true;
	d = tick(&r, CJ_FAIL, MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_string_equal(d.rule, "dry_run_fail");
	assert_non_null(strstr(d.reason, "would roll back"));
}

static void test_critical_rule(void **state)
{
	cj_rollout r = rollout();
	cj_result res = verdict(CJ_FAIL, "errors_critical", true);
	cj_decision d;

	(void)state;
	cj_fsm_tick(&r, &res, 0, &d);
	assert_int_equal(d.action, CJ_ACT_ROLLBACK);
	assert_string_equal(d.rule, "fail_critical");
	assert_string_equal(cj_action_name(d.action), "rollback");
	assert_string_equal(cj_status_name(CJ_ROLLED_BACK), "rolled_back");
}

static cj_decision tick_result(cj_rollout *r, cj_result res, int64_t now)
{
	cj_decision d;

	cj_fsm_tick(r, &res, now, &d);
	cj_fsm_apply(r, &d, now);
	return d;
}

/* PASS must hold at every tick for sustain_ms after the soak. */
static void test_sustained_pass(void **state)
{
	cj_rollout r = rollout();
	cj_result pass = verdict(CJ_PASS, "pass", false);
	cj_result hold = verdict(CJ_INCONCLUSIVE, "errors_undecided", false);
	cj_decision d;

	(void)state;
	r.sustain_ms = 2 * MIN;
	d = tick_result(&r, pass, 9 * MIN);
	assert_string_equal(d.rule, "soak");
	assert_true(r.pass_since_ms == 9 * MIN);
	d = tick_result(&r, pass, 10 * MIN);
	assert_string_equal(d.rule, "sustain");
	d = tick_result(&r, pass, 11 * MIN);
	assert_string_equal(d.rule, "sustain");
	/* One non-PASS starts it over. */
	d = tick_result(&r, hold, 12 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_true(r.pass_since_ms == 0);
	d = tick_result(&r, pass, 13 * MIN);
	d = tick_result(&r, pass, 14 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	d = tick_result(&r, pass, 15 * MIN);
	assert_int_equal(d.action, CJ_ACT_WIDEN);
	assert_int_equal(r.step, 1);
	assert_true(r.pass_since_ms == 0);
}

/* An alert holds for its grace, then rolls back (or pauses). */
static void test_alert_grace(void **state)
{
	cj_rollout r = rollout();
	cj_result alert = verdict(CJ_INCONCLUSIVE, "canary_silent", false);
	cj_result fine = verdict(CJ_INCONCLUSIVE, "errors_undecided", false);
	cj_decision d;

	(void)state;
	alert.alert = true;
	r.grace_ms = 3 * MIN;
	d = tick_result(&r, alert, 5 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "alert");
	assert_true(d.alert);
	assert_non_null(strstr(d.reason, "acting in 180s"));
	/* It cleared: the grace starts over. */
	d = tick_result(&r, fine, 6 * MIN);
	assert_false(d.alert);
	assert_true(r.alert_since_ms == 0);
	tick_result(&r, alert, 7 * MIN);
	d = tick_result(&r, alert, 9 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	d = tick_result(&r, alert, 10 * MIN);
	assert_int_equal(d.action, CJ_ACT_ROLLBACK);
	assert_string_equal(d.rule, "stall");
	assert_int_equal(d.next_bp, 0);
	assert_int_equal(r.status, CJ_ROLLED_BACK);
	/* on_stall pause, and dry runs, pause instead. */
	r = rollout();
	r.on_stall = CJ_STALL_PAUSE;
	d = tick_result(&r, alert, 5 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_int_equal(r.status, CJ_PAUSED);
	r = rollout();
	r.dry_run = true;
	d = tick_result(&r, alert, 5 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_non_null(strstr(d.reason, "would roll back"));
}

/* With a bake the last step is watched before the rollout completes. */
static void test_bake(void **state)
{
	cj_rollout r = rollout();
	cj_result pass = verdict(CJ_PASS, "pass", false);
	cj_result ok = verdict(CJ_PASS, "bake_ok", false);
	cj_decision d;

	(void)state;
	r.step = 3;
	r.bake_ms = 30 * MIN;
	d = tick_result(&r, pass, 15 * MIN);
	assert_int_equal(d.action, CJ_ACT_PROMOTE);
	assert_non_null(strstr(d.reason, "baking for 1800s"));
	assert_int_equal(r.step, 4);
	assert_int_equal(r.status, CJ_RUNNING);
	d = tick_result(&r, ok, 30 * MIN);
	assert_string_equal(d.rule, "bake");
	d = tick_result(&r, ok, 45 * MIN);
	assert_int_equal(d.action, CJ_ACT_COMPLETE);
	assert_int_equal(r.status, CJ_COMPLETED);
	/* A critical change during the bake still rolls back. */
	r = rollout();
	r.step = 4;
	r.bake_ms = 30 * MIN;
	d = tick_result(&r, verdict(CJ_FAIL, "errors_volume_critical", true),
		5 * MIN);
	assert_int_equal(d.action, CJ_ACT_ROLLBACK);
	assert_string_equal(cj_action_name(CJ_ACT_COMPLETE), "complete");
}

/* Past max_step: hold on while the judge projects a decision before
 * max_wait; say how long, and which larger step would have decided. */
static void test_max_wait_and_suggestion(void **state)
{
	cj_rollout r = rollout();
	cj_result slow = verdict(CJ_INCONCLUSIVE, "errors_undecided", false);
	cj_decision d;

	(void)state;
	r.max_wait_ms = 240 * MIN;
	slow.decide_ms = 90 * MIN;
	d = tick_result(&r, slow, 20 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_non_null(strstr(d.reason, "needs about 90m more"));
	assert_int_equal(d.suggest_bp, 200); /* 1% x 110m / 60m, rounded up */
	assert_non_null(strstr(d.reason, "a 2.00% step would decide within "
		"60m"));
	slow.decide_ms = 120 * MIN;
	d = tick_result(&r, slow, 60 * MIN);
	assert_string_equal(d.rule, "max_time_extended");
	assert_int_equal(d.suggest_bp, 300);
	/* 270m in all, past max_wait: an estimate from the traffic of now
	 * (a daily trough) does not cut the wait short... */
	slow.decide_ms = 200 * MIN;
	d = tick_result(&r, slow, 70 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "max_time_extended");
	/* ... max_wait does. */
	d = tick_result(&r, slow, 240 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_string_equal(d.rule, "max_time");
	slow.decide_ms = -1;
	r = rollout();
	r.max_wait_ms = 240 * MIN;
	d = tick_result(&r, slow, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_non_null(strstr(d.reason, "cannot decide at this traffic"));
}

/* The decision of one tick, not applied. */
static cj_decision probe(const cj_rollout *r, cj_result res, int64_t now)
{
	cj_decision d;

	cj_fsm_tick(r, &res, now, &d);
	return d;
}

/* widen_undecided: at max_step an INCONCLUSIVE step with traffic goes up
 * one step when that step is within the bound (and 50%), never to the
 * last step, never before max_step, never on an alert, without traffic,
 * with a FAIL test leaning toward FAIL or in a dry run; without it the
 * rollout holds on as before. */
static void test_widen_undecided(void **state)
{
	cj_rollout r = rollout();
	cj_result slow = verdict(CJ_INCONCLUSIVE, "errors_undecided", false);
	cj_result other;
	cj_decision d;

	(void)state;
	r.max_wait_ms = 240 * MIN;
	r.widen_undecided_bp = 500;
	slow.decide_ms = 300 * MIN;
	slow.metrics[0].enabled = true;
	slow.metrics[0].statistic = 3;       /* no lean: below sqrt(500) */
	slow.metrics[0].threshold = 500;
	d = probe(&r, slow, 59 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);   /* before max_step */
	d = probe(&r, slow, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_WIDEN);
	assert_string_equal(d.rule, "undecided_widen");
	assert_int_equal(d.next_step, 1);
	assert_int_equal(d.next_bp, 500);
	assert_non_null(strstr(d.reason, "no PASS within 3600s at 1.00%"));
	assert_non_null(strstr(d.reason, "widening to 5.00%, at most 5.00% "
		"undecided"));
	/* Without traffic to estimate from: more share of nothing is no
	 * evidence; it pauses as before. */
	other = slow;
	other.decide_ms = -1;
	d = probe(&r, other, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_PAUSE);
	assert_string_equal(d.rule, "max_time");
	/* A FAIL test leaning toward FAIL (e-value past sqrt(threshold))
	 * holds on where it is. */
	other = slow;
	other.metrics[0].statistic = 23;
	d = probe(&r, other, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "max_time_extended");
	/* A dry run only pauses on FAIL: never widened undecided. */
	r.dry_run = true;
	d = probe(&r, slow, 60 * MIN);
	assert_string_equal(d.rule, "max_time_extended");
	r.dry_run = false;
	/* A bound just below the next step. */
	r.widen_undecided_bp = 499;
	d = probe(&r, slow, 60 * MIN);
	assert_string_equal(d.rule, "max_time_extended");
	r.widen_undecided_bp = 500;
	/* At 5% the next step (25%) is past the bound: hold on as before. */
	d = probe(&r, slow, 60 * MIN);
	cj_fsm_apply(&r, &d, 60 * MIN);
	assert_int_equal(r.step, 1);
	assert_true(r.step_start_ms == 60 * MIN);
	d = probe(&r, slow, 120 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "max_time_extended");
	/* With a bound of 50%: 5% -> 25% -> 50%, one step per max_step,
	 * and never to the last step. */
	r.widen_undecided_bp = 5000;
	d = probe(&r, slow, 120 * MIN);
	assert_int_equal(d.next_bp, 2500);
	cj_fsm_apply(&r, &d, 120 * MIN);
	d = probe(&r, slow, 180 * MIN);
	assert_int_equal(d.next_bp, 5000);
	cj_fsm_apply(&r, &d, 180 * MIN);
	d = probe(&r, slow, 240 * MIN);
	assert_string_equal(d.rule, "max_time_extended");
	/* An alert never widens; nor does a missing evaluation. */
	r = rollout();
	r.max_wait_ms = 240 * MIN;
	r.widen_undecided_bp = 5000;
	r.grace_ms = 600 * MIN;
	other = slow;
	other.alert = true;
	d = probe(&r, other, 60 * MIN);
	assert_int_equal(d.action, CJ_ACT_HOLD);
	assert_string_equal(d.rule, "alert");
	cj_fsm_tick(&r, NULL, 60 * MIN, &d);
	assert_true(d.action != CJ_ACT_WIDEN);
	/* Off (0): the behaviour before. */
	r = rollout();
	r.max_wait_ms = 240 * MIN;
	d = probe(&r, slow, 60 * MIN);
	assert_string_equal(d.rule, "max_time_extended");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass_waits_for_soak),
		cmocka_unit_test(test_fail_rolls_back_at_once),
		cmocka_unit_test(test_inconclusive_holds_then_pauses),
		cmocka_unit_test(test_no_result_never_moves),
		cmocka_unit_test(test_promote_at_last_step),
		cmocka_unit_test(test_dry_run_pauses_instead),
		cmocka_unit_test(test_critical_rule),
		cmocka_unit_test(test_sustained_pass),
		cmocka_unit_test(test_alert_grace),
		cmocka_unit_test(test_bake),
		cmocka_unit_test(test_max_wait_and_suggestion),
		cmocka_unit_test(test_widen_undecided),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
