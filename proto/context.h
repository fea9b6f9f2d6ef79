/*
 * context.h - what an evaluation knows about the caller: the unit and
 * named attributes, all borrowed, nothing allocated.
 *
 * The well-known fields have Unleash's context names (userId, sessionId,
 * remoteAddress, environment, appName, currentTime); anything else is an
 * attribute, Unleash's "properties". A rule names its field once, at
 * compile time (canary__field), so an evaluation does no name parsing.
 */
#ifndef CANARY_PROTO_CONTEXT_H
#define CANARY_PROTO_CONTEXT_H

#include <stddef.h>
#include <stdint.h>

#include "canary/canary.h"

/* One named attribute (the public canary_attribute). A NULL or empty
 * value is the same as an absent one, for attributes and well-known
 * fields alike (as in Unleash, where an empty string is "not set"). */
typedef canary_attribute canary__attr;

/*
 * Binding: attribute names resolved once per context, not once per
 * constraint. A compiled config (or Unleash model) numbers the attribute
 * names its rules use (canary__field_slots, at most CANARY_CONTEXT_SLOTS);
 * a context may carry a cache (the public canary_context_cache) that
 * remembers, per slot, where that name is in its attribute array. The
 * cache is keyed by the slot table's contents (a hash of its names, so
 * two configs naming the same fields share it), the array's address and
 * its length: the caller may change values between evaluations, not
 * names.
 */
typedef canary_context_cache canary__context_bind;

#define CANARY__SLOT_UNKNOWN 0    /* pos[]: not looked up yet */
#define CANARY__SLOT_ABSENT 255   /* pos[]: no attribute of that name */

typedef struct canary__context {
	const char *user_id;        /* the unit: bucketing uses it by default */
	const char *session_id;
	const char *remote_address; /* IPv4 or IPv6 text, for IN_CIDR */
	const char *environment;
	const char *app_name;
	const char *current_time;   /* RFC 3339; NULL = the clock, now */
	const canary__attr *attrs;  /* searched in order; first name wins */
	size_t attr_count;
	canary__context_bind *bind; /* NULL: every lookup scans attrs */
} canary__context;

typedef enum canary__field_kind {
	CANARY__FIELD_USER_ID = 0,
	CANARY__FIELD_SESSION_ID,
	CANARY__FIELD_REMOTE_ADDRESS,
	CANARY__FIELD_ENVIRONMENT,
	CANARY__FIELD_APP_NAME,
	CANARY__FIELD_CURRENT_TIME,
	CANARY__FIELD_ATTR           /* anything else: an attribute */
} canary__field_kind;

/* A field reference, resolved from its name once. */
typedef struct canary__field {
	const char *name;  /* borrowed: must outlive the field (arena) */
	uint32_t len;
	uint8_t kind;      /* canary__field_kind */
	uint8_t slot;      /* its slot + 1 in the compiled slot table; 0: none */
} canary__field;

/* The attribute names a compiled config's rules use, numbered. */
typedef struct canary__field_slots {
	uint64_t id;       /* a hash of the names in order */
	const char *names[CANARY_CONTEXT_SLOTS]; /* borrowed (arena) */
	uint32_t lens[CANARY_CONTEXT_SLOTS];
	uint32_t count;
} canary__field_slots;

/* Classify `name` (not copied). */
void canary__field_init(canary__field *field, const char *name, size_t len);

/* Give an attribute field its slot in `slots` (the same name, the same
 * slot); a well-known field, or a full table, gets none. */
void canary__field_slot(canary__field_slots *slots, canary__field *field);

/* Make ctx->bind (when set) valid for the slot table whose id is
 * `slots_id`: kept when it already is, else emptied. Once per evaluation,
 * before the rules run. */
static inline void canary__context_bind_to(const canary__context *ctx,
	uint64_t slots_id)
{
	canary__context_bind *b = ctx->bind;

	if (b && (b->id != slots_id || b->attrs != (const void *)ctx->attrs ||
	    b->count != ctx->attr_count)) {
		unsigned i;

		b->id = slots_id;
		b->attrs = ctx->attrs;
		b->count = ctx->attr_count;
		for (i = 0; i < CANARY_CONTEXT_SLOTS; i++)
			b->pos[i] = CANARY__SLOT_UNKNOWN;
	}
}

/*
 * The field's value in `ctx`, or NULL when absent. As in Unleash, a
 * well-known field that is not set is looked up among the attributes by
 * its name too ("userId" given as a property still counts).
 */
const char *canary__context_value(const canary__context *ctx,
	const canary__field *field);

/* The same, inline for the common case: an attribute whose position the
 * context's binding already knows. */
static inline const char *canary__context_get(const canary__context *ctx,
	const canary__field *field)
{
	if (field->slot && ctx->bind) {
		unsigned p = ctx->bind->pos[field->slot - 1];

		if (p != CANARY__SLOT_UNKNOWN && p != CANARY__SLOT_ABSENT &&
		    p <= ctx->attr_count) {
			const char *v = ctx->attrs[p - 1].value;

			return v && *v ? v : NULL;
		}
	}
	return canary__context_value(ctx, field);
}

/* The attribute called name[0..len), or NULL. */
const char *canary__context_attr(const canary__context *ctx,
	const char *name, size_t len);

#endif
