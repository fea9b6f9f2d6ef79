/*
 * rules.c - compile a rule set and resolve its segment references.
 */
#include "rules.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

static int resolve_segments(canary__rule_build *b, const cJSON *refs,
	const char *path, const canary__segments *segs, canary__rules *out)
{
	const cJSON *ref;
	size_t n = refs ? (size_t)cJSON_GetArraySize(refs) : 0;
	char at[CANARY__PERR_FIELD], sub[CANARY__PERR_FIELD];
	uint32_t i = 0;

	if (n == 0)
		return CANARY_OK;
	if (n > CANARY__MAX_SEGMENTS)
		return canary__rule_reject(b, path, "segments",
			"more than %d entries", CANARY__MAX_SEGMENTS);
	canary__path_member(at, sizeof(at), path, "segments");
	out->segments = canary__arena_array(b->arena, n, sizeof(*out->segments));
	if (!out->segments)
		return canary__rule_oom(b);
	cJSON_ArrayForEach(ref, refs) {
		const canary__segment *seg;
		int rc;

		canary__path_index(sub, sizeof(sub), at, i);
		if (!cJSON_IsNumber(ref) && !cJSON_IsString(ref))
			return canary__rule_reject(b, sub, NULL,
				"must be a segment id or name");
		seg = segs ? canary__segments_find(segs, ref) : NULL;
		if (!seg) {
			rc = cJSON_IsString(ref) ?
				canary__rule_invalid(b, sub, NULL,
					"unknown segment \"%s\"", ref->valuestring) :
				canary__rule_invalid(b, sub, NULL,
					"unknown segment %.0f", ref->valuedouble);
			if (rc != CANARY_OK)
				return rc;
			out->never = true;
		} else {
			out->segments[out->segment_count++] = seg;
		}
		i++;
	}
	return CANARY_OK;
}

int canary__rules_compile_members(canary__rule_build *b,
	const cJSON *constraints, const cJSON *segments, const char *path,
	const canary__segments *segs, canary__rules *out)
{
	const cJSON *list, *refs;
	char sub[CANARY__PERR_FIELD];
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_array(&b->rd, constraints, path, "constraints",
		&list);
	if (rc == CANARY_OK)
		rc = canary__json_array(&b->rd, segments, path, "segments",
			&refs);
	if (rc != CANARY_OK)
		return rc;
	canary__path_member(sub, sizeof(sub), path, "constraints");
	rc = canary__constraints_compile(b, list, sub, &out->constraints,
		&out->count);
	if (rc == CANARY_OK)
		rc = resolve_segments(b, refs, path, segs, out);
	return rc;
}

int canary__rules_compile(canary__rule_build *b, const cJSON *obj,
	const char *path, const canary__segments *segs, canary__rules *out)
{
	return canary__rules_compile_members(b,
		cJSON_GetObjectItemCaseSensitive(obj, "constraints"),
		cJSON_GetObjectItemCaseSensitive(obj, "segments"), path, segs, out);
}
