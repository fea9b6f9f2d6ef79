/*
 * store_sqlite_webhooks.c - webhooks and their deliveries in SQLite: the
 * `webhooks` table (URL, HMAC key, events wanted) and the `deliveries`
 * queue that audit records with an event fill (store_sqlite_audit.c) and
 * the sender drains, one attempt at a time.
 */
#include "store/store_sqlite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void copy(char *dst, size_t cap, sqlite3_stmt *st, int col)
{
	snprintf(dst, cap, "%s", cs_sqlite_text(st, col));
}

int cs_sqlite_webhook_row(sqlite3_stmt *st, void *out)
{
	cs_webhook *w = out;

	memset(w, 0, sizeof(*w));
	w->id = sqlite3_column_int64(st, 0);
	copy(w->url, sizeof(w->url), st, 1);
	copy(w->secret, sizeof(w->secret), st, 2);
	copy(w->events, sizeof(w->events), st, 3);
	w->created_ms = sqlite3_column_int64(st, 4);
	copy(w->created_by, sizeof(w->created_by), st, 5);
	return CANARY_OK;
}

static char *dup_col(sqlite3_stmt *st, int col)
{
	return strndup(cs_sqlite_text(st, col),
		(size_t)sqlite3_column_bytes(st, col));
}

int cs_sqlite_delivery_row(sqlite3_stmt *st, cs_delivery *d, bool payload)
{
	memset(d, 0, sizeof(*d));
	d->id = sqlite3_column_int64(st, 0);
	d->webhook_id = sqlite3_column_int64(st, 1);
	d->audit_id = sqlite3_column_int64(st, 2);
	copy(d->event, sizeof(d->event), st, 3);
	copy(d->flag, sizeof(d->flag), st, 4);
	copy(d->state, sizeof(d->state), st, 5);
	d->attempts = sqlite3_column_int64(st, 6);
	d->next_ms = sqlite3_column_int64(st, 7);
	d->created_ms = sqlite3_column_int64(st, 8);
	d->updated_ms = sqlite3_column_int64(st, 9);
	d->last_status = sqlite3_column_int64(st, 10);
	copy(d->last_error, sizeof(d->last_error), st, 11);
	if (payload && !(d->payload = dup_col(st, 12)))
		return CANARY_ENOMEM;
	return CANARY_OK;
}

/* The record of a webhook change. */
static int audit_webhook(struct cs_store_impl *s, const cs_audit *audit,
	const cs_webhook *before, const cs_webhook *after)
{
	cs_audit_rec rec;

	memset(&rec, 0, sizeof(rec));
	rec.audit = audit;
	rec.webhook_before = before;
	rec.webhook_after = after;
	return cs_sqlite_audit_now(s, &rec);
}

int cs_sqlite_webhook_add(struct cs_store_impl *s, cs_webhook *w,
	const cs_audit *audit)
{
	sqlite3_stmt *st = s->w.st[S_WEBHOOK_INSERT];
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_text(st, 1, w->url, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, w->secret, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, w->events, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, w->created_ms);
	sqlite3_bind_text(st, 5, w->created_by, -1, SQLITE_STATIC);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK) {
		w->id = sqlite3_last_insert_rowid(s->w.db);
		rc = audit_webhook(s, audit, NULL, w);
	}
	return cs_sqlite_write_end(s, rc);
}

/* S_WEBHOOK_GET: the webhook `id` on the write connection. */
static int webhook_get(struct cs_store_impl *s, int64_t id, cs_webhook *w)
{
	sqlite3_bind_int64(s->w.st[S_WEBHOOK_GET], 1, id);
	return cs_sqlite_one(s->w.st[S_WEBHOOK_GET], CS_ENOTFOUND,
		cs_sqlite_webhook_row, w);
}

