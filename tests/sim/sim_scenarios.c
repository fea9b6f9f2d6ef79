/*
 * sim_scenarios.c - the scenario table (see sim_scenarios.h). Base: 10,000
 * first attempts per minute, 0.5% errors, 200,000 users.
 */
#include "sim_scenarios.h"

#include <string.h>

#define BASE .rpm = 10000, .base_err = 0.005
#define USERS50K .users = 50000, .rate_sigma = 1.5, .err_sigma = 1

const scenario sim_scenarios[] = {
	/* identical canaries, traffic of every kind */
	{ "healthy", "identical canary, independent requests", BASE },
	{ "healthy_bursts5", "identical canary, errors in retry bursts of 5",
	  BASE, .burst = 5 },
	{ "healthy_bursts20", "identical canary, errors in retry bursts of 20",
	  BASE, .burst = 20 },
	{ "healthy_users", "identical canary, 50k users, lognormal rates "
	  "(sigma 1.5) and error propensity (sigma 1)", BASE, USERS50K },
	{ "healthy_heavy_latency", "identical canary, heavy-tailed latency",
	  BASE, .shape = SIM_LAT_HEAVY },
	{ "healthy_diurnal", "identical canary, daily cycle of traffic and "
	  "errors (amplitude 60%)", BASE, .diurnal = 0.6 },
	{ "shared_incident", "identical canary, both arms 10x errors for 20 "
	  "minutes", BASE, .incident = 10 },
	{ "no_latency", "identical canary, the app records no latency", BASE,
	  .no_latency = true },
	{ "rare_errors", "identical canary, 0.01% errors", .rpm = 10000,
	  .base_err = 0.0001 },
	{ "share60", "identical canary that gets 60% of its share", BASE,
	  .share_bias = 0.6 },
	/* regressions from the first step */
	{ "errors_5x", "5x errors", BASE, .err_mult = 5 },
	{ "errors_5x_bursts20", "5x errors, retry bursts of 20", BASE,
	  .err_mult = 5, .burst = 20 },
	{ "errors_2x", "2x errors", BASE, .err_mult = 2 },
	{ "errors_1.5x", "1.5x errors", BASE, .err_mult = 1.5 },
	{ "errors_2x_users", "2x errors, 50k heterogeneous users", BASE,
	  USERS50K, .err_mult = 2 },
	{ "latency_1.3x", "1.3x latency", BASE, .lat_mult = 1.3 },
	{ "share60_errors_2x", "60% of its share and 2x errors", BASE,
	  .share_bias = 0.6, .err_mult = 2 },
	{ "poisoned_2x", "2x errors; one client sends 3x the real traffic, "
	  "canary without errors", BASE, .err_mult = 2, .poisoner = true },
	{ "low_traffic_5x", "100 req/min, 5x errors", .rpm = 100,
	  .base_err = 0.005, .err_mult = 5 },
	{ "low_traffic_20x", "100 req/min, 20x errors", .rpm = 100,
	  .base_err = 0.005, .err_mult = 20 },
	/* late regressions and crashes */
	{ "late_errors_5x", "5x errors from a random minute of a random "
	  "partial step", BASE, .err_mult = 5, .onset = SIM_ONSET_LATE },
	{ "late_latency_1.5x", "1.5x latency from a random minute of a "
	  "random partial step", BASE, .lat_mult = 1.5,
	  .onset = SIM_ONSET_LATE },
	{ "late_errors_5x_50pct_15m", "5x errors from minute 15 of the 50% "
	  "step", BASE, .err_mult = 5, .onset = SIM_ONSET_AT,
	  .onset_step = 3, .onset_min = 15 },
	{ "late_errors_5x_50pct_15m_bake", "the same, with a 30 min bake",
	  BASE, .err_mult = 5, .onset = SIM_ONSET_AT, .onset_step = 3,
	  .onset_min = 15, .bake_min = 30 },
	{ "late_latency_1.5x_50pct_8m", "1.5x latency from minute 8 of the "
	  "50% step", BASE, .lat_mult = 1.5, .onset = SIM_ONSET_AT,
	  .onset_step = 3, .onset_min = 8 },
	{ "crash", "the canary stops reporting at a random minute of a "
	  "random partial step", BASE, .crash = true,
	  .onset = SIM_ONSET_LATE },
	/* the first simulator's cases */
	{ "sparse_3v0_equal", "3 canary errors vs 0, equal exposure (50%)",
	  .rpm = 200, .inject = 3, .start_step = 3 },
	{ "sparse_3v0_1pct", "3 canary errors vs 0 at the 1% step",
	  .rpm = 10000, .inject = 3 },
	{ "errors_10pct_vs_0", "canary 10% errors, stable none", .rpm = 10000,
	  .canary_err = 0.10 },
	{ "no_canary_traffic", "no unit is canary (3 stray canary errors)",
	  BASE, .no_canary = true, .inject = 3 },
	{ "srm_half_share", "the canary gets half its share", BASE,
	  .share_bias = 0.5 },
	{ "healthy_rare_50pct", "200 req/min, 0.1% errors, from the 50% step",
	  .rpm = 200, .base_err = 0.001, .start_step = 3 },
	{ "healthy_1k", "1k req/min, 0.5% errors", .rpm = 1000,
	  .base_err = 0.005 },
};
const size_t sim_nscenarios = sizeof(sim_scenarios) / sizeof(sim_scenarios[0]);

const scenario *sim_scenario(const char *name)
{
	size_t i;

	for (i = 0; i < sim_nscenarios; i++)
		if (strcmp(sim_scenarios[i].name, name) == 0)
			return &sim_scenarios[i];
	return NULL;
}
