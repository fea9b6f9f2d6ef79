/*
 * test_datapath_stream.c - GET /v1/stream: a change reaches the client
 * over the stream (polling is off), Last-Event-ID, a stream dropped in the
 * middle of an event (never applied), a silent stream (dropped after the
 * idle timeout), a service without a stream (polling takes over), 401.
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

typedef struct fixture {
	fs_server *fs;
	dp_log *log;
	dp_status st;
	canary_client *c;
} fixture;

static int setup(void **state)
{
	fixture *f = calloc(1, sizeof(*f));

	f->fs = fs_start();
	fs_set_config(f->fs, fs_config_json(1), 1);
	f->log = dp_log_new();
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	fixture *f = *state;

	canary_client_free(f->c);
	fs_stop(f->fs);
	dp_log_free(f->log);
	free(f);
	return 0;
}

/* A client that only the stream can update: polling once an hour. */
static void start_idle(fixture *f, uint32_t idle_ms)
{
	canary_options o;

	dp_options(&o, fs_url(f->fs), NULL, f->log, &f->st);
	o.poll_interval_ms = 3600000;
	if (idle_ms)
		o.stream_idle_timeout_ms = idle_ms;
	assert_int_equal(canary_client_new(&f->c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
}

static void start(fixture *f)
{
	start_idle(f, 0);
}

static bool stream_open(void *ctx)
{
	return fs_streams_open(ctx) >= 1;
}

typedef struct progress {
	fs_server *fs;
	const char *path;
	int target;
} progress;

static bool requests(void *ctx)
{
	progress *p = ctx;

	return fs_count(p->fs, p->path) >= p->target;
}

static bool config_reported(void *ctx)
{
	dp_status *st = ctx;

	return __atomic_load_n(&st->last_version, __ATOMIC_SEQ_CST) == 2;
}

static void test_change_over_stream(void **state)
{
	fixture *f = *state;
	char hdr[64];
	int fetches;

	start(f);
	assert_true(dp_wait(stream_open, f->fs));
	fetches = fs_count(f->fs, "/v1/flags");
	fs_last_header(f->fs, "/v1/stream", "Last-Event-ID", hdr, sizeof(hdr));
	assert_string_equal(hdr, "1");
	fs_set_config(f->fs, fs_config_json(2), 2);
	assert_true(dp_wait_version(f->c, 2));
	assert_true(canary_enabled(f->c, "v2", "bob"));
	assert_true(dp_wait(config_reported, &f->st));
	/* It came over the stream: no fetch happened meanwhile. */
	assert_int_equal(fs_count(f->fs, "/v1/flags"), fetches);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_READY);
}

static void test_dropped_mid_event(void **state)
{
	fixture *f = *state;
	progress p = { f->fs, "/v1/stream", 0 };

	start(f);
	assert_true(dp_wait(stream_open, f->fs));
	/* Only the stream could bring v2, and it breaks half way through
	 * the event, again and again. */
	fs_set_flags_mode(f->fs, FS_500);
	fs_set_stream_mode(f->fs, FS_DROP_MID_EVENT);
	fs_kick_streams(f->fs); /* before the change: the open stream ends */
	fs_set_config(f->fs, fs_config_json(2), 2);
	p.target = fs_count(f->fs, "/v1/stream") + 3;
	if (!dp_wait(requests, &p)) {
		dp_log_dump(f->log);
		fail_msg("the stream was not retried");
	}
	assert_int_equal(canary_client_config_version(f->c), 1);
	assert_true(canary_enabled(f->c, "all", "bob"));
	/* The stream heals: the whole event arrives and applies. */
	fs_set_stream_mode(f->fs, FS_NORMAL);
	assert_true(dp_wait_version(f->c, 2));
}

static void test_silent_stream_dropped(void **state)
{
	fixture *f = *state;
	progress p = { f->fs, "/v1/stream", 3 };

	fs_set_stream_mode(f->fs, FS_STALL);
	start_idle(f, 1000);
	assert_true(dp_wait(requests, &p));
	assert_true(dp_log_count(f->log, "no data for 1000 ms") >= 1);
	/* After each drop the worker fetched to catch up. */
	assert_true(fs_count(f->fs, "/v1/flags") >= 3);
	assert_int_equal(canary_client_config_version(f->c), 1);
}

static void test_no_stream_falls_back_to_polling(void **state)
{
	fixture *f = *state;
	canary_options o;

	fs_set_stream_mode(f->fs, FS_404);
	dp_options(&o, fs_url(f->fs), NULL, f->log, &f->st);
	assert_int_equal(canary_client_new(&f->c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	fs_set_config(f->fs, fs_config_json(2), 2);
	assert_true(dp_wait_version(f->c, 2));
	assert_true(fs_count(f->fs, "/v1/stream") >= 1);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_READY);
	assert_true(dp_log_count(f->log, "GET /v1/stream: HTTP 404") >= 1);
}

static void test_stream_401(void **state)
{
	fixture *f = *state;
	progress p = { f->fs, "/v1/stream", 1 };

	canary_options o;
	int rc;

	fs_set_stream_mode(f->fs, FS_401);
	dp_options(&o, fs_url(f->fs), NULL, f->log, &f->st);
	o.poll_interval_ms = 3600000;
	assert_int_equal(canary_client_new(&f->c, &o), CANARY_OK);
	/* The fetch confirms the config, then the stream's 401 ends in
	 * AUTH_ERROR: on a busy machine that can come before this thread
	 * wakes up to see READY. */
	rc = canary_client_wait_ready(f->c, DP_PATIENCE_MS);
	assert_true(rc == CANARY_OK || rc == CANARY_EAUTH);
	assert_true(dp_wait(requests, &p));
	assert_true(dp_wait_status(f->c, CANARY_STATUS_AUTH_ERROR));
	assert_int_equal(canary_client_config_version(f->c), 1);
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_change_over_stream),
		T(test_dropped_mid_event),
		T(test_silent_stream_dropped),
		T(test_no_stream_falls_back_to_polling),
		T(test_stream_401),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
