/*
 * flags_cache.h - the published config: /v1/flags body, ETag and prebuilt
 * responses.
 *
 * Serving /v1/flags never touches the store: the body is rendered once per
 * config version and the 200 and 304 responses are built once and shared
 * by every connection (libmicrohttpd responses are reference counted).
 */
#ifndef CS_FLAGS_CACHE_H
#define CS_FLAGS_CACHE_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"

struct MHD_Connection;
typedef struct cs_flags_cache cs_flags_cache;

int cs_flags_cache_new(cs_flags_cache **out);
void cs_flags_cache_free(cs_flags_cache *cache);

/*
 * Publish `config`. On success *json (caller frees) is the body that was
 * published, for the stream hub. Versions only move forward: an older
 * config than the current one is ignored (returns CANARY_OK, *json NULL).
 */
int cs_flags_cache_set(cs_flags_cache *cache, const canary__config *config,
	char **json, size_t *len);

uint64_t cs_flags_cache_version(cs_flags_cache *cache);

/* The size of the config it serves, in bytes (0 before the first). */
size_t cs_flags_cache_bytes(cs_flags_cache *cache);

/*
 * Queue the 200 or, when `if_none_match` matches the ETag, the 304.
 * Returns the status queued, or 0 if queueing failed.
 */
unsigned int cs_flags_cache_serve(cs_flags_cache *cache,
	struct MHD_Connection *conn, const char *if_none_match);

/* Does an If-None-Match header value match `etag`? (RFC 9110: weak
 * comparison, list of entity tags or "*"). Exposed for tests. */
int cs_etag_matches(const char *if_none_match, const char *etag);

#endif
