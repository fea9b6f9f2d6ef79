/*
 * test_controller_fsm.c - the controller's tick decision: widen after the
 * soak, roll back at once, hold, pause past max time, dry run, resume.
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
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
