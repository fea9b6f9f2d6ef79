/*
 * admin_parse.c - admin request parsing: flag bodies, merge patches, queries.
 */
#include "parse/admin_parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json_read.h"

/* Validate with the shared model, read by `r` (which parsed the body). */
static int validate(const canary__json_reader *r, const cJSON *obj,
	canary__flag *out)
{
	return canary__flag_from_json(canary__alloc_default(), r, obj, "", out);
}

/* Make the body's key agree with the URL's. */
static int bind_key(cJSON *obj, const char *path_key, canary__perror *e)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "key");

	if (!path_key)
		return CANARY_OK;
	if (!key || cJSON_IsNull(key)) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "key");
		if (!cJSON_AddStringToObject(obj, "key", path_key))
			return canary__perror_oom(e);
		return CANARY_OK;
	}
	if (!cJSON_IsString(key) || strcmp(key->valuestring, path_key) != 0)
		return canary__perror_set(e, "key",
			"must match the key in the URL");
	return CANARY_OK;
}

/* A new flag's key names it in logs, URLs and terminals: no control
 * characters (C0, DEL). */
static int plain_key(const char *key, canary__perror *e)
{
	for (; *key; key++)
		if ((unsigned char)*key < 0x20 || *key == 0x7f)
			return canary__perror_set(e, "key",
				"must not contain control characters");
	return CANARY_OK;
}

int cs_admin_parse_flag(const char *body, size_t len, const char *path_key,
	canary__flag *out, canary__perror *e)
{
	canary__json_reader r;
	cJSON *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = canary__json_parse(&r, body, len, CS_ADMIN_MAX_BODY, NULL, &obj);
	if (rc == CANARY_OK)
		rc = bind_key(obj, path_key, e);
	if (rc == CANARY_OK)
		rc = validate(&r, obj, out);
	if (rc == CANARY_OK && (rc = plain_key(out->key, e)) != CANARY_OK)
		canary__flag_clear(canary__alloc_default(), out);
	cJSON_Delete(obj);
	return rc;
}

/* RFC 7396 merge of `patch` into `target` (both objects). */
static bool merge_patch(cJSON *target, const cJSON *patch, int depth)
{
	const cJSON *m;

	if (depth > 8)
		return false;
	cJSON_ArrayForEach(m, patch) {
		cJSON *cur = cJSON_GetObjectItemCaseSensitive(target, m->string);
		cJSON *copy;

		if (cJSON_IsNull(m)) {
			cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
			continue;
		}
		if (cJSON_IsObject(m) && cJSON_IsObject(cur)) {
			if (!merge_patch(cur, m, depth + 1))
				return false;
			continue;
		}
		copy = cJSON_Duplicate(m, 1);
		if (!copy)
			return false;
		cJSON_DeleteItemFromObjectCaseSensitive(target, m->string);
		cJSON_AddItemToObject(target, m->string, copy);
	}
	return true;
}

int cs_admin_patch_flag(const canary__flag *current, const char *body,
	size_t len, canary__flag *out, canary__perror *e)
{
	cJSON *patch = NULL, *merged = NULL;
	canary__json_reader r;
	const cJSON *key;
	int rc;

	memset(out, 0, sizeof(*out));
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = canary__json_parse(&r, body, len, CS_ADMIN_MAX_BODY, NULL, &patch);
	if (rc != CANARY_OK)
		goto done;
	key = cJSON_GetObjectItemCaseSensitive(patch, "key");
	if (key && (!cJSON_IsString(key) ||
		    strcmp(key->valuestring, current->key) != 0)) {
		rc = canary__perror_set(e, "key", "cannot be changed");
		goto done;
	}
	merged = canary__flag_to_json(current);
	if (!merged || !merge_patch(merged, patch, 0)) {
		rc = canary__perror_set(e, "", "patch too deep or out of memory");
		goto done;
	}
	rc = validate(&r, merged, out);
done:
	cJSON_Delete(patch);
	cJSON_Delete(merged);
	return rc;
}

/* A decimal integer 0..2^53 - 1, nothing else (no sign, no spaces). */
static bool parse_uint(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9' || strlen(s) > 16)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > CANARY__JSON_MAX_INT)
		return false;
	*out = v;
	return true;
}

int cs_admin_parse_stats_query(const char *config_version, const char *since,
	cs_stats_query *out, canary__perror *e)
{
	memset(out, 0, sizeof(*out));
	if (config_version) {
		if (!parse_uint(config_version, &out->config_version))
			return canary__perror_set(e, "config_version",
				"must be an integer 0..%llu",
				(unsigned long long)CANARY__JSON_MAX_INT);
		out->has_config_version = true;
	}
	if (since && !parse_uint(since, &out->since_ms))
		return canary__perror_set(e, "since",
			"must be milliseconds since the epoch");
	return CANARY_OK;
}
