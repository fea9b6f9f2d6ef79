/*
 * rules.h - a rule set: the constraints of one flag (or one Unleash
 * strategy) and the segments it uses. It matches when every constraint
 * and every segment matches.
 */
#ifndef CANARY_PROTO_RULES_H
#define CANARY_PROTO_RULES_H

#include <stdbool.h>
#include <stdint.h>

#include "constraint.h"
#include "segment.h"

struct cJSON;

typedef struct canary__rules {
	canary__constraint *constraints;
	uint32_t count;
	const canary__segment **segments;
	uint32_t segment_count;
	bool never;   /* lenient: refers to a segment that does not exist */
} canary__rules;

/* Compile obj.constraints and obj.segments (references by id or name)
 * against the document's segment table. In strict mode an unknown segment
 * is an error; in lenient mode the rule set never matches (Unleash: "a
 * missing segment forces the evaluation to false"). */
int canary__rules_compile(canary__rule_build *b, const struct cJSON *obj,
	const char *path, const canary__segments *segs, canary__rules *out);

/* The same from the members already found (either may be NULL). */
int canary__rules_compile_members(canary__rule_build *b,
	const struct cJSON *constraints, const struct cJSON *segments,
	const char *path, const canary__segments *segs, canary__rules *out);

static inline bool canary__rules_match(const canary__rules *r,
	const canary__context *ctx)
{
	uint32_t i;

	if (r->never)
		return false;
	if (!canary__constraints_match(r->constraints, r->count, ctx))
		return false;
	for (i = 0; i < r->segment_count; i++)
		if (!canary__segment_match(r->segments[i], ctx))
			return false;
	return true;
}

/* The first rule of `r` that `ctx` fails: a constraint's index, or the
 * number of constraints plus a segment's index; -1 when all match. */
static inline int32_t canary__rules_first_miss(const canary__rules *r,
	const canary__context *ctx)
{
	int32_t miss;
	uint32_t i;

	if (r->never)
		return 0;
	miss = canary__constraints_first_miss(r->constraints, r->count, ctx);
	if (miss >= 0)
		return miss;
	for (i = 0; i < r->segment_count; i++)
		if (!canary__segment_match(r->segments[i], ctx))
			return (int32_t)(r->count + i);
	return -1;
}

#endif
