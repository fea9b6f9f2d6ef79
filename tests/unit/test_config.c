/*
 * test_config.c - the config parser and validator: what is accepted, the
 * message for each thing that is not, and that a bad config never replaces
 * a good one.
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
#include "config.h"

/* Parse; `err` (CANARY__PERR_TEXT bytes) gets "field: message". */
static int parse(const char *json, canary__config **out, char *err)
{
	canary__perror e;
	int rc = canary__config_parse(canary__alloc_default(), json,
		strlen(json), out, &e);

	if (rc == CANARY_OK)
		err[0] = '\0';
	else
		canary__perror_format(&e, err, CANARY__PERR_TEXT);
	return rc;
}

static void test_full_flag(void **state)
{
	const char *json =
		"{\"version\": 12, \"unknown_top\": [1,2], \"flags\": ["
		"{\"key\": \"b\", \"rollout_bp\": 0},"
		"{\"key\": \"a\", \"salt\": \"s1\", \"rollout_bp\": 10000,"
		" \"enabled\": false, \"allow\": [\"u2\", \"u1\", \"u2\"],"
		" \"deny\": [\"u3\"], \"variants\": {\"stable\": \"v1\","
		" \"canary\": \"v2\", \"other\": 1}, \"state\": \"rolling\","
		" \"future_field\": {\"x\": true}}]}";
	canary__config *c;
	const canary__flag *a, *b;
	char err[CANARY__PERR_TEXT];

	(void)state;
	assert_int_equal(parse(json, &c, err), CANARY_OK);
	assert_int_equal(c->version, 12);
	assert_int_equal(c->count, 2);
	a = canary__config_find(c, "a");
	b = canary__config_find(c, "b");
	assert_non_null(a);
	assert_non_null(b);
	assert_string_equal(a->salt, "s1");
	assert_int_equal(a->rollout_bp, 10000);
	assert_false(a->enabled);
	assert_int_equal(a->allow.count, 2); /* de-duplicated */
	assert_true(canary__strlist_contains(&a->allow, "u1"));
	assert_true(canary__strlist_contains(&a->allow, "u2"));
	assert_false(canary__strlist_contains(&a->allow, "u3"));
	assert_true(canary__strlist_contains(&a->deny, "u3"));
	assert_string_equal(a->variant_stable, "v1");
	assert_string_equal(a->variant_canary, "v2");
	assert_string_equal(a->state, "rolling");
	/* Defaults: salt = key, enabled, empty strings. */
	assert_string_equal(b->salt, "b");
	assert_true(b->enabled);
	assert_string_equal(b->variant_canary, "");
	assert_string_equal(b->state, "");
	canary__config_free(canary__alloc_default(), c);
}

static void test_round_trip(void **state)
{
	const char *json = "{\"version\": 3, \"flags\": [{\"key\": \"k\","
		" \"rollout_bp\": 250, \"allow\": [\"x\"], \"variants\":"
		" {\"canary\": \"new\"}}]}";
	canary__config *c1, *c2;
	char err[CANARY__PERR_TEXT], *text;
	cJSON *tree;

	(void)state;
	assert_int_equal(parse(json, &c1, err), CANARY_OK);
	tree = canary__config_to_json(c1);
	assert_non_null(tree);
	text = cJSON_PrintUnformatted(tree);
	assert_int_equal(parse(text, &c2, err), CANARY_OK);
	assert_int_equal(c2->version, 3);
	assert_int_equal(c2->flags[0].rollout_bp, 250);
	assert_string_equal(c2->flags[0].variant_canary, "new");
	assert_true(canary__strlist_contains(&c2->flags[0].allow, "x"));
	cJSON_free(text);
	cJSON_Delete(tree);
	canary__config_free(canary__alloc_default(), c1);
	canary__config_free(canary__alloc_default(), c2);

	/* The largest version survives encoding exactly (found by fuzz_config:
	 * cJSON's %1.15g used to round it down). */
	assert_int_equal(parse("{\"version\": 9007199254740991, \"flags\": []}",
		&c1, err), CANARY_OK);
	tree = canary__config_to_json(c1);
	text = cJSON_PrintUnformatted(tree);
	assert_non_null(strstr(text, "9007199254740991"));
	assert_int_equal(parse(text, &c2, err), CANARY_OK);
	assert_int_equal(c2->version, 9007199254740991ull);
	cJSON_free(text);
	cJSON_Delete(tree);
	canary__config_free(canary__alloc_default(), c1);
	canary__config_free(canary__alloc_default(), c2);
}

struct bad_case {
	const char *json;
	const char *message;
};

