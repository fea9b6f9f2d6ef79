/*
 * store_pg.c - the PostgreSQL backend's schema and migrations, the SQL of
 * every statement, and opening and closing it.
 *
 * The tables are SQLite's (store_sqlite.c) with the same meanings, plus:
 * windows, their metrics and the totals are kept in parts (`shard`, see
 * CS_PG_SHARDS) that reads add up; a latency histogram is two arrays
 * (bin indices, counts) merged inside the upsert; `leases` holds the
 * controller's lease. Flags and rollouts sort with the "C" collation, so
 * every server renders the same config bytes (and ETag) from it whatever
 * the database's locale.
 */
#include "store/store_pg.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/*
 * Schema migrations, applied in order, each recorded in schema_version;
 * all pending ones run in one transaction under an advisory lock, so
 * servers starting at once on a new database migrate it once. Never edit
 * an entry once released: append a new one. Constant DDL only.
 */
static const char *const migrations[] = {
	/* 1: flags, config version, ingested windows, idempotency keys. */
	"CREATE TABLE meta(key text PRIMARY KEY, value bigint NOT NULL);"
	"INSERT INTO meta(key, value) VALUES('config_version', 1);"
	"CREATE TABLE flags(key text PRIMARY KEY, body text NOT NULL,"
	"  updated_ms bigint NOT NULL);"
	"CREATE TABLE batches(batch_id text PRIMARY KEY,"
	"  instance_id text NOT NULL, received_ms bigint NOT NULL,"
	"  windows bigint NOT NULL, dropped_batches bigint NOT NULL,"
	"  dropped_windows bigint NOT NULL);"
	"CREATE INDEX batches_received ON batches(received_ms);"
	"CREATE TABLE windows(flag text NOT NULL, arm smallint NOT NULL,"
	"  config_version bigint NOT NULL, window_ms bigint NOT NULL,"
	"  shard smallint NOT NULL, exposures bigint NOT NULL,"
	"  errors bigint NOT NULL, latency_zero bigint NOT NULL,"
	"  lat_idx integer[] NOT NULL, lat_cnt bigint[] NOT NULL,"
	"  PRIMARY KEY(flag, config_version, window_ms, arm, shard));"
	"CREATE INDEX windows_time ON windows(window_ms);"
	"CREATE TABLE metrics(flag text NOT NULL, arm smallint NOT NULL,"
	"  config_version bigint NOT NULL, window_ms bigint NOT NULL,"
	"  shard smallint NOT NULL, name text NOT NULL,"
	"  count bigint NOT NULL, sum double precision NOT NULL,"
	"  PRIMARY KEY(flag, config_version, window_ms, arm, shard, name));"
	"CREATE INDEX metrics_time ON metrics(window_ms);"
	"CREATE TABLE totals(flag text NOT NULL, arm smallint NOT NULL,"
	"  shard smallint NOT NULL, exposures bigint NOT NULL,"
	"  errors bigint NOT NULL, PRIMARY KEY(flag, arm, shard));",
	/* 2: rollouts and their decision history. The partial unique index
	 * is the "one active rollout per flag" rule. */
	"CREATE TABLE rollouts(id bigserial PRIMARY KEY,"
	"  flag text NOT NULL, spec text NOT NULL, state text NOT NULL,"
	"  step bigint NOT NULL, step_start_ms bigint NOT NULL,"
	"  step_version bigint NOT NULL, reason text NOT NULL,"
	"  created_ms bigint NOT NULL, updated_ms bigint NOT NULL,"
	"  rev bigint NOT NULL);"
	"CREATE UNIQUE INDEX rollouts_active ON rollouts(flag)"
	"  WHERE state IN ('running', 'paused');"
	"CREATE INDEX rollouts_flag ON rollouts(flag, id);"
	"CREATE TABLE decisions(id bigserial PRIMARY KEY,"
	"  rollout_id bigint NOT NULL, time_ms bigint NOT NULL,"
	"  body text NOT NULL);"
	"CREATE INDEX decisions_rollout ON decisions(rollout_id, id);",
	/* 3: leases (the controller's), their holder and fencing token. */
	"CREATE TABLE leases(name text PRIMARY KEY, holder text NOT NULL,"
	"  token bigint NOT NULL, expires_ms bigint NOT NULL);",
	/* 4: named tokens (only a hash of each secret), the audit log,
	 * webhooks and the queue of their deliveries. */
	"CREATE TABLE tokens(name text PRIMARY KEY, id text NOT NULL UNIQUE,"
	"  hash text NOT NULL, role text NOT NULL,"
	"  created_ms bigint NOT NULL, created_by text NOT NULL);"
	"CREATE TABLE audit(id bigserial PRIMARY KEY,"
	"  time_ms bigint NOT NULL, actor text NOT NULL,"
	"  action text NOT NULL, flag text NOT NULL,"
	"  config_version bigint NOT NULL, body text NOT NULL);"
	"CREATE INDEX audit_flag ON audit(flag, id);"
	"CREATE INDEX audit_actor ON audit(actor, id);"
	"CREATE INDEX audit_time ON audit(time_ms);"
	"CREATE TABLE webhooks(id bigserial PRIMARY KEY,"
	"  url text NOT NULL, secret text NOT NULL, events text NOT NULL,"
	"  created_ms bigint NOT NULL, created_by text NOT NULL);"
	"CREATE TABLE deliveries(id bigserial PRIMARY KEY,"
	"  webhook_id bigint NOT NULL, audit_id bigint NOT NULL,"
	"  event text NOT NULL, flag text NOT NULL, payload text NOT NULL,"
	"  state text NOT NULL, attempts bigint NOT NULL,"
	"  next_ms bigint NOT NULL, created_ms bigint NOT NULL,"
	"  updated_ms bigint NOT NULL, last_status bigint NOT NULL,"
	"  last_error text NOT NULL);"
	"CREATE INDEX deliveries_due ON deliveries(state, next_ms);"
	"CREATE INDEX deliveries_webhook ON deliveries(webhook_id, id);",
	/* 5: what each instance sent (judge v2): a row per window and
	 * instance (its instance '' past CS_MAX_CONTRIBUTORS per flag and
	 * version) with the counts and, for a window that carried them, the
	 * sketches in their wire form (merged when read); closed windows'
	 * rows are merged each minute into a window's whole evidence
	 * (instance NULL) and an instance's whole contribution (window_ms
	 * NULL). Latency samples ever per flag and arm (latency_never), and
	 * the state machine's memory with the rollout. */
	"CREATE TABLE evidence(flag text NOT NULL, arm smallint NOT NULL,"
	"  config_version bigint NOT NULL, window_ms bigint, instance text,"
	"  last_ms bigint NOT NULL, exposures bigint NOT NULL,"
	"  errors bigint NOT NULL, latency_zero bigint NOT NULL,"
	"  lat_idx integer[] NOT NULL, lat_cnt bigint[] NOT NULL,"
	"  units bytea, error_units bytea,"
	"  error_sq bigint NOT NULL, errors_unmapped bigint NOT NULL,"
	"  error_max bigint NOT NULL, sketched_exposures bigint NOT NULL,"
	"  sketched_errors bigint NOT NULL);"
	"CREATE INDEX evidence_key ON evidence(flag, config_version,"
	"  window_ms);"
	"CREATE INDEX evidence_last ON evidence(last_ms);"
	"ALTER TABLE totals ADD COLUMN latency bigint NOT NULL DEFAULT 0;"
	"UPDATE totals AS t SET latency = 1 WHERE EXISTS (SELECT 1"
	"  FROM windows AS w WHERE w.flag = t.flag AND w.arm = t.arm"
	"  AND (cardinality(w.lat_idx) > 0 OR w.latency_zero > 0));"
	"ALTER TABLE rollouts ADD COLUMN pass_since_ms bigint NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE rollouts ADD COLUMN alert_since_ms bigint NOT NULL"
	"  DEFAULT 0;"
	"ALTER TABLE rollouts ADD COLUMN prev_step_version bigint NOT NULL"
	"  DEFAULT 0;",
	/* 6: named segments (constraints flags share), one canonical JSON
	 * body each (records.h). */
	"CREATE TABLE segments(name text PRIMARY KEY, body text NOT NULL,"
	"  updated_ms bigint NOT NULL);",
	/* 7: the segment an audit record is about, a column of its own
	 * beside its flag ('' when none), filled in for the records made
	 * before it from their body. */
	"ALTER TABLE audit ADD COLUMN segment text NOT NULL DEFAULT '';"
	"UPDATE audit SET segment = coalesce(body::json->>'segment', '')"
	"  WHERE action LIKE 'segment.%';"
	"CREATE INDEX audit_segment ON audit(segment, id);",
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

/* Any key of our own: the migration lock between servers. */
#define MIGRATION_LOCK "4242001"

/* The database's clock in ms: every server's leases run on one clock. */
#define NOW_MS "(extract(epoch FROM clock_timestamp()) * 1000)::bigint"
/* Counters saturate (at 2^53 - 1, CANARY__MAX_COUNT: what a document
 * carries exactly) instead of failing the upsert on overflow. */
#define MAX_COUNT "9007199254740991"
#define SAT_ADD(a, b) "LEAST(" a "::numeric + " b ", " MAX_COUNT ")::bigint"
#define SAT_SUM(a) "LEAST(sum(" a "), " MAX_COUNT ")::bigint"
/* A stored histogram merged with excluded's, in an upsert on windows w. */
#define MERGE_HIST " (lat_idx, lat_cnt) = (SELECT" \
	"  coalesce(array_agg(i ORDER BY i), '{}')," \
	"  coalesce(array_agg(c ORDER BY i), '{}')" \
	"  FROM (SELECT i, " SAT_SUM("c") " AS c FROM" \
	"   unnest(w.lat_idx || excluded.lat_idx," \
	"    w.lat_cnt || excluded.lat_cnt) AS u(i, c)" \
	"   GROUP BY i) AS m)"
#define WINDOW_KEY "(flag, config_version, window_ms, arm, shard)"
#define WINDOW_MERGE \
	" exposures = " SAT_ADD("w.exposures", "excluded.exposures") "," \
	" errors = " SAT_ADD("w.errors", "excluded.errors") "," \
	" latency_zero = " SAT_ADD("w.latency_zero", "excluded.latency_zero") \
	"," MERGE_HIST
#define METRIC_MERGE " count = " SAT_ADD("m.count", "excluded.count") "," \
	" sum = m.sum + excluded.sum"
/* The closed windows' parts (shard > 0) moved into part 0: the parts are
 * deleted and their sums and merged histogram upserted as one row. */
#define SETTLED(table) "WITH moved AS (DELETE FROM " table \
	" WHERE window_ms < $1 AND shard <> 0 RETURNING *)"
#define ROLLOUT_COLS "id, flag, spec, state, step, step_start_ms," \
	" step_version, reason, created_ms, updated_ms, rev, pass_since_ms," \
	" alert_since_ms, prev_step_version"
/* The evidence rows of a flag's versions $2..$3 (0: any) kept per
 * instance. */
#define CONTRIB_FILTER " FROM evidence WHERE flag = $1" \
	" AND config_version >= $2 AND ($3::bigint = 0 OR config_version <= $3)" \
	" AND instance IS NOT NULL"
#define EVIDENCE_COLS "exposures, errors, latency_zero, lat_idx, lat_cnt," \
	" units, error_units, error_sq, errors_unmapped, error_max," \
	" sketched_exposures, sketched_errors"
#define TOKEN_COLS "name, id, hash, role, created_ms, created_by"
#define WEBHOOK_COLS "id, url, secret, events, created_ms, created_by"
/* cs_pg_delivery_row()'s order; the payload last. */
#define DELIVERY_COLS "d.id, d.webhook_id, d.audit_id, d.event, d.flag," \
	" d.state, d.attempts, d.next_ms, d.created_ms, d.updated_ms," \
	" d.last_status, d.last_error"
#define STATS_FILTER " WHERE w.flag = $1" \
	" AND ($2::bigint IS NULL OR w.config_version = $2)" \
	" AND w.window_ms >= $3 AND ($4::bigint = 0 OR w.window_ms < $4)" \
	" AND w.config_version >= $5" \
	" AND ($6::bigint = 0 OR w.config_version <= $6)"

static const char *const statements[P_COUNT] = {
	[P_BEGIN_WRITE] = "BEGIN",
	[P_BEGIN_READ] = "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY",
	[P_COMMIT] = "COMMIT",
	[P_ROLLBACK] = "ROLLBACK",
	[P_VERSION_GET] =
		"SELECT value FROM meta WHERE key = 'config_version'",
	[P_VERSION_LOCK] = "SELECT value FROM meta"
		" WHERE key = 'config_version' FOR UPDATE",
	[P_VERSION_BUMP] = "UPDATE meta SET value = value + 1"
		" WHERE key = 'config_version' RETURNING value",
	[P_VERSION_FLOOR] = "UPDATE meta SET value = greatest(value + 1, $1)"
		" WHERE key = 'config_version' RETURNING value",
	[P_CONFIG_BYTES] = "SELECT count(*),"
		" coalesce(sum(octet_length(body)), 0),"
		" (SELECT count(*) FROM segments),"
		" (SELECT coalesce(sum(octet_length(body)), 0) FROM segments)"
		" FROM flags",
	[P_NOTIFY] = "SELECT pg_notify('" CS_PG_CHANNEL "', $1)",
	[P_FLAG_GET] = "SELECT body FROM flags WHERE key = $1",
	[P_FLAGS_ALL] = "SELECT body, key FROM flags"
		" ORDER BY key COLLATE \"C\"",
	[P_FLAG_UPSERT] = "INSERT INTO flags(key, body, updated_ms)"
		" VALUES($1, $2, $3) ON CONFLICT(key) DO UPDATE SET"
		" body = excluded.body, updated_ms = excluded.updated_ms",
	[P_FLAG_DELETE] = "DELETE FROM flags WHERE key = $1",
	[P_SEGMENT_GET] = "SELECT body FROM segments WHERE name = $1",
	[P_SEGMENTS_ALL] = "SELECT body, name FROM segments"
		" ORDER BY name COLLATE \"C\"",
	[P_SEGMENT_UPSERT] = "INSERT INTO segments(name, body, updated_ms)"
		" VALUES($1, $2, $3) ON CONFLICT(name) DO UPDATE SET"
		" body = excluded.body, updated_ms = excluded.updated_ms",
	[P_SEGMENT_DELETE] = "DELETE FROM segments WHERE name = $1",
	[P_BATCH_INSERT] = "INSERT INTO batches(batch_id, instance_id,"
		" received_ms, windows, dropped_batches, dropped_windows)"
		" VALUES($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING",
	[P_WIN_UPSERT] = "INSERT INTO windows AS w(flag, arm, config_version,"
		" window_ms, shard, exposures, errors, latency_zero, lat_idx,"
		" lat_cnt) VALUES($1, $2, $3, $4, $5, $6, $7, $8,"
		" $9::integer[], $10::bigint[])"
		" ON CONFLICT" WINDOW_KEY " DO UPDATE SET" WINDOW_MERGE,
	[P_METRIC_UPSERT] = "INSERT INTO metrics AS m(flag, arm,"
		" config_version, window_ms, shard, name, count, sum)"
		" VALUES($1, $2, $3, $4, $5, $6, $7, $8)"
		" ON CONFLICT(flag, config_version, window_ms, arm, shard, name)"
		" DO UPDATE SET" METRIC_MERGE,
	[P_TOTAL_UPSERT] = "INSERT INTO totals AS t(flag, arm, shard,"
		" exposures, errors, latency) VALUES($1, $2, $3, $4, $5, $6)"
		" ON CONFLICT(flag, arm, shard) DO UPDATE SET"
		" exposures = " SAT_ADD("t.exposures", "excluded.exposures") ","
		" errors = " SAT_ADD("t.errors", "excluded.errors") ","
		" latency = " SAT_ADD("t.latency", "excluded.latency"),
	/* An instance's window while the (flag, version) has fewer than $19
	 * named instances (or has this one), else "the rest" (''). Only
	 * what the judge can read: a window with sketches, or one of a flag
	 * under a rollout. */
	[P_EVIDENCE_INSERT] = "INSERT INTO evidence(flag, arm, config_version,"
		" window_ms, instance, last_ms, " EVIDENCE_COLS ")"
		" SELECT $1::text, $2::smallint, $3::bigint, $4::bigint,"
		" CASE WHEN $5::text IS NULL THEN NULL"
		"  WHEN EXISTS (SELECT 1 FROM evidence WHERE flag = $1"
		"  AND config_version = $3 AND instance = $5)"
		"  OR (SELECT count(DISTINCT instance) FROM evidence"
		"  WHERE flag = $1 AND config_version = $3 AND instance <> '')"
		"  < $19::bigint THEN $5 ELSE '' END,"
		" $6::bigint, $7::bigint, $8::bigint, $9::bigint,"
		" $10::integer[], $11::bigint[], $12::bytea, $13::bytea,"
		" $14::bigint, $15::bigint, $16::bigint, $17::bigint, $18::bigint"
		" WHERE $12::bytea IS NOT NULL OR EXISTS (SELECT 1 FROM rollouts"
		"  WHERE flag = $1 AND state IN ('running', 'paused'))",
	[P_EVIDENCE_WINDOWS] = "SELECT w.arm, w.sketched_exposures,"
		" w.sketched_errors, w.units, w.error_units, w.error_sq,"
		" w.errors_unmapped, w.error_max FROM evidence AS w" STATS_FILTER
		" AND w.units IS NOT NULL",
	/* The rows of windows closed before $1, taken out to be merged. */
	[P_EVIDENCE_SETTLE] = "DELETE FROM evidence WHERE window_ms < $1"
		" AND instance IS NOT NULL RETURNING flag, arm, config_version,"
		" window_ms, instance, last_ms, " EVIDENCE_COLS,
	/* The contribution of an instance so far, to merge with more. */
	[P_EVIDENCE_TAKE] = "DELETE FROM evidence WHERE flag = $1"
		" AND arm = $2 AND config_version = $3 AND instance = $4"
		" AND window_ms IS NULL RETURNING flag, arm, config_version,"
		" window_ms, instance, last_ms, " EVIDENCE_COLS,
	[P_CONTRIB_SIZES] = "SELECT instance, arm, " SAT_SUM("exposures")
		CONTRIB_FILTER " GROUP BY instance, arm",
	[P_CONTRIB_ROWS] = "SELECT instance, arm, " EVIDENCE_COLS
		CONTRIB_FILTER,
	[P_LATENCY_SEEN] = "SELECT 1 FROM totals WHERE flag = $1"
		" AND latency > 0 LIMIT 1",
	[P_PRUNE_EVIDENCE] = "DELETE FROM evidence WHERE last_ms < $1",
	[P_DUMP_EVIDENCE] = "SELECT flag, arm, config_version, instance,"
		" last_ms, " EVIDENCE_COLS " FROM evidence"
		" WHERE instance IS NOT NULL ORDER BY flag COLLATE \"C\", arm,"
		" config_version, last_ms",
	[P_STATS_SUMS] = "SELECT w.arm, " SAT_SUM("w.exposures") ","
		" " SAT_SUM("w.errors") ", " SAT_SUM("w.latency_zero") ","
		" count(DISTINCT (w.config_version, w.window_ms)),"
		" min(w.window_ms), max(w.window_ms)"
		" FROM windows AS w" STATS_FILTER " GROUP BY w.arm",
	[P_STATS_HIST] = "SELECT w.arm, u.i, " SAT_SUM("u.c")
		" FROM windows AS w"
		" CROSS JOIN LATERAL unnest(w.lat_idx, w.lat_cnt) AS u(i, c)"
		STATS_FILTER " GROUP BY w.arm, u.i",
	/* The series, window by window: per (window, arm) first its sums
	 * (kind 0), then its histogram bins (kind 1), so one pass in this
	 * order rebuilds each window. */
	[P_SERIES] = "WITH f AS (SELECT w.* FROM windows AS w" STATS_FILTER ")"
		" SELECT window_ms, arm, 0 AS kind, NULL::integer AS i,"
		" " SAT_SUM("exposures") ", " SAT_SUM("errors") ","
		" " SAT_SUM("latency_zero") ", count(DISTINCT config_version)"
		" FROM f GROUP BY window_ms, arm"
		" UNION ALL SELECT f.window_ms, f.arm, 1, u.i, " SAT_SUM("u.c") ","
		" 0, 0, 0 FROM f"
		" CROSS JOIN LATERAL unnest(f.lat_idx, f.lat_cnt) AS u(i, c)"
		" GROUP BY f.window_ms, f.arm, u.i ORDER BY 1, 2, 3, 4",
	[P_TOTALS] = "SELECT flag, arm, " SAT_SUM("exposures") ","
		" " SAT_SUM("errors") ", " SAT_SUM("latency") " FROM totals"
		" GROUP BY flag, arm"
		" ORDER BY flag COLLATE \"C\", arm",
	[P_PRUNE_BATCHES] = "DELETE FROM batches WHERE received_ms < $1",
	[P_PRUNE_WINDOWS] = "DELETE FROM windows WHERE window_ms < $1",
	[P_PRUNE_METRICS] = "DELETE FROM metrics WHERE window_ms < $1",
	[P_COMPACT_WINDOWS] = SETTLED("windows") ","
		" counts AS (SELECT flag, arm, config_version, window_ms,"
		"  " SAT_SUM("exposures") " AS e, " SAT_SUM("errors") " AS r,"
		"  " SAT_SUM("latency_zero") " AS z FROM moved GROUP BY 1, 2, 3, 4),"
		" bins AS (SELECT m.flag, m.arm, m.config_version, m.window_ms,"
		"  u.i, " SAT_SUM("u.c") " AS c FROM moved AS m"
		"  CROSS JOIN LATERAL unnest(m.lat_idx, m.lat_cnt) AS u(i, c)"
		"  GROUP BY 1, 2, 3, 4, 5),"
		" hist AS (SELECT flag, arm, config_version, window_ms,"
		"  array_agg(i ORDER BY i) AS idx, array_agg(c ORDER BY i) AS cnt"
		"  FROM bins GROUP BY 1, 2, 3, 4)"
		" INSERT INTO windows AS w(flag, arm, config_version, window_ms,"
		"  shard, exposures, errors, latency_zero, lat_idx, lat_cnt)"
		" SELECT c.flag, c.arm, c.config_version, c.window_ms, 0, c.e,"
		"  c.r, c.z, coalesce(h.idx, '{}'), coalesce(h.cnt, '{}')"
		" FROM counts AS c LEFT JOIN hist AS h"
		"  USING (flag, arm, config_version, window_ms)"
		" ON CONFLICT" WINDOW_KEY " DO UPDATE SET" WINDOW_MERGE,
	[P_COMPACT_METRICS] = SETTLED("metrics")
		" INSERT INTO metrics AS m(flag, arm, config_version, window_ms,"
		"  shard, name, count, sum)"
		" SELECT flag, arm, config_version, window_ms, 0, name,"
		"  " SAT_SUM("count") ", sum(sum) FROM moved"
		"  GROUP BY flag, arm, config_version, window_ms, name"
		" ON CONFLICT(flag, config_version, window_ms, arm, shard, name)"
		" DO UPDATE SET" METRIC_MERGE,
	[P_ROLLOUT_INSERT] = "INSERT INTO rollouts(flag, spec, state, step,"
		" step_start_ms, step_version, reason, created_ms, updated_ms,"
		" rev, pass_since_ms, alert_since_ms, prev_step_version)"
		" VALUES($1, $2, $3, $4, $5, $6, $7, $8, $8, 1, $9, $10, $11)"
		" RETURNING id",
	[P_ROLLOUT_UPDATE] = "UPDATE rollouts SET state = $1, step = $2,"
		" step_start_ms = $3, step_version = $4, reason = $5,"
		" updated_ms = $6, rev = rev + 1, pass_since_ms = $9,"
		" alert_since_ms = $10, prev_step_version = $11"
		" WHERE id = $7 AND rev = $8",
	[P_DECISION_INSERT] = "INSERT INTO decisions(rollout_id, time_ms,"
		" body) VALUES($1, $2, $3)",
	[P_ROLLOUT_LATEST] = "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE flag = $1 ORDER BY id DESC LIMIT 1",
	[P_ROLLOUTS_ACTIVE] = "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE state IN ('running', 'paused') ORDER BY id",
	[P_ROLLOUTS_LATEST_ALL] = "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE id IN (SELECT max(id) FROM rollouts GROUP BY flag)"
		" ORDER BY flag COLLATE \"C\"",
	[P_DECISIONS_COUNT] =
		"SELECT count(*) FROM decisions WHERE rollout_id = $1",
	[P_DECISIONS_LAST] = "SELECT body FROM (SELECT id, body"
		" FROM decisions WHERE rollout_id = $1 ORDER BY id DESC"
		" LIMIT $2) AS d ORDER BY id",
	[P_DECISION_REPLACE] = "UPDATE decisions SET time_ms = $2, body = $3"
		" WHERE id = (SELECT max(id) FROM decisions"
		" WHERE rollout_id = $1)",
	[P_PRUNE_DECISIONS] = "DELETE FROM decisions WHERE rollout_id IN"
		" (SELECT id FROM rollouts WHERE state IN ('rolled_back',"
		" 'completed') AND updated_ms < $1)",
	/* Every rollout keeps its first $1 and its last $2 records. */
	[P_CAP_DECISIONS] = "DELETE FROM decisions WHERE id IN (SELECT id"
		" FROM (SELECT id, row_number() OVER (PARTITION BY rollout_id"
		" ORDER BY id) AS head, row_number() OVER (PARTITION BY"
		" rollout_id ORDER BY id DESC) AS tail FROM decisions) AS d"
		" WHERE head > $1 AND tail > $2)",
	[P_LEASE_TAKE] = "INSERT INTO leases AS l(name, holder, token,"
		" expires_ms) VALUES($1, $2, 1, " NOW_MS " + $3)"
		" ON CONFLICT(name) DO UPDATE SET"
		" token = CASE WHEN l.holder = excluded.holder THEN l.token"
		"  ELSE l.token + 1 END,"
		" holder = excluded.holder, expires_ms = excluded.expires_ms"
		" WHERE l.holder = excluded.holder OR l.expires_ms < " NOW_MS
		" RETURNING token",
	/* FOR SHARE: a takeover (an UPDATE of the row) waits for the
	 * transaction that checked the lease to end. */
	[P_LEASE_CHECK] = "SELECT 1 FROM leases WHERE name = $1"
		" AND holder = $2 AND token = $3 AND expires_ms > " NOW_MS
		" FOR SHARE",
	[P_DUMP_BATCHES] = "SELECT batch_id, instance_id, received_ms,"
		" windows, dropped_batches, dropped_windows FROM batches"
		" ORDER BY received_ms, batch_id",
	[P_DUMP_WINDOWS] = "SELECT w.flag, w.arm, w.config_version,"
		" w.window_ms, w.exposures, w.errors, w.latency_zero,"
		" w.lat_idx, w.lat_cnt, m.names, m.counts, m.sums"
		" FROM windows AS w LEFT JOIN LATERAL (SELECT"
		"  array_agg(name ORDER BY name) AS names,"
		"  array_agg(count ORDER BY name) AS counts,"
		"  array_agg(sum ORDER BY name) AS sums FROM metrics"
		"  WHERE flag = w.flag AND arm = w.arm"
		"  AND config_version = w.config_version"
		"  AND window_ms = w.window_ms AND shard = w.shard) AS m ON true"
		" ORDER BY w.flag COLLATE \"C\", w.arm, w.config_version,"
		" w.window_ms, w.shard",
	[P_DUMP_ROLLOUTS] = "SELECT " ROLLOUT_COLS " FROM rollouts"
		" ORDER BY id",
	[P_DUMP_DECISIONS] = "SELECT rollout_id, time_ms, body"
		" FROM decisions ORDER BY id",
	[P_LOAD_EMPTY] = "SELECT (SELECT value FROM meta"
		" WHERE key = 'config_version') = 1"
		" AND NOT EXISTS (SELECT 1 FROM flags)"
		" AND NOT EXISTS (SELECT 1 FROM segments)"
		" AND NOT EXISTS (SELECT 1 FROM batches)"
		" AND NOT EXISTS (SELECT 1 FROM windows)"
		" AND NOT EXISTS (SELECT 1 FROM totals)"
		" AND NOT EXISTS (SELECT 1 FROM rollouts)"
		" AND NOT EXISTS (SELECT 1 FROM tokens)"
		" AND NOT EXISTS (SELECT 1 FROM audit)"
		" AND NOT EXISTS (SELECT 1 FROM webhooks)",
	[P_LOAD_VERSION] = "UPDATE meta SET value = $1"
		" WHERE key = 'config_version'",
	/* $1..$11 as P_ROLLOUT_INSERT's (cs_pg_rollout_params). */
	[P_LOAD_ROLLOUT] = "INSERT INTO rollouts(flag, spec, state, step,"
		" step_start_ms, step_version, reason, created_ms,"
		" pass_since_ms, alert_since_ms, prev_step_version, updated_ms,"
		" rev, id) VALUES($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11,"
		" $12, $13, $14)",
	[P_LOAD_SEQUENCE] = "SELECT setval(pg_get_serial_sequence("
		"'rollouts', 'id'), (SELECT max(id) FROM rollouts)),"
		" setval(pg_get_serial_sequence('audit', 'id'),"
		" (SELECT max(id) FROM audit)),"
		" setval(pg_get_serial_sequence('webhooks', 'id'),"
		" (SELECT max(id) FROM webhooks)),"
		" setval(pg_get_serial_sequence('deliveries', 'id'),"
		" (SELECT max(id) FROM deliveries))",
	[P_ROLLOUT_LIVE] = "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE flag = $1 AND state IN ('running', 'paused')",
	[P_METRIC_SUMS] = "SELECT w.arm, w.name, " SAT_SUM("w.count") ","
		" sum(w.sum) FROM metrics AS w" STATS_FILTER
		" GROUP BY w.arm, w.name ORDER BY w.arm, w.name COLLATE \"C\"",
	[P_PRUNE_AUDIT] = "DELETE FROM audit WHERE time_ms < $1",
	[P_PRUNE_DELIVERIES] = "DELETE FROM deliveries WHERE created_ms < $1"
		" AND state <> 'pending'",
	[P_AUDIT_INSERT] = "INSERT INTO audit(time_ms, actor, action, flag,"
		" config_version, body, segment)"
		" VALUES($1, $2, $3, $4, $5, $6, $7) RETURNING id",
	/* One delivery per webhook that wants the event ("" wants all). */
	[P_DELIVERY_ENQUEUE] = "INSERT INTO deliveries(webhook_id, audit_id,"
		" event, flag, payload, state, attempts, next_ms, created_ms,"
		" updated_ms, last_status, last_error)"
		" SELECT id, $1, $2, $3, $4, 'pending', 0, $5, $5, $5, 0, ''"
		" FROM webhooks WHERE events = ''"
		" OR $2 = ANY(string_to_array(events, ','))",
	[P_AUDIT_LIST] = "SELECT id, body FROM audit"
		" WHERE ($1::text IS NULL OR flag = $1)"
		" AND ($2::text IS NULL OR actor = $2) AND time_ms >= $3"
		" AND ($4::bigint = 0 OR time_ms < $4)"
		" AND ($5::bigint = 0 OR id < $5)"
		" AND ($7::text IS NULL OR segment = $7)"
		" ORDER BY id DESC LIMIT $6",
	[P_TOKEN_INSERT] = "INSERT INTO tokens(" TOKEN_COLS ")"
		" VALUES($1, $2, $3, $4, $5, $6)",
	[P_TOKEN_FIND] = "SELECT " TOKEN_COLS " FROM tokens WHERE id = $1",
	[P_TOKEN_NAMED] = "SELECT " TOKEN_COLS " FROM tokens WHERE name = $1"
		" FOR UPDATE",
	[P_TOKENS_ALL] = "SELECT " TOKEN_COLS " FROM tokens"
		" ORDER BY name COLLATE \"C\"",
	[P_TOKEN_DELETE] = "DELETE FROM tokens WHERE name = $1",
	[P_WEBHOOK_INSERT] = "INSERT INTO webhooks(url, secret, events,"
		" created_ms, created_by) VALUES($1, $2, $3, $4, $5) RETURNING id",
	[P_WEBHOOK_GET] = "SELECT " WEBHOOK_COLS " FROM webhooks WHERE id = $1"
		" FOR UPDATE",
	[P_WEBHOOK_DELETE] = "DELETE FROM webhooks WHERE id = $1",
	[P_WEBHOOK_DELIVERIES_DELETE] =
		"DELETE FROM deliveries WHERE webhook_id = $1",
	[P_WEBHOOKS_ALL] = "SELECT " WEBHOOK_COLS " FROM webhooks ORDER BY id",
	[P_DELIVERIES_DUE] = "SELECT " DELIVERY_COLS ", d.payload, w.url,"
		" w.secret FROM deliveries AS d JOIN webhooks AS w"
		" ON w.id = d.webhook_id WHERE d.state = 'pending'"
		" AND d.next_ms <= $1 ORDER BY d.next_ms, d.id LIMIT $2",
	[P_DELIVERY_UPDATE] = "UPDATE deliveries SET state = $2,"
		" attempts = attempts + 1, next_ms = $3, updated_ms = $4,"
		" last_status = $5, last_error = $6 WHERE id = $1",
	[P_DELIVERIES_OF] = "SELECT " DELIVERY_COLS " FROM deliveries AS d"
		" WHERE d.webhook_id = $1 ORDER BY d.id DESC LIMIT $2",
	[P_DUMP_AUDIT] = "SELECT id, time_ms, actor, action, flag,"
		" config_version, body, segment FROM audit ORDER BY id",
	[P_DUMP_DELIVERIES] = "SELECT " DELIVERY_COLS ", d.payload"
		" FROM deliveries AS d ORDER BY d.id",
	[P_LOAD_AUDIT] = "INSERT INTO audit(id, time_ms, actor, action, flag,"
		" config_version, body, segment)"
		" VALUES($1, $2, $3, $4, $5, $6, $7, $8)",
	[P_LOAD_WEBHOOK] = "INSERT INTO webhooks(id, url, secret, events,"
		" created_ms, created_by) VALUES($1, $2, $3, $4, $5, $6)",
	[P_LOAD_DELIVERY] = "INSERT INTO deliveries(id, webhook_id, audit_id,"
		" event, flag, state, attempts, next_ms, created_ms, updated_ms,"
		" last_status, last_error, payload) VALUES($1, $2, $3, $4, $5,"
		" $6, $7, $8, $9, $10, $11, $12, $13)",
};

const char *cs_pg_sql(int which)
{
	return statements[which];
}

/* ---- migrations ------------------------------------------------------ */

/* Run constant SQL (DDL); CANARY_OK when it succeeded. */
static int exec_const(PGconn *db, const char *sql)
{
	PGresult *r = PQexec(db, sql);
	ExecStatusType st = PQresultStatus(r);

	PQclear(r);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK ? CANARY_OK :
		CANARY_ESTORAGE;
}

/*
 * Before anything is written into it: is the database ours? One whose
 * schema holds no table yet, or our schema_version table, is; one that
 * holds another application's tables is left as it was.
 */
static int check_ours(PGconn *db, const char *where, char *err,
	size_t errlen)
{
	PGresult *r = PQexec(db, "SELECT"
		" to_regclass('schema_version') IS NOT NULL,"
		" (SELECT count(*) FROM information_schema.tables"
		"  WHERE table_schema = current_schema())");
	int rc = CANARY_ESTORAGE;

	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		if (strcmp(PQgetvalue(r, 0, 0), "t") == 0 ||
		    strcmp(PQgetvalue(r, 0, 1), "0") == 0)
			rc = CANARY_OK;
		else
			snprintf(err, errlen, "%s is not a canary-server database "
				"(its schema holds %s tables of another "
				"application); refusing to change it", where,
				PQgetvalue(r, 0, 1));
	} else {
		snprintf(err, errlen, "looking at %s: %s", where,
			PQerrorMessage(db));
	}
	PQclear(r);
	return rc;
}

