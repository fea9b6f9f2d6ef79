/*
 * test_datapath_fork.c - fork() while the worker is running (stream open):
 * the child keeps evaluating and, after canary_client_postfork(), refreshes
 * on its own connections; the parent is undisturbed. In no-thread mode the
 * child's first tick notices the fork by itself.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"

/* In the child: no cmocka (it longjmps); an exit code says what failed. */
static int child(canary_client *c, bool tick)
{
	uint64_t end = dp_now_ms() + DP_PATIENCE_MS;

	if (!canary_enabled(c, "all", "bob") || canary_enabled(c, "none", "bob"))
		return 2;
	if (!tick && canary_client_postfork(c) != CANARY_OK)
		return 3;
	if (canary_client_postfork(c) != CANARY_OK) /* twice: harmless */
		return 4;
	while (canary_client_config_version(c) < 2) {
		if (dp_now_ms() > end)
			return 5;
		if (tick && canary_client_tick(c, dp_now_ms()) != CANARY_OK)
			return 6;
		if (!canary_enabled(c, "all", "bob"))
			return 7; /* evaluating all along */
		dp_sleep_ms(2);
	}
	if (!canary_enabled(c, "v2", "bob"))
		return 8;
	canary_client_free(c);
	return 0;
}

static bool stream_open(void *ctx)
{
	return fs_streams_open(ctx) >= 1;
}

static void run(bool tick)
{
	fs_server *fs = fs_start();
	canary_options o;
	canary_client *c;
	char *dir = dp_tmpdir();
	int status = -1;
	pid_t pid;

	fs_set_config(fs, fs_config_json(1), 1);
	dp_options(&o, fs_url(fs), dp_path(dir, "cache.db"), NULL, NULL);
	o.no_thread = tick;
	o.poll_interval_ms = 3600000; /* v2 must come over a stream */
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	if (tick) {
		while (fs_streams_open(fs) < 1) {
			canary_client_tick(c, dp_now_ms());
			dp_sleep_ms(2);
		}
	} else {
		assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS),
			CANARY_OK);
		assert_true(dp_wait(stream_open, fs));
	}
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0)
		_exit(child(c, tick));
	fs_set_config(fs, fs_config_json(2), 2);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	/* The parent's own stream brought v2 too. */
	if (tick) {
		while (canary_client_config_version(c) < 2) {
			canary_client_tick(c, dp_now_ms());
			dp_sleep_ms(2);
		}
	} else {
		assert_true(dp_wait_version(c, 2));
	}
	assert_true(canary_enabled(c, "v2", "bob"));
	canary_client_free(c);
	fs_stop(fs);
	dp_tmpdir_free(dir);
}

static void test_fork_thread_mode(void **state)
{
	(void)state;
	run(false);
}

static void test_fork_tick_mode(void **state)
{
	(void)state;
	run(true);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fork_thread_mode),
		cmocka_unit_test(test_fork_tick_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
