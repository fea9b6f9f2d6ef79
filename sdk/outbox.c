/*
 * outbox.c - the event outbox in SQLite (see outbox.h).
 */
#include "outbox.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include <sqlite3.h>

#include "canary/canary.h"
#include "error.h"
#include "store.h"

struct canary__outbox {
	const canary__alloc *alloc;
	char *path;               /* NULL: in memory */
	uint32_t max_rows;
	uint64_t max_bytes;
	pthread_mutex_t lock;
	sqlite3 *db;
	sqlite3_stmt *insert, *oldest, *remove, *evict_pick;
	uint64_t rows, bytes;     /* what the table holds */
	int64_t newest;           /* seq of the newest row at open */
};

static const char *const schema_sql[] = {
	"CREATE TABLE IF NOT EXISTS canary_schema ("
	" component TEXT PRIMARY KEY NOT NULL,"
	" version INTEGER NOT NULL)",
	"INSERT OR IGNORE INTO canary_schema (component, version)"
	" VALUES ('outbox', 1)",
	"CREATE TABLE IF NOT EXISTS outbox ("
	" seq INTEGER PRIMARY KEY AUTOINCREMENT,"
	" batch_id TEXT NOT NULL UNIQUE,"
	" dropped_batches INTEGER NOT NULL,"
	" dropped_windows INTEGER NOT NULL,"
	" body BLOB NOT NULL)",
};

static int exec_sql(sqlite3 *db, const char *sql)
{
	return sqlite3_exec(db, sql, NULL, NULL, NULL);
}

static int create_schema(sqlite3 *db)
{
	size_t i;
	int rc;

	rc = exec_sql(db, "BEGIN IMMEDIATE");
	for (i = 0; rc == SQLITE_OK && i < sizeof(schema_sql) / sizeof(*schema_sql); i++)
		rc = exec_sql(db, schema_sql[i]);
	if (rc == SQLITE_OK)
		return exec_sql(db, "COMMIT");
	exec_sql(db, "ROLLBACK");
	return rc;
}

/* A newer SDK may have changed the table: leave its rows alone (the
 * caller falls back to memory). */
static int check_version(sqlite3 *db)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(db, "SELECT version FROM canary_schema"
		" WHERE component = 'outbox'", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		rc = sqlite3_step(st);
		if (rc == SQLITE_ROW)
			rc = sqlite3_column_int64(st, 0) > CANARY__OUTBOX_SCHEMA ?
				SQLITE_MISMATCH : SQLITE_OK;
		else if (rc == SQLITE_DONE)
			rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int load_usage(canary__outbox *ob)
{
	sqlite3_stmt *st = NULL;
	int rc;

	rc = sqlite3_prepare_v2(ob->db,
		"SELECT count(*), coalesce(sum(length(body)), 0),"
		" coalesce(max(seq), 0) FROM outbox",
		-1, &st, NULL);
	if (rc == SQLITE_OK && (rc = sqlite3_step(st)) == SQLITE_ROW) {
		ob->rows = (uint64_t)sqlite3_column_int64(st, 0);
		ob->bytes = (uint64_t)sqlite3_column_int64(st, 1);
		ob->newest = sqlite3_column_int64(st, 2);
		rc = SQLITE_OK;
	}
	sqlite3_finalize(st);
	return rc;
}

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db, sql, -1, st, NULL);
}

static int connect_db(canary__outbox *ob)
{
	int rc;

	rc = sqlite3_open_v2(ob->path ? ob->path : ":memory:", &ob->db,
		SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
		SQLITE_OPEN_FULLMUTEX, NULL);
	if (rc == SQLITE_OK)
		rc = sqlite3_busy_timeout(ob->db, CANARY__STORE_BUSY_MS);
	if (rc == SQLITE_OK)
		rc = create_schema(ob->db);
	if (rc == SQLITE_OK)
		rc = check_version(ob->db);
	if (rc == SQLITE_OK)
		rc = prepare(ob->db, "INSERT INTO outbox (batch_id,"
			" dropped_batches, dropped_windows, body)"
			" VALUES (?1, ?2, ?3, ?4)", &ob->insert);
	if (rc == SQLITE_OK)
		rc = prepare(ob->db, "SELECT seq, body FROM outbox"
			" ORDER BY seq LIMIT 1", &ob->oldest);
	if (rc == SQLITE_OK)
		rc = prepare(ob->db, "DELETE FROM outbox WHERE seq = ?1",
			&ob->remove);
	if (rc == SQLITE_OK)
		rc = prepare(ob->db, "SELECT seq, length(body), dropped_batches,"
			" dropped_windows FROM outbox ORDER BY seq LIMIT 1",
			&ob->evict_pick);
	if (rc == SQLITE_OK)
		rc = load_usage(ob);
	return rc;
}

