/*
 * store.c - SQLite persistence for canary-server.
 *
 * One connection, one mutex, statements prepared once at open. WAL mode so
 * a reader never blocks the writer. A 202 for an event batch is sent only
 * after COMMIT returns; with synchronous=FULL the WAL is fsynced on each
 * commit, so an acknowledged batch survives kill -9 and power loss alike
 * (NORMAL would survive only the former). Batches are ~1 per instance per
 * flush interval, so one fsync per batch is cheap.
 */
#include "store/storage.h"

#include <cjson/cJSON.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alloc.h"
#include "store/hist_blob.h"

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
	/* 2: rollouts and their decision history (rollout_store.c). The
	 * partial unique index is the "one active rollout per flag" rule. */
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
};
#define SCHEMA_VERSION ((int)(sizeof(migrations) / sizeof(migrations[0])))

enum {
	S_BEGIN, S_COMMIT, S_ROLLBACK,
	S_VERSION_GET, S_VERSION_BUMP,
	S_FLAG_GET, S_FLAGS_ALL, S_FLAG_INSERT, S_FLAG_UPSERT, S_FLAG_DELETE,
	S_BATCH_INSERT, S_WIN_UPSERT, S_METRIC_UPSERT,
	S_TOTAL_UPSERT, S_STATS_WIN, S_TOTALS, S_PRUNE,
	S_COUNT
};

static const char *const sql[S_COUNT] = {
	[S_BEGIN] = "BEGIN IMMEDIATE",
	[S_COMMIT] = "COMMIT",
	[S_ROLLBACK] = "ROLLBACK",
	[S_VERSION_GET] = "SELECT value FROM meta WHERE key = 'config_version'",
	[S_VERSION_BUMP] = "UPDATE meta SET value = value + 1"
		" WHERE key = 'config_version'",
	[S_FLAG_GET] = "SELECT body FROM flags WHERE key = ?1",
	[S_FLAGS_ALL] = "SELECT body FROM flags ORDER BY key",
	[S_FLAG_INSERT] = "INSERT INTO flags(key, body, updated_ms)"
		" VALUES(?1, ?2, ?3)",
	[S_FLAG_UPSERT] = "INSERT INTO flags(key, body, updated_ms)"
		" VALUES(?1, ?2, ?3) ON CONFLICT(key) DO UPDATE SET"
		" body = excluded.body, updated_ms = excluded.updated_ms",
	[S_FLAG_DELETE] = "DELETE FROM flags WHERE key = ?1",
	[S_BATCH_INSERT] = "INSERT OR IGNORE INTO batches(batch_id,"
		" instance_id, received_ms, windows, dropped_batches,"
		" dropped_windows) VALUES(?1, ?2, ?3, ?4, ?5, ?6)",
	[S_WIN_UPSERT] = "INSERT INTO windows(flag, arm, config_version,"
		" window_ms, exposures, errors, latency_zero, latency)"
		" VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)"
		" ON CONFLICT DO UPDATE SET"
		" exposures = exposures + excluded.exposures,"
		" errors = errors + excluded.errors,"
		" latency_zero = latency_zero + excluded.latency_zero,"
		" latency = canary_hist_merge(latency, excluded.latency)",
	[S_METRIC_UPSERT] = "INSERT INTO metrics(flag, arm, config_version,"
		" window_ms, name, count, sum) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7)"
		" ON CONFLICT DO UPDATE SET count = count + excluded.count,"
		" sum = sum + excluded.sum",
	[S_TOTAL_UPSERT] = "INSERT INTO totals(flag, arm, exposures, errors)"
		" VALUES(?1, ?2, ?3, ?4) ON CONFLICT DO UPDATE SET"
		" exposures = exposures + excluded.exposures,"
		" errors = errors + excluded.errors",
	[S_STATS_WIN] = "SELECT arm, exposures, errors, latency_zero, latency"
		" FROM windows WHERE flag = ?1"
		" AND (?2 IS NULL OR config_version = ?2) AND window_ms >= ?3"
		" AND (?4 = 0 OR window_ms < ?4) AND config_version >= ?5",
	[S_TOTALS] = "SELECT flag, arm, exposures, errors FROM totals"
		" ORDER BY flag, arm",
	[S_PRUNE] = "DELETE FROM batches WHERE received_ms < ?1",
};

