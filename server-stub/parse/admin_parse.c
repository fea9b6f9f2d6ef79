/*
 * admin_parse.c - admin request parsing: flag bodies, merge patches, queries.
 */
#include "parse/admin_parse.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

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

int cs_admin_only_members(const cJSON *obj, const char *path,
	const char *const *names, cs_perror *e)
{
	const cJSON *m;
	size_t i;

	cJSON_ArrayForEach(m, obj) {
		for (i = 0; names[i] && strcmp(names[i], m->string) != 0; i++)
			;
		if (names[i])
			continue;
		if (!*path)
			return cs_fail(e, m->string, "unknown field");
		cs_fail(e, "", "unknown field");
		if (e)
			snprintf(e->field, sizeof(e->field), "%.64s.%.64s",
				path, m->string);
		return CANARY_EPARSE;
	}
	return CANARY_OK;
}

/* The members a flag body may have: the flag's, and "force". */
static int flag_members(const cJSON *obj, cs_perror *e)
{
	static const char *const flag[] = { "key", "salt", "rollout_bp",
		"enabled", "allow", "deny", "variants", "state", "force", NULL };
	static const char *const variants[] = { "stable", "canary", NULL };
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "variants");
	int rc = cs_admin_only_members(obj, "", flag, e);

	if (rc == CANARY_OK && cJSON_IsObject(v))
		rc = cs_admin_only_members(v, "variants", variants, e);
	return rc;
}

/* Check and drop "force" (the request's, not the flag's). */
static int take_force(cJSON *obj, bool *force, cs_perror *e)
{
	const cJSON *f = cJSON_GetObjectItemCaseSensitive(obj, "force");

	*force = false;
	if (!f)
		return CANARY_OK;
	if (!cJSON_IsBool(f))
		return cs_fail(e, "force", "must be true or false");
	*force = cJSON_IsTrue(f);
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "force");
	return CANARY_OK;
}

int cs_admin_parse_request(const char *body, size_t len,
	cs_flag_request *out, cs_perror *e)
{
	cJSON *obj = NULL;
	const cJSON *en;
	int rc;

	memset(out, 0, sizeof(*out));
	out->enabled = -1;
	rc = parse_json(body, len, &obj, e);
	if (rc == CANARY_OK)
		rc = flag_members(obj, e);
	if (rc == CANARY_OK)
		rc = take_force(obj, &out->force, e);
	if (rc == CANARY_OK) {
		en = cJSON_GetObjectItemCaseSensitive(obj, "enabled");
		if (cJSON_IsBool(en))
			out->enabled = cJSON_IsTrue(en) ? 1 : 0;
		out->kill_switch_only = en && cJSON_GetArraySize(obj) == 1;
	}
	cJSON_Delete(obj);
	return rc;
}

int cs_admin_parse_flag(const char *body, size_t len, const char *path_key,
	canary__flag *out, cs_perror *e)
{
	cJSON *obj = NULL;
	bool force;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_json(body, len, &obj, e);
	if (rc == CANARY_OK)
		rc = flag_members(obj, e);
	if (rc == CANARY_OK)
		rc = take_force(obj, &force, e);
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
	bool force;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = parse_json(body, len, &patch, e);
	if (rc == CANARY_OK)
		rc = flag_members(patch, e);
	if (rc == CANARY_OK)
		rc = take_force(patch, &force, e);
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

/* ---- tokens, webhooks, the audit query -------------------------------- */

int cs_admin_check_name(const char *name, const char *field, cs_perror *e)
{
	static const char *const reserved[] = { "admin", "controller",
		"insecure-dev" };
	size_t n = strlen(name), i;

	if (n == 0 || n > CS_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return cs_fail(e, field, "must be 1..%d of letters, digits, "
			"'.', '_' and '-'", CS_NAME_MAX);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return cs_fail(e, field, "\"%s\" is the server's own "
				"name for its bootstrap token or itself",
				reserved[i]);
	return CANARY_OK;
}

/* obj[name] as a string, copied into out (cap bytes); required. */
static int member_str(const cJSON *obj, const char *name, char *out,
	size_t cap, cs_perror *e)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);

	if (!v)
		return cs_fail(e, name, "required");
	if (!cJSON_IsString(v))
		return cs_fail(e, name, "must be a string");
	if (strlen(v->valuestring) >= cap)
		return cs_fail(e, name, "longer than %zu bytes", cap - 1);
	memcpy(out, v->valuestring, strlen(v->valuestring) + 1);
	return CANARY_OK;
}

