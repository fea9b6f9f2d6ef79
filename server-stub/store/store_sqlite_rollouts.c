/*
 * rollout_store.c - SQL for rollouts and their decisions.
 *
 * Statements are prepared per call: these run a few times per evaluation
 * interval, not per request, and the store's connection is only ours
 * inside the caller's transaction.
 */
#include "store/store_sqlite_rollouts.h"

#include <cjson/cJSON.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#include "error.h"
#include "store/storage.h"

#define ROLLOUT_COLS "id, flag, spec, state, step, step_start_ms," \
	" step_version, reason, created_ms, updated_ms, rev"

static int prepare(sqlite3 *db, const char *sql, sqlite3_stmt **st)
{
	return sqlite3_prepare_v2(db, sql, -1, st, NULL) == SQLITE_OK ?
		CANARY_OK : CANARY_ESTORAGE;
}

static const char *text_col(sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	return t ? (const char *)t : "";
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = strlen(src);

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* One row of ROLLOUT_COLS into `out`; CANARY_ESTORAGE if it is corrupt. */
static int read_row(sqlite3_stmt *st, cs_rollout *out)
{
	const char *spec = text_col(st, 2);
	cs_perror e;
	sqlite3_int64 step = sqlite3_column_int64(st, 4);

	memset(out, 0, sizeof(*out));
	out->id = sqlite3_column_int64(st, 0);
	copy_str(out->flag, sizeof(out->flag), text_col(st, 1));
	if (cs_rollout_parse(spec, strlen(spec), NULL, &out->spec, &e) !=
	    CANARY_OK ||
	    cs_rollout_status_parse(text_col(st, 3), &out->status) != 0 ||
	    step < 0 || (size_t)step >= out->spec.nsteps)
		return CANARY_ESTORAGE;
	out->step = (size_t)step;
	out->step_start_ms = sqlite3_column_int64(st, 5);
	out->step_version = (uint64_t)sqlite3_column_int64(st, 6);
	copy_str(out->reason, sizeof(out->reason), text_col(st, 7));
	out->created_ms = sqlite3_column_int64(st, 8);
	out->updated_ms = sqlite3_column_int64(st, 9);
	out->rev = sqlite3_column_int64(st, 10);
	return CANARY_OK;
}

static char *spec_text(const cs_rollout_spec *s)
{
	cJSON *obj = cs_rollout_spec_to_json(s);
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	return text;
}

int cs_rs_insert(sqlite3 *db, cs_rollout *r)
{
	sqlite3_stmt *st = NULL;
	char *spec = spec_text(&r->spec);
	int rc;

	if (!spec)
		return CANARY_ENOMEM;
	rc = prepare(db, "INSERT INTO rollouts(flag, spec, state, step,"
		" step_start_ms, step_version, reason, created_ms, updated_ms,"
		" rev) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8, 1)", &st);
	if (rc != CANARY_OK)
		goto done;
	sqlite3_bind_text(st, 1, r->flag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cj_status_name(r->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->step);
	sqlite3_bind_int64(st, 5, r->step_start_ms);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->step_version);
	sqlite3_bind_text(st, 7, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->created_ms);
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		r->id = sqlite3_last_insert_rowid(db);
		r->updated_ms = r->created_ms;
		r->rev = 1;
		break;
	case SQLITE_CONSTRAINT:
		rc = CS_ECONFLICT; /* the partial unique index: one active */
		break;
	default:
		rc = CANARY_ESTORAGE;
		break;
	}
done:
	sqlite3_finalize(st);
	cJSON_free(spec);
	return rc;
}

int cs_rs_latest(sqlite3 *db, const char *flag, cs_rollout *out)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db, "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE flag = ?1 ORDER BY id DESC LIMIT 1", &st);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, flag, -1, SQLITE_STATIC);
	switch (sqlite3_step(st)) {
	case SQLITE_ROW:
		rc = read_row(st, out);
		break;
	case SQLITE_DONE:
		rc = CS_ENOROLLOUT;
		break;
	default:
		rc = CANARY_ESTORAGE;
		break;
	}
	sqlite3_finalize(st);
	return rc;
}

