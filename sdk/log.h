/*
 * log.h - the client's log: the application's callback, or stderr, filtered
 * by level; and "log a repeated failure once".
 *
 * Without a callback, messages at or above the stderr level (WARN unless
 * opts.log_stderr or the environment variable CANARY_LOG say otherwise)
 * are written to stderr, prefixed "libcanary: ", each distinct message
 * once per CANARY__LOG_REPEAT_MS, and at most CANARY__LOG_BURST lines at
 * once, refilled one per CANARY__LOG_REFILL_MS (20 a minute): a client in
 * trouble says so without flooding a service's log. What the rate limit
 * holds back is counted and the count written with the next line that
 * passes.
 *
 * Every module that logs gets a borrowed `const canary__logger *` (the
 * client's), so no module needs the client structure to log.
 */
#ifndef CANARY_SDK_LOG_H
#define CANARY_SDK_LOG_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

#include "canary/canary.h"
#include "error.h"

#define CANARY__LOG_SEEN 64                 /* distinct messages remembered */
#define CANARY__LOG_REPEAT_MS (10 * 60000)  /* the same message again after */
#define CANARY__LOG_BURST 20
#define CANARY__LOG_REFILL_MS 3000

/* The stderr writer's memory: what was written when, and the budget. */
typedef struct canary__log_sink {
	pthread_mutex_t lock;
	uint32_t seen_hash[CANARY__LOG_SEEN];
	int64_t seen_at[CANARY__LOG_SEEN];
	unsigned seen_next;
	unsigned tokens;
	int64_t refilled_at;
	unsigned held_back;
} canary__log_sink;

typedef struct canary__logger {
	canary_log_fn fn;           /* NULL: stderr, through `sink` */
	void *ctx;
	canary_log_level level;     /* lowest level passed on */
	canary__log_sink *sink;     /* NULL: no logging at all */
} canary__logger;

/*
 * Set up `log` for a client: the callback with its level, or else stderr
 * at `stderr_level`, which the environment variable CANARY_LOG overrides
 * (an unknown value is said on stderr and ignored). `sink` is the
 * client's, borrowed for the logger's life.
 */
void canary__log_setup(canary__logger *log, canary__log_sink *sink,
	canary_log_fn fn, void *ctx, canary_log_level fn_level,
	canary_log_level stderr_level);
void canary__log_teardown(canary__logger *log);

/* fork(): hold the stderr writer's lock across it (a leaf lock: take it
 * after every other), then release it in both processes. */
void canary__log_prefork(canary__logger *log);
void canary__log_postfork(canary__logger *log);

/* Parse a CANARY_LOG value. False when it is none of off, error, warn,
 * info, debug (any case). */
bool canary__log_level_parse(const char *s, canary_log_level *out);

/* `log` may be NULL (nothing is logged). */
void canary__log(const canary__logger *log, canary_log_level level,
	const char *fmt, ...) CANARY__PRINTF(3, 4);

/* The last failure reported under one heading ("GET /v1/flags"): a
 * failure is logged at `level` once, its repeats at DEBUG only. */
#define CANARY__LOG_KEY_LEN 160
typedef char canary__log_slot[CANARY__LOG_KEY_LEN];

/* Log `detail` under `what`; `key` (a stable description of the failure)
 * decides whether it is a repeat of the one in `slot`. */
void canary__log_failure(const canary__logger *log, canary__log_slot slot,
	canary_log_level level, const char *what, const char *key,
	const char *detail);

/* The failure in `slot` is over: log "working again" once and forget it. */
void canary__log_recovered(const canary__logger *log, canary__log_slot slot,
	const char *what);

#endif
