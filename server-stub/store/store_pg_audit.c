/*
 * store_pg_audit.c - the audit log in PostgreSQL: the record each change
 * appends inside its own transaction, the deliveries a record with a
 * webhook event queues there too, notes, the guard of live rollouts, and
 * reading the log.
 */
#include "store/store_pg.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "clock.h"

void cs_pg_copy(char *dst, size_t cap, const PGresult *r, int col)
{
	snprintf(dst, cap, "%s", cs_pg_str(r, col));
}

/* Queue the record's deliveries: one per webhook that wants its event. */
static int enqueue(cs_pg_conn *c, const cs_audit_rec *rec, const char *json,
	int64_t id)
{
	cs_pg_params p;
	char *payload = NULL;
	int rc = cs_record_payload_write(json, id, &payload);

	if (rc != CANARY_OK)
		return rc;
	cs_pg_params_init(&p);
	cs_pg_int(&p, id);
	cs_pg_text(&p, cs_record_audit_event(rec));
	cs_pg_text(&p, rec->flag ? rec->flag : "");
	cs_pg_text(&p, payload);
	cs_pg_int(&p, rec->time_ms);
	rc = cs_pg_exec(c, P_DELIVERY_ENQUEUE, &p, NULL, NULL);
	cJSON_free(payload);
	return rc;
}

int cs_pg_audit_in(cs_pg_conn *c, const cs_audit_rec *rec)
{
	const cs_audit *a = rec->audit;
	cs_pg_params p;
	PGresult *r = NULL;
	char *json = NULL;
	int rc;

	if (!a)
		return CANARY_OK;
	rc = cs_record_audit_write(rec, &json);
	if (rc != CANARY_OK)
		return rc;
	cs_pg_params_init(&p);
	cs_pg_int(&p, rec->time_ms);
	cs_pg_text(&p, a->actor ? a->actor : "");
	cs_pg_text(&p, cs_record_audit_action(rec));
	cs_pg_text(&p, rec->flag ? rec->flag : "");
	cs_pg_uint(&p, rec->config_version);
	cs_pg_text(&p, json);
	cs_pg_text(&p, cs_record_audit_segment(rec));
	rc = cs_pg_exec(c, P_AUDIT_INSERT, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK && cs_record_audit_event(rec))
		rc = enqueue(c, rec, json, cs_pg_i64(r, 0));
	PQclear(r);
	cJSON_free(json);
	return rc;
}

int cs_pg_guard_in(cs_pg_conn *c, const cs_audit *audit,
	const canary__flag *cur, const canary__flag *next)
{
	cs_pg_params p;
	PGresult *r = NULL;
	cs_rollout *live;
	int rc;

	if (!audit || !audit->guard || audit->forced ||
	    !cs_rollout_guarded_field(cur, next))
		return CANARY_OK;
	live = malloc(sizeof(*live));
	if (!live)
		return CANARY_ENOMEM;
	cs_pg_params_init(&p);
	cs_pg_text(&p, cur->key);
	rc = cs_pg_exec(c, P_ROLLOUT_LIVE, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) == 1 &&
	    cs_pg_rollout_row(r, live) == CANARY_OK)
		rc = cs_record_guard(audit, live, cur, next);
	PQclear(r);
	free(live);
	return rc;
}

int cs_pg_audit_now(cs_pg_conn *c, cs_audit_rec *rec)
{
	int rc;

	rec->time_ms = canary__wall_ms();
	rc = cs_pg_version(c, &rec->config_version);
	return rc == CANARY_OK ? cs_pg_audit_in(c, rec) : rc;
}

typedef struct noting {
	const char *flag;
	const cs_audit *audit;
} noting;

static int note_in(cs_pg_conn *c, void *arg)
{
	noting *n = arg;
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = n->audit;
	rec.flag = n->flag;
	return cs_pg_audit_now(c, &rec);
}

int cs_pg_audit_note(struct cs_store_impl *s, const char *flag,
	const cs_audit *audit)
{
	noting n = { flag, audit };

	return cs_pg_transact(s, CS_PG_WRITE, note_in, &n);
}

static int audit_row(const PGresult *r, void *out)
{
	cs_audit_row *row = out;

	row->id = cs_pg_i64(r, 0);
	row->len = (size_t)PQgetlength(r, 0, 1);
	row->json = strndup(cs_pg_str(r, 1), row->len);
	return row->json ? CANARY_OK : CANARY_ENOMEM;
}

static void clear_row(void *item)
{
	free(((cs_audit_row *)item)->json);
}

int cs_pg_audit_list(struct cs_store_impl *s, const cs_audit_query *q,
	cs_audit_row **out, size_t *n)
{
	cs_pg_params p;

	cs_pg_params_init(&p);
	cs_pg_text(&p, q->flag);
	cs_pg_text(&p, q->actor);
	cs_pg_uint(&p, q->since_ms);
	cs_pg_uint(&p, q->until_ms);
	cs_pg_int(&p, q->before_id);
	cs_pg_uint(&p, q->limit);
	cs_pg_text(&p, q->segment);
	return cs_pg_collect(s, P_AUDIT_LIST, &p, audit_row, sizeof(**out),
		clear_row, (void **)out, n);
}
