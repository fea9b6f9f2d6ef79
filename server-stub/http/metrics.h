/*
 * metrics.h - request counters and the Prometheus text exposition.
 */
#ifndef CS_METRICS_H
#define CS_METRICS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "store/storage.h"

typedef enum cs_endpoint {
	CS_EP_FLAGS,       /* GET /v1/flags */
	CS_EP_STREAM,      /* GET /v1/stream */
	CS_EP_EVENTS,      /* POST /v1/events */
	CS_EP_ADMIN_FLAGS, /* /v1/admin/flags[/{key}], /v1/admin/segments... */
	CS_EP_ADMIN_STATS, /* /v1/admin/flags/{key}/stats */
	CS_EP_ADMIN_ROLLOUTS, /* /v1/admin/rollouts... */
	CS_EP_ADMIN_WHOAMI, /* /v1/admin/whoami */
	CS_EP_ADMIN_TOKENS, /* /v1/admin/tokens... */
	CS_EP_ADMIN_AUDIT, /* /v1/admin/audit */
	CS_EP_ADMIN_WEBHOOKS, /* /v1/admin/webhooks... */
	CS_EP_UI,          /* /ui/: the dashboard's files */
	CS_EP_METRICS,
	CS_EP_HEALTHZ,
	CS_EP_OTHER,       /* unknown paths (404s) */
	CS_EP_COUNT
} cs_endpoint;

const char *cs_endpoint_name(cs_endpoint ep);

typedef struct cs_metrics cs_metrics;

int cs_metrics_new(cs_metrics **out);
void cs_metrics_free(cs_metrics *m);

/* Count one response (lock-free; any thread). */
void cs_metrics_count(cs_metrics *m, cs_endpoint ep, unsigned int status);

/* Count batches / windows accepted, and duplicates. */
void cs_metrics_ingested(cs_metrics *m, uint64_t windows, int duplicate);

/* Counters of things the server did to protect itself. */
typedef enum cs_note {
	CS_NOTE_DEADLINE_CLOSED, /* connections closed past a deadline */
	CS_NOTE_DROPPED_VERSION, /* event windows at a version not issued */
	CS_NOTE_DROPPED_FLAG,    /* event windows of a flag not there */
	CS_NOTE_OVER_BUDGET,     /* event batches refused (429) */
	CS_NOTE_COUNT
} cs_note;

/* Add n to a counter (lock-free; any thread). */
void cs_metrics_note(cs_metrics *m, cs_note note, uint64_t n);

/* Whether this server leads the rollout controller (a gauge). */
void cs_metrics_set_leader(cs_metrics *m, bool leading);

/* Render the exposition; caller frees *out. */
int cs_metrics_render(cs_metrics *m, cs_store *store, uint64_t config_version,
	uint64_t open_streams, char **out, size_t *len);

#endif
