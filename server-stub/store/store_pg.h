/*
 * store_pg.h - inside the PostgreSQL backend (private to store_pg*.c; the
 * only header that names a libpq type).
 *
 *   store_pg_backend.c   the backend table (storage_backend.h)
 *   store_pg.c           schema, migrations, every statement's SQL,
 *                        opening and closing
 *   store_pg_pool.c      connections, statements, transactions, retries
 *   store_pg_watch.c     other servers' changes (LISTEN/NOTIFY) and health
 *   store_pg_flags.c     flags and the config version
 *   store_pg_ingest.c    event ingest, stats, totals, pruning
 *   store_pg_rollouts.c  rollouts, their decisions, the controller lease
 *   store_pg_audit.c     the audit log and queuing webhook deliveries
 *   store_pg_tokens.c    named API tokens
 *   store_pg_webhooks.c  webhooks and their deliveries
 *   store_pg_copy.c      the whole store out and in (migrate)
 *
 * Every operation is one transaction run by cs_pg_transact() on a
 * connection of a small pool: reads in REPEATABLE READ READ ONLY (one
 * snapshot), writes in READ COMMITTED with the rows they change locked.
 * Config changes first lock the version row in `meta`, so they run one
 * at a time across every server sharing the database and the version
 * goes up by exactly one per change. A transaction that failed because
 * the connection was lost, or on a deadlock or serialization failure, is
 * run again on a fresh connection (not after a lost COMMIT, unless it is
 * idempotent: the commit may have happened).
 */
#ifndef CS_STORE_PG_H
#define CS_STORE_PG_H

#include <libpq-fe.h>
#include <pthread.h>
#include <stdatomic.h>

#include "store/records.h"
#include "store/storage_backend.h"

/* Outcomes of a statement that never leave the backend. */
#define CS_PG_ELOST (-200)   /* the connection failed or the server is
                                going away: run again elsewhere */
#define CS_PG_ERETRY (-201)  /* deadlock or serialization failure */
#define CS_PG_EUNIQUE (-202) /* a unique constraint refused the row */

/* Windows and totals are kept in parts ("shards") chosen by the SDK
 * instance, so that instances reporting the same flag at once do not
 * queue on one row; reads add the parts up. */
#define CS_PG_SHARDS 16

/* Every statement the backend runs, prepared on each connection. */
enum {
	P_BEGIN_WRITE, P_BEGIN_READ, P_COMMIT, P_ROLLBACK,
	P_VERSION_GET, P_VERSION_LOCK, P_VERSION_BUMP, P_VERSION_FLOOR,
	P_CONFIG_BYTES, P_NOTIFY,
	P_FLAG_GET, P_FLAGS_ALL, P_FLAG_UPSERT, P_FLAG_DELETE,
	P_SEGMENT_GET, P_SEGMENTS_ALL, P_SEGMENT_UPSERT, P_SEGMENT_DELETE,
	P_BATCH_INSERT, P_WIN_UPSERT, P_METRIC_UPSERT, P_TOTAL_UPSERT,
	P_EVIDENCE_INSERT, P_EVIDENCE_WINDOWS, P_CONTRIB_SIZES, P_CONTRIB_ROWS,
	P_LATENCY_SEEN, P_PRUNE_EVIDENCE, P_DUMP_EVIDENCE, P_EVIDENCE_SETTLE,
	P_EVIDENCE_TAKE,
	P_STATS_SUMS, P_STATS_HIST, P_SERIES, P_TOTALS,
	P_PRUNE_BATCHES, P_PRUNE_WINDOWS, P_PRUNE_METRICS,
	P_COMPACT_WINDOWS, P_COMPACT_METRICS,
	P_ROLLOUT_INSERT, P_ROLLOUT_UPDATE, P_DECISION_INSERT,
	P_ROLLOUT_LATEST, P_ROLLOUTS_ACTIVE, P_ROLLOUTS_LATEST_ALL,
	P_DECISIONS_COUNT, P_DECISIONS_LAST, P_DECISION_REPLACE,
	P_PRUNE_DECISIONS, P_CAP_DECISIONS,
	P_LEASE_TAKE, P_LEASE_CHECK,
	P_DUMP_BATCHES, P_DUMP_WINDOWS, P_DUMP_ROLLOUTS, P_DUMP_DECISIONS,
	P_LOAD_EMPTY, P_LOAD_VERSION, P_LOAD_ROLLOUT, P_LOAD_SEQUENCE,
	P_ROLLOUT_LIVE, P_METRIC_SUMS, P_PRUNE_AUDIT, P_PRUNE_DELIVERIES,
	P_AUDIT_INSERT, P_DELIVERY_ENQUEUE, P_AUDIT_LIST,
	P_TOKEN_INSERT, P_TOKEN_FIND, P_TOKEN_NAMED, P_TOKENS_ALL,
	P_TOKEN_DELETE,
	P_WEBHOOK_INSERT, P_WEBHOOK_GET, P_WEBHOOK_DELETE,
	P_WEBHOOK_DELIVERIES_DELETE, P_WEBHOOKS_ALL, P_DELIVERIES_DUE,
	P_DELIVERY_UPDATE, P_DELIVERIES_OF,
	P_DUMP_AUDIT, P_DUMP_DELIVERIES, P_LOAD_AUDIT, P_LOAD_WEBHOOK,
	P_LOAD_DELIVERY,
	P_COUNT
};

