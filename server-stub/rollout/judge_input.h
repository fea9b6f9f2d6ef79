/*
 * judge_input.h - what the judge sees at one evaluation of a rollout, read
 * from the store (docs/analysis.md, "Per evaluation, from the server"):
 *
 *   stable, canary   the windows since the step began (config version >=
 *                    the step's): counts and latency from the windows,
 *                    the user-level evidence from the per-instance sums
 *   recent[]         the step's last interval and its last 5 intervals,
 *                    windows with their sketches
 *   top[]            the largest contributing instances' part of the step
 *   stable_history   the stable arm since the rollout began (at its
 *                    start: the flag's traffic of the hour before)
 *   latency_never    no latency sample ever received for the flag
 *   before           during a bake at the last step: the stable arm of
 *                    the last partial step
 *
 * The struct holds every number and sketch the cj_input borrows; it is
 * large (a few hundred KiB): allocate it, reuse it.
 */
#ifndef CS_JUDGE_INPUT_H
#define CS_JUDGE_INPUT_H

#include <stdint.h>

#include "rollout/judge.h"
#include "rollout/rollout.h"
#include "store/storage.h"

/* The recent windows, in evaluation intervals: the last one, the last 5. */
#define CS_RECENT_SHORT 1
#define CS_RECENT_LONG 5
/* At a rollout's start, the flag's traffic this far back stands for the
 * history (how long the first step will need). */
#define CS_PREVIEW_MS (60 * 60 * 1000)

typedef struct cs_judge_input {
	/* The step (0..1) and the stable history (2..3): what a decision
	 * record shows (cs_decision_add_judgement). */
	cs_arm_stats arms[2 * CANARY__ARMS];
	cs_arm_stats recent[CJ_RECENT_MAX][CANARY__ARMS];
	cs_arm_stats before[CANARY__ARMS];
	cs_contributions step_users;
	cs_contributions before_users;
	/* Sketch views: step 2, recent 2 x 2, top 2 x 2, before 1, each a
	 * pair. */
	canary__hll hll[2 * (2 + 2 * CJ_RECENT_MAX + 2 * CJ_TOP_MAX + 1)];
	int nhll;
	uint64_t max_version;  /* the newest config version published */
	int64_t window_ms;     /* the stored windows' width (the caller
	                          sets it; 0: unknown) */
	cj_input in;
} cs_judge_input;

/* Fill `out` for an evaluation of `r` at now_ms. */
int cs_judge_input_read(cs_store *store, const cs_rollout *r, int64_t now_ms,
	cs_judge_input *out);

/* At the start of `r` (no step traffic yet): the input from the flag's
 * traffic of the last CS_PREVIEW_MS, for the judge's estimate of how long
 * the first step will need. */
int cs_judge_input_preview(cs_store *store, const cs_rollout *r,
	int64_t now_ms, cs_judge_input *out);

#endif
