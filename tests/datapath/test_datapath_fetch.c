/*
 * test_datapath_fetch.c - GET /v1/flags with the background worker:
 * fetch, ETag/304, the cache (offline start, corrupt file), every server
 * fault (500, 503, 404, 401, garbage, truncated, short, 50 MB, endless,
 * stalled), downgrades, staleness. In every case: no crash, the last good
 * config kept, the right status, a repeated failure logged once.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"

typedef dp_fixture fixture;

static canary_client *start(canary_options *o)
{
	canary_client *c = NULL;

	assert_int_equal(canary_client_new(&c, o), CANARY_OK);
	return c;
}

static void test_fetch_then_offline_start(void **state)
{
	fixture *f = *state;
	char before[128], after[128], hdr[256], dead_url[64];
	canary_options o;
	canary_client *c;

	dp_options(&o, fs_url(f->fs), dp_path(f->dir, "cache.db"), f->log,
		&f->st);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_READY);
	assert_int_equal(canary_client_config_version(f->c), 1);
	assert_true(canary_enabled(f->c, "all", "bob"));
	assert_true(canary_enabled(f->c, "vip", "alice"));
	dp_answers(f->c, before, sizeof(before));
	fs_last_header(f->fs, "/v1/flags", "User-Agent", hdr, sizeof(hdr));
	assert_int_equal(strncmp(hdr, "libcanary/", 10), 0);
	fs_last_header(f->fs, "/v1/flags", "Authorization", hdr, sizeof(hdr));
	assert_string_equal(hdr, "Bearer sdk-test-key");
	assert_int_equal(f->st.last_version, 1);
	canary_client_free(f->c);
	f->c = NULL;

	/* The service goes away; a new process starts from the cache. */
	snprintf(dead_url, sizeof(dead_url), "%s", fs_url(f->fs));
	o.server_url = dead_url;
	fs_stop(f->fs);
	f->fs = fs_start(); /* a live server for teardown, unused */
	c = start(&o);
	assert_int_equal(canary_client_config_version(c), 1); /* before any I/O */
	dp_answers(c, after, sizeof(after));
	assert_string_equal(before, after);
	assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS), CANARY_OK);
	assert_true(dp_wait_status(c, CANARY_STATUS_OFFLINE));
	dp_answers(c, after, sizeof(after));
	assert_string_equal(before, after);
	canary_client_free(c);
}

static bool two_304s(void *ctx)
{
	return fs_count_304(ctx) >= 2;
}

static void test_etag_and_304(void **state)
{
	fixture *f = *state;
	canary_options o;
	char hdr[256], tag[64];

	fs_etag(f->fs, tag, sizeof(tag));
	dp_options(&o, fs_url(f->fs), dp_path(f->dir, "cache.db"), f->log, NULL);
	o.no_stream = true;
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_true(dp_wait(two_304s, f->fs));
	fs_last_header(f->fs, "/v1/flags", "If-None-Match", hdr, sizeof(hdr));
	assert_string_equal(hdr, tag);
	canary_client_free(f->c);
	/* A restart sends the cached ETag on its very first request. */
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	fs_last_header(f->fs, "/v1/flags", "If-None-Match", hdr, sizeof(hdr));
	assert_string_equal(hdr, tag);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_READY);
}

static int corrupt_files(const char *dir)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	while ((e = readdir(d)))
		n += strstr(e->d_name, "cache.db.corrupt-") != NULL;
	closedir(d);
	return n;
}

static void test_corrupt_cache(void **state)
{
	fixture *f = *state;
	canary_options o;
	FILE *fp;
	int i;

	fp = fopen(dp_path(f->dir, "cache.db"), "wb");
	for (i = 0; i < 4096; i++)
		fputc(i * 7, fp);
	fclose(fp);
	dp_options(&o, fs_url(f->fs), dp_path(f->dir, "cache.db"), f->log, NULL);
	f->c = start(&o);
	assert_int_equal(dp_log_count(f->log, "moved to"), 1);
	assert_int_equal(corrupt_files(f->dir), 1);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	assert_int_equal(canary_client_config_version(f->c), 1);
	canary_client_free(f->c);
	/* Rebuilt: the next start finds the config there, offline. */
	o.server_url = "http://127.0.0.1:1";
	f->c = start(&o);
	assert_int_equal(canary_client_config_version(f->c), 1);
}

