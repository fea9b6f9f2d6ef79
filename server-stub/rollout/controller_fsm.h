/*
 * controller_fsm.h - the rollout controller's decision per tick, as a pure
 * function: given where a rollout stands, the judge's verdict and the time,
 * what to do and why. The server applies the action (store, config
 * version bump, streams); the simulator drives the same function.
 *
 * Policy (docs/analysis.md, "The controller's decision"):
 *  - FAIL rolls back at once, whatever the soak, a pause or a bake (safety
 *    first); in dry-run mode it pauses instead and says what it would have
 *    done.
 *  - An alert from the judge (sample ratio mismatch, a silent canary,
 *    inconsistent evidence) holds; if it persists for grace_ms, the
 *    rollout rolls back (on_stall rollback, the default: rolling back is
 *    cheap and safe) or pauses for a person (on_stall pause).
 *  - PASS widens once the step has soaked for min_soak and the PASS has
 *    held at every evaluation for sustain_ms after that: the verdict at
 *    the end of the soak counts, not a PASS seen once.
 *  - Reaching the last step completes the rollout, or with bake_ms starts
 *    a bake: the last step is watched (the judge's before/after critical
 *    checks) for bake_ms, and completes on a PASS after it.
 *  - INCONCLUSIVE holds, and says how long the judge estimates the step
 *    still needs at its traffic (and a larger step that would decide
 *    within max_step, when this one will not). Past max_step the rollout
 *    holds on until max_wait_ms while there is traffic to estimate from
 *    (low traffic, rare errors, bursty errors, a daily trough: as fast as
 *    the information allows; the estimate is from the traffic of now, not
 *    a forecast, so it does not cut the wait short), and then, or at
 *    max_step without any traffic, pauses, naming the rule that kept it
 *    from passing. With widen_undecided, an INCONCLUSIVE step at max_step
 *    that has traffic and no FAIL test leaning toward FAIL widens instead
 *    to the next step when that is at most widen_undecided (and 50%) and
 *    not the last, outside a dry run: a larger share decides sooner.
 *  - A paused rollout only reacts to FAIL until a human resumes it.
 */
#ifndef CJ_CONTROLLER_FSM_H
#define CJ_CONTROLLER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "judge.h"

typedef enum cj_status {
	CJ_RUNNING = 0, /* including a bake at the last step */
	CJ_PAUSED,      /* by a human, max time, a stall, a dry-run FAIL */
	CJ_ROLLED_BACK, /* terminal: canary at 0 */
	CJ_COMPLETED    /* terminal: at the last step */
} cj_status;

typedef enum cj_action {
	CJ_ACT_NONE = 0, /* nothing to do (terminal, or paused) */
	CJ_ACT_HOLD,     /* stay on this step */
	CJ_ACT_WIDEN,    /* go to the next step */
	CJ_ACT_PROMOTE,  /* go to the last step: completes, or starts a bake */
	CJ_ACT_PAUSE,    /* stop widening until a human resumes */
	CJ_ACT_ROLLBACK, /* canary to 0 now */
	CJ_ACT_COMPLETE  /* the bake ended on a PASS: completed */
} cj_action;

typedef enum cj_on_stall {
	CJ_STALL_ROLLBACK = 0,
	CJ_STALL_PAUSE
} cj_on_stall;

typedef struct cj_rollout {
	const uint32_t *steps_bp; /* borrowed; rollout per step, basis points */
	size_t nsteps;            /* >= 1 */
	size_t step;              /* current index into steps_bp */
	int64_t step_start_ms;    /* when the current step began */
	int64_t min_soak_ms;      /* a step passes no earlier than this */
	int64_t max_step_ms;      /* a step should pass by then */
	cj_status status;
	bool dry_run;             /* FAIL pauses instead of rolling back */
	/* Options (0: the behaviour in brackets). Recommended: sustain 2
	 * intervals, grace 3 intervals, max_wait 8 x max_step. */
	int64_t max_wait_ms;      /* past max_step, hold on to this step age
	                             while the judge has traffic to estimate
	                             from [pause at max_step] */
	int64_t sustain_ms;       /* PASS held this long after the soak
	                             [widen on the first PASS after it] */
	int64_t grace_ms;         /* an alert acts after this [at once] */
	cj_on_stall on_stall;     /* what a persistent alert does */
	int64_t bake_ms;          /* watch the last step [complete at once] */
	uint32_t widen_undecided_bp; /* at max_step without a PASS, widen to
	                             the next step when it is at most this
	                             (and 50%), never to the last
	                             [hold on, or pause] */
	/* State the server keeps with the rollout (0: none; times > 0). */
	int64_t pass_since_ms;    /* first PASS of the current run of PASSes */
	int64_t alert_since_ms;   /* first tick of the current alert */
} cj_rollout;

typedef struct cj_decision {
	cj_action action;
	const char *rule;    /* machine name (static): "fail", "soak", ... */
	char reason[256];    /* one human sentence */
	size_t next_step;    /* step index after the action */
	uint32_t next_bp;    /* rollout after the action (0 after ROLLBACK) */
	bool alert;          /* an alert is open (log line + metric) */
	int64_t pass_since_ms;  /* the state after this tick (cj_fsm_apply) */
	int64_t alert_since_ms;
	int64_t decide_ms;   /* the judge's estimate of the time the step
	                        still needs; -1 unknown */
	uint32_t suggest_bp; /* a step (at most 50%) that would decide within
	                        max_step, when this one will not (0: none) */
} cj_decision;

/* Decide one tick. `verdict` is the judge's result for this tick (its
 * verdict, rule and reason are quoted); NULL means no evaluation was
 * possible (treated as INCONCLUSIVE, rule "no_result"). */
void cj_fsm_tick(const cj_rollout *r, const cj_result *verdict,
	int64_t now_ms, cj_decision *out);

/* Apply a decision to the state (the server stores the result). */
void cj_fsm_apply(cj_rollout *r, const cj_decision *d, int64_t now_ms);

/* A human resumes a paused rollout: running again, the step's clock
 * restarts (or max time would pause it again on the next tick).
 * @return 0, or -1 when the rollout is not paused. */
int cj_fsm_resume(cj_rollout *r, int64_t now_ms);

const char *cj_action_name(cj_action a);  /* "widen", "rollback", ... */
const char *cj_status_name(cj_status s);  /* "running", "rolled_back", ... */

#endif
