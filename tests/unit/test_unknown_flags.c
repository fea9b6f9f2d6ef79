/*
 * test_unknown_flags.c - unknown flag keys: each reported once, the
 * nearest key of the config suggested only when it is close, memory
 * bounded (past CANARY__UNKNOWN_SEEN keys, said once and no more).
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
#include "client.h"
#include "unknown_flags.h"

static const char config[] = "{\"version\": 3, \"flags\": ["
	"{\"key\": \"checkout-v2\", \"rollout_bp\": 100},"
	"{\"key\": \"search-ranking\", \"rollout_bp\": 100},"
	"{\"key\": \"a\", \"rollout_bp\": 100},"
	"{\"key\": \"new-onboarding-flow-for-mobile-clients\", \"rollout_bp\": 100}]}";

typedef struct lines {
	int n;
	char text[80][256];
} lines;

static void keep(canary_log_level level, const char *msg, void *ctx)
{
	lines *l = ctx;

	(void)level;
	if (l->n < 80)
		snprintf(l->text[l->n++], sizeof(l->text[0]), "%s", msg);
}

static int count(const lines *l, const char *needle)
{
	int i, n = 0;

	for (i = 0; i < l->n; i++)
		n += strstr(l->text[i], needle) != NULL;
	return n;
}

static canary_client *client(lines *l)
{
	canary_options o = CANARY_OPTIONS_INIT;
	canary_client *c;

	o.log_fn = keep;
	o.log_ctx = l;
	o.log_level = CANARY_LOG_WARN;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, config,
		strlen(config)), CANARY_OK);
	return c;
}

static const char *nearest(canary_client *c, const char *key)
{
	canary__hazard_guard g;
	canary__snapshot *snap = canary__hazard_enter(&c->live.snapshots, &g);
	const char *n = canary__unknown_nearest(snap, key);

	canary__hazard_leave(&c->live.snapshots, &g);
	return n;
}

static void test_nearest(void **state)
{
	lines l = { 0 };
	canary_client *c = client(&l);

	(void)state;
	assert_string_equal(nearest(c, "chekout-v2"), "checkout-v2");
	assert_string_equal(nearest(c, "checkuot-v2"), "checkout-v2");
	assert_string_equal(nearest(c, "Checkout-V2"), "checkout-v2");
	assert_string_equal(nearest(c, "search_ranking"), "search-ranking");
	assert_string_equal(nearest(c, "b"), "a");
	assert_null(nearest(c, "checkout-v3-beta"));
	assert_null(nearest(c, "payments"));
	assert_string_equal(nearest(c, "new-onboarding-flow-for-mobile-client"),
		"new-onboarding-flow-for-mobile-clients");
	canary_client_free(c);
}

static void test_reported_once(void **state)
{
	lines l = { 0 };
	canary_client *c = client(&l);
	char text[2048];
	int i;

	(void)state;
	for (i = 0; i < 1000; i++) {
		canary_enabled(c, "chekout-v2", "u");
		canary_record_error(c, "chekout-v2", "u");
		canary_enabled(c, "payments", "u");
	}
	/* No thread: diagnose (or free, or a tick) reports. */
	assert_int_equal(canary_client_diagnose(c, text, sizeof(text)), CANARY_OK);
	assert_int_equal(count(&l, "flag \"chekout-v2\" is not in the config (version 3): it answers stable; did you mean \"checkout-v2\"?"), 1);
	assert_int_equal(count(&l, "flag \"payments\" is not in the config (version 3): it answers stable"), 1);
	assert_int_equal(l.n, 2);
	assert_non_null(strstr(text, "unknown flag keys: 2: \"chekout-v2\" (did you mean \"checkout-v2\"?), \"payments\"\n"));
	canary_client_free(c);
	assert_int_equal(l.n, 2);
}

static void test_bounded(void **state)
{
	lines l = { 0 };
	canary_client *c = client(&l);
	char key[32], text[2048];
	int i;

	(void)state;
	for (i = 0; i < 200; i++) {
		snprintf(key, sizeof(key), "unknown-%d", i);
		canary_enabled(c, key, "u");
		/* Report as we go, so that pending slots free up. */
		if (i % 4 == 3)
			canary__unknown_report(&c->unknown, &c->live, &c->log);
	}
	assert_int_equal(canary_client_diagnose(c, text, sizeof(text)), CANARY_OK);
	assert_int_equal(count(&l, "is not in the config"), CANARY__UNKNOWN_SEEN);
	assert_int_equal(count(&l, "more unknown flag keys than this client remembers (64): further ones are not reported"), 1);
	assert_non_null(strstr(text, "unknown flag keys: 64: "));
	assert_non_null(strstr(text, "(the last 4)"));
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_nearest),
		cmocka_unit_test(test_reported_once),
		cmocka_unit_test(test_bounded),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
