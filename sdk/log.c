/*
 * log.c - the client's log callback, filtered by level (see log.h).
 */
#include "log.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void canary__log(const canary__logger *log, canary_log_level level,
	const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!log || !log->fn || level < log->level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	log->fn(level, msg, log->ctx);
}

void canary__log_failure(const canary__logger *log, canary__log_slot slot,
	canary_log_level level, const char *what, const char *key,
	const char *detail)
{
	if (strncmp(slot, key, CANARY__LOG_KEY_LEN - 1) == 0) {
		canary__log(log, CANARY_LOG_DEBUG, "%s: %s (again)", what, detail);
		return;
	}
	snprintf(slot, CANARY__LOG_KEY_LEN, "%s", key);
	canary__log(log, level, "%s: %s", what, detail);
}

void canary__log_recovered(const canary__logger *log, canary__log_slot slot,
	const char *what)
{
	if (!slot[0])
		return;
	canary__log(log, CANARY_LOG_INFO, "%s: working again", what);
	slot[0] = '\0';
}
