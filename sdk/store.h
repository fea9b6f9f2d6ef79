/*
 * store.h - the SQLite file behind cache_path: the last good config, with
 * its ETag, version and fetch time, so a client starts instantly and works
 * offline.
 *
 * Layout (see docs/datapath.md): a `canary_schema(component, version)`
 * table records the schema version of each part of the file, so other
 * parts (the event outbox) can live in the same file and evolve on their
 * own. The config part is component "config_cache", table `config_cache`
 * with at most one row.
 *
 * Never touches SQLite's process-global settings. One store is used by one
 * thread at a time (the worker, or the thread calling canary_client_tick).
 */
#ifndef CANARY_SDK_STORE_H
#define CANARY_SDK_STORE_H

#include <stddef.h>
#include <stdint.h>

#include "alloc.h"

struct sqlite3;

#define CANARY__STORE_SCHEMA 1     /* config_cache schema this code writes */
#define CANARY__STORE_BUSY_MS 2000 /* wait for another connection's lock */
#define CANARY__ETAG_MAX 255

typedef struct canary__store canary__store;

/* A cached config. `body` is NULL when the cache is empty. */
typedef struct canary__cached {
	uint64_t version;
	char etag[CANARY__ETAG_MAX + 1];
	int64_t fetched_at_ms;  /* wall clock, ms since the epoch */
	char *body;             /* the /v1/flags JSON; free with the store's allocator */
	size_t body_len;
	void *parsed;           /* its binary form (config_blob.h) or NULL; */
	size_t parsed_len;      /* file data: decode checks it, may refuse it */
} canary__cached;

/*
 * Open (creating if needed) the store at `path` and, when `cached` is not
 * NULL, load the cached config into it. A file SQLite cannot use (not a
 * database, corrupt) is renamed to "<path>.corrupt-<unix time>" and a fresh
 * one created; `note` then says so, for the log ("" otherwise).
 * Returns CANARY_OK, CANARY_ENOMEM, or CANARY_ESTORAGE when no usable file
 * could be had (the detail is in `note` too).
 */
int canary__store_open(canary__store **out, const canary__alloc *a,
	const char *path, canary__cached *cached, char *note, size_t notelen);

/* Close; accepts NULL. */
void canary__store_close(canary__store *s);

/* After fork(), in the child: forget the parent's connection without
 * touching it (SQLite connections must not cross a fork); frees the rest. */
void canary__store_abandon(canary__store *s);

/*
 * Replace the cached config in one transaction. Never downgrades: when the
 * cache holds a higher version nothing changes and CANARY_ESTATE is
 * returned. Else CANARY_OK or CANARY_ESTORAGE (detail in canary_error_last).
 */
int canary__store_save(canary__store *s, uint64_t version, const char *etag,
	int64_t fetched_at_ms, const char *body, size_t len);

/* The same, with the config's binary form (config_blob.h) in the same
 * row, written in the same transaction; NULL stores none. */
int canary__store_save_parsed(canary__store *s, uint64_t version,
	const char *etag, int64_t fetched_at_ms, const char *body, size_t len,
	const void *parsed, size_t parsed_len);

/* The service confirmed `version` is current (a 304): record the time. */
int canary__store_touch(canary__store *s, uint64_t version,
	int64_t fetched_at_ms);

/* Forget the cached config (it did not parse). */
int canary__store_clear(canary__store *s);

/* Step a prepared statement to completion, then reset it and clear its
 * bindings; SQLITE_OK or the SQLite error. Shared with the outbox. */
struct sqlite3_stmt;
int canary__store_run(struct sqlite3_stmt *st);

void canary__cached_clear(const canary__alloc *a, canary__cached *c);

/* The connection, for other parts of the same file (the event outbox).
 * Same threading rule as the store. */
struct sqlite3 *canary__store_db(canary__store *s);

#endif