struct cs_store {
	sqlite3 *db;
	sqlite3_stmt *st[S_COUNT];
	pthread_mutex_t lock;
	cs_store_change_fn on_change;
	void *on_change_ctx;
	int schema_version;
};

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

/* Run a prepared statement that returns no rows; reset it either way. */
static int step_done(sqlite3_stmt *st)
{
	int rc = sqlite3_step(st);

	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

static void reset(sqlite3_stmt *st)
{
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
}

static int begin(cs_store *s)
{
	return step_done(s->st[S_BEGIN]);
}

/* Commit, or roll back when `rc` says the transaction failed. */
static int finish(cs_store *s, int rc)
{
	if (rc == CANARY_OK) {
		rc = step_done(s->st[S_COMMIT]);
		if (rc == CANARY_OK)
			return CANARY_OK;
	}
	if (!sqlite3_get_autocommit(s->db))
		step_done(s->st[S_ROLLBACK]);
	return rc;
}

static int read_version(cs_store *s, uint64_t *out)
{
	sqlite3_stmt *st = s->st[S_VERSION_GET];
	int rc = CANARY_ESTORAGE;

	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = CANARY_OK;
	}
	reset(st);
	return rc;
}

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

static int migrate(cs_store *s, char *err, size_t errlen)
{
	int v;

	if (get_schema_version(s->db, &v) != CANARY_OK) {
		snprintf(err, errlen, "reading schema version: %s",
			sqlite3_errmsg(s->db));
		return CANARY_ESTORAGE;
	}
	if (v > SCHEMA_VERSION) {
		snprintf(err, errlen, "database schema %d is newer than this "
			"server's (%d)", v, SCHEMA_VERSION);
		return CANARY_ESTORAGE;
	}
	for (; v < SCHEMA_VERSION; v++) {
		if (apply_migration(s->db, v + 1) != CANARY_OK) {
			snprintf(err, errlen, "migration %d: %s", v + 1,
				sqlite3_errmsg(s->db));
			return CANARY_ESTORAGE;
		}
	}
	s->schema_version = v;
	return CANARY_OK;
}

