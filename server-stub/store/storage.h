/*
 * store.h - canary-server's durable state in SQLite: flags, the config
 * version, ingested event windows and their statistics.
 *
 * This is the API the rollout controller (issue 6) builds on: it reads
 * stats with cs_store_stats() and changes rollouts with cs_store_flag_modify(),
 * and every change it makes reaches /v1/flags and open streams through the
 * change hook, exactly like an admin change.
 *
 * Threading: one connection guarded by one mutex; every function may be
 * called from any thread. Each function is one transaction.
 */
#ifndef CS_STORE_H
#define CS_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "parse/batch_parse.h"
#include "histogram.h"

#define CS_ENOTFOUND (-100) /* no such flag */
#define CS_EEXISTS (-101)   /* flag already exists (create) */
#define CS_ECANCELED (-102) /* a modify callback declined */
#define CS_ECONFLICT (-103) /* state changed under us / not allowed now */
#define CS_ENOROLLOUT (-104) /* no such rollout */
#define CS_ESTALE (-105)    /* changed since it was read: read again */

typedef struct cs_store cs_store;

/*
 * Called after every committed config change, in version order, with the
 * store's lock held: keep it short and do not call back into the store.
 * `config` is borrowed for the duration of the call.
 */
typedef void (*cs_store_change_fn)(const canary__config *config, void *ctx);

typedef enum cs_sync_mode {
	CS_SYNC_FULL = 0,   /* fsync the WAL on every commit (default) */
	CS_SYNC_NORMAL = 1  /* survives a crash of the process, not of power */
} cs_sync_mode;

/* Open (create) and migrate the database; `err` gets a message on failure. */
int cs_store_open(cs_store **out, const char *path, cs_sync_mode sync,
	char *err, size_t errlen);
void cs_store_close(cs_store *store);

/* Set the hook before the store is shared between threads. */
void cs_store_on_change(cs_store *store, cs_store_change_fn fn, void *ctx);

/* Schema version of the opened database (for tests and /healthz). */
int cs_store_schema_version(cs_store *store);

/* The whole current config (version + flags sorted by key); caller frees
 * with canary__config_free(canary__alloc_default(), *out). */
int cs_store_config(cs_store *store, canary__config **out);

/* One flag, or CS_ENOTFOUND. Caller clears `out` with canary__flag_clear. */
int cs_store_flag_get(cs_store *store, const char *key, canary__flag *out);

typedef enum cs_put_mode {
	CS_PUT_CREATE,   /* CS_EEXISTS if present */
	CS_PUT_UPSERT    /* create or replace */
} cs_put_mode;

/* Write a validated flag and bump the version. `created` and `version`
 * (both optional) report what happened. */
int cs_store_flag_put(cs_store *store, const canary__flag *flag,
	cs_put_mode mode, bool *created, uint64_t *version);

/*
 * Read-modify-write of one flag in one transaction: `fn` gets the current
 * flag and fills `next` (a fresh flag it owns, freed by the store); a
 * non-zero return cancels with that code. CS_ENOTFOUND if absent.
 */
typedef int (*cs_modify_fn)(const canary__flag *cur, canary__flag *next,
	void *ctx);
int cs_store_flag_modify(cs_store *store, const char *key, cs_modify_fn fn,
	void *ctx, uint64_t *version);

/*
 * Extra work inside a store transaction (the rollout tables of
 * rollout_store.c). `db` is the store's connection, `version` the config
 * version the transaction will commit. A non-zero return rolls the whole
 * transaction back and is returned to the caller. Prepared statements
 * only; no calls back into the store.
 */
struct sqlite3;
typedef int (*cs_store_txn_fn)(struct sqlite3 *db, uint64_t version,
	void *ctx);

/* cs_store_flag_modify() plus `after` in the same transaction, after the
 * version bump: a flag change and its bookkeeping commit together. */
int cs_store_flag_modify_txn(cs_store *store, const char *key,
	cs_modify_fn fn, void *ctx, cs_store_txn_fn after, void *after_ctx,
	uint64_t *version);

/* Run `fn` in one write transaction without changing the config. */
int cs_store_txn(cs_store *store, cs_store_txn_fn fn, void *ctx);

int cs_store_flag_delete(cs_store *store, const char *key, uint64_t *version);

/*
 * Ingest one parsed batch, counted in the window floor(now_ms / width_ms).
 * Idempotent by batch_id: a batch seen before sets *duplicate and changes
 * nothing. Returns only after the commit is durable (see cs_sync_mode).
 */
int cs_store_ingest(cs_store *store, const cs_batch *batch, uint64_t now_ms,
	uint64_t width_ms, bool *duplicate);

/* Aggregated counts of one arm; the latency histograms of its windows
 * merged (quantiles with canary__hist_quantile()). */
typedef struct cs_arm_stats {
	uint64_t exposures, errors;
	uint64_t windows;               /* stored windows that were summed */
	canary__hist latency;
} cs_arm_stats;

typedef struct cs_stats_filter {
	bool has_config_version;
	uint64_t config_version;
	uint64_t since_ms;   /* windows starting at or after; 0 = all */
	uint64_t until_ms;   /* windows starting before; 0 = no bound */
	uint64_t min_config_version; /* windows at this version or later */
} cs_stats_filter;

/* Sum the windows of `flag` matching `f` per arm (out[CS_ARM_STABLE],
 * out[CS_ARM_CANARY]); zeros when there are none. */
int cs_store_stats(cs_store *store, const char *flag, const cs_stats_filter *f,
	cs_arm_stats out[CS_ARMS]);

/* Lifetime totals per (flag, arm), for /metrics. */
typedef void (*cs_totals_fn)(const char *flag, cs_arm arm, uint64_t exposures,
	uint64_t errors, void *ctx);
int cs_store_totals(cs_store *store, cs_totals_fn fn, void *ctx);

/* Forget batch ids received before `before_ms` (a replay older than that
 * would be counted again); returns how many via `removed` (optional). */
int cs_store_prune_batches(cs_store *store, uint64_t before_ms,
	uint64_t *removed);

#endif
