/*
 * logline.h - what canary-server says on stderr: one line per thing it
 * does (a flag, token or webhook change with its actor, a rollout
 * decision that changes something, a leader change, a failure), as text
 * ("canary-server: ...") or, with --log-format json, one JSON object per
 * line for log shippers:
 *
 *   {"time":"2026-05-01T09:10:02.123Z","level":"info","event":"flag.update",
 *    "actor":"alice","flag":"checkout-v2","config_version":42,
 *    "msg":"flag checkout-v2 updated by alice: rollout_bp 100 -> 2500"}
 *
 * A line never holds a secret: callers pass names, never tokens or keys.
 * Any thread may log; each line is written whole.
 */
#ifndef CS_LOGLINE_H
#define CS_LOGLINE_H

#include <stdbool.h>
#include <stdint.h>

#include "attributes.h"

typedef enum cs_log_format { CS_LOG_TEXT = 0, CS_LOG_JSON } cs_log_format;
typedef enum cs_log_level { CS_LOG_INFO = 0, CS_LOG_WARN, CS_LOG_ERROR }
	cs_log_level;

/* Before any thread starts: the format, and whether info lines are
 * dropped (--quiet). The default is text, everything. */
void cs_log_setup(cs_log_format format, bool quiet);

/* What a line is about (each member optional: NULL or 0 leaves it out). */
typedef struct cs_log_about {
	const char *event;          /* "flag.update", "rollout.widen", ... */
	const char *actor;          /* who: a token's name, "controller" */
	const char *flag;
	uint64_t config_version;
} cs_log_about;

/* One line at `level` about `about` (NULL: nothing in particular). */
void cs_log(cs_log_level level, const cs_log_about *about, const char *fmt,
	...) CANARY__PRINTF(3, 4);

#endif
