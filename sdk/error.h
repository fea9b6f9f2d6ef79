/*
 * error.h - return codes and the thread-local error detail.
 */
#ifndef CANARY_SDK_ERROR_H
#define CANARY_SDK_ERROR_H

#include <stddef.h>

#include "attributes.h"
#include "canary/canary.h"

/* Record a detail for canary_error_last() and return `code`, so callers can
 * write `return canary__error_set(CANARY_EINVAL, "...")`. */
int canary__error_set(int code, const char *fmt, ...) CANARY__PRINTF(2, 3);

/* Forget the detail (public calls that succeed leave "" behind). */
void canary__error_clear(void);

#endif