static int read_schema_version(PGconn *db, int *out)
{
	PGresult *r;
	int rc = CANARY_ESTORAGE;

	*out = 0;
	if (exec_const(db, "CREATE TABLE IF NOT EXISTS schema_version("
		"version integer NOT NULL)") != CANARY_OK)
		return rc;
	r = PQexec(db, "SELECT coalesce(max(version), 0) FROM schema_version");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1) {
		*out = atoi(PQgetvalue(r, 0, 0));
		rc = CANARY_OK;
	}
	PQclear(r);
	return rc;
}

static int record_version(PGconn *db, int version)
{
	char num[16];
	const char *v[1] = { num };
	PGresult *r;
	int rc;

	snprintf(num, sizeof(num), "%d", version);
	r = PQexecParams(db, "INSERT INTO schema_version(version) VALUES($1)",
		1, NULL, v, NULL, NULL, 0);
	rc = PQresultStatus(r) == PGRES_COMMAND_OK ? CANARY_OK :
		CANARY_ESTORAGE;
	PQclear(r);
	return rc;
}

/* Inside the migration transaction: bring the schema up to date. */
static int migrate_in(PGconn *db, int *version, char *err, size_t errlen)
{
	int v, rc = read_schema_version(db, &v);

	if (rc != CANARY_OK) {
		snprintf(err, errlen, "reading the schema version: %s",
			PQerrorMessage(db));
		return rc;
	}
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema %d is newer than this "
			"server's (%d)", v, SCHEMA_VERSION);
		return CANARY_ESTORAGE;
	}
	for (; rc == CANARY_OK && v < SCHEMA_VERSION; v++) {
		rc = exec_const(db, migrations[v]);
		if (rc == CANARY_OK)
			rc = record_version(db, v + 1);
		if (rc != CANARY_OK)
			snprintf(err, errlen, "migration %d: %s", v + 1,
				PQerrorMessage(db));
	}
	*version = v;
	return rc;
}

