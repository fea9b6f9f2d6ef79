/*
 * storage.h - canary-server's durable state, as operations on an opaque
 * store: flags, named segments and the config version, ingested event
 * windows and their statistics, rollouts and their decisions, named API
 * tokens, the audit log, webhooks and their deliveries, batch ids and
 * retention.
 *
 * This is the only storage API the rest of the server uses. A store is a
 * backend (storage_backend.h says what one implements; SQLite,
 * store_sqlite*.c, is the one today) behind a thin front end (storage.c)
 * that keeps the rules every backend shares: configs are published through
 * the change hook one at a time in version order, and a modify may not
 * rename a flag. No header outside the SQLite backend names a SQLite type.
 *
 * Every change to the config (a flag written, modified or deleted, a
 * segment written or deleted, or a rollout change that moves a flag) bumps the config version by one in the
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
 * Several servers may share one database (PostgreSQL): a change one of
 * them commits reaches the others' change hooks too (the backend watches
 * for it, cs_store_on_change()), the config version is one counter in the
 * database, so versions and the configs they name are the same on every
 * server, and the rollout controller acts only under a lease
 * (cs_store_lease()) that its decisions' transactions check.
 *
 * Every change takes a cs_audit (who, and what it means) and appends an
 * audit record in its own transaction: a change and its record commit
 * together or not at all. A record that names a webhook event also queues
 * one delivery per webhook that wants the event, in that transaction too;
 * a worker outside it sends them (cs_store_deliveries_due()).
 */
#ifndef CS_STORAGE_H
#define CS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "event_batch.h"
#include "histogram.h"
#include "rollout/rollout.h"

#define CS_ENOTFOUND (-100) /* no such flag */
#define CS_EEXISTS (-101)   /* flag already exists (create) */
#define CS_ECANCELED (-102) /* a modify callback declined */
#define CS_ECONFLICT (-103) /* state changed under us / not allowed now */
#define CS_ENOROLLOUT (-104) /* no such rollout */
#define CS_ESTALE (-105)    /* changed since it was read: read again */
#define CS_ELEASE (-106)    /* another server holds the lease (or ours ran
                               out): this one must not act */
#define CS_EUNAVAILABLE (-107) /* the database cannot be reached now (it is
                               down or restarting, or its file was deleted
                               or replaced): try again later */
#define CS_ETOOBIG (-108)   /* the change would make a config larger than
                               cs_store_options.max_config_bytes */
#define CS_EUNREADABLE (-109) /* the flag's row is there but cannot be
                               read back: PUT or DELETE repairs it */
#define CS_EGUARDED (-110)  /* a live rollout guards what the change touches
                               (cs_store_flag_modify with a guard) */
#define CS_ENOSEGMENT (-111) /* a flag names a segment there is none of */
#define CS_EINUSE (-112)    /* flags use the segment (delete) */
#define CS_EBEHIND (-113)   /* a client names a config version another
                               server may have issued that this one has
                               not read yet: try again */
#define CS_ETOOMANY (-114)  /* the change would leave more segments than an
                               SDK takes in a config (CANARY__MAX_SEGMENTS) */

typedef struct cs_store cs_store;

/* ---- opening --------------------------------------------------------- */

typedef enum cs_sync_mode {
	CS_SYNC_FULL = 0,   /* fsync the WAL on every commit (default) */
	CS_SYNC_NORMAL = 1  /* survives a crash of the process, not of power */
} cs_sync_mode;

typedef struct cs_store_options {
	/* Borrowed. A file path is a SQLite database; a postgresql:// or
	 * postgres:// URL a PostgreSQL one (libpq's syntax; its environment
	 * variables and password file fill what the URL leaves out). */
	const char *location;
	cs_sync_mode sync;     /* SQLite only */
	unsigned int readers;  /* read connections (PostgreSQL: the pool's
	                          size); 0 = the default (4) */
	uint64_t max_config_bytes; /* a config change whose config would be
	                              larger (as /v1/flags serves it) is
	                              refused: CS_ETOOBIG; 0 = no limit */
	bool must_exist;       /* SQLite only: refuse a file that does not
	                          exist rather than create an empty one (a
	                          migrate's source: a mistyped backup path
	                          must not restore nothing) */
} cs_store_options;

/* Make room in *arr (of `size`-byte items, *cap of them) for one at index
 * n: the arrays the list operations below return grow this way. */
