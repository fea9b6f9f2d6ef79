/*
 * error.h - return codes and the thread-local error detail.
 */
#ifndef CANARY_SDK_ERROR_H
#define CANARY_SDK_ERROR_H

#include <stddef.h>

#include "canary/canary.h"

#if defined(__GNUC__)
#  define CANARY__PRINTF(f, a) __attribute__((format(printf, f, a)))
#else
#  define CANARY__PRINTF(f, a)
#endif

/* Record a detail for canary_error_last() and return `code`, so callers can
 * write `return canary__error_set(CANARY_EINVAL, "...")`. */
int canary__error_set(int code, const char *fmt, ...) CANARY__PRINTF(2, 3);

/* Write a parser's message naming the bad field into `err` (may be NULL)
 * and return CANARY_EPARSE. Shared by every parser of outside input. */
int canary__parse_fail(char *err, size_t errlen, const char *fmt, ...)
	CANARY__PRINTF(3, 4);

/* Forget the detail (public calls that succeed leave "" behind). */
void canary__error_clear(void);

#endif