static int migrate(struct cs_store_impl *s, PGconn *db, char *err,
	size_t errlen)
{
	int rc = exec_const(db, "BEGIN");

	if (rc == CANARY_OK)
		rc = exec_const(db, "SELECT pg_advisory_xact_lock("
			MIGRATION_LOCK ")");
	if (rc != CANARY_OK) {
		snprintf(err, errlen, "cannot begin the migration: %s",
			PQerrorMessage(db));
		return rc;
	}
	rc = check_ours(db, s->where, err, errlen);
	if (rc == CANARY_OK)
		rc = migrate_in(db, &s->schema_version, err, errlen);
	if (rc == CANARY_OK && exec_const(db, "COMMIT") != CANARY_OK) {
		snprintf(err, errlen, "committing the migration: %s",
			PQerrorMessage(db));
		rc = CANARY_ESTORAGE;
	}
	if (rc != CANARY_OK)
		exec_const(db, "ROLLBACK");
	return rc;
}

/* ---- opening --------------------------------------------------------- */

/* First connection: reach the database, migrate it, check the SQL. */
static int first_contact(struct cs_store_impl *s, char *err, size_t errlen)
{
	PGconn *db = cs_pg_connect(s->location);
	int rc;

	if (!db || PQstatus(db) != CONNECTION_OK) {
		snprintf(err, errlen, "cannot connect to %s: %s", s->where,
			db ? PQerrorMessage(db) : "out of memory");
		PQfinish(db);
		return CS_EUNAVAILABLE;
	}
	rc = migrate(s, db, err, errlen);
	if (rc == CANARY_OK && cs_pg_prepare_all(db) != CANARY_OK) {
		snprintf(err, errlen, "preparing statements: %s",
			PQerrorMessage(db));
		rc = CANARY_ESTORAGE;
	}
	PQfinish(db);
	return rc;
}

