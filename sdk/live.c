/*
 * live.c - the config in force (see live.h).
 */
#include "live.h"

#include <cjson/cJSON.h>
#include <string.h>

#include <inttypes.h>

#include "clock.h"
#include "error.h"
#include "snapshot.h"

static void snapshot_free_cb(void *obj, void *ctx)
{
	canary__live *l = ctx;

	/* No reader is left: the snapshot's last counts go to the batch. */
	if (l->events)
		canary__events_retire(l->events, obj);
	canary__snapshot_free(obj);
}

void canary__live_init(canary__live *l, const canary__alloc *alloc,
	const canary__logger *log, const canary_options *opts)
{
	canary__hazard_init(&l->snapshots, alloc, snapshot_free_cb, l);
	atomic_init(&l->serve_stable, 0);
	l->count_exposures = !opts->no_exposures;
	pthread_mutex_init(&l->lock, NULL);
	l->alloc = alloc;
	l->log = log;
	l->config_fn = opts->config_fn;
	l->config_ctx = opts->config_ctx;
}

void canary__live_set_events(canary__live *l, canary__counters *counters,
	canary__events *events)
{
	l->counters = counters;
	l->events = events;
}

void canary__live_destroy(canary__live *l)
{
	canary__hazard_destroy(&l->snapshots);
	pthread_mutex_destroy(&l->lock);
}

int canary__live_apply(canary__live *l, canary__config *config,
	const char *source)
{
	canary__snapshot *snap, *cur;
	canary__hazard_guard g;
	uint64_t version = config->version, in_force = 0;
	int rc;

	rc = canary__snapshot_new(l->alloc, config, &snap);
	if (rc != CANARY_OK)
		return rc;
	pthread_mutex_lock(&l->lock);
	canary__counters_attach(l->counters, snap);
	cur = canary__hazard_enter(&l->snapshots, &g);
	if (cur)
		in_force = cur->version;
	canary__hazard_leave(&l->snapshots, &g);
	if (cur && version < in_force) {
		rc = canary__error_set(CANARY_ESTATE,
			"%s: config version %" PRIu64 " is older than the version in force (%" PRIu64 "); ignored",
			source, version, in_force);
	} else {
		/* Before it is visible: flag handles compare it (flag_ref.h). */
		snap->seq = ++l->seq;
		if (!snap->seq) /* 0 is a handle's "never resolved" */
			snap->seq = ++l->seq;
		if (canary__hazard_publish(&l->snapshots, snap) != 0)
			rc = canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	if (rc == CANARY_OK) {
		l->source = source;
		l->applied_ms = canary__wall_ms();
	}
	if (rc != CANARY_OK)
		canary__counters_detach(l->counters, snap);
	pthread_mutex_unlock(&l->lock);
	if (rc != CANARY_OK) {
		canary__log(l->log, CANARY_LOG_WARN, "%s", canary_error_last());
		canary__snapshot_free(snap);
		return rc;
	}
	canary__log(l->log, CANARY_LOG_INFO, "config version %" PRIu64 " applied from %s",
		version, source);
	return CANARY_OK;
}

const char *canary__live_source(canary__live *l, int64_t *applied_ms)
{
	const char *source;

	pthread_mutex_lock(&l->lock);
	source = l->source;
	*applied_ms = l->applied_ms;
	pthread_mutex_unlock(&l->lock);
	return source;
}

void canary__live_notify(const canary__live *l, uint64_t version)
{
	if (l->config_fn)
		l->config_fn(version, l->config_ctx);
}

/* Two configs' canonical JSON, compared: equal content. */
static bool same_content(const canary__config *a, const canary__config *b)
{
	cJSON *ja = canary__config_to_json(a), *jb = canary__config_to_json(b);
	char *ta = ja ? cJSON_PrintUnformatted(ja) : NULL;
	char *tb = jb ? cJSON_PrintUnformatted(jb) : NULL;
	/* Out of memory: "different" costs one apply, "same" a missed one. */
	bool same = ta && tb && strcmp(ta, tb) == 0;

	cJSON_free(ta);
	cJSON_free(tb);
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return same;
}

bool canary__live_same(const canary__live *l, const canary__config *config)
{
	canary__hazard_guard g;
	canary__snapshot *snap;
	bool same;

	snap = canary__hazard_enter((canary__hazard *)&l->snapshots, &g);
	same = snap && snap->version == config->version &&
		same_content(snap->config, config);
	canary__hazard_leave((canary__hazard *)&l->snapshots, &g);
	return same;
}

uint64_t canary__live_version(const canary__live *l)
{
	canary__hazard_guard g;
	canary__snapshot *snap;
	uint64_t version;

	/* The domain is logically const: entering only marks a hazard. */
	snap = canary__hazard_enter((canary__hazard *)&l->snapshots, &g);
	version = snap ? snap->version : 0;
	canary__hazard_leave((canary__hazard *)&l->snapshots, &g);
	return version;
}

void canary__live_serve_stable(canary__live *l, bool on)
{
	atomic_store(&l->serve_stable, on);
}

void canary__live_prefork(canary__live *l)
{
	pthread_mutex_lock(&l->lock);
}

void canary__live_postfork_unlock(canary__live *l)
{
	pthread_mutex_unlock(&l->lock);
}

void canary__live_postfork_child(canary__live *l)
{
	pthread_mutex_lock(&l->lock);
	canary__hazard_postfork_child(&l->snapshots);
	pthread_mutex_unlock(&l->lock);
}
