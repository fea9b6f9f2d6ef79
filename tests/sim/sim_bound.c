/*
 * sim_bound.c - what no test can do: the most an identical canary can be
 * passed at the 1% step by a given time, for any PASS that keeps a canary
 * at the margin below pass_alpha.
 *
 * Up to time T the canary's erroring users are Poisson(mu) when the
 * canary is identical and Poisson(1.5 mu) at the margin (stable's rate
 * taken as known exactly, the most favourable case for any test). "The
 * step has passed by T" is an event of the data up to T; its chance at
 * the margin must stay below pass_alpha. By the Neyman-Pearson lemma its
 * chance for the identical canary is then at most the power of the most
 * powerful level-pass_alpha test, the (randomised) lower tail of the
 * count. docs/analysis.md, section 11.
 */
#include <math.h>
#include <stdio.h>

#include "sim_bound.h"

static double poisson_pmf(int k, double mu)
{
	return exp(-mu + k * log(mu) - lgamma(k + 1.0));
}

double sim_bound_pass_power(double mu, double margin, double alpha)
{
	double at_margin = margin * mu, size = 0, power = 0, p;
	int k = 0;

	if (mu <= 0)
		return 0;
	/* Pass on counts 0..k-1 wholly, on count k with the chance left. */
	while ((p = poisson_pmf(k, at_margin)) + size <= alpha) {
		size += p;
		power += poisson_pmf(k, mu);
		k++;
	}
	return power + (alpha - size) / p * poisson_pmf(k, mu);
}

void sim_bound_print(void)
{
	static const int bursts[] = { 1, 5, 20 };
	static const int minutes[] = { 60, 120, 240, 480, 720, 1440 };
	/* 10,000 requests/min, 0.5% errors, the canary's 1% share. */
	const double errors_per_min = 10000 * 0.005 * 0.01;
	size_t b, t;

	printf("| burst | minutes at 1%% | canary users with errors (mean) "
		"| most an identical canary can pass |\n");
	printf("|---:|---:|---:|---:|\n");
	for (b = 0; b < sizeof(bursts) / sizeof(bursts[0]); b++)
		for (t = 0; t < sizeof(minutes) / sizeof(minutes[0]); t++) {
			double mu = errors_per_min / bursts[b] * minutes[t];

			printf("| %d | %d | %.1f | %.1f%% |\n", bursts[b],
				minutes[t], mu,
				100 * sim_bound_pass_power(mu, 1.5, 0.05));
		}
}
