/*
 * live.h - the config in force, and the one way a config takes effect.
 *
 * Every config, wherever it comes from (the cache, the bootstrap file,
 * canary_client_set_config_json(), the service through the worker), takes
 * effect through canary__live_apply(): it becomes an indexed snapshot
 * (snapshot.h), gets a counter table (counters.h), and is published
 * through the hazard domain (hazard.h) unless it is older than the config
 * in force (docs/design.md, "Older configs are refused"). The evaluation
 * functions read the fields at the top of canary__live with no lock.
 *
 * The client embeds one canary__live as its first member, so the hot path
 * reads it at a fixed offset from the client pointer.
 */
#ifndef CANARY_SDK_LIVE_H
#define CANARY_SDK_LIVE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "alloc.h"
#include "canary/canary.h"
#include "config.h"
#include "counters.h"
#include "events.h"
#include "hazard.h"
#include "log.h"

typedef struct canary__live {
	/* Read by every evaluation: first, on its own lines. */
	canary__hazard snapshots;   /* the current canary__snapshot */
	_Alignas(CANARY__CACHE_LINE) atomic_int serve_stable; /* stale policy */
	bool count_exposures;       /* !opts.no_exposures */
	canary__ev_registry ev_reg; /* snapshot -> counter table */

	/* Writers. */
	pthread_mutex_t lock;       /* serialises config changes */
	uint32_t seq;               /* snapshots published so far */
	const char *source;         /* where the config in force came from
	                               (a static string), for diagnose */
	int64_t applied_ms;         /* when it took effect (wall clock) */
	const canary__alloc *alloc;
	const canary__logger *log;
	canary__counters *counters; /* a new snapshot's counter table */
	canary__events *events;     /* a retired snapshot's last counts */
	canary_config_fn config_fn;
	void *config_ctx;
} canary__live;

/* `alloc` and `log` are borrowed for the live config's life. */
void canary__live_init(canary__live *l, const canary__alloc *alloc,
	const canary__logger *log, const canary_options *opts);

/* Where counts go: set once both exist, before the first apply. */
void canary__live_set_events(canary__live *l, canary__counters *counters,
	canary__events *events);

/* Free the snapshot in force and every retired one (their last counts go
 * to the events first). No reader may remain. */
void canary__live_destroy(canary__live *l);

/*
 * Make `config` the config in force (ownership passes in, also on error).
 * `source` (a static string) names where it came from, for the log and
 * canary_client_diagnose(). Each published snapshot gets the next `seq`. Returns CANARY_OK;
 * CANARY_ESTATE (logged, nothing changed) when its version is older than
 * the version in force (an equal version replaces it); CANARY_ENOMEM.
 */
int canary__live_apply(canary__live *l, canary__config *config,
	const char *source);

/* Where the config in force came from and when it took effect (wall
 * clock, ms); NULL and 0 when there is none. */
const char *canary__live_source(canary__live *l, int64_t *applied_ms);

/* Tell the application (opts.config_fn) that `version` is in force. No
 * lock is held: call it once the config's arrival is fully handled. */
void canary__live_notify(const canary__live *l, uint64_t version);

/* Is `config` the config in force, number and content? The same version
 * with other content (the service's history changed: a restored or
 * recreated database) is not. */
bool canary__live_same(const canary__live *l, const canary__config *config);

/* The version in force; 0 when there is none yet. Lock-free. */
uint64_t canary__live_version(const canary__live *l);

/* The stale policy says "serve stable" (or no longer does). */
void canary__live_serve_stable(canary__live *l, bool on);

/* fork(): hold the config lock across it; in the child, the hazard
 * domain's state owned by threads that are gone is reset. */
void canary__live_prefork(canary__live *l);
void canary__live_postfork_unlock(canary__live *l);
void canary__live_postfork_child(canary__live *l);

#endif
