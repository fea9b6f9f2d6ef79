/*
 * storage.h - canary-server's durable state, as operations on an opaque
 * store: flags and the config version, ingested event windows and their
 * statistics, rollouts and their decisions, batch ids and retention.
 *
 * This is the only storage API the rest of the server uses. A store is a
 * backend (storage_backend.h says what one implements; SQLite,
 * store_sqlite*.c, is the one today) behind a thin front end (storage.c)
 * that keeps the rules every backend shares: configs are published through
 * the change hook one at a time in version order, and a modify may not
 * rename a flag. No header outside the SQLite backend names a SQLite type.
 *
 * Every change to the config (a flag written, modified or deleted, or a
 * rollout change that moves a flag) bumps the config version by one in the
 * same transaction and then reaches the change hook, which the server uses
 * to publish to /v1/flags and every open stream: a caller never talks to
 * HTTP or streams itself.
 *
 * Threading: every function may be called from any thread. Each write is
 * one transaction. Reads (config, flags, stats, totals, rollouts) run on
 * their own connections and never wait for a write to commit.
 *
 * Errors: CANARY_OK, CANARY_ENOMEM, CANARY_EINVAL, CANARY_ESTORAGE, or one
 * of the CS_E* codes below.
 *
 * Coming, and where it goes (not built yet):
 * - named tokens, an audit log and webhooks: token operations beside the
 *   flag ones, and an audit row appended by every change in the change's
 *   own transaction (the change operations will take the acting token);
 *   webhooks read the audit log.
 * - user-level evidence per window (sketches) and per-instance sums: more
 *   fields in cs_window that cs_store_ingest() stores, and more in
 *   cs_arm_stats that cs_store_stats() merges.
 * - retention of decisions and old windows: more cut-offs in cs_retention.
 * - PostgreSQL with several replicas: a backend whose reads may go to a
 *   replica; the rollout revision (cs_rollout.rev) already makes every
 *   rollout change a conditional write, safe between servers.
 */
#ifndef CS_STORAGE_H
#define CS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "histogram.h"
#include "parse/batch_parse.h"
#include "rollout/rollout.h"

#define CS_ENOTFOUND (-100) /* no such flag */
#define CS_EEXISTS (-101)   /* flag already exists (create) */
#define CS_ECANCELED (-102) /* a modify callback declined */
#define CS_ECONFLICT (-103) /* state changed under us / not allowed now */
#define CS_ENOROLLOUT (-104) /* no such rollout */
#define CS_ESTALE (-105)    /* changed since it was read: read again */

typedef struct cs_store cs_store;

/* ---- opening --------------------------------------------------------- */

typedef enum cs_sync_mode {
	CS_SYNC_FULL = 0,   /* fsync the WAL on every commit (default) */
	CS_SYNC_NORMAL = 1  /* survives a crash of the process, not of power */
} cs_sync_mode;

typedef struct cs_store_options {
	const char *location;  /* SQLite: the database file (borrowed) */
	cs_sync_mode sync;
	unsigned int readers;  /* read connections; 0 = the default (4) */
} cs_store_options;

/*
 * Open (create) the store and migrate its schema to this server's version;
 * a store written by a newer server is refused. `err` gets a message on
 * failure.
 */
int cs_store_open(cs_store **out, const cs_store_options *opts, char *err,
	size_t errlen);
void cs_store_close(cs_store *store);

/* Schema version of the opened store (for tests and /healthz). */
int cs_store_schema_version(cs_store *store);

/*
 * Called after every committed config change, in version order, one at a
 * time. `config` is borrowed for the duration of the call. It may read
 * the store but must not change the config (that would wait for itself).
 * Set it before the store is shared between threads.
 */
typedef void (*cs_store_change_fn)(const canary__config *config, void *ctx);
void cs_store_on_change(cs_store *store, cs_store_change_fn fn, void *ctx);

/* ---- flags and the config version ------------------------------------ */

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
 * A flag modification: given the current flag, fill `next` (a fresh flag
 * it owns, freed by the store); a non-zero return cancels with that code.
 * A pure function of its inputs: it runs inside the store's transaction
 * and must not call the store. `next` must keep the key (CANARY_EINVAL).
 */
typedef int (*cs_modify_fn)(const canary__flag *cur, canary__flag *next,
	void *ctx);

/* Read-modify-write of one flag in one transaction, and a version bump.
 * CS_ENOTFOUND if absent. */
int cs_store_flag_modify(cs_store *store, const char *key, cs_modify_fn fn,
	void *ctx, uint64_t *version);

int cs_store_flag_delete(cs_store *store, const char *key, uint64_t *version);

/* ---- events ---------------------------------------------------------- */

/*
 * Ingest one parsed batch, counted in the window floor(now_ms / width_ms).
 * Idempotent by batch_id: a batch seen before sets *duplicate and changes
 * nothing (the id and the counts commit together). Returns only after the
 * commit is durable (see cs_sync_mode).
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

/* Sum the windows of `flag` matching `f` (optional) per arm
 * (out[CS_ARM_STABLE], out[CS_ARM_CANARY]); zeros when there are none. */
