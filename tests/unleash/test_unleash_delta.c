/*
 * test_unleash_delta.c - a client in Unleash mode with opts.unleash_delta
 * against a transport hook serving Unleash's delta API: a hydration first
 * (no ETag sent), then changes since the ETag, then 304; the whole
 * document cached for an offline start; and the fall back to whole
 * documents after an HTTP error or a delta that cannot be applied; and
 * every allocation of the client's allocator failing in turn.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "../support/test_alloc.h"

#define BETA_U1 \
	"{\"name\": \"beta\", \"enabled\": true, \"strategies\": [" \
	" {\"name\": \"userWithId\", \"parameters\": {\"userIds\": \"u1\"}}]}"
#define OFF \
	"{\"name\": \"off\", \"enabled\": false, \"strategies\": []}"
#define GAMMA \
	"{\"name\": \"gamma\", \"enabled\": true, \"strategies\": []}"

static const char hydration[] =
	"{\"events\": [{\"eventId\": 1, \"type\": \"hydration\","
	" \"features\": [" BETA_U1 ", " OFF ", " GAMMA "], \"segments\": []}]}";
static const char changes[] =
	"{\"events\": ["
	" {\"eventId\": 2, \"type\": \"feature-updated\", \"feature\":"
	"  {\"name\": \"beta\", \"enabled\": true, \"strategies\": ["
	"   {\"name\": \"userWithId\", \"parameters\": {\"userIds\": \"u1,u3\"}}]}},"
	" {\"eventId\": 3, \"type\": \"feature-removed\", \"featureName\": \"off\"}]}";
static const char malformed[] =
	"{\"events\": [{\"eventId\": 4, \"type\": \"feature-removed\"}]}";
static const char whole[] =
	"{\"version\": 2, \"features\": [" BETA_U1 "]}";

static struct {
	bool delta_404, bad_delta, offline;
	int deltas, wholes, not_modified;
	bool sent_etag;           /* the last GET had If-None-Match */
} svc;

static const char *etag_sent(const canary_http_request *req)
{
	size_t i;

	for (i = 0; i < req->header_count; i++)
		if (strncmp(req->headers[i], "If-None-Match: ", 15) == 0)
			return req->headers[i] + 15;
	return NULL;
}

static void answer(canary_http_response *resp, const canary_http_request *req,
	const char *body, const char *etag)
{
	resp->status = 200;
	snprintf(resp->etag, sizeof(resp->etag), "%s", etag);
	req->body_fn(body, strlen(body), req->body_ctx);
}

static void serve_delta(const canary_http_request *req,
	canary_http_response *resp, const char *etag)
{
	svc.deltas++;
	if (svc.delta_404)
		resp->status = 404;
	else if (!etag)
		answer(resp, req, hydration, "\"d-1\"");
	else if (svc.bad_delta)
		answer(resp, req, malformed, "\"d-x\"");
	else if (strcmp(etag, "\"d-1\"") == 0)
		answer(resp, req, changes, "\"d-2\"");
	else
		resp->status = 304;
	svc.not_modified += resp->status == 304;
}

static int hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	const char *etag = etag_sent(req);

	(void)ctx;
	if (svc.offline || req->stream)
		return CANARY_ENETWORK;
	if (strcmp(req->method, "POST") == 0) {
		resp->status = 202;
		return CANARY_OK;
	}
	svc.sent_etag = etag != NULL;
	if (strcmp(req->url, "http://unleash.test/api/client/delta") == 0) {
		serve_delta(req, resp, etag);
	} else if (strcmp(req->url,
	    "http://unleash.test/api/client/features") == 0) {
		svc.wholes++;
		answer(resp, req, whole, "\"f-1\"");
	} else {
		resp->status = 404;
	}
	return CANARY_OK;
}

static void reset(void)
{
	memset(&svc, 0, sizeof(svc));
}

/* No thread (the test ticks); flushes only when asked. */
static void options_for(canary_options *o, const char *cache_path,
	bool delta)
{
	canary_options_init(o, CANARY_OPTIONS_VERSION);
	o->source = CANARY_SOURCE_UNLEASH;
	o->server_url = "http://unleash.test/api";
	o->sdk_key = "client-token-1";
	o->transport.request = hook;
	o->cache_path = cache_path;
	o->no_thread = true;
	o->unleash_delta = delta;
	o->poll_interval_ms = 1000;
	o->backoff_cap_ms = 1000;
	o->flush_interval_ms = 3600000;
	o->log_stderr = CANARY_LOG_OFF;
}

static canary_client *client_with(const char *cache_path, bool delta)
{
	canary_options o;
	canary_client *c;

	options_for(&o, cache_path, delta);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	return c;
}

/* One more poll: the clock moved past any interval or backoff. */
static void poll_once(canary_client *c)
{
	static uint64_t now = 1;

	now += 100000;
	assert_int_equal(canary_client_tick(c, now), CANARY_OK);
}

/* A temporary cache file's name. */
static void temp_db(char *db, size_t len)
{
	char path[] = "/tmp/canary-delta-XXXXXX";
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(db, len, "%s.db", path);
}

