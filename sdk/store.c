/*
 * store.c - the SQLite config cache (see store.h).
 */
#define _POSIX_C_SOURCE 200809L
#include "store.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include <sqlite3.h>

#include "error.h"

struct canary__store {
	const canary__alloc *alloc;
	char *path;
	sqlite3 *db;
	sqlite3_stmt *begin, *commit, *rollback;
	sqlite3_stmt *select, *upsert, *touch, *clear;
	bool has_parsed;  /* the file has the `parsed` column */
};

/* Creation is idempotent, so it runs on every open. */
static const char *const schema_sql[] = {
	"CREATE TABLE IF NOT EXISTS canary_schema ("
	" component TEXT PRIMARY KEY NOT NULL,"
	" version INTEGER NOT NULL)",
	"INSERT OR IGNORE INTO canary_schema (component, version)"
	" VALUES ('config_cache', 1)",
	"CREATE TABLE IF NOT EXISTS config_cache ("
	" id INTEGER PRIMARY KEY CHECK (id = 1),"
	" version INTEGER NOT NULL,"
	" etag TEXT NOT NULL DEFAULT '',"
	" fetched_at_ms INTEGER NOT NULL,"
	" body BLOB NOT NULL)",
};

/* Run one statement that returns no rows we need. */
static int exec_sql(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
	if (rc == SQLITE_OK) {
		while ((rc = sqlite3_step(st)) == SQLITE_ROW)
			;
		if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

int canary__store_run(struct sqlite3_stmt *st)
{
	int rc;

	while ((rc = sqlite3_step(st)) == SQLITE_ROW)
		;
	sqlite3_reset(st);
	sqlite3_clear_bindings(st);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

/* SQLITE_OK with the version, SQLITE_DONE when the component has no row. */
static int component_version(sqlite3 *db, const char *component,
	int64_t *out)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT version FROM canary_schema"
		" WHERE component = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_bind_text(st, 1, component, -1, SQLITE_STATIC);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW) {
			*out = sqlite3_column_int64(st, 0);
			rc = SQLITE_OK;
		}
	}
	sqlite3_finalize(st);
	return rc;
}

static int schema_version(sqlite3 *db, int64_t *out)
{
	return component_version(db, "config_cache", out);
}

/*
 * Migration: the `parsed` column (the config's binary form, config_blob.h)
 * is its own component, "config_parsed", so the config_cache schema stays
 * 1 and an older libcanary still reads and writes the file: its INSERT OR
 * REPLACE leaves `parsed` NULL, so a blob never outlives its JSON.
 */
static int add_parsed_column(sqlite3 *db)
{
	int64_t version = 0;
	int rc;

	rc = component_version(db, "config_parsed", &version);
	if (rc == SQLITE_OK)
		return SQLITE_OK;
	if (rc != SQLITE_DONE)
		return rc;
	rc = exec_sql(db, "BEGIN IMMEDIATE");
	if (rc != SQLITE_OK)
		return rc;
	/* Another connection may have migrated while we waited. */
	rc = component_version(db, "config_parsed", &version);
	if (rc == SQLITE_DONE) {
		rc = exec_sql(db, "ALTER TABLE config_cache ADD COLUMN parsed BLOB");
		if (rc == SQLITE_OK)
			rc = exec_sql(db, "INSERT INTO canary_schema (component, version)"
				" VALUES ('config_parsed', 1)");
	}
	if (rc == SQLITE_OK)
		rc = exec_sql(db, "COMMIT");
	else
		exec_sql(db, "ROLLBACK");
	return rc;
}

static int create_schema(sqlite3 *db, bool *too_new)
{
	int64_t version = 0;
	size_t i;
	int rc;

	/* Usually it is all there: a read, no write transaction (no fsync)
	 * on the start-up path. "no such table" or no row: create below. */
	rc = schema_version(db, &version);
	if (rc == SQLITE_OK && version >= 1) {
		*too_new = version > CANARY__STORE_SCHEMA;
		return SQLITE_OK;
	}
	if (rc != SQLITE_ERROR && rc != SQLITE_DONE)
		return rc; /* not a database, corrupt, busy... */
	rc = exec_sql(db, "BEGIN IMMEDIATE");
	for (i = 0; rc == SQLITE_OK && i < sizeof(schema_sql) / sizeof(*schema_sql); i++)
		rc = exec_sql(db, schema_sql[i]);
	if (rc == SQLITE_OK)
		rc = schema_version(db, &version);
	if (rc == SQLITE_OK)
		rc = exec_sql(db, "COMMIT");
	else
		exec_sql(db, "ROLLBACK");
	*too_new = rc == SQLITE_OK && version > CANARY__STORE_SCHEMA;
	return rc;
}

