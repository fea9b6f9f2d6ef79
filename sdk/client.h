/*
 * client.h - the client structure, shared by the SDK's modules.
 */
#ifndef CANARY_SDK_CLIENT_H
#define CANARY_SDK_CLIENT_H

#include <pthread.h>
#include <stdatomic.h>

#include "alloc.h"
#include "canary/canary.h"
#include "config.h"
#include "hazard.h"
#include "snapshot.h"
#include "error.h"
#include "events.h"
#include "store.h"
#include "worker.h"

struct canary_client {
	/* Read by every evaluation: first, on its own lines. */
	canary__hazard snapshots;
	_Alignas(CANARY__CACHE_LINE) atomic_int serve_stable; /* stale policy */
	bool count_exposures;       /* !opts.no_exposures */
	canary__ev_registry ev_reg; /* snapshot -> counter table (events.h) */

	canary__alloc alloc;
	canary_options opts;      /* strings below replace the caller's */
	char *server_url;
	char *sdk_key;
	char *cache_path;
	char *bootstrap_path;
	char *ca_file;
	char *ca_path;

	pthread_mutex_t write_lock; /* serialises config changes */
	canary__store *store;       /* NULL without cache_path or when unusable */
	canary__worker *worker;     /* the data path (worker.c) */
	canary__events *events;     /* counters and outbox (events.c) */
};

/* Apply a parsed config (ownership passes in, also on error). Rejects a
 * version older than the one in force with CANARY_ESTATE. */
int canary__client_apply(canary_client *c, canary__config *config,
	const char *source);

void canary__log(const canary_client *c, canary_log_level level,
	const char *fmt, ...) CANARY__PRINTF(3, 4);

#endif
