/*
 * store_sqlite.h - inside the SQLite backend (private to store_sqlite*.c;
 * the only header that names a SQLite type).
 *
 *   store_sqlite_backend.c   the backend table (storage_backend.h)
 *   store_sqlite.c           schema, migrations, every statement's SQL,
 *                            connections, transactions
 *   store_sqlite_flags.c     flags and the config version
 *   store_sqlite_ingest.c    event ingest, stats, series, totals,
 *                            pruning
 *   store_sqlite_rollouts.c  rollouts and their decisions
 *   store_sqlite_evidence.c  per-instance sums of the user-level
 *                            evidence, latency ever seen
 *   store_sqlite_audit.c     the audit log and queuing webhook deliveries
 *   store_sqlite_tokens.c    named API tokens
 *   store_sqlite_webhooks.c  webhooks and their deliveries
 *   store_sqlite_copy.c      the whole store out and in (migrate)
 *   hist_blob.c              latency histograms as BLOBs
 *   sketch_blob.c            sketches of units as BLOBs
 *
 * One write connection behind `write_lock` runs every write transaction
 * (BEGIN IMMEDIATE ... COMMIT). Reads take one of a few read-only
 * connections from a pool (`idle`, behind `read_lock`) and run in a
 * deferred transaction there: in WAL mode a reader sees the last commit,
 * one snapshot for the whole transaction, and never waits for the writer
 * nor it for them. A connection is used by one thread at a time
 * (SQLITE_OPEN_NOMUTEX): the write lock or the pool guarantees it.
 */
#ifndef CS_STORE_SQLITE_H
#define CS_STORE_SQLITE_H

#include <pthread.h>
#include <sqlite3.h>
#include <sys/types.h>

#include "store/records.h"
#include "store/storage_backend.h"

/* Every statement the backend runs, prepared once per connection. */
enum {
	S_BEGIN_WRITE, S_BEGIN_READ, S_COMMIT, S_ROLLBACK,
	S_VERSION_GET, S_VERSION_BUMP, S_VERSION_FLOOR, S_CONFIG_BYTES,
	S_HEALTH_PROBE,
	S_FLAG_GET, S_FLAGS_ALL, S_FLAG_UPSERT, S_FLAG_DELETE,
	S_SEGMENT_GET, S_SEGMENTS_ALL, S_SEGMENT_UPSERT, S_SEGMENT_DELETE,
	S_BATCH_INSERT, S_WIN_UPSERT, S_METRIC_UPSERT, S_TOTAL_UPSERT,
	S_STATS_WIN, S_SERIES_WIN, S_TOTALS, S_PRUNE_BATCHES, S_PRUNE_WINDOWS,
	S_PRUNE_METRICS,
	S_CONTRIB_NAMED, S_CONTRIB_UPSERT, S_CONTRIB_SIZES, S_CONTRIB_ROWS,
	S_LATENCY_SEEN,
	S_PRUNE_SKETCHES, S_PRUNE_CONTRIB,
	S_ROLLOUT_INSERT, S_ROLLOUT_UPDATE, S_DECISION_INSERT,
	S_ROLLOUT_LATEST, S_ROLLOUTS_ACTIVE, S_ROLLOUTS_LATEST_ALL,
	S_DECISIONS_COUNT, S_DECISIONS_LAST, S_DECISION_REPLACE,
	S_PRUNE_DECISIONS, S_CAP_DECISIONS, S_ROLLOUT_LIVE,
	S_METRIC_SUMS, S_PRUNE_AUDIT, S_PRUNE_DELIVERIES,
	S_AUDIT_INSERT, S_DELIVERY_ENQUEUE, S_AUDIT_LIST,
	S_TOKEN_INSERT, S_TOKEN_FIND, S_TOKEN_NAMED, S_TOKENS_ALL,
	S_TOKEN_DELETE,
	S_WEBHOOK_INSERT, S_WEBHOOK_GET, S_WEBHOOK_DELETE,
	S_WEBHOOK_DELIVERIES_DELETE, S_WEBHOOKS_ALL, S_DELIVERIES_DUE,
	S_DELIVERY_UPDATE, S_DELIVERIES_OF,
	S_COUNT
};

/* One connection and its statements (NULL: not run on this one). */
typedef struct cs_sqlite_conn {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
} cs_sqlite_conn;