int cs_grow(void **arr, size_t *cap, size_t n, size_t size);

/*
 * Open (create) the store and migrate its schema to this server's version;
 * a store written by a newer server is refused. `err` gets a message on
 * failure (never a password from the location).
 */
int cs_store_open(cs_store **out, const cs_store_options *opts, char *err,
	size_t errlen);
void cs_store_close(cs_store *store);

/* Schema version of the opened store (for tests and /healthz). */
int cs_store_schema_version(cs_store *store);

/* The backend's name: "sqlite" or "postgresql". */
const char *cs_store_backend_name(cs_store *store);

/* `location` fit for a log line: a URL keeps its scheme, host, port and
 * database, never its user information or parameters. */
void cs_store_describe(const char *location, char *out, size_t outlen);

/* Can writes succeed now? (/healthz.) */
typedef enum cs_health {
	CS_HEALTH_OK,
	CS_HEALTH_DEGRADED,  /* they can, but something is wrong: rows that
	                        cannot be read back are skipped */
	CS_HEALTH_FAILING    /* they cannot: the database cannot be reached,
	                        its file was deleted or replaced, the last
	                        write failed (disk full, I/O error, corrupt) */
} cs_health;

/* The store's health and, unless OK, why in `why` (may be NULL). Cheap: no query,
 * except (SQLite) one small write transaction at most once a second when
 * nothing else was written, so an idle server finds out too. */
cs_health cs_store_health(cs_store *store, char *why, size_t whylen);

/*
 * Called after every committed config change, in version order, one at a
 * time, never twice for one version: this server's changes and, on a
 * shared database, other servers' (within about a second; a backend that
 * lost its connection reads the config again when it is back, so a
 * missed change cannot leave this server stale). `config` is borrowed for
 * the duration of the call. It may read the store but must not change the
 * config (that would wait for itself). Set it before the store is shared
 * between threads; set NULL to stop the calls (it waits for a call in
 * progress), before what the hook uses goes away.
 */
typedef void (*cs_store_change_fn)(const canary__config *config, void *ctx);
void cs_store_on_change(cs_store *store, cs_store_change_fn fn, void *ctx);

/*
 * Read the config and hand it to the change hook if it is newer than the
 * last one handed over: the first publication, or a client that has seen
 * a newer version (from another server) than this one has published.
 */
int cs_store_refresh(cs_store *store);

/* The version last handed to the change hook (0 before the first): the
 * newest version this server knows it issued. */
uint64_t cs_store_published(cs_store *store);

/* ---- who made a change ------------------------------------------------ */

/*
 * Who makes a change and what it means, for its audit record. The record
 * itself says what changed: the fields of the flag before and after (only
 * those that differ), the rollout's state, step and share before and
 * after, the config version the change committed. Strings are borrowed for
 * the call. A NULL cs_audit records nothing (loading a copy, tests).
 */
typedef struct cs_audit {
	const char *actor;   /* a token's name, "admin" (the bootstrap token),
	                        "controller" */
	const char *action;  /* "rollout.widen", ...; NULL: the flag
	                        operation's own ("flag.create", "flag.update",
	                        "flag.delete") */
	bool forced;         /* a guarded edit made with "force" */
	const char *reason;  /* one sentence (optional) */
	const char *event;   /* the webhook event it raises ("started",
	                        "widened", ...; cs_rollout_event()), or NULL */
	/* With `guard` (flag_put, flag_modify): while the flag has a live
	 * (running or paused) rollout, a change of a field it guards
	 * (cs_rollout_guarded_field()) is refused with CS_EGUARDED and
	 * `guard` says by what, unless `forced` (then the record says so). */
	struct cs_guard *guard;
} cs_audit;

/* Why a guarded change was refused. */
typedef struct cs_guard {
	int64_t rollout_id;   /* the live rollout */
	char state[16];       /* its state ("running", "paused") */
	char field[16];       /* the first guarded field the change touches */
	char flag[CANARY__MAX_KEY_LEN + 1]; /* the flag whose rollout it is
	                         (a segment change; "" for a flag's own) */
} cs_guard;

/* ---- flags and the config version ------------------------------------ */

/*
 * A server starts on the database: move the config version to the
 * larger of the next one and `floor` (the start's wall-clock time in ms),
 * in one transaction, and publish it. A database put back from a backup
 * then never issues again a version that was issued after the backup (as
 * long as clocks move forward), so SDKs that saw those take the restored
 * config and every later change.
 */
