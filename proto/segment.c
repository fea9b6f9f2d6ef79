/*
 * segment.c - the segment table: compiled once per document, looked up
 * while the rules that use it are compiled.
 */
#include "segment.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* An integral JSON number that a double holds exactly. */
static bool json_id(const cJSON *item, int64_t *id)
{
	double v;

	if (!cJSON_IsNumber(item))
		return false;
	v = item->valuedouble;
	if (!isfinite(v) || v < 0 || v > 9007199254740991.0 || floor(v) != v)
		return false;
	*id = (int64_t)v;
	return true;
}

static int compile_one(canary__rule_build *b, const cJSON *obj,
	const char *path, void *item, void *arg)
{
	canary__segment *out = item;
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(obj, "id");
	const cJSON *constraints;
	const char *name;
	char sub[CANARY__PERR_FIELD];
	int rc;

	(void)arg;
	if (!cJSON_IsObject(obj))
		return canary__rule_reject(b, path, NULL, "must be an object");
	out->id = -1;
	if (id && !cJSON_IsNull(id) && !json_id(id, &out->id))
		return canary__rule_reject(b, path, "id",
			"must be a non-negative integer");
	rc = canary__json_string(&b->rd,
		cJSON_GetObjectItemCaseSensitive(obj, "name"), path, "name",
		CANARY__RULE_MAX_NAME, &name);
	if (rc != CANARY_OK)
		return rc;
	if (out->id < 0 && (!name || !*name))
		return canary__rule_reject(b, path, NULL, "needs an id or a name");
	if (name && *name) {
		out->name = canary__arena_strndup(b->arena, name, strlen(name));
		if (!out->name)
			return canary__rule_oom(b);
	}
	rc = canary__json_array(&b->rd,
		cJSON_GetObjectItemCaseSensitive(obj, "constraints"), path,
		"constraints", &constraints);
	if (rc != CANARY_OK)
		return rc;
	canary__path_member(sub, sizeof(sub), path, "constraints");
	return canary__constraints_compile(b, constraints, sub,
		&out->constraints, &out->count);
}

static int cmp_segment(const void *x, const void *y)
{
	const canary__segment *a = x, *b = y;

	/* Name-only segments (id -1) sort after every id. */
	if (a->id != b->id) {
		if (a->id < 0 || b->id < 0)
			return a->id < 0 ? 1 : -1;
		return a->id < b->id ? -1 : 1;
	}
	if (!a->name || !b->name)
		return (a->name != NULL) - (b->name != NULL);
	return strcmp(a->name, b->name);
}

/* Sorted, so duplicates are neighbours: ids among the numbered
 * segments, names among the name-only ones. */
static int check_unique(canary__rule_build *b, const char *path,
	const canary__segments *s)
{
	uint32_t i;

	for (i = 1; i < s->count; i++) {
		const canary__segment *x = &s->items[i - 1], *y = &s->items[i];

		if (y->id >= 0 && y->id == x->id)
			return canary__rule_reject(b, path, NULL,
				"duplicate segment id %lld", (long long)y->id);
		if (y->id < 0 && x->id < 0 && strcmp(x->name, y->name) == 0)
			return canary__rule_reject(b, path, NULL,
				"duplicate segment name \"%s\"", y->name);
	}
	return CANARY_OK;
}

int canary__segments_compile(canary__rule_build *b, const cJSON *arr,
	const char *path, canary__segments *out)
{
	int rc = canary__rule_array(b, arr, path, CANARY__MAX_SEGMENTS,
		sizeof(canary__segment), compile_one, NULL, &out->items,
		&out->count);

	if (rc != CANARY_OK)
		return rc;
	if (out->count)
		qsort(out->items, out->count, sizeof(canary__segment), cmp_segment);
	return check_unique(b, path, out);
}

const canary__segment *canary__segments_find(const canary__segments *segs,
	const cJSON *ref)
{
	uint32_t lo = 0, hi = segs->count, i;
	int64_t id;

	if (cJSON_IsString(ref) && ref->valuestring) {
		/* Names are rare and few (our own configs): a linear scan. */
		for (i = 0; i < segs->count; i++)
			if (segs->items[i].name &&
			    strcmp(segs->items[i].name, ref->valuestring) == 0)
				return &segs->items[i];
		return NULL;
	}
	if (!json_id(ref, &id))
		return NULL;
	while (lo < hi) {
		uint32_t mid = lo + (hi - lo) / 2;
		int64_t m = segs->items[mid].id;

		if (m == id)
			return &segs->items[mid];
		if (m >= 0 && m < id)
			lo = mid + 1;
		else
			hi = mid;
	}
	return NULL;
}
