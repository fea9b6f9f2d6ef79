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

double sim_lognormal_mean1(sim_rng *r, double sigma)
{
	return sigma > 0 ? exp(sigma * sim_normal(r) - sigma * sigma / 2) : 1;
}

static double phi(double z)
{
	return 0.5 * erfc(-z / 1.4142135623730951);
}

static double shape_cdf(sim_shape shape, double ms)
{
	double body = phi(log(ms / 100) / 0.5), tail;

	if (shape == SIM_LAT_LOGNORMAL)
		return body;
	tail = ms <= 250 ? 0 : 1 - pow(250 / ms, 1.1);
	return 0.96 * body + 0.04 * tail;
}

/* The q-quantile by bisection on log(ms) within [lo, hi]: both shapes
 * are continuous and increasing. */
static double shape_quantile(sim_shape shape, double q, double lo, double hi)
{
	int i;

	for (i = 0; i < 50; i++) {
		double mid = 0.5 * (lo + hi);

		if (shape_cdf(shape, exp(mid)) < q)
			lo = mid;
		else
			hi = mid;
	}
	return 0.5 * (lo + hi);
}

/* log(ms) of each table quantile, computed once per shape: each search
 * starts at the previous quantile. */
static const double *shape_log_quantiles(sim_shape shape)
{
	static double q[2][SIM_LAT_TABLE];
	static int done[2];
	double lo = log(CANARY_HIST_MIN_MS) - 1;
	int i;

	if (!done[shape]) {
		for (i = 0; i < SIM_LAT_TABLE; i++) {
			q[shape][i] = shape_quantile(shape,
				(i + 0.5) / SIM_LAT_TABLE, lo, log(1e9));
			lo = q[shape][i];
		}
		done[shape] = 1;
	}
	return q[shape];
}

void sim_lat_table_init(sim_lat_table *t, sim_shape shape, double mult)
{
	const double *lq = shape_log_quantiles(shape);
	int i;

	for (i = 0; i < SIM_LAT_TABLE; i++)
		t->bin[i] = (int16_t)canary__hist_index(exp(lq[i]) * mult);
}
