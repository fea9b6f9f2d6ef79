/*
 * series.h - a rollout as time series (GET /v1/admin/rollouts/{flag}/series,
 * what the dashboard draws): both arms' exposures, errors, error rate and
 * latency quantiles per bucket of event windows since the rollout started,
 * its step changes, its decisions (the fields a chart and a table need)
 * and the judge's latest evidence (the last controller decision, whole).
 *
 * Buckets are whole multiples of the server's event window, as many as
 * needed to keep at most q->max_points of them; each bucket merges its
 * windows' counts and latency histograms, so its quantiles are those of
 * every request in it.
 */
#ifndef CS_SERIES_H
#define CS_SERIES_H

#include <stdint.h>

#include "rollout/rollout.h"
#include "store/storage.h"

struct cJSON;

/*
 * The series document of the latest rollout of `flag` (docs/server.md
 * shows it); `window_ms` is the server's event window, `now_ms` the end
 * of an active rollout's range. CS_ENOROLLOUT when the flag never had a
 * rollout; store errors; CANARY_ENOMEM.
 */
int cs_rollout_series(cs_store *store, const char *flag, uint64_t window_ms,
	int64_t now_ms, const cs_series_query *q, struct cJSON **out);

#endif