int cs_sqlite_webhook_delete(struct cs_store_impl *s, int64_t id,
	const cs_audit *audit)
{
	cs_webhook *w = malloc(sizeof(*w));
	int rc = w ? cs_sqlite_write_begin(s) : CANARY_ENOMEM;

	if (rc != CANARY_OK) {
		free(w);
		return rc;
	}
	rc = webhook_get(s, id, w);
	if (rc == CANARY_OK) {
		sqlite3_bind_int64(s->w.st[S_WEBHOOK_DELETE], 1, id);
		rc = cs_sqlite_done(s->w.st[S_WEBHOOK_DELETE]);
	}
	if (rc == CANARY_OK) {
		sqlite3_bind_int64(s->w.st[S_WEBHOOK_DELIVERIES_DELETE], 1, id);
		rc = cs_sqlite_done(s->w.st[S_WEBHOOK_DELIVERIES_DELETE]);
	}
	if (rc == CANARY_OK)
		rc = audit_webhook(s, audit, w, NULL);
	rc = cs_sqlite_write_end(s, rc);
	free(w);
	return rc;
}

int cs_sqlite_webhook_list(struct cs_store_impl *s, cs_webhook **out,
	size_t *n)
{
	return cs_sqlite_collect(s, S_WEBHOOKS_ALL, NULL, NULL,
		cs_sqlite_webhook_row, sizeof(**out), NULL, (void **)out, n);
}

static void clear_delivery(void *item)
{
	cs_delivery *d = item;

	free(d->payload);
	free(d->url);
	free(d->secret);
}

/* A listed delivery; a due one with its payload, URL and key. */
static int listed_row(sqlite3_stmt *st, void *out)
{
	return cs_sqlite_delivery_row(st, out, false);
}

static int due_row(sqlite3_stmt *st, void *out)
{
	cs_delivery *d = out;
	int rc = cs_sqlite_delivery_row(st, d, true);

	if (rc == CANARY_OK && (!(d->url = dup_col(st, 13)) ||
	    !(d->secret = dup_col(st, 14))))
		rc = CANARY_ENOMEM;
	if (rc != CANARY_OK)
		clear_delivery(d);
	return rc;
}

/* ?1 and ?2 of a delivery read. */
static void bind_two(sqlite3_stmt *st, const void *arg)
{
	const int64_t *v = arg;

	sqlite3_bind_int64(st, 1, v[0]);
	sqlite3_bind_int64(st, 2, v[1]);
}

int cs_sqlite_deliveries_due(struct cs_store_impl *s, int64_t now_ms,
	size_t limit, cs_delivery **out, size_t *n)
{
	int64_t v[2] = { now_ms, (int64_t)limit };

	return cs_sqlite_collect(s, S_DELIVERIES_DUE, bind_two, v, due_row,
		sizeof(**out), clear_delivery, (void **)out, n);
}

int cs_sqlite_delivery_list(struct cs_store_impl *s, int64_t webhook_id,
	size_t limit, cs_delivery **out, size_t *n)
{
	int64_t v[2] = { webhook_id, (int64_t)limit };

	return cs_sqlite_collect(s, S_DELIVERIES_OF, bind_two, v, listed_row,
		sizeof(**out), clear_delivery, (void **)out, n);
}

int cs_sqlite_delivery_attempt(struct cs_store_impl *s, int64_t id,
	const cs_attempt *a)
{
	sqlite3_stmt *st = s->w.st[S_DELIVERY_UPDATE];
	int rc = cs_sqlite_write_begin(s);

	if (rc != CANARY_OK)
		return rc;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, a->state, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 3, a->next_ms);
	sqlite3_bind_int64(st, 4, a->now_ms);
	sqlite3_bind_int64(st, 5, a->status);
	sqlite3_bind_text(st, 6, a->error ? a->error : "", -1, SQLITE_STATIC);
	rc = cs_sqlite_done(st);
	if (rc == CANARY_OK && sqlite3_changes(s->w.db) != 1)
		rc = CS_ENOTFOUND;
	return cs_sqlite_write_end(s, rc);
}
