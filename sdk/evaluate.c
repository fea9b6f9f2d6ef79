/*
 * evaluate.c - canary_enabled() and canary_evaluate(): the hot path.
 *
 * No lock, no I/O, no allocation, no write to a shared cache line. The
 * order of the rules is the contract of docs/protocol.md: kill switch,
 * unit present, deny list, allow list, then the hash split.
 */
#include <string.h>

#include "bucket.h"
#include "client.h"
#include "counters.h"
#include "error.h"
#include "event_batch.h"
#include "flag_ref.h"
#include "snapshot.h"
#include "unknown_flags.h"

static const char *const reason_names[] = {
	"SPLIT", "TARGETING_MATCH", "DISABLED", "DEFAULT", "STALE", "ERROR"
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
static inline bool answer(canary_details *out, canary_arm arm,
	canary_reason reason, canary_eval_error error)
{
	if (out) {
		out->arm = arm;
		out->reason = reason;
		out->error_code = error;
	}
	return arm == CANARY_ARM_CANARY;
}

/* Decide for one flag entry; `out` NULL on the canary_enabled() path lets
 * the compiler drop every details store. */
static inline bool decide(const canary_client *c, const canary__snap_entry *e,
	const char *unit, canary_details *out)
{
	size_t unit_len;
	uint32_t bucket;

	if (out)
		out->rollout_bp = e->rollout_bp;
	if (!e->enabled)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_DISABLED,
			CANARY_EVAL_OK);
	if (atomic_load_explicit(&c->live.serve_stable, memory_order_relaxed))
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_STALE,
			CANARY_EVAL_OK);
	if (!unit || !*unit)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_NO_UNIT);
	if (e->has_lists) {
		if (canary__strlist_contains(&e->flag->deny, unit))
			return answer(out, CANARY_ARM_STABLE,
				CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK);
		if (canary__strlist_contains(&e->flag->allow, unit))
			return answer(out, CANARY_ARM_CANARY,
				CANARY_REASON_TARGETING_MATCH, CANARY_EVAL_OK);
	}
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
	const canary__snap_entry *e, const char *unit, canary_details *out,
	bool count)
{
	bool result;

	if (!e)
		return answer(out, CANARY_ARM_STABLE, CANARY_REASON_ERROR,
			CANARY_EVAL_FLAG_NOT_FOUND);
	result = decide(c, e, unit, out);
	if (count && c->live.count_exposures &&
	    !canary__counters_expose(&c->live.ev_reg, snap, e->index,
	    result ? CANARY_ARM_CANARY : CANARY_ARM_STABLE, unit))
		canary__counters_count_dropped(c->counters);
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
}

/* The flag's entry in `snap`: through its handle, or by its key (an
 * unknown key is noted, for the worker to report). */
static inline const canary__snap_entry *locate(canary_client *c,
	const canary__snapshot *snap, const char *flag, canary_flag_ref *ref)
{
	const canary__snap_entry *e;
	size_t flag_len;
	uint32_t hash;

	if (ref)
		return canary__flag_ref_entry(ref, snap);
	flag_len = strlen(flag);
	hash = canary__snapshot_hash(flag, flag_len);
	e = canary__snapshot_find_hashed(snap, flag, flag_len, hash);
	if (!e)
		canary__unknown_note(&c->unknown, flag, flag_len, hash);
	return e;
}

/* One evaluation of `flag`, or of `ref` when it is not NULL (a handle
 * must be the client's own). */
static inline bool evaluate(canary_client *c, const char *flag,
	canary_flag_ref *ref, const char *unit, canary_details *out, bool count)
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
		result = conclude(c, snap, locate(c, snap, flag, ref), unit, out,
			count);
	}
	canary__hazard_leave(&c->live.snapshots, &g);
	return result;
}

bool canary_enabled(canary_client *c, const char *flag, const char *unit)
{
	return evaluate(c, flag, NULL, unit, NULL, true);
}

bool canary_evaluate(canary_client *c, const char *flag, const char *unit,
	canary_details *out)
{
	return evaluate(c, flag, NULL, unit, out, true);
}

bool canary_evaluate_ex(canary_client *c, const char *flag, const char *unit,
	unsigned int flags, canary_details *out)
{
	return evaluate(c, flag, NULL, unit, out,
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
	return evaluate(c, NULL, ref, unit, NULL, true);
}

bool canary_evaluate_ref(canary_client *c, canary_flag_ref *ref,
	const char *unit, unsigned int flags, canary_details *out)
{
	return evaluate(c, NULL, ref, unit, out,
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

static int record(canary_client *c, const char *flag, const char *unit,
	enum record_kind kind, const char *name, double value)
{
	const canary__snap_entry *e;
	canary__snapshot *snap;
	canary__hazard_guard g;
	canary_arm arm;
	int rc;

	if (!c || !flag || !unit || !*unit)
		return refuse(c, CANARY_EINVAL, !c ? "client is NULL" :
			!flag ? "flag is NULL" : "unit is NULL or empty");
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
	arm = decide(c, e, unit, NULL) ? CANARY_ARM_CANARY : CANARY_ARM_STABLE;
	if (kind == REC_ERROR)
		rc = canary__counters_error(c->counters, snap, e->index, arm,
			unit);
	else if (kind == REC_LATENCY)
		rc = canary__counters_latency(c->counters, snap, e->index, arm, value);
	else
		rc = canary__counters_metric(c->counters, snap, e->index, arm, name,
			value);
	canary__hazard_leave(&c->live.snapshots, &g);
	return rc == CANARY_OK ? CANARY_OK :
		canary__error_set(rc, "a bound was hit; the record was dropped (counted)");
}

int canary_record_error(canary_client *c, const char *flag, const char *unit)
{
	return record(c, flag, unit, REC_ERROR, NULL, 0);
}

int canary_record_latency(canary_client *c, const char *flag,
	const char *unit, double ms)
{
	return record(c, flag, unit, REC_LATENCY, NULL, ms);
}

int canary_record_metric(canary_client *c, const char *flag,
	const char *unit, const char *name, double value)
{
	return record(c, flag, unit, REC_METRIC, name, value);
}
