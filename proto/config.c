/*
 * config.c - parse and validate the protocol v1 flag config, and encode it
 * (see config.h).
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members of a flag object, in the order flag_members() reads them. */
enum { F_KEY, F_SALT, F_ROLLOUT, F_ENABLED, F_ALLOW, F_DENY, F_VARIANTS,
	F_STATE, F_COUNT };
static const char *const flag_names[F_COUNT] = { "key", "salt",
	"rollout_bp", "enabled", "allow", "deny", "variants", "state" };

/* A copy of the string member `item` (absent: `dflt`). */
static int copy_string(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, const char *path, const char *name, const char *dflt,
	size_t max, char **out)
{
	const char *value;
	int rc = canary__json_string(r, item, path, name, max, &value);

	if (rc != CANARY_OK)
		return rc;
	*out = canary__strdup(a, value ? value : dflt);
	return *out ? CANARY_OK : canary__perror_oom(r->err);
}

static int cmp_str(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

static void strlist_clear(const canary__alloc *a, canary__strlist *list)
{
	size_t i;

	for (i = 0; i < list->count; i++)
		canary__free(a, list->items[i]);
	canary__free(a, list->items);
	list->items = NULL;
	list->count = 0;
}

/* Sort and drop repeats, for binary search. */
static void strlist_sort(const canary__alloc *a, canary__strlist *list)
{
	size_t i, j;

	qsort(list->items, list->count, sizeof(char *), cmp_str);
	for (i = 0, j = 0; i < list->count; i++) {
		if (j && strcmp(list->items[j - 1], list->items[i]) == 0)
			canary__free(a, list->items[i]);
		else
			list->items[j++] = list->items[i];
	}
	list->count = j;
}

/* A list of unit ids; the caller clears it on failure. */
static int get_strlist(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, const char *path, const char *name,
	canary__strlist *out)
{
	char at[CANARY__PERR_FIELD];
	const cJSON *arr, *unit;
	size_t n;
	int rc = canary__json_array(r, item, path, name, &arr);

	if (rc != CANARY_OK || !arr)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_LIST_LEN)
		return canary__perror_at(r->err, path, name,
			"more than %d entries", CANARY__MAX_LIST_LEN);
	if (n == 0)
		return CANARY_OK;
	out->items = canary__calloc(a, n, sizeof(char *));
	if (!out->items)
		return canary__perror_oom(r->err);
	canary__path_member(at, sizeof(at), path, name);
	cJSON_ArrayForEach(unit, arr) {
		const char *s;

		rc = canary__json_string_at(r, unit, at, out->count,
			CANARY__MAX_UNIT_LEN, &s);
		if (rc == CANARY_OK && !*s)
			rc = canary__perror_at_index(r->err, at, out->count,
				"must not be empty");
		if (rc != CANARY_OK)
			return rc;
		out->items[out->count] = canary__strdup(a, s);
		if (!out->items[out->count])
			return canary__perror_oom(r->err);
		out->count++;
	}
	strlist_sort(a, out);
	return CANARY_OK;
}

bool canary__strlist_contains(const canary__strlist *list, const char *unit)
{
	size_t lo = 0, hi = list->count;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(unit, list->items[mid]);

		if (c == 0)
			return true;
		if (c < 0)
			hi = mid;
		else
			lo = mid + 1;
	}
	return false;
}

void canary__flag_clear(const canary__alloc *a, canary__flag *flag)
{
	if (!flag)
		return;
	canary__free(a, flag->key);
	canary__free(a, flag->salt);
	strlist_clear(a, &flag->allow);
	strlist_clear(a, &flag->deny);
	canary__free(a, flag->variant_stable);
	canary__free(a, flag->variant_canary);
	canary__free(a, flag->state);
	memset(flag, 0, sizeof(*flag));
}

