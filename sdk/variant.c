/*
 * variant.c - canary_variant_ctx(): which variant of a flag a context gets
 * (docs/unleash.md, "Variants through the public API").
 *
 * With an Unleash server the variant and the flag's answer come from one
 * evaluation of the feature (targeting.c) and are counted as
 * canary_enabled_ctx() counts them; with canary-server's protocol the
 * variant is the arm's, from canary_evaluate_ctx() itself. Every string is
 * copied into the caller's struct while the snapshot is held (hazard.h):
 * once the call returns nothing points into a config that the next one
 * may free.
 */
#include <string.h>

#include "error.h"
#include "evaluate.h"
#include "event_batch.h"
#include "targeting.h"
#include "unleash.h"

static const char disabled[] = "disabled";

/* Copy `s` (`len` bytes) into `dst` of `size` bytes, NUL-terminated and
 * cut at a UTF-8 character boundary. True when it was cut. */
static bool copy_cut(char *dst, size_t size, const char *s, size_t len)
{
	size_t n = len;

	if (!dst || size == 0)
		return len > 0;
	if (n >= size) {
		n = size - 1;
		while (n > 0 && ((unsigned char)s[n] & 0xC0) == 0x80)
			n--;
	}
	memcpy(dst, s, n);
	dst[n] = '\0';
	return n < len;
}

static void set_name(canary_variant *out, const char *name, bool enabled)
{
	out->enabled = enabled;
	if (copy_cut(out->name, sizeof(out->name), name, strlen(name)))
		out->truncated |= CANARY_VARIANT_NAME_TRUNCATED;
}

static void set_payload(canary_variant *out, const char *type,
	const char *value)
{
	out->has_payload = true;
	out->payload_len = strlen(value);
	if (copy_cut(out->payload_type, sizeof(out->payload_type), type,
	    strlen(type)))
		out->truncated |= CANARY_VARIANT_TYPE_TRUNCATED;
	if (copy_cut(out->payload_buf, out->payload_buf_size, value,
	    out->payload_len))
		out->truncated |= CANARY_VARIANT_PAYLOAD_TRUNCATED;
}

/* The "disabled" variant, what a canary_variant says before or without
 * an evaluation (canary_variant_init() too); the caller's buffer stays
 * the caller's. */
static void clear_variant(canary_variant *out)
{
	memcpy(out->name, disabled, sizeof(disabled));
	out->enabled = out->feature_enabled = out->has_payload = false;
	out->payload_type[0] = '\0';
	out->payload_len = 0;
	out->truncated = 0;
	out->reason = CANARY_REASON_DEFAULT;
	out->error_code = CANARY_EVAL_OK;
	out->config_version = 0;
	out->rule = -1;
	if (out->payload_buf && out->payload_buf_size)
		out->payload_buf[0] = '\0';
}

int canary_variant_init(canary_variant *variant, unsigned int version)
{
	int rc = canary__init_versioned(variant, sizeof(*variant), version,
		CANARY_VARIANT_VERSION, "variant");

	if (rc == CANARY_OK)
		clear_variant(variant);
	return rc;
}

static void fail(canary_variant *out, canary_eval_error error)
{
	out->reason = CANARY_REASON_ERROR;
	out->error_code = error;
}

/* canary-server's protocol: the arm's variant (canary_details.variant). */
static void arm_variant(canary_client *c, const char *flag,
	canary_context *ctx, unsigned int flags, canary_variant *out)
{
	canary_details d = CANARY_DETAILS_INIT;

	out->feature_enabled = canary_evaluate_ctx(c, flag, ctx, flags, &d);
	out->reason = d.reason;
	out->error_code = d.error_code;
	out->config_version = d.config_version;
	out->rule = d.rule;
	if (d.variant[0])
		set_name(out, d.variant, true);
}

/* An Unleash feature of the held snapshot: getVariant, and the answer
 * canary_enabled_ctx() gives (the stale policy included). */
static void feature_variant(canary_client *c, const canary__snapshot *snap,
	const canary__snap_entry *e, canary_context *ctx, bool count,
	canary_variant *out)
{
	canary__unleash_variant uv;
	canary__verdict v;
	unsigned slot = CANARY_ARM_STABLE;

	if (atomic_load_explicit(&c->live.serve_stable, memory_order_relaxed)) {
		out->reason = CANARY_REASON_STALE;
	} else {
		canary__target_variant(snap, e, ctx, &uv, &v);
		out->feature_enabled = uv.feature_enabled;
		out->reason = v.reason;
		out->error_code = v.error;
		out->rule = v.rule;
		slot = v.ineligible ? CANARY__EV_INELIGIBLE : (unsigned)v.arm;
		if (uv.enabled)
			set_name(out, uv.name, true);
		if (uv.enabled && uv.payload_type)
			set_payload(out, uv.payload_type, uv.payload_value ?
				uv.payload_value : "");
	}
	if (count)
		canary__eval_expose(c, snap, e, slot, ctx->unit);
}

/* An Unleash server's flags: found in the snapshot in force, held while
 * the variant is copied out. */
static void unleash_variant(canary_client *c, const char *flag,
	canary_context *ctx, bool count, canary_variant *out)
{
	const canary__snap_entry *e = NULL;
	canary__snapshot *snap;
	canary__hazard_guard g;

	snap = canary__hazard_enter(&c->live.snapshots, &g);
	if (snap) {
		out->config_version = snap->version;
		e = canary__eval_find(c, snap, flag);
	}
	if (e)
		feature_variant(c, snap, e, ctx, count, out);
	else
		fail(out, snap ? CANARY_EVAL_FLAG_NOT_FOUND : CANARY_EVAL_NOT_READY);
	canary__hazard_leave(&c->live.snapshots, &g);
}

bool canary_variant_ctx(canary_client *c, const char *flag,
	canary_context *ctx, unsigned int flags, canary_variant *out)
{
	if (!out) {
		canary__error_set(CANARY_EINVAL, "out is NULL");
		return false;
	}
	clear_variant(out);
	if (!c || !flag || !ctx) {
		canary__error_set(CANARY_EINVAL, "%s is NULL", !c ? "client" :
			!flag ? "flag" : "ctx");
		fail(out, CANARY_EVAL_INVALID_ARGUMENT);
		return false;
	}
	if (c->opts.source == CANARY_SOURCE_UNLEASH)
		unleash_variant(c, flag, ctx,
			!(flags & CANARY_EVALUATE_NO_EXPOSURE), out);
	else
		arm_variant(c, flag, ctx, flags, out);
	return out->enabled;
}