int cs_store_version_floor(cs_store *store, uint64_t floor,
	uint64_t *version);

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
 * (both optional) report what happened. A stored row that cannot be read
 * back counts as present (a PUT repairs it). A flag equal to the stored
 * one changes nothing: no write, no new version (*version the current). */
int cs_store_flag_put(cs_store *store, const canary__flag *flag,
	cs_put_mode mode, const cs_audit *audit, bool *created,
	uint64_t *version);

/*
 * A flag modification: given the current flag, fill `next` (a fresh flag
 * it owns, freed by the store); a non-zero return cancels with that code.
 * A pure function of its inputs: it runs inside the store's transaction
 * and must not call the store. `next` must keep the key (CANARY_EINVAL).
 */
typedef int (*cs_modify_fn)(const canary__flag *cur, canary__flag *next,
	void *ctx);

/* Read-modify-write of one flag in one transaction, and a version bump
 * (none when the flag comes out as it was). CS_ENOTFOUND if absent. */
int cs_store_flag_modify(cs_store *store, const char *key, cs_modify_fn fn,
	void *ctx, const cs_audit *audit, uint64_t *version);

int cs_store_flag_delete(cs_store *store, const char *key,
	const cs_audit *audit, uint64_t *version);

/* ---- named segments --------------------------------------------------- */

/*
 * Segments: named constraint lists that flags share (docs/targeting.md).
 * A flag may name only segments that exist: flag_put and flag_modify
 * refuse one naming another with CS_ENOSEGMENT, inside their
 * transaction. The config (cs_store_config) carries the segments its
 * flags name, sorted by name, read in the same snapshot as the flags.
 * A segment written or deleted is a config change: it bumps the version
 * (none when it comes out as it was) and is audited ("segment.create",
 * "segment.update", "segment.delete") in its transaction.
 */

/* One segment, or CS_ENOTFOUND. Clear `out` with canary__segdef_clear. */
int cs_store_segment_get(cs_store *store, const char *name,
	canary__segdef *out);

/* Every segment, by name: *out is an array of *n; cs_segdefs_free(). */
int cs_store_segment_list(cs_store *store, canary__segdef **out, size_t *n);
void cs_segdefs_free(canary__segdef *segs, size_t n);

/* Create or replace a validated segment. With audit->guard: while a flag
 * that names it has a live rollout, a change of its constraints is
 * CS_EGUARDED (guard->flag says which flag) unless forced. */
int cs_store_segment_put(cs_store *store, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version);

/* Delete a segment no flag names: CS_ENOTFOUND, or CS_EINUSE with the
 * flags that name it in `users` (comma-separated, cut to userslen). */
int cs_store_segment_delete(cs_store *store, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version);

/* ---- events ---------------------------------------------------------- */

/*
 * Ingest one parsed batch, counted in the window floor(now_ms / width_ms).
 * Idempotent by batch_id: a batch seen before sets *duplicate and changes
 * nothing (the id and the counts commit together). Returns only after the
 * commit is durable (see cs_sync_mode).
 */
int cs_store_ingest(cs_store *store, const canary__ev_batch *batch, uint64_t now_ms,
	uint64_t width_ms, bool *duplicate);

/*
 * The user-level evidence of one arm over the windows that carried it
 * (docs/protocol.md, "User-level evidence"): sketches merged (register
 * maximum), the dispersion figures summed (error_max: the maximum), and
 * the exposures and errors of those windows.
 */
#define CS_SKETCH_REGS CANARY__HLL_REGS(CANARY__HLL_P)
typedef struct cs_arm_users {
	bool any;                       /* some window carried them */
	uint8_t units[CS_SKETCH_REGS];
	uint8_t error_units[CS_SKETCH_REGS];
	uint64_t sketched_exposures, sketched_errors;
	uint64_t error_sq, errors_unmapped, error_max;
} cs_arm_users;

/* Aggregated counts of one arm; the latency histograms of its windows
 * merged (quantiles with canary__hist_quantile()). */
typedef struct cs_arm_stats {
	uint64_t exposures, errors;
	uint64_t windows;               /* stored windows that were summed */
	uint64_t first_ms, last_ms;     /* their earliest and latest start
	                                   (0: none) */
	canary__hist latency;
	cs_arm_users users;             /* only when the filter asks */
} cs_arm_stats;

