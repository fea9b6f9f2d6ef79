/*
 * test_datapath_tick.c - no-thread mode (canary_client_tick) with libcurl
 * and with a transport hook, driven by a fake clock where scheduling is
 * under test: Retry-After honoured, 401 stops for good, staleness. And the
 * hook in thread mode, streaming and not.
 */
#define _GNU_SOURCE
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

static int count_threads(void)
{
	struct dirent *e;
	DIR *d = opendir("/proc/self/task");
	int n = 0;

	while ((e = readdir(d)))
		n += e->d_name[0] != '.';
	closedir(d);
	return n;
}

typedef bool (*pred_fn)(canary_client *c, void *ctx);

/* Tick at `*now` (advanced by `step` each time, 0 = real time) until
 * `pred` holds. */
static bool tick_until(canary_client *c, uint64_t *now, uint64_t step,
	pred_fn pred, void *ctx)
{
	uint64_t end = dp_now_ms() + DP_PATIENCE_MS;

	while (dp_now_ms() < end) {
		uint64_t t = step ? (*now += step) : dp_now_ms();

		assert_int_equal(canary_client_tick(c, t), CANARY_OK);
		if (pred(c, ctx))
			return true;
		dp_sleep_ms(2);
	}
	return false;
}

static bool is_status(canary_client *c, void *ctx)
{
	return canary_client_status(c) == *(canary_status *)ctx;
}

static bool has_version(canary_client *c, void *ctx)
{
	return canary_client_config_version(c) >= *(uint64_t *)ctx;
}

static bool flags_count_is(canary_client *c, void *ctx)
{
	fs_server *fs = ctx;

	(void)c;
	return fs_count(fs, "/v1/flags") >= 1;
}

static void test_tick_with_curl(void **state)
{
	fs_server *fs = fs_start();
	dp_log *log = dp_log_new();
	canary_status ready = CANARY_STATUS_READY;
	uint64_t v2 = 2, now = 0;
	canary_options o;
	canary_client *c;
	int threads;

	(void)state;
	fs_set_config(fs, fs_config_json(1), 1);
	dp_options(&o, fs_url(fs), NULL, log, NULL);
	o.no_thread = true;
	o.poll_interval_ms = 3600000; /* only the stream can bring v2 */
	threads = count_threads();
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(count_threads(), threads); /* no worker thread */
	/* Nothing moves between ticks: wait_ready does not block. */
	assert_int_equal(canary_client_wait_ready(c, 60000), CANARY_ETIMEOUT);
	assert_true(tick_until(c, &now, 0, is_status, &ready));
	assert_int_equal(canary_client_wait_ready(c, 0), CANARY_OK);
	assert_true(canary_enabled(c, "all", "bob"));
	while (fs_streams_open(fs) < 1)
		assert_true(tick_until(c, &now, 0, is_status, &ready));
	fs_set_config(fs, fs_config_json(2), 2);
	assert_true(tick_until(c, &now, 0, has_version, &v2));
	if (fs_count(fs, "/v1/flags") != 1) {
		dp_log_dump(log);
		fail_msg("v2 did not come over the stream");
	}
	dp_log_free(log);
	canary_client_free(c);
	fs_stop(fs);
}

static void test_tick_arguments(void **state)
{
	canary_options o;
	canary_client *c;

	(void)state;
	assert_int_equal(canary_client_tick(NULL, 0), CANARY_EINVAL);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_tick(c, 0), CANARY_ESTATE);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_INITIALIZING);
	assert_int_equal(canary_client_set_config_json(c,
		fs_config_json(3), strlen(fs_config_json(3))), CANARY_OK);
	/* An offline client is ready once it has a config. */
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	assert_int_equal(canary_client_wait_ready(c, 0), CANARY_OK);
	canary_client_free(c);
	assert_int_equal(canary_client_status(NULL), CANARY_STATUS_INITIALIZING);
	assert_string_equal(canary_status_name(CANARY_STATUS_STALE), "STALE");
	assert_string_equal(canary_status_name((canary_status)42), "UNKNOWN");
}

/* Tick at a fixed fake time (real sleeps let the request complete). */
static bool tick_at_until(canary_client *c, uint64_t t, pred_fn pred,
	void *ctx)
{
	uint64_t end = dp_now_ms() + DP_PATIENCE_MS;

	while (dp_now_ms() < end) {
		assert_int_equal(canary_client_tick(c, t), CANARY_OK);
		if (pred(c, ctx))
			return true;
		dp_sleep_ms(2);
	}
	return false;
}

static void tick_at_for(canary_client *c, uint64_t t, int times)
{
	while (times--) {
		assert_int_equal(canary_client_tick(c, t), CANARY_OK);
		dp_sleep_ms(2);
	}
}

