/*
 * test_targeting_api.c - targeting end to end against the real
 * canary-server: rules written through the admin API and canaryctl,
 * validated strictly (400 with the field's path), stored (both backends),
 * served in /v1/flags, guarded under a live rollout, evaluated by
 * libcanary with a context, and the stats counting only the units the
 * rules let in.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canary/canary.h"
#include "harness.h"

#define RULE_FW "{\"contextName\":\"firmware\",\"operator\":\"SEMVER_GTE\"," \
	"\"value\":\"2.3.0\"}"

/* The error of a refused write names `field` (a substring of it). */
static void expect_400(const char *method, const char *path,
	const char *body, const char *field)
{
	const cJSON *f;
	cJSON *doc;
	resp r;

	assert_int_equal(http(&it_server, method, path, ADMIN_TOKEN, body, NULL,
		&r), 0);
	doc = cJSON_Parse(r.body);
	f = cJSON_GetObjectItem(doc, "field");
	if (r.status != 400 || !cJSON_IsString(f) ||
	    !strstr(f->valuestring, field))
		fail_msg("%s %s: %ld %s (want 400 on %s)", method, body, r.status,
			r.body, field);
	cJSON_Delete(doc);
	resp_free(&r);
}

static void test_rules_validated(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":[{\"contextName\":"
		  "\"fw\",\"operator\":\"SEMVER_GTE\",\"value\":\"2.3\"}]}",
		  "constraints[0].value" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":[{\"contextName\":"
		  "\"m\",\"operator\":\"REGEX\",\"value\":\"(?=x)\"}]}",
		  "constraints[0].value" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":[{\"contextName\":"
		  "\"m\",\"operator\":\"LIKE\",\"values\":[\"a\"]}]}",
		  "constraints[0].operator" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":[{\"operator\":"
		  "\"IN\",\"values\":[\"a\"]}]}", "constraints[0].contextName" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":[{\"contextName\":"
		  "\"ip\",\"operator\":\"IN_CIDR\",\"values\":[\"10.0.0.0/33\"]}]}",
		  "constraints[0].values[0]" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"constraints\":{}}",
		  "constraints" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"stickiness\":7}", "stickiness" },
		{ "{\"key\":\"t\",\"rollout_bp\":1,\"segments\":[\"eu\"]}",
		  "segments" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
		expect_400("POST", "/v1/admin/flags", cases[i].body, cases[i].field);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags/t",
		ADMIN_TOKEN, NULL), 404);
	/* A patch is validated whole, too. */
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"p\",\"rollout_bp\":1}"), 201);
	expect_400("PATCH", "/v1/admin/flags/p", "{\"constraints\":[{"
		"\"contextName\":\"n\",\"operator\":\"NUM_GT\",\"value\":\"ten\"}]}",
		"constraints[0].value");
}

