/*
 * test_evaluate.c - canary_enabled() / canary_evaluate(): every rule and
 * reason, every bad argument, and no allocation on the evaluation path.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"

static const char *const config_json =
	"{\"version\": 42, \"flags\": ["
	"{\"key\": \"half\", \"salt\": \"half-salt\", \"rollout_bp\": 5000,"
	" \"allow\": [\"vip\", \"both\"], \"deny\": [\"blocked\", \"both\"],"
	" \"variants\": {\"stable\": \"v1\", \"canary\": \"v2\"}},"
	"{\"key\": \"off\", \"rollout_bp\": 10000, \"enabled\": false,"
	" \"allow\": [\"vip\"]},"
	"{\"key\": \"all\", \"rollout_bp\": 10000},"
	"{\"key\": \"none\", \"rollout_bp\": 0}]}";

static size_t allocations;

static void *counting_malloc(size_t size, void *ctx)
{
	(void)ctx;
	allocations++;
	return malloc(size);
}

static void *counting_realloc(void *ptr, size_t size, void *ctx)
{
	(void)ctx;
	allocations++;
	return realloc(ptr, size);
}

static void counting_free(void *ptr, void *ctx)
{
	(void)ctx;
	free(ptr);
}

static canary_client *new_client(void)
{
	canary_options opts;
	canary_client *c;

	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.allocator.malloc_fn = counting_malloc;
	opts.allocator.realloc_fn = counting_realloc;
	opts.allocator.free_fn = counting_free;
	assert_int_equal(canary_client_new(&c, &opts), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, config_json,
		strlen(config_json)), CANARY_OK);
	return c;
}

static void expect(canary_client *c, const char *flag, const char *unit,
	canary_arm arm, canary_reason reason, canary_eval_error error)
{
	canary_details d = CANARY_DETAILS_INIT;
	bool on = canary_evaluate(c, flag, unit, &d);

	if (d.arm != arm || d.reason != reason || d.error_code != error ||
	    on != (arm == CANARY_ARM_CANARY) ||
	    canary_enabled(c, flag, unit) != on)
		fail_msg("%s/%s: got arm %d %s %s, want arm %d %s %s", flag,
			unit ? unit : "(null)", d.arm, canary_reason_name(d.reason),
			canary_eval_error_name(d.error_code), arm,
			canary_reason_name(reason), canary_eval_error_name(error));
}

static void test_rules_and_reasons(void **state)
{
	canary_client *c = new_client();
	canary_details d = CANARY_DETAILS_INIT;

	(void)state;
	/* Deny beats allow; allow beats the split. */
	expect(c, "half", "vip", CANARY_ARM_CANARY, CANARY_REASON_TARGETING_MATCH, 0);
	expect(c, "half", "blocked", CANARY_ARM_STABLE, CANARY_REASON_TARGETING_MATCH, 0);
	expect(c, "half", "both", CANARY_ARM_STABLE, CANARY_REASON_TARGETING_MATCH, 0);
	/* Kill switch comes before the lists. */
	expect(c, "off", "vip", CANARY_ARM_STABLE, CANARY_REASON_DISABLED, 0);
	expect(c, "all", "anyone", CANARY_ARM_CANARY, CANARY_REASON_SPLIT, 0);
	expect(c, "none", "anyone", CANARY_ARM_STABLE, CANARY_REASON_SPLIT, 0);
	expect(c, "all", "", CANARY_ARM_STABLE, CANARY_REASON_ERROR, CANARY_EVAL_NO_UNIT);
	expect(c, "all", NULL, CANARY_ARM_STABLE, CANARY_REASON_ERROR, CANARY_EVAL_NO_UNIT);
	expect(c, "missing", "u", CANARY_ARM_STABLE, CANARY_REASON_ERROR,
		CANARY_EVAL_FLAG_NOT_FOUND);
	expect(c, NULL, "u", CANARY_ARM_STABLE, CANARY_REASON_ERROR,
		CANARY_EVAL_INVALID_ARGUMENT);
	expect(NULL, "all", "u", CANARY_ARM_STABLE, CANARY_REASON_ERROR,
		CANARY_EVAL_INVALID_ARGUMENT);

	/* The split agrees with the public bucket function and carries the
	 * variant, bucket, rollout and version. */
	canary_evaluate(c, "half", "user-7", &d);
	assert_int_equal(d.bucket, canary_bucket("half-salt", "user-7"));
	assert_int_equal(d.arm, d.bucket < 5000 ? CANARY_ARM_CANARY : CANARY_ARM_STABLE);
	assert_string_equal(d.variant, d.arm == CANARY_ARM_CANARY ? "v2" : "v1");
	assert_int_equal(d.rollout_bp, 5000);
	assert_int_equal(d.config_version, 42);
	canary_evaluate(c, "half", "vip", &d);
	assert_string_equal(d.variant, "v2");
	canary_evaluate(c, "missing", "u", &d);
	assert_string_equal(d.variant, "");
	canary_client_free(c);
	/* NULL details pointer is fine. */
	assert_false(canary_evaluate(NULL, NULL, NULL, NULL));
}

static void test_not_ready(void **state)
{
	canary_client *c;

	(void)state;
	assert_int_equal(canary_client_new(&c, NULL), CANARY_OK);
	expect(c, "all", "u", CANARY_ARM_STABLE, CANARY_REASON_ERROR,
		CANARY_EVAL_NOT_READY);
	assert_int_equal(canary_client_config_version(c), 0);
	canary_client_free(c);
	canary_client_free(NULL);
}

/* Evaluation never allocates: count the client's allocations around a
 * million calls on every path. */
static void test_no_allocation(void **state)
{
	canary_client *c = new_client();
	canary_details d = CANARY_DETAILS_INIT;
	size_t before;
	char unit[32];
	int i, on = 0;

	(void)state;
	before = allocations;
	for (i = 0; i < 200000; i++) {
		snprintf(unit, sizeof(unit), "user-%d", i);
		on += canary_enabled(c, "half", unit);
		on += canary_evaluate(c, "half", unit, &d);
		on += canary_enabled(c, "half", "vip");
		on += canary_enabled(c, "off", unit);
		on += canary_enabled(c, "missing", unit);
	}
	assert_int_equal(allocations, before);
	assert_true(on > 200000); /* the calls did real work */
	canary_client_free(c);
}

static void test_names(void **state)
{
	(void)state;
	assert_string_equal(canary_reason_name(CANARY_REASON_SPLIT), "SPLIT");
	assert_string_equal(canary_reason_name(CANARY_REASON_STALE), "STALE");
	assert_string_equal(canary_reason_name((canary_reason)99), "UNKNOWN");
	assert_string_equal(canary_eval_error_name(CANARY_EVAL_NOT_READY), "NOT_READY");
	assert_string_equal(canary_eval_error_name((canary_eval_error)-1), "UNKNOWN");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_and_reasons),
		cmocka_unit_test(test_not_ready),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_names),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
