/*
 * test_datapath_server.c - the SDK against the real canary-server (started
 * on 127.0.0.1 with an ephemeral port by the integration harness): fetch,
 * an admin change reaching the client over the stream and by polling, a
 * bad key, the service stopping (offline from cache) and coming back.
 * Built only when canary-server is (tests/datapath/CMakeLists.txt).
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
#include "harness.h"

static srv server;

static void set_rollout(const char *flag, int bp)
{
	char body[64], path[128];

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", bp);
	snprintf(path, sizeof(path), "/v1/admin/flags/%s", flag);
	assert_int_equal(http_status(&server, "PUT", path, ADMIN_TOKEN, body) /
		100, 2);
}

static int setup(void **state)
{
	(void)state;
	if (srv_start(&server, NULL) != 0) {
		fprintf(stderr, "could not start canary-server\n");
		return -1;
	}
	set_rollout("checkout", 0);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	srv_cleanup(&server);
	return 0;
}

static void options(canary_options *o, const char *cache, dp_log *log)
{
	dp_options(o, server.base, cache, log, NULL);
	o->sdk_key = SDK_KEY;
}

typedef struct flag_is {
	canary_client *c;
	const char *flag;
	bool want;
} flag_is;

static bool flag_answers(void *ctx)
{
	flag_is *f = ctx;

	return canary_enabled(f->c, f->flag, "user-1") == f->want;
}

static void test_change_reaches_client(void **state)
{
	canary_options o;
	canary_client *streamed, *polled;
	flag_is s, p;

	(void)state;
	options(&o, NULL, NULL);
	o.poll_interval_ms = 3600000; /* only the stream can bring the change */
	assert_int_equal(canary_client_new(&streamed, &o), CANARY_OK);
	options(&o, NULL, NULL);
	o.no_stream = true;           /* only polling can */
	assert_int_equal(canary_client_new(&polled, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(streamed, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_wait_ready(polled, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_status(streamed), CANARY_STATUS_READY);
	assert_true(canary_client_config_version(streamed) >= 1);
	assert_false(canary_enabled(streamed, "checkout", "user-1"));
	set_rollout("checkout", 10000);
	s = (flag_is){ streamed, "checkout", true };
	p = (flag_is){ polled, "checkout", true };
	assert_true(dp_wait(flag_answers, &s));
	assert_true(dp_wait(flag_answers, &p));
	assert_int_equal(canary_client_config_version(streamed),
		canary_client_config_version(polled));
	canary_client_free(streamed);
	canary_client_free(polled);
}

static void test_bad_key(void **state)
{
	canary_options o;
	canary_client *c;

	(void)state;
	options(&o, NULL, NULL);
	o.sdk_key = "not-a-key-of-this-server";
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS),
		CANARY_EAUTH);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_AUTH_ERROR);
	canary_client_free(c);
}

static void test_server_down_and_back(void **state)
{
	char *dir = dp_tmpdir();
	char before[128], after[128];
	canary_options o;
	canary_client *c;
	flag_is f;

	(void)state;
	set_rollout("checkout", 5000);
	options(&o, dp_path(dir, "cache.db"), NULL);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS), CANARY_OK);
	f = (flag_is){ c, "checkout", canary_bucket("checkout", "user-1") < 5000 };
	assert_true(dp_wait(flag_answers, &f));
	dp_answers(c, before, sizeof(before));
	canary_client_free(c);

	assert_true(srv_stop(&server) >= 0);
	options(&o, dp_path(dir, "cache.db"), NULL);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	dp_answers(c, after, sizeof(after));
	assert_string_equal(before, after); /* offline, from the cache */
	assert_true(dp_wait_status(c, CANARY_STATUS_OFFLINE));

	assert_int_equal(srv_restart(&server, NULL), 0);
	/* The port may differ after a restart: a new client finds it. */
	canary_client_free(c);
	options(&o, dp_path(dir, "cache.db"), NULL);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	set_rollout("checkout", 0);
	f = (flag_is){ c, "checkout", false };
	assert_true(dp_wait(flag_answers, &f));
	canary_client_free(c);
	dp_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_change_reaches_client),
		cmocka_unit_test(test_bad_key),
		cmocka_unit_test(test_server_down_and_back),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
