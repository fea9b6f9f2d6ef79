/*
 * judge_input.c - the judge's input for one evaluation, from the store
 * (see judge_input.h).
 */
#include "rollout/judge_input.h"

#include <string.h>

/* A sketch pair the input borrows from `u`. */
static void users_of(cs_judge_input *ji, const cs_arm_users *u, cj_arm *a)
{
	canary__hll *hu, *he;

	if (!u || !u->any)
		return;
	hu = &ji->hll[ji->nhll++];
	he = &ji->hll[ji->nhll++];
	hu->p = he->p = CANARY__HLL_P;
	hu->reg = (uint8_t *)u->units;
	he->reg = (uint8_t *)u->error_units;
	a->units = hu;
	a->error_units = he;
	/* The windows' counts are kept as long as the sums of their
	 * evidence (retention drops windows, never evidence alone, but a
	 * step older than the retention could see it the other way). */
	a->sketched_exposures = u->sketched_exposures < a->exposures ?
		u->sketched_exposures : a->exposures;
	a->sketched_errors = u->sketched_errors < a->errors ?
		u->sketched_errors : a->errors;
	a->error_sq = u->error_sq;
	a->errors_unmapped = u->errors_unmapped < a->sketched_errors ?
		u->errors_unmapped : a->sketched_errors;
	a->error_max = u->error_max;
}

/* Counts and latency from `s`, user-level evidence from `u` (may be
 * NULL). */
static void arm_of(cs_judge_input *ji, const cs_arm_stats *s,
	const cs_arm_users *u, cj_arm *a)
{
	memset(a, 0, sizeof(*a));
	a->exposures = s->exposures;
	a->errors = s->errors;
	a->latency = &s->latency;
	users_of(ji, u, a);
}

static int64_t min_start(const cs_arm_stats *a)
{
	uint64_t f = a[0].first_ms;

	if (!f || (a[1].first_ms && a[1].first_ms < f))
		f = a[1].first_ms;
	return (int64_t)f;
}

/* The step's last `k` intervals (and no further back than the step). */
static int read_recent(cs_store *store, const cs_rollout *r, int64_t now,
	int k, int64_t step_ms, cs_judge_input *ji, int *n)
{
	/* Whole stored windows: one narrower than a window would see a
	 * part of its traffic, or none. */
	int64_t span = k * (r->spec.interval_ms > ji->window_ms ?
		r->spec.interval_ms : ji->window_ms);
	cj_evidence *ev = &ji->in.recent[*n];
	cs_arm_stats *arms = ji->recent[*n];
	cs_stats_filter f;
	int rc;

	if (span > step_ms)
		span = step_ms;
	if (span <= 0 || (*n > 0 && span <= ji->in.recent[*n - 1].span_ms))
		return CANARY_OK;
	memset(&f, 0, sizeof(f));
	f.min_config_version = r->step_version;
	f.max_config_version = ji->max_version;
	f.since_ms = (uint64_t)(now - span);
	if (ji->window_ms > 0)
		f.since_ms -= f.since_ms % (uint64_t)ji->window_ms;
	f.users = true;
	rc = cs_store_stats(store, r->flag, &f, arms);
	if (rc != CANARY_OK)
		return rc;
	arm_of(ji, &arms[CANARY_ARM_STABLE], &arms[CANARY_ARM_STABLE].users,
		&ev->stable);
	arm_of(ji, &arms[CANARY_ARM_CANARY], &arms[CANARY_ARM_CANARY].users,
		&ev->canary);
	ev->span_ms = span;
	(*n)++;
	return CANARY_OK;
}

/* A contributor's arm within the step's (read before it: see
 * cs_judge_input_read). */
static void within(cj_arm *part, const cj_arm *whole)
{
	if (part->exposures > whole->exposures)
		part->exposures = whole->exposures;
	if (part->errors > whole->errors)
		part->errors = whole->errors;
	if (part->sketched_exposures > whole->sketched_exposures)
		part->sketched_exposures = whole->sketched_exposures;
	if (part->sketched_exposures > part->exposures)
		part->sketched_exposures = part->exposures;
	if (part->sketched_errors > whole->sketched_errors)
		part->sketched_errors = whole->sketched_errors;
	if (part->sketched_errors > part->errors)
		part->sketched_errors = part->errors;
	if (part->errors_unmapped > part->sketched_errors)
		part->errors_unmapped = part->sketched_errors;
}

static void top_of(cs_judge_input *ji, int64_t step_ms)
{
	size_t i;

	for (i = 0; i < ji->step_users.ntop && i < CJ_TOP_MAX; i++) {
		const cs_contributor *c = &ji->step_users.top[i];
		cj_evidence *ev = &ji->in.top[i];

		arm_of(ji, &c->arm[CANARY_ARM_STABLE],
			&c->arm[CANARY_ARM_STABLE].users, &ev->stable);
		arm_of(ji, &c->arm[CANARY_ARM_CANARY],
			&c->arm[CANARY_ARM_CANARY].users, &ev->canary);
		within(&ev->stable, &ji->in.stable);
		within(&ev->canary, &ji->in.canary);
		ev->span_ms = step_ms > 0 ? step_ms : 1;
	}
}

/* During a bake: the stable arm of the last partial step. */
static int read_before(cs_store *store, const cs_rollout *r,
	cs_judge_input *ji)
{
	cs_stats_filter f;
	int rc;

	if (r->step + 1 < r->spec.nsteps || r->spec.bake_ms <= 0 ||
	    !r->prev_step_version || r->prev_step_version >= r->step_version)
		return CANARY_OK;
	memset(&f, 0, sizeof(f));
	f.min_config_version = r->prev_step_version;
	f.max_config_version = r->step_version - 1;
	rc = cs_store_stats(store, r->flag, &f, ji->before);
	if (rc == CANARY_OK)
		rc = cs_store_contributions(store, r->flag, f.min_config_version,
			f.max_config_version, &ji->before_users);
	if (rc == CANARY_OK)
		arm_of(ji, &ji->before[CANARY_ARM_STABLE],
			&ji->before_users.all[CANARY_ARM_STABLE], &ji->in.before);
	return rc;
}

