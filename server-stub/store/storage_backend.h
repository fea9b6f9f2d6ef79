/*
 * storage_backend.h - what a storage engine implements: the operations of
 * storage.h as a table of functions that a backend fills, the way each of
 * curl's lib/vtls/ backends fills one TLS table.
 *
 * The front end (storage.c) picks a backend by its location, holds the
 * change hook and calls the table; nothing else in the server sees a
 * backend. SQLite (store_sqlite*.c) and PostgreSQL (store_pg*.c, built
 * when libpq is found) are the backends.
 *
 * Adding an engine:
 *   1. store_<engine>.h / store_<engine>*.c beside store_sqlite*.c, split
 *      by the same concerns (connections and schema; flags and versions;
 *      ingest and stats; rollouts and decisions; copying), defining its
 *      own struct cs_store_impl and a `const cs_store_backend` that fills
 *      every member below;
 *   2. list it in storage.c's `backends[]` before SQLite, whose accepts()
 *      takes any location without "://", with an accepts() of its own;
 *   3. the same tables and meanings as store_sqlite.c's migrations, with
 *      the stored text of flags, rollout specs and decisions made by
 *      records.h, so every engine stores the same records;
 *   4. its sources in server-stub/CMakeLists.txt (behind an option, with
 *      its client library), and tests/server run against it.
 *
 * What every member must guarantee:
 * - A write is one transaction: all of it commits, or none of it.
 * - A config change (flag_put, flag_modify, flag_delete, segment_put,
 *   segment_delete, rollout_write with `modify`) bumps the config
 *   version by exactly one in that transaction and reports the new
 *   version; before it commits, a config it would make larger than
 *   max_config_bytes (cs_config_bytes(), cs_config_segment_bytes()) is
 *   CS_ETOOBIG and nothing is written. A put or modify that leaves the
 *   flag's record as it was (cs_record_flag_same()) writes nothing,
 *   records nothing and reports the current version.
 * - A change given a cs_audit appends its audit record (records.h's
 *   cs_record_audit_write()) in that transaction, and a record with an
 *   event one delivery per webhook that wants it; flag_put and
 *   flag_modify given a guard refuse a guarded change under a live
 *   rollout of the flag (CS_EGUARDED), deciding inside the transaction.
 *   The backend never calls the change hook: the front end publishes
 *   after the write returns, and runs one config change at a time.
 * - Reads see committed data only, never wait for a write to commit, and
 *   a read of several parts (config: version and flags; a rollout and its
 *   history; stats over many windows) sees one snapshot.
 * - Any member may be called from any thread at any time; the backend
 *   does its own locking.
 * - Return codes are storage.h's: CANARY_OK, CANARY_ENOMEM,
 *   CANARY_ESTORAGE, the CS_E* codes, or a modify callback's own code.
 *   A database that cannot be reached is CS_EUNAVAILABLE, after the
 *   backend's own retries.
 * - A backend shared by several servers calls the watch function when
 *   another server may have changed the config (a notification, or its
 *   connection came back), from a thread of its own; the front end reads
 *   the config and publishes it if it is newer than what it published.
 * Each member's meaning is that of the cs_store_* function of the same
 * name in storage.h.
 */
#ifndef CS_STORAGE_BACKEND_H
#define CS_STORAGE_BACKEND_H

#include "segment.h"
#include "store/storage.h"

/* A backend's own state; each backend defines the struct. */
struct cs_store_impl;