static canary_eval_error beta(canary_client *c, const char *unit, bool *on)
{
	canary_context ctx = CANARY_CONTEXT_INIT;
	canary_details d = CANARY_DETAILS_INIT;

	ctx.unit = unit;
	*on = canary_evaluate_ctx(c, "beta", &ctx, 0, &d);
	return d.error_code;
}

static bool has(canary_client *c, const char *flag)
{
	canary_context ctx = CANARY_CONTEXT_INIT;
	canary_details d = CANARY_DETAILS_INIT;

	ctx.unit = "u1";
	canary_evaluate_ctx(c, flag, &ctx, 0, &d);
	return d.error_code != CANARY_EVAL_FLAG_NOT_FOUND;
}

static bool has_off(canary_client *c)
{
	return has(c, "off");
}

static void test_delta_follows_changes(void **state)
{
	canary_client *c;
	char db[64];
	bool on;

	(void)state;
	temp_db(db, sizeof(db));
	reset();
	c = client_with(db, true);
	poll_once(c);
	assert_int_equal(svc.deltas, 1);
	assert_false(svc.sent_etag);  /* a hydration first */
	assert_int_equal(beta(c, "u1", &on), CANARY_EVAL_OK);
	assert_true(on);
	beta(c, "u3", &on);
	assert_false(on);
	assert_true(has_off(c));
	/* The changes since d-1, applied to the kept document. */
	poll_once(c);
	assert_int_equal(svc.deltas, 2);
	assert_true(svc.sent_etag);
	beta(c, "u3", &on);
	assert_true(on);
	beta(c, "u1", &on);
	assert_true(on);
	assert_false(has_off(c));
	poll_once(c);
	assert_int_equal(svc.not_modified, 1);
	assert_int_equal(svc.wholes, 0);
	canary_client_free(c);

	/* The cache holds the whole document, not the last delta: gamma,
	 * which only the hydration had, is there. */
	svc.offline = true;
	c = client_with(db, true);
	assert_true(canary_client_config_version(c) > 0);
	assert_int_equal(beta(c, "u3", &on), CANARY_EVAL_OK);
	assert_true(on);
	assert_false(has_off(c));
	assert_true(has(c, "gamma"));
	canary_client_free(c);
	unlink(db);
}

/* A server without the delta API: whole documents after its 404. */
static void test_fallback_after_http_error(void **state)
{
	canary_client *c;
	bool on;

	(void)state;
	reset();
	svc.delta_404 = true;
	c = client_with(NULL, true);
	poll_once(c);
	assert_int_equal(svc.deltas, 1);
	assert_int_equal(canary_client_config_version(c), 0);
	poll_once(c);
	assert_int_equal(svc.wholes, 1);
	assert_int_equal(beta(c, "u1", &on), CANARY_EVAL_OK);
	assert_true(on);
	poll_once(c);
	assert_int_equal(svc.deltas, 1);
	canary_client_free(c);
}

/* A delta that cannot be applied keeps the config in force, then whole
 * documents. */
static void test_fallback_after_bad_delta(void **state)
{
	canary_client *c;
	bool on;

	(void)state;
	reset();
	c = client_with(NULL, true);
	poll_once(c);
	assert_true(has_off(c));
	svc.bad_delta = true;
	poll_once(c);
	assert_int_equal(svc.deltas, 2);
	assert_true(has_off(c));      /* still the hydration's config */
	poll_once(c);
	assert_int_equal(svc.wholes, 1);
	assert_int_equal(svc.deltas, 2);
	assert_false(has_off(c));
	assert_int_equal(beta(c, "u1", &on), CANARY_EVAL_OK);
	assert_true(on);
	canary_client_free(c);
}

/* Whole documents stay the default. */
static void test_default_is_whole_documents(void **state)
{
	canary_client *c;

	(void)state;
	reset();
	c = client_with(NULL, false);
	poll_once(c);
	poll_once(c);
	assert_int_equal(svc.deltas, 0);
	assert_int_equal(svc.wholes, 2);
	canary_client_free(c);
}

/* Delta polling with a cache, then a variant, with the Nth allocation
 * failing, for every N until a run fails none: an error or an answer,
 * never a crash or a leak. */
static void test_every_allocation_failing(void **state)
{
	canary_context ctx = CANARY_CONTEXT_INIT;
	canary_variant v = CANARY_VARIANT_INIT;
	canary_options o;
	canary_client *c;
	char db[64];
	size_t n;
	int i;

	(void)state;
	ctx.unit = "u1";
	for (n = 1;; n++) {
		test_alloc t = { 0, 0, n, 0 };

		reset();
		temp_db(db, sizeof(db));
		options_for(&o, db, true);
		o.allocator = test_alloc_hooks(&t);
		if (canary_client_new(&c, &o) == CANARY_OK) {
			for (i = 0; i < 3; i++)
				poll_once(c);
			canary_variant_ctx(c, "beta", &ctx, 0, &v);
			canary_client_free(c);
		}
		unlink(db);
		assert_int_equal(t.live, 0);
		if (t.calls < n)
			break;
	}
	assert_true(n > 10);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_delta_follows_changes),
		cmocka_unit_test(test_fallback_after_http_error),
		cmocka_unit_test(test_fallback_after_bad_delta),
		cmocka_unit_test(test_default_is_whole_documents),
		cmocka_unit_test(test_every_allocation_failing),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