typedef struct progress {
	fs_server *fs;
	int target;
} progress;

static bool flags_requests(void *ctx)
{
	progress *p = ctx;

	return fs_count(p->fs, "/v1/flags") >= p->target;
}

/* Serve v1, then switch to `mode` with v2 behind it: the client must keep
 * v1, go OFFLINE, log the failure once however often it repeats, and
 * recover to v2 when the server heals. */
static void check_fault(fixture *f, fs_mode mode, const char *logged)
{
	char before[128], after[128];
	canary_options o;
	progress p;

	dp_options(&o, fs_url(f->fs), NULL, f->log, NULL);
	o.no_stream = true;
	/* Sanitizers are slow: let the size cap, not the clock, stop 50 MB. */
	if (mode == FS_HUGE)
		o.request_timeout_ms = 60000;
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	dp_answers(f->c, before, sizeof(before));
	fs_set_flags_mode(f->fs, mode);
	fs_set_config(f->fs, fs_config_json(2), 2);
	p.fs = f->fs;
	p.target = fs_count(f->fs, "/v1/flags") + 3;
	assert_true(dp_wait(flags_requests, &p));
	assert_true(dp_wait_status(f->c, CANARY_STATUS_OFFLINE));
	assert_int_equal(canary_client_config_version(f->c), 1);
	dp_answers(f->c, after, sizeof(after));
	assert_string_equal(before, after);
	/* Repeats are logged at DEBUG as "(again)", the failure in full. A
	 * slow (sanitized) run may see the failure change once (e.g. a reset
	 * while the 50 MB body streams), which is rightly logged in full, so
	 * ask for at least one full line and at least one repeat. */
	if (dp_log_count(f->log, logged) - dp_log_count(f->log, "(again)") < 1 ||
	    dp_log_count(f->log, "(again)") < 1) {
		dp_log_dump(f->log);
		fail_msg("expected \"%s\" logged once", logged);
	}
	fs_set_flags_mode(f->fs, FS_NORMAL);
	assert_true(dp_wait_version(f->c, 2));
	assert_true(dp_wait_status(f->c, CANARY_STATUS_READY));
	assert_int_equal(dp_log_count(f->log, "working again"), 1);
}

static void test_fault_500(void **state)
{
	check_fault(*state, FS_500, "GET /v1/flags: HTTP 500");
}

static void test_fault_503_retry_after(void **state)
{
	fixture *f = *state;

	fs_set_retry_after(f->fs, "0");
	check_fault(f, FS_503_RETRY, "GET /v1/flags: HTTP 503");
}

static void test_fault_404(void **state)
{
	check_fault(*state, FS_404, "GET /v1/flags: HTTP 404");
}

static void test_fault_garbage(void **state)
{
	check_fault(*state, FS_GARBAGE, "GET /v1/flags: invalid config");
}

static void test_fault_truncated_json(void **state)
{
	check_fault(*state, FS_TRUNCATED, "GET /v1/flags: invalid config");
}

static void test_fault_short_body(void **state)
{
	check_fault(*state, FS_SHORT, "GET /v1/flags: ");
}

static void test_fault_50mb_body(void **state)
{
	check_fault(*state, FS_HUGE, "response larger than");
}

static void test_fault_endless_response(void **state)
{
	check_fault(*state, FS_ENDLESS, "timed out");
}

static void test_fault_stalled_connection(void **state)
{
	check_fault(*state, FS_STALL, "timed out");
}

static bool auth_reported(void *ctx)
{
	dp_status *st = ctx;

	return __atomic_load_n(&st->last, __ATOMIC_SEQ_CST) ==
		CANARY_STATUS_AUTH_ERROR;
}

static void test_auth_error_stops(void **state)
{
	fixture *f = *state;
	canary_options o;
	int n;

	fs_require_key(f->fs, "another-key");
	dp_options(&o, fs_url(f->fs), NULL, f->log, &f->st);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_EAUTH);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_AUTH_ERROR);
	/* The callback runs just after the status changed. */
	assert_true(dp_wait(auth_reported, &f->st));
	n = fs_count(f->fs, "/v1/flags");
	assert_int_equal(n, 1);
	/* Many poll and backoff periods later: still no second request. */
	dp_sleep_ms(500);
	assert_int_equal(fs_count(f->fs, "/v1/flags"), 1);
	assert_int_equal(fs_count(f->fs, "/v1/stream"), 0);
	assert_int_equal(dp_log_count(f->log, "SDK key refused; no more requests will be made"), 1);
}

