/*
 * log.c - the client's log callback, filtered by level.
 */
#include <stdarg.h>
#include <stdio.h>

#include "client.h"

void canary__log(const canary_client *c, canary_log_level level,
	const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	if (!c || !c->opts.log_fn || level < c->opts.log_level)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	c->opts.log_fn(level, msg, c->opts.log_ctx);
}