/* The rules through canaryctl, into the store, and out in /v1/flags. */
static void test_canaryctl_rules(void **state)
{
	char out[8192], server[80];
	const char *env[] = { server, "CANARY_ADMIN_TOKEN=" ADMIN_TOKEN, NULL };
	const char *create[] = { CANARYCTL_BIN, "flag", "create", "ota",
		"--rollout", "100", "--rule", "firmware SEMVER_GTE 2.3.0",
		"--rule", "region not IN/i us-1, us-2 ", "--stickiness", "device_id",
		NULL };
	const char *bad[] = { CANARYCTL_BIN, "flag", "set", "ota", "--rule",
		"firmware SEMVER_GTE 2.x", NULL };
	/* A list that names nothing is a slip, not a rule. */
	const char *empty[] = { CANARYCTL_BIN, "flag", "set", "ota", "--rule",
		"region NOT_IN , ", NULL };
	const char *clear[] = { CANARYCTL_BIN, "--json", "flag", "set", "ota",
		"--no-rules", NULL };
	const char *get[] = { CANARYCTL_BIN, "flag", "get", "ota", NULL };
	cJSON *doc;
	long status;

	(void)state;
	snprintf(server, sizeof(server), "CANARY_SERVER=%s", it_server.base);
	if (run_capture(create, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl flag create: %s", out);
	doc = http_json(&it_server, "GET", "/v1/flags", NULL, &status);
	assert_int_equal(status, 200);
	{
		char *text = cJSON_PrintUnformatted(doc);

		assert_non_null(strstr(text, "\"stickiness\":\"device_id\""));
		assert_non_null(strstr(text, "\"contextName\":\"firmware\","
			"\"operator\":\"SEMVER_GTE\",\"value\":\"2.3.0\""));
		assert_non_null(strstr(text, "\"values\":[\"us-1\",\"us-2\"]"));
		assert_non_null(strstr(text, "\"inverted\":true"));
		assert_non_null(strstr(text, "\"caseInsensitive\":true"));
		cJSON_free(text);
	}
	cJSON_Delete(doc);
	/* flag get shows them as --rule writes them. */
	if (run_capture(get, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl flag get: %s", out);
	assert_non_null(strstr(out, "stickiness  device_id\n"));
	assert_non_null(strstr(out, "rule        firmware SEMVER_GTE 2.3.0\n"));
	assert_non_null(strstr(out, "rule        region not IN/i us-1,us-2\n"));
	/* The server's message reaches the user; nothing changes. */
	assert_int_not_equal(run_capture(bad, env, out, sizeof(out)), 0);
	assert_int_not_equal(run_capture(empty, env, out, sizeof(out)), 0);
	/* A server restart reads the rules back from the store. */
	assert_int_equal(srv_restart(&it_server, NULL), 0);
	doc = http_json(&it_server, "GET", "/v1/admin/flags/ota", NULL, &status);
	assert_int_equal(status, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "flag"), "constraints")), 2);
	cJSON_Delete(doc);
	snprintf(server, sizeof(server), "CANARY_SERVER=%s", it_server.base);
	if (run_capture(clear, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl flag set --no-rules: %s", out);
	assert_null(strstr(out, "constraints"));
	assert_non_null(strstr(out, "device_id"));
}

/* A live rollout owns its flag's targeting: who is eligible and what is
 * bucketed change the arms' populations. */
static void test_rules_guarded_by_rollout(void **state)
{
	static const char *const edits[][2] = {
		{ "{\"constraints\":null}", "constraints" },
		{ "{\"constraints\":[{\"contextName\":\"firmware\","
		  "\"operator\":\"SEMVER_GTE\",\"value\":\"2.4.0\"}]}",
		  "constraints" },
		{ "{\"stickiness\":\"device_id\"}", "stickiness" },
	};
	size_t i;

	(void)state;
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"guarded\",\"rollout_bp\":0,"
		"\"constraints\":[" RULE_FW "]}"), 201);
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/rollouts",
		ADMIN_TOKEN, "{\"flag\":\"guarded\",\"interval\":\"1h\"}"), 201);
	for (i = 0; i < sizeof(edits) / sizeof(edits[0]); i++) {
		resp r;
		cJSON *doc;

		assert_int_equal(http(&it_server, "PATCH", "/v1/admin/flags/guarded",
			ADMIN_TOKEN, edits[i][0], NULL, &r), 0);
		doc = cJSON_Parse(r.body);
		assert_int_equal(r.status, 409);
		assert_string_equal(cJSON_GetObjectItem(doc, "field")->valuestring,
			edits[i][1]);
		cJSON_Delete(doc);
		resp_free(&r);
	}
	/* The same rules again change nothing; forced, the change is made. */
	assert_int_equal(http_status(&it_server, "PATCH",
		"/v1/admin/flags/guarded", ADMIN_TOKEN,
		"{\"constraints\":[" RULE_FW "]}"), 200);
	assert_int_equal(http_status(&it_server, "PATCH",
		"/v1/admin/flags/guarded", ADMIN_TOKEN,
		"{\"stickiness\":\"device_id\",\"force\":true}"), 200);
}

/* libcanary evaluates the served rules with a context; the units they
 * exclude never reach the canary, and the stats (what the judge reads)
 * count only the others. */
static void test_sdk_end_to_end(void **state)
{
	canary_attribute attr = { "firmware", NULL };
	canary_context ctx = CANARY_CONTEXT_INIT;
	uint64_t eligible = 0, excluded = 0;
	canary_options o;
	canary_client *c;
	char unit[32];
	cJSON *doc;
	long status;
	double arms;
	int i;

	(void)state;
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"e2e\",\"rollout_bp\":5000,"
		"\"constraints\":[" RULE_FW "]}"), 201);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = it_server.base;
	o.sdk_key = SDK_KEY;
	o.flush_interval_ms = 3600000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	ctx.unit = unit;
	ctx.attrs = &attr;
	ctx.attr_count = 1;
	for (i = 0; i < 300; i++) {
		canary_details d = CANARY_DETAILS_INIT;
		bool on;

		snprintf(unit, sizeof(unit), "device-%d", i);
		attr.value = i % 3 == 0 ? "2.2.9" : "2.3.1";
		on = canary_evaluate_ctx(c, "e2e", &ctx, 0, &d);
		if (i % 3 == 0) {
			assert_false(on);
			assert_int_equal(d.reason, CANARY_REASON_INELIGIBLE);
			excluded++;
		} else {
			assert_int_equal(d.reason, CANARY_REASON_SPLIT);
			eligible++;
		}
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	canary_client_free(c);
	doc = http_json(&it_server, "GET", "/v1/admin/flags/e2e/stats", NULL,
		&status);
	assert_int_equal(status, 200);
	arms = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"arms"), "stable"), "exposures")->valuedouble +
		cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"arms"), "canary"), "exposures")->valuedouble;
	assert_true(arms == (double)eligible);
	assert_true(excluded == 100);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules_validated),
		cmocka_unit_test(test_canaryctl_rules),
		cmocka_unit_test(test_rules_guarded_by_rollout),
		cmocka_unit_test(test_sdk_end_to_end),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
