/*
 * log.h - the client's log callback, filtered by level, and "log a
 * repeated failure once".
 *
 * Every module that logs gets a borrowed `const canary__logger *` (the
 * client's), so no module needs the client structure to log.
 */
#ifndef CANARY_SDK_LOG_H
#define CANARY_SDK_LOG_H

#include "canary/canary.h"
#include "error.h"

typedef struct canary__logger {
	canary_log_fn fn;           /* NULL: no logging */
	void *ctx;
	canary_log_level level;     /* lowest level passed to fn */
} canary__logger;

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
