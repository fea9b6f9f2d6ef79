/*
 * test_clock_jump.c - the application's clock jumps (tick mode takes the
 * time from the application, so a device whose RTC is corrected hands us
 * a jump): backwards by hours, forwards by days. The client keeps
 * answering from its config, never stalls for the size of the jump, and
 * picks up the next config within a poll interval of the new clock.
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

#define POLL_MS 1000u

typedef struct service {
	uint64_t version;
	int requests;
} service;

/* A flag service played in-process: "f" at 100% from version 1 on. */
static int play_service(const canary_http_request *req,
	canary_http_response *resp, void *ctx)
{
	service *s = ctx;
	char json[160];

	if (req->stream || strcmp(req->method, "GET") != 0) {
		resp->status = 404;
		return 0;
	}
	s->requests++;
	snprintf(json, sizeof(json),
		"{\"version\": %llu, \"flags\": [{\"key\": \"f\", \"rollout_bp\": 10000}]}",
		(unsigned long long)s->version);
	snprintf(resp->etag, sizeof(resp->etag), "\"v%llu\"",
		(unsigned long long)s->version);
	resp->status = 200;
	req->body_fn(json, strlen(json), req->body_ctx);
	return 0;
}

/* Tick every 100 ms of application time for `span` ms from `*now`. */
static void run_for(canary_client *c, uint64_t *now, uint64_t span)
{
	uint64_t end = *now + span;

	for (; *now < end; *now += 100) {
		assert_int_equal(canary_client_tick(c, *now), CANARY_OK);
		assert_true(canary_enabled(c, "f", "someone"));
	}
}

static void test_clock_jumps(void **state)
{
	service s = { 1, 0 };
	canary_options o;
	canary_client *c;
	uint64_t now = 50ull * 24 * 3600 * 1000; /* day 50 */
	int before;

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://flags.test";
	o.sdk_key = "sdk-key-for-tests";
	o.no_thread = true;
	o.poll_interval_ms = POLL_MS;
	o.transport.request = play_service;
	o.transport.ctx = &s;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	run_for(c, &now, 3000);
	assert_int_equal(canary_client_config_version(c), 1);

	/* Backwards by six hours: polling must go on within a few poll
	 * intervals of the new clock, not six hours later. */
	now -= 6ull * 3600 * 1000;
	s.version = 2;
	before = s.requests;
	run_for(c, &now, 5 * POLL_MS);
	assert_true(s.requests > before);
	assert_int_equal(canary_client_config_version(c), 2);

	/* Forwards by thirty days: one catch-up poll, no burst of polls for
	 * every interval that was skipped. */
	now += 30ull * 24 * 3600 * 1000;
	s.version = 3;
	before = s.requests;
	run_for(c, &now, 5 * POLL_MS);
	assert_int_equal(canary_client_config_version(c), 3);
	assert_true(s.requests - before <= 8);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_clock_jumps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
