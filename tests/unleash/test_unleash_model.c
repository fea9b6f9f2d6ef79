/*
 * test_unleash_model.c - the Unleash evaluator beyond the specification:
 * no allocation while evaluating, the random source, flexibleRollout
 * against libcanary's bucketing contract, hostnames and addresses,
 * validation paths, lenient downgrades, delta events, and every
 * allocation failure while compiling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <cjson/cJSON.h>

#include "canary/canary.h"
#include "unleash.h"
#include "../support/test_alloc.h"

static const char *const everything =
	"{\"version\": 1, \"segments\": [{\"id\": 3, \"constraints\": ["
	" {\"contextName\": \"region\", \"operator\": \"IN\", \"values\": [\"eu\"]}]}],"
	" \"features\": ["
	"{\"name\": \"flex\", \"enabled\": true, \"strategies\": [{\"name\": \"flexibleRollout\","
	"  \"parameters\": {\"rollout\": \"50\", \"stickiness\": \"deviceId\", \"groupId\": \"g\"},"
	"  \"constraints\": [{\"contextName\": \"fw\", \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}],"
	"  \"segments\": [3],"
	"  \"variants\": [{\"name\": \"a\", \"weight\": 500, \"payload\": {\"type\": \"string\", \"value\": \"A\"}},"
	"   {\"name\": \"b\", \"weight\": 500}]}]},"
	"{\"name\": \"users\", \"enabled\": true, \"strategies\": [{\"name\": \"userWithId\","
	"  \"parameters\": {\"userIds\": \"u1, u2 ,u3\"}}],"
	" \"variants\": [{\"name\": \"x\", \"weight\": 1, \"overrides\": [{\"contextName\": \"userId\","
	"  \"values\": [\"u2\"]}]}, {\"name\": \"y\", \"weight\": 0}, {\"name\": \"z\", \"weight\": 3}]},"
	"{\"name\": \"gradual\", \"enabled\": true, \"strategies\": ["
	"  {\"name\": \"gradualRolloutSessionId\", \"parameters\": {\"percentage\": 30, \"groupId\": \"s\"}},"
	"  {\"name\": \"gradualRolloutUserId\", \"parameters\": {\"percentage\": \"30.9\"}}]},"
	"{\"name\": \"random\", \"enabled\": true, \"strategies\": [{\"name\": \"gradualRolloutRandom\","
	"  \"parameters\": {\"percentage\": \"25\"}}]},"
	"{\"name\": \"net\", \"enabled\": true, \"strategies\": [{\"name\": \"remoteAddress\","
	"  \"parameters\": {\"IPs\": \"10.0.0.0/8, 2001:db8::/32, 192.0.2.1\"}}]},"
	"{\"name\": \"host\", \"enabled\": true, \"strategies\": [{\"name\": \"applicationHostname\","
	"  \"parameters\": {\"hostNames\": \"build-1,Edge-7\"}}]},"
	"{\"name\": \"child\", \"enabled\": true, \"dependencies\": [{\"feature\": \"users\","
	"  \"variants\": [\"x\"]}], \"strategies\": [{\"name\": \"default\"}]},"
	"{\"name\": \"custom\", \"enabled\": true, \"strategies\": [{\"name\": \"myOwn\"},"
	"  {\"name\": \"default\", \"disabled\": true}]}"
	"]}";

static canary__unleash_model *compile_with(const char *json,
	const canary_allocator *a, const canary__unleash_options *opts)
{
	canary__unleash_model *m = NULL;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	int rc = canary__unleash_compile(a, json, strlen(json), opts, &m, &e);

	if (rc != CANARY_OK)
		fail_msg("compile: %s", canary__perror_format(&e, err,
			sizeof(err)));
	return m;
}

static bool on(const canary__unleash_model *m, const char *name,
	const canary__context *ctx)
{
	return canary__unleash_enabled(m, name, strlen(name), ctx, NULL);
}

static void test_evaluation_allocates_nothing(void **state)
{
	test_alloc t = { 0 };
	canary_allocator hooks = test_alloc_hooks(&t);
	canary__unleash_options opts = { "edge-7", NULL, NULL };
	canary__unleash_model *m = compile_with(everything, &hooks, &opts);
	static const char *const names[] = { "flex", "users", "gradual", "random",
		"net", "host", "child", "custom", "missing" };
	canary__attr attrs[] = { { "fw", "2.4.0" }, { "region", "eu" },
		{ "deviceId", NULL } };
	canary__context ctx;
	canary__unleash_variant v;
	char dev[32];
	size_t i, k;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = attrs;
	ctx.attr_count = 3;
	ctx.remote_address = "10.2.3.4";
	t.allocations = 0;
	for (i = 0; i < 5000; i++) {
		snprintf(dev, sizeof(dev), "dev-%zu", i);
		attrs[2].value = dev;
		ctx.user_id = i % 3 ? dev : "u2";
		ctx.session_id = dev;
		for (k = 0; k < sizeof(names) / sizeof(names[0]); k++) {
			on(m, names[k], &ctx);
			canary__unleash_get_variant(m, names[k], strlen(names[k]), &ctx, &v);
		}
	}
	assert_int_equal(t.allocations, 0);
	canary__unleash_free(m);
	assert_int_equal(t.live, 0);
}

static void test_strategies(void **state)
{
	canary__unleash_options opts = { "EDGE-7", NULL, NULL };
	canary__unleash_model *m = compile_with(everything, NULL, &opts);
	canary__unleash_model *nohost = compile_with(everything, NULL, NULL);
	canary__attr attrs[] = { { "fw", "2.4.0" }, { "region", "eu" },
		{ "deviceId", "d1" } };
	canary__unleash_result r;
	canary__unleash_variant v;
	canary__context ctx;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	ctx.attrs = attrs;
	ctx.attr_count = 3;
	/* userWithId: the list is trimmed. */
	ctx.user_id = "u2";
	assert_true(on(m, "users", &ctx));
	ctx.user_id = "u4";
	assert_false(on(m, "users", &ctx));
	/* remoteAddress: networks, IPv6, a plain address. */
	ctx.remote_address = "10.255.0.1";
	assert_true(on(m, "net", &ctx));
	ctx.remote_address = "2001:db8:ffff::";
	assert_true(on(m, "net", &ctx));
	ctx.remote_address = "192.0.2.1";
	assert_true(on(m, "net", &ctx));
	ctx.remote_address = "192.0.2.2";
	assert_false(on(m, "net", &ctx));
	/* applicationHostname: case-insensitive; no hostname, no match. */
	assert_true(on(m, "host", &ctx));
	assert_false(on(nohost, "host", &ctx));
	/* Unknown and disabled strategies are never enabled. */
	assert_false(canary__unleash_enabled(m, "custom", 6, &ctx, &r));
	assert_int_equal(r.why, CANARY__UNLEASH_NO_MATCH);
	/* Details: which strategy matched. */
	ctx.user_id = NULL;
	ctx.session_id = NULL;
	assert_false(canary__unleash_enabled(m, "gradual", 7, &ctx, &r));
	assert_false(canary__unleash_enabled(m, "nope", 4, &ctx, &r));
	assert_int_equal(r.why, CANARY__UNLEASH_NOT_FOUND);
	/* Dependencies: the child needs users' variant "x" (an override for
	 * u2); others get z (weight 3) or x by hash, never y (weight 0). */
	ctx.user_id = "u2";
	assert_true(canary__unleash_enabled(m, "child", 5, &ctx, &r));
	assert_int_equal(r.why, CANARY__UNLEASH_STRATEGY);
	assert_int_equal(r.strategy, 0);
	ctx.user_id = "u4";
	assert_false(canary__unleash_enabled(m, "child", 5, &ctx, &r));
	assert_int_equal(r.why, CANARY__UNLEASH_DEPENDENCY);
	ctx.user_id = "u2";
	canary__unleash_get_variant(m, "users", 5, &ctx, &v);
	assert_string_equal(v.name, "x");
	assert_null(v.payload_type);
	canary__unleash_free(m);
	canary__unleash_free(nohost);
}

