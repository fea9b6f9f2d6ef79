/*
 * test_evaluate_ctx.c - evaluation with a context: a flag's targeting
 * rules decide who is eligible (INELIGIBLE and the rule that failed),
 * segments, a stickiness attribute, lists before rules, the unit-only
 * calls on a targeted flag, bad arguments, versioned details, and no
 * allocation on the path.
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
#include "../support/test_alloc.h"

/* "fw": firmware >= 2.3.0, then the segment eu-hw-b (constraint 1 past
 * the flag's one), everyone eligible in the canary. "sticky": half, split
 * by device_id. "listed": a rule, and lists that come before it. */
static const char *const config_json =
	"{\"version\": 9, \"segments\": ["
	" {\"name\": \"eu-hw-b\", \"constraints\": ["
	"  {\"contextName\": \"region\", \"operator\": \"STR_STARTS_WITH\","
	"   \"values\": [\"eu-\"]},"
	"  {\"contextName\": \"model\", \"operator\": \"IN\","
	"   \"values\": [\"hw-b\", \"hw-b2\"], \"caseInsensitive\": true}]}],"
	" \"flags\": ["
	" {\"key\": \"fw\", \"rollout_bp\": 10000,"
	"  \"constraints\": [{\"contextName\": \"firmware\","
	"   \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}],"
	"  \"segments\": [\"eu-hw-b\"]},"
	" {\"key\": \"sticky\", \"rollout_bp\": 5000, \"stickiness\": \"device_id\"},"
	" {\"key\": \"sticky-fw\", \"rollout_bp\": 10000, \"stickiness\": \"device_id\","
	"  \"constraints\": [{\"contextName\": \"firmware\","
	"   \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}]},"
	" {\"key\": \"listed\", \"rollout_bp\": 0, \"allow\": [\"vip\"],"
	"  \"deny\": [\"blocked\"], \"constraints\": [{\"contextName\": \"region\","
	"   \"operator\": \"IN\", \"values\": [\"eu-1\"], \"inverted\": true}]},"
	" {\"key\": \"zoned\", \"rollout_bp\": 10000, \"constraints\": ["
	"  {\"contextName\": \"zone\", \"operator\": \"IN\", \"values\": [\"z1\"]}]},"
	" {\"key\": \"plain\", \"rollout_bp\": 10000}]}";

static test_alloc counts;

static canary_client *new_client(void)
{
	canary_options opts;
	canary_client *c;

	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.allocator = test_alloc_hooks(&counts);
	assert_int_equal(canary_client_new(&c, &opts), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, config_json,
		strlen(config_json)), CANARY_OK);
	return c;
}

/* A context of the unit and four attributes (a NULL value is left out
 * by giving it a name no rule uses). */
typedef struct device {
	canary_attribute attrs[4];
	canary_context ctx;
} device;

static void device_set(device *d, const char *unit, const char *fw,
	const char *region, const char *model, const char *device_id)
{
	canary_context_init(&d->ctx, CANARY_CONTEXT_VERSION);
	d->attrs[0].name = fw ? "firmware" : "-";
	d->attrs[0].value = fw ? fw : "";
	d->attrs[1].name = region ? "region" : "-";
	d->attrs[1].value = region ? region : "";
	d->attrs[2].name = model ? "model" : "-";
	d->attrs[2].value = model ? model : "";
	d->attrs[3].name = device_id ? "device_id" : "-";
	d->attrs[3].value = device_id ? device_id : "";
	d->ctx.unit = unit;
	d->ctx.attrs = d->attrs;
	d->ctx.attr_count = 4;
}

static void expect(canary_client *c, const char *flag, device *d,
	canary_arm arm, canary_reason reason, int32_t rule)
{
	canary_details det = CANARY_DETAILS_INIT;
	bool on = canary_evaluate_ctx(c, flag, &d->ctx, 0, &det);

	if (det.arm != arm || det.reason != reason || det.rule != rule ||
	    on != (arm == CANARY_ARM_CANARY) ||
	    canary_enabled_ctx(c, flag, &d->ctx) != on)
		fail_msg("%s/%s: got arm %d %s rule %d, want arm %d %s rule %d",
			flag, d->ctx.unit ? d->ctx.unit : "(null)", det.arm,
			canary_reason_name(det.reason), det.rule, arm,
			canary_reason_name(reason), rule);
}

