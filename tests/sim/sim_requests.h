/*
 * sim_requests.h - one evaluation interval of simulated requests: each
 * request comes from a user of the population (by request rate), is
 * assigned its arm by the user's bucket, errors with the user's
 * propensity (in retry bursts when asked), gets a latency, and is
 * recorded by the instance serving the user, as the SDK would.
 */
#ifndef SIM_REQUESTS_H
#define SIM_REQUESTS_H

#include <stdint.h>

#include "sim_pipeline.h"
#include "sim_traffic.h"
#include "sim_users.h"

typedef struct sim_load {
	double requests;      /* expected first attempts this interval */
	double err[2];        /* per-request error probability, stable and
	                         canary, for a user of propensity 1 */
	uint32_t burst;       /* an error is retried until burst attempts
	                         failed (1: no retries) */
	uint32_t canary_bp;   /* a user is canary iff bucket < canary_bp */
	const sim_lat_table *lat[2]; /* NULL: the app records no latency */
} sim_load;

void sim_requests(sim_rng *rng, const sim_population *pop,
	const sim_load *l, sim_pipe *p);

#endif
