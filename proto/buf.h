/*
 * buf.h - a growable text buffer: the event batch encoder and the server's
 * /metrics exposition write into one.
 *
 * Writes never fail one by one: when memory runs out the buffer stops
 * growing, remembers it, and canary__buf_take() reports it once at the
 * end, so a writer need not check every call.
 */
#ifndef CANARY_PROTO_BUF_H
#define CANARY_PROTO_BUF_H

#include <stdbool.h>
#include <stddef.h>

#include "alloc.h"
#include "attributes.h"

typedef struct canary__buf {
	const canary__alloc *a;  /* borrowed */
	char *data;              /* NUL-terminated once anything is written */
	size_t len, cap;
	bool failed;             /* out of memory: the text is incomplete */
} canary__buf;

/* An empty buffer whose memory comes from `a` (NULL: the C library). */
void canary__buf_init(canary__buf *b, const canary__alloc *a);

void canary__buf_put(canary__buf *b, const char *s, size_t len);
void canary__buf_puts(canary__buf *b, const char *s);
void canary__buf_printf(canary__buf *b, const char *fmt, ...)
	CANARY__PRINTF(2, 3);

/* `s` as a JSON string, quotes included: '"', '\' and control bytes are
 * escaped, other bytes go as they are. */
void canary__buf_json_string(canary__buf *b, const char *s);

/* The text (the caller frees it with canary__free(b->a, ...)) and its
 * length; NULL when memory ran out (nothing to free then). The buffer is
 * empty afterwards. */
char *canary__buf_take(canary__buf *b, size_t *len);

/* Forget the text. NULL-safe. */
void canary__buf_free(canary__buf *b);

#endif
