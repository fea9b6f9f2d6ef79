/*
 * stats_json.h - turn stored per-arm sums into the stats document.
 */
#ifndef CS_STATS_H
#define CS_STATS_H

#include "store/storage.h"

struct cJSON;

/* {"flag", "config_version", "since", "arms": {"stable": {...},
 * "canary": {...}}}; NULL on ENOMEM. */
struct cJSON *cs_stats_to_json(const char *flag, const cs_stats_filter *f,
	const cs_arm_stats arms[CANARY__ARMS]);

#endif