/* The stable arm since `since`, as the judge's history. */
static int read_history(cs_store *store, const cs_rollout *r, uint64_t since,
	int64_t now, cs_judge_input *ji)
{
	cs_arm_stats *h = &ji->arms[CANARY__ARMS];
	cs_stats_filter f;
	bool seen = false;
	int rc;

	memset(&f, 0, sizeof(f));
	f.since_ms = since;
	f.max_config_version = ji->max_version;
	rc = cs_store_stats(store, r->flag, &f, h);
	if (rc == CANARY_OK)
		rc = cs_store_latency_seen(store, r->flag, &seen);
	if (rc != CANARY_OK)
		return rc;
	ji->in.stable_history.exposures = h[CANARY_ARM_STABLE].exposures;
	ji->in.stable_history.errors = h[CANARY_ARM_STABLE].errors;
	if (h[CANARY_ARM_STABLE].first_ms)
		ji->in.history_ms = now - (int64_t)h[CANARY_ARM_STABLE].first_ms;
	ji->in.latency_never = !seen;
	return CANARY_OK;
}

static void input_init(cs_store *store, cs_judge_input *ji,
	const cs_rollout *r)
{
	/* Never a version above the current one, whatever the store holds
	 * (a database from before ingest refused such windows). */
	ji->max_version = cs_store_published(store);
	memset(&ji->in, 0, sizeof(ji->in));
	ji->nhll = 0;
	ji->step_users.ntop = ji->before_users.ntop = 0;
	ji->in.canary_share = r->spec.steps_bp[r->step] / 10000.0;
}

int cs_judge_input_read(cs_store *store, const cs_rollout *r, int64_t now,
	cs_judge_input *ji)
{
	cs_arm_stats *step = ji->arms;
	cs_stats_filter f;
	int64_t first, since_start = now - r->step_start_ms;
	int rc, n = 0;

	input_init(store, ji, r);
	/*
	 * Batches keep arriving between these reads, and evidence only
	 * grows. The recent windows are read before the step's windows (a
	 * part never holds more than its whole: the judge refuses that as
	 * inconsistent), the history after them; the sums per instance after
	 * the step's windows: a batch that lands in between adds to the
	 * sketches a few units the counts do not have yet (clamped below),
	 * where the other order would make its errors look like errors of
	 * as many units without a sketch.
	 */
	rc = read_recent(store, r, now, CS_RECENT_SHORT, since_start, ji, &n);
	if (rc == CANARY_OK)
		rc = read_recent(store, r, now, CS_RECENT_LONG, since_start,
			ji, &n);
	memset(&f, 0, sizeof(f));
	f.min_config_version = r->step_version;
	f.max_config_version = ji->max_version;
	if (rc == CANARY_OK)
		rc = cs_store_stats(store, r->flag, &f, step);
	if (rc == CANARY_OK)
		rc = cs_store_contributions(store, r->flag, r->step_version,
			ji->max_version, &ji->step_users);
	if (rc == CANARY_OK)
		rc = read_history(store, r, r->created_ms > 0 ?
			(uint64_t)r->created_ms : 0, now, ji);
	if (rc == CANARY_OK)
		rc = read_before(store, r, ji);
	if (rc != CANARY_OK)
		return rc;
	arm_of(ji, &step[CANARY_ARM_STABLE],
		&ji->step_users.all[CANARY_ARM_STABLE], &ji->in.stable);
	arm_of(ji, &step[CANARY_ARM_CANARY],
		&ji->step_users.all[CANARY_ARM_CANARY], &ji->in.canary);
	/* The step's evidence spans from its first window (a resumed step
	 * keeps what it had before the pause). */
	first = min_start(step);
	ji->in.step_ms = now - (first && first < r->step_start_ms ? first :
		r->step_start_ms);
	if (ji->in.step_ms < 0)
		ji->in.step_ms = 0;
	top_of(ji, ji->in.step_ms);
	return CANARY_OK;
}

int cs_judge_input_preview(cs_store *store, const cs_rollout *r,
	int64_t now, cs_judge_input *ji)
{
	cs_arm_stats *h = &ji->arms[CANARY__ARMS];
	int64_t first;
	int rc;

	input_init(store, ji, r);
	memset(ji->arms, 0, sizeof(ji->arms[0]) * CANARY__ARMS);
	canary__hist_init(&ji->arms[0].latency);
	canary__hist_init(&ji->arms[1].latency);
	rc = read_history(store, r, now > CS_PREVIEW_MS ?
		(uint64_t)(now - CS_PREVIEW_MS) : 0, now, ji);
	if (rc != CANARY_OK)
		return rc;
	/* Before the rollout whatever canary share there was is traffic of
	 * the flag like the rest: the step will split all of it. */
	ji->in.stable_history.exposures = h[CANARY_ARM_STABLE].exposures +
		h[CANARY_ARM_CANARY].exposures;
	ji->in.stable_history.errors = h[CANARY_ARM_STABLE].errors +
		h[CANARY_ARM_CANARY].errors;
	first = min_start(h);
	ji->in.history_ms = first ? now - first : 0;
	arm_of(ji, &ji->arms[CANARY_ARM_STABLE], NULL, &ji->in.stable);
	arm_of(ji, &ji->arms[CANARY_ARM_CANARY], NULL, &ji->in.canary);
	return CANARY_OK;
}
