/*
 * store_sqlite_segments.c - named segments in SQLite: the `segments`
 * table (one canonical JSON body per segment, records.h). Writing or
 * deleting one is a config change (store_sqlite_flags.c's tail: bump,
 * audit, commit); the checks of the flags that name it run in its
 * transaction.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "clock.h"
#include "store/records.h"
#include "store/segment_use.h"

static int read_segment(sqlite3_stmt *st, void *out)
{
	return cs_record_segment_read((const char *)sqlite3_column_text(st, 0),
		(size_t)sqlite3_column_bytes(st, 0), out);
}

static int get_on(cs_sqlite_conn *c, const char *name, canary__segdef *out)
{
	memset(out, 0, sizeof(*out));
	return cs_sqlite_lookup(c->st[S_SEGMENT_GET], name, CS_ENOTFOUND,
		read_segment, out);
}

int cs_sqlite_segments_on(cs_sqlite_conn *c, canary__segdef **out, size_t *n)
{
	sqlite3_stmt *st = c->st[S_SEGMENTS_ALL];
	size_t cap = 0;
	int rc = CANARY_OK, step;

	*out = NULL;
	*n = 0;
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		rc = cs_grow((void **)out, &cap, *n, sizeof(**out));
		if (rc == CANARY_OK)
			rc = read_segment(st, &(*out)[*n]);
		if (rc == CANARY_OK)
			(*n)++;
	}
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	cs_sqlite_reset(st);
	if (rc != CANARY_OK) {
		cs_segdefs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

int cs_sqlite_segment_get(struct cs_store_impl *s, const char *name,
	canary__segdef *out)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!c)
		return CANARY_ESTORAGE;
	rc = get_on(c, name, out);
	/* CS_ENOTFOUND is an answer, not a failed read. */
	if (cs_sqlite_read_end(s, c, CANARY_OK) != CANARY_OK && rc == CANARY_OK)
		rc = CANARY_ESTORAGE;
	if (rc != CANARY_OK)
		canary__segdef_clear(canary__alloc_default(), out);
	return rc;
}

int cs_sqlite_segment_list(struct cs_store_impl *s, canary__segdef **out,
	size_t *n)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	if (!c)
		return CANARY_ESTORAGE;
	rc = cs_sqlite_segments_on(c, out, n);
	rc = cs_sqlite_read_end(s, c, rc);
	if (rc != CANARY_OK) {
		cs_segdefs_free(*out, *n);
		*out = NULL;
		*n = 0;
	}
	return rc;
}

static int exists_in(void *arg, const char *name)
{
	struct cs_store_impl *s = arg;
	canary__segdef seg;
	int rc = get_on(&s->w, name, &seg);

	canary__segdef_clear(canary__alloc_default(), &seg);
	return rc;
}

int cs_sqlite_segments_exist(struct cs_store_impl *s, const canary__flag *f)
{
	return cs_flag_segments_exist(f, exists_in, s);
}

/* May flag `f`, which names the segment, see it change? A live rollout
 * of it refuses (CS_EGUARDED) unless forced. */
static int guard_user(struct cs_store_impl *s, const cs_audit *audit,
	const canary__flag *f)
{
	cs_rollout *live = malloc(sizeof(*live));
	int rc;

	if (!live)
		return CANARY_ENOMEM;
	rc = cs_sqlite_lookup(s->w.st[S_ROLLOUT_LIVE], f->key, CS_ENOROLLOUT,
		cs_sqlite_rollout_row, live);
	if (rc == CANARY_OK)
		rc = cs_record_segment_guard(audit, live, f->key);
	else if (rc == CS_ENOROLLOUT)
		rc = CANARY_OK;
	free(live);
	return rc;
}

/*
 * The flags that name segment `name`, in the write transaction: their
 * keys into `users` (when given: CS_EINUSE when any) or `keys` (for a
 * change's record), and with `audit` (a guarded change) the guard of
 * their live rollouts.
 */
