/*
 * store_sqlite_rollouts.c - rollouts and their decisions in SQLite: the
 * `rollouts` table (one row per rollout, its revision bumped by every
 * change) and the `decisions` history, written together with the flag
 * change they cause.
 */
#include "store/store_sqlite.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "store/records.h"

int cs_sqlite_rollout_row(sqlite3_stmt *st, void *out)
{
	cs_rollout_row row;

	row.id = sqlite3_column_int64(st, 0);
	row.flag = cs_sqlite_text(st, 1);
	row.spec = cs_sqlite_text(st, 2);
	row.state = cs_sqlite_text(st, 3);
	row.step = sqlite3_column_int64(st, 4);
	row.step_start_ms = sqlite3_column_int64(st, 5);
	row.step_version = (uint64_t)sqlite3_column_int64(st, 6);
	row.reason = cs_sqlite_text(st, 7);
	row.created_ms = sqlite3_column_int64(st, 8);
	row.updated_ms = sqlite3_column_int64(st, 9);
	row.rev = sqlite3_column_int64(st, 10);
	row.pass_since_ms = sqlite3_column_int64(st, 11);
	row.alert_since_ms = sqlite3_column_int64(st, 12);
	row.prev_step_version = (uint64_t)sqlite3_column_int64(st, 13);
	return cs_record_rollout_read(&row, out);
}

void cs_sqlite_bind_rollout(sqlite3_stmt *st, const cs_rollout *r,
	const char *spec)
{
	sqlite3_bind_text(st, 1, r->flag, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, spec, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, cj_status_name(r->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->step);
	sqlite3_bind_int64(st, 5, r->step_start_ms);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)r->step_version);
	sqlite3_bind_text(st, 7, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 8, r->created_ms);
	sqlite3_bind_int64(st, 9, r->pass_since_ms);
	sqlite3_bind_int64(st, 10, r->alert_since_ms);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->prev_step_version);
}

static int insert_row(cs_sqlite_conn *c, cs_rollout *r)
{
	sqlite3_stmt *st = c->st[S_ROLLOUT_INSERT];
	char *spec = NULL;
	int rc = cs_record_spec_write(&r->spec, &spec);

	if (rc != CANARY_OK)
		return rc;
	cs_sqlite_bind_rollout(st, r, spec);
	switch (sqlite3_step(st)) {
	case SQLITE_DONE:
		r->id = sqlite3_last_insert_rowid(c->db);
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
	cs_sqlite_reset(st);
	cJSON_free(spec);
	return rc;
}

/* Write r's state if nobody changed it since it was read (r->rev). */
static int update_row(cs_sqlite_conn *c, cs_rollout *r, int64_t now_ms)
{
	sqlite3_stmt *st = c->st[S_ROLLOUT_UPDATE];
	int rc;

	sqlite3_bind_text(st, 1, cj_status_name(r->status), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, (sqlite3_int64)r->step);
	sqlite3_bind_int64(st, 3, r->step_start_ms);
	sqlite3_bind_int64(st, 4, (sqlite3_int64)r->step_version);
	sqlite3_bind_text(st, 5, r->reason, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 6, now_ms);
	sqlite3_bind_int64(st, 7, r->id);
	sqlite3_bind_int64(st, 8, r->rev);
	sqlite3_bind_int64(st, 9, r->pass_since_ms);
	sqlite3_bind_int64(st, 10, r->alert_since_ms);
	sqlite3_bind_int64(st, 11, (sqlite3_int64)r->prev_step_version);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK && sqlite3_changes(c->db) != 1)
		rc = CS_ESTALE;
	if (rc == CANARY_OK) {
		r->rev++;
		r->updated_ms = now_ms;
	}
	return rc;
}

/* Append the decision (or replace the last one); with `version`, the
 * config version it committed. */
static int add_decision(cs_sqlite_conn *c, int64_t rollout_id,
	int64_t time_ms, const char *decision, const uint64_t *version,
	bool replace)
{
	sqlite3_stmt *st = c->st[replace ? S_DECISION_REPLACE :
		S_DECISION_INSERT];
	char *body = NULL;
	int rc = version ? cs_record_decision_write(decision, *version,
		&body) : CANARY_OK;

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rollout_id);
	sqlite3_bind_int64(st, 2, time_ms);
	sqlite3_bind_text(st, 3, body ? body : decision, -1, SQLITE_STATIC);
	rc = cs_sqlite_done(st);
	cJSON_free(body);
	return rc;
}

/* The flag change (cur, next) and the version bump, or the version
 * (*changed false: no flag change, or one that changes nothing). */
static int version_part(struct cs_store_impl *s, const cs_rollout_change *ch,
	const char *flag, canary__flag *cur, canary__flag *next, uint64_t *v,
	bool *changed)
{
	int rc;

	*changed = false;
	if (!ch->modify)
		return cs_sqlite_version(&s->w, v);
	rc = cs_sqlite_modify_in(s, flag, ch->modify, ch->modify_ctx, cur,
		next);
	if (rc == CANARY_OK)
		rc = cs_sqlite_size_ok(s, false);
	if (rc == CANARY_OK) {
		*changed = true;
		rc = cs_sqlite_bump_in(s, v);
	} else if (rc == CS_EUNCHANGED) { /* the flag already says so */
		rc = cs_sqlite_version(&s->w, v);
	}
	return rc;
}

