/*
 * tick.h - the server's ticker: one thread running periodic tasks.
 *
 * This is the hook for work that is not driven by a request: SSE
 * heartbeats, pruning old batch ids, and the rollout controller's
 * evaluation interval. A task registers before the ticker starts
 * and runs on the ticker thread every `interval_ms` (rounded up to the
 * ticker's resolution). Tasks run one at a time, so a task needs no lock
 * against other tasks; it may call the store (cs_store_*), whose changes
 * reach /v1/flags and streams by themselves.
 */
#ifndef CS_TICK_H
#define CS_TICK_H

#include <stdint.h>

typedef struct cs_ticker cs_ticker;

/* `now_ms` is wall-clock milliseconds since the epoch. */
typedef void (*cs_tick_fn)(uint64_t now_ms, void *ctx);

int cs_ticker_new(cs_ticker **out, uint64_t resolution_ms);

/* Add a task (before cs_ticker_start); `name` is borrowed (a literal). */
int cs_ticker_add(cs_ticker *t, const char *name, uint64_t interval_ms,
	cs_tick_fn fn, void *ctx);

int cs_ticker_start(cs_ticker *t);

/* Stop and join the thread; a running task finishes first. */
void cs_ticker_stop(cs_ticker *t);
void cs_ticker_free(cs_ticker *t);

#endif