/* store_pg.c: the SQL of statement `which`. */
const char *cs_pg_sql(int which);

/* One pooled connection: `db` NULL or unusable until (re)connected. */
typedef struct cs_pg_conn {
	PGconn *db;
	bool ready;          /* connected, statements prepared */
	char state[6];       /* SQLSTATE of the last failed statement */
} cs_pg_conn;

struct cs_pg_watch;

struct cs_store_impl {
	char *location;              /* as given; never logged (a password
	                                may be in it) */
	char where[256];             /* the same, fit for a log line */
	cs_pg_conn *conns;
	unsigned int nconns;
	cs_pg_conn **idle;           /* not in use (a stack) */
	unsigned int nidle;
	pthread_mutex_t lock;        /* guards idle, nidle */
	pthread_cond_t freed;
	atomic_bool down;            /* the last attempt found it unreachable */
	char write_error[160];       /* under lock: why the last write failed
	                                for the database's own reasons (disk
	                                full, I/O, corrupt); "" once one
	                                succeeds */
	uint64_t max_config_bytes;   /* cs_store_options' */
	cs_unreadable unreadable;    /* flag rows config() skipped */
	atomic_uint_least64_t said_down_ms; /* when we last logged so */
	int schema_version;
	struct cs_pg_watch *watch;
};

/* ---- store_pg_pool.c ------------------------------------------------- */

/* Connect to `location` with the server's defaults (timeouts, keepalives,
 * UTF-8) under what the location and libpq's environment say. */
PGconn *cs_pg_connect(const char *location);

/* Open the pool (no connection yet) and close it. */
int cs_pg_pool_open(struct cs_store_impl *s, unsigned int size);
void cs_pg_pool_close(struct cs_store_impl *s);

/* Parameters of one statement, in text form. */
#define CS_PG_MAX_PARAMS 20
typedef struct cs_pg_params {
	const char *v[CS_PG_MAX_PARAMS];
	char num[CS_PG_MAX_PARAMS][32];
	int n;
} cs_pg_params;

void cs_pg_params_init(cs_pg_params *p);
void cs_pg_text(cs_pg_params *p, const char *s); /* NULL: SQL NULL */
void cs_pg_int(cs_pg_params *p, int64_t v);
void cs_pg_uint(cs_pg_params *p, uint64_t v);   /* clamped to int64 */
void cs_pg_double(cs_pg_params *p, double v);

/*
 * Run prepared statement `which`. `res` (optional) gets its result
 * (PQclear it); `changed` (optional) the rows it changed.
 * Returns CANARY_OK, CS_PG_ELOST, CS_PG_ERETRY, CS_PG_EUNIQUE or
 * CANARY_ESTORAGE.
 */
int cs_pg_exec(cs_pg_conn *c, int which, const cs_pg_params *p,
	PGresult **res, uint64_t *changed);

/*
 * Statements sent without waiting for each one's answer (libpq's pipeline
 * mode): cs_pg_pipe_begin(), cs_pg_send() for each, cs_pg_pipe_end() to
 * read every answer. The first failure is what cs_pg_pipe_end() returns
 * (the statements after it were not run); results carry no rows.
 */
int cs_pg_pipe_begin(cs_pg_conn *c);
int cs_pg_send(cs_pg_conn *c, int which, const cs_pg_params *p);
int cs_pg_pipe_end(cs_pg_conn *c, int sent);

/* Run `which` and hand each row to `fn` as it arrives (single-row mode:
 * a large result is never held whole). A non-zero return stops. */
typedef int (*cs_pg_row_fn)(const PGresult *res, void *ctx);
int cs_pg_rows(cs_pg_conn *c, int which, const cs_pg_params *p,
	cs_pg_row_fn fn, void *ctx);