static void test_rules_decide_eligibility(void **state)
{
	canary_client *c = new_client();
	device d;

	(void)state;
	device_set(&d, "u1", "2.3.0", "eu-west", "HW-B", NULL);
	expect(c, "fw", &d, CANARY_ARM_CANARY, CANARY_REASON_SPLIT, -1);
	device_set(&d, "u1", "2.10.1", "eu-1", "hw-b2", NULL);
	expect(c, "fw", &d, CANARY_ARM_CANARY, CANARY_REASON_SPLIT, -1);
	/* The flag's own constraint fails first: rule 0. */
	device_set(&d, "u1", "2.2.9", "eu-west", "hw-b", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	/* A pre-release is below its release. */
	device_set(&d, "u1", "2.3.0-rc.1", "eu-west", "hw-b", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	/* The segment fails: one constraint, then segment 0. */
	device_set(&d, "u1", "3.0.0", "us-east", "hw-b", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 1);
	device_set(&d, "u1", "3.0.0", "eu-west", "hw-a", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 1);
	/* An attribute that is missing fails its constraint. */
	device_set(&d, "u1", NULL, "eu-west", "hw-b", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	/* No unit: an error, as without targeting. */
	device_set(&d, NULL, "3.0.0", "eu-west", "hw-b", NULL);
	expect(c, "fw", &d, CANARY_ARM_STABLE, CANARY_REASON_ERROR, -1);
	/* A flag without targeting answers with the context as with the
	 * unit. */
	device_set(&d, "u1", NULL, NULL, NULL, NULL);
	expect(c, "plain", &d, CANARY_ARM_CANARY, CANARY_REASON_SPLIT, -1);
	canary_client_free(c);
}

/* canary_enabled(flag, unit) on a targeted flag: a context of the unit
 * alone, which the attribute rules exclude. */
static void test_unit_only_calls(void **state)
{
	canary_client *c = new_client();
	canary_details det = CANARY_DETAILS_INIT;

	(void)state;
	assert_false(canary_enabled(c, "fw", "u1"));
	assert_false(canary_evaluate(c, "fw", "u1", &det));
	assert_int_equal(det.reason, CANARY_REASON_INELIGIBLE);
	assert_int_equal(det.rule, 0);
	/* An inverted IN: a unit-only context is not in eu-1, so eligible. */
	assert_int_equal(canary_evaluate(c, "listed", "u1", &det), false);
	assert_int_equal(det.reason, CANARY_REASON_SPLIT);
	canary_client_free(c);
}

static void test_lists_come_first(void **state)
{
	canary_client *c = new_client();
	device d;

	(void)state;
	device_set(&d, "vip", NULL, "eu-1", NULL, NULL);
	expect(c, "listed", &d, CANARY_ARM_CANARY,
		CANARY_REASON_TARGETING_MATCH, -1);
	device_set(&d, "blocked", NULL, "us", NULL, NULL);
	expect(c, "listed", &d, CANARY_ARM_STABLE,
		CANARY_REASON_TARGETING_MATCH, -1);
	device_set(&d, "u2", NULL, "eu-1", NULL, NULL);
	expect(c, "listed", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	device_set(&d, "u2", NULL, "us", NULL, NULL);
	expect(c, "listed", &d, CANARY_ARM_STABLE, CANARY_REASON_SPLIT, -1);
	canary_client_free(c);
}

/* The split follows device_id, whatever the unit; without one the unit
 * cannot be placed. */
static void test_stickiness(void **state)
{
	canary_client *c = new_client();
	canary_details det = CANARY_DETAILS_INIT;
	char unit[32], dev[32];
	int i, seen[2] = { 0, 0 };
	device d;

	(void)state;
	for (i = 0; i < 200; i++) {
		bool first;

		snprintf(dev, sizeof(dev), "device-%d", i);
		snprintf(unit, sizeof(unit), "user-%d", i);
		device_set(&d, unit, NULL, NULL, NULL, dev);
		first = canary_evaluate_ctx(c, "sticky", &d.ctx, 0, &det);
		assert_int_equal(det.reason, CANARY_REASON_SPLIT);
		seen[first]++;
		snprintf(unit, sizeof(unit), "other-%d", i * 7);
		device_set(&d, unit, NULL, NULL, NULL, dev);
		assert_int_equal(canary_enabled_ctx(c, "sticky", &d.ctx), first);
	}
	assert_true(seen[0] > 50 && seen[1] > 50);
	device_set(&d, "u1", NULL, NULL, NULL, NULL);
	expect(c, "sticky", &d, CANARY_ARM_STABLE, CANARY_REASON_ERROR, -1);
	/* Rules and a stickiness attribute: the rules decide first (the
	 * bucket is hashed before them, but must not decide before them). */
	device_set(&d, "u1", "2.2.0", NULL, NULL, NULL);
	expect(c, "sticky-fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	device_set(&d, "u1", "2.2.0", NULL, NULL, "device-1");
	expect(c, "sticky-fw", &d, CANARY_ARM_STABLE, CANARY_REASON_INELIGIBLE, 0);
	device_set(&d, "u1", "2.3.0", NULL, NULL, NULL);
	expect(c, "sticky-fw", &d, CANARY_ARM_STABLE, CANARY_REASON_ERROR, -1);
	device_set(&d, "u1", "2.3.0", NULL, NULL, "device-1");
	expect(c, "sticky-fw", &d, CANARY_ARM_CANARY, CANARY_REASON_SPLIT, -1);
	canary_client_free(c);
}

static void test_bad_arguments(void **state)
{
	canary_client *c = new_client();
	canary_details det = CANARY_DETAILS_INIT;
	canary_flag_ref *ref = canary_flag_ref_get(c, "fw");
	device d;

	(void)state;
	assert_false(canary_enabled_ctx(c, "fw", NULL));
	assert_false(canary_evaluate_ctx(c, "fw", NULL, 0, &det));
	assert_int_equal(det.reason, CANARY_REASON_ERROR);
	assert_int_equal(det.error_code, CANARY_EVAL_INVALID_ARGUMENT);
	assert_false(canary_enabled_ctx(NULL, "fw", NULL));
	device_set(&d, "u1", "9.0.0", "eu-1", "hw-b", NULL);
	assert_false(canary_enabled_ctx(c, NULL, &d.ctx));
	assert_false(canary_enabled_ctx(c, "nope", &d.ctx));
	/* Through a handle, the same answers. */
	assert_non_null(ref);
	assert_true(canary_enabled_ref_ctx(c, ref, &d.ctx));
	assert_true(canary_evaluate_ref_ctx(c, ref, &d.ctx, 0, &det));
	assert_false(canary_enabled_ref_ctx(c, ref, NULL));
	device_set(&d, "u1", "1.0.0", "eu-1", "hw-b", NULL);
	assert_false(canary_evaluate_ref_ctx(c, ref, &d.ctx, 0, &det));
	assert_int_equal(det.reason, CANARY_REASON_INELIGIBLE);
	assert_int_equal(canary_record_error_ctx(c, "fw", NULL), CANARY_EINVAL);
	d.ctx.unit = "";
	assert_int_equal(canary_record_latency_ctx(c, "fw", &d.ctx, 1),
		CANARY_EINVAL);
	d.ctx.unit = "u1";
	assert_int_equal(canary_record_metric_ctx(c, "fw", &d.ctx, "m", 1),
		CANARY_OK);
	canary_client_free(c);
}

/* A caller built against version 1 of canary_details: `rule` is not
 * written; version 2 initialises it to -1. */
static void test_details_versions(void **state)
{
	canary_client *c = new_client();
	unsigned char buf[sizeof(canary_details) + 8];
	canary_details *v1 = (canary_details *)(void *)buf;
	size_t end = offsetof(canary_details, rule), i;
	canary_details v2;
	device d;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	assert_int_equal(canary_details_init(v1, 1), CANARY_OK);
	device_set(&d, "u1", "1.0.0", "eu-1", "hw-b", NULL);
	canary_evaluate_ctx(c, "fw", &d.ctx, 0, v1);
	assert_int_equal(v1->reason, CANARY_REASON_INELIGIBLE);
	for (i = end; i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x5a);
	memset(&v2, 0x5a, sizeof(v2));
	assert_int_equal(canary_details_init(&v2, 2), CANARY_OK);
	assert_int_equal(v2.rule, -1);
	assert_int_equal(canary_details_init(&v2, 3), CANARY_EINVAL);
	assert_string_equal(canary_reason_name(CANARY_REASON_INELIGIBLE),
		"INELIGIBLE");
	canary_client_free(c);
}

/* The context remembers where each attribute a rule names sits in its
 * array (canary_context_cache): the first evaluation looks it up, later
 * ones read it by position. Positions up to 254 are remembered, later ones
 * looked up every time; a value may change between calls, the array and
 * its length may change too (the cache notices); an absent attribute
 * stays absent. Every answer equals a fresh context's. */
#define MANY_ATTRS 300

static bool zoned(canary_client *c, canary_context *ctx)
{
	canary_context fresh = *ctx;
	bool on = canary_enabled_ctx(c, "zoned", ctx);

	memset(&fresh.cache, 0, sizeof(fresh.cache));
	if (canary_enabled_ctx(c, "zoned", &fresh) != on)
		fail_msg("a remembered position answered otherwise (%zu attributes,"
			" %s)", ctx->attr_count, on ? "on" : "off");
	return on;
}

static void test_binding(void **state)
{
	static const size_t at[] = { 0, 1, 252, 253, 254, 255, 299 };
	static canary_attribute attrs[MANY_ATTRS], other[MANY_ATTRS];
	static char names[MANY_ATTRS][8];
	canary_client *c = new_client();
	canary_context ctx;
	size_t i, k;

	(void)state;
	for (i = 0; i < MANY_ATTRS; i++) {
		snprintf(names[i], sizeof(names[i]), "a%zu", i);
		attrs[i].name = other[i].name = names[i];
		/* The value the rule wants, under another name, where a
		 * position mistaken for "absent" (255) would point. */
		attrs[i].value = other[i].value = i == 254 ? "z1" : "x";
	}
	canary_context_init(&ctx, CANARY_CONTEXT_VERSION);
	ctx.unit = "u1";
	ctx.attrs = attrs;
	ctx.attr_count = MANY_ATTRS;
	assert_false(zoned(c, &ctx));          /* absent, remembered */
	assert_false(zoned(c, &ctx));
	for (k = 0; k < sizeof(at) / sizeof(at[0]); k++) {
		attrs[at[k]].name = "zone";
		attrs[at[k]].value = "z1";
		/* Names may not change in place: the last call saw `other`,
		 * so this one looks the names up again. */
		ctx.attr_count = at[k] < MANY_ATTRS - 1 ? MANY_ATTRS - 1 : MANY_ATTRS;
		assert_true(zoned(c, &ctx));
		assert_true(zoned(c, &ctx));
		attrs[at[k]].value = "z2";         /* values may change */
		assert_false(zoned(c, &ctx));
		attrs[at[k]].value = "";           /* empty: absent */
		assert_false(zoned(c, &ctx));
		attrs[at[k]].value = NULL;
		assert_false(zoned(c, &ctx));
		attrs[at[k]].value = "z1";
		assert_true(zoned(c, &ctx));
		ctx.attr_count = at[k];            /* shorter: it is cut off */
		assert_false(zoned(c, &ctx));
		ctx.attr_count = at[k] + 1;
		assert_true(zoned(c, &ctx));
		ctx.attrs = other;                 /* another array: looked up */
		assert_false(zoned(c, &ctx));
		other[MANY_ATTRS - 1 - at[k]].name = "zone";
		other[MANY_ATTRS - 1 - at[k]].value = "z1";
		/* A name changed in place: a new length, so it is looked up. */
		ctx.attr_count = at[k] + 1 < MANY_ATTRS ? MANY_ATTRS : MANY_ATTRS - 1;
		assert_true(zoned(c, &ctx));
		other[MANY_ATTRS - 1 - at[k]].name = names[MANY_ATTRS - 1 - at[k]];
		other[MANY_ATTRS - 1 - at[k]].value =
			MANY_ATTRS - 1 - at[k] == 254 ? "z1" : "x";
		ctx.attrs = attrs;
		attrs[at[k]].name = names[at[k]];
		attrs[at[k]].value = at[k] == 254 ? "z1" : "x";
	}
	canary_client_free(c);
}

/* The context's attribute positions are cached in it; evaluations of
 * many flags, and a new config, allocate nothing. */
static void test_no_allocation(void **state)
{
	canary_client *c = new_client();
	canary_details det = CANARY_DETAILS_INIT;
	device d;
	int i;

	(void)state;
	device_set(&d, "u1", "2.4.0", "eu-2", "hw-b", "dev-9");
	canary_enabled_ctx(c, "fw", &d.ctx); /* the exposure table */
	counts.allocations = 0;
	for (i = 0; i < 1000; i++) {
		d.attrs[0].value = i & 1 ? "2.4.0" : "2.2.0";
		canary_enabled_ctx(c, "fw", &d.ctx);
		canary_evaluate_ctx(c, "sticky", &d.ctx, 0, &det);
		canary_enabled_ctx(c, "listed", &d.ctx);
		canary_enabled(c, "fw", "u1");
	}
	assert_int_equal(counts.allocations, 0);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_decide_eligibility),
		cmocka_unit_test(test_unit_only_calls),
		cmocka_unit_test(test_lists_come_first),
		cmocka_unit_test(test_stickiness),
		cmocka_unit_test(test_bad_arguments),
		cmocka_unit_test(test_details_versions),
		cmocka_unit_test(test_binding),
		cmocka_unit_test(test_no_allocation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
