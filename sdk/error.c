/*
 * error.c - canary_strerror() and the thread-local last-error detail.
 */
#include "error.h"

#include <stdarg.h>
#include <stdio.h>

/* One buffer per thread: a detail never leaks across threads. */
static _Thread_local char last_error[512];

int canary__error_set(int code, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(last_error, sizeof(last_error), fmt, ap);
	va_end(ap);
	return code;
}

void canary__error_clear(void)
{
	last_error[0] = '\0';
}

const char *canary_error_last(void)
{
	return last_error;
}

const char *canary_strerror(int code)
{
	switch (code) {
	case CANARY_OK: return "success";
	case CANARY_EINVAL: return "invalid argument";
	case CANARY_ENOMEM: return "out of memory";
	case CANARY_ENETWORK: return "network error";
	case CANARY_ETIMEOUT: return "timed out";
	case CANARY_EPARSE: return "invalid config";
	case CANARY_ESTORAGE: return "storage error";
	case CANARY_EAUTH: return "not authorised";
	case CANARY_ESTATE: return "invalid state";
	case CANARY_ENOTSUP: return "not supported";
	default: return "unknown error";
	}
}
