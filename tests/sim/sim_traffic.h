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

/* The probability of each histogram bin under a lognormal with the given
 * median (ms) and sigma (of log), clamped like the histogram clamps. */
typedef struct sim_latency {
	double p[CANARY__HIST_BINS];
	int lo, hi; /* bins with p > 1e-15 */
} sim_latency;

void sim_latency_init(sim_latency *l, double median_ms, double sigma);

/* Add n requests' latencies to `h` (a multinomial over the bins). */
void sim_latency_draw(sim_rng *r, const sim_latency *l, uint64_t n,
	canary__hist *h);

#endif