typedef struct nth {
	fs_server *fs;
	int n;
} nth;

static bool nth_request(canary_client *c, void *ctx)
{
	nth *x = ctx;

	return fs_count(x->fs, "/v1/flags") >= x->n &&
		canary_client_status(c) != CANARY_STATUS_INITIALIZING;
}

static void test_retry_after_honoured(void **state)
{
	fs_server *fs = fs_start();
	canary_options o;
	canary_client *c;
	nth first = { fs, 1 }, second = { fs, 2 };

	(void)state;
	fs_set_config(fs, fs_config_json(1), 1);
	fs_set_flags_mode(fs, FS_503_RETRY);
	fs_set_retry_after(fs, "5");
	dp_options(&o, fs_url(fs), NULL, NULL, NULL);
	o.no_thread = true;
	o.no_stream = true;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(tick_at_until(c, 1000, nth_request, &first));
	assert_int_equal(canary_client_status(c), CANARY_STATUS_OFFLINE);
	/* The backoff alone would retry within 100 ms; Retry-After says 5 s. */
	tick_at_for(c, 1000 + 4900, 50);
	assert_int_equal(fs_count(fs, "/v1/flags"), 1);
	fs_set_flags_mode(fs, FS_NORMAL);
	assert_true(tick_at_until(c, 1000 + 5001, nth_request, &second));
	canary_client_free(c);
	fs_stop(fs);
}

static void test_auth_error_is_final(void **state)
{
	canary_status auth = CANARY_STATUS_AUTH_ERROR;
	fs_server *fs = fs_start();
	uint64_t now = 0;
	canary_options o;
	canary_client *c;
	int i;

	(void)state;
	fs_set_config(fs, fs_config_json(1), 1);
	fs_require_key(fs, "not-ours");
	dp_options(&o, fs_url(fs), NULL, NULL, NULL);
	o.no_thread = true;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(tick_at_until(c, 0, is_status, &auth));
	assert_true(tick_at_until(c, 0, flags_count_is, fs));
	assert_int_equal(canary_client_wait_ready(c, 0), CANARY_EAUTH);
	for (i = 0; i < 50; i++) {
		now += 3600000; /* an hour per tick */
		tick_at_for(c, now, 1);
	}
	assert_int_equal(fs_count(fs, "/v1/flags"), 1);
	assert_int_equal(fs_count(fs, "/v1/stream"), 0);
	canary_client_free(c);
	fs_stop(fs);
}

/* ---- a transport hook ------------------------------------------------------ */

typedef struct hook {
	int requests;          /* /v1/flags */
	int streams;
	int fail;              /* answer CANARY_ENETWORK */
	int can_stream;
	uint64_t version;
	int saw_auth, saw_agent;
} hook;

static void hook_json(uint64_t v, char *buf, size_t len)
{
	snprintf(buf, len, "{\"version\": %llu, \"flags\": [{\"key\": \"all\","
		" \"rollout_bp\": 10000}, {\"key\": \"h%llu\", \"rollout_bp\": 10000}]}",
		(unsigned long long)v, (unsigned long long)v);
}

static const char *find_header(const canary_http_request *req,
	const char *prefix)
{
	size_t i;

	for (i = 0; i < req->header_count; i++)
		if (strncmp(req->headers[i], prefix, strlen(prefix)) == 0)
			return req->headers[i] + strlen(prefix);
	return NULL;
}

static int hook_stream(hook *h, const canary_http_request *req,
	canary_http_response *resp)
{
	uint64_t sent = 0, v;
	char json[256], ev[320];

	if (!__atomic_load_n(&h->can_stream, __ATOMIC_SEQ_CST))
		return CANARY_ENOTSUP;
	__atomic_add_fetch(&h->streams, 1, __ATOMIC_SEQ_CST);
	resp->status = 200;
	if (req->body_fn(": hi\n\n", 6, req->body_ctx))
		return 0;
	/* Until libcanary says stop: send each new version as an event. */
	while (req->body_fn(NULL, 0, req->body_ctx) == 0) {
		v = __atomic_load_n(&h->version, __ATOMIC_SEQ_CST);
		if (v != sent) {
			hook_json(v, json, sizeof(json));
			snprintf(ev, sizeof(ev), "id: %llu\ndata: %s\n\n",
				(unsigned long long)v, json);
			if (req->body_fn(ev, strlen(ev), req->body_ctx))
				break;
			sent = v;
		}
		dp_sleep_ms(5);
	}
	return 0;
}

