/*
 * events.h - turning counts into batches: every flush interval, on
 * canary_flush() and at canary_client_free(), the counters of every live
 * snapshot (counters.h) are harvested into pending windows, one per (flag,
 * arm, config version), and these become batches (event_batch.h) written
 * to the outbox (outbox.h) in one transaction. Also what a lost record or
 * a dropped batch becomes (a drop report in the next batch), and what
 * canary_flush() waits on (see docs/events.md).
 *
 * Delivery of the outbox is delivery.c's; this module hands it the oldest
 * batch and hears back when it left.
 */
#ifndef CANARY_SDK_EVENTS_H
#define CANARY_SDK_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "canary/canary.h"
#include "counters.h"
#include "event_batch.h"
#include "log.h"

#define CANARY__EV_MAX_HISTS 256     /* pending windows with latency */

struct canary__snapshot;
typedef struct canary__events canary__events;

/* `log` and `counters` are borrowed for the events' life. */
int canary__events_new(canary__events **out, const canary__alloc *a,
	const canary__logger *log, canary__counters *counters,
	uint32_t outbox_max_batches, uint64_t outbox_max_bytes);
void canary__events_free(canary__events *ev);

/* The outbox: at `path` (the cache file) or, NULL or unusable, in memory.
 * `note` says what went wrong. */
int canary__events_open_outbox(canary__events *ev, const char *path,
	char *note, size_t notelen);

/* What turns the windows of a flush into outbox bodies, when it is not
 * the libcanary batch: canary__ev_batches_build()'s contract, with the
 * config source's state first (source.h, `encode`). */
typedef int (*canary__ev_encode_fn)(void *ctx, const canary__ev_batch *head,
	const canary__ev_window *w, size_t n, size_t soft_bytes,
	canary__ev_new_id new_id, void *id_ctx, canary__ev_body **out,
	size_t *nout);
void canary__events_set_encoder(canary__events *ev, canary__ev_encode_fn fn,
	void *ctx);

/* Put one body the caller made into the outbox (a config source's hello).
 * CANARY_OK, CANARY_ESTORAGE, CANARY_ENOMEM. */
int canary__events_put_body(canary__events *ev, const char *body,
	size_t len);

/* This process's instance id ("host/pid-N"), sent with every batch. */
const char *canary__events_instance_id(const canary__events *ev);

/* The hazard domain frees `snap`: harvest its table's last counts. */
void canary__events_retire(canary__events *ev,
	const struct canary__snapshot *snap);

/*
 * Move every count into batches in the outbox (one transaction). Serialised
 * internally; any thread. *last_seq (may be NULL) is the outbox seq of the
 * last batch written, or of the newest batch already there when there was
 * nothing to write (0: the outbox is empty).
 * Returns CANARY_OK, CANARY_ENOMEM or CANARY_ESTORAGE (counts kept).
 */
int canary__events_flush(canary__events *ev, int64_t *last_seq);

/* Delivery (delivery.c): the oldest batch, as canary__outbox_oldest(). */
int canary__events_oldest(canary__events *ev, int64_t *seq, char **body,
	size_t *len);
/* The batch left the outbox: `delivered` (2xx) or refused (dropped). */
void canary__events_done(canary__events *ev, int64_t seq, bool delivered);
/* Wait until every batch up to `seq` left the outbox, or the timeout. */
bool canary__events_wait(canary__events *ev, int64_t seq,
	uint32_t timeout_ms);

/* Is a batch waiting in the outbox? */
bool canary__events_pending(canary__events *ev);

/* Every field of the current canary_event_stats but `version`. */
void canary__events_stats(canary__events *ev, canary_event_stats *out);

/* fork(): hold every lock across it (prefork, then unlock in both); in
 * the child, before use: forget the parent's counts, fresh outbox. */
void canary__events_prefork(canary__events *ev);
void canary__events_postfork_unlock(canary__events *ev);
int canary__events_postfork_child(canary__events *ev);

#endif
