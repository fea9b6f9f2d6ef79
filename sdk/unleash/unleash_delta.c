/*
 * unleash_delta.c - Unleash's delta API: a list of events applied, in
 * order, to the last features document. The result is compiled like any
 * full document, so the evaluator has one input format.
 */
#include <cjson/cJSON.h>
#include <string.h>

#include "parse_error.h"
#include "unleash.h"

/* state[key], created as an empty array when absent. */
static cJSON *list_of(cJSON *state, const char *key)
{
	cJSON *arr = cJSON_GetObjectItemCaseSensitive(state, key);

	if (cJSON_IsArray(arr))
		return arr;
	cJSON_DeleteItemFromObjectCaseSensitive(state, key);
	return cJSON_AddArrayToObject(state, key);
}

/* Does entry[field] equal `key` (a string or a number)? */
static bool same_key(const cJSON *entry, const char *field, const cJSON *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(entry, field);

	if (cJSON_IsString(key) && cJSON_IsString(v))
		return strcmp(key->valuestring, v->valuestring) == 0;
	return cJSON_IsNumber(key) && cJSON_IsNumber(v) &&
	       key->valuedouble == v->valuedouble;
}

static void remove_entry(cJSON *list, const char *field, const cJSON *key)
{
	cJSON *e = list->child;

	while (e) {
		cJSON *next = e->next;

		if (same_key(e, field, key))
			cJSON_Delete(cJSON_DetachItemViaPointer(list, e));
		e = next;
	}
}

/* Replace the entry with the same key, or append. */
static int upsert(cJSON *list, const char *field, const cJSON *obj)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, field);
	cJSON *e, *copy;

	if (!cJSON_IsObject(obj) || (!cJSON_IsString(key) && !cJSON_IsNumber(key)))
		return CANARY_EPARSE;
	copy = cJSON_Duplicate(obj, 1);
	if (!copy)
		return CANARY_ENOMEM;
	for (e = list->child; e; e = e->next)
		if (same_key(e, field, key))
			return cJSON_ReplaceItemViaPointer(list, e, copy) ? CANARY_OK :
				CANARY_ENOMEM;
	return cJSON_AddItemToArray(list, copy) ? CANARY_OK : CANARY_ENOMEM;
}

static int hydrate(cJSON *state, const cJSON *ev)
{
	static const char *const keys[] = { "features", "segments" };
	size_t i;

	for (i = 0; i < 2; i++) {
		const cJSON *src = cJSON_GetObjectItemCaseSensitive(ev, keys[i]);
		cJSON *copy = src ? cJSON_Duplicate(src, 1) : cJSON_CreateArray();

		if (!copy)
			return CANARY_ENOMEM;
		if (!cJSON_IsArray(copy)) {
			cJSON_Delete(copy);
			return CANARY_EPARSE;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(state, keys[i]);
		cJSON_AddItemToObject(state, keys[i], copy);
	}
	return CANARY_OK;
}

static int apply_event(cJSON *state, const cJSON *ev, const char *type)
{
	cJSON *features = list_of(state, "features");
	cJSON *segments = list_of(state, "segments");

	if (!features || !segments)
		return CANARY_ENOMEM;
	if (strcmp(type, "hydration") == 0)
		return hydrate(state, ev);
	if (strcmp(type, "feature-updated") == 0)
		return upsert(features, "name",
			cJSON_GetObjectItemCaseSensitive(ev, "feature"));
	if (strcmp(type, "segment-updated") == 0)
		return upsert(segments, "id",
			cJSON_GetObjectItemCaseSensitive(ev, "segment"));
	if (strcmp(type, "feature-removed") == 0) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(ev, "featureName");

		if (!cJSON_IsString(name))
			return CANARY_EPARSE;
		remove_entry(features, "name", name);
	} else if (strcmp(type, "segment-removed") == 0) {
		const cJSON *id = cJSON_GetObjectItemCaseSensitive(ev, "segmentId");

		if (!cJSON_IsNumber(id))
			return CANARY_EPARSE;
		remove_entry(segments, "id", id);
	}
	return CANARY_OK;   /* an event type we do not know: ignored */
}

int canary__unleash_delta_apply(cJSON *state, const cJSON *delta,
	canary__perror *e)
{
	const cJSON *events = cJSON_GetObjectItemCaseSensitive(delta, "events");
	const cJSON *ev;
	size_t i = 0;

	canary__perror_clear(e);
	if (!cJSON_IsObject(state))
		return canary__perror_set(e, "state", "must be a JSON object");
	if (!cJSON_IsArray(events))
		return canary__perror_set(e, "events", "must be an array");
	cJSON_ArrayForEach(ev, events) {
		const cJSON *type = cJSON_GetObjectItemCaseSensitive(ev, "type");
		char at[CANARY__PERR_FIELD];
		int rc;

		canary__path_index(at, sizeof(at), "events", i);
		if (!cJSON_IsObject(ev) || !cJSON_IsString(type))
			return canary__perror_at(e, at, "type", "must be a string");
		rc = apply_event(state, ev, type->valuestring);
		if (rc == CANARY_ENOMEM)
			return canary__perror_oom(e);
		if (rc != CANARY_OK)
			return canary__perror_set(e, at, "malformed %s event",
				type->valuestring);
		i++;
	}
	return CANARY_OK;
}