/* The change's parts, in the open write transaction, on `next`. */
static int write_change(struct cs_store_impl *s, const cs_rollout_change *ch,
	cs_rollout *next, uint64_t *v)
{
	const canary__alloc *a = canary__alloc_default();
	canary__flag cur, flag;
	cs_audit_rec rec;
	bool changed;
	int rc;

	memset(&cur, 0, sizeof(cur));
	memset(&flag, 0, sizeof(flag));
	rc = version_part(s, ch, next->flag, &cur, &flag, v, &changed);
	if (rc == CANARY_OK && (ch->insert || ch->new_step))
		next->step_version = *v;
	if (rc == CANARY_OK)
		rc = ch->insert ? insert_row(&s->w, next) :
			update_row(&s->w, next, ch->now_ms);
	if (rc == CANARY_OK)
		rc = add_decision(&s->w, next->id, ch->now_ms, ch->decision,
			ch->modify ? v : NULL, ch->replace_last && !ch->insert);
	if (rc == CANARY_OK) {
		memset(&rec, 0, sizeof(rec));
		rec.audit = ch->audit;
		rec.time_ms = ch->now_ms;
		rec.flag = next->flag;
		rec.config_version = *v;
		rec.flag_before = changed ? &cur : NULL;
		rec.flag_after = changed ? &flag : NULL;
		rec.rollout_before = ch->insert ? NULL : ch->before;
		rec.rollout_after = next;
		rc = cs_sqlite_audit_in(s, &rec);
	}
	canary__flag_clear(a, &cur);
	canary__flag_clear(a, &flag);
	return rc;
}

int cs_sqlite_rollout_write(struct cs_store_impl *s,
	const cs_rollout_change *ch, uint64_t *version)
{
	cs_rollout *next = malloc(sizeof(*next));
	uint64_t v = 0;
	int rc = next ? cs_sqlite_write_begin(s) : CANARY_ENOMEM;

	if (rc != CANARY_OK) {
		free(next);
		return rc;
	}
	*next = *ch->rollout;
	rc = cs_sqlite_write_end(s, write_change(s, ch, next, &v));
	if (rc == CANARY_OK) {
		*ch->rollout = *next;
		if (version)
			*version = v;
	}
	free(next);
	return rc;
}

static int latest(cs_sqlite_conn *c, const char *flag, cs_rollout *out)
{
	return cs_sqlite_lookup(c->st[S_ROLLOUT_LATEST], flag, CS_ENOROLLOUT,
		cs_sqlite_rollout_row, out);
}

static int count_decisions(cs_sqlite_conn *c, int64_t rollout_id,
	uint64_t *total)
{
	sqlite3_stmt *st = c->st[S_DECISIONS_COUNT];
	int rc = CANARY_ESTORAGE;

	sqlite3_bind_int64(st, 1, rollout_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		*total = cs_sqlite_u64(st, 0);
		rc = CANARY_OK;
	}
	cs_sqlite_reset(st);
	return rc;
}

static int decisions(cs_sqlite_conn *c, int64_t rollout_id, cs_history *h)
{
	sqlite3_stmt *st = c->st[S_DECISIONS_LAST];
	int rc = count_decisions(c, rollout_id, &h->total), step = SQLITE_DONE;

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, rollout_id);
	sqlite3_bind_int64(st, 2, h->last ? (sqlite3_int64)h->last : -1);
	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW)
		rc = h->fn(cs_sqlite_text(st, 0),
			(size_t)sqlite3_column_bytes(st, 0), h->ctx);
	cs_sqlite_reset(st);
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	return rc;
}

int cs_sqlite_rollout_get(struct cs_store_impl *s, const char *flag,
	cs_rollout *out, cs_history *history)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);
	int rc;

	if (!c)
		return CANARY_ESTORAGE;
	rc = latest(c, flag, out);
	if (rc == CANARY_OK && history)
		rc = decisions(c, out->id, history);
	return cs_sqlite_read_end(s, c, rc);
}

static int each(sqlite3_stmt *st, cs_rollout_fn fn, void *ctx)
{
	cs_rollout *r = malloc(sizeof(*r));
	int rc = r ? CANARY_OK : CANARY_ENOMEM, step = SQLITE_DONE;

	while (rc == CANARY_OK && (step = sqlite3_step(st)) == SQLITE_ROW) {
		/* A corrupt row is skipped, not fatal to the others. */
		if (cs_sqlite_rollout_row(st, r) == CANARY_OK)
			rc = fn(r, ctx);
	}
	cs_sqlite_reset(st);
	if (rc == CANARY_OK && step != SQLITE_DONE)
		rc = CANARY_ESTORAGE;
	free(r);
	return rc;
}

int cs_sqlite_rollouts_each(struct cs_store_impl *s, cs_rollout_set set,
	cs_rollout_fn fn, void *ctx)
{
	cs_sqlite_conn *c = cs_sqlite_read_begin(s);

	if (!c)
		return CANARY_ESTORAGE;
	return cs_sqlite_read_end(s, c, each(c->st[set == CS_ROLLOUTS_ACTIVE ?
		S_ROLLOUTS_ACTIVE : S_ROLLOUTS_LATEST_ALL], fn, ctx));
}
