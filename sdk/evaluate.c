/*
 * evaluate.c - canary_enabled() and canary_evaluate(), with a unit or a
 * context: the hot path.
 *
 * No lock, no I/O, no allocation, no write to a shared cache line. The
 * order of the rules is the contract of docs/protocol.md: kill switch,
 * unit present, deny list, allow list, then the hash split. A flag with
 * targeting (rules, a stickiness) is decided by targeting.h (inline), one
 * from an Unleash server by targeting.c, behind one test of the entry's
 * `has` byte.
 */
#include <string.h>

#include "bucket.h"
#include "client.h"
#include "counters.h"
#include "error.h"
#include "evaluate.h"
#include "event_batch.h"
#include "flag_ref.h"
#include "snapshot.h"
#include "targeting.h"
#include "unknown_flags.h"

static const char *const reason_names[] = {
	"SPLIT", "TARGETING_MATCH", "DISABLED", "DEFAULT", "STALE", "ERROR",
	"INELIGIBLE"
};

static const char *const eval_error_names[] = {
	"", "FLAG_NOT_FOUND", "NO_UNIT", "NOT_READY", "INVALID_ARGUMENT"
};

const char *canary_reason_name(canary_reason reason)
{
	if ((unsigned)reason >= sizeof(reason_names) / sizeof(reason_names[0]))
		return "UNKNOWN";
	return reason_names[reason];
}

const char *canary_eval_error_name(canary_eval_error code)
{
	if ((unsigned)code >= sizeof(eval_error_names) / sizeof(eval_error_names[0]))
		return "UNKNOWN";
	return eval_error_names[code];
}

/*
 * Every field written below is in every version of canary_details (the
 * first layout), so any `out->version` has room for them: 0 and unknown
 * values included. A field added in a later version is written only when
 * out->version is at least that version.
 */
static inline unsigned answer(canary_details *out, canary_arm arm,
	canary_reason reason, canary_eval_error error)
{
	if (out) {
		out->arm = arm;
		out->reason = reason;
		out->error_code = error;
	}
	return (unsigned)arm;
}

/* Where an evaluation is counted: an arm, or apart (ineligible). */
#define SLOT_INELIGIBLE CANARY__EV_INELIGIBLE

/* A flag with targeting (targeting.h, inline) or from an Unleash server
 * (targeting.c, out of line). */
static inline unsigned decide_targeted(const canary__snapshot *snap,
	const canary__snap_entry *e, const char *unit, canary_context *ctx,
	canary_details *out)
{
	canary__verdict v;

	if (e->has & CANARY__HAS_UNLEASH)
		canary__target_decide(snap, e, unit, ctx, &v);
	else
		canary__target_decide_rules(snap, e, unit, ctx, &v);
	if (out) {
		out->bucket = v.bucket;
		if (out->version >= 2)
			out->rule = v.rule;
	}
	answer(out, v.arm, v.reason, v.error);
	return v.ineligible ? SLOT_INELIGIBLE : (unsigned)v.arm;
}

/* Decide for one flag entry: the arm, or SLOT_INELIGIBLE. `out` NULL on
 * the canary_enabled() path lets the compiler drop every details store;
 * `ctx` NULL: the unit alone. */
static inline unsigned decide(const canary_client *c,
	const canary__snapshot *snap, const canary__snap_entry *e,
	const char *unit, canary_context *ctx, canary_details *out)
{
	size_t unit_len;
	uint32_t bucket;
	int lists;

	if (out)
		out->rollout_bp = e->rollout_bp;
	if (!e->enabled)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_DISABLED,
			CANARY_EVAL_OK);
	if (atomic_load_explicit(&c->live.serve_stable, memory_order_relaxed))
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_STALE,
			CANARY_EVAL_OK);
	if (e->has > CANARY__HAS_LISTS)
		return decide_targeted(snap, e, unit, ctx, out);
	if (ctx)
		unit = ctx->unit;
	if (!unit || !*unit)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT);
	if (e->has && (lists = canary__snap_lists(e->flag, unit)) >= 0)
		return answer(out, lists ? CANARY_ARM_CANARY : CANARY_ARM_STABLE,
			CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK);
	unit_len = strlen(unit);
	bucket = canary__bucket_unit(&e->prefix, unit, unit_len);
	if (out)
		out->bucket = bucket;
	return answer(out, bucket < e->rollout_bp ? CANARY_ARM_CANARY :
		CANARY_ARM_STABLE, CANARY_REASON_SPLIT, CANARY_EVAL_OK);
}

/* The end of every evaluation: `snap` is held, `e` is the flag's entry in
 * it (NULL: no such flag). */
