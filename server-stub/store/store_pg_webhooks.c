/*
 * store_pg_webhooks.c - webhooks and their deliveries in PostgreSQL: the
 * `webhooks` table (URL, HMAC key, events wanted) and the `deliveries`
 * queue that audit records with an event fill (store_pg_audit.c) and the
 * sender drains, one attempt at a time.
 */
#include "store/store_pg.h"

#include <stdlib.h>
#include <string.h>

int cs_pg_webhook_row(const PGresult *r, void *out)
{
	cs_webhook *w = out;

	memset(w, 0, sizeof(*w));
	w->id = cs_pg_i64(r, 0);
	cs_pg_copy(w->url, sizeof(w->url), r, 1);
	cs_pg_copy(w->secret, sizeof(w->secret), r, 2);
	cs_pg_copy(w->events, sizeof(w->events), r, 3);
	w->created_ms = cs_pg_i64(r, 4);
	cs_pg_copy(w->created_by, sizeof(w->created_by), r, 5);
	return CANARY_OK;
}

static char *dup_col(const PGresult *r, int col)
{
	return strndup(cs_pg_str(r, col), (size_t)PQgetlength(r, 0, col));
}

int cs_pg_delivery_row(const PGresult *r, cs_delivery *d, bool payload)
{
	memset(d, 0, sizeof(*d));
	d->id = cs_pg_i64(r, 0);
	d->webhook_id = cs_pg_i64(r, 1);
	d->audit_id = cs_pg_i64(r, 2);
	cs_pg_copy(d->event, sizeof(d->event), r, 3);
	cs_pg_copy(d->flag, sizeof(d->flag), r, 4);
	cs_pg_copy(d->state, sizeof(d->state), r, 5);
	d->attempts = cs_pg_i64(r, 6);
	d->next_ms = cs_pg_i64(r, 7);
	d->created_ms = cs_pg_i64(r, 8);
	d->updated_ms = cs_pg_i64(r, 9);
	d->last_status = cs_pg_i64(r, 10);
	cs_pg_copy(d->last_error, sizeof(d->last_error), r, 11);
	if (payload && !(d->payload = dup_col(r, 12)))
		return CANARY_ENOMEM;
	return CANARY_OK;
}

typedef struct hook_change {
	cs_webhook *w;            /* added, or removed */
	int64_t id;               /* remove this */
	const cs_audit *audit;
} hook_change;

/* The record of a webhook change. */
static int record(cs_pg_conn *c, const hook_change *hc, bool added)
{
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = hc->audit;
	rec.webhook_before = added ? NULL : hc->w;
	rec.webhook_after = added ? hc->w : NULL;
	return cs_pg_audit_now(c, &rec);
}

static int add_in(cs_pg_conn *c, void *arg)
{
	hook_change *hc = arg;
	cs_webhook *w = hc->w;
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_text(&p, w->url);
	cs_pg_text(&p, w->secret);
	cs_pg_text(&p, w->events);
	cs_pg_int(&p, w->created_ms);
	cs_pg_text(&p, w->created_by);
	rc = cs_pg_exec(c, P_WEBHOOK_INSERT, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CANARY_ESTORAGE;
	if (rc == CANARY_OK)
		w->id = cs_pg_i64(r, 0);
	PQclear(r);
	return rc == CANARY_OK ? record(c, hc, true) : rc;
}

int cs_pg_webhook_add(struct cs_store_impl *s, cs_webhook *w,
	const cs_audit *audit)
{
	hook_change hc = { w, 0, audit };

	return cs_pg_transact(s, CS_PG_WRITE, add_in, &hc);
}

static int delete_in(cs_pg_conn *c, void *arg)
{
	hook_change *hc = arg;
	cs_pg_params p;
	PGresult *r = NULL;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_int(&p, hc->id);
	rc = cs_pg_exec(c, P_WEBHOOK_GET, &p, &r, NULL);
	if (rc == CANARY_OK && PQntuples(r) != 1)
		rc = CS_ENOTFOUND;
	if (rc == CANARY_OK)
		cs_pg_webhook_row(r, hc->w);
	PQclear(r);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_WEBHOOK_DELETE, &p, NULL, NULL);
	if (rc == CANARY_OK)
		rc = cs_pg_exec(c, P_WEBHOOK_DELIVERIES_DELETE, &p, NULL, NULL);
	return rc == CANARY_OK ? record(c, hc, false) : rc;
}