int cs_rs_update(sqlite3 *db, cs_rollout *r, int64_t now_ms)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db, "UPDATE rollouts SET state = ?1, step = ?2,"
		" step_start_ms = ?3, step_version = ?4, reason = ?5,"
		" updated_ms = ?6, rev = rev + 1 WHERE id = ?7 AND rev = ?8", &st);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, cj_status_name(r->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->step);
	sqlite3_bind_int64(st, 3, r->step_start_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->step_version);
	sqlite3_bind_text(st, 5, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	sqlite3_bind_int64(st, 7, r->id);
	sqlite3_bind_int64(st, 8, r->rev);
	if (sqlite3_step(st) != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	else if (sqlite3_changes(db) != 1)
		rc = CS_ESTALE;
	sqlite3_finalize(st);
	if (rc == CANARY_OK) {
		r->rev++;
		r->updated_ms = now_ms;
	}
	return rc;
}

static int each(sqlite3 *db, const char *sql, cs_rs_each_fn fn, void *ctx)
{
	sqlite3_stmt *st = NULL;
	cs_rollout *r = malloc(sizeof(*r));
	int rc = r ? prepare(db, sql, &st) : CANARY_ENOMEM, step = SQLITE_DONE;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		/* A corrupt row is skipped, not fatal to the others. */
		if (read_row(st, r) == CANARY_OK)
			rc = fn(r, ctx);
	}
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	sqlite3_finalize(st);
	free(r);
	return rc;
}

int cs_rs_each_active(sqlite3 *db, cs_rs_each_fn fn, void *ctx)
{
	return each(db, "SELECT " ROLLOUT_COLS " FROM rollouts"
		" WHERE state IN ('running', 'paused') ORDER BY id", fn, ctx);
}

int cs_rs_each_latest(sqlite3 *db, cs_rs_each_fn fn, void *ctx)
{
	return each(db, "SELECT " ROLLOUT_COLS " FROM rollouts WHERE id IN"
		" (SELECT MAX(id) FROM rollouts GROUP BY flag) ORDER BY flag",
		fn, ctx);
}

int cs_rs_add_decision(sqlite3 *db, int64_t rollout_id, int64_t time_ms,
	const cJSON *decision)
{
	sqlite3_stmt *st = NULL;
	char *body = cJSON_PrintUnformatted(decision);
	int rc = body ? prepare(db, "INSERT INTO decisions(rollout_id,"
		" time_ms, body) VALUES(?1, ?2, ?3)", &st) : CANARY_ENOMEM;

	if (rc == CANARY_OK) {
		sqlite3_bind_int64(st, 1, rollout_id);
		sqlite3_bind_int64(st, 2, time_ms);
		sqlite3_bind_text(st, 3, body, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			rc = CANARY_ESTORAGE;
	}
	sqlite3_finalize(st);
	cJSON_free(body);
	return rc;
}

static int count_decisions(sqlite3 *db, int64_t rollout_id, uint64_t *total)
{
	sqlite3_stmt *st = NULL;
	int rc = prepare(db, "SELECT COUNT(*) FROM decisions"
		" WHERE rollout_id = ?1", &st);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		*total = (uint64_t)sqlite3_column_int64(st, 0);
	else
		rc = CANARY_ESTORAGE;
	sqlite3_finalize(st);
	return rc;
}

int cs_rs_decisions(sqlite3 *db, int64_t rollout_id, uint64_t last,
	cJSON *out, uint64_t *total)
{
	sqlite3_stmt *st = NULL;
	int rc = count_decisions(db, rollout_id, total), step = SQLITE_DONE;

	if (rc == CANARY_OK)
		rc = prepare(db, "SELECT body FROM (SELECT id, body FROM decisions"
			" WHERE rollout_id = ?1 ORDER BY id DESC LIMIT ?2)"
			" ORDER BY id", &st);
	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rollout_id);
	sqlite3_bind_int64(st, 2, last ? (sqlite3_int64)last : -1);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		cJSON *d = cJSON_ParseWithLength(text_col(st, 0),
			(size_t)sqlite3_column_bytes(st, 0));

		if (!d || !cJSON_AddItemToArray(out, d)) {
			cJSON_Delete(d);
			rc = CANARY_ESTORAGE;
		}
	}
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	sqlite3_finalize(st);
	return rc;
}
