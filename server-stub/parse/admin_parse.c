/*
 * admin_parse.c - admin request parsing: flag bodies, merge patches, queries.
 */
#include "parse/admin_parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "parse/batch_parse.h" /* CS_MAX_COUNT */

static int parse_json(const char *body, size_t len, cJSON **out,
	cs_perror *e)
{
	const char *end = NULL;

	*out = NULL;
	if (!body || len == 0)
		return cs_fail(e, "", "empty body");
	if (len > CS_ADMIN_MAX_BODY)
		return cs_fail(e, "", "body larger than %u bytes",
			CS_ADMIN_MAX_BODY);
	*out = cJSON_ParseWithLengthOpts(body, len, &end, 0);
	if (!*out)
		return cs_fail(e, "", "malformed JSON");
	while (end < body + len &&
	       (*end == ' ' || *end == '\t' || *end == '\r' || *end == '\n'))
		end++;
	if (end != body + len) {
		cJSON_Delete(*out);
		*out = NULL;
		return cs_fail(e, "", "trailing data after the JSON value");
	}
	if (!cJSON_IsObject(*out)) {
		cJSON_Delete(*out);
		*out = NULL;
		return cs_fail(e, "", "body must be a JSON object");
	}
	return CANARY_OK;
}

/* Validate with the shared model; map its "path: message" to field/message. */
static int validate(const cJSON *obj, canary__flag *out, cs_perror *e)
{
	char err[CANARY__ERRBUF];
	int rc;

	err[0] = '\0';
	rc = canary__flag_from_json(canary__alloc_default(), obj, "", out, err,
		sizeof(err));
	if (rc == CANARY_EPARSE)
		return cs_fail_from_config(e, err);
	if (rc != CANARY_OK)
		cs_fail(e, "", "%s", err);
	return rc;
}

/* Make the body's key agree with the URL's. */
static int bind_key(cJSON *obj, const char *path_key, cs_perror *e)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, "key");

	if (!path_key)
		return CANARY_OK;
	if (!key || cJSON_IsNull(key)) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, "key");
		if (!cJSON_AddStringToObject(obj, "key", path_key))
			return cs_oom(e);
		return CANARY_OK;
	}
	if (!cJSON_IsString(key) || strcmp(key->valuestring, path_key) != 0)
		return cs_fail(e, "key", "must match the key in the URL");
	return CANARY_OK;
}

int cs_admin_parse_flag(const char *body, size_t len, const char *path_key,
	canary__flag *out, cs_perror *e)
{
	cJSON *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_json(body, len, &obj, e);
	if (rc == CANARY_OK)
		rc = bind_key(obj, path_key, e);
	if (rc == CANARY_OK)
		rc = validate(obj, out, e);
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
	size_t len, canary__flag *out, cs_perror *e)
{
	cJSON *patch = NULL, *merged = NULL;
	const cJSON *key;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_json(body, len, &patch, e);
	if (rc != CANARY_OK)
		goto done;
	key = cJSON_GetObjectItemCaseSensitive(patch, "key");
	if (key && (!cJSON_IsString(key) ||
		    strcmp(key->valuestring, current->key) != 0)) {
		rc = cs_fail(e, "key", "cannot be changed");
		goto done;
	}
	merged = canary__flag_to_json(current);
	if (!merged || !merge_patch(merged, patch, 0)) {
		rc = cs_fail(e, "", "patch too deep or out of memory");
		goto done;
	}
	rc = validate(merged, out, e);
done:
	cJSON_Delete(patch);
	cJSON_Delete(merged);
	return rc;
}

/* A decimal integer 0..CS_MAX_COUNT, nothing else (no sign, no spaces). */
static bool parse_uint(const char *s, uint64_t *out)
{
	unsigned long long v;
	char *end;

	if (!s || *s < '0' || *s > '9' || strlen(s) > 16)
		return false;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > CS_MAX_COUNT)
		return false;
	*out = v;
	return true;
}

int cs_admin_parse_stats_query(const char *config_version, const char *since,
	cs_stats_query *out, cs_perror *e)
{
	memset(out, 0, sizeof(*out));
	if (config_version) {
		if (!parse_uint(config_version, &out->config_version))
			return cs_fail(e, "config_version",
				"must be an integer 0..%llu",
				(unsigned long long)CS_MAX_COUNT);
		out->has_config_version = true;
	}
	if (since && !parse_uint(since, &out->since_ms))
		return cs_fail(e, "since", "must be milliseconds since the epoch");
	return CANARY_OK;
}
