/*
 * sim_pipeline.c - SDK windows and server sums for the simulator (see
 * sim_pipeline.h).
 */
#include "sim_pipeline.h"

#include <string.h>

void sim_arm_clear(sim_arm *a)
{
	a->exposures = a->errors = a->windows = 0;
	a->error_units = a->error_sq = a->errors_unmapped = a->error_max = 0;
	canary__hist_init(&a->lat);
	memset(a->units, 0, sizeof(a->units));
	memset(a->err_units, 0, sizeof(a->err_units));
}

void sim_arm_sketches(const sim_arm *a, canary__hll *units,
	canary__hll *err_units)
{
	units->p = err_units->p = CANARY__HLL_P;
	units->reg = (uint8_t *)a->units;
	err_units->reg = (uint8_t *)a->err_units;
}

void sim_arm_merge(sim_arm *dst, const sim_arm *src)
{
	canary__hll du, de, su, se;

	dst->exposures += src->exposures;
	dst->errors += src->errors;
	dst->windows += src->windows;
	dst->error_units += src->error_units;
	dst->error_sq += src->error_sq;
	dst->errors_unmapped += src->errors_unmapped;
	if (src->error_max > dst->error_max)
		dst->error_max = src->error_max;
	canary__hist_merge(&dst->lat, &src->lat);
	sim_arm_sketches(dst, &du, &de);
	sim_arm_sketches(src, &su, &se);
	/* An arm without exposures or errors has empty sketches, one
	 * without errors an empty err_units: skip the 4 KiB merges. */
	if (src->exposures || src->errors)
		canary__hll_merge(&du, &su);
	if (src->errors)
		canary__hll_merge(&de, &se);
}

void sim_pipe_reset(sim_pipe *p, unsigned ninst)
{
	unsigned i;
	int a;

	p->ninst = ninst;
	for (i = 0; i < SIM_MAX_INST; i++)
		for (a = 0; a < 2; a++)
			canary__uerr_init(&p->map[i][a], p->slots[i][a],
				CANARY__UERR_SLOTS);
	p->hist_exposures = p->hist_errors = 0;
	p->hist_ms = 0;
	p->latency_ever = 0;
	sim_pipe_new_step(p);
	sim_pipe_begin(p);
}

void sim_pipe_new_step(sim_pipe *p)
{
	unsigned i;
	int a;

	for (a = 0; a < 2; a++) {
		sim_arm_clear(&p->step[a]);
		for (i = 0; i < p->ninst; i++)
			sim_arm_clear(&p->part[i][a]);
	}
	p->ring_next = p->ring_len = 0;
}

void sim_pipe_begin(sim_pipe *p)
{
	unsigned i;
	int a;

	for (i = 0; i < p->ninst; i++)
		for (a = 0; a < 2; a++) {
			sim_arm_clear(&p->win[i][a]);
			canary__uerr_clear(&p->map[i][a]);
		}
}

void sim_pipe_error(sim_pipe *p, unsigned inst, int arm, uint64_t unit)
{
	sim_arm *w = &p->win[inst][arm];
	canary__hll u, e;

	w->errors++;
	sim_arm_sketches(w, &u, &e);
	/* A unit with an error is a unit of the arm even without an
	 * exposure in this window: err_units stays within units. */
	canary__hll_add_hash(&u, unit);
	canary__hll_add_hash(&e, unit);
	canary__uerr_add(&p->map[inst][arm], unit);
}

/* The window as the SDK sends it: its map's dispersion figures. */
static void close_window(sim_arm *w, const canary__unit_errors *m)
{
	w->windows = 1;
	w->error_units = m->used;
	w->error_sq = m->sum_sq;
	w->errors_unmapped = m->unmapped;
	w->error_max = m->max;
}

void sim_pipe_deliver(sim_pipe *p, bool canary_lost, int64_t interval_ms)
{
	sim_arm *ring = p->ring[p->ring_next];
	unsigned i;
	int a;

	sim_arm_clear(&ring[0]);
	sim_arm_clear(&ring[1]);
	for (i = 0; i < p->ninst; i++)
		for (a = 0; a < 2; a++) {
			sim_arm *w = &p->win[i][a];

			if ((a == 1 && canary_lost) ||
			    (w->exposures == 0 && w->errors == 0))
				continue;
			close_window(w, &p->map[i][a]);
			p->latency_ever += canary__hist_count(&w->lat);
			sim_arm_merge(&p->part[i][a], w);
			sim_arm_merge(&ring[a], w);
			if (a == 0) {
				p->hist_exposures += w->exposures;
				p->hist_errors += w->errors;
			}
		}
	sim_arm_merge(&p->step[0], &ring[0]);
	sim_arm_merge(&p->step[1], &ring[1]);
	p->ring_next = (p->ring_next + 1) % SIM_RECENT;
	if (p->ring_len < SIM_RECENT)
		p->ring_len++;
	p->hist_ms += interval_ms;
}

void sim_pipe_recent(sim_pipe *p, int r)
{
	int k, a;

	if (r > p->ring_len)
		r = p->ring_len;
	for (a = 0; a < 2; a++) {
		sim_arm_clear(&p->recent[a]);
		for (k = 1; k <= r; k++)
			sim_arm_merge(&p->recent[a], &p->ring[(p->ring_next -
				k + SIM_RECENT) % SIM_RECENT][a]);
	}
}
