/*
 * batch_parse.h - the POST /v1/events batch: its model and its strict parser.
 *
 * The parser is a pure function of the body bytes (no I/O, no globals) so
 * the fuzz harness and the server share it. Wire format: docs/protocol.md.
 */
#ifndef CS_EVENTS_H
#define CS_EVENTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "parse_error.h"

/* Wire limits (docs/protocol.md). */
#define CS_EVENTS_MAX_BODY (1024u * 1024u)
#define CS_EVENTS_MAX_WINDOWS 10000
#define CS_MAX_COUNT 9007199254740991ull /* 2^53 - 1: exact in JSON */
#define CS_MAX_INSTANCE_ID 128
#define CS_MAX_SDK_VERSION 64
#define CS_MAX_METRICS 64                /* custom metrics per window */
#define CS_MAX_METRIC_NAME 64

typedef enum cs_arm { CS_ARM_STABLE = 0, CS_ARM_CANARY = 1 } cs_arm;
#define CS_ARMS 2

const char *cs_arm_name(cs_arm arm);

typedef struct cs_bin {
	int32_t index;
	uint64_t count;
} cs_bin;

typedef struct cs_metric {
	char name[CS_MAX_METRIC_NAME + 1];
	uint64_t count;
	double sum;
} cs_metric;

typedef struct cs_window {
	char *flag;
	cs_arm arm;
	uint64_t config_version;
	uint64_t start_ms, end_ms;
	uint64_t exposures, errors;
	uint64_t latency_zero;
	cs_bin *bins;          /* sparse: strictly increasing index, count >= 1,
	                          validated by canary__hist_from_json() */
	size_t nbins;
	cs_metric *metrics;
	size_t nmetrics;
} cs_window;

typedef struct cs_batch {
	char batch_id[33];     /* 32 lowercase hex */
	char *instance_id;
	char *sdk_version;
	uint64_t sent_at_ms;
	uint64_t dropped_batches, dropped_windows;
	cs_window *windows;
	size_t count;
} cs_batch;

/*
 * Parse and validate one batch. On success `out` owns memory to release
 * with cs_batch_clear(). On failure returns CANARY_EPARSE with `e` naming
 * the field (or CANARY_ENOMEM), and `out` holds nothing.
 */
int cs_events_parse(const char *body, size_t len, cs_batch *out, cs_perror *e);

void cs_batch_clear(cs_batch *batch);

#endif