typedef struct cs_stats_filter {
	bool has_config_version;
	uint64_t config_version;
	uint64_t since_ms;   /* windows starting at or after; 0 = all */
	uint64_t until_ms;   /* windows starting before; 0 = no bound */
	uint64_t min_config_version; /* windows at this version or later */
	uint64_t max_config_version; /* ... and at most this one; 0 = any */
	bool users;          /* merge the user-level evidence too (the
	                        sketches of the last day's windows: see
	                        cs_retention.sketches_before_ms) */
} cs_stats_filter;

/* Sum the windows of `flag` matching `f` (optional) per arm
 * (out[CANARY_ARM_STABLE], out[CANARY_ARM_CANARY]); zeros when there are none. */
int cs_store_stats(cs_store *store, const char *flag, const cs_stats_filter *f,
	cs_arm_stats out[CANARY__ARMS]);

/*
 * One window of a flag's time series (cs_store_series): both arms'
 * windows that start at `window_ms`, each arm summed over the config
 * versions the filter keeps, exactly as cs_store_stats() sums them
 * (arm[a].windows counts the stored rows that were summed; 0 with zeros
 * and an empty histogram when the arm has none in this window).
 */
typedef struct cs_series_point {
	uint64_t window_ms;
	cs_arm_stats arm[CANARY__ARMS];
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

/*
 * What each SDK instance (the batch's instance_id) reported for a flag
 * over config versions min_version..max_version (0: no upper bound):
 * the counts and latency of all its windows, the user-level evidence of
 * those that carried it. What lets the judge ask whether one client's
 * data agree with the others', and judge the step without the largest
 * (docs/analysis.md, "One client cannot decide"): a client sending v1
 * windows is a contributor like any other.
 *
 * Bounded: at most CS_MAX_CONTRIBUTORS instances of a (flag, config
 * version) are kept by name, in the order they first report; the windows
 * of any further instance are summed as one, "the rest" (instance ""),
 * which is never a top contributor. Rows not written for a day go
 * (cs_retention.sketches_before_ms).
 */
#define CS_MAX_CONTRIBUTORS 64
#define CS_TOP_CONTRIBUTORS 2

typedef struct cs_contributor {
	char instance[CANARY__EV_MAX_INSTANCE_ID + 1];
	cs_arm_stats arm[CANARY__ARMS]; /* its windows: counts, latency,
	                                   users (of those with them) */
} cs_contributor;

typedef struct cs_contributions {
	/* Every instance's user-level evidence summed, "the rest" included:
	 * the users part of the step's arms. */
	cs_arm_users all[CANARY__ARMS];
	/* The instance with the most canary exposures, then the one with
	 * the most stable exposures if another; only when at least two
	 * instances report. */
	cs_contributor top[CS_TOP_CONTRIBUTORS];
	size_t ntop;
	size_t instances;               /* named ones that reported */
} cs_contributions;

int cs_store_contributions(cs_store *store, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out);

/* Has any latency sample ever been received for `flag` (either arm, any
 * version)? The judge's latency gates step aside until one has. */
int cs_store_latency_seen(cs_store *store, const char *flag, bool *seen);

/* The custom metrics (canary_record_metric()) of the windows of `flag`
 * matching `f` (optional, as cs_store_stats()), summed per arm and name,
 * in (arm, name) order. *out is an array of *n (free() it; NULL when
 * none). */
typedef struct cs_metric_sum {
	canary_arm arm;
	char name[CANARY__EV_METRIC_NAME_MAX + 1];
	uint64_t count;
	double sum;
} cs_metric_sum;

int cs_store_metric_sums(cs_store *store, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n);

/* Lifetime totals per (flag, arm), for /metrics, in (flag, arm) order. */
typedef void (*cs_totals_fn)(const char *flag, canary_arm arm, uint64_t exposures,
	uint64_t errors, void *ctx);
int cs_store_totals(cs_store *store, cs_totals_fn fn, void *ctx);

/* ---- the controller's lease ------------------------------------------ */

/*
 * One server at a time acts on rollouts: the holder of the "controller"
 * lease. A lease runs out `ttl_ms` after its last renewal, by the
 * database's clock; then any server may take it. Each new holder gets a
 * larger fencing token, and a change made under a lease
 * (cs_rollout_change.lease) commits only if, inside its own transaction,
 * the lease is still that holder's with that token and has not run out:
 * a server that lost its lease cannot commit a decision, however late its
 * transaction runs.
 */
typedef struct cs_lease {
	const char *name;    /* what is leased: "controller" (borrowed) */
	const char *holder;  /* who asks: unique per server process (borrowed) */
	uint64_t ttl_ms;     /* held this long past each renewal */
	int64_t token;       /* [out] the fencing token while held */
} cs_lease;

/* Take the lease, or renew it if this holder has it. CANARY_OK while
 * held (token set), CS_ELEASE while another holder has it. */
int cs_store_lease(cs_store *store, cs_lease *lease);

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
	const cs_lease *lease; /* the controller's: commit only while it holds
	                         this lease with this token; NULL (an
	                         operator's change) = no lease needed */
	const cs_audit *audit; /* who, for the audit record (NULL: none; a
	                         change that moves nothing needs none) */
	const cs_rollout *before; /* the rollout as it was, for the record
	                         (NULL for an insert) */
	bool replace_last;    /* the decision repeats the rollout's last one
	                         (the same judgement again): it replaces that
	                         record instead of adding one */
} cs_rollout_change;