static int get_variants(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, const char *path, canary__flag *out)
{
	static const char *const names[] = { "stable", "canary" };
	const cJSON *obj, *m[2] = { NULL, NULL };
	char at[CANARY__PERR_FIELD];
	int rc = canary__json_object(r, item, path, "variants", &obj);

	canary__path_member(at, sizeof(at), path, "variants");
	if (rc == CANARY_OK && obj)
		rc = canary__json_members(r, obj, at, names, 2, m);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[0], at, "stable", "",
			CANARY__MAX_VARIANT_LEN, &out->variant_stable);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[1], at, "canary", "",
			CANARY__MAX_VARIANT_LEN, &out->variant_canary);
	return rc;
}

/* Every member but the key (which the salt defaults to). */
static int flag_members(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *m[F_COUNT], const char *path, canary__flag *out)
{
	uint64_t bp = 0;
	int rc;

	rc = copy_string(a, r, m[F_SALT], path, "salt", out->key,
		CANARY__MAX_KEY_LEN, &out->salt);
	if (rc == CANARY_OK)
		rc = canary__json_uint(r, m[F_ROLLOUT], path, "rollout_bp",
			10000, true, &bp);
	out->rollout_bp = (uint32_t)bp;
	out->enabled = true;
	if (rc == CANARY_OK)
		rc = canary__json_bool(r, m[F_ENABLED], path, "enabled",
			&out->enabled);
	if (rc == CANARY_OK)
		rc = get_strlist(a, r, m[F_ALLOW], path, "allow", &out->allow);
	if (rc == CANARY_OK)
		rc = get_strlist(a, r, m[F_DENY], path, "deny", &out->deny);
	if (rc == CANARY_OK)
		rc = get_variants(a, r, m[F_VARIANTS], path, out);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[F_STATE], path, "state", "",
			CANARY__MAX_STATE_LEN, &out->state);
	return rc;
}

int canary__flag_from_json(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *obj, const char *path,
	canary__flag *out)
{
	const cJSON *m[F_COUNT];
	const char *key;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_members(r, obj, path, flag_names, F_COUNT, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(r, m[F_KEY], path, "key",
			CANARY__MAX_KEY_LEN, &key);
	if (rc == CANARY_OK && !(out->key = canary__strdup(a, key)))
		rc = canary__perror_oom(r->err);
	if (rc == CANARY_OK)
		rc = flag_members(a, r, m, path, out);
	if (rc != CANARY_OK)
		canary__flag_clear(a, out);
	return rc;
}

void canary__config_free(const canary__alloc *a, canary__config *config)
{
	size_t i;

	if (!config)
		return;
	for (i = 0; !config->arena && i < config->count; i++)
		canary__flag_clear(a, &config->flags[i]);
	canary__free(a, config->arena);
	canary__free(a, config->flags);
	canary__delete(a, config, canary__config);
}

static int cmp_flag_key(const void *x, const void *y)
{
	return strcmp(((const canary__flag *)x)->key,
		((const canary__flag *)y)->key);
}

/* Keys must be unique: sort and compare neighbours. */
static int check_unique(const canary__json_reader *r, canary__config *c)
{
	size_t i;

	if (c->count < 2)
		return CANARY_OK;
	qsort(c->flags, c->count, sizeof(*c->flags), cmp_flag_key);
	for (i = 1; i < c->count; i++)
		if (strcmp(c->flags[i - 1].key, c->flags[i].key) == 0)
			return canary__perror_set(r->err, "flags",
				"duplicate key \"%s\"", c->flags[i].key);
	return CANARY_OK;
}

static int parse_flags(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, canary__config *c)
{
	const cJSON *arr, *flag;
	size_t n;
	int rc = canary__json_required(r, item, "", "flags");

	if (rc == CANARY_OK)
		rc = canary__json_array(r, item, "", "flags", &arr);
	if (rc != CANARY_OK)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_FLAGS)
		return canary__perror_set(r->err, "flags",
			"more than %d flags", CANARY__MAX_FLAGS);
	c->flags = canary__calloc(a, n ? n : 1, sizeof(*c->flags));
	if (!c->flags)
		return canary__perror_oom(r->err);
	cJSON_ArrayForEach(flag, arr) {
		char path[32];

		canary__path_index(path, sizeof(path), "flags", c->count);
		rc = canary__flag_from_json(a, r, flag, path,
			&c->flags[c->count]);
		if (rc != CANARY_OK)
			return rc;
		c->count++;
	}
	return check_unique(r, c);
}