/* A random source that walks evenly through the 32-bit range. */
static uint32_t even_steps(void *ctx)
{
	uint32_t *i = ctx;

	return (uint32_t)(((uint64_t)(*i)++ * 0x100000000ull) / 1000);
}

static void test_random(void **state)
{
	uint32_t step = 0;
	canary__unleash_options opts = { NULL, even_steps, &step };
	canary__unleash_model *fixed = compile_with(everything, NULL, &opts);
	canary__unleash_model *m = compile_with(everything, NULL, NULL);
	canary__context ctx;
	int i, hits = 0;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	/* An injected source makes "random" exact: 250 of 1,000 steps. */
	for (i = 0; i < 1000; i++)
		hits += on(fixed, "random", &ctx);
	assert_int_equal(hits, 250);
	/* The per-thread default: within 11 standard deviations of 25%. */
	for (i = 0, hits = 0; i < 10000; i++)
		hits += on(m, "random", &ctx);
	if (hits < 2000 || hits > 3000)
		fail_msg("gradualRolloutRandom 25%%: %d of 10000", hits);
	canary__unleash_free(fixed);
	canary__unleash_free(m);
}

/* At whole percents flexibleRollout is libcanary's bucketing contract:
 * enabled <=> canary_bucket(groupId, id) < percent * 100. */
