/*
 * store_fixture.h - what the storage tests share: a store in a temporary
 * directory (SQLite) or a fresh database (PostgreSQL, when the test runs
 * as its _pg variant), SQL of the test's own on it, flags and event
 * batches made from JSON the way the API makes them.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdbool.h>
#include <stdint.h>

#include "store/storage.h"

/* The store's location for the current test (valid between setup and
 * teardown): a SQLite file, or a PostgreSQL URL. */
extern char fx_db_path[512];
/* The test's temporary directory (for more SQLite files). */
extern char fx_dir[256];

/* cmocka setup/teardown: a fresh directory (and database) per test. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Does this test run against PostgreSQL? */
bool fx_is_pg(void);

/* The schema version this server's backend migrates to. */
int fx_schema_version(void);

/* Open the store at fx_db_path, or at `location` (asserts success). */
cs_store *fx_open(void);
cs_store *fx_open_at(const char *location);

/* A connection of the test's own to the store's database, running SQL
 * as it is (both backends); fx_sql asserts success. */
typedef struct fx_raw fx_raw;
fx_raw *fx_raw_open(void);
void fx_sql(fx_raw *r, const char *sql);
void fx_raw_close(fx_raw *r);

/* A valid flag `key` at `rollout_bp`; clear with canary__flag_clear. */
void fx_flag(const char *key, uint32_t rollout_bp, canary__flag *out);

/* Create flag `key` in the store (asserts success). */
void fx_create(cs_store *s, const char *key);

/* Sleep `ms` milliseconds (for ordering, never a speed check). */
void fx_sleep_ms(long ms);

/* A new rollout of `flag` (running, the default spec, started at 1000). */
void fx_rollout(cs_rollout *r, const char *flag);

/* Start `r` (fx_rollout) in `s` with a "start" decision and, with `bp`,
 * the flag's rollout_bp set to *bp. Returns the store's code; `version`
 * (optional) gets the config version. */
int fx_start(cs_store *s, cs_rollout *r, const uint32_t *bp,
	uint64_t *version);

/* The same from SDK instance `instance` (a backend may keep each window
 * in parts by instance). */
void fx_batch_from(unsigned int id, const char *instance, const char *flag,
	const char *arm, uint64_t cv, uint64_t exposures, uint64_t errors,
	canary__ev_batch *out);

/* A batch `id` (1..) with one window of `flag`: `arm` ("stable" or
 * "canary"), config version `cv`, `exposures` and `errors`, and two
 * latency bins. Clear with canary__ev_batch_clear. */
void fx_batch(unsigned int id, const char *flag, const char *arm,
	uint64_t cv, uint64_t exposures, uint64_t errors, canary__ev_batch *out);

#endif