static int configure(cs_store *s, cs_sync_mode sync, char *err, size_t errlen)
{
	sqlite3_busy_timeout(s->db, 5000);
	if (exec_pragma(s->db, "PRAGMA journal_mode=WAL", "wal") != CANARY_OK) {
		snprintf(err, errlen, "cannot enable WAL mode");
		return CANARY_ESTORAGE;
	}
	if (exec_pragma(s->db, sync == CS_SYNC_NORMAL ?
		"PRAGMA synchronous=NORMAL" : "PRAGMA synchronous=FULL", NULL) !=
	    CANARY_OK) {
		snprintf(err, errlen, "cannot set synchronous mode");
		return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

static int prepare_all(cs_store *s, char *err, size_t errlen)
{
	int i;

	for (i = 0; i < S_COUNT; i++) {
		if (sqlite3_prepare_v3(s->db, sql[i], -1,
			SQLITE_PREPARE_PERSISTENT, &s->st[i], NULL) != SQLITE_OK) {
			snprintf(err, errlen, "preparing statement %d: %s", i,
				sqlite3_errmsg(s->db));
			return CANARY_ESTORAGE;
		}
	}
	return CANARY_OK;
}

int cs_store_open(cs_store **out, const char *path, cs_sync_mode sync,
	char *err, size_t errlen)
{
	cs_store *s;
	int rc;

	*out = NULL;
	s = calloc(1, sizeof(*s));
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	pthread_mutex_init(&s->lock, NULL);
	if (sqlite3_open_v2(path, &s->db, SQLITE_OPEN_READWRITE |
		SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL) != SQLITE_OK) {
		snprintf(err, errlen, "opening %s: %s", path,
			s->db ? sqlite3_errmsg(s->db) : "out of memory");
		rc = CANARY_ESTORAGE;
		goto done;
	}
	rc = configure(s, sync, err, errlen);
	if (rc == CANARY_OK && cs_hist_blob_register(s->db) != CANARY_OK) {
		snprintf(err, errlen, "cannot register SQL functions");
		rc = CANARY_ESTORAGE;
	}
	if (rc == CANARY_OK)
		rc = migrate(s, err, errlen);
	if (rc == CANARY_OK)
		rc = prepare_all(s, err, errlen);
done:
	if (rc != CANARY_OK) {
		cs_store_close(s);
		return rc;
	}
	*out = s;
	return CANARY_OK;
}

void cs_store_close(cs_store *s)
{
	int i;

	if (!s)
		return;
	for (i = 0; i < S_COUNT; i++)
		sqlite3_finalize(s->st[i]);
	sqlite3_close(s->db);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

void cs_store_on_change(cs_store *s, cs_store_change_fn fn, void *ctx)
{
	s->on_change = fn;
	s->on_change_ctx = ctx;
}

int cs_store_schema_version(cs_store *s)
{
	return s->schema_version;
}

/* Decode a stored flag body (written by us, but validated all the same). */
static int decode_flag(const char *body, int len, canary__flag *out)
{
	char err[CANARY__ERRBUF];
	cJSON *obj = cJSON_ParseWithLength(body, (size_t)len);
	int rc;

	if (!obj)
		return CANARY_ESTORAGE;
	rc = canary__flag_from_json(canary__alloc_default(), obj, "flag", out,
		err, sizeof(err));
	cJSON_Delete(obj);
	return rc == CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
}

static int load_config(cs_store *s, canary__config **out)
{
	const canary__alloc *a = canary__alloc_default();
	sqlite3_stmt *st = s->st[S_FLAGS_ALL];
	canary__config *c;
	size_t cap = 0;
	int rc = CANARY_OK, step;

	*out = NULL;
	c = calloc(1, sizeof(*c));
	if (!c)
		return CANARY_ENOMEM;
	rc = read_version(s, &c->version);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		if (c->count == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			canary__flag *f = realloc(c->flags, ncap * sizeof(*f));

			if (!f) {
				rc = CANARY_ENOMEM;
				break;
			}
			c->flags = f;
			cap = ncap;
		}
		rc = decode_flag((const char *)sqlite3_column_text(st, 0),
			sqlite3_column_bytes(st, 0), &c->flags[c->count]);
		if (rc == CANARY_OK)
			c->count++;
	}
	reset(st);
	if (rc != CANARY_OK) {
		canary__config_free(a, c);
		return rc;
	}
	*out = c;
	return CANARY_OK;
}

int cs_store_config(cs_store *s, canary__config **out)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = load_config(s, out);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int flag_get_locked(cs_store *s, const char *key, canary__flag *out)
{
	sqlite3_stmt *st = s->st[S_FLAG_GET];
	int rc;

	memset(out, 0, sizeof(*out));
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = decode_flag((const char *)sqlite3_column_text(st, 0),
			sqlite3_column_bytes(st, 0), out);
		break;
	case SQLITE_DONE:
		rc = CS_ENOTFOUND;
		break;
	default:
		rc = CANARY_ESTORAGE;
		break;
	}
	reset(st);
	return rc;
}

int cs_store_flag_get(cs_store *s, const char *key, canary__flag *out)
{
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = flag_get_locked(s, key, out);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static int write_flag(cs_store *s, const canary__flag *f, int which)
{
	sqlite3_stmt *st = s->st[which];
	cJSON *obj = canary__flag_to_json(f);
	char *body = obj ? cJSON_PrintUnformatted(obj) : NULL;
	int rc;

	cJSON_Delete(obj);
	if (!body)
		return CANARY_ENOMEM;
	sqlite3_bind_text(st, 1, f->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now_ms());
	rc = sqlite3_step(st);
	reset(st);
	cJSON_free(body);
	if (rc == SQLITE_CONSTRAINT)
		return CS_EEXISTS;
	return rc == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

/* Bump the version and publish: the tail of every config change. */
static int bump(cs_store *s, uint64_t *version)
{
	int rc = step_done(s->st[S_VERSION_BUMP]);
	uint64_t v = 0;

	if (rc == CANARY_OK)
		rc = read_version(s, &v);
	if (version)
		*version = v;
	return rc;
}

static void publish(cs_store *s);

/* The tail of every config change: bump, run the caller's part of the
 * transaction (if any), commit, publish. */
static int commit_change_txn(cs_store *s, int rc, cs_store_txn_fn fn,
	void *ctx, uint64_t *version)
{
	uint64_t v = 0;

	if (rc == CANARY_OK)
		rc = bump(s, &v);
	if (rc == CANARY_OK && fn)
		rc = fn(s->db, v, ctx);
	if (version)
		*version = v;
	rc = finish(s, rc);
	if (rc == CANARY_OK)
		publish(s);
	return rc;
}

static int commit_change(cs_store *s, int rc, uint64_t *version)
{
	return commit_change_txn(s, rc, NULL, NULL, version);
}

static void publish(cs_store *s)
{
	canary__config *c = NULL;

	if (!s->on_change)
		return;
	if (load_config(s, &c) == CANARY_OK)
		s->on_change(c, s->on_change_ctx);
	else
		fprintf(stderr, "canary-server: cannot reload the config after "
			"a change\n");
	canary__config_free(canary__alloc_default(), c);
}

int cs_store_flag_put(cs_store *s, const canary__flag *f, cs_put_mode mode,
	bool *created, uint64_t *version)
{
	canary__flag old;
	int rc, exists;

	pthread_mutex_lock(&s->lock);
	rc = begin(s);
	if (rc != CANARY_OK)
		goto done;
	exists = flag_get_locked(s, f->key, &old);
	canary__flag_clear(canary__alloc_default(), &old);
	if (exists != CANARY_OK && exists != CS_ENOTFOUND)
		rc = exists;
	else if (exists == CANARY_OK && mode == CS_PUT_CREATE)
		rc = CS_EEXISTS;
	if (rc == CANARY_OK)
		rc = write_flag(s, f, S_FLAG_UPSERT);
	rc = commit_change(s, rc, version);
	if (rc == CANARY_OK && created)
		*created = exists == CS_ENOTFOUND;
done:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int cs_store_flag_modify(cs_store *s, const char *key, cs_modify_fn fn,
	void *ctx, uint64_t *version)
{
	return cs_store_flag_modify_txn(s, key, fn, ctx, NULL, NULL, version);
}

int cs_store_flag_modify_txn(cs_store *s, const char *key, cs_modify_fn fn,
	void *ctx, cs_store_txn_fn after, void *after_ctx, uint64_t *version)
{
	const canary__alloc *a = canary__alloc_default();
	canary__flag cur, next;
	int rc;

	memset(&cur, 0, sizeof(cur));
	memset(&next, 0, sizeof(next));
	pthread_mutex_lock(&s->lock);
	rc = begin(s);
	if (rc != CANARY_OK)
		goto done;
	rc = flag_get_locked(s, key, &cur);
	if (rc == CANARY_OK)
		rc = fn(&cur, &next, ctx);
	if (rc == CANARY_OK && (!next.key || strcmp(next.key, key) != 0))
		rc = CANARY_EINVAL; /* a modify may not rename */
	if (rc == CANARY_OK)
		rc = write_flag(s, &next, S_FLAG_UPSERT);
	rc = commit_change_txn(s, rc, after, after_ctx, version);
done:
	pthread_mutex_unlock(&s->lock);
	canary__flag_clear(a, &cur);
	canary__flag_clear(a, &next);
	return rc;
}

int cs_store_flag_delete(cs_store *s, const char *key, uint64_t *version)
{
	sqlite3_stmt *st = s->st[S_FLAG_DELETE];
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = begin(s);
	if (rc != CANARY_OK)
		goto done;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	rc = step_done(st);
	if (rc == CANARY_OK && sqlite3_changes(s->db) == 0)
		rc = CS_ENOTFOUND;
	rc = commit_change(s, rc, version);
done:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

/* Bind the (flag, arm, config_version, window) key shared by the upserts. */
static void bind_key(sqlite3_stmt *st, const cs_window *w, uint64_t window)
{
	sqlite3_bind_text(st, 1, w->flag, -1, SQLITE_STATIC);
	sqlite3_bind_int(st, 2, (int)w->arm);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)w->config_version);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)window);
}

static int ingest_window(cs_store *s, const cs_window *w, uint64_t window)
{
	sqlite3_stmt *st = s->st[S_WIN_UPSERT];
	unsigned char *blob = NULL;
	size_t i, blen = 0;
	int rc = cs_hist_blob_encode(w->bins, w->nbins, &blob, &blen);

	if (rc != CANARY_OK)
		return rc;
	bind_key(st, w, window);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)w->exposures);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)w->errors);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)w->latency_zero);
	if (blob)
		sqlite3_bind_blob64(st, 8, blob, blen, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, 8);
	rc = step_done(st);
	free(blob);
	for (i = 0; rc == CANARY_OK && i < w->nmetrics; i++) {
		st = s->st[S_METRIC_UPSERT];
		bind_key(st, w, window);
		sqlite3_bind_text(st, 5, w->metrics[i].name, -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 6, (sqlite3_int64)w->metrics[i].count);
		sqlite3_bind_double(st, 7, w->metrics[i].sum);
		rc = step_done(st);
	}
	if (rc == CANARY_OK) {
		st = s->st[S_TOTAL_UPSERT];
		sqlite3_bind_text(st, 1, w->flag, -1, SQLITE_STATIC);
		sqlite3_bind_int(st, 2, (int)w->arm);
		sqlite3_bind_int64(st, 3, (sqlite3_int64)w->exposures);
		sqlite3_bind_int64(st, 4, (sqlite3_int64)w->errors);
		rc = step_done(st);
	}
	return rc;
}