static void test_flexible_equals_bucket(void **state)
{
	char json[512], id[32];
	int pct, i;

	(void)state;
	for (pct = 0; pct <= 100; pct += 7) {
		canary__unleash_model *m;
		canary__context ctx;

		snprintf(json, sizeof(json), "{\"features\": [{\"name\": \"f\","
			" \"enabled\": true, \"strategies\": [{\"name\": \"flexibleRollout\","
			" \"parameters\": {\"rollout\": \"%d\", \"stickiness\": \"userId\","
			" \"groupId\": \"checkout\"}}]}]}", pct);
		m = compile_with(json, NULL, NULL);
		memset(&ctx, 0, sizeof(ctx));
		for (i = 0; i < 3000; i++) {
			snprintf(id, sizeof(id), "user-%d", i);
			ctx.user_id = id;
			if (on(m, "f", &ctx) !=
			    (canary_bucket("checkout", id) < (uint32_t)pct * 100))
				fail_msg("%d%%, %s", pct, id);
		}
		canary__unleash_free(m);
	}
}

static void expect_error(const char *json, const char *want)
{
	canary__unleash_model *m = NULL;
	char err[CANARY__PERR_TEXT];
	canary__perror e;
	int rc = canary__unleash_compile(NULL, json, strlen(json), NULL, &m, &e);

	canary__perror_format(&e, err, sizeof(err));
	if (rc != CANARY_EPARSE || m || strcmp(err, want) != 0)
		fail_msg("%s\n  got %d \"%s\"\n want \"%s\"", json, rc, err, want);
}

static void test_validation_errors(void **state)
{
	(void)state;
	expect_error("{\"features\": [", "document: malformed JSON: unexpected "
		"end of the text at line 1, column 15");
	expect_error("[]", "document: must be a JSON object");
	expect_error("{}", "features: required");
	expect_error("{\"features\": {}}", "features: must be an array");
	expect_error("{\"features\": [{\"enabled\": true}]}",
		"features[0].name: required");
	expect_error("{\"features\": [{\"name\": \"a\"}, {\"name\": \"b\","
		" \"strategies\": {}}]}", "features[1].strategies: must be an array");
	expect_error("{\"features\": [{\"name\": \"a\", \"enabled\": 1}]}",
		"features[0].enabled: must be true or false");
	expect_error("{\"features\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}",
		"features[1].name: duplicate feature \"a\"");
	expect_error("{\"features\": [{\"name\": \"a\", \"strategies\": [{\"name\":"
		" \"default\", \"parameters\": []}]}]}",
		"features[0].strategies[0].parameters: must be an object");
	expect_error("{\"features\": [{\"name\": \"a\", \"variants\": [{\"name\": \"v\","
		" \"weight\": -1}]}]}",
		"features[0].variants[0].weight: must be an integer 0..1000000");
	expect_error("{\"features\": [{\"name\": \"a\", \"variants\": [{\"name\": \"v\","
		" \"payload\": {\"type\": \"json\", \"value\": {}}}]}]}",
		"features[0].variants[0].payload.value: must be a string");
	expect_error("{\"features\": [{\"name\": \"a\", \"dependencies\": [{}]}]}",
		"features[0].dependencies[0].feature: required");
	expect_error("{\"features\": [{\"name\": \"a\", \"strategies\": [{\"name\":"
		" \"default\", \"constraints\": [{\"contextName\": \"x\","
		" \"operator\": \"IN\", \"values\": [1]}]}]}]}",
		"features[0].strategies[0].constraints[0].values[0]: must be a string");
}

