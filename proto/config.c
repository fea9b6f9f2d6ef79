/*
 * config.c - parse and validate the protocol v1 flag config, and encode it.
 *
 * Strict on what is present (types, ranges, sizes, duplicates), lenient on
 * what is unknown (extra fields are ignored for forward compatibility).
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"


static int oom(char *err, size_t errlen)
{
	if (err && errlen)
		snprintf(err, errlen, "out of memory");
	return CANARY_ENOMEM;
}

/* A string field: absent → `dflt` (may be NULL = required). */
static int get_string(const canary__alloc *a, const cJSON *obj,
	const char *name, const char *path, const char *dflt, size_t max_len,
	char **out, char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	const char *value;
	size_t len;

	if (!item || cJSON_IsNull(item)) {
		if (!dflt)
			return canary__parse_fail(err, errlen, "%s.%s: required", path, name);
		value = dflt;
	} else if (!cJSON_IsString(item) || !item->valuestring) {
		return canary__parse_fail(err, errlen, "%s.%s: must be a string", path, name);
	} else {
		value = item->valuestring;
	}
	len = strlen(value);
	if (len > max_len)
		return canary__parse_fail(err, errlen, "%s.%s: longer than %zu bytes", path,
			name, max_len);
	*out = canary__strndup(a, value, len);
	return *out ? CANARY_OK : oom(err, errlen);
}

/* An integer field in [min, max], exact (no fraction, no exponent games). */
static int get_uint(const cJSON *obj, const char *name, const char *path,
	bool required, uint64_t dflt, uint64_t max, uint64_t *out, char *err,
	size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);
	double v;

	if (!item) {
		if (required)
			return canary__parse_fail(err, errlen, "%s%s%s: required", path,
				*path ? "." : "", name);
		*out = dflt;
		return CANARY_OK;
	}
	if (!cJSON_IsNumber(item))
		return canary__parse_fail(err, errlen, "%s%s%s: must be a number", path,
			*path ? "." : "", name);
	v = item->valuedouble;
	if (!isfinite(v) || v < 0 || v > (double)max || floor(v) != v)
		return canary__parse_fail(err, errlen, "%s%s%s: must be 0..%llu", path,
			*path ? "." : "", name, (unsigned long long)max);
	*out = (uint64_t)v;
	return CANARY_OK;
}

static int get_bool(const cJSON *obj, const char *name, const char *path,
	bool dflt, bool *out, char *err, size_t errlen)
{
	const cJSON *item = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!item) {
		*out = dflt;
		return CANARY_OK;
	}
	if (!cJSON_IsBool(item))
		return canary__parse_fail(err, errlen, "%s.%s: must be true or false", path, name);
	*out = cJSON_IsTrue(item) != 0;
	return CANARY_OK;
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

/* A list of unit ids; sorted and de-duplicated for binary search. */
static int get_strlist(const canary__alloc *a, const cJSON *obj,
	const char *name, const char *path, canary__strlist *out, char *err,
	size_t errlen)
{
	const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, name);
	const cJSON *item;
	size_t n, i = 0, j;

	out->items = NULL;
	out->count = 0;
	if (!arr || cJSON_IsNull(arr))
		return CANARY_OK;
	if (!cJSON_IsArray(arr))
		return canary__parse_fail(err, errlen, "%s.%s: must be an array of strings",
			path, name);
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_LIST_LEN)
		return canary__parse_fail(err, errlen, "%s.%s: more than %d entries", path,
			name, CANARY__MAX_LIST_LEN);
	if (n == 0)
		return CANARY_OK;
	out->items = canary__calloc(a, n, sizeof(char *));
	if (!out->items)
		return oom(err, errlen);
	cJSON_ArrayForEach(item, arr) {
		size_t len;

		if (!cJSON_IsString(item) || !item->valuestring) {
			strlist_clear(a, out);
			return canary__parse_fail(err, errlen, "%s.%s[%zu]: must be a string",
				path, name, i);
		}
		len = strlen(item->valuestring);
		if (len == 0 || len > CANARY__MAX_UNIT_LEN) {
			strlist_clear(a, out);
			return canary__parse_fail(err, errlen, "%s.%s[%zu]: must be 1..%d bytes",
				path, name, i, CANARY__MAX_UNIT_LEN);
		}
		out->items[i] = canary__strndup(a, item->valuestring, len);
		if (!out->items[i]) {
			strlist_clear(a, out);
			return oom(err, errlen);
		}
		out->count = ++i;
	}
	qsort(out->items, out->count, sizeof(char *), cmp_str);
	for (i = 0, j = 0; i < out->count; i++) {
		if (j && strcmp(out->items[j - 1], out->items[i]) == 0)
			canary__free(a, out->items[i]);
		else
			out->items[j++] = out->items[i];
	}
	out->count = j;
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

