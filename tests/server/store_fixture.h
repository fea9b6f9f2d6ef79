/*
 * store_fixture.h - what the storage tests share: a store in a temporary
 * directory, flags and event batches made from JSON the way the API makes
 * them.
 */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H

#include <stdint.h>

#include "store/storage.h"

/* The database file of the current test (valid between setup/teardown). */
extern char fx_db_path[512];

/* cmocka group setup/teardown: a fresh directory per test. */
int fx_setup(void **state);
int fx_teardown(void **state);

/* Open the store at fx_db_path (asserts success). */
cs_store *fx_open(void);

/* A valid flag `key` at `rollout_bp`; clear with canary__flag_clear. */
void fx_flag(const char *key, uint32_t rollout_bp, canary__flag *out);

/* Create flag `key` in the store (asserts success). */
void fx_create(cs_store *s, const char *key);

/* A batch `id` (1..) with one window of `flag`: `arm` ("stable" or
 * "canary"), config version `cv`, `exposures` and `errors`, and two
 * latency bins. Clear with cs_batch_clear. */
void fx_batch(unsigned int id, const char *flag, const char *arm,
	uint64_t cv, uint64_t exposures, uint64_t errors, cs_batch *out);

#endif