static void test_bad_configs_name_the_field(void **state)
{
	static const struct bad_case cases[] = {
		{ "", "config: empty document" },
		{ "{\"version\": 1, \"flags\": [", "config: malformed JSON" },
		{ "[]", "config: must be a JSON object" },
		{ "{\"version\": 1, \"flags\": []} x", "config: trailing data after the JSON value" },
		{ "{\"flags\": []}", "version: required" },
		{ "{\"version\": -1, \"flags\": []}", "version: must be an integer 0..9007199254740991" },
		{ "{\"version\": 1.5, \"flags\": []}", "version: must be an integer 0..9007199254740991" },
		{ "{\"version\": \"1\", \"flags\": []}", "version: must be an integer 0..9007199254740991" },
		{ "{\"version\": 1}", "flags: required" },
		{ "{\"version\": 1, \"flags\": {}}", "flags: must be an array" },
		{ "{\"version\": 1, \"flags\": [1]}", "flags[0]: must be an object" },
		{ "{\"version\": 1, \"flags\": [{\"rollout_bp\": 1}]}", "flags[0].key: required" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"\", \"rollout_bp\": 1}]}",
		  "flags[0].key: required" },
		{ "{\"version\": 1, \"flags\": [{\"key\": 7, \"rollout_bp\": 1}]}",
		  "flags[0].key: must be a string" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1},"
		  "{\"key\": \"b\", \"rollout_bp\": 1},{\"key\": \"c\", \"rollout_bp\": 1},"
		  "{\"key\": \"d\", \"rollout_bp\": 10001}]}",
		  "flags[3].rollout_bp: must be an integer 0..10000" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\"}]}",
		  "flags[0].rollout_bp: required" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1e400}]}",
		  "flags[0].rollout_bp: must be an integer 0..10000" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"enabled\": 1}]}", "flags[0].enabled: must be true or false" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"allow\": \"u\"}]}", "flags[0].allow: must be an array" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"deny\": [\"ok\", 3]}]}", "flags[0].deny[1]: must be a string" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"deny\": [\"\"]}]}", "flags[0].deny[0]: must not be empty" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"variants\": []}]}", "flags[0].variants: must be an object" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"variants\": {\"canary\": false}}]}",
		  "flags[0].variants.canary: must be a string" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1},"
		  " {\"key\": \"a\", \"rollout_bp\": 2}]}", "flags: duplicate key \"a\"" },
		/* cJSON would cut "a\u0000b" to "a": a second "a". */
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1},"
		  " {\"key\": \"a\\u0000b\", \"rollout_bp\": 2}]}",
		  "flags[1].key: must not contain \\u0000" },
		{ "{\"version\": 1, \"flags\": [{\"key\": \"a\", \"rollout_bp\": 1,"
		  " \"allow\": [\"\\u0000\"]}]}",
		  "flags[0].allow[0]: must not contain \\u0000" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		canary__config *c = (canary__config *)1;
		char err[CANARY__PERR_TEXT] = "";

		if (parse(cases[i].json, &c, err) != CANARY_EPARSE ||
		    strcmp(err, cases[i].message) != 0)
			fail_msg("case %zu: %s\n  got \"%s\", want \"%s\"", i,
				cases[i].json, err, cases[i].message);
		assert_null(c);
	}
}

static void test_limits(void **state)
{
	char key[CANARY__MAX_KEY_LEN + 2];
	char json[1024];
	canary__config *c;
	char err[CANARY__PERR_TEXT];
	canary__perror e;

	(void)state;
	memset(key, 'k', sizeof(key) - 1);
	key[sizeof(key) - 1] = '\0';
	snprintf(json, sizeof(json),
		"{\"version\": 1, \"flags\": [{\"key\": \"%s\", \"rollout_bp\": 1}]}",
		key);
	assert_int_equal(parse(json, &c, err), CANARY_EPARSE);
	assert_string_equal(err, "flags[0].key: longer than 256 bytes");
	memset(key, 'v', CANARY_VARIANT_MAX);
	key[CANARY_VARIANT_MAX] = '\0';
	snprintf(json, sizeof(json), "{\"version\": 1, \"flags\": [{\"key\": \"k\","
		" \"rollout_bp\": 1, \"variants\": {\"stable\": \"%s\"}}]}", key);
	assert_int_equal(parse(json, &c, err), CANARY_EPARSE);
	assert_string_equal(err, "flags[0].variants.stable: longer than 127 bytes");
	key[CANARY_VARIANT_MAX - 1] = '\0'; /* exactly the limit: accepted */
	snprintf(json, sizeof(json), "{\"version\": 1, \"flags\": [{\"key\": \"k\","
		" \"rollout_bp\": 1, \"variants\": {\"stable\": \"%s\"}}]}", key);
	assert_int_equal(parse(json, &c, err), CANARY_OK);
	canary__config_free(canary__alloc_default(), c);
	assert_int_equal(canary__config_parse(canary__alloc_default(), json,
		CANARY__MAX_CONFIG_BYTES + 1u, &c, &e), CANARY_EPARSE);
	assert_string_equal(e.field, "config");
	assert_string_equal(e.message, "larger than 67108864 bytes");
}

