/*
 * test_api_structs.c - the public structs that can grow: the static
 * initialisers equal the init functions, bad versions are refused, and
 * libcanary never writes a struct's version (nor, for an output struct,
 * anything its version does not have).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "canary/canary.h"

static const char *const config_json =
	"{\"version\": 3, \"flags\": [{\"key\": \"f\", \"rollout_bp\": 10000,"
	" \"variants\": {\"stable\": \"a\", \"canary\": \"b\"}}]}";

/* Objects of static storage have zero padding (C11 6.7.9), and the init
 * functions memset: the two compare byte for byte. */
static const canary_options options_init_macro = CANARY_OPTIONS_INIT;
static const canary_details details_init_macro = CANARY_DETAILS_INIT;
static const canary_event_stats stats_init_macro = CANARY_EVENT_STATS_INIT;
static const canary_variant variant_init_macro = CANARY_VARIANT_INIT;

static void test_options_init_macro(void **state)
{
	canary_options o;

	(void)state;
	memset(&o, 0xa5, sizeof(o));
	assert_int_equal(canary_options_init(&o, CANARY_OPTIONS_VERSION),
		CANARY_OK);
	assert_memory_equal(&o, &options_init_macro, sizeof(o));
	assert_int_equal(options_init_macro.log_level, CANARY_LOG_INFO);
}

static void test_details_init(void **state)
{
	canary_details d;

	(void)state;
	memset(&d, 0xa5, sizeof(d));
	assert_int_equal(canary_details_init(&d, CANARY_DETAILS_VERSION),
		CANARY_OK);
	assert_memory_equal(&d, &details_init_macro, sizeof(d));
	assert_int_equal(canary_details_init(&d, CANARY_DETAILS_VERSION + 1),
		CANARY_EINVAL);
	assert_int_equal(canary_details_init(&d, 0), CANARY_EINVAL);
	assert_int_equal(canary_details_init(NULL, CANARY_DETAILS_VERSION),
		CANARY_EINVAL);
}

static void test_variant_init(void **state)
{
	canary_variant v;

	(void)state;
	memset(&v, 0xa5, sizeof(v));
	assert_int_equal(canary_variant_init(&v, CANARY_VARIANT_VERSION),
		CANARY_OK);
	assert_memory_equal(&v, &variant_init_macro, sizeof(v));
	assert_string_equal(v.name, "disabled");
	assert_int_equal(v.rule, -1);
	assert_int_equal(canary_variant_init(&v, CANARY_VARIANT_VERSION + 1),
		CANARY_EINVAL);
	assert_int_equal(canary_variant_init(NULL, CANARY_VARIANT_VERSION),
		CANARY_EINVAL);
}

static void test_stats_init(void **state)
{
	canary_event_stats st;

	(void)state;
	memset(&st, 0xa5, sizeof(st));
	assert_int_equal(canary_event_stats_init(&st,
		CANARY_EVENT_STATS_VERSION), CANARY_OK);
	assert_memory_equal(&st, &stats_init_macro, sizeof(st));
	assert_int_equal(canary_event_stats_init(&st, 99), CANARY_EINVAL);
	assert_int_equal(canary_event_stats_init(NULL, 1), CANARY_EINVAL);
}

static canary_client *new_client(void)
{
	canary_options opts = CANARY_OPTIONS_INIT;
	canary_client *c;

	assert_int_equal(canary_client_new(&c, &opts), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, config_json,
		strlen(config_json)), CANARY_OK);
	return c;
}

/* The version field is the caller's: filled structs keep it, whatever
 * it says (a newer header's version, or 0 from a zeroed struct). */
static void test_outputs_keep_their_version(void **state)
{
	canary_client *c = new_client();
	canary_details d = CANARY_DETAILS_INIT;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	unsigned int versions[] = { 0, 1, 7 };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(versions) / sizeof(versions[0]); i++) {
		memset(&d, 0, sizeof(d));
		d.version = versions[i];
		assert_true(canary_evaluate(c, "f", "u", &d));
		assert_int_equal(d.version, versions[i]);
		assert_int_equal(d.config_version, 3);
		assert_string_equal(d.variant, "b");
		memset(&st, 0xa5, sizeof(st));
		st.version = versions[i];
		assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
		assert_int_equal(st.version, versions[i]);
		assert_int_equal(st.ignored, 0);
		assert_int_equal(st.outbox_batches, 0);
	}
	canary_client_free(c);
}

/* A struct of the first layout at the very end of a buffer: nothing is
 * written after it (ASan sees an over-write as well). */
static void test_outputs_stay_inside(void **state)
{
	canary_client *c = new_client();
	unsigned char buf[sizeof(canary_details) + 16];
	canary_details *d = (canary_details *)(void *)buf;
	size_t i;

	(void)state;
	memset(buf, 0x5a, sizeof(buf));
	d->version = CANARY_DETAILS_VERSION;
	canary_evaluate(c, "f", "u", d);
	for (i = sizeof(canary_details); i < sizeof(buf); i++)
		assert_int_equal(buf[i], 0x5a);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_options_init_macro),
		cmocka_unit_test(test_details_init),
		cmocka_unit_test(test_variant_init),
		cmocka_unit_test(test_stats_init),
		cmocka_unit_test(test_outputs_keep_their_version),
		cmocka_unit_test(test_outputs_stay_inside),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