static int prepare_all(canary__store *s)
{
	struct { sqlite3_stmt **st; const char *sql; } list[] = {
		{ &s->begin, "BEGIN IMMEDIATE" },
		{ &s->commit, "COMMIT" },
		{ &s->rollback, "ROLLBACK" },
		{ &s->select, s->has_parsed ?
			"SELECT version, etag, fetched_at_ms, body, parsed"
			" FROM config_cache WHERE id = 1" :
			"SELECT version, etag, fetched_at_ms, body, NULL"
			" FROM config_cache WHERE id = 1" },
		{ &s->upsert, s->has_parsed ?
			"INSERT OR REPLACE INTO config_cache"
			" (id, version, etag, fetched_at_ms, body, parsed)"
			" VALUES (1, ?1, ?2, ?3, ?4, ?5)" :
			"INSERT OR REPLACE INTO config_cache"
			" (id, version, etag, fetched_at_ms, body)"
			" VALUES (1, ?1, ?2, ?3, ?4)" },
		{ &s->touch, "UPDATE config_cache SET fetched_at_ms = ?2"
			" WHERE id = 1 AND version = ?1 AND fetched_at_ms < ?2" },
		{ &s->clear, "DELETE FROM config_cache" },
	};
	size_t i;
	int rc = SQLITE_OK;

	for (i = 0; rc == SQLITE_OK && i < sizeof(list) / sizeof(*list); i++)
		rc = sqlite3_prepare_v3(s->db, list[i].sql, -1,
			SQLITE_PREPARE_PERSISTENT, list[i].st, NULL);
	return rc;
}

static void finalize_all(canary__store *s)
{
	sqlite3_stmt **all[] = { &s->begin, &s->commit, &s->rollback,
		&s->select, &s->upsert, &s->touch, &s->clear };
	size_t i;

	for (i = 0; i < sizeof(all) / sizeof(*all); i++) {
		sqlite3_finalize(*all[i]);
		*all[i] = NULL;
	}
}

static void disconnect(canary__store *s)
{
	finalize_all(s);
	sqlite3_close(s->db);
	s->db = NULL;
}

/* SQLite reports some corrupt files as "out of memory" (a schema or
 * record claiming an impossible size; found by fuzz_cache): a file SQLite
 * cannot read is a bad file, to be moved aside, so it never stops a client
 * from starting. Our own allocator's failures (in load()) stay ENOMEM. */
static int corrupt_if_nomem(int rc)
{
	return (rc & 0xff) == SQLITE_NOMEM ? SQLITE_CORRUPT : rc;
}

/* The binary form is optional: absent, or no memory for a copy, leaves it
 * NULL and the caller parses the JSON. */
static int load_parsed(canary__store *s, canary__cached *out)
{
	const void *parsed = sqlite3_column_blob(s->select, 4);
	int n = sqlite3_column_bytes(s->select, 4);

	if (!parsed || n <= 0)
		return SQLITE_DONE;
	out->parsed = canary__malloc(s->alloc, (size_t)n);
	if (!out->parsed)
		return SQLITE_DONE; /* the JSON will do */
	memcpy(out->parsed, parsed, (size_t)n);
	out->parsed_len = (size_t)n;
	return SQLITE_DONE;
}

static int load(canary__store *s, canary__cached *out)
{
	const void *body;
	const unsigned char *etag;
	int rc, n;

	rc = corrupt_if_nomem(sqlite3_step(s->select));
	if (rc != SQLITE_ROW)
		goto done;
	body = sqlite3_column_blob(s->select, 3);
	n = sqlite3_column_bytes(s->select, 3);
	rc = corrupt_if_nomem(sqlite3_errcode(s->db));
	if (rc != SQLITE_OK && rc != SQLITE_ROW)
		goto done;
	rc = SQLITE_DONE;
	if (!body || n <= 0)
		goto done; /* an empty row is no cache */
	out->body = canary__malloc(s->alloc, (size_t)n + 1);
	if (!out->body) {
		rc = SQLITE_NOMEM;
		goto done;
	}
	memcpy(out->body, body, (size_t)n);
	out->body[n] = '\0';
	out->body_len = (size_t)n;
	out->version = (uint64_t)sqlite3_column_int64(s->select, 0);
	out->fetched_at_ms = sqlite3_column_int64(s->select, 2);
	etag = sqlite3_column_text(s->select, 1);
	if (etag && strlen((const char *)etag) <= CANARY__ETAG_MAX)
		strcpy(out->etag, (const char *)etag);
	rc = load_parsed(s, out);
done:
	sqlite3_reset(s->select);
	return rc == SQLITE_DONE ? SQLITE_OK : rc;
}