typedef struct cs_store_backend {
	const char *name;  /* "sqlite" */

	/* Is `location` (--db) this backend's? */
	bool (*accepts)(const char *location);

	/* Open or create, migrate (refusing a newer schema), be ready for
	 * any thread. `err` gets a message on failure. */
	int (*open)(struct cs_store_impl **out, const cs_store_options *o,
		char *err, size_t errlen);
	void (*close)(struct cs_store_impl *s);
	int (*schema_version)(struct cs_store_impl *s);

	/* Flags and the config version. config() skips a flag row it
	 * cannot read (health() then says so); version_floor() is
	 * cs_store_version_floor() without the publishing. */
	int (*config)(struct cs_store_impl *s, canary__config **out);
	int (*version_floor)(struct cs_store_impl *s, uint64_t floor,
		uint64_t *version);
	int (*flag_get)(struct cs_store_impl *s, const char *key,
		canary__flag *out);
	int (*flag_put)(struct cs_store_impl *s, const canary__flag *flag,
		cs_put_mode mode, const cs_audit *audit, bool *created,
		uint64_t *version);
	int (*flag_modify)(struct cs_store_impl *s, const char *key,
		cs_modify_fn fn, void *ctx, const cs_audit *audit,
		uint64_t *version);
	int (*flag_delete)(struct cs_store_impl *s, const char *key,
		const cs_audit *audit, uint64_t *version);

	/* Named segments (segment_put and segment_delete are config
	 * changes, like flag_put; flag_put and flag_modify check that the
	 * segments a flag names exist, CS_ENOSEGMENT). config() fills
	 * config->segments with those its flags name
	 * (cs_segments_keep_used()). */
	int (*segment_get)(struct cs_store_impl *s, const char *name,
		canary__segdef *out);
	int (*segment_list)(struct cs_store_impl *s, canary__segdef **out,
		size_t *n);
	int (*segment_put)(struct cs_store_impl *s, const canary__segdef *seg,
		const cs_audit *audit, bool *created, uint64_t *version);
	int (*segment_delete)(struct cs_store_impl *s, const char *name,
		const cs_audit *audit, char *users, size_t userslen,
		uint64_t *version);

	/* Events: ingest idempotent by batch id, sums per arm, the series of
	 * windows, totals. */
	int (*ingest)(struct cs_store_impl *s, const canary__ev_batch *batch,
		uint64_t now_ms, uint64_t width_ms, bool *duplicate);
	int (*stats)(struct cs_store_impl *s, const char *flag,
		const cs_stats_filter *f, cs_arm_stats out[CANARY__ARMS]);
	/* `p` is the front end's, for the backend to fill and hand to fn:
	 * start each window with cs_series_point_reset(). */
	int (*series)(struct cs_store_impl *s, const char *flag,
		const cs_stats_filter *f, cs_series_point *p, cs_series_fn fn,
		void *ctx);
	int (*totals)(struct cs_store_impl *s, cs_totals_fn fn, void *ctx);
	/* out is zeroed by the front end (histograms initialised). */
	int (*contributions)(struct cs_store_impl *s, const char *flag,
		uint64_t min_version, uint64_t max_version,
		cs_contributions *out);
	int (*latency_seen)(struct cs_store_impl *s, const char *flag,
		bool *seen);
	int (*metric_sums)(struct cs_store_impl *s, const char *flag,
		const cs_stats_filter *f, cs_metric_sum **out, size_t *n);

	/* Rollouts and their decisions. */
	int (*rollout_write)(struct cs_store_impl *s,
		const cs_rollout_change *change, uint64_t *version);
	int (*rollout_get)(struct cs_store_impl *s, const char *flag,
		cs_rollout *out, cs_history *history);
	int (*rollouts_each)(struct cs_store_impl *s, cs_rollout_set set,
		cs_rollout_fn fn, void *ctx);

	/* The audit log: a note, and reading. (Every change member above
	 * appends its own record, with records.h's text, when given a
	 * cs_audit; a record with an event queues its deliveries.) */
	int (*audit_note)(struct cs_store_impl *s, const char *flag,
		const cs_audit *audit);
	int (*audit_list)(struct cs_store_impl *s, const cs_audit_query *q,
		cs_audit_row **out, size_t *n);

	/* Named tokens. */
	int (*token_add)(struct cs_store_impl *s, const cs_token *t,
		const cs_audit *audit);
	int (*token_find)(struct cs_store_impl *s, const char *id,
		cs_token *out);
	int (*token_list)(struct cs_store_impl *s, cs_token **out, size_t *n);
	int (*token_revoke)(struct cs_store_impl *s, const char *name,
		const cs_audit *audit, cs_token *revoked);

	/* Webhooks and deliveries. */
	int (*webhook_add)(struct cs_store_impl *s, cs_webhook *w,
		const cs_audit *audit);
	int (*webhook_delete)(struct cs_store_impl *s, int64_t id,
		const cs_audit *audit);
	int (*webhook_list)(struct cs_store_impl *s, cs_webhook **out,
		size_t *n);
	int (*deliveries_due)(struct cs_store_impl *s, int64_t now_ms,
		size_t limit, cs_delivery **out, size_t *n);
	int (*delivery_attempt)(struct cs_store_impl *s, int64_t id,
		const cs_attempt *a);
	int (*delivery_list)(struct cs_store_impl *s, int64_t webhook_id,
		size_t limit, cs_delivery **out, size_t *n);

	/* Retention. */
	int (*prune)(struct cs_store_impl *s, const cs_retention *r,
		uint64_t *removed);

	/* Health, and servers sharing the database: others' changes, the
	 * lease. watch() starts the calls of `fn` with the config version
	 * the database holds; a backend no other server can write never
	 * calls it. */
	cs_health (*health)(struct cs_store_impl *s, char *why, size_t whylen);
	int (*watch)(struct cs_store_impl *s,
		void (*fn)(uint64_t version, void *ctx), void *ctx);
	int (*lease)(struct cs_store_impl *s, cs_lease *lease);

	/* Copying: dump() feeds every record to `to` from one snapshot;
	 * load() opens one write transaction, checks the store is empty
	 * (CS_ECONFLICT), calls feed() with a sink that writes into it
	 * (adding `skip_versions` to the version it is given, counting into
	 * `counts`), then commits, or rolls back when feed() fails. */
	int (*dump)(struct cs_store_impl *s, const cs_copy_sink *to);
	int (*load)(struct cs_store_impl *s,
		int (*feed)(const cs_copy_sink *into, void *arg), void *arg,
		uint64_t skip_versions, cs_copy_counts *counts);
} cs_store_backend;

