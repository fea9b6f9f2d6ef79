/*
 * test_canaryctl.c - canaryctl against the real server: every command,
 * tables and --json, the token from the environment, exit statuses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "harness.h"

static char out[65536];

/* canaryctl --server BASE --token ADMIN_TOKEN args... */
static int ctl(const char *a, const char *b, const char *c, const char *d,
	const char *e, const char *f)
{
	const char *argv[] = { CANARYCTL_BIN, "--server", it_server.base,
		"--token", ADMIN_TOKEN, a, b, c, d, e, f, NULL };

	return run_capture(argv, NULL, out, sizeof(out));
}

static void test_flag_commands(void **state)
{
	cJSON *doc;

	(void)state;
	assert_int_equal(ctl("flag", "create", "ck", "--rollout", "5", NULL), 0);
	assert_non_null(strstr(out, "ck"));
	assert_non_null(strstr(out, "5.00%"));
	assert_int_equal(ctl("flag", "create", "ck", NULL, NULL, NULL), 1);

	assert_int_equal(ctl("flag", "list", NULL, NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "KEY"));
	assert_non_null(strstr(out, "ck"));

	assert_int_equal(ctl("flag", "set", "ck", "--rollout-bp", "2500",
		"--disable"), 0);
	assert_non_null(strstr(out, "25.00%"));
	assert_non_null(strstr(out, "no"));

	assert_int_equal(ctl("--json", "flag", "get", "ck", NULL, NULL), 0);
	doc = cJSON_Parse(out);
	assert_non_null(doc);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "flag"),
		"rollout_bp")->valuedouble == 2500);
	cJSON_Delete(doc);

	assert_int_equal(ctl("flag", "set", "ck", "--allow", "u1,u2", NULL),
		0);
	assert_non_null(strstr(out, "u1,u2"));
	/* Server-side validation errors come back as exit status 1. */
	assert_int_equal(ctl("flag", "set", "ck", "--state",
		"0123456789012345678901234567890123456789012345678901234567890123"
		"456789", NULL), 1);

	assert_int_equal(ctl("flag", "delete", "ck", NULL, NULL, NULL), 0);
	assert_int_equal(ctl("flag", "get", "ck", NULL, NULL, NULL), 1);
}

static void test_stats_command(void **state)
{
	char *b;
	cJSON *doc;

	(void)state;
	assert_int_equal(ctl("flag", "create", "st", "--rollout", "50", NULL),
		0);
	b = batch_json("5757575757575757575757575757aaaa", "st", "canary", 200,
		4);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY, b),
		202);
	free(b);
	assert_int_equal(ctl("stats", "st", NULL, NULL, NULL, NULL), 0);
	assert_non_null(strstr(out, "ARM"));
	assert_non_null(strstr(out, "canary  200"));
	assert_non_null(strstr(out, "2.000%"));
	assert_int_equal(ctl("--json", "stats", "st", "--config-version", "2",
		NULL), 0);
	doc = cJSON_Parse(out);
	assert_non_null(doc);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		doc, "arms"), "canary"), "errors")->valuedouble == 4);
	cJSON_Delete(doc);
	assert_int_equal(ctl("stats", "st", "--since", "abc", NULL, NULL), 2);
}

static void test_token_and_errors(void **state)
{
	char env_token[128], env_server[128];
	const char *env[] = { env_token, env_server, NULL };
	const char *list[] = { CANARYCTL_BIN, "flag", "list", NULL };
	const char *bad[] = { CANARYCTL_BIN, "--server", it_server.base, "--token",
		"wrong-token-wrong-token", "flag", "list", NULL };
	const char *sdk[] = { CANARYCTL_BIN, "--server", it_server.base, "--token",
		SDK_KEY, "flag", "list", NULL };
	const char *usage[] = { CANARYCTL_BIN, "flag", "frobnicate", NULL };
	const char *down[] = { CANARYCTL_BIN, "--server", "http://127.0.0.1:1",
		"--token", ADMIN_TOKEN, "flag", "list", NULL };

	(void)state;
	snprintf(env_token, sizeof(env_token), "CANARY_ADMIN_TOKEN=%s",
		ADMIN_TOKEN);
	snprintf(env_server, sizeof(env_server), "CANARY_SERVER=%s",
		it_server.base);
	assert_int_equal(run_capture(list, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "config version"));
	assert_int_equal(run_capture(bad, NULL, out, sizeof(out)), 1);
	assert_int_equal(run_capture(sdk, NULL, out, sizeof(out)), 1);
	assert_int_equal(run_capture(usage, NULL, out, sizeof(out)), 2);
	assert_int_equal(run_capture(down, NULL, out, sizeof(out)), 3);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flag_commands),
		cmocka_unit_test(test_stats_command),
		cmocka_unit_test(test_token_and_errors),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