void cs_pg_close(struct cs_store_impl *s)
{
	if (!s)
		return;
	cs_pg_watch_stop(s);
	cs_pg_pool_close(s);
	pthread_cond_destroy(&s->freed);
	pthread_mutex_destroy(&s->lock);
	cs_unreadable_destroy(&s->unreadable);
	free(s->location);
	free(s);
}

int cs_pg_open(struct cs_store_impl **out, const cs_store_options *o,
	char *err, size_t errlen)
{
	struct cs_store_impl *s = calloc(1, sizeof(*s));
	int rc;

	*out = NULL;
	if (!s || !(s->location = strdup(o->location))) {
		free(s);
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	pthread_cond_init(&s->freed, NULL);
	cs_unreadable_init(&s->unreadable);
	s->max_config_bytes = o->max_config_bytes;
	cs_store_describe(o->location, s->where, sizeof(s->where));
	/* One more than the readers: the front end reads the config to
	 * publish it while a handler may hold one. */
	rc = cs_pg_pool_open(s, (o->readers ? o->readers : 4) + 1);
	if (rc == CANARY_OK)
		rc = first_contact(s, err, errlen);
	if (rc != CANARY_OK) {
		cs_pg_close(s);
		return rc;
	}
	*out = s;
	return CANARY_OK;
}

int cs_pg_schema_version(struct cs_store_impl *s)
{
	return s->schema_version;
}
