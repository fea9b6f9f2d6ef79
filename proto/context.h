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

/* One named attribute. A NULL or empty value is the same as an absent
 * one, for attributes and well-known fields alike (as in Unleash, where an
 * empty string is "not set"). */
typedef struct canary__attr {
	const char *name;
	const char *value;
} canary__attr;

typedef struct canary__context {
	const char *user_id;        /* the unit: bucketing uses it by default */
	const char *session_id;
	const char *remote_address; /* IPv4 or IPv6 text, for IN_CIDR */
	const char *environment;
	const char *app_name;
	const char *current_time;   /* RFC 3339; NULL = the clock, now */
	const canary__attr *attrs;  /* searched in order; first name wins */
	size_t attr_count;
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
} canary__field;

/* Classify `name` (not copied). */
void canary__field_init(canary__field *field, const char *name, size_t len);

/*
 * The field's value in `ctx`, or NULL when absent. As in Unleash, a
 * well-known field that is not set is looked up among the attributes by
 * its name too ("userId" given as a property still counts).
 */
const char *canary__context_value(const canary__context *ctx,
	const canary__field *field);

/* The attribute called name[0..len), or NULL. */
const char *canary__context_attr(const canary__context *ctx,
	const char *name, size_t len);

#endif
