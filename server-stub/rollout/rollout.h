/*
 * rollout.h - a rollout of one flag: its spec (steps, durations, gates,
 * what a FAIL does), where it stands, and the strict parsers of the admin
 * API's rollout bodies.
 *
 * The parsers are pure functions of their input, like
 * parse/admin_parse.c's. A spec is stored as the JSON
 * cs_rollout_spec_to_json() writes and read back with the same parser that
 * checked the request (store/records.c), so a stored spec can never be one
 * the API would have refused.
 */
#ifndef CS_ROLLOUT_H
#define CS_ROLLOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "parse_error.h"
#include "rollout/controller_fsm.h"
#include "rollout/judge.h"

#define CS_ROLLOUT_MAX_STEPS 20
#define CS_ROLLOUT_MAX_BODY (64u * 1024u)
/* A step longer than a month is a mistake, not a plan. */
#define CS_ROLLOUT_MAX_DURATION_MS (31ll * 24 * 3600 * 1000)
/* The controller cannot look more often than the ticker runs. */
#define CS_ROLLOUT_MIN_INTERVAL_MS 50

typedef struct cs_rollout_spec {
	uint32_t steps_bp[CS_ROLLOUT_MAX_STEPS]; /* strictly increasing */
	size_t nsteps;
	int64_t min_soak_ms;
	int64_t max_step_ms;
	int64_t interval_ms;
	cj_gates gates;
	bool dry_run;         /* on_fail "pause": record, do not roll back */
	/* The state machine's options (controller_fsm.h, docs/analysis.md
	 * "The controller's decision"). */
	int64_t sustain_ms;   /* PASS held this long after the soak */
	int64_t grace_ms;     /* an alert acts after this long */
	cj_on_stall on_stall; /* what a persistent alert does */
	int64_t bake_ms;      /* watch the last step this long (0: off) */
	int64_t max_wait_ms;  /* past max_step, hold on to this step age
	                         while there is traffic to estimate from */
	uint32_t widen_undecided_bp; /* at max_step without a PASS, widen to
	                         the next step when it is at most this
	                         (0: off; at most 50%) */
} cs_rollout_spec;

typedef struct cs_rollout {
	int64_t id;
	char flag[CANARY__MAX_KEY_LEN + 1];
	cs_rollout_spec spec;
	cj_status status;
	size_t step;
	int64_t step_start_ms;
	uint64_t step_version;  /* config version the step started at */
	char reason[256];       /* why it is in this state */
	int64_t created_ms, updated_ms;
	int64_t rev;            /* bumped on every change (optimistic lock) */
	/* The state machine's memory (cj_rollout's, 0: none). */
	int64_t pass_since_ms;  /* first PASS of the current run of PASSes */
	int64_t alert_since_ms; /* first tick of the current alert */
	/* The config version the step before this one started at (0: none):
	 * the "before" of a bake. */
	uint64_t prev_step_version;
} cs_rollout;

/* Defaults: steps 1, 5, 25, 50, 100 %, soak 5m, max 1h, interval 1m,
 * cj_gates_default(), on_fail rollback, on_stall rollback, no bake, no
 * widening of an undecided step; and, from these, sustain 2 intervals,
 * grace 3 intervals, max_wait 8 x max_step (cs_rollout_spec_derive). */
void cs_rollout_spec_default(cs_rollout_spec *s);

/* The options whose default depends on others (sustain, grace: the
 * interval; max_wait: max_step), where they are still -1 (not given). */
void cs_rollout_spec_derive(cs_rollout_spec *s);

/*
 * "500ms", "2s", "5m", "1h" (a positive integer and a unit) to ms.
 * @return 0, or -1 when malformed or over CS_ROLLOUT_MAX_DURATION_MS.
 */
int cs_parse_duration(const char *s, int64_t *ms);

/*
 * POST /v1/admin/rollouts: {"flag", "steps", "min_soak", "max_step",
 * "interval", "gates", "on_fail", "sustain", "grace", "on_stall", "bake",
 * "max_wait", "widen_undecided"}; only "flag" is required. Unknown
 * members are refused (a mistyped gate must not silently fall back to its
 * default: "unknown field"). `flag` (optional) receives the flag key.
 *
 * With flag NULL the body is a stored spec and "flag" must be absent. A
 * stored spec is migrated as it is read: a spec written before the
 * state machine's options has none of them (their defaults apply), and
 * its err_pass_ratio may be above err_ratio (the old PASS margin, 2):
 * it becomes err_ratio, the one indifference zone the judge now keeps.
 */
int cs_rollout_parse(const char *body, size_t len,
	char flag[CANARY__MAX_KEY_LEN + 1], cs_rollout_spec *out,
	canary__perror *e);

/* The spec as JSON (durations in ms, steps in percent); NULL on ENOMEM. */
struct cJSON *cs_rollout_spec_to_json(const cs_rollout_spec *s);

/* POST .../promote: empty body or {} = next step, {"to": "full"} = the
 * last step. */
int cs_rollout_parse_promote(const char *body, size_t len, bool *to_full,
	canary__perror *e);

/* ?last=N of the status: how many recent decisions, 1..1000000. */
int cs_rollout_parse_last(const char *s, uint64_t *out, canary__perror *e);

/* The query of GET .../rollouts/{flag}/series (rollout/series.h). */
#define CS_SERIES_DEFAULT_POINTS 300
#define CS_SERIES_MIN_POINTS 10
#define CS_SERIES_MAX_POINTS 2000
#define CS_SERIES_DEFAULT_DECISIONS 1000
#define CS_SERIES_MAX_DECISIONS 100000

typedef struct cs_series_query {
	uint64_t max_points;     /* at most this many points per arm */
	uint64_t max_decisions;  /* list the last N decisions (0: none) */
} cs_series_query;

/* ?points=N (10..2000, default 300) and ?decisions=N (0..100000, default
 * 1000); NULL = absent. */
int cs_rollout_parse_series(const char *points, const char *decisions,
	cs_series_query *out, canary__perror *e);

/* "running" etc. (cj_status_name) back to a status; -1 if unknown. */
int cs_rollout_status_parse(const char *name, cj_status *out);

/* The FSM's view of a rollout (borrows r's steps). */
void cs_rollout_fsm(const cs_rollout *r, cj_rollout *out);

/*
 * The fields a live (running or paused) rollout owns: the canary share
 * (rollout_bp), the bucketing (salt, stickiness), who is always or never
 * in the canary (allow, deny) and who is eligible (constraints,
 * segments). The first of them that differs between `cur` and `next`
 * ("rollout_bp", "salt", "allow", "deny", "constraints", "segments",
 * "stickiness"), or NULL: a change that touches one is refused unless
 * forced.
 */
const char *cs_rollout_guarded_field(const canary__flag *cur,
	const canary__flag *next);

/* Is the rollout live (running or paused)? */
bool cs_rollout_live(const cs_rollout *r);

/*
 * The webhook event a change of a rollout from `before` (NULL: it did
 * not exist) to `after` raises: "started", "widened", "paused",
 * "resumed", "rolled_back", "completed"; NULL when it raises none (a
 * hold). "stalled" is the controller's own (an alert, not a change).
 */
const char *cs_rollout_event(const cs_rollout *before,
	const cs_rollout *after);

#endif