/*
 * Returns CS_ENOTFOUND when `modify` is set and the flag does not exist,
 * CS_ESTALE when the rollout changed since it was read, CS_ECONFLICT when
 * an insert finds an active rollout, CS_ELEASE when `lease` is no longer
 * held, or what `modify` returned. `version`
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

/* ---- the audit log ---------------------------------------------------- */

/*
 * Record what is not itself a change but worth a line in the log and an
 * event (the controller's stall alert): an audit record about `flag`
 * (NULL: none) at the current config version, and its deliveries.
 */
int cs_store_audit_note(cs_store *store, const char *flag,
	const cs_audit *audit);

/* Which audit records to read: newest first, at most `limit`. A
 * segment's records name it in a column of their own (cs_audit_stored),
 * not as a flag. */
typedef struct cs_audit_query {
	const char *flag;     /* this flag's only; NULL: all */
	const char *actor;    /* this actor's only; NULL: all */
	uint64_t since_ms;    /* made at or after; 0: no bound */
	uint64_t until_ms;    /* made before; 0: no bound */
	int64_t before_id;    /* older than this record (the next page); 0:
	                         from the newest */
	uint64_t limit;       /* 1.. */
	const char *segment;  /* this segment's only; NULL: all */
} cs_audit_query;

/* One record: its id and its stored JSON object (records.h), owned. */
typedef struct cs_audit_row {
	int64_t id;
	char *json;
	size_t len;
} cs_audit_row;

/* The records `q` selects, newest first: *out is an array of *n; free it
 * with cs_audit_rows_free(). */
int cs_store_audit_list(cs_store *store, const cs_audit_query *q,
	cs_audit_row **out, size_t *n);
void cs_audit_rows_free(cs_audit_row *rows, size_t n);

/* ---- named API tokens ------------------------------------------------- */

#define CS_TOKEN_NAME_MAX 64
#define CS_TOKEN_ID_MAX 32

/*
 * A named token as stored: never the secret, only what finds it (`id`,
 * the public part of the token) and its SHA-256 (http/credential.h makes
 * and checks both). The store does not interpret the role.
 */
typedef struct cs_token {
	char name[CS_TOKEN_NAME_MAX + 1];
	char id[CS_TOKEN_ID_MAX + 1];
	char hash[65];        /* hex */
	char role[16];        /* "reader", "operator", "admin" */
	int64_t created_ms;
	char created_by[CS_TOKEN_NAME_MAX + 1];
} cs_token;

/* Add a token; CS_EEXISTS when its name (or id) is taken. */
int cs_store_token_add(cs_store *store, const cs_token *t,
	const cs_audit *audit);

/* The token whose id is `id`, or CS_ENOTFOUND. */
int cs_store_token_find(cs_store *store, const char *id, cs_token *out);

/* Every token, by name: *out is an array of *n (free() it). */
int cs_store_token_list(cs_store *store, cs_token **out, size_t *n);

/* Revoke (delete) the token `name`; CS_ENOTFOUND when there is none.
 * `revoked` (optional) gets it as it was. */
