/*
 * persist.h - config persistence: the config in force outlives the process
 * in the cache file (store.h, docs/datapath.md "The cache"), with its ETag,
 * the time the service last confirmed it, and its binary form
 * (config_blob.h), which the next cold start decodes instead of parsing the
 * JSON.
 *
 * Without a cache_path (or when the file cannot be used) there is no store
 * and every call does nothing. Used by one thread at a time: the client's
 * creator, then the thread driving the worker.
 */
#ifndef CANARY_SDK_PERSIST_H
#define CANARY_SDK_PERSIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "alloc.h"
#include "config.h"
#include "log.h"
#include "source.h"
#include "store.h"

typedef struct canary__persist canary__persist;

/* What the cache held at start, for the worker. */
typedef struct canary__persist_start {
	char etag[CANARY__ETAG_MAX + 1]; /* of the cached config; "" = none */
	int64_t age_ms;                  /* time since the service confirmed it */
} canary__persist_start;

/* A config's binary form, encoded before the config is handed over. */
typedef struct canary__blob {
	unsigned char *data;             /* NULL: the JSON is cached alone */
	size_t len;
} canary__blob;

/*
 * Open the cache at `path` (NULL: none) and read the config it holds,
 * before any network I/O: from its binary form when that is sound, else
 * by parsing the cached body with `src`. *config is NULL when there is
 * none. A file that cannot be used, or a cached config that does not
 * validate, is logged and set aside: only CANARY_ENOMEM is an error.
 * `log` is borrowed for the persist's life.
 */
int canary__persist_open(canary__persist **out, const canary__alloc *a,
	const canary__logger *log, const char *path, const canary__source *src,
	canary__config **config, canary__persist_start *start);

/* Close; accepts NULL. */
void canary__persist_close(canary__persist *p);

/* The cache file is in use (the event outbox shares it). */
bool canary__persist_usable(const canary__persist *p);

/* Encode `config`'s binary form for canary__persist_save(); an empty blob
 * without a cache or without the memory to encode it. */
void canary__persist_encode(canary__persist *p, const canary__config *config,
	canary__blob *out);

/* Cache a config the service sent: `body` as received, its `etag`, and
 * `blob` (freed here), in one transaction. Never downgrades the cache.
 * A failure is logged: the config stays in force, uncached. */
void canary__persist_save(canary__persist *p, uint64_t version,
	const char *etag, const char *body, size_t len, canary__blob *blob);

/* The service confirmed `version` is current: recorded at most once a
 * minute, so a 304 or a live stream does not write the file every time. */
void canary__persist_confirmed(canary__persist *p, uint64_t version);

/* After fork(), in the child: a connection of its own (SQLite connections
 * must not cross a fork); the parent's is abandoned untouched. */
void canary__persist_postfork(canary__persist *p);

#endif