static void test_downgrade_ignored(void **state)
{
	fixture *f = *state;
	canary_options o;
	progress p;

	fs_set_config(f->fs, fs_config_json(5), 5);
	dp_options(&o, fs_url(f->fs), dp_path(f->dir, "cache.db"), f->log,
		NULL);
	o.no_stream = true;
	f->c = start(&o);
	assert_true(dp_wait_version(f->c, 5));
	fs_set_config(f->fs, fs_config_json(3), 3);
	p.fs = f->fs;
	p.target = fs_count(f->fs, "/v1/flags") + 3;
	assert_true(dp_wait(flags_requests, &p));
	assert_int_equal(canary_client_config_version(f->c), 5);
	assert_int_equal(dp_log_count(f->log, "older than the version in force"), 1);
	assert_int_equal(canary_client_status(f->c), CANARY_STATUS_READY);
	canary_client_free(f->c);
	/* The cache was not downgraded either. */
	o.server_url = "http://127.0.0.1:1";
	f->c = start(&o);
	assert_int_equal(canary_client_config_version(f->c), 5);
	canary_client_free(f->c);
	o.server_url = fs_url(f->fs);
	f->c = start(&o);
	fs_set_config(f->fs, fs_config_json(6), 6);
	assert_true(dp_wait_version(f->c, 6));
}

static void check_stale(fixture *f, canary_stale_policy policy)
{
	canary_details d = CANARY_DETAILS_INIT;
	canary_options o;

	dp_options(&o, fs_url(f->fs), NULL, f->log, NULL);
	o.no_stream = true;
	o.max_config_age_ms = 300;
	o.stale_policy = policy;
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	fs_set_flags_mode(f->fs, FS_500);
	assert_true(dp_wait_status(f->c, CANARY_STATUS_STALE));
	assert_int_equal(canary_evaluate(f->c, "all", "bob", &d),
		policy == CANARY_STALE_KEEP);
	assert_int_equal(d.reason, policy == CANARY_STALE_KEEP ?
		CANARY_REASON_SPLIT : CANARY_REASON_STALE);
	fs_set_flags_mode(f->fs, FS_NORMAL);
	assert_true(dp_wait_status(f->c, CANARY_STATUS_READY));
	assert_true(canary_evaluate(f->c, "all", "bob", &d));
	assert_int_equal(d.reason, CANARY_REASON_SPLIT);
}

static void test_stale_keep(void **state)
{
	check_stale(*state, CANARY_STALE_KEEP);
}

static void test_stale_stable(void **state)
{
	check_stale(*state, CANARY_STALE_STABLE);
}

static void test_stale_cache_at_start(void **state)
{
	fixture *f = *state;
	canary_details d = CANARY_DETAILS_INIT;
	canary_options o;

	dp_options(&o, fs_url(f->fs), dp_path(f->dir, "cache.db"), f->log, NULL);
	f->c = start(&o);
	assert_int_equal(canary_client_wait_ready(f->c, DP_PATIENCE_MS),
		CANARY_OK);
	canary_client_free(f->c);
	dp_sleep_ms(50); /* let the cached config age past the limit */
	o.server_url = "http://127.0.0.1:1";
	o.max_config_age_ms = 10;
	o.stale_policy = CANARY_STALE_STABLE;
	f->c = start(&o);
	/* Stale from the first evaluation, before the worker ran. */
	assert_false(canary_evaluate(f->c, "all", "bob", &d));
	assert_int_equal(d.reason, CANARY_REASON_STALE);
	assert_true(dp_wait_status(f->c, CANARY_STATUS_STALE));
}

#define T(fn) cmocka_unit_test_setup_teardown(fn, dp_fixture_setup, dp_fixture_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		T(test_fetch_then_offline_start),
		T(test_etag_and_304),
		T(test_corrupt_cache),
		T(test_fault_500),
		T(test_fault_503_retry_after),
		T(test_fault_404),
		T(test_fault_garbage),
		T(test_fault_truncated_json),
		T(test_fault_short_body),
		T(test_fault_50mb_body),
		T(test_fault_endless_response),
		T(test_fault_stalled_connection),
		T(test_auth_error_stops),
		T(test_downgrade_ignored),
		T(test_stale_keep),
		T(test_stale_stable),
		T(test_stale_cache_at_start),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
