/*
 * sim_traffic.c - seeded synthetic traffic for canary-sim.
 */
#include "sim_traffic.h"

#include <math.h>

static uint64_t splitmix(uint64_t *x)
{
	uint64_t z = (*x += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

void sim_rng_seed(sim_rng *r, uint64_t seed)
{
	int i;

	for (i = 0; i < 4; i++)
		r->s[i] = splitmix(&seed);
}

static uint64_t rotl(uint64_t x, int k)
{
	return (x << k) | (x >> (64 - k));
}

uint64_t sim_next(sim_rng *r)
{
	uint64_t *s = r->s;
	uint64_t out = rotl(s[1] * 5, 7) * 9, t = s[1] << 17;

	s[2] ^= s[0];
	s[3] ^= s[1];
	s[1] ^= s[2];
	s[0] ^= s[3];
	s[2] ^= t;
	s[3] = rotl(s[3], 45);
	return out;
}

double sim_uniform(sim_rng *r)
{
	return (double)(sim_next(r) >> 11) * (1.0 / 9007199254740992.0);
}

double sim_normal(sim_rng *r)
{
	double u = 1.0 - sim_uniform(r), v = sim_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* Inversion: walk the pmf from 0 (expected mean + 1 steps). */
static uint64_t binomial_small(sim_rng *r, uint64_t n, double p)
{
	double u = sim_uniform(r), q = 1 - p, f = pow(q, (double)n), cdf = f;
	uint64_t k = 0;

	while (u > cdf && k < n) {
		f *= (double)(n - k) / (double)(k + 1) * p / q;
		k++;
		cdf += f;
		if (f < 1e-300 && (double)k > (double)n * p)
			break;
	}
	return k;
}

uint64_t sim_binomial(sim_rng *r, uint64_t n, double p)
{
	double mean, x;

	if (n == 0 || p <= 0)
		return 0;
	if (p >= 1)
		return n;
	if (p > 0.5)
		return n - sim_binomial(r, n, 1 - p);
	mean = (double)n * p;
	if (mean < 30)
		return binomial_small(r, n, p);
	x = floor(mean + sqrt(mean * (1 - p)) * sim_normal(r) + 0.5);
	if (x < 0)
		return 0;
	return x > (double)n ? n : (uint64_t)x;
}

uint64_t sim_poisson(sim_rng *r, double mean)
{
	double x, l, prod;
	uint64_t k = 0;

	if (mean <= 0)
		return 0;
	if (mean >= 30) {
		x = floor(mean + sqrt(mean) * sim_normal(r) + 0.5);
		return x < 0 ? 0 : (uint64_t)x;
	}
	l = exp(-mean);
	prod = sim_uniform(r);
	while (prod > l) {
		k++;
		prod *= sim_uniform(r);
	}
	return k;
}

static double phi(double z)
{
	return 0.5 * erfc(-z / 1.4142135623730951);
}

void sim_latency_init(sim_latency *l, double median_ms, double sigma)
{
	const double log_gamma = 1 / CANARY__HIST_INV_LOG_GAMMA;
	double prev = 0, mu = log(median_ms);
	int i;

	l->lo = CANARY__HIST_MAX_INDEX;
	l->hi = CANARY__HIST_MIN_INDEX;
	for (i = CANARY__HIST_MIN_INDEX; i <= CANARY__HIST_MAX_INDEX; i++) {
		/* P(X <= gamma^i); the top bin takes the rest of the tail. */
		double cdf = i == CANARY__HIST_MAX_INDEX ? 1 :
			phi(((double)i * log_gamma - mu) / sigma);
		double p = cdf - prev;

		l->p[i - CANARY__HIST_MIN_INDEX] = p;
		prev = cdf;
		if (p > 1e-15) {
			if (i < l->lo)
				l->lo = i;
			l->hi = i;
		}
	}
}

void sim_latency_draw(sim_rng *r, const sim_latency *l, uint64_t n,
	canary__hist *h)
{
	double rest = 1;
	int i;

	for (i = l->lo; i <= l->hi && n > 0; i++) {
		double p = l->p[i - CANARY__HIST_MIN_INDEX];
		uint64_t k;

		if (p <= 0)
			continue;
		k = i == l->hi ? n : sim_binomial(r, n, p / rest);
		if (k)
			canary__hist_add_bin(h, i, k);
		n -= k;
		rest -= p;
		if (rest <= 0)
			rest = 1e-300;
	}
}