/* Claim the batch id; *fresh is false when it was seen before. */
static int claim_batch(cs_store *s, const cs_batch *b, uint64_t now,
	bool *fresh)
{
	sqlite3_stmt *st = s->st[S_BATCH_INSERT];
	int rc;

	sqlite3_bind_text(st, 1, b->batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->instance_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)now);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)b->count);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)b->dropped_batches);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)b->dropped_windows);
	rc = step_done(st);
	*fresh = rc == CANARY_OK && sqlite3_changes(s->db) == 1;
	return rc;
}

int cs_store_ingest(cs_store *s, const cs_batch *b, uint64_t now,
	uint64_t width_ms, bool *duplicate)
{
	uint64_t window = width_ms ? now / width_ms * width_ms : now;
	bool fresh = false;
	size_t i;
	int rc;

	*duplicate = false;
	pthread_mutex_lock(&s->lock);
	rc = begin(s);
	if (rc != CANARY_OK)
		goto done;
	rc = claim_batch(s, b, now, &fresh);
	for (i = 0; rc == CANARY_OK && fresh && i < b->count; i++)
		rc = ingest_window(s, &b->windows[i], window);
	rc = finish(s, rc);
	if (rc == CANARY_OK)
		*duplicate = !fresh;
done:
	pthread_mutex_unlock(&s->lock);
	return rc;
}

