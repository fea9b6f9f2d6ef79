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
#include "json_read.h"

/* Validate with the shared model, read by `r` (which parsed the body).
 * Targeting rules are compiled by the same strict code the SDK reads them
 * with. Whether the segments a flag names exist is the store's to say
 * (inside the change's transaction). */
static int validate(const canary__json_reader *r, const cJSON *obj,
	canary__flag *out)
{
	return canary__flag_from_json(canary__alloc_default(), r, obj, "", out);
}

/* Make the body's member `member` (a flag's key, a segment's name) agree
 * with the URL's. */
static int bind_key_as(cJSON *obj, const char *member, const char *path_key,
	canary__perror *e)
{
	const cJSON *key = cJSON_GetObjectItemCaseSensitive(obj, member);

	if (!path_key)
		return CANARY_OK;
	if (!key || cJSON_IsNull(key)) {
		cJSON_DeleteItemFromObjectCaseSensitive(obj, member);
		if (!cJSON_AddStringToObject(obj, member, path_key))
			return canary__perror_oom(e);
		return CANARY_OK;
	}
	if (!cJSON_IsString(key) || strcmp(key->valuestring, path_key) != 0)
		return canary__perror_set(e, member,
			"must match the %s in the URL", member);
	return CANARY_OK;
}

static int bind_key(cJSON *obj, const char *path_key, canary__perror *e)
{
	return bind_key_as(obj, "key", path_key, e);
}

/* Check and drop "force" (the request's, not the flag's: the flag's own
 * reader, which knows only the flag's members, must not see it). */
static int take_force(const canary__json_reader *r, cJSON *obj, bool *force)
{
	int rc;

	*force = false;
	rc = canary__json_bool(r, cJSON_GetObjectItemCaseSensitive(obj,
		"force"), "", "force", force);
	if (rc != CANARY_OK)
		return rc;
	cJSON_DeleteItemFromObjectCaseSensitive(obj, "force");
	if (cJSON_GetObjectItemCaseSensitive(obj, "force"))
		return canary__perror_at(r->err, "", "force", "appears twice");
	return CANARY_OK;
}