int canary__config_parse(const canary__alloc *a, const char *json,
	size_t len, canary__config **out, canary__perror *e)
{
	static const char *const names[] = { "version", "flags" };
	const cJSON *m[2];
	canary__json_reader r;
	canary__config *c = NULL;
	cJSON *root = NULL;
	int rc;

	*out = NULL;
	canary__json_reader_init(&r, 0, e);
	rc = canary__json_parse(&r, json, len, CANARY__MAX_CONFIG_BYTES,
		"config", &root);
	if (rc == CANARY_OK)
		rc = canary__json_members(&r, root, "", names, 2, m);
	if (rc == CANARY_OK && !(c = canary__new(a, canary__config)))
		rc = canary__perror_oom(e);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&r, m[0], "", "version",
			CANARY__MAX_VERSION, true, &c->version);
	if (rc == CANARY_OK)
		rc = parse_flags(a, &r, m[1], c);
	cJSON_Delete(root);
	if (rc != CANARY_OK) {
		canary__config_free(a, c);
		return rc;
	}
	*out = c;
	return CANARY_OK;
}

const canary__flag *canary__config_find(const canary__config *config,
	const char *key)
{
	size_t i;

	for (i = 0; config && key && i < config->count; i++)
		if (strcmp(config->flags[i].key, key) == 0)
			return &config->flags[i];
	return NULL;
}

static cJSON *strlist_to_json(const canary__strlist *list)
{
	cJSON *arr = cJSON_CreateArray();
	size_t i;

	for (i = 0; arr && i < list->count; i++) {
		cJSON *s = cJSON_CreateString(list->items[i]);

		if (!s) {
			cJSON_Delete(arr);
			return NULL;
		}
		cJSON_AddItemToArray(arr, s);
	}
	return arr;
}

cJSON *canary__flag_to_json(const canary__flag *f)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *variants = cJSON_CreateObject();
	cJSON *allow = strlist_to_json(&f->allow);
	cJSON *deny = strlist_to_json(&f->deny);
	bool ok;

	ok = obj && variants && allow && deny &&
	     cJSON_AddStringToObject(obj, "key", f->key) &&
	     cJSON_AddStringToObject(obj, "salt", f->salt) &&
	     cJSON_AddNumberToObject(obj, "rollout_bp", f->rollout_bp) &&
	     cJSON_AddBoolToObject(obj, "enabled", f->enabled) &&
	     cJSON_AddStringToObject(variants, "stable", f->variant_stable) &&
	     cJSON_AddStringToObject(variants, "canary", f->variant_canary) &&
	     cJSON_AddStringToObject(obj, "state", f->state);
	if (!ok) {
		cJSON_Delete(obj);
		cJSON_Delete(variants);
		cJSON_Delete(allow);
		cJSON_Delete(deny);
		return NULL;
	}
	cJSON_AddItemToObject(obj, "allow", allow);
	cJSON_AddItemToObject(obj, "deny", deny);
	cJSON_AddItemToObject(obj, "variants", variants);
	return obj;
}

cJSON *canary__config_to_json(const canary__config *config)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *flags = cJSON_CreateArray();
	size_t i;
	char version[24];
	cJSON *v;

	/* cJSON prints numbers with %1.15g, which rounds versions above
	 * 10^15: write the integer as raw text instead. */
	snprintf(version, sizeof(version), "%" PRIu64, config->version);
	v = cJSON_CreateRaw(version);
	if (!root || !flags || !v) {
		cJSON_Delete(v);
		goto fail;
	}
	cJSON_AddItemToObject(root, "version", v);
	for (i = 0; i < config->count; i++) {
		cJSON *f = canary__flag_to_json(&config->flags[i]);

		if (!f)
			goto fail;
		cJSON_AddItemToArray(flags, f);
	}
	cJSON_AddItemToObject(root, "flags", flags);
	return root;
fail:
	cJSON_Delete(root);
	cJSON_Delete(flags);
	return NULL;
}
