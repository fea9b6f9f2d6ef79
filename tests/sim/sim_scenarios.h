/*
 * sim_scenarios.h - the simulator's scenarios: traffic that is not the
 * judge's model (heterogeneous users, retry bursts, diurnal cycles, shared
 * incidents, heavy-tailed latency, low traffic, rare errors) and canaries
 * that are healthy, regress from the start or at a random minute of a
 * random partial step, crash, get the wrong share, or face a poisoning
 * client. Fields left 0 take the default named in the comment.
 */
#ifndef SIM_SCENARIOS_H
#define SIM_SCENARIOS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "sim_traffic.h"

/* When the canary's regression (or crash) begins: the clock passing
 * minute m after partial step s began, whatever the step is by then. */
typedef enum sim_onset {
	SIM_ONSET_START = 0, /* from the first step */
	SIM_ONSET_LATE,      /* s in 0..3 and m in 0..min_soak - 1, uniform:
	                        every step lasts at least the soak, so the
	                        regression begins while step s is current */
	SIM_ONSET_AT         /* s = onset_step, m = onset_min: may begin after
	                        the step (at 100%, when it was promoted) */
} sim_onset;

typedef struct scenario {
	const char *name;
	const char *what;
	/* traffic */
	double rpm;          /* first attempts per minute, both arms */
	double base_err;     /* stable error probability per request */
	uint32_t users;      /* population; 0: 200,000 with equal rates (at
	                        10k req/min a user comes back every 20 min:
	                        nearly independent requests) */
	double rate_sigma;   /* lognormal sigma of users' request rates */
	double err_sigma;    /* lognormal sigma of users' error propensity */
	uint32_t burst;      /* errors in retry bursts of this many (0: 1) */
	sim_shape shape;     /* latency shape */
	bool no_latency;     /* the app records no latency */
	double diurnal;      /* amplitude of the daily cycle of traffic and
	                        errors, random phase (0: none) */
	double incident;     /* both arms' errors x this for 20 minutes from a
	                        random minute in 5..120 (0: none) */
	/* the canary */
	double err_mult;     /* canary error rate = stable x this (0: 1) */
	double canary_err;   /* or this rate when > 0 */
	double lat_mult;     /* canary latency x this (0: 1) */
	sim_onset onset;
	size_t onset_step;   /* SIM_ONSET_AT */
	int onset_min;
	bool crash;          /* from the onset the canary reports nothing */
	double share_bias;   /* canary iff bucket < rollout x this (0: 1) */
	bool no_canary;      /* no unit is canary */
	bool poisoner;       /* one client sends false windows (see
	                        canary-sim.c) */
	int inject;          /* canary errors of fresh units, no exposures, at
	                        random minutes of the first 10 */
	size_t start_step;   /* first step (later: an hour of stable history) */
	int bake_min;        /* watch the last step this long (0: no bake) */
} scenario;

extern const scenario sim_scenarios[];
extern const size_t sim_nscenarios;

/* The scenario called `name`, or NULL. */
const scenario *sim_scenario(const char *name);

#endif
