/*
 * test_no_threads.c - the CANARY_NO_THREADS build: clients must ask for
 * tick mode, and however much they tick (with a server configured that is
 * down) the process never gains a thread.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "canary/canary.h"

static int threads_in_process(void)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int n = -1;

	assert_non_null(f);
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Threads: %d", &n) == 1)
			break;
	fclose(f);
	return n;
}

static void test_threaded_client_refused(void **state)
{
	canary_options o;
	canary_client *c = (canary_client *)1;

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	assert_int_equal(canary_client_new(&c, &o), CANARY_ENOTSUP);
	assert_null(c);
	assert_non_null(strstr(canary_error_last(), "CANARY_NO_THREADS"));
	assert_int_equal(canary_client_new(&c, NULL), CANARY_ENOTSUP);
}

static void test_tick_mode_never_starts_a_thread(void **state)
{
	canary_options o;
	canary_client *c;
	int before, i;
	uint64_t now = 1000;

	(void)state;
	before = threads_in_process();
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.no_thread = true;
	o.bootstrap_path = CANARY_TEST_DATA "/flags_small.json";
	o.server_url = "http://127.0.0.1:1"; /* nothing listens there */
	o.sdk_key = "sdk-key-for-tests";
	o.connect_timeout_ms = 200;
	o.poll_interval_ms = 50;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	for (i = 0; i < 200; i++) {
		struct timespec pause = { 0, 1000000L };

		canary_client_tick(c, now);
		now += 25;
		assert_true(canary_enabled(c, "all-in", "someone"));
		nanosleep(&pause, NULL);
	}
	assert_int_equal(threads_in_process(), before);
	assert_int_equal(canary_client_config_version(c), 7);
	canary_client_free(c);
	assert_int_equal(CANARY_HAVE_THREADS, 1); /* the headers' build */
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_threaded_client_refused),
		cmocka_unit_test(test_tick_mode_never_starts_a_thread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