int cs_admin_parse_request(const char *body, size_t len,
	cs_flag_request *out, canary__perror *e)
{
	static const char *const names[] = { "enabled", "force" };
	canary__json_reader r;
	const cJSON *m[2];
	cJSON *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	out->enabled = -1;
	/* The flag's members are the flag's reader's to check (unknown ones
	 * included); this one only looks for the two it is about. */
	canary__json_reader_init(&r, 0, e);
	rc = canary__json_parse(&r, body, len, CS_ADMIN_MAX_BODY, NULL, &obj);
	if (rc == CANARY_OK)
		rc = canary__json_members(&r, obj, "", names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&r, m[1], "", "force", &out->force);
	if (rc == CANARY_OK) {
		if (cJSON_IsBool(m[0]))
			out->enabled = cJSON_IsTrue(m[0]) ? 1 : 0;
		out->kill_switch_only = m[0] && cJSON_GetArraySize(obj) ==
			(m[1] ? 2 : 1);
	}
	cJSON_Delete(obj);
	return rc;
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
	bool force;
	int rc;

	memset(out, 0, sizeof(*out));
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = canary__json_parse(&r, body, len, CS_ADMIN_MAX_BODY, NULL, &obj);
	if (rc == CANARY_OK)
		rc = take_force(&r, obj, &force);
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
	bool force;
	int rc;

	memset(out, 0, sizeof(*out));
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = canary__json_parse(&r, body, len, CS_ADMIN_MAX_BODY, NULL, &patch);
	if (rc == CANARY_OK)
		rc = take_force(&r, patch, &force);
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
		rc = canary__perror_set(e, "",
			"patch too deep or out of memory");
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

/* ---- tokens, webhooks, the audit query -------------------------------- */

int cs_admin_check_name(const char *name, const char *field,
	canary__perror *e)
{
	static const char *const reserved[] = { "admin", "controller",
		"insecure-dev" };
	size_t n = strlen(name), i;

	if (n == 0 || n > CS_NAME_MAX || strspn(name, "abcdefghijklmnopqrstuvwxyz"
		    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789._-") != n)
		return canary__perror_set(e, field, "must be 1..%d of letters, digits, "
			"'.', '_' and '-'", CS_NAME_MAX);
	for (i = 0; i < sizeof(reserved) / sizeof(reserved[0]); i++)
		if (strcmp(name, reserved[i]) == 0)
			return canary__perror_set(e, field, "\"%s\" is the server's own "
				"name for its bootstrap token or itself",
				reserved[i]);
	return CANARY_OK;
}

int cs_admin_check_segment_name(const char *name, const char *field,
	canary__perror *e)
{
	size_t n = strlen(name);

	if (n == 0 || n > CS_SEGMENT_NAME_MAX || strspn(name,
		    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789._-") != n)
		return canary__perror_set(e, field, "must be 1..%d of letters, "
			"digits, '.', '_' and '-'", CS_SEGMENT_NAME_MAX);
	return CANARY_OK;
}

int cs_admin_parse_segment(const char *body, size_t len, const char *name,
	canary__segdef *out, bool *force, canary__perror *e)
{
	canary__json_reader r;
	const cJSON *item;
	cJSON *obj = NULL;
	int rc;

	memset(out, 0, sizeof(*out));
	*force = false;
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = cs_admin_check_segment_name(name, "name", e);
	if (rc == CANARY_OK)
		rc = canary__json_parse(&r, body, len, CS_SEGMENT_MAX_BODY, NULL,
			&obj);
	if (rc == CANARY_OK && !cJSON_IsObject(obj))
		rc = canary__perror_set(e, "", "must be a JSON object");
	if (rc == CANARY_OK)
		rc = take_force(&r, obj, force);
	if (rc == CANARY_OK)
		rc = bind_key_as(obj, "name", name, e);
	item = obj ? cJSON_GetObjectItemCaseSensitive(obj, "constraints") :
		NULL;
	if (rc == CANARY_OK)
		rc = canary__json_required(&r, item, "", "constraints");
	if (rc == CANARY_OK)
		rc = canary__segdef_from_json(canary__alloc_default(), &r, obj,
			"", out);
	cJSON_Delete(obj);
	return rc;
}

/* A small request body (a token's, a webhook's, an operation's) whose
 * members can only be names[0..n): another is refused, named. */
static int read_body(canary__json_reader *r, const char *body, size_t len,
	const char *const names[], size_t n, cJSON **doc, const cJSON *m[])
{
	int rc = canary__json_parse(r, body, len, CS_ADMIN_MAX_BODY, NULL,
		doc);

	if (rc == CANARY_OK)
		rc = canary__json_members(r, *doc, "", names, n, m);
	return rc;
}

/* The member `name` (`item`) as a string, copied into out (cap bytes);
 * required. */
static int member_str(const canary__json_reader *r, const cJSON *item,
	const char *name, char *out, size_t cap)
{
	const char *v = NULL;
	int rc = canary__json_required(r, item, "", name);

	if (rc == CANARY_OK)
		rc = canary__json_string(r, item, "", name, cap - 1, &v);
	if (rc == CANARY_OK)
		memcpy(out, v, strlen(v) + 1);
	return rc;
}

int cs_admin_parse_token(const char *body, size_t len,
	char name[CS_NAME_MAX + 1], char role[16], canary__perror *e)
{
	static const char *const names[] = { "name", "role" };
	canary__json_reader r;
	const cJSON *m[2];
	cJSON *obj = NULL;
	int rc;

	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = read_body(&r, body, len, names, 2, &obj, m);
	if (rc == CANARY_OK)
		rc = member_str(&r, m[0], "name", name, CS_NAME_MAX + 1);
	if (rc == CANARY_OK)
		rc = cs_admin_check_name(name, "name", e);
	if (rc == CANARY_OK)
		rc = member_str(&r, m[1], "role", role, 16);
	if (rc == CANARY_OK && strcmp(role, "reader") != 0 &&
	    strcmp(role, "operator") != 0 && strcmp(role, "admin") != 0)
		rc = canary__perror_set(e, "role",
			"must be reader, operator or admin");
	cJSON_Delete(obj);
	return rc;
}

const char *const cs_webhook_events[] = { "started", "widened", "paused",
	"resumed", "rolled_back", "completed", "stalled", "segment_created",
	"segment_updated", "segment_deleted", NULL };

/* http:// or https://, a host, nothing a URL may not hold. */
static int check_url(const char *url, canary__perror *e)
{
	const char *rest = NULL, *p;

	if (strncasecmp(url, "https://", 8) == 0)
		rest = url + 8;
	else if (strncasecmp(url, "http://", 7) == 0)
		rest = url + 7;
	if (!rest)
		return canary__perror_set(e, "url",
			"must be an http:// or https:// URL");
	if (!*rest || *rest == '/' || *rest == '?' || *rest == '#' ||
	    *rest == ':')
		return canary__perror_set(e, "url", "must name a host");
	for (p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return canary__perror_set(e, "url", "must not hold "
				"spaces or control characters");
	return CANARY_OK;
}

/* "events": [names], each known, into a comma-separated list ("" when
 * absent: all of them). */
static int parse_events(const canary__json_reader *r, const cJSON *item,
	char *out, size_t cap)
{
	const cJSON *arr, *it;
	size_t n = 0, i, k = 0;
	int rc = canary__json_array(r, item, "", "events", &arr);

	out[0] = '\0';
	if (rc != CANARY_OK || !arr)
		return rc;
	if (cJSON_GetArraySize(arr) == 0)
		return canary__perror_set(r->err, "events",
			"must be a non-empty array of event names");
	cJSON_ArrayForEach(it, arr) {
		const char *name;

		rc = canary__json_string_at(r, it, "events", k, 32, &name);
		if (rc != CANARY_OK)
			return rc;
		for (i = 0; cs_webhook_events[i] &&
		     strcmp(cs_webhook_events[i], name) != 0; i++)
			;
		if (!cs_webhook_events[i])
			return canary__perror_at_index(r->err, "events", k,
				"must be one of started, widened, paused, "
				"resumed, rolled_back, completed, stalled, "
				"segment_created, segment_updated, "
				"segment_deleted");
		n += (size_t)snprintf(out + n, cap - n, "%s%s", n ? "," : "",
			name);
		if (n >= cap)
			return canary__perror_set(r->err, "events", "too many");
		k++;
	}
	return CANARY_OK;
}

int cs_admin_parse_webhook(const char *body, size_t len, char *url,
	size_t url_cap, char *events, size_t events_cap, canary__perror *e)
{
	static const char *const names[] = { "url", "events" };
	canary__json_reader r;
	const cJSON *m[2];
	cJSON *obj = NULL;
	int rc;

	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = read_body(&r, body, len, names, 2, &obj, m);
	if (rc == CANARY_OK)
		rc = member_str(&r, m[0], "url", url, url_cap);
	if (rc == CANARY_OK)
		rc = check_url(url, e);
	if (rc == CANARY_OK)
		rc = parse_events(&r, m[1], events, events_cap);
	cJSON_Delete(obj);
	return rc;
}

int cs_admin_parse_no_body(const char *body, size_t len, canary__perror *e)
{
	canary__json_reader r;
	cJSON *obj = NULL;
	size_t i = 0;
	int rc;

	while (i < len && (body[i] == ' ' || body[i] == '\t' ||
		body[i] == '\r' || body[i] == '\n'))
		i++;
	if (i == len)
		return CANARY_OK;
	canary__json_reader_init(&r, CS_ADMIN_READ_OPTS, e);
	rc = read_body(&r, body, len, NULL, 0, &obj, NULL);
	cJSON_Delete(obj);
	/* Not an object at all: say so plainly. A member is named. */
	if (rc == CANARY_EPARSE && (!e || !e->field[0]))
		rc = canary__perror_set(e, "", "this operation takes no body");
	return rc;
}

bool cs_admin_parse_id(const char *s, uint64_t *out)
{
	return parse_uint(s, out) && *out > 0;
}

int cs_admin_parse_audit_query(const char *flag, const char *segment,
	const char *actor,
	const char *since, const char *until, const char *before,
	const char *limit, cs_audit_params *out, canary__perror *e)
{
	memset(out, 0, sizeof(*out));
	out->flag = flag && *flag ? flag : NULL;
	out->segment = segment && *segment ? segment : NULL;
	out->actor = actor && *actor ? actor : NULL;
	out->limit = 100;
	if (since && !parse_uint(since, &out->since_ms))
		return canary__perror_set(e, "since", "must be milliseconds since the "
			"epoch");
	if (until && !parse_uint(until, &out->until_ms))
		return canary__perror_set(e, "until", "must be milliseconds since the "
			"epoch");
	if (before && !cs_admin_parse_id(before, &out->before))
		return canary__perror_set(e, "before", "must be a record id (1..)");
	if (limit && (!parse_uint(limit, &out->limit) || out->limit < 1 ||
		      out->limit > 1000))
		return canary__perror_set(e, "limit", "must be an integer 1..1000");
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