int cs_admin_parse_token(const char *body, size_t len,
	char name[CS_NAME_MAX + 1], char role[16], cs_perror *e)
{
	static const char *const members[] = { "name", "role", NULL };
	cJSON *obj = NULL;
	int rc = parse_json(body, len, &obj, e);

	if (rc == CANARY_OK)
		rc = cs_admin_only_members(obj, "", members, e);
	if (rc == CANARY_OK)
		rc = member_str(obj, "name", name, CS_NAME_MAX + 1, e);
	if (rc == CANARY_OK)
		rc = cs_admin_check_name(name, "name", e);
	if (rc == CANARY_OK)
		rc = member_str(obj, "role", role, 16, e);
	if (rc == CANARY_OK && strcmp(role, "reader") != 0 &&
	    strcmp(role, "operator") != 0 && strcmp(role, "admin") != 0)
		rc = cs_fail(e, "role", "must be reader, operator or admin");
	cJSON_Delete(obj);
	return rc;
}

const char *const cs_webhook_events[] = { "started", "widened", "paused",
	"resumed", "rolled_back", "completed", "stalled", NULL };

/* http:// or https://, a host, nothing a URL may not hold. */
static int check_url(const char *url, cs_perror *e)
{
	const char *rest = NULL, *p;

	if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	if (!rest)
		return cs_fail(e, "url", "must be an http:// or https:// URL");
	if (!*rest || *rest == '/' || *rest == '?' || *rest == '#' ||
	    *rest == ':')
		return cs_fail(e, "url", "must name a host");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return cs_fail(e, "url", "must not hold spaces or "
				"control characters");
	return CANARY_OK;
}

/* "events": [names], each known, into a comma-separated list. */
static int parse_events(const cJSON *arr, char *out, size_t cap,
	cs_perror *e)
{
	const cJSON *it;
	size_t n = 0, i;
	int k = 0;

	out[0] = '\0';
	if (!arr)
		return CANARY_OK;
	if (!cJSON_IsArray(arr) || cJSON_GetArraySize(arr) == 0)
		return cs_fail(e, "events", "must be a non-empty array of "
			"event names");
	cJSON_ArrayForEach(it, arr) {
		char field[32];

		snprintf(field, sizeof(field), "events[%d]", k++);
		for (i = 0; cJSON_IsString(it) && cs_webhook_events[i] &&
		     strcmp(cs_webhook_events[i], it->valuestring) != 0; i++)
			;
		if (!cJSON_IsString(it) || !cs_webhook_events[i])
			return cs_fail(e, field, "must be one of started, "
				"widened, paused, resumed, rolled_back, "
				"completed, stalled");
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "",
			it->valuestring);
		if (n >= cap)
			return cs_fail(e, "events", "too many");
	}
	return CANARY_OK;
}

int cs_admin_parse_webhook(const char *body, size_t len, char *url,
	size_t url_cap, char *events, size_t events_cap, cs_perror *e)
{
	static const char *const members[] = { "url", "events", NULL };
	cJSON *obj = NULL;
	int rc = parse_json(body, len, &obj, e);

	if (rc == CANARY_OK)
		rc = cs_admin_only_members(obj, "", members, e);
	if (rc == CANARY_OK)
		rc = member_str(obj, "url", url, url_cap, e);
	if (rc == CANARY_OK)
		rc = check_url(url, e);
	if (rc == CANARY_OK)
		rc = parse_events(cJSON_GetObjectItemCaseSensitive(obj,
			"events"), events, events_cap, e);
	cJSON_Delete(obj);
	return rc;
}

bool cs_admin_parse_id(const char *s, uint64_t *out)
{
	return parse_uint(s, out) && *out > 0;
}

int cs_admin_parse_audit_query(const char *flag, const char *actor,
	const char *since, const char *until, const char *before,
	const char *limit, cs_audit_params *out, cs_perror *e)
{
	memset(out, 0, sizeof(*out));
	out->flag = flag && *flag ? flag : NULL;
	out->actor = actor && *actor ? actor : NULL;
	out->limit = 100;
	if (since && !parse_uint(since, &out->since_ms))
		return cs_fail(e, "since", "must be milliseconds since the "
			"epoch");
	if (until && !parse_uint(until, &out->until_ms))
		return cs_fail(e, "until", "must be milliseconds since the "
			"epoch");
	if (before && !cs_admin_parse_id(before, &out->before))
		return cs_fail(e, "before", "must be a record id (1..)");
	if (limit && (!parse_uint(limit, &out->limit) || out->limit < 1 ||
		      out->limit > 1000))
		return cs_fail(e, "limit", "must be an integer 1..1000");
	return CANARY_OK;
}

void cs_url_origin(const char *url, char *out, size_t len)
{
	const char *sep = strstr(url, "://"), *auth, *host;
	size_t n, i;

	if (!sep) {
		snprintf(out, len, "?");
		return;
	}
	auth = sep + 3;
	n = strcspn(auth, "/?#");
	host = auth;
	/* user:password@ ends at the authority's last '@'. */
	for (i = 0; i < n; i++)
		if (auth[i] == '@')
			host = auth + i + 1;
	snprintf(out, len, "%.*s%.*s", (int)(auth - url), url,
		(int)(auth + n - host), host);
}