struct cs_store_impl {
	cs_sqlite_conn w;             /* the write connection */
	pthread_mutex_t write_lock;
	cs_sqlite_conn *readers;      /* read-only connections */
	unsigned int nreaders;
	cs_sqlite_conn **idle;        /* the readers not in use (a stack) */
	unsigned int nidle;
	pthread_mutex_t read_lock;    /* guards idle, nidle */
	pthread_cond_t reader_free;
	int schema_version;
	uint64_t max_config_bytes;    /* cs_store_options' */
	/* Health. The file as opened: a file deleted or put in its place
	 * since is not the one written to, and its writes would be lost. */
	char *path;
	dev_t dev;
	ino_t ino;
	/* Under write_lock: why the last write failed for the database's
	 * own reasons ("" once one succeeds), and when writes last ended. */
	char write_error[160];
	uint64_t last_write_ms, last_probe_ms; /* monotonic */
	cs_unreadable unreadable;     /* flag rows config() skipped */
};

/* store_sqlite.c */
int cs_sqlite_open(struct cs_store_impl **out, const cs_store_options *o,
	char *err, size_t errlen);
void cs_sqlite_close(struct cs_store_impl *s);
int cs_sqlite_schema_version(struct cs_store_impl *s);

/* Run a statement that returns no rows; reset it either way. */
int cs_sqlite_done(sqlite3_stmt *st);
void cs_sqlite_reset(sqlite3_stmt *st);
uint64_t cs_sqlite_u64(sqlite3_stmt *st, int col);
/* A stored count: at most 2^53 - 1 (a database from before the counts
 * saturated may hold more, or a REAL). */
uint64_t cs_sqlite_count(sqlite3_stmt *st, int col);
const char *cs_sqlite_text(sqlite3_stmt *st, int col); /* "" for NULL */

/* Look one row up by a text key: `read` it into `out`, or return `absent`
 * when there is none. cs_sqlite_one() does the same on a statement the
 * caller bound. */
typedef int (*cs_sqlite_read_fn)(sqlite3_stmt *st, void *out);
int cs_sqlite_lookup(sqlite3_stmt *st, const char *key, int absent,
	cs_sqlite_read_fn read, void *out);
int cs_sqlite_one(sqlite3_stmt *st, int absent, cs_sqlite_read_fn read,
	void *out);

/*
 * A list: run read statement `which` on a read connection, bound by
 * `bind` (NULL: nothing to bind) with `arg`, reading each row with `row`
 * into a zeroed item of a growing array of `size`-byte items (`row` frees
 * what it took when it fails). On failure the items read are cleared
 * with `clear` (NULL: nothing to clear), the array freed, *n is 0.
 */
typedef void (*cs_sqlite_bind_fn)(sqlite3_stmt *st, const void *arg);
int cs_sqlite_collect(struct cs_store_impl *s, int which,
	cs_sqlite_bind_fn bind, const void *arg, cs_sqlite_read_fn row,
	size_t size, void (*clear)(void *item), void **out, size_t *n);

/* The write transaction: lock, BEGIN IMMEDIATE; then commit (or roll back
 * when rc says so) and unlock. Begin is CS_EUNAVAILABLE when the file was
 * deleted or replaced; the end records a failure of the database's own
 * (disk full, I/O error, corrupt) for health(), a success clears it. */
int cs_sqlite_write_begin(struct cs_store_impl *s);
int cs_sqlite_write_end(struct cs_store_impl *s, int rc);

/* A read transaction on a read connection; NULL when none could begin. */
cs_sqlite_conn *cs_sqlite_read_begin(struct cs_store_impl *s);
int cs_sqlite_read_end(struct cs_store_impl *s, cs_sqlite_conn *c, int rc);

/* Health (store_sqlite.c): the file, the last write, a probe. */
cs_health cs_sqlite_health(struct cs_store_impl *s, char *why,
	size_t whylen);

/* store_sqlite_flags.c */
int cs_sqlite_version(cs_sqlite_conn *c, uint64_t *out);
int cs_sqlite_version_floor(struct cs_store_impl *s, uint64_t floor,
	uint64_t *version);
/* Inside a config change, before the bump: CS_ETOOBIG when the config
 * would be over max_config_bytes, CS_ETOOMANY when a segment added makes
 * too many (cs_config_limits()). */
int cs_sqlite_size_ok(struct cs_store_impl *s, bool segment_added);
int cs_sqlite_config(struct cs_store_impl *s, canary__config **out);
int cs_sqlite_flag_get(struct cs_store_impl *s, const char *key,
	canary__flag *out);
int cs_sqlite_flag_put(struct cs_store_impl *s, const canary__flag *flag,
	cs_put_mode mode, const cs_audit *audit, bool *created,
	uint64_t *version);
int cs_sqlite_flag_modify(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, const cs_audit *audit, uint64_t *version);
int cs_sqlite_flag_delete(struct cs_store_impl *s, const char *key,
	const cs_audit *audit, uint64_t *version);
