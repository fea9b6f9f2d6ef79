/*
 * store_sqlite.c - the SQLite backend's schema and migrations, the SQL of
 * every statement, its connections (one writer, a pool of readers) and
 * transactions.
 *
 * WAL mode, so readers never block the writer nor it them. A 202 for an
 * event batch is sent only after COMMIT returns; with synchronous=FULL the
 * WAL is fsynced on each commit, so an acknowledged batch survives kill -9
 * and power loss alike (NORMAL would survive only the former). Batches are
 * ~1 per instance per flush interval, so one fsync per batch is cheap.
 */
#include "store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "saturate.h"
#include "store/hist_blob.h"
#include "store/sketch_blob.h"

/* PRAGMA application_id of canary-server's databases ("CNRY"), so that
 * a file another program wrote is never taken for one. */
#define APPLICATION_ID 0x434e5259

/*
 * Schema migrations, applied in order inside one transaction each. Never
 * edit an entry once released: append a new one. Constant DDL only.
 */
static const char *const migrations[] = {
	/* 1: flags, config version, ingested windows, idempotency keys. */
	"CREATE TABLE meta(key TEXT PRIMARY KEY, value INTEGER NOT NULL);"
	"INSERT INTO meta(key, value) VALUES('config_version', 1);"
	"CREATE TABLE flags(key TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);"
	"CREATE TABLE batches(batch_id TEXT PRIMARY KEY,"
	"  instance_id TEXT NOT NULL, received_ms INTEGER NOT NULL,"
	"  windows INTEGER NOT NULL, dropped_batches INTEGER NOT NULL,"
	"  dropped_windows INTEGER NOT NULL);"
	"CREATE INDEX batches_received ON batches(received_ms);"
	"CREATE TABLE windows(flag TEXT NOT NULL, arm INTEGER NOT NULL,"
	"  config_version INTEGER NOT NULL, window_ms INTEGER NOT NULL,"
	"  exposures INTEGER NOT NULL, errors INTEGER NOT NULL,"
	"  latency_zero INTEGER NOT NULL, latency BLOB,"
	"  PRIMARY KEY(flag, arm, config_version, window_ms)) WITHOUT ROWID;"
	"CREATE TABLE metrics(flag TEXT NOT NULL, arm INTEGER NOT NULL,"
	"  config_version INTEGER NOT NULL, window_ms INTEGER NOT NULL,"
	"  name TEXT NOT NULL, count INTEGER NOT NULL, sum REAL NOT NULL,"
	"  PRIMARY KEY(flag, arm, config_version, window_ms, name))"
	"  WITHOUT ROWID;"
	"CREATE TABLE totals(flag TEXT NOT NULL, arm INTEGER NOT NULL,"
	"  exposures INTEGER NOT NULL, errors INTEGER NOT NULL,"
	"  PRIMARY KEY(flag, arm)) WITHOUT ROWID;",
	/* 2: rollouts and their decision history. The partial unique index
	 * is the "one active rollout per flag" rule. */
	"CREATE TABLE rollouts(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  flag TEXT NOT NULL, spec TEXT NOT NULL, state TEXT NOT NULL,"
	"  step INTEGER NOT NULL, step_start_ms INTEGER NOT NULL,"
	"  step_version INTEGER NOT NULL, reason TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL,"
	"  rev INTEGER NOT NULL);"
	"CREATE UNIQUE INDEX rollouts_active ON rollouts(flag)"
	"  WHERE state IN ('running', 'paused');"
	"CREATE INDEX rollouts_flag ON rollouts(flag, id);"
	"CREATE TABLE decisions(id INTEGER PRIMARY KEY,"
	"  rollout_id INTEGER NOT NULL, time_ms INTEGER NOT NULL,"
	"  body TEXT NOT NULL);"
	"CREATE INDEX decisions_rollout ON decisions(rollout_id, id);",
	/* 3: named tokens (only a hash of each secret), the audit log,
	 * webhooks and the queue of their deliveries. */
	"CREATE TABLE tokens(name TEXT PRIMARY KEY, id TEXT NOT NULL UNIQUE,"
	"  hash TEXT NOT NULL, role TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL, created_by TEXT NOT NULL);"
	"CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  time_ms INTEGER NOT NULL, actor TEXT NOT NULL,"
	"  action TEXT NOT NULL, flag TEXT NOT NULL,"
	"  config_version INTEGER NOT NULL, body TEXT NOT NULL);"
	"CREATE INDEX audit_flag ON audit(flag, id);"
	"CREATE INDEX audit_actor ON audit(actor, id);"
	"CREATE INDEX audit_time ON audit(time_ms);"
	"CREATE TABLE webhooks(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  url TEXT NOT NULL, secret TEXT NOT NULL, events TEXT NOT NULL,"
	"  created_ms INTEGER NOT NULL, created_by TEXT NOT NULL);"
	"CREATE TABLE deliveries(id INTEGER PRIMARY KEY AUTOINCREMENT,"
	"  webhook_id INTEGER NOT NULL, audit_id INTEGER NOT NULL,"
	"  event TEXT NOT NULL, flag TEXT NOT NULL, payload TEXT NOT NULL,"
	"  state TEXT NOT NULL, attempts INTEGER NOT NULL,"
	"  next_ms INTEGER NOT NULL, created_ms INTEGER NOT NULL,"
	"  updated_ms INTEGER NOT NULL, last_status INTEGER NOT NULL,"
	"  last_error TEXT NOT NULL);"
	"CREATE INDEX deliveries_due ON deliveries(state, next_ms);"
	"CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);",
	/* 4: user-level evidence (judge v2): the windows' sketches and
	 * dispersion figures (v1 windows: NULL and 0), latency samples ever
	 * per flag and arm (latency_never), each instance's sums of all its
	 * windows and of their evidence (contributions: "" is the instances
	 * past the bound), and
	 * the state machine's memory with the rollout. */
	"ALTER TABLE windows ADD COLUMN units BLOB;"
	"ALTER TABLE windows ADD COLUMN error_units BLOB;"
	"ALTER TABLE windows ADD COLUMN sketched_exposures INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE windows ADD COLUMN sketched_errors INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE windows ADD COLUMN error_sq INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE windows ADD COLUMN errors_unmapped INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE windows ADD COLUMN error_max INTEGER NOT NULL DEFAULT 0;"
	"ALTER TABLE totals ADD COLUMN latency INTEGER NOT NULL DEFAULT 0;"
	"UPDATE totals SET latency = 1 WHERE EXISTS (SELECT 1 FROM windows AS w"
	"  WHERE w.flag = totals.flag AND w.arm = totals.arm"
	"  AND (w.latency IS NOT NULL OR w.latency_zero > 0));"
	"CREATE TABLE contributions(flag TEXT NOT NULL, arm INTEGER NOT NULL,"
	"  config_version INTEGER NOT NULL, instance TEXT NOT NULL,"
	"  last_ms INTEGER NOT NULL, exposures INTEGER NOT NULL,"
	"  errors INTEGER NOT NULL, latency_zero INTEGER NOT NULL,"
	"  latency BLOB, units BLOB, error_units BLOB,"
	"  error_sq INTEGER NOT NULL, errors_unmapped INTEGER NOT NULL,"
	"  error_max INTEGER NOT NULL, sketched_exposures INTEGER NOT NULL,"
	"  sketched_errors INTEGER NOT NULL,"
	"  PRIMARY KEY(flag, config_version, arm, instance)) WITHOUT ROWID;"
	"CREATE INDEX contributions_last ON contributions(last_ms);"
	"ALTER TABLE rollouts ADD COLUMN pass_since_ms INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE rollouts ADD COLUMN alert_since_ms INTEGER NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE rollouts ADD COLUMN prev_step_version INTEGER NOT NULL"
	"  DEFAULT 0;",
	/* 5: named segments (constraints flags share), one canonical JSON
	 * body each (records.h). */
	"CREATE TABLE segments(name TEXT PRIMARY KEY, body TEXT NOT NULL,"
	"  updated_ms INTEGER NOT NULL);",
	/* 6: the segment an audit record is about, a column of its own
	 * beside its flag ('' when none), filled in for the records made
	 * before it from their body. */
	"ALTER TABLE audit ADD COLUMN segment TEXT NOT NULL DEFAULT '';"
	"UPDATE audit SET segment = coalesce(json_extract(body, '$.segment'),"
	"  '') WHERE action LIKE 'segment.%';"
	"CREATE INDEX audit_segment ON audit(segment, id);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Which connections run a statement. */
enum { ON_WRITE = 1, ON_READ = 2, ON_BOTH = ON_WRITE | ON_READ };

#define ROLLOUT_COLS "id, flag, spec, state, step, step_start_ms," \
	" step_version, reason, created_ms, updated_ms, rev, pass_since_ms," \
	" alert_since_ms, prev_step_version"
#define TOKEN_COLS "name, id, hash, role, created_ms, created_by"
#define WEBHOOK_COLS "id, url, secret, events, created_ms, created_by"
/* cs_sqlite_delivery_row()'s order; the payload last. */
#define DELIVERY_COLS "d.id, d.webhook_id, d.audit_id, d.event, d.flag," \
	" d.state, d.attempts, d.next_ms, d.created_ms, d.updated_ms," \
	" d.last_status, d.last_error"
/* The filter of S_STATS_WIN, on any table of windows. */
#define WINDOW_FILTER " WHERE flag = ?1" \
	" AND (?2 IS NULL OR config_version = ?2) AND window_ms >= ?3" \
	" AND (?4 = 0 OR window_ms < ?4) AND config_version >= ?5" \
	" AND (?6 = 0 OR config_version <= ?6)"
/* The windows' columns a stats read adds up (add_row's order). */
#define STATS_COLS "arm, exposures, errors, latency_zero, latency," \
	" window_ms, units, error_units, sketched_exposures, sketched_errors," \
	" error_sq, errors_unmapped, error_max"

/* An upsert's SET of a window's or a contribution's counts, latency and
 * sketches (saturating; sketches and histograms merged), and of the
 * dispersion figures. */
#define COUNTS_MERGE \
	" exposures = canary_sat_add(exposures, excluded.exposures)," \
	" errors = canary_sat_add(errors, excluded.errors)," \
	" latency_zero = canary_sat_add(latency_zero, excluded.latency_zero)," \
	" latency = canary_hist_merge(latency, excluded.latency)," \
	" units = canary_hll_merge(units, excluded.units)," \
	" error_units = canary_hll_merge(error_units, excluded.error_units),"
#define SKETCHED_MERGE \
	" sketched_exposures = canary_sat_add(sketched_exposures," \
	" excluded.sketched_exposures)," \
	" sketched_errors = canary_sat_add(sketched_errors," \
	" excluded.sketched_errors),"
#define FIGURES_MERGE \
	" error_sq = canary_sat_add(error_sq, excluded.error_sq)," \
	" errors_unmapped = canary_sat_add(errors_unmapped," \
	" excluded.errors_unmapped)," \
	" error_max = MAX(error_max, excluded.error_max)"

static const struct {
	int on;
	const char *sql;
} statements[S_COUNT] = {
	[S_BEGIN_WRITE] = { ON_WRITE, "BEGIN IMMEDIATE" },
	[S_BEGIN_READ] = { ON_READ, "BEGIN" },
	[S_COMMIT] = { ON_BOTH, "COMMIT" },
	[S_ROLLBACK] = { ON_BOTH, "ROLLBACK" },
	[S_VERSION_GET] = { ON_BOTH,
		"SELECT value FROM meta WHERE key = 'config_version'" },
	[S_VERSION_BUMP] = { ON_WRITE, "UPDATE meta SET value = value + 1"
		" WHERE key = 'config_version'" },
	[S_VERSION_FLOOR] = { ON_WRITE, "UPDATE meta SET"
		" value = max(value + 1, ?1) WHERE key = 'config_version'" },
	/* Bytes, not characters: length() of a BLOB. */
	[S_CONFIG_BYTES] = { ON_WRITE, "SELECT count(*),"
		" coalesce(sum(length(CAST(body AS BLOB))), 0),"
		" (SELECT count(*) FROM segments),"
		" (SELECT coalesce(sum(length(CAST(body AS BLOB))), 0)"
		"  FROM segments) FROM flags" },
	[S_HEALTH_PROBE] = { ON_WRITE, "INSERT INTO meta(key, value)"
		" VALUES('health_probe', 1) ON CONFLICT(key) DO UPDATE SET"
		" value = value + 1" },
	[S_FLAG_GET] = { ON_BOTH, "SELECT body FROM flags WHERE key = ?1" },
	[S_FLAGS_ALL] = { ON_BOTH, "SELECT body, key FROM flags"
		" ORDER BY key" },
	[S_FLAG_UPSERT] = { ON_WRITE, "INSERT INTO flags(key, body,"
		" updated_ms) VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET"
		" body = excluded.body, updated_ms = excluded.updated_ms" },
	[S_FLAG_DELETE] = { ON_WRITE, "DELETE FROM flags WHERE key = ?1" },
	[S_SEGMENT_GET] = { ON_BOTH,
		"SELECT body FROM segments WHERE name = ?1" },
	[S_SEGMENTS_ALL] = { ON_BOTH, "SELECT body, name FROM segments"
		" ORDER BY name" },
	[S_SEGMENT_UPSERT] = { ON_WRITE, "INSERT INTO segments(name, body,"
		" updated_ms) VALUES(?1, ?2, ?3) ON CONFLICT(name) DO UPDATE"
		" SET body = excluded.body, updated_ms = excluded.updated_ms" },
	[S_SEGMENT_DELETE] = { ON_WRITE,
		"DELETE FROM segments WHERE name = ?1" },
	[S_BATCH_INSERT] = { ON_WRITE, "INSERT OR IGNORE INTO batches("
		"batch_id, instance_id, received_ms, windows, dropped_batches,"
		" dropped_windows) VALUES(?1, ?2, ?3, ?4, ?5, ?6)" },
	[S_WIN_UPSERT] = { ON_WRITE, "INSERT INTO windows(flag, arm,"
		" config_version, window_ms, exposures, errors, latency_zero,"
		" latency, units, error_units, sketched_exposures,"
		" sketched_errors, error_sq, errors_unmapped, error_max)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15) ON CONFLICT DO UPDATE SET"
		COUNTS_MERGE
		SKETCHED_MERGE
		FIGURES_MERGE },
	[S_METRIC_UPSERT] = { ON_WRITE, "INSERT INTO metrics(flag, arm,"
		" config_version, window_ms, name, count, sum)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT DO UPDATE SET"
		" count = canary_sat_add(count, excluded.count),"
		" sum = sum + excluded.sum" },
	[S_TOTAL_UPSERT] = { ON_WRITE, "INSERT INTO totals(flag, arm,"
		" exposures, errors, latency) VALUES(?1, ?2, ?3, ?4, ?5)"
		" ON CONFLICT DO UPDATE"
		" SET exposures = canary_sat_add(exposures, excluded.exposures),"
		" errors = canary_sat_add(errors, excluded.errors),"
		" latency = canary_sat_add(latency, excluded.latency)" },
	[S_STATS_WIN] = { ON_READ, "SELECT " STATS_COLS " FROM windows"
		WINDOW_FILTER },
	/* The same filter as S_STATS_WIN, window by window. */
	[S_SERIES_WIN] = { ON_READ, "SELECT " STATS_COLS " FROM windows"
		WINDOW_FILTER " ORDER BY window_ms" },
	[S_TOTALS] = { ON_READ, "SELECT flag, arm, exposures, errors, latency"
		" FROM totals ORDER BY flag, arm" },
	/* Whether a contribution goes under the instance's name: the
	 * (flag, version) has it already or fewer than ?4 named ones; else
	 * it goes to "the rest" (""). */
	[S_CONTRIB_NAMED] = { ON_WRITE, "SELECT EXISTS (SELECT 1"
		" FROM contributions WHERE flag = ?1 AND config_version = ?2"
		" AND instance = ?3) OR (SELECT COUNT(DISTINCT instance)"
		" FROM contributions WHERE flag = ?1 AND config_version = ?2"
		" AND instance <> '') < ?4" },
	/* VALUES, not a SELECT reading the table it writes: SQLite would
	 * copy such a SELECT's result through a temporary table first, a
	 * b-tree opened and closed with every statement (most of a window's
	 * cost when it was written so). */
	[S_CONTRIB_UPSERT] = { ON_WRITE, "INSERT INTO contributions(flag, arm,"
		" config_version, instance, last_ms, exposures, errors,"
		" latency_zero, latency, units, error_units, error_sq,"
		" errors_unmapped, error_max, sketched_exposures, sketched_errors)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13,"
		" ?14, ?15, ?16)"
		" ON CONFLICT DO UPDATE SET"
		" last_ms = MAX(last_ms, excluded.last_ms),"
		COUNTS_MERGE SKETCHED_MERGE
		FIGURES_MERGE },
	[S_CONTRIB_SIZES] = { ON_READ, "SELECT instance, arm, SUM(exposures)"
		" FROM contributions WHERE flag = ?1 AND config_version >= ?2"
		" AND (?3 = 0 OR config_version <= ?3) GROUP BY instance, arm" },
	[S_CONTRIB_ROWS] = { ON_READ, "SELECT instance, arm, exposures, errors,"
		" latency_zero, latency, units, error_units, error_sq,"
		" errors_unmapped, error_max, sketched_exposures, sketched_errors"
		" FROM contributions WHERE flag = ?1 AND config_version >= ?2"
		" AND (?3 = 0 OR config_version <= ?3)" },
	[S_LATENCY_SEEN] = { ON_READ, "SELECT 1 FROM totals WHERE flag = ?1"
		" AND latency > 0 LIMIT 1" },
	[S_PRUNE_SKETCHES] = { ON_WRITE, "UPDATE windows SET units = NULL,"
		" error_units = NULL, sketched_exposures = 0, sketched_errors = 0,"
		" error_sq = 0, errors_unmapped = 0, error_max = 0"
		" WHERE window_ms < ?1 AND units IS NOT NULL" },
	[S_PRUNE_CONTRIB] = { ON_WRITE,
		"DELETE FROM contributions WHERE last_ms < ?1" },
	[S_PRUNE_BATCHES] = { ON_WRITE,
		"DELETE FROM batches WHERE received_ms < ?1" },
	[S_PRUNE_WINDOWS] = { ON_WRITE,
		"DELETE FROM windows WHERE window_ms < ?1" },
	[S_PRUNE_METRICS] = { ON_WRITE,
		"DELETE FROM metrics WHERE window_ms < ?1" },
	[S_ROLLOUT_INSERT] = { ON_WRITE, "INSERT INTO rollouts(flag, spec,"
		" state, step, step_start_ms, step_version, reason, created_ms,"
		" updated_ms, rev, pass_since_ms, alert_since_ms,"
		" prev_step_version) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1,"
		" ?9, ?10, ?11)" },
	[S_ROLLOUT_UPDATE] = { ON_WRITE, "UPDATE rollouts SET state = ?1,"
		" step = ?2, step_start_ms = ?3, step_version = ?4, reason = ?5,"
		" updated_ms = ?6, rev = rev + 1, pass_since_ms = ?9,"
		" alert_since_ms = ?10, prev_step_version = ?11"
		" WHERE id = ?7 AND rev = ?8" },
	[S_DECISION_INSERT] = { ON_WRITE, "INSERT INTO decisions(rollout_id,"
		" time_ms, body) VALUES(?1, ?2, ?3)" },
	[S_ROLLOUT_LATEST] = { ON_READ, "SELECT " ROLLOUT_COLS
		" FROM rollouts WHERE flag = ?1 ORDER BY id DESC LIMIT 1" },
	[S_ROLLOUTS_ACTIVE] = { ON_READ, "SELECT " ROLLOUT_COLS
		" FROM rollouts WHERE state IN ('running', 'paused')"
		" ORDER BY id" },
	[S_ROLLOUTS_LATEST_ALL] = { ON_READ, "SELECT " ROLLOUT_COLS
		" FROM rollouts WHERE id IN (SELECT MAX(id) FROM rollouts"
		" GROUP BY flag) ORDER BY flag" },
	[S_DECISIONS_COUNT] = { ON_READ, "SELECT COUNT(*) FROM decisions"
		" WHERE rollout_id = ?1" },
	[S_DECISIONS_LAST] = { ON_READ, "SELECT body FROM (SELECT id, body"
		" FROM decisions WHERE rollout_id = ?1 ORDER BY id DESC"
		" LIMIT ?2) ORDER BY id" },
	[S_DECISION_REPLACE] = { ON_WRITE, "UPDATE decisions SET"
		" time_ms = ?2, body = ?3 WHERE id = (SELECT max(id)"
		" FROM decisions WHERE rollout_id = ?1)" },
	[S_PRUNE_DECISIONS] = { ON_WRITE, "DELETE FROM decisions WHERE"
		" rollout_id IN (SELECT id FROM rollouts WHERE state IN"
		" ('rolled_back', 'completed') AND updated_ms < ?1)" },
	/* Every rollout keeps its first ?1 and its last ?2 records. */
	[S_CAP_DECISIONS] = { ON_WRITE, "DELETE FROM decisions WHERE id IN"
		" (SELECT id FROM (SELECT id, row_number() OVER (PARTITION BY"
		" rollout_id ORDER BY id) AS head, row_number() OVER (PARTITION"
		" BY rollout_id ORDER BY id DESC) AS tail FROM decisions)"
		" WHERE head > ?1 AND tail > ?2)" },
	[S_ROLLOUT_LIVE] = { ON_WRITE, "SELECT " ROLLOUT_COLS
		" FROM rollouts WHERE flag = ?1 AND state IN ('running', 'paused')" },
	/* TOTAL() adds in doubles, exact below 2^53 (counts are never
	 * negative), where SUM() would fail on an overflow: a sum over the
	 * bound is read as the bound (cs_sqlite_count). */
	[S_METRIC_SUMS] = { ON_READ, "SELECT arm, name, TOTAL(count),"
		" SUM(sum) FROM metrics" WINDOW_FILTER " GROUP BY arm, name"
		" ORDER BY arm, name" },
	[S_PRUNE_AUDIT] = { ON_WRITE, "DELETE FROM audit WHERE time_ms < ?1" },
	[S_PRUNE_DELIVERIES] = { ON_WRITE, "DELETE FROM deliveries"
		" WHERE created_ms < ?1 AND state <> 'pending'" },
	[S_AUDIT_INSERT] = { ON_WRITE, "INSERT INTO audit(time_ms, actor,"
		" action, flag, config_version, body, segment)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)" },
	/* One delivery per webhook that wants the event ("" wants all). */
	[S_DELIVERY_ENQUEUE] = { ON_WRITE, "INSERT INTO deliveries(webhook_id,"
		" audit_id, event, flag, payload, state, attempts, next_ms,"
		" created_ms, updated_ms, last_status, last_error)"
		" SELECT id, ?1, ?2, ?3, ?4, 'pending', 0, ?5, ?5, ?5, 0, ''"
		" FROM webhooks WHERE events = ''"
		" OR instr(',' || events || ',', ',' || ?2 || ',') > 0" },
	[S_AUDIT_LIST] = { ON_READ, "SELECT id, body FROM audit"
		" WHERE (?1 IS NULL OR flag = ?1) AND (?2 IS NULL OR actor = ?2)"
		" AND time_ms >= ?3 AND (?4 = 0 OR time_ms < ?4)"
		" AND (?5 = 0 OR id < ?5) AND (?7 IS NULL OR segment = ?7)"
		" ORDER BY id DESC LIMIT ?6" },
	[S_TOKEN_INSERT] = { ON_WRITE, "INSERT INTO tokens(" TOKEN_COLS ")"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6)" },
	[S_TOKEN_FIND] = { ON_READ, "SELECT " TOKEN_COLS " FROM tokens"
		" WHERE id = ?1" },
	[S_TOKEN_NAMED] = { ON_WRITE, "SELECT " TOKEN_COLS " FROM tokens"
		" WHERE name = ?1" },
	[S_TOKENS_ALL] = { ON_READ, "SELECT " TOKEN_COLS " FROM tokens"
		" ORDER BY name" },
	[S_TOKEN_DELETE] = { ON_WRITE, "DELETE FROM tokens WHERE name = ?1" },
	[S_WEBHOOK_INSERT] = { ON_WRITE, "INSERT INTO webhooks(url, secret,"
		" events, created_ms, created_by) VALUES(?1, ?2, ?3, ?4, ?5)" },
	[S_WEBHOOK_GET] = { ON_WRITE, "SELECT " WEBHOOK_COLS " FROM webhooks"
		" WHERE id = ?1" },
	[S_WEBHOOK_DELETE] = { ON_WRITE, "DELETE FROM webhooks WHERE id = ?1" },
	[S_WEBHOOK_DELIVERIES_DELETE] = { ON_WRITE,
		"DELETE FROM deliveries WHERE webhook_id = ?1" },
	[S_WEBHOOKS_ALL] = { ON_READ, "SELECT " WEBHOOK_COLS " FROM webhooks"
		" ORDER BY id" },
	[S_DELIVERIES_DUE] = { ON_READ, "SELECT " DELIVERY_COLS ", d.payload,"
		" w.url, w.secret FROM deliveries AS d JOIN webhooks AS w"
		" ON w.id = d.webhook_id WHERE d.state = 'pending'"
		" AND d.next_ms <= ?1 ORDER BY d.next_ms, d.id LIMIT ?2" },
	[S_DELIVERY_UPDATE] = { ON_WRITE, "UPDATE deliveries SET state = ?2,"
		" attempts = attempts + 1, next_ms = ?3, updated_ms = ?4,"
		" last_status = ?5, last_error = ?6 WHERE id = ?1" },
	[S_DELIVERIES_OF] = { ON_READ, "SELECT " DELIVERY_COLS
		" FROM deliveries AS d WHERE d.webhook_id = ?1"
		" ORDER BY d.id DESC LIMIT ?2" },
};

/* ---- statements and transactions ------------------------------------ */

void cs_sqlite_reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

int cs_sqlite_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	cs_sqlite_reset(st);
	return rc == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

uint64_t cs_sqlite_u64(sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);

	return v < 0 ? 0 : (uint64_t)v;
}