/* A bad config leaves the good one in force, whole; an older version is
 * refused; the detail reaches canary_error_last(). */
static void test_client_keeps_previous_config(void **state)
{
	const char *good = "{\"version\": 5, \"flags\": [{\"key\": \"f\", \"rollout_bp\": 10000}]}";
	const char *bad = "{\"version\": 6, \"flags\": [{\"key\": \"f\", \"rollout_bp\": 10000},"
		" {\"key\": \"g\", \"rollout_bp\": 20000}]}";
	const char *older = "{\"version\": 4, \"flags\": []}";
	canary_client *c;
	canary_details d = CANARY_DETAILS_INIT;

	(void)state;
	assert_int_equal(canary_client_new(&c, NULL), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, good, strlen(good)), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, bad, strlen(bad)), CANARY_EPARSE);
	assert_string_equal(canary_error_last(),
		"flags[1].rollout_bp: must be an integer 0..10000");
	assert_int_equal(canary_client_config_version(c), 5);
	assert_true(canary_evaluate(c, "f", "u", &d));
	assert_int_equal(d.config_version, 5);
	assert_false(canary_evaluate(c, "g", "u", &d));
	assert_int_equal(d.error_code, CANARY_EVAL_FLAG_NOT_FOUND);
	assert_int_equal(canary_client_set_config_json(c, older, strlen(older)), CANARY_ESTATE);
	assert_non_null(strstr(canary_error_last(), "older than the version in force"));
	assert_true(canary_enabled(c, "f", "u"));
	/* Not NUL-terminated input: only len bytes are read. */
	assert_int_equal(canary_client_set_config_json(c, good, 10), CANARY_EPARSE);
	assert_int_equal(canary_client_set_config_json(NULL, good, 1), CANARY_EINVAL);
	assert_int_equal(canary_client_set_config_json(c, NULL, 1), CANARY_EINVAL);
	canary_client_free(c);
}

static void test_bootstrap_file(void **state)
{
	canary_options opts;
	canary_client *c;

	(void)state;
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.bootstrap_path = CANARY_TEST_DATA "/flags_small.json";
	assert_int_equal(canary_client_new(&c, &opts), CANARY_OK);
	assert_int_equal(canary_client_config_version(c), 7);
	assert_true(canary_enabled(c, "all-in", "anyone"));
	canary_client_free(c);

	opts.bootstrap_path = CANARY_TEST_DATA "/flags_bad.json";
	assert_int_equal(canary_client_new(&c, &opts), CANARY_EPARSE);
	assert_null(c);
	assert_non_null(strstr(canary_error_last(), "flags_bad.json: flags[1].rollout_bp"));

	opts.bootstrap_path = CANARY_TEST_DATA "/does-not-exist.json";
	assert_int_equal(canary_client_new(&c, &opts), CANARY_EINVAL);
	assert_non_null(strstr(canary_error_last(), "does-not-exist.json"));
}

static void test_options(void **state)
{
	canary_options opts;
	canary_client *c = (canary_client *)1;

	(void)state;
	assert_int_equal(canary_options_init(NULL, CANARY_OPTIONS_VERSION), CANARY_EINVAL);
	assert_int_equal(canary_options_init(&opts, 999), CANARY_EINVAL);
	assert_int_equal(canary_client_new(NULL, NULL), CANARY_EINVAL);
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.version = 0;
	assert_int_equal(canary_client_new(&c, &opts), CANARY_EINVAL);
	assert_null(c);
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.allocator.malloc_fn = NULL;
	opts.allocator.free_fn = (void (*)(void *, void *))1;
	assert_int_equal(canary_client_new(&c, &opts), CANARY_EINVAL);
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.stale_policy = (canary_stale_policy)7;
	assert_int_equal(canary_client_new(&c, &opts), CANARY_EINVAL);
	assert_string_equal(canary_strerror(CANARY_EPARSE), "invalid config");
	assert_string_equal(canary_strerror(12345), "unknown error");
	assert_string_equal(canary_version(), CANARY_VERSION_STRING);
	assert_true(CANARY_VERSION_AT_LEAST(0, 0, 1));
	assert_false(CANARY_VERSION_AT_LEAST(99, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_full_flag),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_bad_configs_name_the_field),
		cmocka_unit_test(test_limits),
		cmocka_unit_test(test_client_keeps_previous_config),
		cmocka_unit_test(test_bootstrap_file),
		cmocka_unit_test(test_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