/* Inside a write transaction: modify one flag (`cur` and `next` get the
 * flag before and after; the caller clears both, whatever the result);
 * bump the version; write a flag as it is. */
int cs_sqlite_modify_in(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, canary__flag *cur, canary__flag *next);
int cs_sqlite_bump_in(struct cs_store_impl *s, uint64_t *version);
int cs_sqlite_write_flag(struct cs_store_impl *s, const canary__flag *f);
/* The tail of a config change in the write transaction: bump, record
 * `rec` (its config_version filled), commit; CS_EUNCHANGED rolls back
 * and reports the current version. */
int cs_sqlite_end_change(struct cs_store_impl *s, int rc, cs_audit_rec *rec,
	uint64_t *version);

/* store_sqlite_segments.c */
int cs_sqlite_segment_get(struct cs_store_impl *s, const char *name,
	canary__segdef *out);
int cs_sqlite_segment_list(struct cs_store_impl *s, canary__segdef **out,
	size_t *n);
int cs_sqlite_segment_put(struct cs_store_impl *s, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version);
int cs_sqlite_segment_delete(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version);
/* On connection `c` (in a transaction): every segment, by name. */
int cs_sqlite_segments_on(cs_sqlite_conn *c, canary__segdef **out,
	size_t *n);
/* Inside the write transaction: do the segments `f` names exist?
 * (CS_ENOSEGMENT when not.) */
int cs_sqlite_segments_exist(struct cs_store_impl *s, const canary__flag *f);
/* Inside the write transaction: write a segment as it is. */
int cs_sqlite_write_segment(struct cs_store_impl *s,
	const canary__segdef *seg);

/* store_sqlite_ingest.c */
int cs_sqlite_ingest(struct cs_store_impl *s, const canary__ev_batch *batch,
	uint64_t now_ms, uint64_t width_ms, bool *duplicate);
int cs_sqlite_stats(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS]);
int cs_sqlite_series(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
	void *ctx);
int cs_sqlite_totals(struct cs_store_impl *s, cs_totals_fn fn, void *ctx);
int cs_sqlite_metric_sums(struct cs_store_impl *s, const char *flag,
	const cs_stats_filter *f, cs_metric_sum **out, size_t *n);
/* Bind a stats filter as ?1..?5 (S_STATS_WIN's and its like). */
void cs_sqlite_bind_filter(sqlite3_stmt *st, const char *flag,
	const cs_stats_filter *f);
int cs_sqlite_prune(struct cs_store_impl *s, const cs_retention *r,
	uint64_t *removed);
/* Inside a write transaction: add one window's counts, histogram,
 * user-level evidence and metrics to the stored window `window_ms` (not
 * the totals, not the contributions). */
int cs_sqlite_count_window(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window_ms);
/* The same, saying how much of its counts came with its user-level
 * evidence (a stored window copied whole). */
int cs_sqlite_count_window_as(cs_sqlite_conn *c, const canary__ev_window *w,
	uint64_t window_ms, uint64_t sketched_exposures,
	uint64_t sketched_errors);
/* Bind ?1..?6 of the stats filter (S_STATS_WIN, S_SERIES_WIN). */
void cs_sqlite_bind_filter(sqlite3_stmt *st, const char *flag,
	const cs_stats_filter *f);

/* store_sqlite_evidence.c */
/* Inside a write transaction: does the flag have a rollout running or
 * paused? (Its windows are kept as contributions.) */
int cs_sqlite_rollout_live(cs_sqlite_conn *c, const char *flag, bool *live);
/* Inside a write transaction: add a window to its instance's
 * contribution (`last_ms` its window), with the part of its counts its
 * user-level evidence covers (0 and 0 for a v1 window), when the judge
 * can read it: the window has sketches or `live` (the flag is under a
 * rollout, cs_sqlite_rollout_live()); else nothing. */
int cs_sqlite_contribute(cs_sqlite_conn *c, const char *instance,
	const canary__ev_window *w, uint64_t last_ms,
	uint64_t sketched_exposures, uint64_t sketched_errors, bool live);
int cs_sqlite_contributions(struct cs_store_impl *s, const char *flag,
	uint64_t min_version, uint64_t max_version, cs_contributions *out);
int cs_sqlite_latency_seen(struct cs_store_impl *s, const char *flag,
	bool *seen);
/* A contribution row's columns from `col` on (exposures, errors,
 * latency_zero, latency, units, error_units, error_sq, errors_unmapped,
 * error_max, sketched_exposures, sketched_errors) added to `all` and to
 * `a` (NULL: not a top contributor). */
