/*
 * store_sqlite_flags.c - flags and the config version in SQLite: the
 * `flags` table (one canonical JSON body per flag, records.h) and the
 * version in `meta`, bumped by every change in the change's transaction.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "store/records.h"

int cs_sqlite_version(cs_sqlite_conn *c, uint64_t *out)
{
	sqlite3_stmt *st = c->st[S_VERSION_GET];
	int rc = CANARY_ESTORAGE;

	if (sqlite3_step(st) == SQLITE_ROW) {
		*out = (uint64_t)sqlite3_column_int64(st, 0);
		rc = CANARY_OK;
	}
	cs_sqlite_reset(st);
	return rc;
}

static int read_flag(sqlite3_stmt *st, void *out)
{
	return cs_record_flag_read((const char *)sqlite3_column_text(st, 0),
		(size_t)sqlite3_column_bytes(st, 0), out);
}

/* Append the next flag of the cursor to c->flags. */
static int append_flag(canary__config *c, size_t *cap, sqlite3_stmt *st)
{
	if (c->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		canary__flag *f = realloc(c->flags, ncap * sizeof(*f));

		if (!f)
			return CANARY_ENOMEM;
		c->flags = f;
		*cap = ncap;
	}
	if (read_flag(st, &c->flags[c->count]) != CANARY_OK)
		return CANARY_ESTORAGE;
	c->count++;
	return CANARY_OK;
}

static int load_config(cs_sqlite_conn *conn, canary__config *c)
{
	sqlite3_stmt *st = conn->st[S_FLAGS_ALL];
	size_t cap = 0;
	int rc = cs_sqlite_version(conn, &c->version);

	while (rc == CANARY_OK && sqlite3_step(st) == SQLITE_ROW)
		rc = append_flag(c, &cap, st);
	cs_sqlite_reset(st);
	return rc;
}

int cs_sqlite_config(struct cs_store_impl *s, canary__config **out)
{
	canary__config *c = calloc(1, sizeof(*c));
	cs_sqlite_conn *conn;
	int rc;

	*out = NULL;
	if (!c)
		return CANARY_ENOMEM;
	conn = cs_sqlite_read_begin(s);
	rc = conn ? load_config(conn, c) : CANARY_ESTORAGE;
	if (conn)
		rc = cs_sqlite_read_end(s, conn, rc);
	if (rc != CANARY_OK) {
		canary__config_free(canary__alloc_default(), c);
		return rc;
	}
	*out = c;
	return CANARY_OK;
}

static int flag_get_on(cs_sqlite_conn *c, const char *key, canary__flag *out)
{
	memset(out, 0, sizeof(*out));
	return cs_sqlite_lookup(c->st[S_FLAG_GET], key, CS_ENOTFOUND,
		read_flag, out);
}

int cs_sqlite_flag_get(struct cs_store_impl *s, const char *key,
	canary__flag *out)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return CANARY_ESTORAGE;
	rc = flag_get_on(c, key, out);
	/* CS_ENOTFOUND is an answer, not a failed read. */
	if (cs_sqlite_read_end(s, c, CANARY_OK) != CANARY_OK && rc == CANARY_OK)
		rc = CANARY_ESTORAGE;
	if (rc != CANARY_OK)
		canary__flag_clear(canary__alloc_default(), out);
	return rc;
}

int cs_sqlite_write_flag(struct cs_store_impl *s, const canary__flag *f)
{
	sqlite3_stmt *st = s->w.st[S_FLAG_UPSERT];
	char *body = NULL;
	int rc = cs_record_flag_write(f, &body);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, f->key, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, canary__wall_ms());
	rc = cs_sqlite_done(st);
	cJSON_free(body);
	return rc;
}

int cs_sqlite_bump_in(struct cs_store_impl *s, uint64_t *version)
{
	int rc = cs_sqlite_done(s->w.st[S_VERSION_BUMP]);

	*version = 0;
	if (rc == CANARY_OK)
		rc = cs_sqlite_version(&s->w, version);
	return rc;
}