static void finalize_all(canary__outbox *ob)
{
	sqlite3_finalize(ob->insert);
	sqlite3_finalize(ob->oldest);
	sqlite3_finalize(ob->remove);
	sqlite3_finalize(ob->evict_pick);
	ob->insert = ob->oldest = ob->remove = ob->evict_pick = NULL;
}

int canary__outbox_open(canary__outbox **out, const canary__alloc *a,
	const char *path, uint32_t max_rows, uint64_t max_bytes, char *note,
	size_t notelen)
{
	canary__outbox *ob;
	int rc;

	*out = NULL;
	note[0] = '\0';
	ob = canary__new(a, canary__outbox);
	if (!ob)
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	ob->alloc = a;
	ob->max_rows = max_rows;
	ob->max_bytes = max_bytes;
	pthread_mutex_init(&ob->lock, NULL);
	if (path && !(ob->path = canary__strdup(a, path))) {
		canary__outbox_close(ob);
		return canary__error_set(CANARY_ENOMEM, "out of memory");
	}
	rc = connect_db(ob);
	if (rc != SQLITE_OK) {
		snprintf(note, notelen, "event outbox %s: %s",
			path ? path : "(memory)", rc == SQLITE_MISMATCH ?
			"written by a newer libcanary (outbox schema above 1)" :
			ob->db ? sqlite3_errmsg(ob->db) : sqlite3_errstr(rc));
		canary__outbox_close(ob);
		return canary__error_set(CANARY_ESTORAGE, "%s", note);
	}
	*out = ob;
	return CANARY_OK;
}

void canary__outbox_close(canary__outbox *ob)
{
	if (!ob)
		return;
	finalize_all(ob);
	sqlite3_close(ob->db);
	pthread_mutex_destroy(&ob->lock);
	canary__free(ob->alloc, ob->path);
	canary__delete(ob->alloc, ob, canary__outbox);
}

int canary__outbox_postfork(canary__outbox *ob)
{
	/* SQLite connections must not cross a fork: leak the parent's. */
	ob->db = NULL;
	ob->insert = ob->oldest = ob->remove = ob->evict_pick = NULL;
	pthread_mutex_init(&ob->lock, NULL);
	ob->rows = ob->bytes = 0;
	return connect_db(ob) == SQLITE_OK ? CANARY_OK : CANARY_ESTORAGE;
}

/* Remove the oldest row, adding what it was to `ev`. */
static int evict_oldest(canary__outbox *ob, canary__outbox_evicted *ev)
{
	int64_t seq;
	uint64_t len;
	int rc;

	rc = sqlite3_step(ob->evict_pick);
	if (rc != SQLITE_ROW) {
		sqlite3_reset(ob->evict_pick);
		return rc == SQLITE_DONE ? SQLITE_NOTFOUND : rc;
	}
	seq = sqlite3_column_int64(ob->evict_pick, 0);
	len = (uint64_t)sqlite3_column_int64(ob->evict_pick, 1);
	ev->batches++;
	ev->carried_batches += (uint64_t)sqlite3_column_int64(ob->evict_pick, 2);
	ev->carried_windows += (uint64_t)sqlite3_column_int64(ob->evict_pick, 3);
	sqlite3_reset(ob->evict_pick);
	sqlite3_bind_int64(ob->remove, 1, seq);
	rc = canary__store_run(ob->remove);
	if (rc == SQLITE_OK) {
		ob->rows--;
		ob->bytes -= len;
	}
	return rc;
}

static int put_one(canary__outbox *ob, const canary__outbox_item *it,
	canary__outbox_evicted *ev, int64_t *last_seq)
{
	int rc = SQLITE_OK;

	if (it->len > ob->max_bytes) {
		ev->batches++;
		ev->carried_batches += it->dropped_batches;
		ev->carried_windows += it->dropped_windows;
		return SQLITE_OK;
	}
	while (rc == SQLITE_OK && ob->rows &&
	       (ob->rows >= ob->max_rows || ob->bytes + it->len > ob->max_bytes))
		rc = evict_oldest(ob, ev);
	if (rc != SQLITE_OK)
		return rc;
	sqlite3_bind_text(ob->insert, 1, it->batch_id, -1, SQLITE_STATIC);
	sqlite3_bind_int64(ob->insert, 2, (sqlite3_int64)it->dropped_batches);
	sqlite3_bind_int64(ob->insert, 3, (sqlite3_int64)it->dropped_windows);
	sqlite3_bind_blob64(ob->insert, 4, it->body, it->len, SQLITE_STATIC);
	rc = canary__store_run(ob->insert);
	if (rc == SQLITE_OK) {
		ob->rows++;
		ob->bytes += it->len;
		*last_seq = ob->newest = sqlite3_last_insert_rowid(ob->db);
	}
	return rc;
}