int cs_sqlite_add_contribution(sqlite3_stmt *st, int col, cs_arm_users *all,
	cs_arm_stats *a);
/* Bind the 7 user-level columns of a windows upsert from `first` on
 * (units, error_units, sketched_exposures, sketched_errors, error_sq,
 * errors_unmapped, error_max): NULL and 0 for a v1 window. */
void cs_sqlite_bind_users(sqlite3_stmt *st, int first,
	const canary__ev_window *w);

/* store_sqlite_rollouts.c */
int cs_sqlite_rollout_write(struct cs_store_impl *s,
	const cs_rollout_change *change, uint64_t *version);
int cs_sqlite_rollout_get(struct cs_store_impl *s, const char *flag,
	cs_rollout *out, cs_history *history);
int cs_sqlite_rollouts_each(struct cs_store_impl *s, cs_rollout_set set,
	cs_rollout_fn fn, void *ctx);
/* One row of ROLLOUT_COLS into a rollout; CANARY_ESTORAGE if corrupt. */
int cs_sqlite_rollout_row(sqlite3_stmt *st, void *out);
/* ?1..?11 of a new rollout row: flag, spec (its stored text, bound
 * static), state, step, step start, step version, reason, creation, pass
 * since, alert since, the previous step's version. */
void cs_sqlite_bind_rollout(sqlite3_stmt *st, const cs_rollout *r,
	const char *spec);

/* store_sqlite_audit.c */
/* Inside the write transaction: append the record `rec` describes (none
 * without rec->audit) and queue its deliveries. */
int cs_sqlite_audit_in(struct cs_store_impl *s, const cs_audit_rec *rec);
/* The same for a change that leaves the config alone: now, at the current
 * config version (it fills both in `rec`). */
int cs_sqlite_audit_now(struct cs_store_impl *s, cs_audit_rec *rec);
/* Inside the write transaction: may `cur` become `next` under the flag's
 * live rollout, if any? CS_EGUARDED (audit->guard filled) when not. */
int cs_sqlite_guard_in(struct cs_store_impl *s, const cs_audit *audit,
	const canary__flag *cur, const canary__flag *next);
int cs_sqlite_audit_note(struct cs_store_impl *s, const char *flag,
	const cs_audit *audit);
int cs_sqlite_audit_list(struct cs_store_impl *s, const cs_audit_query *q,
	cs_audit_row **out, size_t *n);

/* store_sqlite_tokens.c */
int cs_sqlite_token_add(struct cs_store_impl *s, const cs_token *t,
	const cs_audit *audit);
int cs_sqlite_token_find(struct cs_store_impl *s, const char *id,
	cs_token *out);
int cs_sqlite_token_list(struct cs_store_impl *s, cs_token **out, size_t *n);
int cs_sqlite_token_revoke(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, cs_token *revoked);
/* One row of TOKEN_COLS; ?1..?6 of S_TOKEN_INSERT. */
int cs_sqlite_token_row(sqlite3_stmt *st, void *out);
void cs_sqlite_bind_token(sqlite3_stmt *st, const cs_token *t);

/* store_sqlite_webhooks.c */
int cs_sqlite_webhook_add(struct cs_store_impl *s, cs_webhook *w,
	const cs_audit *audit);
int cs_sqlite_webhook_delete(struct cs_store_impl *s, int64_t id,
	const cs_audit *audit);
int cs_sqlite_webhook_list(struct cs_store_impl *s, cs_webhook **out,
	size_t *n);
int cs_sqlite_deliveries_due(struct cs_store_impl *s, int64_t now_ms,
	size_t limit, cs_delivery **out, size_t *n);
int cs_sqlite_delivery_attempt(struct cs_store_impl *s, int64_t id,
	const cs_attempt *a);
int cs_sqlite_delivery_list(struct cs_store_impl *s, int64_t webhook_id,
	size_t limit, cs_delivery **out, size_t *n);
/* One row of WEBHOOK_COLS; one of DELIVERY_COLS (with the payload in the
 * next column when `payload`). */
int cs_sqlite_webhook_row(sqlite3_stmt *st, void *out);
int cs_sqlite_delivery_row(sqlite3_stmt *st, cs_delivery *d, bool payload);

/* store_sqlite_copy.c */
int cs_sqlite_dump(struct cs_store_impl *s, const cs_copy_sink *to);
int cs_sqlite_load(struct cs_store_impl *s,
	int (*feed)(const cs_copy_sink *into, void *arg), void *arg,
	uint64_t skip_versions, cs_copy_counts *counts);

#endif
