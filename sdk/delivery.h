/*
 * delivery.h - event delivery: every flush interval the counts become
 * batches in the outbox (events.h), and the outbox goes to the service
 * oldest batch first, one POST at a time, through the config source's
 * events request (source.h) and the worker's transport (transfer.h).
 * See docs/events.md, "Delivery".
 *
 * 2xx: the batch leaves the outbox. 4xx other than 408 and 429: it can
 * never be accepted, so it leaves too, counted and reported as dropped.
 * Anything else: it stays, and the next try waits an exponential backoff,
 * at least the service's Retry-After.
 *
 * Driven by the worker's step (the worker thread, or canary_client_tick()):
 * nothing here waits on the network.
 */
#ifndef CANARY_SDK_DELIVERY_H
#define CANARY_SDK_DELIVERY_H

#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "events.h"
#include "log.h"
#include "source.h"
#include "transfer.h"

typedef struct canary__delivery canary__delivery;

/* Borrowed for the delivery's life. */
typedef struct canary__delivery_env {
	const canary__alloc *alloc;
	const canary__logger *log;
	canary__events *events;
	const canary__source *source;
	uint32_t flush_interval_ms;
	uint32_t backoff_cap_ms;
} canary__delivery_env;

int canary__delivery_new(canary__delivery **out,
	const canary__delivery_env *env, uint64_t seed);
/* Frees a POST in flight too: call before freeing its transport. */
void canary__delivery_free(canary__delivery *d);

/* One step at `now` (the driver's clock): flush when the timer is due,
 * move the POST in flight on through `t`, and, when `may_send`, start the
 * next one when its time has come. */
void canary__delivery_step(canary__delivery *d, canary__transport *t,
	int64_t now, bool may_send);

/* The earlier of `deadline` and the time the next step has work. */
int64_t canary__delivery_deadline(canary__delivery *d, int64_t deadline,
	int64_t now, bool may_send);

/* The driver's clock went back by -delta: move every deadline with it. */
void canary__delivery_shift(canary__delivery *d, int64_t delta);

/* canary_flush(): try to deliver at the next step. Any thread. */
void canary__delivery_ask(canary__delivery *d);

/* After fork(), in the child: the parent's POST in flight is left alone
 * (its memory abandoned); timers and backoff start over. */
void canary__delivery_postfork(canary__delivery *d, uint64_t seed);

#endif