/*
 * A list: run `which` with `p` in a read transaction, reading each row
 * with `row` into a zeroed item of a growing array of `size`-byte items
 * (`row` frees what it took when it fails). A retry, or a failure, clears
 * the items read with `clear` (NULL: nothing to clear); on failure the
 * array is freed and *n is 0.
 */
typedef int (*cs_pg_item_fn)(const PGresult *r, void *item);
int cs_pg_collect(struct cs_store_impl *s, int which, const cs_pg_params *p,
	cs_pg_item_fn row, size_t size, void (*clear)(void *item), void **out,
	size_t *n);

/* Column `col` of row 0 as a number ("" or NULL: 0; negatives: 0). */
uint64_t cs_pg_u64(const PGresult *r, int col);
int64_t cs_pg_i64(const PGresult *r, int col);
const char *cs_pg_str(const PGresult *r, int col); /* "" for NULL */

/*
 * Run `fn` in a transaction and commit; run it again on a fresh
 * connection after a lost connection, a deadlock or a serialization
 * failure, for a few seconds. `fn` must start from its inputs each time.
 * A lost COMMIT is run again only with CS_PG_IDEMPOTENT. A database
 * that stays unreachable is CS_EUNAVAILABLE.
 */
enum {
	CS_PG_WRITE = 0,
	CS_PG_READ = 1,        /* one snapshot, read only */
	CS_PG_IDEMPOTENT = 2,  /* may run again after a lost COMMIT */
	CS_PG_NO_RETRY = 4     /* once only: it feeds a caller as it goes */
};
typedef int (*cs_pg_work_fn)(cs_pg_conn *c, void *ctx);
int cs_pg_transact(struct cs_store_impl *s, int flags, cs_pg_work_fn fn,
	void *ctx);

/* Prepare every statement on a fresh connection. */
int cs_pg_prepare_all(PGconn *db);

/* Record that the database was (un)reachable, logging the change. */
void cs_pg_note_reachable(struct cs_store_impl *s, bool reachable);

/* ---- store_pg_watch.c ------------------------------------------------ */

/* The channel config changes are announced on (payload: the version). */
#define CS_PG_CHANNEL "canary_config"

int cs_pg_watch_start(struct cs_store_impl *s,
	void (*fn)(uint64_t version, void *ctx), void *ctx);
void cs_pg_watch_stop(struct cs_store_impl *s);
cs_health cs_pg_health(struct cs_store_impl *s, char *why, size_t whylen);

/* ---- store_pg.c ------------------------------------------------------ */

int cs_pg_open(struct cs_store_impl **out, const cs_store_options *o,
	char *err, size_t errlen);
void cs_pg_close(struct cs_store_impl *s);
int cs_pg_schema_version(struct cs_store_impl *s);

/* ---- store_pg_flags.c ------------------------------------------------ */

int cs_pg_config(struct cs_store_impl *s, canary__config **out);
int cs_pg_flag_get(struct cs_store_impl *s, const char *key,
	canary__flag *out);
int cs_pg_flag_put(struct cs_store_impl *s, const canary__flag *flag,
	cs_put_mode mode, const cs_audit *audit, bool *created,
	uint64_t *version);
int cs_pg_flag_modify(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, const cs_audit *audit, uint64_t *version);
int cs_pg_flag_delete(struct cs_store_impl *s, const char *key,
	const cs_audit *audit, uint64_t *version);
/* Inside a write transaction: lock the version (first, before anything a
 * config change touches); modify one flag (`cur` and `next` get the flag
 * before and after; the caller clears both, whatever the result); write
 * one; bump the version and announce it at commit. */
int cs_pg_lock_version(cs_pg_conn *c);
int cs_pg_version_floor(struct cs_store_impl *s, uint64_t floor,
	uint64_t *version);
/* Inside a config change, before the bump: CS_ETOOBIG when the config
 * would be over `max` bytes (0: no limit), CS_ETOOMANY when a segment
 * added makes too many (cs_config_limits()). */
int cs_pg_size_ok(cs_pg_conn *c, uint64_t max, bool segment_added);
int cs_pg_modify_in(cs_pg_conn *c, const char *key, cs_modify_fn fn,
	void *ctx, canary__flag *cur, canary__flag *next);
int cs_pg_write_flag(cs_pg_conn *c, const canary__flag *f);
int cs_pg_bump_in(cs_pg_conn *c, uint64_t *version);
/* Run config change `fn` (a write transaction) with `ctx`, whose version
 * it made is *made; a change that changed nothing (CS_EUNCHANGED) reads
 * the current one into *made. *version (optional) gets it, 0 on
 * failure. */
