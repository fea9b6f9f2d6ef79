/*
 * test_unleash_variant.c - canary_variant_ctx(), the public variant call:
 * Unleash's getVariant through a client in Unleash mode (names, payloads
 * copied into the caller's buffer, truncation at a UTF-8 boundary, the
 * "disabled" variant), the arm's variant with canary-server's protocol,
 * and bad input (NULL arguments, unknown flags, no config yet).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"

/* "ab" and 100 two-byte characters: 202 bytes, over the name's 127. */
static char long_name[256];

static char features[2048];

static void make_features(void)
{
	size_t i, n = 2;

	memcpy(long_name, "ab", 2);
	for (i = 0; i < 100; i++) {
		long_name[n++] = (char)0xC3;
		long_name[n++] = (char)0xA9;
	}
	long_name[n] = '\0';
	snprintf(features, sizeof(features),
		"{\"version\": 2, \"features\": ["
		" {\"name\": \"colors\", \"enabled\": true,"
		"  \"strategies\": [{\"name\": \"default\"}],"
		"  \"variants\": [{\"name\": \"blue\", \"weight\": 1000,"
		"   \"stickiness\": \"default\", \"payload\": {\"type\": \"json\","
		"   \"value\": \"{\\\"hue\\\": 240}\"}}]},"
		" {\"name\": \"long\", \"enabled\": true, \"strategies\": [],"
		"  \"variants\": [{\"name\": \"%s\", \"weight\": 1000}]},"
		" {\"name\": \"off\", \"enabled\": false,"
		"  \"strategies\": [{\"name\": \"default\"}],"
		"  \"variants\": [{\"name\": \"x\", \"weight\": 1000}]},"
		" {\"name\": \"plain\", \"enabled\": true,"
		"  \"strategies\": [{\"name\": \"default\"}]},"
		" {\"name\": \"vip\", \"enabled\": true, \"strategies\": ["
		"  {\"name\": \"userWithId\", \"parameters\": {\"userIds\": \"u1\"}}],"
		"  \"variants\": [{\"name\": \"gold\", \"weight\": 1000}]}"
		"]}", long_name);
}

static canary_client *client_of(canary_source source, const char *doc)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = source;
	o.log_stderr = CANARY_LOG_OFF;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	if (doc)
		assert_int_equal(canary_client_set_config_json(c, doc,
			strlen(doc)), CANARY_OK);
	return c;
}

static bool variant_of(canary_client *c, const char *flag, const char *unit,
	char *buf, size_t size, canary_variant *v)
{
	canary_context ctx = CANARY_CONTEXT_INIT;

	ctx.unit = unit;
	assert_int_equal(canary_variant_init(v, CANARY_VARIANT_VERSION),
		CANARY_OK);
	v->payload_buf = buf;
	v->payload_buf_size = size;
	return canary_variant_ctx(c, flag, &ctx, 0, v);
}

static void test_unleash_variants(void **state)
{
	canary_client *c;
	canary_variant v;
	char buf[64];

	(void)state;
	make_features();
	c = client_of(CANARY_SOURCE_UNLEASH, features);
	assert_true(variant_of(c, "colors", "u1", buf, sizeof(buf), &v));
	assert_string_equal(v.name, "blue");
	assert_true(v.enabled && v.feature_enabled && v.has_payload);
	assert_string_equal(v.payload_type, "json");
	assert_string_equal(buf, "{\"hue\": 240}");
	assert_int_equal(v.payload_len, 12);
	assert_int_equal(v.truncated, 0);
	assert_int_equal(v.error_code, CANARY_EVAL_OK);
	assert_int_equal(v.rule, 0);
	assert_int_equal(v.config_version, canary_client_config_version(c));
	/* A feature without variants: on, but the "disabled" variant. */
	assert_false(variant_of(c, "plain", "u1", buf, sizeof(buf), &v));
	assert_string_equal(v.name, "disabled");
	assert_true(v.feature_enabled && !v.has_payload);
	assert_string_equal(v.payload_type, "");
	assert_string_equal(buf, "");
	/* Off: the feature, then a context its strategy leaves out. */
	assert_false(variant_of(c, "off", "u1", buf, sizeof(buf), &v));
	assert_string_equal(v.name, "disabled");
	assert_false(v.feature_enabled);
	assert_int_equal(v.reason, CANARY_REASON_DISABLED);
	assert_true(variant_of(c, "vip", "u1", NULL, 0, &v));
	assert_string_equal(v.name, "gold");
	assert_false(variant_of(c, "vip", "u2", NULL, 0, &v));
	assert_false(v.feature_enabled);
	assert_string_equal(v.name, "disabled");
	canary_client_free(c);
}

