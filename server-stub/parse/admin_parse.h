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

/* How strictly a flag body is read (json_read.h): a person writes it, so
 * an unknown member is a typo to refuse by name ("enabeld" must not leave
 * the kill switch untouched), and every string must be UTF-8 (it reaches
 * /metrics, /v1/flags and terminals). The SDK reads configs tolerantly. */
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

/* Query of GET /v1/admin/flags/{key}/stats. */
typedef struct cs_stats_query {
	bool has_config_version;
	uint64_t config_version;
	uint64_t since_ms;        /* 0 = from the beginning */
} cs_stats_query;

/* Parse the raw query values (NULL = absent). */
int cs_admin_parse_stats_query(const char *config_version, const char *since,
	cs_stats_query *out, canary__perror *e);

#endif
