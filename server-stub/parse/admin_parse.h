/*
 * admin_parse.h - strict parsers for admin API request bodies and queries.
 *
 * Pure functions of their input (no I/O) so the fuzz harness and the
 * server share them. Flag validation is the protocol library's
 * (canary__flag_from_json, proto/config.c), the SDK's too: the server and
 * the SDK cannot disagree on what a valid flag is.
 */
#ifndef CS_ADMIN_H
#define CS_ADMIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "json_read.h"
#include "parse_error.h"

/* How strictly an admin body is read (json_read.h): a person writes it,
 * so an unknown member is a typo to refuse by name ("enabeld" must not
 * leave the kill switch untouched), and every string must be UTF-8 (it
 * reaches /metrics, /v1/flags, logs and terminals). Flag bodies, tokens',
 * webhooks' and the rollout operations' are read so; the SDK reads
 * configs tolerantly. */
#define CS_ADMIN_READ_OPTS (CANARY__JSON_KNOWN_ONLY | CANARY__JSON_UTF8)

/* Admin bodies carry at most two 10,000-entry unit lists of 1 KiB ids. */
#define CS_ADMIN_MAX_BODY (4u * 1024u * 1024u)

/*
 * Parse a flag object for POST /v1/admin/flags (path_key NULL) or
 * PUT /v1/admin/flags/{key} (path_key from the URL: a "key" in the body
 * must equal it, and may be left out). On success `out` owns a flag to free
 * with canary__flag_clear(canary__alloc_default(), out).
 */
int cs_admin_parse_flag(const char *body, size_t len, const char *path_key,
	canary__flag *out, canary__perror *e);

/*
 * PATCH /v1/admin/flags/{key}: apply `body` as a JSON merge patch
 * (RFC 7396: members replace, null removes, objects merge) to `current`,
 * then validate the result as a whole flag. The key cannot change.
 */
int cs_admin_patch_flag(const canary__flag *current, const char *body,
	size_t len, canary__flag *out, canary__perror *e);

/*
 * What a flag body (POST, PUT, or a PATCH's merge patch) asks beyond the
 * flag itself. "force": true overrides the guard of a live rollout (the
 * change is audited as forced). A patch whose only member is "enabled"
 * (with "force" or not) is the kill switch, which an operator may use.
 */
typedef struct cs_flag_request {
	bool force;
	bool kill_switch_only;
	int enabled;             /* -1 absent, 0 false, 1 true */
} cs_flag_request;

int cs_admin_parse_request(const char *body, size_t len,
	cs_flag_request *out, canary__perror *e);

/* The body of a rollout operation that takes none: absent, blank or {};
 * a member is refused, named. */
int cs_admin_parse_no_body(const char *body, size_t len, canary__perror *e);

/*
 * A named segment's name (in its URL and body): 1..64 of [A-Za-z0-9._-]
 * (what a URL path and a shell take as they are).
 */
#define CS_SEGMENT_NAME_MAX 64
int cs_admin_check_segment_name(const char *name, const char *field,
	canary__perror *e);

/* A segment's body is its constraints: at most this many bytes. */
#define CS_SEGMENT_MAX_BODY (1024u * 1024u)

/*
 * PUT /v1/admin/segments/{name}: {"constraints": [...], "name" (optional:
 * must equal the URL's), "force" (optional: past a live rollout's guard,
 * audited)}. The constraints are compiled by the SDK's strict compiler
 * (an error names the field: "constraints[0].value"). On success `out`
 * owns a segment to clear with canary__segdef_clear().
 */
int cs_admin_parse_segment(const char *body, size_t len, const char *name,
	canary__segdef *out, bool *force, canary__perror *e);

/* Query of GET /v1/admin/flags/{key}/stats. */
typedef struct cs_stats_query {
	bool has_config_version;
	uint64_t config_version;
	uint64_t since_ms;        /* 0 = from the beginning */
} cs_stats_query;

/* Parse the raw query values (NULL = absent). */
int cs_admin_parse_stats_query(const char *config_version, const char *since,
	cs_stats_query *out, canary__perror *e);

/* A named token's name: 1..64 of [A-Za-z0-9._-], not a name the server
 * gives itself ("admin", "controller", "insecure-dev"). */
#define CS_NAME_MAX 64
int cs_admin_check_name(const char *name, const char *field,
	canary__perror *e);

/* POST /v1/admin/tokens: {"name", "role"} ("reader", "operator",
 * "admin"). */
int cs_admin_parse_token(const char *body, size_t len,
	char name[CS_NAME_MAX + 1], char role[16], canary__perror *e);

/* Webhook events, the names a webhook may ask for. */
extern const char *const cs_webhook_events[];

/*
 * POST /v1/admin/webhooks: {"url": "http(s)://...", "events": [...]}
 * ("events" optional: every event). `events` gets them comma-separated
 * ("" for all). Another scheme, a URL without a host, with spaces or
 * control characters, or longer than `url_cap` - 1 is refused.
 */
int cs_admin_parse_webhook(const char *body, size_t len, char *url,
	size_t url_cap, char *events, size_t events_cap, canary__perror *e);

/* A URL's origin, "scheme://host[:port]", without user information,
 * path or query (which may hold a secret: a webhook URL often does): what
 * a log line or the audit log may show of it. */
void cs_url_origin(const char *url, char *out, size_t len);

/* Query of GET /v1/admin/audit. */
typedef struct cs_audit_params {
	const char *flag, *actor;   /* borrowed from the query; NULL: all */
	const char *segment;        /* the same */
	uint64_t since_ms, until_ms;
	uint64_t before;            /* the next page: older than this id */
	uint64_t limit;             /* 1..1000, default 100 */
} cs_audit_params;

int cs_admin_parse_audit_query(const char *flag, const char *segment,
	const char *actor,
	const char *since, const char *until, const char *before,
	const char *limit, cs_audit_params *out, canary__perror *e);

/* "1".."9007199254740991" (a webhook id in a path); false otherwise. */
bool cs_admin_parse_id(const char *s, uint64_t *out);

#endif