int cs_pg_run_change(struct cs_store_impl *s, cs_pg_work_fn fn, void *ctx,
	uint64_t *made, uint64_t *version);
int cs_pg_version(cs_pg_conn *c, uint64_t *out);

/* ---- store_pg_segments.c --------------------------------------------- */

int cs_pg_segment_get(struct cs_store_impl *s, const char *name,
	canary__segdef *out);
int cs_pg_segment_list(struct cs_store_impl *s, canary__segdef **out,
	size_t *n);
int cs_pg_segment_put(struct cs_store_impl *s, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version);
int cs_pg_segment_delete(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version);
/* In a transaction on `c`: every segment, by name. */
int cs_pg_segments_on(cs_pg_conn *c, canary__segdef **out, size_t *n);
/* Inside a write transaction: do the segments `f` names exist?
 * (CS_ENOSEGMENT when not.) */
int cs_pg_segments_exist(cs_pg_conn *c, const canary__flag *f);
/* A segment as stored, for a copy's load. */
int cs_pg_write_segment(cs_pg_conn *c, const canary__segdef *seg);

/* ---- store_pg_ingest.c ----------------------------------------------- */

int cs_pg_ingest(struct cs_store_impl *s, const canary__ev_batch *batch,
	uint64_t now_ms, uint64_t width_ms, bool *duplicate);
int cs_pg_series(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
	void *ctx);
int cs_pg_stats(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS]);
int cs_pg_totals(struct cs_store_impl *s, cs_totals_fn fn, void *ctx);
int cs_pg_metric_sums(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n);
/* $1..$5 of a stats filter (P_STATS_SUMS's and its like). */
void cs_pg_filter_params(cs_pg_params *p, const char *flag,
	const cs_stats_filter *f);
int cs_pg_prune(struct cs_store_impl *s, const cs_retention *r,
	uint64_t *removed);
/* Inside a write transaction: add one window (counts, histogram,
 * metrics) to part `shard` of window `window_ms`; add to the totals. With
 * `sent`, the statements go into the open pipeline, counted there. */
int cs_pg_count_window(cs_pg_conn *c, const canary__ev_window *w, uint64_t window_ms,
	int shard, int *sent);
int cs_pg_add_total(cs_pg_conn *c, const char *flag, canary_arm arm, int shard,
	uint64_t exposures, uint64_t errors, uint64_t latency, int *sent);

/* ---- store_pg_evidence.c --------------------------------------------- */

/* Inside a write transaction: one row of evidence, `w`'s counts and
 * latency and (has_users) sketches covering sketched_exposures and
 * sketched_errors of them, at window `window_ms` (0: an instance's whole
 * contribution) of `instance` (NULL: a window's whole evidence), last
 * written at `last_ms`. */
typedef struct cs_pg_evidence_key {
	uint64_t window_ms;
	const char *instance;
	uint64_t last_ms;
	uint64_t sketched_exposures, sketched_errors;
} cs_pg_evidence_key;
int cs_pg_add_evidence(cs_pg_conn *c, const canary__ev_window *w,
	const cs_pg_evidence_key *k, int *sent);
/* Merge the rows of windows closed before `before_ms` (see migration
 * 4). */
int cs_pg_settle_evidence(cs_pg_conn *c, uint64_t before_ms);
/* The user-level evidence of the windows `f` selects into out[arm].users. */
int cs_pg_stats_users(cs_pg_conn *c, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS]);
int cs_pg_contributions(struct cs_store_impl *s, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out);
int cs_pg_latency_seen(struct cs_store_impl *s, const char *flag,
	bool *seen);
/* The rows of P_DUMP_EVIDENCE to the sink as contributions. */
int cs_pg_dump_evidence(cs_pg_conn *c, const cs_copy_sink *to);
/* store_pg_copy.c: a dumped row's window: flag, arm, config version in
 * columns 0..2, exposures, errors, latency_zero from `counts` on. */
void cs_pg_window_head(const PGresult *r, int counts, uint64_t start_ms,
	canary__ev_window *w);
/* A bytea column (hex text) decoded into a malloc'd buffer. */
int cs_pg_bytea(const PGresult *r, int col, uint8_t **out, size_t *len);
/* The histogram in columns `ci` (indices) and `cc` (counts) into w's
 * bins (malloc'd). */
int cs_pg_read_bins(const PGresult *r, int ci, int cc,
	canary__ev_window *w);

/* ---- store_pg_rollouts.c --------------------------------------------- */

