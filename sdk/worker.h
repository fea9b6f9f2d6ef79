/*
 * worker.h - the data path's state machine: fetch /v1/flags, follow
 * /v1/stream, fall back to polling, back off on failures, apply and cache
 * configs, track staleness and status.
 *
 * One state machine, two drivers: a background thread (the default), or
 * canary_client_tick() from the application's loop (opts.no_thread). Each
 * step does bounded work and never waits on the network. See
 * docs/datapath.md.
 */
#ifndef CANARY_SDK_WORKER_H
#define CANARY_SDK_WORKER_H

#include <stdbool.h>
#include <stdint.h>

#include "canary/canary.h"

struct canary_client;
typedef struct canary__worker canary__worker;

/* How the config in force at start came to be (from client_new). */
typedef struct canary__worker_start {
	const char *etag;        /* of the cached config; NULL = none */
	int64_t config_age_ms;   /* how old the cached config is */
} canary__worker_start;

int canary__worker_new(canary__worker **out, struct canary_client *c,
	const canary__worker_start *start);

/* Start the background thread (unless no_thread). */
int canary__worker_run(canary__worker *w);

/* Stop the thread (bounded: requests in flight are abandoned) and free. */
void canary__worker_free(canary__worker *w);

int canary__worker_tick(canary__worker *w, int64_t now_ms);
canary_status canary__worker_status(canary__worker *w);
int canary__worker_wait_ready(canary__worker *w, uint32_t timeout_ms);

/* A config arrived out of band (set_config_json): its age starts now. */
void canary__worker_config_set(canary__worker *w);

/* Events: ask the worker thread to deliver the outbox now. False when no
 * thread will (no-thread mode: the next tick; no server: never). */
bool canary__worker_deliver_now(canary__worker *w);

/* In the child after fork(): fresh connections, thread, and a fetch. */
int canary__worker_postfork(canary__worker *w);

#endif
