/*
 * parse_error.c - parse errors that name the offending field, and the JSON
 * paths they name.
 */
#include "parse_error.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* Append src[0..n) at out[*at], keeping room for the NUL. */
static void append(char *out, size_t len, size_t *at, const char *src,
	size_t n)
{
	if (*at + n >= len)
		n = *at + 1 < len ? len - *at - 1 : 0;
	memcpy(out + *at, src, n);
	*at += n;
}

void canary__path_member(char *out, size_t len, const char *parent,
	const char *key)
{
	size_t at = 0;

	if (!len)
		return;
	append(out, len, &at, parent, strlen(parent));
	if (*parent)
		append(out, len, &at, ".", 1);
	append(out, len, &at, key, strlen(key));
	out[at] = '\0';
}

void canary__path_index(char *out, size_t len, const char *parent, size_t i)
{
	char digits[24];
	size_t at = 0, n = sizeof(digits);

	if (!len)
		return;
	do {
		digits[--n] = (char)('0' + i % 10);
		i /= 10;
	} while (i);
	append(out, len, &at, parent, strlen(parent));
	append(out, len, &at, "[", 1);
	append(out, len, &at, digits + n, sizeof(digits) - n);
	append(out, len, &at, "]", 1);
	out[at] = '\0';
}

void canary__perror_clear(canary__perror *e)
{
	if (e) {
		e->field[0] = '\0';
		e->message[0] = '\0';
	}
}

static int vset(canary__perror *e, const char *fmt, va_list ap)
{
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	return CANARY_EPARSE;
}

int canary__perror_set(canary__perror *e, const char *field,
	const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return CANARY_EPARSE;
	canary__path_member(e->field, sizeof(e->field), "", field ? field : "");
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	return CANARY_EPARSE;
}

int canary__perror_at(canary__perror *e, const char *path, const char *name,
	const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return CANARY_EPARSE;
	if (name)
		canary__path_member(e->field, sizeof(e->field), path ? path : "",
			name);
	else
		canary__path_member(e->field, sizeof(e->field), "",
			path ? path : "");
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	return CANARY_EPARSE;
}

int canary__perror_at_index(canary__perror *e, const char *path, size_t i,
	const char *fmt, ...)
{
	va_list ap;

	if (!e)
		return CANARY_EPARSE;
	canary__path_index(e->field, sizeof(e->field), path ? path : "", i);
	va_start(ap, fmt);
	vset(e, fmt, ap);
	va_end(ap);
	return CANARY_EPARSE;
}

int canary__perror_oom(canary__perror *e)
{
	canary__perror_set(e, "", "out of memory");
	return CANARY_ENOMEM;
}

const char *canary__perror_format(const canary__perror *e, char *out,
	size_t len)
{
	if (!len)
		return out;
	if (!e)
		out[0] = '\0';
	else if (e->field[0])
		snprintf(out, len, "%s: %s", e->field, e->message);
	else
		snprintf(out, len, "%s", e->message);
	return out;
}