int cs_pg_rollout_write(struct cs_store_impl *s,
	const cs_rollout_change *change, uint64_t *version);
int cs_pg_rollout_get(struct cs_store_impl *s, const char *flag,
	cs_rollout *out, cs_history *history);
int cs_pg_rollouts_each(struct cs_store_impl *s, cs_rollout_set set,
	cs_rollout_fn fn, void *ctx);
int cs_pg_lease(struct cs_store_impl *s, cs_lease *lease);
/* A row of the rollout columns into a rollout; CANARY_ESTORAGE if
 * corrupt. */
int cs_pg_rollout_row(const PGresult *res, cs_rollout *out);
/* $1..$11 of a new rollout row: flag, spec (its stored text), state,
 * step, step start, step version, reason, creation time, pass since,
 * alert since, the previous step's version. */
void cs_pg_rollout_params(cs_pg_params *p, const cs_rollout *r,
	const char *spec);

/* ---- store_pg_audit.c ------------------------------------------------ */

/* Inside a write transaction: append the record `rec` describes (none
 * without rec->audit) and queue its deliveries. */
int cs_pg_audit_in(cs_pg_conn *c, const cs_audit_rec *rec);
/* The same for a change that leaves the config alone: now, at the current
 * config version (it fills both in `rec`). */
int cs_pg_audit_now(cs_pg_conn *c, cs_audit_rec *rec);
/* Inside a write transaction (after the version lock): may `cur` become
 * `next` under the flag's live rollout, if any? CS_EGUARDED (audit->guard
 * filled) when not. */
int cs_pg_guard_in(cs_pg_conn *c, const cs_audit *audit,
	const canary__flag *cur, const canary__flag *next);
int cs_pg_audit_note(struct cs_store_impl *s, const char *flag,
	const cs_audit *audit);
int cs_pg_audit_list(struct cs_store_impl *s, const cs_audit_query *q,
	cs_audit_row **out, size_t *n);
/* Copy column `col` of row 0 into dst (truncated to cap). */
void cs_pg_copy(char *dst, size_t cap, const PGresult *r, int col);

/* ---- store_pg_tokens.c ----------------------------------------------- */

int cs_pg_token_add(struct cs_store_impl *s, const cs_token *t,
	const cs_audit *audit);
int cs_pg_token_find(struct cs_store_impl *s, const char *id, cs_token *out);
int cs_pg_token_list(struct cs_store_impl *s, cs_token **out, size_t *n);
int cs_pg_token_revoke(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, cs_token *revoked);
/* A row of TOKEN_COLS (a cs_pg_item_fn); the parameters of
 * P_TOKEN_INSERT. */
int cs_pg_token_row(const PGresult *r, void *out);
void cs_pg_token_params(cs_pg_params *p, const cs_token *t);

/* ---- store_pg_webhooks.c --------------------------------------------- */

int cs_pg_webhook_add(struct cs_store_impl *s, cs_webhook *w,
	const cs_audit *audit);
int cs_pg_webhook_delete(struct cs_store_impl *s, int64_t id,
	const cs_audit *audit);
int cs_pg_webhook_list(struct cs_store_impl *s, cs_webhook **out, size_t *n);
int cs_pg_deliveries_due(struct cs_store_impl *s, int64_t now_ms,
	size_t limit, cs_delivery **out, size_t *n);
int cs_pg_delivery_attempt(struct cs_store_impl *s, int64_t id,
	const cs_attempt *a);
int cs_pg_delivery_list(struct cs_store_impl *s, int64_t webhook_id,
	size_t limit, cs_delivery **out, size_t *n);
/* A row of WEBHOOK_COLS; of DELIVERY_COLS (the payload in the next column
 * when `payload`). */
int cs_pg_webhook_row(const PGresult *r, void *out);
int cs_pg_delivery_row(const PGresult *r, cs_delivery *d, bool payload);

/* ---- store_pg_copy.c ------------------------------------------------- */

int cs_pg_dump(struct cs_store_impl *s, const cs_copy_sink *to);
int cs_pg_load(struct cs_store_impl *s,
	int (*feed)(const cs_copy_sink *into, void *arg), void *arg,
	uint64_t skip_versions, cs_copy_counts *counts);

/* Text arrays: "{1,2,3}" for a statement, and back. */
char *cs_pg_array_bins(const canary__hist_entry *bins, size_t n, bool counts);
/* The next element of a text array at *p (advanced); copies it into
 * out (NUL-terminated, truncated to cap). 0, or -1 at the end or on a
 * malformed array. */
int cs_pg_array_next(const char **p, char *out, size_t cap);

#endif