int cs_store_token_revoke(cs_store *store, const char *name,
	const cs_audit *audit, cs_token *revoked);

/* ---- webhooks and their deliveries ------------------------------------ */

#define CS_WEBHOOK_URL_MAX 2048
#define CS_WEBHOOK_SECRET_MAX 96
#define CS_WEBHOOK_EVENTS_MAX 255

typedef struct cs_webhook {
	int64_t id;           /* set by cs_store_webhook_add() */
	char url[CS_WEBHOOK_URL_MAX + 1];
	char secret[CS_WEBHOOK_SECRET_MAX + 1]; /* the HMAC key */
	char events[CS_WEBHOOK_EVENTS_MAX + 1]; /* comma-separated; "": all */
	int64_t created_ms;
	char created_by[CS_TOKEN_NAME_MAX + 1];
} cs_webhook;

/* Add a webhook; w->id gets its id. */
int cs_store_webhook_add(cs_store *store, cs_webhook *w,
	const cs_audit *audit);

/* Delete webhook `id` and its deliveries; CS_ENOTFOUND when there is
 * none. */
int cs_store_webhook_delete(cs_store *store, int64_t id,
	const cs_audit *audit);

/* Every webhook, by id: *out is an array of *n (free() it). */
int cs_store_webhook_list(cs_store *store, cs_webhook **out, size_t *n);

/* One delivery of an event to a webhook. */
typedef struct cs_delivery {
	int64_t id, webhook_id, audit_id;
	char event[32];
	char flag[CANARY__MAX_KEY_LEN + 1];
	char state[16];       /* "pending", "delivered", "failed" (gave up) */
	int64_t attempts;
	int64_t next_ms;      /* when a pending one is due */
	int64_t created_ms, updated_ms;
	int64_t last_status;  /* the receiver's HTTP status; 0: none */
	char last_error[256];
	char *payload;        /* the JSON document sent (owned) */
	/* cs_store_deliveries_due() only: where, and the key (owned). */
	char *url, *secret;
} cs_delivery;

void cs_deliveries_free(cs_delivery *d, size_t n);

/* The pending deliveries due at `now_ms`, oldest first, at most `limit`,
 * each with its webhook's URL and secret. */
int cs_store_deliveries_due(cs_store *store, int64_t now_ms, size_t limit,
	cs_delivery **out, size_t *n);

/* What one attempt did: `state` and `next_ms` as the sender decided. */
typedef struct cs_attempt {
	const char *state;    /* "pending" (retry at next_ms), "delivered",
	                         "failed" */
	int64_t next_ms;
	int64_t now_ms;
	int64_t status;       /* HTTP status, 0: none */
	const char *error;    /* "" when none */
} cs_attempt;

/* Record an attempt of delivery `id` (attempts + 1). */
int cs_store_delivery_attempt(cs_store *store, int64_t id,
	const cs_attempt *a);

/* The latest deliveries of webhook `webhook_id`, newest first, at most
 * `limit`, without their payloads. */
int cs_store_delivery_list(cs_store *store, int64_t webhook_id, size_t limit,
	cs_delivery **out, size_t *n);

/* ---- retention ------------------------------------------------------- */

/* What to forget; 0 keeps everything of that kind. */
typedef struct cs_retention {
	/* Batch ids received before this (a replay older than that would be
	 * counted again). */
	uint64_t batches_before_ms;
	/* Event windows that started before this: they leave every stats
	 * sum; the lifetime totals of /metrics keep them. */
	uint64_t windows_before_ms;
	/* Windows that started before this are closed (no batch lands in
	 * them any more): a backend that keeps a window in parts merges
	 * them into one, so reads of old windows read one row each. Changes
	 * no sum; not counted in `removed`. */
	uint64_t windows_settled_ms;
	/* Decisions of rollouts that ended (rolled back or completed) before
	 * this; the rollout rows stay. Whenever it is set, every rollout's
	 * history is also cut to its first CS_DECISIONS_HEAD and last
	 * CS_DECISIONS_TAIL records. */
	uint64_t decisions_before_ms;
	/* Windows that started before this lose their user-level evidence
	 * (it is only read for the recent windows of a step), and
	 * contributions not written since are deleted. Changes no count.
	 * The server keeps both for CS_SKETCH_RETENTION_MS. */
	uint64_t sketches_before_ms;
	/* Audit records made before this, and the webhook deliveries queued
	 * before it that are done (delivered or given up). */
	uint64_t audit_before_ms;
} cs_retention;

