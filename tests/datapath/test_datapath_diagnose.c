/*
 * test_datapath_diagnose.c - what the SDK says when something is wrong,
 * against the fault server: canary_client_wait_ready() leaves the cause in
 * canary_error_last() (a refused port, a 404 from a base URL with /v1 in
 * it, a refused key); a base URL ending in /v1 is warned about at once;
 * an unknown flag key is reported once, with the nearest key;
 * canary_client_diagnose() sums it up. And server_urls: a list of
 * replicas, the first one down; moving between replicas keeps the ETag
 * (a 304) and never applies an older version.
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
#include "dp_support.h"
#include "fault_server.h"

/* A port nothing listens on: bound to 127.0.0.1 by nobody (port 1 needs
 * root to listen on, and tests never run a service there). */
#define DEAD_URL "http://127.0.0.1:1"

typedef dp_fixture fixture;

static canary_client *start(canary_options *o)
{
	canary_client *c = NULL;

	assert_int_equal(canary_client_new(&c, o), CANARY_OK);
	return c;
}

static void assert_contains(const char *text, const char *needle)
{
	if (!strstr(text, needle))
		fail_msg("\"%s\"\n  does not contain\n\"%s\"", text, needle);
}

static void test_refused_port(void **state)
{
	fixture *f = *state;
	canary_options o;

	dp_options(&o, DEAD_URL, NULL, f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, 1500), CANARY_ETIMEOUT);
	assert_contains(canary_error_last(), "not ready after 1500 ms: ");
	assert_contains(canary_error_last(),
		"connect to 127.0.0.1:1: connection refused");
	assert_true(dp_log_count(f->log,
		"GET /v1/flags: connect to 127.0.0.1:1: connection refused") >= 1);
}

static void test_404_names_the_url(void **state)
{
	fixture *f = *state;
	char url[128], want[256];
	canary_options o;

	/* The classic mistake: the API's prefix in the base URL. */
	snprintf(url, sizeof(url), "%s/v1", fs_url(f->fs));
	fs_set_flags_mode(f->fs, FS_404);
	dp_options(&o, url, NULL, f->log, NULL);
	o.no_stream = true;
	f->c = start(&o);
	assert_int_equal(dp_log_count(f->log, "ends in /v1: give the server's root (libcanary adds /v1/flags)"), 1);
	assert_int_equal(canary_client_wait_ready(f->c, 1500), CANARY_ETIMEOUT);
	snprintf(want, sizeof(want),
		"HTTP 404 from %s/v1/v1/flags: is server_url the server's root?",
		fs_url(f->fs));
	assert_contains(canary_error_last(), want);
}

static void test_401_says_key_refused(void **state)
{
	fixture *f = *state;
	char want[256];
	canary_options o;

	fs_require_key(f->fs, "another-key");
	dp_options(&o, fs_url(f->fs), NULL, f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_EAUTH);
	snprintf(want, sizeof(want), "HTTP 401 from %s/v1/flags: SDK key refused",
		fs_url(f->fs));
	assert_contains(canary_error_last(), want);
	assert_int_equal(dp_log_count(f->log, "SDK key refused"), 1);
}

static bool logged_unknown(void *ctx)
{
	return dp_log_count(ctx, "is not in the config") >= 2;
}

static void test_unknown_key_once_with_nearest(void **state)
{
	fixture *f = *state;
	char text[2048];
	canary_options o;
	int i;

	dp_options(&o, fs_url(f->fs), NULL, f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	for (i = 0; i < 10000; i++) {
		assert_false(canary_enabled(f->c, "f55", "bob"));
		assert_false(canary_enabled(f->c, "zzzzzzzz", "bob"));
	}
	assert_true(dp_wait(logged_unknown, f->log));
	assert_int_equal(dp_log_count(f->log,
		"flag \"f55\" is not in the config (version 1): it answers stable; did you mean \"f50\"?"), 1);
	assert_int_equal(dp_log_count(f->log,
		"flag \"zzzzzzzz\" is not in the config (version 1): it answers stable"), 1);
	assert_int_equal(dp_log_count(f->log, "zzzzzzzz\" is not in the config (version 1): it answers stable;"), 0);
	assert_int_equal(canary_client_diagnose(f->c, text, sizeof(text)),
		CANARY_OK);
	assert_contains(text, "unknown flag keys: 2: ");
	assert_contains(text, "\"f55\" (did you mean \"f50\"?)");
}

static void test_diagnose_summary(void **state)
{
	fixture *f = *state;
	char text[2048], want[256];
	const char *cache = dp_path(f->dir, "cache.db");
	canary_options o;

	dp_options(&o, fs_url(f->fs), cache, f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_diagnose(f->c, text, sizeof(text)),
		CANARY_OK);
	print_message("%s", text);
	assert_contains(text, "libcanary ");
	assert_contains(text, "config source: libcanary\n");
	snprintf(want, sizeof(want), "server: %s", fs_url(f->fs));
	assert_contains(text, want);
	assert_contains(text, "status: READY\n");
	assert_contains(text, "config: version 1 from GET /v1/flags, applied ");
	assert_contains(text, "; confirmed by the service ");
	assert_contains(text, "last error: none\n");
	snprintf(want, sizeof(want), "cache: %s\n", cache);
	assert_contains(text, want);
	assert_contains(text, "outbox: 0 batches (0 bytes) waiting in the cache file");
	assert_contains(text, "unknown flag keys: none\n");
	/* Cut to the buffer, NUL-terminated. */
	memset(text, 'x', sizeof(text));
	assert_int_equal(canary_client_diagnose(f->c, text, 16), CANARY_OK);
	assert_int_equal(strlen(text), 15);
	assert_int_equal(canary_client_diagnose(f->c, NULL, 16), CANARY_EINVAL);
	assert_int_equal(canary_client_diagnose(NULL, text, 16), CANARY_EINVAL);
}

static void test_diagnose_after_failure(void **state)
{
	fixture *f = *state;
	char text[2048];
	canary_options o;

	dp_options(&o, DEAD_URL, NULL, f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, 1500), CANARY_ETIMEOUT);
	assert_int_equal(canary_client_diagnose(f->c, text, sizeof(text)),
		CANARY_OK);
	assert_contains(text, "server: " DEAD_URL "\n");
	assert_contains(text, "status: OFFLINE\n");
	assert_contains(text, "config: none yet: every evaluation answers stable\n");
	assert_contains(text, "last error: connect to 127.0.0.1:1: connection refused (");
	assert_contains(text, "cache: none (no cache_path)");
	assert_contains(text, "waiting in memory");
}