/* What does not fit is cut, at a character boundary, and said so. */
static void test_truncation(void **state)
{
	canary_client *c;
	canary_variant v;
	char small[5];

	(void)state;
	make_features();
	c = client_of(CANARY_SOURCE_UNLEASH, features);
	assert_true(variant_of(c, "colors", "u1", small, sizeof(small), &v));
	assert_string_equal(small, "{\"hu");
	assert_int_equal(v.payload_len, 12);
	assert_int_equal(v.truncated, CANARY_VARIANT_PAYLOAD_TRUNCATED);
	/* No buffer: the length, and nothing copied. */
	assert_true(variant_of(c, "colors", "u1", NULL, 0, &v));
	assert_int_equal(v.payload_len, 12);
	assert_true(v.has_payload);
	assert_int_equal(v.truncated, CANARY_VARIANT_PAYLOAD_TRUNCATED);
	/* 202 bytes of name: 126 fit (127 would split a character). */
	assert_true(variant_of(c, "long", "u1", NULL, 0, &v));
	assert_int_equal(strlen(v.name), 126);
	assert_memory_equal(v.name, long_name, 126);
	assert_int_equal(v.truncated, CANARY_VARIANT_NAME_TRUNCATED);
	canary_client_free(c);
}

static void test_bad_input(void **state)
{
	canary_context ctx = CANARY_CONTEXT_INIT;
	canary_client *c, *empty;
	canary_variant v = CANARY_VARIANT_INIT;
	char name[2048];

	(void)state;
	make_features();
	c = client_of(CANARY_SOURCE_UNLEASH, features);
	ctx.unit = "u1";
	assert_false(canary_variant_ctx(NULL, "colors", &ctx, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_INVALID_ARGUMENT);
	assert_int_equal(v.reason, CANARY_REASON_ERROR);
	assert_string_equal(v.name, "disabled");
	assert_non_null(strstr(canary_error_last(), "client is NULL"));
	assert_false(canary_variant_ctx(c, NULL, &ctx, 0, &v));
	assert_non_null(strstr(canary_error_last(), "flag is NULL"));
	assert_false(canary_variant_ctx(c, "colors", NULL, 0, &v));
	assert_non_null(strstr(canary_error_last(), "ctx is NULL"));
	assert_false(canary_variant_ctx(c, "colors", &ctx, 0, NULL));
	assert_non_null(strstr(canary_error_last(), "out is NULL"));
	/* Unknown and over-long keys: not found. */
	assert_false(canary_variant_ctx(c, "nope", &ctx, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_FLAG_NOT_FOUND);
	memset(name, 'k', sizeof(name) - 1);
	name[sizeof(name) - 1] = '\0';
	assert_false(canary_variant_ctx(c, name, &ctx, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_FLAG_NOT_FOUND);
	/* A zeroed context (version 0) and no unit: still an answer. */
	memset(&ctx, 0, sizeof(ctx));
	assert_false(canary_variant_ctx(c, "vip", &ctx, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_OK);
	assert_true(canary_variant_ctx(c, "colors", &ctx, 0, &v));
	/* No config yet. */
	empty = client_of(CANARY_SOURCE_UNLEASH, NULL);
	assert_false(canary_variant_ctx(empty, "colors", &ctx, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_NOT_READY);
	/* Versions this library does not know. */
	assert_int_equal(canary_variant_init(&v, 2), CANARY_EINVAL);
	assert_int_equal(canary_variant_init(NULL, 1), CANARY_EINVAL);
	canary_client_free(empty);
	canary_client_free(c);
}

/* canary-server's protocol: the arm's variant, as canary_details says. */
static void test_libcanary_arms(void **state)
{
	static const char config[] =
		"{\"version\": 3, \"flags\": ["
		" {\"key\": \"all\", \"rollout_bp\": 10000,"
		"  \"variants\": {\"stable\": \"v1\", \"canary\": \"v2\"}},"
		" {\"key\": \"none\", \"rollout_bp\": 0,"
		"  \"variants\": {\"stable\": \"v1\", \"canary\": \"v2\"}},"
		" {\"key\": \"bare\", \"rollout_bp\": 10000}]}";
	canary_client *c = client_of(CANARY_SOURCE_LIBCANARY, config);
	canary_details d = CANARY_DETAILS_INIT;
	canary_variant v;
	char buf[16] = "x";

	(void)state;
	assert_true(variant_of(c, "all", "u1", buf, sizeof(buf), &v));
	assert_string_equal(v.name, "v2");
	assert_true(v.feature_enabled && !v.has_payload);
	assert_string_equal(buf, "");
	assert_int_equal(v.config_version, 3);
	assert_true(variant_of(c, "none", "u1", NULL, 0, &v));
	assert_string_equal(v.name, "v1");
	assert_false(v.feature_enabled);
	assert_false(canary_evaluate(c, "none", "u1", &d));
	assert_string_equal(d.variant, v.name);
	/* An arm without a variant. */
	assert_false(variant_of(c, "bare", "u1", NULL, 0, &v));
	assert_string_equal(v.name, "disabled");
	assert_true(v.feature_enabled);
	assert_false(variant_of(c, "nope", "u1", NULL, 0, &v));
	assert_int_equal(v.error_code, CANARY_EVAL_FLAG_NOT_FOUND);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unleash_variants),
		cmocka_unit_test(test_truncation),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_libcanary_arms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
