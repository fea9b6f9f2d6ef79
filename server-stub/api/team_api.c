/*
 * team_api.c - what a team running the service needs: named API tokens
 * (/v1/admin/tokens: made, listed, revoked; a token is shown once), the
 * audit log (/v1/admin/audit: filtered, paged) and webhooks
 * (/v1/admin/webhooks: registered, listed, deleted, and each one's
 * deliveries). Every change is audited by the store in its own
 * transaction and said in the log, with the actor, never a secret.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "clock.h"
#include "http/credential.h"
#include "http/reply.h"
#include "logline.h"
#include "notify/webhook_target.h"
#include "parse/admin_parse.h"
#include "server.h"

/* The audit of a change by the caller. */
static void audit_of(const cs_request *r, cs_audit *a, const char *action)
{
	memset(a, 0, sizeof(*a));
	a->actor = r->who.name;
	a->action = action;
}

static const char *query(struct MHD_Connection *c, const char *name)
{
	return MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, name);
}

/* ---- tokens ------------------------------------------------------------ */

static cJSON *token_json(const cs_token *t)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, "name", t->name) ||
		  !cJSON_AddStringToObject(o, "role", t->role) ||
		  !cJSON_AddStringToObject(o, "id", t->id) ||
		  !cJSON_AddNumberToObject(o, "created_ms",
			  (double)t->created_ms) ||
		  !cJSON_AddStringToObject(o, "created_by", t->created_by))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static enum MHD_Result list_tokens(cs_request *r, struct MHD_Connection *c)
{
	cs_token *t = NULL;
	size_t n = 0, i;
	cJSON *doc, *arr;
	int rc = cs_store_token_list(r->srv->store, &t, &n);

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = cJSON_CreateObject();
	arr = doc ? cJSON_AddArrayToObject(doc, "tokens") : NULL;
	for (i = 0; arr && i < n; i++)
		if (!cJSON_AddItemToArray(arr, token_json(&t[i])))
			arr = NULL;
	free(t);
	if (!arr) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

static enum MHD_Result create_token(cs_request *r, struct MHD_Connection *c)
{
	char secret[CS_TOKEN_SECRET_SIZE];
	cs_token t;
	cs_audit audit;
	canary__perror e;
	cJSON *doc;
	cs_log_about about = { "token.create", r->who.name, NULL, 0 };
	int rc;

	memset(&t, 0, sizeof(t));
	rc = cs_admin_parse_token(r->body, r->len, t.name, t.role, &e);
	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc == CANARY_OK)
		rc = cs_credential_new(secret, &t);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	t.created_ms = canary__wall_ms();
	snprintf(t.created_by, sizeof(t.created_by), "%s", r->who.name);
	audit_of(r, &audit, "token.create");
	rc = cs_store_token_add(r->srv->store, &t, &audit);
	if (rc == CS_EEXISTS)
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT, "a token of "
			"this name exists: revoke it first", "name");
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	cs_log(CS_LOG_INFO, &about, "token %s (%s) created by %s", t.name,
		t.role, r->who.name);
	/* The only time the token leaves the server. */
	doc = token_json(&t);
	if (doc && !cJSON_AddStringToObject(doc, "token", secret)) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	memset(secret, 0, sizeof(secret));
	return cs_reply_json(r, c, MHD_HTTP_CREATED, doc);
}

enum MHD_Result cs_handle_admin_tokens(cs_request *r, struct MHD_Connection *c)
{
	if (strcmp(r->method, "POST") == 0)
		return create_token(r, c);
	return list_tokens(r, c);
}

/* DELETE /v1/admin/tokens/{name}: revoke. */
enum MHD_Result cs_handle_admin_token(cs_request *r, struct MHD_Connection *c)
{
	cs_token t;
	cs_audit audit;
	cs_log_about about = { "token.revoke", r->who.name, NULL, 0 };
	cJSON *doc;
	int rc;

	audit_of(r, &audit, "token.revoke");
	rc = cs_store_token_revoke(r->srv->store, r->key, &audit, &t);
	if (rc == CS_ENOTFOUND)
		return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such token",
			"name");
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	cs_log(CS_LOG_INFO, &about, "token %s (%s) revoked by %s", t.name,
		t.role, r->who.name);
	doc = token_json(&t);
	if (doc && !cJSON_AddTrueToObject(doc, "revoked")) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

/* ---- the audit log ---------------------------------------------------- */