static int hook_request(const canary_http_request *req,
	canary_http_response *resp, void *ctx)
{
	hook *h = ctx;
	const char *inm, *auth, *ua;
	char json[256], etag[64];
	uint64_t v;

	auth = find_header(req, "Authorization: ");
	ua = find_header(req, "User-Agent: ");
	if (auth && strcmp(auth, "Bearer sdk-test-key") == 0)
		__atomic_store_n(&h->saw_auth, 1, __ATOMIC_SEQ_CST);
	if (ua && strncmp(ua, "libcanary/", 10) == 0)
		__atomic_store_n(&h->saw_agent, 1, __ATOMIC_SEQ_CST);
	if (req->stream)
		return hook_stream(h, req, resp);
	__atomic_add_fetch(&h->requests, 1, __ATOMIC_SEQ_CST);
	if (__atomic_load_n(&h->fail, __ATOMIC_SEQ_CST))
		return CANARY_ENETWORK;
	v = __atomic_load_n(&h->version, __ATOMIC_SEQ_CST);
	snprintf(etag, sizeof(etag), "\"h%llu\"", (unsigned long long)v);
	inm = find_header(req, "If-None-Match: ");
	if (inm && strcmp(inm, etag) == 0) {
		resp->status = 304;
		return 0;
	}
	resp->status = 200;
	strcpy(resp->etag, etag);
	hook_json(v, json, sizeof(json));
	req->body_fn(json, strlen(json), req->body_ctx);
	return 0;
}

static void hook_options(canary_options *o, hook *h)
{
	dp_options(o, "http://hook.invalid", NULL, NULL, NULL);
	o->transport.request = hook_request;
	o->transport.ctx = h;
}

static void test_hook_tick_staleness(void **state)
{
	hook h = { 0, 0, 0, 1, 1, 0, 0 };
	canary_details d = CANARY_DETAILS_INIT;
	canary_options o;
	canary_client *c;

	(void)state;
	hook_options(&o, &h);
	o.no_thread = true;
	o.max_config_age_ms = 10000;
	o.stale_policy = CANARY_STALE_STABLE;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_tick(c, 0), CANARY_OK);
	/* The hook answers synchronously: ready after one tick. */
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	assert_int_equal(canary_client_config_version(c), 1);
	assert_true(h.saw_auth && h.saw_agent);
	assert_true(canary_evaluate(c, "all", "bob", &d));
	canary_client_tick(c, 200);
	assert_int_equal(h.requests, 2); /* polled: the hook never streams */
	assert_int_equal(h.streams, 0);  /* ... in no-thread mode */
	h.fail = 1;
	canary_client_tick(c, 5000);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_OFFLINE);
	canary_client_tick(c, 10100);
	canary_client_tick(c, 10300);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_STALE);
	assert_false(canary_evaluate(c, "all", "bob", &d));
	assert_int_equal(d.reason, CANARY_REASON_STALE);
	h.fail = 0;
	h.version = 2;
	canary_client_tick(c, 20000);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	assert_int_equal(canary_client_config_version(c), 2);
	assert_true(canary_evaluate(c, "h2", "bob", &d));
	assert_int_equal(d.reason, CANARY_REASON_SPLIT);
	canary_client_free(c);
}

static void test_hook_thread_stream(void **state)
{
	hook h = { 0, 0, 0, 1, 1, 0, 0 };
	canary_options o;
	canary_client *c;

	(void)state;
	hook_options(&o, &h);
	o.poll_interval_ms = 3600000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS), CANARY_OK);
	__atomic_store_n(&h.version, 2, __ATOMIC_SEQ_CST);
	assert_true(dp_wait_version(c, 2));
	assert_int_equal(__atomic_load_n(&h.requests, __ATOMIC_SEQ_CST), 1);
	/* Freed while the hook is inside its streaming loop. */
	canary_client_free(c);
}

static void test_hook_without_stream_polls(void **state)
{
	hook h = { 0, 0, 0, 0, 1, 0, 0 };
	canary_options o;
	canary_client *c;
	dp_log *log = dp_log_new();

	(void)state;
	hook_options(&o, &h);
	o.log_fn = dp_log_fn;
	o.log_ctx = log;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, DP_PATIENCE_MS), CANARY_OK);
	__atomic_store_n(&h.version, 2, __ATOMIC_SEQ_CST);
	assert_true(dp_wait_version(c, 2));
	canary_client_free(c);
	assert_int_equal(dp_log_count(log, "cannot stream"), 1);
	dp_log_free(log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_tick_with_curl),
		cmocka_unit_test(test_tick_arguments),
		cmocka_unit_test(test_retry_after_honoured),
		cmocka_unit_test(test_auth_error_is_final),
		cmocka_unit_test(test_hook_tick_staleness),
		cmocka_unit_test(test_hook_thread_stream),
		cmocka_unit_test(test_hook_without_stream_polls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