/* Inside a backend only: the change would leave the flag as it is. The
 * transaction is rolled back, the version stays, and the caller is told
 * CANARY_OK with the current version: no version without a change. */
#define CS_EUNCHANGED (-199)

/*
 * The size of the config /v1/flags would serve for `flags` stored bodies
 * of `body_bytes` bytes in all (the canonical JSON of records.h; the
 * config is them in an array, with the version around them), at the
 * largest version: what a backend compares with max_config_bytes before
 * it commits a config change (with cs_config_segment_bytes()).
 */
static inline uint64_t cs_config_bytes(uint64_t flags, uint64_t body_bytes)
{
	return sizeof("{\"version\":9007199254740991,\"flags\":[]}") - 1 +
		body_bytes + (flags ? flags - 1 : 0);
}
/*
 * For a backend's contributions member, one rule for every backend: given
 * each instance's exposures per arm (instance "" is the rest), name the
 * top contributors in out->top[] (their arms still empty), set ntop and
 * instances. Then each row goes to cs_contributions_arm()'s arms.
 */
typedef struct cs_contrib_size {
	const char *instance;
	uint64_t exposures[CANARY__ARMS];
} cs_contrib_size;

void cs_contributions_pick(const cs_contrib_size *sizes, size_t n,
	cs_contributions *out);

/* The arm of a top contributor a row of `instance` also adds to, or NULL
 * when it is not one. */
cs_arm_stats *cs_contributions_top(cs_contributions *c,
	const char *instance, canary_arm arm);

/* One stored part of an instance's contribution: all its windows'
 * counts, and the user-level evidence of those that carried it (the
 * sketches encoded; both empty: none, v1 windows only). */
typedef struct cs_contrib_part {
	uint64_t exposures, errors;
	uint64_t sketched_exposures, sketched_errors;
	const uint8_t *units, *error_units;
	size_t units_len, error_units_len;
	uint64_t error_sq, errors_unmapped, error_max;
} cs_contrib_part;

