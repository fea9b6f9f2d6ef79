/*
 * sse.h - an incremental parser for Server-Sent Events (the /v1/stream
 * body), as the WHATWG HTML "event stream" section defines them.
 *
 * Pure: no I/O, no clock, no global state. Feed it the body in pieces of
 * any size (one byte at a time works) and it calls back once per complete
 * event. Memory is bounded by `max_event`: a line or an event's data that
 * would exceed it is discarded whole and counted in `dropped`, never
 * delivered truncated.
 */
#ifndef CANARY_SDK_SSE_H
#define CANARY_SDK_SSE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

#define CANARY__SSE_MAX_ID 255   /* longer ids are ignored */
#define CANARY__SSE_MAX_TYPE 63  /* longer event types are ignored */

/* One event. Every pointer is borrowed for the duration of the callback. */
typedef struct canary__sse_event {
	const char *type;  /* "message" unless an `event:` field said otherwise */
	const char *id;    /* the last event id seen on the stream; "" if none */
	const char *data;  /* the data lines joined by '\n', NUL-terminated */
	size_t data_len;
} canary__sse_event;

/* Return 0 to go on; any other value stops the parser, which returns it. */
typedef int (*canary__sse_fn)(const canary__sse_event *ev, void *ctx);

typedef struct canary__sse {
	const canary__alloc *alloc;
	size_t max_event;         /* data bytes per event (and per line) */
	char *line;               /* the line being read */
	size_t line_len, line_cap;
	char *data;               /* data of the event being read */
	size_t data_len, data_cap;
	char id[CANARY__SSE_MAX_ID + 1];
	char type[CANARY__SSE_MAX_TYPE + 1];
	unsigned bom_pos;         /* bytes of a leading BOM matched so far */
	bool started;             /* past the optional BOM */
	bool after_cr;            /* a CR ended the last line: skip one LF */
	bool line_too_long;
	bool event_too_big;
	uint32_t retry_ms;        /* last `retry:` value; 0 if none */
	uint64_t comments;        /* comment lines seen (heartbeats) */
	uint64_t dropped;         /* events discarded for size */
} canary__sse;

void canary__sse_init(canary__sse *p, const canary__alloc *a,
	size_t max_event);

/*
 * Parse `len` bytes. Returns 0; CANARY_ENOMEM (the parser is then reset to
 * the start of a new event); or the first non-zero value a callback
 * returned, after which the rest of `buf` is not parsed.
 */
int canary__sse_feed(canary__sse *p, const char *buf, size_t len,
	canary__sse_fn fn, void *ctx);

/* Start a new connection: drop any partial line and event, keep the last
 * event id (it is what Last-Event-ID sends). */
void canary__sse_reset(canary__sse *p);

void canary__sse_free(canary__sse *p);

#endif
