/*
 * sim_pipeline.h - what the real pipeline produces from the simulated
 * requests, on both sides:
 *
 *  SDK: per instance, arm and interval one window: exposures, errors, the
 *  latency histogram (canary__hist), HyperLogLog sketches (proto/hll) of
 *  the units exposed and of the units with an error, and the dispersion
 *  of the errors over units from the bounded exact map (proto/unit_errors:
 *  units mapped, sum of squared per-unit counts, largest count, errors
 *  that found the map full).
 *
 *  Server: the windows of the current step summed per arm and per
 *  instance (sketches merged by register maximum, histograms by bins),
 *  the last SIM_RECENT intervals one by one (for recent-window tests),
 *  and the stable arm since the rollout started.
 *
 * One evaluation interval is one SDK flush: the windows the judge sees
 * are exactly the windows the SDK sent.
 */
#ifndef SIM_PIPELINE_H
#define SIM_PIPELINE_H

#include <stdbool.h>
#include <stdint.h>

#include "histogram.h"
#include "hll.h"
#include "unit_errors.h"

#define SIM_MAX_INST 9  /* 8 real instances and a poisoning client */
#define SIM_RECENT 5    /* intervals kept one by one */
#define SIM_REGS CANARY__HLL_REGS(CANARY__HLL_P)

/* One arm's evidence: one window, or windows summed. */
typedef struct sim_arm {
	uint64_t exposures, errors;
	uint64_t windows;          /* windows summed (0: none) */
	uint64_t error_units;      /* sum over windows: units mapped */
	uint64_t error_sq;         /* sum over windows: sum of counts^2 */
	uint64_t errors_unmapped;  /* sum over windows */
	uint64_t error_max;        /* max over windows */
	canary__hist lat;
	uint8_t units[SIM_REGS];     /* units exposed (or with an error) */
	uint8_t err_units[SIM_REGS]; /* units with an error */
} sim_arm;

void sim_arm_clear(sim_arm *a);
void sim_arm_merge(sim_arm *dst, const sim_arm *src);
/* The arm's sketches as canary__hll views (borrowing a's registers). */
void sim_arm_sketches(const sim_arm *a, canary__hll *units,
	canary__hll *err_units);

typedef struct sim_pipe {
	unsigned ninst;
	/* SDK: this interval's windows and error maps */
	sim_arm win[SIM_MAX_INST][2];
	canary__unit_errors map[SIM_MAX_INST][2];
	canary__uerr_slot slots[SIM_MAX_INST][2][CANARY__UERR_SLOTS];
	/* server */
	sim_arm step[2];                 /* since the step began */
	sim_arm part[SIM_MAX_INST][2];   /* the same, per instance */
	sim_arm ring[SIM_RECENT][2];     /* the step's last intervals */
	int ring_next, ring_len;
	sim_arm recent[2];               /* scratch: the last r intervals */
	uint64_t hist_exposures, hist_errors; /* stable since the rollout */
	int64_t hist_ms;
	uint64_t latency_ever;           /* latency samples ever received */
} sim_pipe;

/* Empty everything for a new rollout. */
void sim_pipe_reset(sim_pipe *p, unsigned ninst);
/* A new step: the server's step sums and recent intervals start over. */
void sim_pipe_new_step(sim_pipe *p);
/* A new interval: empty SDK windows and maps. */
void sim_pipe_begin(sim_pipe *p);

/* SDK recording. `bin` is the latency bin, or SIM_NO_LATENCY. arm 0 =
 * stable, 1 = canary. */
#define SIM_NO_LATENCY (-100000)
static inline void sim_pipe_expose(sim_pipe *p, unsigned inst, int arm,
	uint64_t unit, int bin)
{
	sim_arm *w = &p->win[inst][arm];
	canary__hll h = { CANARY__HLL_P, w->units };

	w->exposures++;
	canary__hll_add_hash(&h, unit);
	if (bin != SIM_NO_LATENCY)
		canary__hist_add_bin(&w->lat, bin, 1);
}

void sim_pipe_error(sim_pipe *p, unsigned inst, int arm, uint64_t unit);

/* Close the interval's windows and deliver them to the server, except the
 * canary arm's when `canary_lost` (a crashed canary reports nothing).
 * `interval_ms` advances the stable history's span. */
void sim_pipe_deliver(sim_pipe *p, bool canary_lost, int64_t interval_ms);

/* The merge of the last r (<= ring_len) intervals into p->recent. */
void sim_pipe_recent(sim_pipe *p, int r);

#endif
