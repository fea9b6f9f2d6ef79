/*
 * controller_fsm.h - the rollout controller's decision per tick, as a pure
 * function: given where a rollout stands, the judge's verdict and the time,
 * what to do and why. The server applies the action (store, config
 * version bump, streams); the simulator drives the same function.
 *
 * Policy (BRIEF.md section 5, issue 6):
 *  - FAIL rolls back at once, whatever the soak or a pause (safety first);
 *    in dry-run mode it pauses instead and says what it would have done.
 *  - PASS widens once the step has soaked for min_soak; reaching the last
 *    step completes the rollout (PROMOTE).
 *  - INCONCLUSIVE holds; past the step's max time the rollout pauses and
 *    names the rule that kept it from passing.
 *  - A paused rollout only reacts to FAIL until a human resumes it.
 */
#ifndef CJ_CONTROLLER_FSM_H
#define CJ_CONTROLLER_FSM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "judge.h"

typedef enum cj_status {
	CJ_RUNNING = 0,
	CJ_PAUSED,      /* by a human, by max time, or by a dry-run FAIL */
	CJ_ROLLED_BACK, /* terminal: canary at 0 */
	CJ_COMPLETED    /* terminal: at the last step */
} cj_status;

typedef enum cj_action {
	CJ_ACT_NONE = 0, /* nothing to do (terminal, or paused) */
	CJ_ACT_HOLD,     /* stay on this step */
	CJ_ACT_WIDEN,    /* go to the next step */
	CJ_ACT_PROMOTE,  /* go to the last step: the rollout completes */
	CJ_ACT_PAUSE,    /* stop widening until a human resumes */
	CJ_ACT_ROLLBACK  /* canary to 0 now */
} cj_action;

typedef struct cj_rollout {
	const uint32_t *steps_bp; /* borrowed; rollout per step, basis points */
	size_t nsteps;            /* >= 1 */
	size_t step;              /* current index into steps_bp */
	int64_t step_start_ms;    /* when the current step began */
	int64_t min_soak_ms;      /* a step passes no earlier than this */
	int64_t max_step_ms;      /* pause when a step has not passed by then */
	cj_status status;
	bool dry_run;             /* FAIL pauses instead of rolling back */
} cj_rollout;

typedef struct cj_decision {
	cj_action action;
	const char *rule;    /* machine name (static): "fail", "soak", ... */
	char reason[256];    /* one human sentence */
	size_t next_step;    /* step index after the action */
	uint32_t next_bp;    /* rollout after the action (0 after ROLLBACK) */
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
