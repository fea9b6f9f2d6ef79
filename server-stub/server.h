/*
 * server.h - canary-server as a library: everything main() starts.
 *
 * Lifecycle: cs_server_new() opens the store and builds the published
 * config; register periodic work on cs_server_ticker() (the rollout
 * controller's hook); cs_server_start() binds and starts serving (and
 * the webhook sender; libcurl must be initialised); cs_server_free()
 * stops streams, the ticker, the webhook sender, the HTTP daemon and
 * closes the store, in that order.
 */
#ifndef CS_SERVER_H
#define CS_SERVER_H

#include <stddef.h>
#include <stdint.h>

#include "http/auth.h"
#include "http/metrics.h"
#include "http/options.h"
#include "http/router.h"
#include "http/budget.h"
#include "publish/flags_cache.h"
#include "publish/known.h"
#include "publish/sse_hub.h"
#include "store/storage.h"
#include "tick.h"

struct cs_controller;
struct cs_webhook_sender;

typedef struct cs_server {
	const cs_options *opts;      /* borrowed; outlives the server */
	cs_auth auth;
	cs_store *store;
	cs_flags_cache *cache;
	cs_known *known;             /* the published keys and version */
	cs_budget *budget;           /* what each SDK key may post */
	cs_stream_hub *hub;
	cs_metrics *metrics;
	cs_ticker *ticker;
	struct cs_controller *controller; /* rollouts (controller.h) */
	struct cs_webhook_sender *sender; /* webhook deliveries
	                                     (notify/webhook_sender.h) */
	cs_listener api;             /* --listen: the endpoints (api/routes.c) */
	cs_listener ui;              /* --ui-listen: the dashboard apart
	                                (ui.listen NULL: none) */
	_Atomic uint64_t caught_up_ms; /* last read of the store for a
	                                  client ahead of us (sdk_api.c) */
	_Atomic uint64_t refreshed_ms; /* when the last such read that
	                                  succeeded began */
	uint64_t pruned_ms;          /* the last retention pass (ticker
	                                thread only); 0: none yet */
} cs_server;

int cs_server_new(cs_server **out, const cs_options *opts, char *err,
	size_t errlen);

/* Register tasks here between cs_server_new() and cs_server_start(). */
cs_ticker *cs_server_ticker(cs_server *s);

int cs_server_start(cs_server *s, char *err, size_t errlen);

void cs_server_free(cs_server *s);

#endif