/* {"entries": [record + "id", ...], "next": id or null}. */
static cJSON *audit_doc(const cs_audit_row *rows, size_t n, size_t limit)
{
	cJSON *doc = cJSON_CreateObject();
	cJSON *arr = doc ? cJSON_AddArrayToObject(doc, "entries") : NULL;
	size_t i, shown = n > limit ? limit : n;

	for (i = 0; arr && i < shown; i++) {
		cJSON *e = cJSON_ParseWithLength(rows[i].json, rows[i].len);

		if (!cJSON_IsObject(e) || !cJSON_AddNumberToObject(e, "id",
			    (double)rows[i].id) || !cJSON_AddItemToArray(arr, e)) {
			cJSON_Delete(e);
			arr = NULL;
		}
	}
	/* One more than asked for says there is another page. */
	if (!arr || !(n > limit ? cJSON_AddNumberToObject(doc, "next",
		    (double)rows[limit - 1].id) :
		    cJSON_AddNullToObject(doc, "next"))) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

enum MHD_Result cs_handle_admin_audit(cs_request *r, struct MHD_Connection *c)
{
	cs_audit_params p;
	cs_audit_query q;
	cs_audit_row *rows = NULL;
	size_t n = 0;
	canary__perror e;
	cJSON *doc;
	int rc = cs_admin_parse_audit_query(query(c, "flag"),
		query(c, "segment"), query(c, "actor"), query(c, "since"), query(c, "until"),
		query(c, "before"), query(c, "limit"), &p, &e);

	if (rc != CANARY_OK)
		return cs_reply_perror(r, c, &e);
	memset(&q, 0, sizeof(q));
	q.flag = p.flag;
	q.actor = p.actor;
	q.segment = p.segment;
	q.since_ms = p.since_ms;
	q.until_ms = p.until_ms;
	q.before_id = (int64_t)p.before;
	q.limit = p.limit + 1;
	rc = cs_store_audit_list(r->srv->store, &q, &rows, &n);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = audit_doc(rows, n, (size_t)p.limit);
	cs_audit_rows_free(rows, n);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

/* ---- webhooks --------------------------------------------------------- */

/* "a,b" (or "": every event) as a JSON array of names. */
static cJSON *events_json(const char *events)
{
	cJSON *arr = cJSON_CreateArray();
	const char *p = events;
	size_t i;

	for (i = 0; arr && !*events && cs_webhook_events[i]; i++)
		if (!cJSON_AddItemToArray(arr,
			    cJSON_CreateString(cs_webhook_events[i])))
			return cJSON_Delete(arr), NULL;
	while (arr && *p) {
		size_t len = strcspn(p, ",");
		char name[32];

		snprintf(name, sizeof(name), "%.*s", (int)len, p);
		if (!cJSON_AddItemToArray(arr, cJSON_CreateString(name)))
			return cJSON_Delete(arr), NULL;
		p += len + (p[len] == ',');
	}
	return arr;
}

/* A webhook as the API shows it: never its secret. */
static cJSON *webhook_json(const cs_webhook *w)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddNumberToObject(o, "id", (double)w->id) ||
		  !cJSON_AddStringToObject(o, "url", w->url) ||
		  !cJSON_AddItemToObject(o, "events", events_json(w->events)) ||
		  !cJSON_AddNumberToObject(o, "created_ms",
			  (double)w->created_ms) ||
		  !cJSON_AddStringToObject(o, "created_by", w->created_by))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static enum MHD_Result list_webhooks(cs_request *r, struct MHD_Connection *c)
{
	cs_webhook *w = NULL;
	size_t n = 0, i;
	cJSON *doc, *arr;
	int rc = cs_store_webhook_list(r->srv->store, &w, &n);

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = cJSON_CreateObject();
	arr = doc ? cJSON_AddArrayToObject(doc, "webhooks") : NULL;
	for (i = 0; arr && i < n; i++)
		if (!cJSON_AddItemToArray(arr, webhook_json(&w[i])))
			arr = NULL;
	free(w);
	if (!arr) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

static enum MHD_Result add_webhook(cs_request *r, struct MHD_Connection *c)
{
	cs_webhook *w = calloc(1, sizeof(*w));
	cs_audit audit;
	canary__perror e;
	cs_log_about about = { "webhook.create", r->who.name, NULL, 0 };
	const char *refused;
	cJSON *doc = NULL;
	int rc = w ? cs_admin_parse_webhook(r->body, r->len, w->url,
		sizeof(w->url), w->events, sizeof(w->events), &e) :
		CANARY_ENOMEM;

	if (rc == CANARY_OK && (refused = cs_webhook_url_refused(w->url,
		    r->srv->opts->webhook_allow_loopback)) != NULL)
		rc = canary__perror_set(&e, "url", "must not name %s", refused);
	if (rc == CANARY_OK)
		rc = cs_credential_webhook_secret(w->secret);
	if (rc == CANARY_OK) {
		w->created_ms = canary__wall_ms();
		snprintf(w->created_by, sizeof(w->created_by), "%s",
			r->who.name);
		audit_of(r, &audit, "webhook.create");
		rc = cs_store_webhook_add(r->srv->store, w, &audit);
	}
	if (rc == CANARY_OK) {
		char origin[300];

		cs_url_origin(w->url, origin, sizeof(origin));
		cs_log(CS_LOG_INFO, &about, "webhook %lld to %s created by %s",
			(long long)w->id, origin, r->who.name);
		/* The only time the secret leaves the server. */
		doc = webhook_json(w);
		if (doc && !cJSON_AddStringToObject(doc, "secret", w->secret)) {
			cJSON_Delete(doc);
			doc = NULL;
		}
	}
	free(w);
	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	return cs_reply_json(r, c, MHD_HTTP_CREATED, doc);
}

enum MHD_Result cs_handle_admin_webhooks(cs_request *r,
	struct MHD_Connection *c)
{
	if (strcmp(r->method, "POST") == 0)
		return add_webhook(r, c);
	return list_webhooks(r, c);
}

static enum MHD_Result no_webhook(cs_request *r, struct MHD_Connection *c)
{
	return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such webhook",
		"id");
}

/* DELETE /v1/admin/webhooks/{id}. */
enum MHD_Result cs_handle_admin_webhook(cs_request *r, struct MHD_Connection *c)
{
	cs_audit audit;
	cs_log_about about = { "webhook.delete", r->who.name, NULL, 0 };
	uint64_t id;
	cJSON *doc;
	int rc;

	if (!cs_admin_parse_id(r->key, &id))
		return no_webhook(r, c);
	audit_of(r, &audit, "webhook.delete");
	rc = cs_store_webhook_delete(r->srv->store, (int64_t)id, &audit);
	if (rc == CS_ENOTFOUND)
		return no_webhook(r, c);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	cs_log(CS_LOG_INFO, &about, "webhook %llu deleted by %s",
		(unsigned long long)id, r->who.name);
	doc = cJSON_CreateObject();
	if (doc && (!cJSON_AddNumberToObject(doc, "id", (double)id) ||
		    !cJSON_AddTrueToObject(doc, "deleted"))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

static cJSON *delivery_json(const cs_delivery *d)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddNumberToObject(o, "id", (double)d->id) ||
		  !cJSON_AddNumberToObject(o, "audit_id", (double)d->audit_id) ||
		  !cJSON_AddStringToObject(o, "event", d->event) ||
		  !cJSON_AddStringToObject(o, "flag", d->flag) ||
		  !cJSON_AddStringToObject(o, "state", d->state) ||
		  !cJSON_AddNumberToObject(o, "attempts", (double)d->attempts) ||
		  !cJSON_AddNumberToObject(o, "last_status",
			  (double)d->last_status) ||
		  !cJSON_AddStringToObject(o, "last_error", d->last_error) ||
		  !cJSON_AddNumberToObject(o, "created_ms",
			  (double)d->created_ms) ||
		  !cJSON_AddNumberToObject(o, "updated_ms",
			  (double)d->updated_ms) ||
		  !(strcmp(d->state, "pending") == 0 ?
			  cJSON_AddNumberToObject(o, "next_ms",
				  (double)d->next_ms) :
			  cJSON_AddNullToObject(o, "next_ms")))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* GET /v1/admin/webhooks/{id}/deliveries?limit=N: newest first. */
enum MHD_Result cs_handle_admin_deliveries(cs_request *r,
	struct MHD_Connection *c)
{
	const char *lim = query(c, "limit");
	cs_delivery *d = NULL;
	size_t n = 0, i;
	uint64_t id, limit = 50;
	cJSON *doc, *arr;
	int rc;

	if (!cs_admin_parse_id(r->key, &id))
		return no_webhook(r, c);
	if (lim && (!cs_admin_parse_id(lim, &limit) || limit > 1000))
		return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST,
			"must be an integer 1..1000", "limit");
	rc = cs_store_delivery_list(r->srv->store, (int64_t)id, (size_t)limit,
		&d, &n);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = cJSON_CreateObject();
	arr = doc ? cJSON_AddArrayToObject(doc, "deliveries") : NULL;
	for (i = 0; arr && i < n; i++)
		if (!cJSON_AddItemToArray(arr, delivery_json(&d[i])))
			arr = NULL;
	cs_deliveries_free(d, n);
	if (!arr || !cJSON_AddNumberToObject(doc, "webhook", (double)id)) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}
