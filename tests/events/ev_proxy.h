/*
 * ev_proxy.h - a transport hook for the events tests: it forwards the
 * SDK's requests to the real canary-server (with libcurl), and can be told
 * to play a network failure, answer 500 itself, or send a POST twice.
 * Polling only (it declines streams), so each test's client is simple.
 */
#ifndef CANARY_TEST_EV_PROXY_H
#define CANARY_TEST_EV_PROXY_H

#include <stdint.h>

#include "canary/canary.h"
#include "harness.h"

typedef enum px_mode {
	PX_FORWARD = 0,  /* pass everything through */
	PX_DOWN,         /* POSTs fail with no response (as if unreachable) */
	PX_500,          /* POSTs get a 500 from the proxy itself */
	PX_404,          /* POSTs get a 404 from the proxy itself (a path
	                    that is not routed) */
	PX_DUP           /* POSTs are sent twice; the second answer counts */
} px_mode;

/* Forward to this server (re-read on every request: it may restart). */
void px_target(const srv *s);

/* `mode` for the next `count` POSTs (0 = until changed), then forward. */
void px_set(px_mode mode, int count);

/* POSTs that reached the server, and the sum of their "dropped.batches". */
int px_posts_forwarded(void);
uint64_t px_dropped_batches_seen(void);
void px_reset_counters(void);

int px_hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx);

/* Options for a test client through the proxy. */
void px_options(canary_options *o, const char *cache_path);

/* Admin helpers: create or update a flag; read one arm's stats. */
void px_put_flag(const srv *s, const char *flag, int rollout_bp);
typedef struct px_arm {
	uint64_t exposures, errors, lat_count;
	double p50, p95, p99;
} px_arm;
/* arm 0 stable, 1 canary; returns 0 on success. */
int px_stats(const srv *s, const char *flag, px_arm out[2]);

#endif
