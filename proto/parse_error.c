/*
 * perror.c - building parse errors that name the offending field.
 */
#include "parse_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int cs_fail(cs_perror *e, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return CANARY_EPARSE;
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
	return CANARY_EPARSE;
}

int cs_oom(cs_perror *e)
{
	cs_fail(e, "", "out of memory");
	return CANARY_ENOMEM;
}

int cs_fail_from_config(cs_perror *e, const char *msg)
{
	const char *colon = strstr(msg, ": ");
	size_t flen;

	if (!e)
		return CANARY_EPARSE;
	if (!colon)
		return cs_fail(e, "", "%s", msg);
	if (*msg == '.')
		msg++;
	flen = (size_t)(colon - msg);
	if (flen >= sizeof(e->field))
		flen = sizeof(e->field) - 1;
	memcpy(e->field, msg, flen);
	e->field[flen] = '\0';
	snprintf(e->message, sizeof(e->message), "%s", colon + 2);
	return CANARY_EPARSE;
}