/* The tail of every config change: bump, record, commit, report the
 * version. */
static int end_change(struct cs_store_impl *s, int rc, cs_audit_rec *rec,
	uint64_t *version)
{
	uint64_t v = 0;

	if (rc == CANARY_OK)
		rc = cs_sqlite_bump_in(s, &v);
	rec->config_version = v;
	if (rc == CANARY_OK)
		rc = cs_sqlite_audit_in(s, rec);
	rc = cs_sqlite_write_end(s, rc);
	if (version)
		*version = rc == CANARY_OK ? v : 0;
	return rc;
}

/* An audit record of `audit` about flag `key`, now. */
static void rec_init(cs_audit_rec *rec, const cs_audit *audit,
	const char *key)
{
	memset(rec, 0, sizeof(*rec));
	rec->audit = audit;
	rec->time_ms = canary__wall_ms();
	rec->flag = key;
}

int cs_sqlite_flag_put(struct cs_store_impl *s, const canary__flag *f,
	cs_put_mode mode, const cs_audit *audit, bool *created,
	uint64_t *version)
{
	canary__flag old;
	cs_audit_rec rec;
	int rc = cs_sqlite_write_begin(s), exists;

	if (rc != CANARY_OK)
		return rc;
	exists = flag_get_on(&s->w, f->key, &old);
	if (exists != CANARY_OK && exists != CS_ENOTFOUND)
		rc = exists;
	else if (exists == CANARY_OK && mode == CS_PUT_CREATE)
		rc = CS_EEXISTS;
	else if (exists == CANARY_OK)
		rc = cs_sqlite_guard_in(s, audit, &old, f);
	if (rc == CANARY_OK)
		rc = cs_sqlite_write_flag(s, f);
	rec_init(&rec, audit, f->key);
	rec.flag_before = exists == CANARY_OK ? &old : NULL;
	rec.flag_after = f;
	rc = end_change(s, rc, &rec, version);
	canary__flag_clear(canary__alloc_default(), &old);
	if (rc == CANARY_OK && created)
		*created = exists == CS_ENOTFOUND;
	return rc;
}

int cs_sqlite_modify_in(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, canary__flag *cur, canary__flag *next)
{
	int rc;

	memset(next, 0, sizeof(*next));
	rc = flag_get_on(&s->w, key, cur);
	if (rc == CANARY_OK)
		rc = fn(cur, next, ctx);
	if (rc == CANARY_OK)
		rc = cs_sqlite_write_flag(s, next);
	return rc;
}

int cs_sqlite_flag_modify(struct cs_store_impl *s, const char *key,
	cs_modify_fn fn, void *ctx, const cs_audit *audit, uint64_t *version)
{
	const canary__alloc *a = canary__alloc_default();
	canary__flag cur, next;
	cs_audit_rec rec;
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	rc = cs_sqlite_modify_in(s, key, fn, ctx, &cur, &next);
	if (rc == CANARY_OK)
		rc = cs_sqlite_guard_in(s, audit, &cur, &next);
	rec_init(&rec, audit, key);
	rec.flag_before = &cur;
	rec.flag_after = &next;
	rc = end_change(s, rc, &rec, version);
	canary__flag_clear(a, &cur);
	canary__flag_clear(a, &next);
	return rc;
}

int cs_sqlite_flag_delete(struct cs_store_impl *s, const char *key,
	const cs_audit *audit, uint64_t *version)
{
	sqlite3_stmt *st = s->w.st[S_FLAG_DELETE];
	canary__flag old;
	cs_audit_rec rec;
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	rc = flag_get_on(&s->w, key, &old);
	if (rc == CANARY_OK) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		rc = cs_sqlite_done(st);
	}
	rec_init(&rec, audit, key);
	rec.flag_before = &old;
	rc = end_change(s, rc, &rec, version);
	canary__flag_clear(canary__alloc_default(), &old);
	return rc;
}