uint64_t cs_sqlite_count(sqlite3_stmt *st, int col)
{
	uint64_t v = cs_sqlite_u64(st, col);

	return v > CANARY__MAX_COUNT ? CANARY__MAX_COUNT : v;
}

const char *cs_sqlite_text(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

int cs_sqlite_lookup(sqlite3_stmt *st, const char *key, int absent,
	cs_sqlite_read_fn read, void *out)
{
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	return cs_sqlite_one(st, absent, read, out);
}

int cs_sqlite_one(sqlite3_stmt *st, int absent, cs_sqlite_read_fn read,
	void *out)
{
	int rc;

	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = read(st, out);
		break;
	case SQLITE_DONE:
		rc = absent;
		break;
	default:
		rc = CANARY_ESTORAGE;
		break;
	}
	cs_sqlite_reset(st);
	return rc;
}

/* Step `st` to its end, each row into a new zeroed item of *out. */
static int collect_rows(sqlite3_stmt *st, cs_sqlite_read_fn row, size_t size,
	void **out, size_t *n)
{
	size_t cap = 0;
	int rc = CANARY_OK, step = SQLITE_DONE;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		char *item;

		rc = cs_grow(out, &cap, *n, size);
		if (rc != CANARY_OK)
			break;
		item = (char *)*out + *n * size;
		memset(item, 0, size);
		rc = row(st, item);
		if (rc == CANARY_OK)
			(*n)++;
	}
	cs_sqlite_reset(st);
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	return rc;
}

