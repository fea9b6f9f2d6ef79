/*
 * worker.h - the data path's state machine: fetch the config, follow the
 * stream, fall back to polling, back off on failures, apply and cache
 * configs, track staleness and status; and drive the event delivery.
 * Where configs come from and what they look like is the config source's
 * (source.h); the worker decides when to ask and what an answer means.
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

#include "alloc.h"
#include "canary/canary.h"
#include "events.h"
#include "live.h"
#include "log.h"
#include "persist.h"
#include "source.h"
#include "unknown_flags.h"

typedef struct canary__worker canary__worker;

/* What the worker works with: the client's parts, borrowed for the
 * worker's life. `opts` is the client's copy (defaults applied, strings
 * owned by the client; opts->server_urls is the whole list, server_url
 * included). */
typedef struct canary__worker_env {
	const canary_options *opts;
	const canary__alloc *alloc;
	const canary__logger *log;
	canary__live *live;
	canary__persist *persist;
	canary__events *events;
	const canary__source *source;
	canary__unknown *unknown;   /* reported on each step */
} canary__worker_env;

/* What canary_client_diagnose() shows of the worker. */
typedef struct canary__worker_info {
	canary_status status;
	size_t server_index;        /* the server in use, of server_count */
	size_t server_count;
	bool stream_open;
	char last_error[400];       /* "" when none yet */
	int64_t last_error_age_ms;  /* -1 when none */
	int64_t confirmed_age_ms;   /* since the service last confirmed the
	                               config in force; -1 when it has not
	                               (in this process) */
} canary__worker_info;

/* `start`: what the cache said (an empty etag and age 0 when the config
 * in force did not come from it). */
int canary__worker_new(canary__worker **out, const canary__worker_env *env,
	const canary__persist_start *start);

/* Start the background thread (unless no_thread). */
int canary__worker_run(canary__worker *w);

/* The client is being freed: from now on no config is applied and no
 * callback is called (the application may be tearing down what they
 * touch), and a stream in progress is abandoned at its next piece; the
 * events path keeps working for the final flush. */
void canary__worker_closing(canary__worker *w);

/* Stop the thread (bounded: requests in flight are abandoned). */
void canary__worker_stop(canary__worker *w);
/* Stop, then free. Accepts NULL. */
void canary__worker_free(canary__worker *w);

int canary__worker_tick(canary__worker *w, int64_t now_ms);
/* Lock-free: one atomic load. */
canary_status canary__worker_status(canary__worker *w);
/* On failure canary_error_last() says why (the last failure, or that
 * there has been no answer yet). */
int canary__worker_wait_ready(canary__worker *w, uint32_t timeout_ms);

/* A snapshot of the worker for canary_client_diagnose(); any thread. */
void canary__worker_info_get(canary__worker *w, canary__worker_info *out);

/* A config arrived out of band (set_config_json): its age starts now. */
void canary__worker_config_set(canary__worker *w);

/* Events: ask the worker thread to deliver the outbox now. False when no
 * thread will (no-thread mode: the next tick; no server: never). */
bool canary__worker_deliver_now(canary__worker *w);

/* fork(): hold the worker's lock across it (then unlock in both). */
void canary__worker_prefork(canary__worker *w);
void canary__worker_postfork_unlock(canary__worker *w);
/* In the child after fork(): fresh connections, thread, and a fetch. */
int canary__worker_postfork_child(canary__worker *w);

#endif