static bool is_bad_file(int rc);

/* A file we cannot migrate now (read-only, locked too long) is still read
 * and written as it is, without the binary form; a bad one is reported. */
static int migrate(canary__store *s)
{
	int rc = corrupt_if_nomem(add_parsed_column(s->db));

	s->has_parsed = rc == SQLITE_OK;
	return rc == SQLITE_OK || !is_bad_file(rc) ? SQLITE_OK : rc;
}

/* Returns an SQLite result code; `too_new` when a newer SDK wrote the file. */
static int store_connect(canary__store *s, canary__cached *cached, bool *too_new)
{
	int rc;

	*too_new = false;
	rc = sqlite3_open_v2(s->path, &s->db, SQLITE_OPEN_READWRITE |
		SQLITE_OPEN_CREATE | SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(s->db, CANARY__STORE_BUSY_MS);
	if (rc == SQLITE_OK)
		rc = create_schema(s->db, too_new);
	if (rc == SQLITE_OK && !*too_new)
		rc = migrate(s);
	if (rc == SQLITE_OK && !*too_new)
		rc = prepare_all(s);
	rc = corrupt_if_nomem(rc);
	if (rc == SQLITE_OK && !*too_new && cached)
		rc = load(s, cached);
	return rc;
}

/* Errors that say the file itself is bad, not the moment. */
static bool is_bad_file(int rc)
{
	rc &= 0xff;
	return rc == SQLITE_NOTADB || rc == SQLITE_CORRUPT ||
	       rc == SQLITE_CANTOPEN || rc == SQLITE_FORMAT;
}

static void move_companion(const char *from, const char *to,
	const char *suffix)
{
	char a[4096], b[4096];

	if ((size_t)snprintf(a, sizeof(a), "%s%s", from, suffix) >= sizeof(a) ||
	    (size_t)snprintf(b, sizeof(b), "%s%s", to, suffix) >= sizeof(b))
		return;
	(void)rename(a, b); /* usually absent */
}

static int move_aside(const char *path, char *moved, size_t movedlen)
{
	struct stat st;

	if (stat(path, &st) != 0)
		return -1; /* nothing to move: the directory is the problem */
	if ((size_t)snprintf(moved, movedlen, "%s.corrupt-%lld", path,
	    (long long)time(NULL)) >= movedlen)
		return -1;
	if (rename(path, moved) != 0)
		return -1;
	move_companion(path, moved, "-journal");
	move_companion(path, moved, "-wal");
	move_companion(path, moved, "-shm");
	return 0;
}

static int open_or_rebuild(canary__store *s, canary__cached *cached,
	char *note, size_t notelen)
{
	char moved[4096];
	bool too_new;
	int rc;

	rc = store_connect(s, cached, &too_new);
	if (rc != SQLITE_OK && is_bad_file(rc)) {
		char why[128];

		snprintf(why, sizeof(why), "%s", s->db ? sqlite3_errmsg(s->db) :
			sqlite3_errstr(rc));
		disconnect(s);
		if (cached)
			canary__cached_clear(s->alloc, cached);
		if (move_aside(s->path, moved, sizeof(moved)) != 0) {
			snprintf(note, notelen, "cache %s is unusable (%s) and could not be moved aside (%s); running without a cache",
				s->path, why, strerror(errno));
			return CANARY_ESTORAGE;
		}
		snprintf(note, notelen, "cache %s was unusable (%s); moved to %s and rebuilt",
			s->path, why, moved);
		rc = store_connect(s, cached, &too_new);
	}
	if (rc != SQLITE_OK) {
		snprintf(note, notelen, "cache %s: %s; running without a cache",
			s->path, s->db ? sqlite3_errmsg(s->db) : sqlite3_errstr(rc));
		return rc == SQLITE_NOMEM ? CANARY_ENOMEM : CANARY_ESTORAGE;
	}
	if (too_new) {
		snprintf(note, notelen, "cache %s was written by a newer libcanary (schema > %d); running without a cache",
			s->path, CANARY__STORE_SCHEMA);
		return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

int canary__store_open(canary__store **out, const canary__alloc *a,
	const char *path, canary__cached *cached, char *note, size_t notelen)
{
	canary__store *s;
	int rc;

	*out = NULL;
	note[0] = '\0';
	if (cached)
		memset(cached, 0, sizeof(*cached));
	s = canary__new(a, canary__store);
	if (!s)
		return CANARY_ENOMEM;
	s->alloc = a;
	s->path = canary__strdup(a, path);
	if (!s->path) {
		canary__delete(a, s, canary__store);
		return CANARY_ENOMEM;
	}
	rc = open_or_rebuild(s, cached, note, notelen);
	if (rc != CANARY_OK) {
		canary__store_close(s);
		return canary__error_set(rc, "%s", note);
	}
	*out = s;
	return CANARY_OK;
}

void canary__store_close(canary__store *s)
{
	if (!s)
		return;
	disconnect(s);
	canary__free(s->alloc, s->path);
	canary__delete(s->alloc, s, canary__store);
}

void canary__store_abandon(canary__store *s)
{
	if (!s)
		return;
	/* Deliberately leaked: closing could touch the parent's locks or
	 * journal. The child reopens the file with a new connection. */
	s->db = NULL;
	canary__free(s->alloc, s->path);
	canary__delete(s->alloc, s, canary__store);
}

static int fail(canary__store *s, const char *what)
{
	return canary__error_set(CANARY_ESTORAGE, "cache %s: %s: %s", s->path,
		what, sqlite3_errmsg(s->db));
}

static int cached_version(canary__store *s, uint64_t *out)
{
	int rc = sqlite3_step(s->select);

	*out = rc == SQLITE_ROW ?
		(uint64_t)sqlite3_column_int64(s->select, 0) : 0;
	sqlite3_reset(s->select);
	return rc == SQLITE_ROW || rc == SQLITE_DONE ? SQLITE_OK : rc;
}

int canary__store_save(canary__store *s, uint64_t version, const char *etag,
	int64_t fetched_at_ms, const char *body, size_t len)
{
	return canary__store_save_parsed(s, version, etag, fetched_at_ms, body,
		len, NULL, 0);
}

int canary__store_save_parsed(canary__store *s, uint64_t version,
	const char *etag, int64_t fetched_at_ms, const char *body, size_t len,
	const void *parsed, size_t parsed_len)
{
	uint64_t have = 0;
	int rc;

	if (len > 0x7fffffff || parsed_len > 0x7fffffff)
		return canary__error_set(CANARY_ESTORAGE, "config too large to cache");
	if (canary__store_run(s->begin) != SQLITE_OK)
		return fail(s, "begin");
	rc = cached_version(s, &have);
	if (rc == SQLITE_OK && have > version) {
		canary__store_run(s->rollback);
		return canary__error_set(CANARY_ESTATE,
			"cache holds version %llu; not replaced by %llu",
			(unsigned long long)have, (unsigned long long)version);
	}
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(s->upsert, 1, (sqlite3_int64)version);
		sqlite3_bind_text(s->upsert, 2, etag ? etag : "", -1,
			SQLITE_STATIC);
		sqlite3_bind_int64(s->upsert, 3, fetched_at_ms);
		sqlite3_bind_blob(s->upsert, 4, body, (int)len, SQLITE_STATIC);
		if (s->has_parsed && parsed && parsed_len)
			sqlite3_bind_blob(s->upsert, 5, parsed, (int)parsed_len,
				SQLITE_STATIC);
		rc = canary__store_run(s->upsert);
	}
	if (rc == SQLITE_OK)
		rc = canary__store_run(s->commit);
	if (rc != SQLITE_OK) {
		rc = fail(s, "save");
		canary__store_run(s->rollback);
		return rc;
	}
	return CANARY_OK;
}

int canary__store_touch(canary__store *s, uint64_t version,
	int64_t fetched_at_ms)
{
	sqlite3_bind_int64(s->touch, 1, (sqlite3_int64)version);
	sqlite3_bind_int64(s->touch, 2, fetched_at_ms);
	if (canary__store_run(s->touch) != SQLITE_OK)
		return fail(s, "touch");
	return CANARY_OK;
}

int canary__store_clear(canary__store *s)
{
	if (canary__store_run(s->clear) != SQLITE_OK)
		return fail(s, "clear");
	return CANARY_OK;
}

void canary__cached_clear(const canary__alloc *a, canary__cached *c)
{
	if (!c)
		return;
	canary__free(a, c->body);
	canary__free(a, c->parsed);
	memset(c, 0, sizeof(*c));
}

struct sqlite3 *canary__store_db(canary__store *s)
{
	return s ? s->db : NULL;
}
