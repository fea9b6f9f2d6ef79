/*
 * webhook_sender.h - the worker that delivers webhook events: a thread of
 * its own (never the controller's transaction, never an HTTP thread) that
 * takes the deliveries the store has queued (an audit record with an
 * event queues one per webhook that wants it, in the change's own
 * transaction), POSTs each one's JSON payload to its URL, and records
 * every attempt: delivered on a 2xx, otherwise retried after
 * `retry_ms`, doubling up to an hour, and given up ("failed") after
 * CS_WEBHOOK_ATTEMPTS attempts.
 *
 * Each request carries the headers
 *   Canary-Webhook-Id: <delivery id>          (the same on every retry)
 *   Canary-Webhook-Event: <event>
 *   Canary-Webhook-Timestamp: <unix seconds>  (when this attempt was sent)
 *   Canary-Webhook-Signature: v1=<hex HMAC-SHA256 of "<timestamp>.<body>"
 *                             with the webhook's secret>
 * so a receiver can check who sent it and refuse a replay (a timestamp
 * more than a few minutes old). Redirects are not followed; only http
 * and https are spoken; loopback, link-local and unspecified addresses
 * are refused when connecting (webhook_target.h).
 *
 * Of several servers on one database, only the one that runs the
 * controller sends (`may_send`); a change of that server may send a
 * delivery twice, never lose one: receivers deduplicate by the id.
 */
#ifndef CS_WEBHOOK_SENDER_H
#define CS_WEBHOOK_SENDER_H

#include <stdbool.h>
#include <stdint.h>

#include "store/storage.h"

#define CS_WEBHOOK_ATTEMPTS 10

typedef struct cs_webhook_sender cs_webhook_sender;

typedef bool (*cs_may_send_fn)(void *ctx);

/* `poll_ms`: how often the queue is read; `retry_ms`: the first retry's
 * wait; `allow_loopback`: whether a receiver on this host may be reached
 * (webhook_target.h: every address is checked when connecting). `store`
 * and `ctx` are borrowed until cs_sender_free(). */
int cs_sender_new(cs_webhook_sender **out, cs_store *store,
	cs_may_send_fn may_send, void *ctx, uint64_t poll_ms,
	uint64_t retry_ms, bool allow_loopback);

/* Start the thread. libcurl must be initialised (curl_global_init). */
int cs_sender_start(cs_webhook_sender *s);

/* Stop the thread (an attempt in flight finishes, or times out) and
 * free. NULL is fine. */
void cs_sender_free(cs_webhook_sender *s);

/* The signature header's value for `body` sent at `timestamp` (unix
 * seconds, as text) with `secret`: "v1=" and 64 hex digits. */
int cs_webhook_signature(const char *secret, const char *timestamp,
	const char *body, char out[68]);

#endif
