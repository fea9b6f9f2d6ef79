/*
 * segment.h - named constraint lists shared by flags (Unleash's
 * segments). A segment is known by a numeric id (Unleash) or by a name
 * (our own configs); a rule set refers to it by either.
 */
#ifndef CANARY_PROTO_SEGMENT_H
#define CANARY_PROTO_SEGMENT_H

#include <stdbool.h>
#include <stdint.h>

#include "constraint.h"

struct cJSON;

#define CANARY__MAX_SEGMENTS 10000

typedef struct canary__segment {
	int64_t id;                   /* -1 when it has only a name */
	const char *name;             /* NULL when it has only an id */
	canary__constraint *constraints;
	uint32_t count;
} canary__segment;

typedef struct canary__segments {
	canary__segment *items;       /* sorted by id; name-only ones last */
	uint32_t count;
} canary__segments;

/* Compile `arr` (NULL: no segments), an array of {"id": N or "name": S,
 * "constraints": [...]} objects. Ids and names must be unique. */
int canary__segments_compile(canary__rule_build *b, const struct cJSON *arr,
	const char *path, canary__segments *out);

/* The segment a reference names: a JSON number (id) or string (name). */
const canary__segment *canary__segments_find(const canary__segments *segs,
	const struct cJSON *ref);

static inline bool canary__segment_match(const canary__segment *seg,
	const canary__context *ctx)
{
	return canary__constraints_match(seg->constraints, seg->count, ctx);
}

#endif
