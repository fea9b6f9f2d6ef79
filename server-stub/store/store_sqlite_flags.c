/*
 * store_sqlite_flags.c - flags and the config version in SQLite: the
 * `flags` table (one canonical JSON body per flag, records.h) and the
 * version in `meta`, bumped by every change in the change's transaction.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "store/records.h"
#include "store/segment_use.h"

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

/* Append the next flag of the cursor to c->flags; a row that cannot be
 * read is skipped and counted in *bad (its key in `key`). */
static int append_flag(canary__config *c, size_t *cap, sqlite3_stmt *st,
	uint64_t *bad, char *key, size_t keylen)
{
	int rc;

	if (c->count == *cap) {
		size_t ncap = *cap ? *cap * 2 : 16;
		canary__flag *f = realloc(c->flags, ncap * sizeof(*f));

		if (!f)
			return CANARY_ENOMEM;
		c->flags = f;
		*cap = ncap;
	}
	rc = read_flag(st, &c->flags[c->count]);
	if (rc == CANARY_ENOMEM)
		return rc;
	if (rc != CANARY_OK) {
		if (!(*bad)++)
			snprintf(key, keylen, "%s", cs_sqlite_text(st, 1));
		return CANARY_OK;
	}
	c->count++;
	return CANARY_OK;
}

/* The segments the config's flags name, from the same snapshot. */
static int load_segments(cs_sqlite_conn *conn, canary__config *c)
{
	canary__segdef *all = NULL;
	size_t n = 0;
	int rc = cs_sqlite_segments_on(conn, &all, &n);

	return rc == CANARY_OK ? cs_segments_keep_used(c, all, n) : rc;
}

static int load_config(struct cs_store_impl *s, cs_sqlite_conn *conn,
	canary__config *c)
{
	sqlite3_stmt *st = conn->st[S_FLAGS_ALL];
	size_t cap = 0;
	uint64_t bad = 0;
	char key[CANARY__MAX_KEY_LEN + 1] = "";
	int rc = cs_sqlite_version(conn, &c->version), step = SQLITE_DONE;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = append_flag(c, &cap, st, &bad, key, sizeof(key));
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	cs_sqlite_reset(st);
	if (rc == CANARY_OK)
		cs_unreadable_note(&s->unreadable, bad, key);
	if (rc == CANARY_OK)
		rc = load_segments(conn, c);
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
	rc = conn ? load_config(s, conn, c) : CANARY_ESTORAGE;
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

int cs_sqlite_size_ok(struct cs_store_impl *s, bool segment_added)
{
	sqlite3_stmt *st = s->w.st[S_CONFIG_BYTES];
	int rc = CANARY_ESTORAGE;

	if (!cs_config_limits_apply(s->max_config_bytes, segment_added))
		return CANARY_OK;
	if (sqlite3_step(st) == SQLITE_ROW)
		rc = cs_config_limits(s->max_config_bytes, cs_sqlite_u64(st, 0),
			cs_sqlite_u64(st, 1), cs_sqlite_u64(st, 2),
			cs_sqlite_u64(st, 3), segment_added);
	cs_sqlite_reset(st);
	return rc;
}

int cs_sqlite_version_floor(struct cs_store_impl *s, uint64_t floor,
	uint64_t *version)
{
	sqlite3_stmt *st = s->w.st[S_VERSION_FLOOR];
	uint64_t v = 0;
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, (sqlite3_int64)floor);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK)
		rc = cs_sqlite_version(&s->w, &v);
	rc = cs_sqlite_write_end(s, rc);
	if (version)
		*version = rc == CANARY_OK ? v : 0;
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
 * version. A change that changes nothing (CS_EUNCHANGED) writes and
 * records nothing and reports the current version. */
int cs_sqlite_end_change(struct cs_store_impl *s, int rc, cs_audit_rec *rec,
	uint64_t *version)
{
	bool unchanged = rc == CS_EUNCHANGED;
	uint64_t v = 0;

	if (rc == CANARY_OK)
		rc = cs_sqlite_bump_in(s, &v);
	else if (unchanged)
		rc = cs_sqlite_version(&s->w, &v);
	rec->config_version = v;
	if (rc == CANARY_OK && !unchanged)
		rc = cs_sqlite_audit_in(s, rec);
	/* An unchanged flag has nothing to commit: roll back. */
	rc = cs_sqlite_write_end(s, unchanged && rc == CANARY_OK ?
		CS_EUNCHANGED : rc);
	if (unchanged && rc == CS_EUNCHANGED)
		rc = CANARY_OK;
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
	if (exists == CANARY_OK && mode == CS_PUT_UPSERT &&
	    cs_record_flag_same(&old, f))
		rc = CS_EUNCHANGED; /* nothing to write */
	else if (exists == CANARY_OK && mode == CS_PUT_CREATE)
		rc = CS_EEXISTS;
	else if (exists == CANARY_OK)
		rc = cs_sqlite_guard_in(s, audit, &old, f);
	/* A row that cannot be read back is there: an upsert repairs it
	 * (no rollout can guard what no one can read). */
	else if (exists == CS_EUNREADABLE)
		rc = mode == CS_PUT_CREATE ? CS_EEXISTS : CANARY_OK;
	else if (exists != CS_ENOTFOUND)
		rc = exists;
	if (rc == CANARY_OK)
		rc = cs_sqlite_segments_exist(s, f);
	if (rc == CANARY_OK)
		rc = cs_sqlite_write_flag(s, f);
	if (rc == CANARY_OK)
		rc = cs_sqlite_size_ok(s, false);
	rec_init(&rec, audit, f->key);
	rec.flag_before = exists == CANARY_OK ? &old : NULL;
	rec.flag_unreadable = exists == CS_EUNREADABLE;
	rec.flag_after = f;
	rc = cs_sqlite_end_change(s, rc, &rec, version);
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
	if (rc == CANARY_OK && cs_record_flag_same(cur, next))
		rc = CS_EUNCHANGED;
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
	if (rc == CANARY_OK)
		rc = cs_sqlite_segments_exist(s, &next);
	if (rc == CANARY_OK)
		rc = cs_sqlite_size_ok(s, false);
	rec_init(&rec, audit, key);
	rec.flag_before = &cur;
	rec.flag_after = &next;
	rc = cs_sqlite_end_change(s, rc, &rec, version);
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
	int rc = cs_sqlite_write_begin(s), exists;

	if (rc != CANARY_OK)
		return rc;
	exists = flag_get_on(&s->w, key, &old);
	/* A row that cannot be read back can be deleted (its record then
	 * has no "before"). */
	if (exists == CANARY_OK || exists == CS_EUNREADABLE) {
		sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
		rc = cs_sqlite_done(st);
	} else {
		rc = exists;
	}
	rec_init(&rec, audit, key);
	rec.flag_before = exists == CANARY_OK ? &old : NULL;
	rec.flag_unreadable = exists == CS_EUNREADABLE;
	rc = cs_sqlite_end_change(s, rc, &rec, version);
	canary__flag_clear(canary__alloc_default(), &old);
	return rc;
}