int cs_sqlite_collect(struct cs_store_impl *s, int which,
	cs_sqlite_bind_fn bind, const void *arg, cs_sqlite_read_fn row,
	size_t size, void (*clear)(void *item), void **out, size_t *n)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	size_t i;
	int rc;

	*out = NULL;
	*n = 0;
	if (!c)
		return CANARY_ESTORAGE;
	if (bind)
		bind(c->st[which], arg);
	rc = collect_rows(c->st[which], row, size, out, n);
	rc = cs_sqlite_read_end(s, c, rc);
	if (rc != CANARY_OK) {
		for (i = 0; clear && i < *n; i++)
			clear((char *)*out + i * size);
		free(*out);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

/* Commit, or roll back when `rc` says the transaction failed. */
static int finish(cs_sqlite_conn *c, int rc)
{
	if (rc == CANARY_OK) {
		rc = cs_sqlite_done(c->st[S_COMMIT]);
		if (rc == CANARY_OK)
			return CANARY_OK;
	}
	if (!sqlite3_get_autocommit(c->db))
		cs_sqlite_done(c->st[S_ROLLBACK]);
	return rc;
}

static uint64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Is --db still the file we opened? */
static bool same_file(const struct cs_store_impl *s)
{
	struct stat st;

	return stat(s->path, &st) == 0 && st.st_dev == s->dev &&
		st.st_ino == s->ino;
}

/* A write ended (write_lock held): remember a failure of the database's
 * own, forget it on success. `err` is SQLite's code for the failure. */
static void note_write(struct cs_store_impl *s, int rc, int err)
{
	s->last_write_ms = mono_ms();
	if (rc == CANARY_OK) {
		s->write_error[0] = '\0';
		return;
	}
	switch (err & 0xff) {
	case SQLITE_FULL:
	case SQLITE_IOERR:
	case SQLITE_CORRUPT:
	case SQLITE_NOTADB:
	case SQLITE_READONLY:
	case SQLITE_CANTOPEN:
	case SQLITE_PERM:
		snprintf(s->write_error, sizeof(s->write_error), "the last "
			"write failed: %s", sqlite3_errstr(err));
		break;
	default:
		break; /* not the database's fault (a conflict, a refusal) */
	}
}

int cs_sqlite_write_begin(struct cs_store_impl *s)
{
	int rc;

	pthread_mutex_lock(&s->write_lock);
	/* Never acknowledge a write that a restart would not find. */
	if (!same_file(s)) {
		pthread_mutex_unlock(&s->write_lock);
		return CS_EUNAVAILABLE;
	}
	rc = cs_sqlite_done(s->w.st[S_BEGIN_WRITE]);
	if (rc != CANARY_OK) {
		note_write(s, rc, sqlite3_extended_errcode(s->w.db));
		pthread_mutex_unlock(&s->write_lock);
	}
	return rc;
}

int cs_sqlite_write_end(struct cs_store_impl *s, int rc)
{
	int err = SQLITE_OK;

	if (rc == CANARY_OK) {
		rc = cs_sqlite_done(s->w.st[S_COMMIT]);
		if (rc != CANARY_OK)
			err = sqlite3_extended_errcode(s->w.db);
	} else {
		err = sqlite3_extended_errcode(s->w.db);
	}
	if (rc != CANARY_OK && !sqlite3_get_autocommit(s->w.db))
		cs_sqlite_done(s->w.st[S_ROLLBACK]);
	note_write(s, rc, err);
	pthread_mutex_unlock(&s->write_lock);
	return rc;
}

/* An idle server writes nothing: at most once a second, when nothing
 * else was written meanwhile, write one small row to find out whether
 * writes still succeed (a full disk, a corrupt file). */
static void probe_if_idle(struct cs_store_impl *s)
{
	uint64_t now = mono_ms();
	bool due;
	int rc;

	pthread_mutex_lock(&s->write_lock);
	due = now - s->last_write_ms >= 1000 && now - s->last_probe_ms >= 1000;
	if (due)
		s->last_probe_ms = now;
	pthread_mutex_unlock(&s->write_lock);
	if (!due)
		return;
	rc = cs_sqlite_write_begin(s);
	if (rc == CANARY_OK)
		cs_sqlite_write_end(s, cs_sqlite_done(s->w.st[S_HEALTH_PROBE]));
}

cs_health cs_sqlite_health(struct cs_store_impl *s, char *why, size_t whylen)
{
	cs_health h = CS_HEALTH_OK;

	if (!same_file(s)) {
		snprintf(why, whylen, "the database file was deleted or "
			"replaced since the server opened it");
		return CS_HEALTH_FAILING;
	}
	probe_if_idle(s);
	pthread_mutex_lock(&s->write_lock);
	if (s->write_error[0]) {
		snprintf(why, whylen, "%s", s->write_error);
		h = CS_HEALTH_FAILING;
	}
	pthread_mutex_unlock(&s->write_lock);
	return h == CS_HEALTH_OK ? cs_unreadable_health(&s->unreadable, why,
		whylen) : h;
}

/* Take an idle reader, waiting for one if all are busy. */
static cs_sqlite_conn *take_reader(struct cs_store_impl *s)
{
	cs_sqlite_conn *c;

	pthread_mutex_lock(&s->read_lock);
	while (s->nidle == 0)
		pthread_cond_wait(&s->reader_free, &s->read_lock);
	c = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->read_lock);
	return c;
}