int cs_pg_webhook_delete(struct cs_store_impl *s, int64_t id,
	const cs_audit *audit)
{
	hook_change hc = { malloc(sizeof(cs_webhook)), id, audit };
	int rc;

	if (!hc.w)
		return CANARY_ENOMEM;
	rc = cs_pg_transact(s, CS_PG_WRITE, delete_in, &hc);
	free(hc.w);
	return rc;
}

int cs_pg_webhook_list(struct cs_store_impl *s, cs_webhook **out, size_t *n)
{
	return cs_pg_collect(s, P_WEBHOOKS_ALL, NULL, cs_pg_webhook_row,
		sizeof(**out), NULL, (void **)out, n);
}

static void clear_delivery(void *item)
{
	cs_delivery *d = item;

	free(d->payload);
	free(d->url);
	free(d->secret);
}

/* A listed delivery; a due one with its payload, URL and key. */
static int listed_row(const PGresult *r, void *out)
{
	return cs_pg_delivery_row(r, out, false);
}

static int due_row(const PGresult *r, void *out)
{
	cs_delivery *d = out;
	int rc = cs_pg_delivery_row(r, d, true);

	if (rc == CANARY_OK && (!(d->url = dup_col(r, 13)) ||
	    !(d->secret = dup_col(r, 14))))
		rc = CANARY_ENOMEM;
	if (rc != CANARY_OK)
		clear_delivery(d);
	return rc;
}

static int deliveries(struct cs_store_impl *s, int which, int64_t a,
	int64_t b, cs_delivery **out, size_t *n)
{
	cs_pg_params p;

	cs_pg_params_init(&p);
	cs_pg_int(&p, a);
	cs_pg_int(&p, b);
	return cs_pg_collect(s, which, &p, which == P_DELIVERIES_DUE ? due_row :
		listed_row, sizeof(**out), clear_delivery, (void **)out, n);
}

int cs_pg_deliveries_due(struct cs_store_impl *s, int64_t now_ms,
	size_t limit, cs_delivery **out, size_t *n)
{
	return deliveries(s, P_DELIVERIES_DUE, now_ms, (int64_t)limit, out, n);
}

int cs_pg_delivery_list(struct cs_store_impl *s, int64_t webhook_id,
	size_t limit, cs_delivery **out, size_t *n)
{
	return deliveries(s, P_DELIVERIES_OF, webhook_id, (int64_t)limit, out,
		n);
}

typedef struct attempting {
	int64_t id;
	const cs_attempt *a;
} attempting;

static int attempt_in(cs_pg_conn *c, void *arg)
{
	attempting *at = arg;
	cs_pg_params p;
	uint64_t changed = 0;
	int rc;

	cs_pg_params_init(&p);
	cs_pg_int(&p, at->id);
	cs_pg_text(&p, at->a->state);
	cs_pg_int(&p, at->a->next_ms);
	cs_pg_int(&p, at->a->now_ms);
	cs_pg_int(&p, at->a->status);
	cs_pg_text(&p, at->a->error ? at->a->error : "");
	rc = cs_pg_exec(c, P_DELIVERY_UPDATE, &p, NULL, &changed);
	return rc == CANARY_OK && changed != 1 ? CS_ENOTFOUND : rc;
}

int cs_pg_delivery_attempt(struct cs_store_impl *s, int64_t id,
	const cs_attempt *a)
{
	attempting at = { id, a };

	return cs_pg_transact(s, CS_PG_WRITE, attempt_in, &at);
}