static inline bool conclude(canary_client *c, const canary__snapshot *snap,
	const canary__snap_entry *e, const char *unit, canary_context *ctx,
	canary_details *out, bool count)
{
	unsigned slot;
	bool result;

	if (!e)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_FLAG_NOT_FOUND);
	slot = decide(c, snap, e, unit, ctx, out);
	result = slot == CANARY_ARM_CANARY;
	if (count)
		canary__eval_expose(c, snap, e, slot, ctx ? ctx->unit : unit);
	if (out) {
		/* Copied while the snapshot is protected: no lifetime rules. */
		const char *v = result ? e->flag->variant_canary :
			e->flag->variant_stable;

		memcpy(out->variant, v, strlen(v) + 1);
	}
	return result;
}

static inline void clear_details(canary_details *out)
{
	/* Field by field: clearing all 128 variant bytes is wasted work. */
	out->arm = CANARY_ARM_STABLE;
	out->variant[0] = '\0';
	out->config_version = 0;
	out->bucket = 0;
	out->rollout_bp = 0;
	if (out->version >= 2)
		out->rule = -1;
}

/* The flag's entry in `snap`: through its handle, or by its key. */
static inline const canary__snap_entry *locate(canary_client *c,
	const canary__snapshot *snap, const char *flag, canary_flag_ref *ref)
{
	if (ref)
		return canary__flag_ref_entry(ref, snap);
	return canary__eval_find(c, snap, flag);
}

/* One evaluation of `flag`, or of `ref` when it is not NULL (a handle
 * must be the client's own). */
static inline bool evaluate(canary_client *c, const char *flag,
	canary_flag_ref *ref, const char *unit, canary_context *ctx,
	canary_details *out, bool count)
{
	canary__snapshot *snap;
	canary__hazard_guard g;
	bool result;

	if (out)
		clear_details(out);
	if (!c || (ref ? ref->owner != c : !flag))
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_INVALID_ARGUMENT);
	snap = canary__hazard_enter(&c->live.snapshots, &g);
	if (!snap) {
		result = answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NOT_READY);
	} else {
		if (out)
			out->config_version = snap->version;
		result = conclude(c, snap, locate(c, snap, flag, ref), unit, ctx,
			out, count);
	}
	canary__hazard_leave(&c->live.snapshots, &g);
	return result;
}

bool canary_enabled(canary_client *c, const char *flag, const char *unit)
{
	return evaluate(c, flag, NULL, unit, NULL, NULL, true);
}

bool canary_evaluate(canary_client *c, const char *flag, const char *unit,
	canary_details *out)
{
	return evaluate(c, flag, NULL, unit, NULL, out, true);
}

bool canary_evaluate_ex(canary_client *c, const char *flag, const char *unit,
	unsigned int flags, canary_details *out)
{
	return evaluate(c, flag, NULL, unit, NULL, out,
		!(flags & CANARY_EVALUATE_NO_EXPOSURE));
}

/* A context the caller did not give is an invalid argument: evaluate()
 * answers INVALID_ARGUMENT for a NULL flag (or handle). */
bool canary_enabled_ctx(canary_client *c, const char *flag,
	canary_context *ctx)
{
	return evaluate(c, ctx ? flag : NULL, NULL, NULL, ctx, NULL, true);
}

bool canary_evaluate_ctx(canary_client *c, const char *flag,
	canary_context *ctx, unsigned int flags, canary_details *out)
{
	return evaluate(c, ctx ? flag : NULL, NULL, NULL, ctx, out,
		!(flags & CANARY_EVALUATE_NO_EXPOSURE));
}

canary_flag_ref *canary_flag_ref_get(canary_client *c, const char *flag)
{
	canary_flag_ref *ref;

	if (!c || !flag) {
		canary__error_set(CANARY_EINVAL, "%s is NULL", c ? "flag" : "client");
		return NULL;
	}
	ref = canary__flag_refs_get(&c->refs, c, flag);
	if (ref)
		canary__error_clear();
	return ref;
}

bool canary_enabled_ref(canary_client *c, canary_flag_ref *ref,
	const char *unit)
{
	return evaluate(c, NULL, ref, unit, NULL, NULL, true);
}

bool canary_evaluate_ref(canary_client *c, canary_flag_ref *ref,
	const char *unit, unsigned int flags, canary_details *out)
{
	return evaluate(c, NULL, ref, unit, NULL, out,
		!(flags & CANARY_EVALUATE_NO_EXPOSURE));
}

bool canary_enabled_ref_ctx(canary_client *c, canary_flag_ref *ref,
	canary_context *ctx)
{
	return evaluate(c, NULL, ctx ? ref : NULL, NULL, ctx, NULL, true);
}