static void bind_filter(sqlite3_stmt *st, const char *flag,
	const cs_stats_filter *f)
{
	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	if (f && f->has_config_version)
		sqlite3_bind_int64(st, 2, (sqlite3_int64)f->config_version);
	else
		sqlite3_bind_null(st, 2);
	sqlite3_bind_int64(st, 3, f ? (sqlite3_int64)f->since_ms : 0);
	sqlite3_bind_int64(st, 4, f ? (sqlite3_int64)f->until_ms : 0);
	sqlite3_bind_int64(st, 5, f ? (sqlite3_int64)f->min_config_version : 0);
}

static uint64_t col_u64(sqlite3_stmt *st, int col)
{
	sqlite3_int64 v = sqlite3_column_int64(st, col);

	return v < 0 ? 0 : (uint64_t)v;
}

/* Sum matching rows per arm; histograms merge in C from their blobs. */
static int stats_windows(cs_store *s, const char *flag,
	const cs_stats_filter *f, cs_arm_stats out[CS_ARMS])
{
	sqlite3_stmt *st = s->st[S_STATS_WIN];
	int step, rc = CANARY_OK;

	bind_filter(st, flag, f);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		int arm = sqlite3_column_int(st, 0);
		cs_arm_stats *a;

		if (arm < 0 || arm >= CS_ARMS)
			continue;
		a = &out[arm];
		a->exposures += col_u64(st, 1);
		a->errors += col_u64(st, 2);
		a->latency.zero += col_u64(st, 3);
		a->latency.total += col_u64(st, 3);
		a->windows++;
		rc = cs_hist_blob_add_to(sqlite3_column_blob(st, 4),
			(size_t)sqlite3_column_bytes(st, 4), &a->latency);
	}
	reset(st);
	if (rc != CANARY_OK)
		return rc;
	return step == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