int canary__outbox_put(canary__outbox *ob, const canary__outbox_item *items,
	size_t n, canary__outbox_evicted *evicted, int64_t *last_seq)
{
	canary__outbox_evicted ev = { 0, 0, 0 };
	uint64_t rows, bytes;
	size_t i;
	int rc;

	pthread_mutex_lock(&ob->lock);
	rows = ob->rows;
	bytes = ob->bytes;
	rc = exec_sql(ob->db, "BEGIN IMMEDIATE");
	for (i = 0; rc == SQLITE_OK && i < n; i++)
		rc = put_one(ob, &items[i], &ev, last_seq);
	if (rc == SQLITE_OK)
		rc = exec_sql(ob->db, "COMMIT");
	if (rc != SQLITE_OK) {
		canary__error_set(CANARY_ESTORAGE, "event outbox: %s",
			sqlite3_errmsg(ob->db));
		exec_sql(ob->db, "ROLLBACK");
		ob->rows = rows;
		ob->bytes = bytes;
		pthread_mutex_unlock(&ob->lock);
		return CANARY_ESTORAGE;
	}
	pthread_mutex_unlock(&ob->lock);
	evicted->batches += ev.batches;
	evicted->carried_batches += ev.carried_batches;
	evicted->carried_windows += ev.carried_windows;
	return CANARY_OK;
}

int canary__outbox_oldest(canary__outbox *ob, int64_t *seq, char **body,
	size_t *len)
{
	const void *blob;
	int rc, out = CANARY_OK;
	size_t n;

	*body = NULL;
	pthread_mutex_lock(&ob->lock);
	rc = sqlite3_step(ob->oldest);
	if (rc == SQLITE_ROW) {
		*seq = sqlite3_column_int64(ob->oldest, 0);
		blob = sqlite3_column_blob(ob->oldest, 1);
		n = (size_t)sqlite3_column_bytes(ob->oldest, 1);
		*body = canary__malloc(ob->alloc, n + 1);
		if (*body) {
			if (n)
				memcpy(*body, blob, n);
			(*body)[n] = '\0';
			*len = n;
		} else {
			out = CANARY_ENOMEM;
		}
	} else {
		out = rc == SQLITE_DONE ? CANARY_ESTATE : CANARY_ESTORAGE;
	}
	sqlite3_reset(ob->oldest);
	pthread_mutex_unlock(&ob->lock);
	return out;
}

int canary__outbox_remove(canary__outbox *ob, int64_t seq)
{
	sqlite3_stmt *st = NULL;
	int64_t len = -1;
	int rc;

	pthread_mutex_lock(&ob->lock);
	/* Its size first, to keep the byte count exact. */
	rc = sqlite3_prepare_v2(ob->db,
		"SELECT length(body) FROM outbox WHERE seq = ?1", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_int64(st, 1, seq);
		if (sqlite3_step(st) == SQLITE_ROW)
			len = sqlite3_column_int64(st, 0);
	}
	sqlite3_finalize(st);
	if (len >= 0) {
		sqlite3_bind_int64(ob->remove, 1, seq);
		rc = canary__store_run(ob->remove);
		if (rc == SQLITE_OK) {
			ob->rows--;
			ob->bytes -= (uint64_t)len;
		}
	}
	pthread_mutex_unlock(&ob->lock);
	if (rc == SQLITE_OK && len < 0)
		return CANARY_ESTATE;
	return rc == SQLITE_OK ? CANARY_OK : CANARY_ESTORAGE;
}

int64_t canary__outbox_newest(canary__outbox *ob)
{
	int64_t n;

	pthread_mutex_lock(&ob->lock);
	n = ob->newest;
	pthread_mutex_unlock(&ob->lock);
	return n;
}

void canary__outbox_usage(canary__outbox *ob, uint64_t *rows,
	uint64_t *bytes)
{
	pthread_mutex_lock(&ob->lock);
	*rows = ob->rows;
	*bytes = ob->bytes;
	pthread_mutex_unlock(&ob->lock);
}
