/*
 * test_rollout_spec.c - rollout specs (server-stub/rollout/rollout.c): the
 * state machine's options and their defaults, what a request may not say,
 * and the stored-spec migration (a spec stored before those options, with
 * the old PASS margin of 2, still loads).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <string.h>

#include "rollout/rollout.h"

static int parse(const char *body, cs_rollout_spec *s, char *why,
	size_t len)
{
	char flag[CANARY__MAX_KEY_LEN + 1];
	canary__perror e;
	int rc = cs_rollout_parse(body, strlen(body), flag, s, &e);

	canary__perror_format(&e, why, len);
	return rc;
}

static void test_defaults_derive(void **state)
{
	cs_rollout_spec s;
	char why[256];

	(void)state;
	assert_int_equal(parse("{\"flag\":\"f\"}", &s, why, sizeof(why)),
		CANARY_OK);
	assert_true(s.sustain_ms == 2 * 60000 && s.grace_ms == 3 * 60000);
	assert_true(s.max_wait_ms == 8 * 3600000ll && s.bake_ms == 0);
	assert_int_equal(s.on_stall, CJ_STALL_ROLLBACK);
	assert_true(s.gates.recent_alpha == 1e-5);
	/* Derived from the interval and max_step given. */
	assert_int_equal(parse("{\"flag\":\"f\",\"interval\":\"10s\","
		"\"max_step\":\"10m\"}", &s, why, sizeof(why)), CANARY_OK);
	assert_true(s.sustain_ms == 20000 && s.grace_ms == 30000);
	assert_true(s.max_wait_ms == 80 * 60000);
	/* Capped at the longest duration a spec holds. */
	assert_int_equal(parse("{\"flag\":\"f\",\"max_step\":\"31d\"}", &s,
		why, sizeof(why)), CANARY_EPARSE);
	assert_int_equal(parse("{\"flag\":\"f\",\"max_step\":\"744h\"}", &s,
		why, sizeof(why)), CANARY_OK);
	assert_true(s.max_wait_ms == CS_ROLLOUT_MAX_DURATION_MS);
}

static void test_options(void **state)
{
	cs_rollout_spec s, back;
	canary__perror e;
	cJSON *json;
	char why[256], *text;

	(void)state;
	assert_int_equal(parse("{\"flag\":\"f\",\"sustain\":\"0s\","
		"\"grace\":\"90s\",\"on_stall\":\"pause\",\"bake\":\"30m\","
		"\"max_wait\":\"2h\",\"widen_undecided\":5,"
		"\"gates\":{\"recent_alpha\":0.0001}}", &s,
		why, sizeof(why)), CANARY_OK);
	assert_int_equal(s.widen_undecided_bp, 500);
	assert_true(s.sustain_ms == 0 && s.grace_ms == 90000);
	assert_int_equal(s.on_stall, CJ_STALL_PAUSE);
	assert_true(s.bake_ms == 1800000 && s.max_wait_ms == 7200000);
	assert_true(s.gates.recent_alpha == 0.0001);
	/* Written out whole, read back the same. */
	json = cs_rollout_spec_to_json(&s);
	text = cJSON_PrintUnformatted(json);
	assert_non_null(strstr(text, "\"sustain\":\"0ms\",\"grace\":\"90000ms\","
		"\"on_stall\":\"pause\",\"bake\":\"1800000ms\","
		"\"max_wait\":\"7200000ms\""));
	assert_non_null(strstr(text, "\"widen_undecided\":5"));
	assert_int_equal(cs_rollout_parse(text, strlen(text), NULL, &back, &e),
		CANARY_OK);
	assert_memory_equal(&back, &s, sizeof(s));
	cJSON_free(text);
	cJSON_Delete(json);
}

#define WU_RULE "widen_undecided: must be a percent 0.01..50 in steps " \
	"of 0.01, or 0 (off)"

static void test_refused(void **state)
{
	static const struct { const char *body, *want; } cases[] = {
		{ "{\"flag\":\"f\",\"on_stall\":\"ignore\"}", "on_stall: must be "
		  "\"rollback\" or \"pause\" (wait for a person)" },
		{ "{\"flag\":\"f\",\"grace\":3}", "grace: must be a duration like "
		  "\"500ms\", \"2s\", \"5m\" or \"1h\" (at most 31 days)" },
		{ "{\"flag\":\"f\",\"max_step\":\"1h\",\"max_wait\":\"30m\"}",
		  "max_wait: must be at least max_step" },
		{ "{\"flag\":\"f\",\"gates\":{\"err_pass_ratio\":2}}",
		  "gates.err_pass_ratio: must be > 1 and at most err_ratio (one "
		  "indifference zone)" },
		{ "{\"flag\":\"f\",\"gates\":{\"recent_alpha\":0.01}}",
		  "gates.recent_alpha: must be in (0, alpha]" },
		{ "{\"flag\":\"f\",\"widen_undecided\":\"5%\"}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":51}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":0.001}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":-1}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":null}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":true}", WU_RULE },
		{ "{\"flag\":\"f\",\"widen_undecided\":1e400}", WU_RULE },
		{ "{\"flag\":\"f\",\"bake\":\"soon\"}", "bake: must be a duration "
		  "like \"500ms\", \"2s\", \"5m\" or \"1h\" (at most 31 days)" },
	};
	cs_rollout_spec s;
	char why[256];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(parse(cases[i].body, &s, why, sizeof(why)),
			CANARY_EPARSE);
		assert_string_equal(why, cases[i].want);
	}
}

/* Exactly what a server before the state machine's options stored. */
static void test_stored_spec_migration(void **state)
{
	static const char old[] = "{\"steps\":[1,5,25,50,100],"
		"\"min_soak\":\"300000ms\",\"max_step\":\"3600000ms\","
		"\"interval\":\"60000ms\",\"on_fail\":\"rollback\",\"gates\":{"
		"\"alpha\":0.002,\"pass_alpha\":0.05,\"err_ratio\":1.5,"
		"\"err_abs\":0.0005,\"err_pass_ratio\":2,"
		"\"err_critical_ratio\":5,\"err_critical_rate\":0,"
		"\"sparse_min_errors\":3,\"lat_floor_ms\":5,"
		"\"lat_critical_ratio\":2,\"min_exposures\":1000,"
		"\"min_latency\":500,\"srm_alpha\":0.001,"
		"\"lat_ratio\":[1.2,1.2,1.2]}}";
	cs_rollout_spec s, fresh;
	canary__perror e;
	char why[256];

	(void)state;
	assert_int_equal(cs_rollout_parse(old, strlen(old), NULL, &s, &e),
		CANARY_OK);
	assert_true(s.gates.err_pass_ratio == 1.5);
	assert_int_equal(parse("{\"flag\":\"f\"}", &fresh, why, sizeof(why)),
		CANARY_OK);
	/* A stored rollout keeps the gates it was started with: p99's margin
	 * was 1.2 then (1.5 now), a valid, stricter choice. */
	assert_true(s.gates.lat_ratio[2] == 1.2);
	fresh.gates.lat_ratio[2] = 1.2;
	assert_memory_equal(&s, &fresh, sizeof(s));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults_derive),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_stored_spec_migration),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