int cs_store_stats(cs_store *store, const char *flag, const cs_stats_filter *f,
	cs_arm_stats out[CS_ARMS]);

/*
 * One window of a flag's time series (cs_store_series): both arms'
 * windows that start at `window_ms`, each arm summed over the config
 * versions the filter keeps, exactly as cs_store_stats() sums them
 * (arm[a].windows counts the stored rows that were summed; 0 with zeros
 * and an empty histogram when the arm has none in this window).
 */
typedef struct cs_series_point {
	uint64_t window_ms;
	cs_arm_stats arm[CS_ARMS];
} cs_series_point;

/* Called once per window; `p` is borrowed for the call. A non-zero
 * return stops the walk. It must not call the store. */
typedef int (*cs_series_fn)(const cs_series_point *p, void *ctx);

/*
 * The windows of `flag` matching `f` (optional; the same meaning as in
 * cs_store_stats()), one call per distinct window start that has a row
 * for either arm, in increasing window_ms; windows without any row are
 * not reported. The whole walk reads one snapshot. Returns CANARY_OK
 * (also when there is no window), fn's non-zero return, or an error.
 */
int cs_store_series(cs_store *store, const char *flag,
	const cs_stats_filter *f, cs_series_fn fn, void *ctx);

/* Lifetime totals per (flag, arm), for /metrics, in (flag, arm) order. */
typedef void (*cs_totals_fn)(const char *flag, cs_arm arm, uint64_t exposures,
	uint64_t errors, void *ctx);
int cs_store_totals(cs_store *store, cs_totals_fn fn, void *ctx);

/* ---- rollouts and their decisions ------------------------------------- */

/*
 * One change of a rollout, carried out in one transaction: apply the flag
 * modification (if any) and bump the config version, write the rollout
 * row, append the decision. An update is guarded by the rollout's
 * revision: it applies only if nobody changed the rollout since it was
 * read, so a controller tick that raced an operator's pause is dropped,
 * not applied over it.
 */
typedef struct cs_rollout_change {
	/* The new state. For an update, rollout->rev is the revision it was
	 * read at; on success the store sets rev and updated_ms, id (insert)
	 * and step_version (insert or new_step). */
	cs_rollout *rollout;
	bool insert;          /* a new rollout (CS_ECONFLICT when the flag
	                         already has an active one) */
	bool new_step;        /* the step starts over: its step_version is
	                         the config version this change commits */
	cs_modify_fn modify;  /* the flag change (of rollout->flag), or NULL */
	void *modify_ctx;
	int64_t now_ms;       /* updated_ms, and the decision's time */
	const char *decision; /* a JSON object appended to the history; when
	                         `modify` is set the store records the config
	                         version the change committed in it, as
	                         "config_version" */
} cs_rollout_change;

/*
 * Returns CS_ENOTFOUND when `modify` is set and the flag does not exist,
 * CS_ESTALE when the rollout changed since it was read, CS_ECONFLICT when
 * an insert finds an active rollout, or what `modify` returned. `version`
 * (optional) gets the config version the change committed (or the current
 * one, without `modify`).
 */
int cs_store_rollout_write(cs_store *store, const cs_rollout_change *change,
	uint64_t *version);

/* One stored decision (the JSON object text); non-zero stops the read. */
typedef int (*cs_decision_fn)(const char *json, size_t len, void *ctx);

typedef struct cs_history {
	uint64_t last;       /* the last N decisions, 0 = all */
	cs_decision_fn fn;   /* called oldest first; must not call the store */
	void *ctx;
	uint64_t total;      /* [out] how many decisions the rollout has */
} cs_history;

/* The flag's most recent rollout (active or not), or CS_ENOROLLOUT; with
 * `history`, its decisions too, from the same snapshot. */
int cs_store_rollout_get(cs_store *store, const char *flag, cs_rollout *out,
	cs_history *history);

typedef enum cs_rollout_set {
	CS_ROLLOUTS_ACTIVE,  /* running or paused, in id order */
	CS_ROLLOUTS_LATEST   /* the latest of every flag, in flag order */
} cs_rollout_set;

/* Call fn for each rollout of the set; a non-zero return stops and is
 * returned. A corrupt row is skipped. fn must not call the store. */
typedef int (*cs_rollout_fn)(const cs_rollout *r, void *ctx);
int cs_store_rollouts_each(cs_store *store, cs_rollout_set set,
	cs_rollout_fn fn, void *ctx);

/* ---- retention ------------------------------------------------------- */

/* What to forget; 0 keeps everything of that kind. */
typedef struct cs_retention {
	/* Batch ids received before this (a replay older than that would be
	 * counted again). */
	uint64_t batches_before_ms;
} cs_retention;

/* Forget what `r` says; `removed` (optional) gets how many records. */
int cs_store_prune(cs_store *store, const cs_retention *r, uint64_t *removed);

#endif