bool canary_evaluate_ref_ctx(canary_client *c, canary_flag_ref *ref,
	canary_context *ctx, unsigned int flags, canary_details *out)
{
	return evaluate(c, NULL, ctx ? ref : NULL, NULL, ctx, out,
		!(flags & CANARY_EVALUATE_NO_EXPOSURE));
}

/* ---- record calls: the arm recomputed, then counted (counters.c) ------- */

enum record_kind { REC_ERROR, REC_LATENCY, REC_METRIC };

static int refuse(canary_client *c, int code, const char *why)
{
	if (c)
		canary__counters_count_ignored(c->counters);
	return canary__error_set(code, "%s", why);
}

/* The unit a record call names: `unit`, or the context's. */
static const char *record_unit(const char *unit, const canary_context *ctx)
{
	return ctx ? ctx->unit : unit;
}

static int record(canary_client *c, const char *flag, const char *unit,
	canary_context *ctx, enum record_kind kind, const char *name,
	double value)
{
	const char *u = record_unit(unit, ctx);
	const canary__snap_entry *e;
	canary__snapshot *snap;
	canary__hazard_guard g;
	unsigned slot;
	int rc;

	if (!c || !flag || !u || !*u)
		return refuse(c, CANARY_EINVAL, !c ? "client is NULL" :
			!flag ? "flag is NULL" : ctx ? "ctx->unit is NULL or empty" :
			"unit is NULL or empty");
	if (kind != REC_ERROR && (value != value || value - value != 0))
		return refuse(c, CANARY_EINVAL, "value is NaN or infinite");
	if (kind == REC_LATENCY && value < 0)
		return refuse(c, CANARY_EINVAL, "latency is negative");
	if (kind == REC_METRIC && (!name || !canary__ev_metric_name_ok(name)))
		return refuse(c, CANARY_EINVAL,
			"metric name: 1..64 bytes of [A-Za-z0-9_.-]");
	snap = canary__hazard_enter(&c->live.snapshots, &g);
	e = snap ? canary__snapshot_find(snap, flag, strlen(flag)) : NULL;
	if (snap && !e)
		canary__unknown_note(&c->unknown, flag, strlen(flag),
			canary__snapshot_hash(flag, strlen(flag)));
	if (!e) {
		canary__hazard_leave(&c->live.snapshots, &g);
		return refuse(c, CANARY_ESTATE, snap ? "flag is not in the config" :
			"no config yet");
	}
	slot = decide(c, snap, e, unit, ctx, NULL);
	/* A unit the rules exclude: its errors are counted apart, its
	 * latencies and metrics are not kept (docs/targeting.md). */
	if (kind == REC_ERROR)
		rc = canary__counters_error(c->counters, snap, e->index, slot,
			ctx ? ctx->unit : unit);
	else if (slot == SLOT_INELIGIBLE)
		rc = CANARY_OK;
	else if (kind == REC_LATENCY)
		rc = canary__counters_latency(c->counters, snap, e->index,
			(canary_arm)slot, value);
	else
		rc = canary__counters_metric(c->counters, snap, e->index,
			(canary_arm)slot, name, value);
	canary__hazard_leave(&c->live.snapshots, &g);
	return rc == CANARY_OK ? CANARY_OK :
		canary__error_set(rc, "a bound was hit; the record was dropped (counted)");
}

int canary_record_error(canary_client *c, const char *flag, const char *unit)
{
	return record(c, flag, unit, NULL, REC_ERROR, NULL, 0);
}

int canary_record_latency(canary_client *c, const char *flag,
	const char *unit, double ms)
{
	return record(c, flag, unit, NULL, REC_LATENCY, NULL, ms);
}

int canary_record_metric(canary_client *c, const char *flag,
	const char *unit, const char *name, double value)
{
	return record(c, flag, unit, NULL, REC_METRIC, name, value);
}

int canary_record_error_ctx(canary_client *c, const char *flag,
	canary_context *ctx)
{
	if (!ctx)
		return refuse(c, CANARY_EINVAL, "ctx is NULL");
	return record(c, flag, NULL, ctx, REC_ERROR, NULL, 0);
}

int canary_record_latency_ctx(canary_client *c, const char *flag,
	canary_context *ctx, double ms)
{
	if (!ctx)
		return refuse(c, CANARY_EINVAL, "ctx is NULL");
	return record(c, flag, NULL, ctx, REC_LATENCY, NULL, ms);
}

int canary_record_metric_ctx(canary_client *c, const char *flag,
	canary_context *ctx, const char *name, double value)
{
	if (!ctx)
		return refuse(c, CANARY_EINVAL, "ctx is NULL");
	return record(c, flag, NULL, ctx, REC_METRIC, name, value);
}
