/*
 * store_sqlite_audit.c - the audit log in SQLite: the record each change
 * appends inside its own transaction, the deliveries a record with a
 * webhook event queues there too, notes, the guard of live rollouts, and
 * reading the log.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

/* Queue the record's deliveries: one per webhook that wants `event`. */
static int enqueue(struct cs_store_impl *s, const cs_audit_rec *rec,
	const char *json, int64_t id)
{
	sqlite3_stmt *st = s->w.st[S_DELIVERY_ENQUEUE];
	char *payload = NULL;
	int rc = cs_record_payload_write(json, id, &payload);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, cs_record_audit_event(rec), -1,
		SQLITE_STATIC);
	sqlite3_bind_text(st, 3, rec->flag ? rec->flag : "", -1,
		SQLITE_STATIC);
	sqlite3_bind_text(st, 4, payload, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, rec->time_ms);
	rc = cs_sqlite_done(st);
	cJSON_free(payload);
	return rc;
}

int cs_sqlite_audit_in(struct cs_store_impl *s, const cs_audit_rec *rec)
{
	sqlite3_stmt *st = s->w.st[S_AUDIT_INSERT];
	const cs_audit *a = rec->audit;
	char *json = NULL;
	int rc;

	if (!a)
		return CANARY_OK;
	rc = cs_record_audit_write(rec, &json);
	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rec->time_ms);
	sqlite3_bind_text(st, 2, a->actor ? a->actor : "", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cs_record_audit_action(rec), -1,
		SQLITE_STATIC);
	sqlite3_bind_text(st, 4, rec->flag ? rec->flag : "", -1,
		SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)rec->config_version);
	sqlite3_bind_text(st, 6, json, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 7, cs_record_audit_segment(rec), -1,
		SQLITE_STATIC);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK && cs_record_audit_event(rec))
		rc = enqueue(s, rec, json, sqlite3_last_insert_rowid(s->w.db));
	cJSON_free(json);
	return rc;
}

int cs_sqlite_guard_in(struct cs_store_impl *s, const cs_audit *audit,
	const canary__flag *cur, const canary__flag *next)
{
	cs_rollout *live;
	int rc;

	if (!audit || !audit->guard || audit->forced ||
	    !cs_rollout_guarded_field(cur, next))
		return CANARY_OK;
	live = malloc(sizeof(*live));
	if (!live)
		return CANARY_ENOMEM;
	rc = cs_sqlite_lookup(s->w.st[S_ROLLOUT_LIVE], cur->key, CS_ENOROLLOUT,
		cs_sqlite_rollout_row, live);
	if (rc == CANARY_OK)
		rc = cs_record_guard(audit, live, cur, next);
	else if (rc == CS_ENOROLLOUT)
		rc = CANARY_OK;
	free(live);
	return rc;
}

int cs_sqlite_audit_now(struct cs_store_impl *s, cs_audit_rec *rec)
{
	int rc;

	rec->time_ms = canary__wall_ms();
	rc = cs_sqlite_version(&s->w, &rec->config_version);
	return rc == CANARY_OK ? cs_sqlite_audit_in(s, rec) : rc;
}

int cs_sqlite_audit_note(struct cs_store_impl *s, const char *flag,
	const cs_audit *audit)
{
	cs_audit_rec rec;
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	memset(&rec, 0, sizeof(rec));
	rec.audit = audit;
	rec.flag = flag;
	return cs_sqlite_write_end(s, cs_sqlite_audit_now(s, &rec));
}

static void bind_text_or_null(sqlite3_stmt *st, int i, const char *v)
{
	if (v)
		sqlite3_bind_text(st, i, v, -1, SQLITE_STATIC);
	else
		sqlite3_bind_null(st, i);
}

static void bind_query(sqlite3_stmt *st, const void *arg)
{
	const cs_audit_query *q = arg;

	bind_text_or_null(st, 1, q->flag);
	bind_text_or_null(st, 2, q->actor);
	sqlite3_bind_int64(st, 3, (sqlite3_int64)q->since_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)q->until_ms);
	sqlite3_bind_int64(st, 5, q->before_id);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)q->limit);
	bind_text_or_null(st, 7, q->segment);
}

static int audit_row(sqlite3_stmt *st, void *out)
{
	cs_audit_row *row = out;

	row->id = sqlite3_column_int64(st, 0);
	row->len = (size_t)sqlite3_column_bytes(st, 1);
	row->json = strndup(cs_sqlite_text(st, 1), row->len);
	return row->json ? CANARY_OK : CANARY_ENOMEM;
}

static void clear_row(void *item)
{
	free(((cs_audit_row *)item)->json);
}

int cs_sqlite_audit_list(struct cs_store_impl *s, const cs_audit_query *q,
	cs_audit_row **out, size_t *n)
{
	return cs_sqlite_collect(s, S_AUDIT_LIST, bind_query, q, audit_row,
		sizeof(**out), clear_row, (void **)out, n);
}