#define CS_DECISIONS_HEAD 100
#define CS_DECISIONS_TAIL 10000
#define CS_SKETCH_RETENTION_MS (24ull * 3600 * 1000)

/* Forget what `r` says; `removed` (optional) gets how many records. */
int cs_store_prune(cs_store *store, const cs_retention *r, uint64_t *removed);

/* ---- copying a whole store (canary-server migrate) -------------------- */

/* A remembered batch id, as cs_store_ingest() recorded it. */
typedef struct cs_batch_seen {
	const char *batch_id;
	const char *instance_id;
	uint64_t received_ms;
	uint64_t windows, dropped_batches, dropped_windows;
} cs_batch_seen;

/* A stored window as migrate copies it: the window (start_ms = end_ms =
 * its start; `users`: the merged sketches and figures of the batches that
 * carried them), and how much of its counts came with them. */
typedef struct cs_window_row {
	const canary__ev_window *w;
	uint64_t sketched_exposures, sketched_errors;
} cs_window_row;

/* An instance's contribution as migrate copies it: `w` holds the flag,
 * arm, config version, counts, latency and user-level evidence (of the
 * windows that carried it: sketched_exposures and sketched_errors). */
typedef struct cs_contribution_row {
	const canary__ev_window *w;
	uint64_t sketched_exposures, sketched_errors;
	const char *instance;        /* "" = the instances past the bound */
	uint64_t last_ms;
} cs_contribution_row;

/* An audit record as stored: its columns and its JSON text. */
typedef struct cs_audit_stored {
	int64_t id;
	int64_t time_ms;
	const char *actor, *action, *flag; /* flag "" when none */
	const char *segment;               /* "" when none */
	uint64_t config_version;
	const char *json;
	size_t len;
} cs_audit_stored;

/*
 * Every record of a store, one call each, in this order: the config
 * version, flags, batch ids, windows (one per stored window: its counts,
 * histogram, user-level evidence and custom metrics, start_ms = end_ms
 * = the window's start), lifetime totals, rollouts (id and revision
 * kept), contributions (after the rollouts: a store keeps those of flags
 * under a rollout), decisions (oldest first), tokens, segments, audit
 * records, webhooks, deliveries (ids kept). Arguments are borrowed for
 * the call; a non-zero return stops the copy and is returned.
 */
typedef struct cs_copy_sink {
	int (*version)(void *ctx, uint64_t version);
	int (*flag)(void *ctx, const canary__flag *flag);
	int (*batch)(void *ctx, const cs_batch_seen *batch);
	int (*window)(void *ctx, const cs_window_row *window);
	int (*total)(void *ctx, const char *flag, canary_arm arm,
		uint64_t exposures, uint64_t errors, uint64_t latency);
	int (*contribution)(void *ctx, const cs_contribution_row *c);
	int (*rollout)(void *ctx, const cs_rollout *rollout);
	int (*decision)(void *ctx, int64_t rollout_id, int64_t time_ms,
		const char *json, size_t len);
	int (*token)(void *ctx, const cs_token *token);
	int (*audit)(void *ctx, const cs_audit_stored *record);
	int (*webhook)(void *ctx, const cs_webhook *webhook);
	int (*delivery)(void *ctx, const cs_delivery *delivery);
	int (*segment)(void *ctx, const canary__segdef *segment);
	void *ctx;
} cs_copy_sink;

typedef struct cs_copy_counts {
	uint64_t flags, batches, windows, totals, rollouts, decisions;
	uint64_t contributions;
	uint64_t tokens, audit, webhooks, deliveries, segments;
} cs_copy_counts;

/*
 * Copy everything `from` holds (one snapshot of it) into `to`, which must
 * be empty (no flag, batch, window, rollout, token, segment, audit
 * record or webhook, config version 1), in one
 * transaction of `to`: all of it, or nothing. The config version becomes
 * the source's plus `skip_versions`, so an SDK that saw a later version
 * than the source holds (a backup restored) takes the next change. Not
 * published: the servers that open `to` publish it. CS_ECONFLICT when `to`
 * is not empty. `counts` (optional) gets what was copied.
 */
int cs_store_copy(cs_store *from, cs_store *to, uint64_t skip_versions,
	cs_copy_counts *counts);

#endif
