/*
 * buf.c - the growable text buffer (see buf.h).
 */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

void canary__buf_init(canary__buf *b, const canary__alloc *a)
{
	memset(b, 0, sizeof(*b));
	b->a = a ? a : canary__alloc_default();
}

/* Room for `more` bytes and the NUL; false once memory ran out. */
static bool reserve(canary__buf *b, size_t more)
{
	size_t cap;
	char *grown;

	if (b->failed)
		return false;
	if (more < b->cap - b->len)
		return true;
	if (more > (size_t)-1 / 4 - b->len) {
		b->failed = true;
		return false;
	}
	cap = b->cap ? b->cap : 4096;
	while (cap - b->len <= more)
		cap *= 2;
	grown = canary__realloc(b->a, b->data, cap);
	if (!grown) {
		b->failed = true;
		return false;
	}
	b->data = grown;
	b->cap = cap;
	return true;
}

void canary__buf_put(canary__buf *b, const char *s, size_t len)
{
	if (!reserve(b, len))
		return;
	memcpy(b->data + b->len, s, len);
	b->len += len;
	b->data[b->len] = '\0';
}

void canary__buf_puts(canary__buf *b, const char *s)
{
	canary__buf_put(b, s, strlen(s));
}

void canary__buf_printf(canary__buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->data ? b->data + b->len : NULL,
		b->data ? b->cap - b->len : 0, fmt, ap);
	va_end(ap);
	if (n < 0) {
		b->failed = true;
		return;
	}
	if (b->data && (size_t)n < b->cap - b->len) {
		b->len += (size_t)n;
		return;
	}
	if (!reserve(b, (size_t)n))
		return;
	va_start(ap, fmt);
	vsnprintf(b->data + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

void canary__buf_json_string(canary__buf *b, const char *s)
{
	static const char hex[] = "0123456789abcdef";
	const char *run = s;

	canary__buf_put(b, "\"", 1);
	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		char esc[6] = { '\\', 'u', '0', '0', 0, 0 };

		if (ch >= 0x20 && ch != '"' && ch != '\\')
			continue;
		canary__buf_put(b, run, (size_t)(s - run));
		run = s + 1;
		if (ch == '"' || ch == '\\') {
			esc[1] = (char)ch;
			canary__buf_put(b, esc, 2);
		} else {
			esc[4] = hex[ch >> 4];
			esc[5] = hex[ch & 15];
			canary__buf_put(b, esc, 6);
		}
	}
	canary__buf_put(b, run, (size_t)(s - run));
	canary__buf_put(b, "\"", 1);
}

char *canary__buf_take(canary__buf *b, size_t *len)
{
	char *text = b->data;

	if (!b->failed && !text)
		canary__buf_put(b, "", 0);
	text = b->data;
	*len = b->len;
	if (b->failed) {
		canary__free(b->a, text);
		text = NULL;
		*len = 0;
	}
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
	return text;
}

void canary__buf_free(canary__buf *b)
{
	if (!b)
		return;
	canary__free(b->a, b->data);
	b->data = NULL;
	b->len = b->cap = 0;
	b->failed = false;
}
