/*
 * sim_users.c - the simulator's user population (see sim_users.h).
 */
#include "sim_users.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "canary/canary.h"
#include "hll.h"

int sim_pop_new(sim_population *p, uint32_t n)
{
	uint32_t k;

	memset(p, 0, sizeof(*p));
	p->u = calloc(n, sizeof(*p->u));
	if (!p->u)
		return -1;
	p->n = n;
	for (k = 0; k < n; k++) {
		sim_user *u = &p->u[k];

		u->id_len = (uint8_t)snprintf(u->id, sizeof(u->id), "u%u", k);
		u->hash = canary__hll_hash(u->id, u->id_len);
	}
	return 0;
}

void sim_pop_free(sim_population *p)
{
	free(p->u);
	free(p->alias_p);
	free(p->alias_i);
	memset(p, 0, sizeof(*p));
}

/* Vose's alias method: O(n) to build, two draws per pick. The weights are
 * the caller's (in alias_p on entry, summing to n). */
static int alias_build(sim_population *p)
{
	uint32_t *small = malloc(p->n * sizeof(*small));
	uint32_t *large = malloc(p->n * sizeof(*large));
	uint32_t ns = 0, nl = 0, k;

	if (!small || !large) {
		free(small);
		free(large);
		return -1;
	}
	for (k = 0; k < p->n; k++) {
		if (p->alias_p[k] < 1)
			small[ns++] = k;
		else
			large[nl++] = k;
	}
	while (ns && nl) {
		uint32_t s = small[--ns], l = large[nl - 1];

		p->alias_i[s] = l;
		p->alias_p[l] -= 1 - p->alias_p[s];
		if (p->alias_p[l] < 1) {
			nl--;
			small[ns++] = l;
		}
	}
	while (nl)
		p->alias_p[large[--nl]] = 1;
	while (ns)
		p->alias_p[small[--ns]] = 1; /* rounding leftovers */
	free(small);
	free(large);
	return 0;
}

static void draw_rates(sim_population *p, sim_rng *rng, double sigma)
{
	double sum = 0;
	uint32_t k;

	if (sigma <= 0 || (!p->alias_p &&
	    !(p->alias_p = malloc(p->n * sizeof(double)))) ||
	    (!p->alias_i && !(p->alias_i = malloc(p->n * sizeof(uint32_t))))) {
		free(p->alias_p);
		free(p->alias_i);
		p->alias_p = NULL;
		p->alias_i = NULL;
		return;
	}
	for (k = 0; k < p->n; k++) {
		p->alias_p[k] = sim_lognormal_mean1(rng, sigma);
		p->alias_i[k] = k;
		sum += p->alias_p[k];
	}
	for (k = 0; k < p->n; k++)
		p->alias_p[k] *= p->n / sum;
	if (alias_build(p) != 0) {
		free(p->alias_p);
		p->alias_p = NULL; /* equal rates rather than none */
	}
}

void sim_pop_draw(sim_population *p, sim_rng *rng, const char *salt,
	double rate_sigma, double err_sigma, unsigned instances)
{
	uint32_t k;

	for (k = 0; k < p->n; k++) {
		sim_user *u = &p->u[k];

		u->bucket = (uint16_t)canary_bucket(salt, u->id);
		u->prop = (float)sim_lognormal_mean1(rng, err_sigma);
		u->instance = (uint8_t)((u->hash >> 20) % instances);
	}
	draw_rates(p, rng, rate_sigma);
}

uint32_t sim_pop_pick(const sim_population *p, sim_rng *rng)
{
	uint64_t x = sim_next(rng);
	uint32_t k = (uint32_t)(((x >> 32) * p->n) >> 32);

	if (!p->alias_p)
		return k;
	return ((double)(x & 0xffffffffu) * (1.0 / 4294967296.0)) <
		p->alias_p[k] ? k : p->alias_i[k];
}