static void give_back(struct cs_store_impl *s, cs_sqlite_conn *c)
{
	pthread_mutex_lock(&s->read_lock);
	s->idle[s->nidle++] = c;
	pthread_cond_signal(&s->reader_free);
	pthread_mutex_unlock(&s->read_lock);
}

cs_sqlite_conn *cs_sqlite_read_begin(struct cs_store_impl *s)
{
	cs_sqlite_conn *c = take_reader(s);

	if (cs_sqlite_done(c->st[S_BEGIN_READ]) != CANARY_OK) {
		give_back(s, c);
		return NULL;
	}
	return c;
}

int cs_sqlite_read_end(struct cs_store_impl *s, cs_sqlite_conn *c, int rc)
{
	rc = finish(c, rc);
	give_back(s, c);
	return rc;
}

/* ---- opening: pragmas, migrations, statements ------------------------ */

static int exec_pragma(sqlite3 *db, const char *pragma, const char *expect)
{
	sqlite3_stmt *st = NULL;
	int rc = CANARY_ESTORAGE;

	if (sqlite3_prepare_v2(db, pragma, -1, &st, NULL) != SQLITE_OK)
		return rc;
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		if (!expect || sqlite3_stricmp(
			(const char *)sqlite3_column_text(st, 0), expect) == 0)
			rc = CANARY_OK;
		break;
	case SQLITE_DONE:
		rc = expect ? CANARY_ESTORAGE : CANARY_OK;
		break;
	default:
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

static int get_schema_version(sqlite3 *db, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = CANARY_ESTORAGE;

	*out = 0;
	if (sqlite3_exec(db, "CREATE TABLE IF NOT EXISTS schema_version("
		"version INTEGER NOT NULL)", NULL, NULL, NULL) != SQLITE_OK)
		return rc;
	if (sqlite3_prepare_v2(db, "SELECT MAX(version) FROM schema_version",
		-1, &st, NULL) != SQLITE_OK)
		return rc;
	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = CANARY_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int apply_migration(sqlite3 *db, int version)
{
	sqlite3_stmt *st = NULL;
	int rc = CANARY_ESTORAGE;

	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return rc;
	if (sqlite3_exec(db, migrations[version - 1], NULL, NULL, NULL) !=
	    SQLITE_OK)
		goto done;
	if (sqlite3_prepare_v2(db, "INSERT INTO schema_version(version)"
		" VALUES(?1)", -1, &st, NULL) != SQLITE_OK)
		goto done;
	sqlite3_bind_int(st, 1, version);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto done;
	if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK)
		rc = CANARY_OK;
done:
	sqlite3_finalize(st);
	if (rc != CANARY_OK)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* One integer a query returns (first column, first row). */
static int query_int(sqlite3 *db, const char *sql, int *out)
{
	sqlite3_stmt *st = NULL;
	int rc = CANARY_ESTORAGE;

	*out = 0;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW) {
		*out = sqlite3_column_int(st, 0);
		rc = CANARY_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

/*
 * Before anything is written into it: is the file ours? An empty one, one
 * with our application_id, or one written before we set it (its
 * application_id 0, our tables there) is; anything else is another
 * program's data and is left exactly as it was.
 */
static int check_ours(sqlite3 *db, const char *path, char *err,
	size_t errlen)
{
	int id, objects, ours;

	if (query_int(db, "PRAGMA application_id", &id) != CANARY_OK ||
	    query_int(db, "SELECT count(*) FROM sqlite_schema", &objects) !=
	    CANARY_OK) {
		snprintf(err, errlen, "%s: %s", path, sqlite3_errmsg(db));
		return CANARY_ESTORAGE;
	}
	if (objects == 0 || id == APPLICATION_ID)
		return CANARY_OK;
	if (id == 0 && query_int(db, "SELECT count(*) FROM sqlite_schema"
		" WHERE type = 'table' AND name IN ('schema_version', 'meta',"
		" 'flags')", &ours) == CANARY_OK && ours == 3)
		return CANARY_OK;
	snprintf(err, errlen, "%s is not a canary-server database (another "
		"program's SQLite file: application_id %d, not our tables); "
		"refusing to change it", path, id);
	return CANARY_ESTORAGE;
}

static int migrate(struct cs_store_impl *s, char *err, size_t errlen)
{
	char stamp[64];
	int v;

	if (get_schema_version(s->w.db, &v) != CANARY_OK) {
		snprintf(err, errlen, "reading schema version: %s",
			sqlite3_errmsg(s->w.db));
		return CANARY_ESTORAGE;
	}
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema %d is newer than this "
			"server's (%d)", v, SCHEMA_VERSION);
		return CANARY_ESTORAGE;
	}
	for (; v < SCHEMA_VERSION; v++) {
		if (apply_migration(s->w.db, v + 1) != CANARY_OK) {
			snprintf(err, errlen, "migration %d: %s", v + 1,
				sqlite3_errmsg(s->w.db));
			return CANARY_ESTORAGE;
		}
	}
	s->schema_version = v;
	/* Ours from now on (a new file, or one from before the stamp). */
	snprintf(stamp, sizeof(stamp), "PRAGMA application_id = %d",
		APPLICATION_ID);
	if (sqlite3_exec(s->w.db, stamp, NULL, NULL, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "setting the application id: %s",
			sqlite3_errmsg(s->w.db));
		return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

static int configure(sqlite3 *db, cs_sync_mode sync, char *err, size_t errlen)
{
	sqlite3_busy_timeout(db, 5000);
	if (exec_pragma(db, "PRAGMA journal_mode=WAL", "wal") != CANARY_OK) {
		snprintf(err, errlen, "cannot enable WAL mode");
		return CANARY_ESTORAGE;
	}
	if (exec_pragma(db, sync == CS_SYNC_NORMAL ?
		"PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", NULL) !=
	    CANARY_OK) {
		snprintf(err, errlen, "cannot set synchronous mode");
		return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

/* Prepare the statements that run on a connection of role `on`. */
static int prepare(cs_sqlite_conn *c, int on, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < S_COUNT; i++) {
		if (!(statements[i].on & on))
			continue;
		if (sqlite3_prepare_v3(c->db, statements[i].sql, -1,
			SQLITE_PREPARE_PERSISTENT, &c->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "preparing statement %d: %s", i,
				sqlite3_errmsg(c->db));
			return CANARY_ESTORAGE;
		}
	}
	return CANARY_OK;
}

static void conn_close(cs_sqlite_conn *c)
{
	int i;

	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(c->st[i]);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

static int open_writer(struct cs_store_impl *s, const cs_store_options *o,
	char *err, size_t errlen)
{
	int rc;

	struct stat st;

	if (sqlite3_open_v2(o->location, &s->w.db, SQLITE_OPEN_READWRITE |
		(o->must_exist ? 0 : SQLITE_OPEN_CREATE) | SQLITE_OPEN_NOMUTEX,
		NULL) != SQLITE_OK) {
		snprintf(err, errlen, "opening %s: %s", o->location,
			s->w.db ? sqlite3_errmsg(s->w.db) : "out of memory");
		return CANARY_ESTORAGE;
	}
	rc = check_ours(s->w.db, o->location, err, errlen);
	if (rc == CANARY_OK)
		rc = configure(s->w.db, o->sync, err, errlen);
	if (rc == CANARY_OK && (cs_hist_blob_register(s->w.db) != CANARY_OK ||
	    cs_sketch_blob_register(s->w.db) != CANARY_OK)) {
		snprintf(err, errlen, "cannot register SQL functions");
		rc = CANARY_ESTORAGE;
	}
	if (rc == CANARY_OK)
		rc = migrate(s, err, errlen);
	if (rc == CANARY_OK)
		rc = prepare(&s->w, ON_WRITE, err, errlen);
	/* The file as it is now that it exists (opening created it). */
	if (rc == CANARY_OK && stat(o->location, &st) != 0) {
		snprintf(err, errlen, "%s: cannot stat it", o->location);
		rc = CANARY_ESTORAGE;
	}
	if (rc == CANARY_OK) {
		s->dev = st.st_dev;
		s->ino = st.st_ino;
	}
	return rc;
}

/* Read-only connections to the migrated database: in WAL mode each reads
 * the last commit while the writer works. */
static int open_readers(struct cs_store_impl *s, const cs_store_options *o,
	char *err, size_t errlen)
{
	unsigned int n = o->readers ? o->readers : 4, i;
	int rc = CANARY_OK;

	s->readers = calloc(n, sizeof(*s->readers));
	s->idle = calloc(n, sizeof(*s->idle));
	if (!s->readers || !s->idle) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	for (i = 0; rc == CANARY_OK && i < n; i++) {
		cs_sqlite_conn *c = &s->readers[i];

		s->nreaders++;
		if (sqlite3_open_v2(o->location, &c->db, SQLITE_OPEN_READONLY |
			SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
			snprintf(err, errlen, "opening %s to read: %s",
				o->location, c->db ? sqlite3_errmsg(c->db) :
				"out of memory");
			return CANARY_ESTORAGE;
		}
		sqlite3_busy_timeout(c->db, 5000);
		rc = prepare(c, ON_READ, err, errlen);
		s->idle[s->nidle++] = c;
	}
	return rc;
}

void cs_sqlite_close(struct cs_store_impl *s)
{
	unsigned int i;

	if (!s)
		return;
	/* Readers first: the writer's close checkpoints the WAL. */
	for (i = 0; i < s->nreaders; i++)
		conn_close(&s->readers[i]);
	conn_close(&s->w);
	free(s->readers);
	free(s->idle);
	free(s->path);
	cs_unreadable_destroy(&s->unreadable);
	pthread_cond_destroy(&s->reader_free);
	pthread_mutex_destroy(&s->read_lock);
	pthread_mutex_destroy(&s->write_lock);
	free(s);
}

int cs_sqlite_open(struct cs_store_impl **out, const cs_store_options *o,
	char *err, size_t errlen)
{
	struct cs_store_impl *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	pthread_mutex_init(&s->write_lock, NULL);
	pthread_mutex_init(&s->read_lock, NULL);
	pthread_cond_init(&s->reader_free, NULL);
	cs_unreadable_init(&s->unreadable);
	s->max_config_bytes = o->max_config_bytes;
	s->path = strdup(o->location);
	if (!s->path) {
		cs_sqlite_close(s);
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	rc = open_writer(s, o, err, errlen);
	if (rc == CANARY_OK)
		rc = open_readers(s, o, err, errlen);
	if (rc != CANARY_OK) {
		cs_sqlite_close(s);
		return rc;
	}
	*out = s;
	return CANARY_OK;
}

int cs_sqlite_schema_version(struct cs_store_impl *s)
{
	return s->schema_version;
}