/* ---- server_urls -------------------------------------------------------- */

static void test_server_urls_first_down(void **state)
{
	fixture *f = *state;
	const char *urls[3];
	char text[2048];
	canary_options o;

	urls[0] = DEAD_URL;
	urls[1] = fs_url(f->fs);
	urls[2] = NULL;
	dp_options(&o, NULL, NULL, f->log, NULL);
	o.server_urls = urls;
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_config_version(f->c), 1);
	assert_true(canary_enabled(f->c, "all", "bob"));
	assert_int_equal(canary_client_diagnose(f->c, text, sizeof(text)),
		CANARY_OK);
	assert_contains(text, " (2 of 2)");
	/* The first failure tried the second server at once. */
	assert_true(dp_log_count(f->log, "connect to 127.0.0.1:1") >= 1);
}

static bool asked(void *ctx)
{
	return fs_count(ctx, "/v1/flags") >= 1;
}

static bool got_304(void *ctx)
{
	return fs_count_304(ctx) >= 1;
}

/* Two replicas with the same config: moving from one to the other costs
 * a 304 (the same ETag), not a download. */
static void test_server_urls_same_etag(void **state)
{
	fixture *f = *state;
	fs_server *b = fs_start();
	const char *urls[3];
	canary_options o;

	fs_set_config(b, fs_config_json(1), 1);
	urls[0] = fs_url(f->fs);
	urls[1] = fs_url(b);
	urls[2] = NULL;
	dp_options(&o, NULL, dp_path(f->dir, "cache.db"), f->log, NULL);
	o.server_urls = urls;
	o.no_stream = true;
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(fs_count(b, "/v1/flags"), 0);
	fs_set_flags_mode(f->fs, FS_500);
	assert_true(dp_wait(got_304, b));
	assert_int_equal(canary_client_config_version(f->c), 1);
	assert_true(dp_wait_status(f->c, CANARY_STATUS_READY));
	canary_client_free(f->c);
	f->c = NULL;
	fs_stop(b);
}

/* A replica behind the others (an older version) never downgrades the
 * client. */
static void test_server_urls_no_downgrade(void **state)
{
	fixture *f = *state;
	fs_server *b = fs_start();
	const char *urls[3];
	canary_options o;

	fs_set_config(f->fs, fs_config_json(2), 2);
	fs_set_config(b, fs_config_json(1), 1);
	urls[0] = fs_url(f->fs);
	urls[1] = fs_url(b);
	urls[2] = NULL;
	dp_options(&o, NULL, NULL, f->log, NULL);
	o.server_urls = urls;
	f->c = start(&o);
	assert_true(dp_wait_version(f->c, 2));
	fs_set_flags_mode(f->fs, FS_500);
	fs_set_stream_mode(f->fs, FS_500);
	fs_kick_streams(f->fs);
	assert_true(dp_wait(asked, b));
	dp_sleep_ms(300);
	assert_int_equal(canary_client_config_version(f->c), 2);
	assert_true(dp_log_count(f->log, "is older than the version in force") >= 1);
	canary_client_free(f->c);
	f->c = NULL;
	fs_stop(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_refused_port, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_404_names_the_url, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_401_says_key_refused, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_unknown_key_once_with_nearest, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_diagnose_summary, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_diagnose_after_failure, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_server_urls_first_down, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_server_urls_same_etag, dp_fixture_setup, dp_fixture_teardown),
		cmocka_unit_test_setup_teardown(test_server_urls_no_downgrade, dp_fixture_setup, dp_fixture_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