/* A part's counts and user-level evidence into the arm `a` (NULL: not a
 * top contributor), its evidence also into `all` (NULL: nowhere else).
 * The latency the caller adds. */
int cs_contributions_add(cs_arm_users *all, cs_arm_stats *a,
	const cs_contrib_part *p);

/* The latency samples a window carries (saturating; at most INT64_MAX,
 * what a backend's integer holds): the totals' "latency ever seen". */
static inline uint64_t cs_window_latency(const canary__ev_window *w)
{
	uint64_t n = w->latency_zero;
	size_t i;

	for (i = 0; i < w->nbins; i++)
		n = n + w->bins[i].count < n ? UINT64_MAX :
			n + w->bins[i].count;
	return n > INT64_MAX ? INT64_MAX : n;
}

/* A batch's windows ordered by (flag, arm, config_version) and, within a
 * key, as they came (their metrics' sums add up in the order sent): one
 * lock order for every backend, and runs of a flag or of a (flag, arm)
 * to handle once. *out is freed with free(). */
int cs_batch_order(const canary__ev_batch *b,
	const canary__ev_window ***out);

/* The run of one (flag, arm) in `order` from `from` on: its windows'
 * totals (saturating at CANARY__MAX_COUNT, as a stored total does), and
 * where the next run starts. */
size_t cs_batch_totals(const canary__ev_window *const *order, size_t n,
	size_t from, uint64_t *exposures, uint64_t *errors, uint64_t *latency);

/* What `segments` stored segments of `seg_bytes` bytes in all add to it
 * at most (the config carries those its flags name, in a "segments"
 * array after the flags): counting them all errs on the safe side. */
static inline uint64_t cs_config_segment_bytes(uint64_t segments,
	uint64_t seg_bytes)
{
	if (!segments)
		return 0;
	return sizeof(",\"segments\":[]") - 1 + seg_bytes + segments - 1;
}

/*
 * What a backend checks before it commits a config change, from what it
 * stores (flags and segments, their counts and bytes): CS_ETOOBIG when
 * the config would be over `max_bytes` (0: no limit); and, when the change
 * adds a segment (`segment_added`), CS_ETOOMANY when there would be more
 * than an SDK takes in one config: it refuses such a config whole, so
 * every flag would stay as it is on every client. All stored segments
 * count, named or not (the safe side); only an addition is refused, so a
 * store already over can still be repaired by any other change.
 */
/* Does a change need cs_config_limits() (and the counts it takes) at all?
 * Not without a size limit when it adds no segment: a backend then skips
 * the query. */
static inline bool cs_config_limits_apply(uint64_t max_bytes,
	bool segment_added)
{
	return max_bytes || segment_added;
}

static inline int cs_config_limits(uint64_t max_bytes, uint64_t flags,
	uint64_t flag_bytes, uint64_t segments, uint64_t seg_bytes,
	bool segment_added)
{
	if (segment_added && segments > CANARY__MAX_SEGMENTS)
		return CS_ETOOMANY;
	if (max_bytes && cs_config_bytes(flags, flag_bytes) +
	    cs_config_segment_bytes(segments, seg_bytes) > max_bytes)
		return CS_ETOOBIG;
	return CANARY_OK;
}

/* Empty both arms of a series point for the window starting at
 * `window_ms` (for a backend's series member). */
static inline void cs_series_point_reset(cs_series_point *p,
	uint64_t window_ms)
{
	int a;

	for (a = 0; a < CANARY__ARMS; a++) {
		p->arm[a].exposures = 0;
		p->arm[a].errors = 0;
		p->arm[a].windows = 0;
		p->arm[a].first_ms = p->arm[a].last_ms = 0;
		canary__hist_init(&p->arm[a].latency);
	}
	p->window_ms = window_ms;
}

/* The backends built in (storage.c lists them in the order tried). */
extern const cs_store_backend cs_store_sqlite; /* store_sqlite_backend.c */
#ifdef CS_WITH_POSTGRES
extern const cs_store_backend cs_store_pg;     /* store_pg_backend.c */
#endif

#endif