static int users_of(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	cs_flag_keys *keys)
{
	sqlite3_stmt *st = s->w.st[S_FLAGS_ALL];
	canary__flag f;
	int rc = CANARY_OK, step;
	bool any = false;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		/* A row that cannot be read names nothing we can see. */
		if (cs_record_flag_read((const char *)sqlite3_column_text(st, 0),
			    (size_t)sqlite3_column_bytes(st, 0), &f) != CANARY_OK)
			continue;
		if (cs_flag_uses_segment(&f, name)) {
			any = true;
			if (users)
				cs_segment_user_add(users, userslen, f.key);
			if (keys)
				rc = cs_flag_keys_add(keys, f.key);
			if (rc == CANARY_OK && audit && audit->guard &&
			    !audit->forced)
				rc = guard_user(s, audit, &f);
		}
		canary__flag_clear(canary__alloc_default(), &f);
	}
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	cs_sqlite_reset(st);
	return rc == CANARY_OK && users && any ? CS_EINUSE : rc;
}

int cs_sqlite_write_segment(struct cs_store_impl *s, const canary__segdef *seg)
{
	sqlite3_stmt *st = s->w.st[S_SEGMENT_UPSERT];
	char *body = NULL;
	int rc = cs_record_segment_write(seg, &body);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, seg->name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, body, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, canary__wall_ms());
	rc = cs_sqlite_done(st);
	cJSON_free(body);
	return rc;
}

static bool same(const canary__segdef *a, const canary__segdef *b)
{
	return strcmp(a->constraints, b->constraints) == 0;
}

int cs_sqlite_segment_put(struct cs_store_impl *s, const canary__segdef *seg,
	const cs_audit *audit, bool *created, uint64_t *version)
{
	canary__segdef old;
	cs_audit_rec rec;
	cs_flag_keys users = { NULL, 0, 0 };
	int rc = cs_sqlite_write_begin(s), exists;

	if (rc != CANARY_OK)
		return rc;
	exists = get_on(&s->w, seg->name, &old);
	if (exists == CANARY_OK && same(&old, seg))
		rc = CS_EUNCHANGED;
	else if (exists == CANARY_OK)
		rc = users_of(s, seg->name, audit, NULL, 0, &users);
	else if (exists != CS_ENOTFOUND)
		rc = exists;
	if (rc == CANARY_OK)
		rc = cs_sqlite_write_segment(s, seg);
	if (rc == CANARY_OK)
		rc = cs_sqlite_size_ok(s, exists == CS_ENOTFOUND);
	memset(&rec, 0, sizeof(rec));
	rec.audit = audit;
	rec.time_ms = canary__wall_ms();
	rec.segment_before = exists == CANARY_OK ? &old : NULL;
	rec.segment_after = seg;
	rec.segment_users = &users;
	rc = cs_sqlite_end_change(s, rc, &rec, version);
	canary__segdef_clear(canary__alloc_default(), &old);
	cs_flag_keys_clear(&users);
	if (rc == CANARY_OK && created)
		*created = exists == CS_ENOTFOUND;
	return rc;
}

int cs_sqlite_segment_delete(struct cs_store_impl *s, const char *name,
	const cs_audit *audit, char *users, size_t userslen,
	uint64_t *version)
{
	sqlite3_stmt *st = s->w.st[S_SEGMENT_DELETE];
	canary__segdef old;
	cs_audit_rec rec;
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	rc = get_on(&s->w, name, &old);
	if (rc == CANARY_OK)
		rc = users_of(s, name, NULL, users, userslen, NULL);
	if (rc == CANARY_OK) {
		sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
		rc = cs_sqlite_done(st);
	}
	memset(&rec, 0, sizeof(rec));
	rec.audit = audit;
	rec.time_ms = canary__wall_ms();
	rec.segment_before = &old;
	rc = cs_sqlite_end_change(s, rc, &rec, version);
	canary__segdef_clear(canary__alloc_default(), &old);
	return rc;
}