static void test_lenient_downgrades(void **state)
{
	const char *json = "{\"features\": [{\"name\": \"a\", \"enabled\": true,"
		" \"strategies\": [{\"name\": \"default\", \"constraints\": ["
		"  {\"contextName\": \"v\", \"operator\": \"SEMVER_GT\", \"value\": \"v1\"},"
		"  {\"contextName\": \"r\", \"operator\": \"REGEX\", \"value\": \"(\"}]},"
		"  {\"name\": \"flexibleRollout\", \"parameters\": {\"rollout\": \"lots\"}},"
		"  {\"name\": \"gradualRolloutUserId\", \"parameters\": {\"percentage\": \"70\"},"
		"   \"segments\": [99]}]}]}";
	canary__unleash_model *m = compile_with(json, NULL, NULL);
	canary__context ctx;
	const char *note;

	(void)state;
	assert_int_equal(canary__unleash_downgraded(m, &note), 4);
	assert_string_equal(note, "features[0].strategies[0].constraints[0].value: "
		"not a semantic version");
	memset(&ctx, 0, sizeof(ctx));
	ctx.user_id = "anyone";
	assert_false(on(m, "a", &ctx));
	canary__unleash_free(m);
}

static cJSON *parse(const char *json)
{
	cJSON *j = cJSON_Parse(json);

	assert_non_null(j);
	return j;
}

static void test_delta_events(void **state)
{
	cJSON *st = cJSON_CreateObject();
	cJSON *d1 = parse("{\"events\": [{\"eventId\": 1, \"type\": \"hydration\","
		" \"features\": [{\"name\": \"a\", \"enabled\": true},"
		"  {\"name\": \"b\", \"enabled\": true, \"strategies\": [{\"name\": \"default\","
		"   \"segments\": [1]}]}],"
		" \"segments\": [{\"id\": 1, \"constraints\": []}]}]}");
	cJSON *d2 = parse("{\"events\": [{\"type\": \"feature-removed\", \"featureName\": \"a\"},"
		" {\"type\": \"something-new\"},"
		" {\"type\": \"feature-updated\", \"feature\": {\"name\": \"c\", \"enabled\": true}},"
		" {\"type\": \"feature-updated\", \"feature\": {\"name\": \"c\", \"enabled\": false}},"
		" {\"type\": \"segment-removed\", \"segmentId\": 1}]}");
	cJSON *bad = parse("{\"events\": [{\"type\": \"feature-updated\"}]}");
	canary__unleash_model *m;
	canary__context ctx;
	canary__perror e;

	(void)state;
	memset(&ctx, 0, sizeof(ctx));
	assert_int_equal(canary__unleash_delta_apply(st, d1, &e), CANARY_OK);
	assert_int_equal(canary__unleash_delta_apply(st, d2, &e), CANARY_OK);
	assert_int_equal(canary__unleash_compile_tree(NULL, st, NULL, &m, &e),
		CANARY_OK);
	assert_int_equal(canary__unleash_feature_count(m), 2);
	assert_false(on(m, "a", &ctx));          /* removed */
	assert_false(on(m, "b", &ctx));          /* its segment is gone */
	assert_false(on(m, "c", &ctx));          /* the second update won */
	canary__unleash_free(m);
	assert_int_equal(canary__unleash_delta_apply(st, bad, &e),
		CANARY_EPARSE);
	assert_string_equal(e.field, "events[0]");
	assert_string_equal(e.message, "malformed feature-updated event");
	cJSON_Delete(st);
	cJSON_Delete(d1);
	cJSON_Delete(d2);
	cJSON_Delete(bad);
}

/* Fail every allocation in turn: a clean CANARY_ENOMEM, nothing leaked. */
static void test_allocation_failures(void **state)
{
	size_t n;

	(void)state;
	for (n = 1;; n++) {
		test_alloc t = { 0 };
		canary_allocator hooks = test_alloc_hooks(&t);
		canary__unleash_model *m = NULL;
		canary__perror e;
		int rc;

		t.fail_at = n;
		rc = canary__unleash_compile(&hooks, everything, strlen(everything),
			NULL, &m, &e);
		if (rc == CANARY_OK) {
			assert_true(n > 2);   /* the model, then arena chunks */
			canary__unleash_free(m);
			assert_int_equal(t.live, 0);
			break;
		}
		if (rc != CANARY_ENOMEM || m)
			fail_msg("allocation %zu failed: got %d \"%s\"", n, rc,
				e.message);
		assert_int_equal(t.live, 0);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_evaluation_allocates_nothing),
		cmocka_unit_test(test_strategies),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_flexible_equals_bucket),
		cmocka_unit_test(test_validation_errors),
		cmocka_unit_test(test_lenient_downgrades),
		cmocka_unit_test(test_delta_events),
		cmocka_unit_test(test_allocation_failures),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