static int get_variants(const canary__alloc *a, const cJSON *obj,
	const char *path, canary__flag *out, char *err, size_t errlen)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "variants");
	char vpath[128];
	int rc;

	if (v && !cJSON_IsNull(v) && !cJSON_IsObject(v))
		return canary__parse_fail(err, errlen, "%s.variants: must be an object", path);
	if (!v || cJSON_IsNull(v))
		v = NULL;
	snprintf(vpath, sizeof(vpath), "%s.variants", path);
	rc = get_string(a, v, "stable", vpath, "", CANARY__MAX_VARIANT_LEN,
		&out->variant_stable, err, errlen);
	if (rc == CANARY_OK)
		rc = get_string(a, v, "canary", vpath, "",
			CANARY__MAX_VARIANT_LEN, &out->variant_canary, err, errlen);
	return rc;
}

int canary__flag_from_json(const canary__alloc *a, const cJSON *obj,
	const char *path, canary__flag *out, char *err, size_t errlen)
{
	uint64_t bp;
	int rc;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj))
		return canary__parse_fail(err, errlen, "%s: must be an object", path);
	rc = get_string(a, obj, "key", path, NULL, CANARY__MAX_KEY_LEN,
		&out->key, err, errlen);
	if (rc == CANARY_OK && out->key[0] == '\0')
		rc = canary__parse_fail(err, errlen, "%s.key: must not be empty", path);
	if (rc == CANARY_OK)
		rc = get_string(a, obj, "salt", path, out->key,
			CANARY__MAX_KEY_LEN, &out->salt, err, errlen);
	if (rc == CANARY_OK)
		rc = get_uint(obj, "rollout_bp", path, true, 0, 10000, &bp, err,
			errlen);
	if (rc == CANARY_OK) {
		out->rollout_bp = (uint32_t)bp;
		rc = get_bool(obj, "enabled", path, true, &out->enabled, err,
			errlen);
	}
	if (rc == CANARY_OK)
		rc = get_strlist(a, obj, "allow", path, &out->allow, err, errlen);
	if (rc == CANARY_OK)
		rc = get_strlist(a, obj, "deny", path, &out->deny, err, errlen);
	if (rc == CANARY_OK)
		rc = get_variants(a, obj, path, out, err, errlen);
	if (rc == CANARY_OK)
		rc = get_string(a, obj, "state", path, "", CANARY__MAX_STATE_LEN,
			&out->state, err, errlen);
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
	canary__free(a, config);
}

static int cmp_flag_key(const void *x, const void *y)
{
	return strcmp(((const canary__flag *)x)->key,
		((const canary__flag *)y)->key);
}

/* Keys must be unique: sort a copy of the order and compare neighbours. */
static int check_unique(canary__config *c, char *err, size_t errlen)
{
	size_t i;

	if (c->count < 2)
		return CANARY_OK;
	qsort(c->flags, c->count, sizeof(*c->flags), cmp_flag_key);
	for (i = 1; i < c->count; i++)
		if (strcmp(c->flags[i - 1].key, c->flags[i].key) == 0)
			return canary__parse_fail(err, errlen, "flags: duplicate key \"%s\"",
				c->flags[i].key);
	return CANARY_OK;
}

static int parse_flags(const canary__alloc *a, const cJSON *arr,
	canary__config *c, char *err, size_t errlen)
{
	const cJSON *item;
	size_t n;
	int rc;

	if (!arr)
		return canary__parse_fail(err, errlen, "flags: required");
	if (!cJSON_IsArray(arr))
		return canary__parse_fail(err, errlen, "flags: must be an array");
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_FLAGS)
		return canary__parse_fail(err, errlen, "flags: more than %d flags",
			CANARY__MAX_FLAGS);
	c->flags = canary__calloc(a, n ? n : 1, sizeof(*c->flags));
	if (!c->flags)
		return oom(err, errlen);
	cJSON_ArrayForEach(item, arr) {
		char path[32];

		snprintf(path, sizeof(path), "flags[%zu]", c->count);
		rc = canary__flag_from_json(a, item, path, &c->flags[c->count],
			err, errlen);
		if (rc != CANARY_OK)
			return rc;
		c->count++;
	}
	return check_unique(c, err, errlen);
}

int canary__config_parse(const canary__alloc *a, const char *json,
	size_t len, canary__config **out, char *err, size_t errlen)
{
	canary__config *c = NULL;
	cJSON *root = NULL;
	int rc;

	*out = NULL;
	if (!json)
		return canary__parse_fail(err, errlen, "config: no document");
	if (len > CANARY__MAX_CONFIG_BYTES)
		return canary__parse_fail(err, errlen, "config: larger than %u bytes",
			CANARY__MAX_CONFIG_BYTES);
	root = cJSON_ParseWithLengthOpts(json, len, NULL, 0);
	if (!root) {
		rc = canary__parse_fail(err, errlen, "config: malformed JSON");
		goto done;
	}
	if (!cJSON_IsObject(root)) {
		rc = canary__parse_fail(err, errlen, "config: must be a JSON object");
		goto done;
	}
	c = canary__calloc(a, 1, sizeof(*c));
	if (!c) {
		rc = oom(err, errlen);
		goto done;
	}
	rc = get_uint(root, "version", "", true, 0, CANARY__MAX_VERSION,
		&c->version, err, errlen);
	if (rc == CANARY_OK)
		rc = parse_flags(a, cJSON_GetObjectItemCaseSensitive(root, "flags"),
			c, err, errlen);
done:
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
