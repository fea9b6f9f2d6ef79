/*
 * sim_users.h - the simulator's user population: who makes the requests,
 * which arm the real bucketing puts each user in, which SDK instance
 * serves them, how often they come back and how error-prone they are.
 */
#ifndef SIM_USERS_H
#define SIM_USERS_H

#include <stdint.h>

#include "sim_traffic.h"

typedef struct sim_user {
	uint64_t hash;     /* canary__hll_hash of its id "u<k>" */
	float prop;        /* error propensity, mean 1 over users */
	uint16_t bucket;   /* canary_bucket(salt, id): canary iff < rollout */
	uint8_t instance;  /* the SDK instance that serves it (sticky) */
	uint8_t id_len;
	char id[16];
} sim_user;

typedef struct sim_population {
	sim_user *u;
	uint32_t n;
	/* Request rates: Vose alias table over users (NULL: equal rates). */
	double *alias_p;
	uint32_t *alias_i;
} sim_population;

/* Ids u0..u<n-1> and their unit hashes. @return 0, -1 on ENOMEM. */
int sim_pop_new(sim_population *p, uint32_t n);
void sim_pop_free(sim_population *p);

/*
 * One run's draw: buckets for this run's `salt` (MurmurHash3 of
 * "<salt>:<id>", the SDK's bucketing), lognormal request rates (sigma
 * `rate_sigma`, 0 = equal) and error propensities (`err_sigma`, mean 1),
 * and the instance each user sticks to, of `instances`.
 */
void sim_pop_draw(sim_population *p, sim_rng *rng, const char *salt,
	double rate_sigma, double err_sigma, unsigned instances);

/* The user of the next request (by rate). */
uint32_t sim_pop_pick(const sim_population *p, sim_rng *rng);

#endif
