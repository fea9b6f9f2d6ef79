/*
 * event_batch.h - pending event windows, and their encoding as the bodies
 * of POST /v1/events (docs/protocol.md, "Events"): batches of at most
 * 10,000 windows and about 768 KiB (the service takes 1 MiB), each with a
 * fresh random batch_id. Pure: no lock, no I/O.
 */
#ifndef CANARY_SDK_EVENT_BATCH_H
#define CANARY_SDK_EVENT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "canary/canary.h"
#include "config.h"
#include "counters.h"
#include "histogram.h"

#define CANARY__EV_MAX_WINDOWS 10000 /* per batch (and pending at most) */

typedef struct canary__ev_metric {
	char name[CANARY__EV_METRIC_NAME_MAX + 1];
	uint64_t count;
	double sum;
} canary__ev_metric;

/* A pending window: what one (flag, arm, version) counted since the
 * last batch. */
typedef struct canary__ev_window {
	char flag[CANARY__MAX_KEY_LEN + 1];
	canary_arm arm;
	uint64_t version;
	uint64_t exposures, errors;
	canary__hist *lat;
	canary__ev_metric *metrics;
	size_t nmetrics, capmetrics;
} canary__ev_window;

/* What every batch of one flush shares. The first batch reports the
 * drops. `rng` seeds batch ids when the kernel has no randomness to give. */
typedef struct canary__ev_batch_meta {
	const char *instance_id;
	int64_t start_ms, now_ms;
	uint64_t dropped_batches, dropped_windows;
	uint64_t *rng;
} canary__ev_batch_meta;

typedef struct canary__ev_batch {
	char id[33];             /* 32 lowercase hex digits */
	char *body;              /* the JSON document, NUL-terminated */
	size_t len;
	uint64_t dropped_batches, dropped_windows; /* what it reports */
} canary__ev_batch;

/* Encode `n` windows (n may be 0: one batch with no window, for a drop
 * report). *out is freed with canary__ev_batches_free().
 * Returns CANARY_OK or CANARY_ENOMEM. */
int canary__ev_batches_build(const canary__alloc *a,
	const canary__ev_batch_meta *meta, const canary__ev_window *w, size_t n,
	canary__ev_batch **out, size_t *nout);

void canary__ev_batches_free(const canary__alloc *a, canary__ev_batch *b,
	size_t n);

#endif
