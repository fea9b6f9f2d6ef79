/*
 * event_batch.h - the POST /v1/events batch (docs/protocol.md, "Events"):
 * its model, its encoder (the SDK's) and its strict decoder (canary-server's)
 * in one module, so that what is sent and what is accepted cannot drift.
 * A field is added here once: the model below, the encoder (put_window(),
 * put_head()) and the decoder (its member tables, window_names and
 * batch_names), with its round trip in tests/unit/test_events_batch.c.
 *
 * Pure: no lock, no I/O, no global state (batch ids come from the caller).
 */
#ifndef CANARY_PROTO_EVENT_BATCH_H
#define CANARY_PROTO_EVENT_BATCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "buf.h"
#include "canary/canary.h"
#include "config.h"
#include "histogram.h"
#include "hll.h"
#include "parse_error.h"

/* Wire limits. */
#define CANARY__EV_MAX_BODY (1024u * 1024u)  /* the service refuses more */
#define CANARY__EV_SOFT_BODY (768u * 1024u)  /* the SDK cuts a batch here */
#define CANARY__EV_MAX_WINDOWS 10000         /* per batch */
#define CANARY__EV_MAX_METRICS 64            /* custom metrics per window */
#define CANARY__EV_METRIC_NAME_MAX 64
#define CANARY__EV_MAX_SUM 1e300             /* |sum| of a metric */
#define CANARY__EV_MAX_INSTANCE_ID 128
#define CANARY__EV_MAX_SDK_VERSION 64
#define CANARY__EV_ID_LEN 32                 /* batch_id: lowercase hex */
#define CANARY__ARMS 2                       /* canary_arm values */

typedef struct canary__ev_metric {
	char name[CANARY__EV_METRIC_NAME_MAX + 1];
	uint64_t count;
	double sum;
} canary__ev_metric;

/* A sketch of units as canary__hll_encode() writes it (base64 on the
 * wire), at precision CANARY__HLL_P. */
typedef struct canary__ev_sketch {
	uint8_t *bytes;
	size_t len;
} canary__ev_sketch;

/* The largest sketch the decoder takes (the dense form at CANARY__HLL_P). */
#define CANARY__EV_MAX_SKETCH \
	(CANARY__HLL_HEADER + CANARY__HLL_DENSE_BYTES(CANARY__HLL_P))

/*
 * What lets the server judge users rather than requests (docs/protocol.md,
 * "User-level evidence"; docs/analysis.md): sketches of the units exposed
 * (or with an error) and of the units with at least one error, and how the
 * errors cluster on units (proto/unit_errors.h's figures). All of it or
 * none: a window without it is a v1 window.
 */
typedef struct canary__ev_users {
	canary__ev_sketch units, error_units;
	uint64_t error_units_mapped;  /* units in the map of erroring units */
	uint64_t error_sq;            /* sum over them of (their errors)^2 */
	uint64_t error_max;           /* the most errors of one of them */
	uint64_t errors_unmapped;     /* errors of units the map had no room
	                                 for */
} canary__ev_users;

/* What one (flag, arm, config version) counted from start_ms to end_ms. */
typedef struct canary__ev_window {
	char flag[CANARY__MAX_KEY_LEN + 1];
	canary_arm arm;
	uint64_t config_version;
	uint64_t start_ms, end_ms;
	uint64_t exposures, errors;
	/* Evaluations (and errors) of units the flag's targeting excludes,
	 * counted apart: they got the stable build but are not the stable
	 * arm's (docs/targeting.md). Only in a "stable" window. */
	uint64_t ineligible, ineligible_errors;
	/* The latency histogram, sparse (none when both are empty). */
	uint64_t latency_zero;
	canary__hist_entry *bins;   /* strictly increasing index, count >= 1 */
	size_t nbins;
	canary__ev_metric *metrics; /* names unique */
	size_t nmetrics;
	bool has_users;             /* `users` is present */
	canary__ev_users users;
} canary__ev_window;

typedef struct canary__ev_batch {
	char batch_id[CANARY__EV_ID_LEN + 1];
	char instance_id[CANARY__EV_MAX_INSTANCE_ID + 1];
	char sdk_version[CANARY__EV_MAX_SDK_VERSION + 1];
	uint64_t sent_at_ms;
	uint64_t dropped_batches, dropped_windows; /* the sender's losses */
	canary__ev_window *windows;
	size_t count;
	/* The decoder's: what frees windows, bins, metrics and sketches
	 * (canary__ev_batch_clear). NULL: the caller's memory. */
	const canary__alloc *owner;
} canary__ev_batch;

/* The metric-name rule: 1..64 bytes of [A-Za-z0-9_.-]. */
bool canary__ev_metric_name_ok(const char *name);

/* "stable" or "canary". */
const char *canary__arm_name(canary_arm arm);

/*
 * Append the batch `b` as its JSON body to `out`. Counts above
 * CANARY__JSON_MAX_INT (not reachable by real traffic) are sent as that;
 * a metric's sum is left out when it is not finite or above
 * CANARY__EV_MAX_SUM, which the decoder would refuse.
 * @return CANARY_OK; CANARY_ENOMEM (out->failed).
 */
int canary__ev_batch_encode(const canary__ev_batch *b, canary__buf *out);

/* One encoded batch. */
typedef struct canary__ev_body {
	char id[CANARY__EV_ID_LEN + 1];
	char *body;              /* the JSON document, NUL-terminated */
	size_t len;
	uint64_t dropped_batches, dropped_windows; /* what it reports */
} canary__ev_body;

/* Fill id with a fresh batch id (32 lowercase hex digits and a NUL). */
typedef void (*canary__ev_new_id)(void *ctx, char id[CANARY__EV_ID_LEN + 1]);

/*
 * Encode the windows w[0..n) as bodies of at most CANARY__EV_MAX_WINDOWS
 * windows, each cut once it passes `soft_bytes` (the service takes
 * CANARY__EV_MAX_BODY), each with a fresh id from new_id(). `head` gives
 * what every body shares (instance_id, sdk_version, sent_at_ms); only the
 * first reports its drops. n may be 0: one body with no window, for a drop
 * report. *out is freed with canary__ev_bodies_free().
 * @return CANARY_OK or CANARY_ENOMEM.
 */
int canary__ev_batches_build(const canary__alloc *a,
	const canary__ev_batch *head, const canary__ev_window *w, size_t n,
	size_t soft_bytes, canary__ev_new_id new_id, void *ctx,
	canary__ev_body **out, size_t *nout);

void canary__ev_bodies_free(const canary__alloc *a, canary__ev_body *b,
	size_t n);

/*
 * Decode and validate one body: everything present is checked (types,
 * ranges, sizes, the order of histogram bins, metric names, the form of
 * each sketch and that the user-level fields come together; how they
 * relate to the counts is the judge's cj_window_check()), unknown fields
 * are ignored (a newer SDK may send more); `opts` adds the reader options
 * of json_read.h (CANARY__JSON_UTF8). The first error wins and names its
 * field ("windows[2].exposures"). On success `out` owns memory from `a`
 * to release with canary__ev_batch_clear(); on failure it holds nothing.
 * @return CANARY_OK, CANARY_EPARSE or CANARY_ENOMEM.
 */
int canary__ev_batch_decode(const canary__alloc *a, const char *body,
	size_t len, unsigned opts, canary__ev_batch *out, canary__perror *e);

/* Free what the decoder allocated (nothing for the caller's memory) and
 * empty the batch. NULL-safe. */
void canary__ev_batch_clear(canary__ev_batch *b);

#endif
