/*
 * sim_requests.c - one interval of simulated requests (see
 * sim_requests.h).
 */
#include "sim_requests.h"

#include <math.h>

static int latency_bin(const sim_load *l, int arm, sim_rng *rng)
{
	return l->lat[arm] ? sim_lat_bin(l->lat[arm], rng) : SIM_NO_LATENCY;
}

/* An error episode: the first attempt failed, and the client retries
 * (each retry is an exposure too) until `burst` attempts have failed. */
static void episode(const sim_load *l, sim_rng *rng, const sim_user *u,
	int arm, sim_pipe *p)
{
	uint32_t k;

	sim_pipe_error(p, u->instance, arm, u->hash);
	for (k = 1; k < l->burst; k++) {
		sim_pipe_expose(p, u->instance, arm, u->hash,
			latency_bin(l, arm, rng));
		sim_pipe_error(p, u->instance, arm, u->hash);
	}
}

void sim_requests(sim_rng *rng, const sim_population *pop,
	const sim_load *l, sim_pipe *p)
{
	uint64_t n = sim_poisson(rng, l->requests), i;
	/* Episodes are rarer than errors by the burst size, so the share of
	 * failed requests stays about err whatever the burst. */
	double per_episode[2] = { l->err[0] / l->burst, l->err[1] / l->burst };

	for (i = 0; i < n; i++) {
		const sim_user *u = &pop->u[sim_pop_pick(pop, rng)];
		int arm = u->bucket < l->canary_bp;

		sim_pipe_expose(p, u->instance, arm, u->hash,
			latency_bin(l, arm, rng));
		if (sim_uniform(rng) < per_episode[arm] * u->prop)
			episode(l, rng, u, arm, p);
	}
}