int cs_store_stats(cs_store *s, const char *flag, const cs_stats_filter *f,
	cs_arm_stats out[CS_ARMS])
{
	int rc;

	memset(out, 0, sizeof(*out) * CS_ARMS);
	canary__hist_init(&out[CS_ARM_STABLE].latency);
	canary__hist_init(&out[CS_ARM_CANARY].latency);
	pthread_mutex_lock(&s->lock);
	/* A read transaction so both queries see the same commit. */
	rc = step_done(s->st[S_BEGIN]);
	if (rc == CANARY_OK)
		rc = stats_windows(s, flag, f, out);
	rc = finish(s, rc);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int cs_store_txn(cs_store *s, cs_store_txn_fn fn, void *ctx)
{
	uint64_t v = 0;
	int rc;

	pthread_mutex_lock(&s->lock);
	rc = begin(s);
	if (rc == CANARY_OK)
		rc = read_version(s, &v);
	if (rc == CANARY_OK)
		rc = fn(s->db, v, ctx);
	rc = finish(s, rc);
	pthread_mutex_unlock(&s->lock);
	return rc;
}

int cs_store_totals(cs_store *s, cs_totals_fn fn, void *ctx)
{
	sqlite3_stmt *st = s->st[S_TOTALS];
	int step;

	pthread_mutex_lock(&s->lock);
	while ((step = sqlite3_step(st)) == SQLITE_ROW) {
		int arm = sqlite3_column_int(st, 1);

		if (arm >= 0 && arm < CS_ARMS)
			fn((const char *)sqlite3_column_text(st, 0), (cs_arm)arm,
				col_u64(st, 2), col_u64(st, 3), ctx);
	}
	reset(st);
	pthread_mutex_unlock(&s->lock);
	return step == SQLITE_DONE ? CANARY_OK : CANARY_ESTORAGE;
}

int cs_store_prune_batches(cs_store *s, uint64_t before_ms, uint64_t *removed)
{
	sqlite3_stmt *st = s->st[S_PRUNE];
	int rc;

	pthread_mutex_lock(&s->lock);
	sqlite3_bind_int64(st, 1, (sqlite3_int64)before_ms);
	rc = step_done(st);
	if (removed)
		*removed = rc == CANARY_OK ? (uint64_t)sqlite3_changes(s->db) : 0;
	pthread_mutex_unlock(&s->lock);
	return rc;
}
