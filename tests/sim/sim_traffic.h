/*
 * sim_traffic.h - synthetic traffic for the judge simulator: a seeded
 * PRNG (xoshiro256**, seeded by splitmix64; never rand()), binomial and
 * Poisson draws, and latency histograms drawn from a lognormal.
 */
#ifndef SIM_TRAFFIC_H
#define SIM_TRAFFIC_H

#include <stdint.h>

#include "histogram.h"

typedef struct sim_rng {
	uint64_t s[4];
} sim_rng;

void sim_rng_seed(sim_rng *r, uint64_t seed);
uint64_t sim_next(sim_rng *r);
double sim_uniform(sim_rng *r);   /* [0, 1) */
double sim_normal(sim_rng *r);    /* standard normal */

/* Binomial(n, p). Exact (inversion) while the mean of the rarer outcome is
 * below 30, normal approximation above: a simulator, not a library. */
uint64_t sim_binomial(sim_rng *r, uint64_t n, double p);
/* Poisson(mean), same split. */
uint64_t sim_poisson(sim_rng *r, double mean);

/* A lognormal draw with mean 1: exp(sigma Z - sigma^2 / 2). */
double sim_lognormal_mean1(sim_rng *r, double sigma);

/*
 * Latency shapes, sampled by table: the histogram bin of each of 65536
 * equally spaced quantiles of the distribution (times `mult`), so a
 * request's latency bin is one lookup. The quantile grid resolves the
 * tail down to 1 / 65536 (about 650 entries above p99).
 */
typedef enum sim_shape {
	SIM_LAT_LOGNORMAL = 0, /* median 100 ms, sigma 0.5 of log */
	SIM_LAT_HEAVY          /* 96% of that, 4% Pareto from 250 ms, alpha 1.1 */
} sim_shape;

#define SIM_LAT_TABLE 65536
typedef struct sim_lat_table {
	int16_t bin[SIM_LAT_TABLE];
} sim_lat_table;

void sim_lat_table_init(sim_lat_table *t, sim_shape shape, double mult);

static inline int sim_lat_bin(const sim_lat_table *t, sim_rng *r)
{
	return t->bin[sim_next(r) >> 48];
}

#endif
