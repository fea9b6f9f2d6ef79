/*
 * sdk_api.c - the SDK-facing endpoints: GET /v1/flags (the published
 * config, never the store), GET /v1/stream (SSE), POST /v1/events.
 */
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/api.h"
#include "clock.h"
#include "event_batch.h"
#include "http/reply.h"
#include "rollout/judge.h"
#include "server.h"

/* How strictly batches are read (json_read.h): unknown fields are ignored
 * (a newer SDK may send more). */
#define EVENTS_READ_OPTS 0u

/* The version in an entity tag we made ("7-1a2b3c4d", maybe W/ and
 * quoted) or in a Last-Event-ID ("7"); 0 if there is none. */
static uint64_t version_in(const char *tag)
{
	if (!tag)
		return 0;
	if (tag[0] == 'W' && tag[1] == '/')
		tag += 2;
	if (*tag == '"')
		tag++;
	return *tag >= '0' && *tag <= '9' ? strtoull(tag, NULL, 10) : 0;
}

/*
 * A client that has seen a newer config than this server has published
 * got it from another server on the same database, whose notification
 * has not arrived yet: read the store now, so that a client moving
 * between servers never gets an older config. At most every 100 ms, so a
 * made-up tag cannot turn requests into reads of the store.
 */
static void catch_up(cs_server *s, const char *tag)
{
	uint64_t seen = version_in(tag), now, last;

	if (seen <= cs_flags_cache_version(s->cache))
		return;
	now = (uint64_t)canary__wall_ms();
	last = atomic_load(&s->caught_up_ms);
	if (now - last < 100 ||
	    !atomic_compare_exchange_strong(&s->caught_up_ms, &last, now))
		return;
	cs_store_refresh(s->store);
}

enum MHD_Result cs_handle_flags(cs_request *r, struct MHD_Connection *c)
{
	const char *inm = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_IF_NONE_MATCH);
	unsigned int status;

	catch_up(r->srv, inm);
	status = cs_flags_cache_serve(r->srv->cache, c, inm);

	if (!status)
		return MHD_NO;
	r->replied = true;
	cs_metrics_count(r->srv->metrics, r->ep, status);
	return MHD_YES;
}

enum MHD_Result cs_handle_stream(cs_request *r, struct MHD_Connection *c)
{
	const char *last = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		"Last-Event-ID");
	struct MHD_Response *resp;

	catch_up(r->srv, last);
	resp = cs_hub_open(r->srv->hub, c, last);

	if (!resp)
		return cs_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			"server is shutting down", NULL);
	return cs_reply(r, c, MHD_HTTP_OK, resp);
}

static cJSON *accepted_body(size_t windows, bool duplicate)
{
	cJSON *obj = cJSON_CreateObject();
	bool ok = obj && (duplicate ?
		cJSON_AddBoolToObject(obj, "duplicate", 1) != NULL :
		cJSON_AddNumberToObject(obj, "accepted", (double)windows) != NULL);

	if (!ok) {
		cJSON_Delete(obj);
		return NULL;
	}
	return obj;
}

/* One window's user-level evidence against its counts: what the SDK's
 * counting guarantees (cj_window_check). `regs` holds two sketches. */
static int check_window(const canary__ev_window *w, size_t i, uint8_t *regs,
	canary__perror *e)
{
	canary__hll u = { CANARY__HLL_P, regs };
	canary__hll eu = { CANARY__HLL_P, regs + CANARY__HLL_REGS(CANARY__HLL_P) };
	char why[160], at[32];
	cj_window cw;

	/* The decoder has checked both sketches' form. */
	if (canary__hll_decode(&u, w->users.units.bytes, w->users.units.len,
	    why, sizeof(why)) != 0 ||
	    canary__hll_decode(&eu, w->users.error_units.bytes,
	    w->users.error_units.len, why, sizeof(why)) != 0)
		return canary__perror_set(e, "windows", "%s", why);
	memset(&cw, 0, sizeof(cw));
	cw.exposures = w->exposures;
	cw.errors = w->errors;
	cw.units = &u;
	cw.error_units = &eu;
	cw.error_units_mapped = w->users.error_units_mapped;
	cw.error_sq = w->users.error_sq;
	cw.error_max = w->users.error_max;
	cw.errors_unmapped = w->users.errors_unmapped;
	if (cj_window_check(&cw, why, sizeof(why)) == 0)
		return CANARY_OK;
	canary__path_index(at, sizeof(at), "windows", i);
	return canary__perror_set(e, at, "inconsistent user-level evidence: %s",
		why);
}

/* Every window with user-level evidence must hold together: evidence
 * that contradicts itself is refused, not stored (a batch is all or
 * nothing). */
static int check_evidence(const canary__ev_batch *b, canary__perror *e)
{
	uint8_t *regs = NULL;
	size_t i;
	int rc = CANARY_OK;

	for (i = 0; rc == CANARY_OK && i < b->count; i++) {
		if (!b->windows[i].has_users)
			continue;
		if (!regs && !(regs = malloc(2 * CANARY__HLL_REGS(CANARY__HLL_P))))
			return CANARY_ENOMEM;
		rc = check_window(&b->windows[i], i, regs, e);
	}
	free(regs);
	return rc;
}

enum MHD_Result cs_handle_events(cs_request *r, struct MHD_Connection *c)
{
	cs_server *s = r->srv;
	canary__ev_batch batch;
	canary__perror e;
	bool duplicate = false;
	size_t windows;
	int rc;

	rc = canary__ev_batch_decode(canary__alloc_default(), r->body, r->len,
		EVENTS_READ_OPTS, &batch, &e);
	if (rc == CANARY_OK) {
		rc = check_evidence(&batch, &e);
		if (rc != CANARY_OK)
			canary__ev_batch_clear(&batch);
	}
	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	/* Durable before we answer: the 202 is a promise. */
	rc = cs_store_ingest(s->store, &batch, (uint64_t)canary__wall_ms(), s->opts->window_ms,
		&duplicate);
	windows = batch.count;
	if (rc == CANARY_OK)
		cs_metrics_ingested(s->metrics, windows, duplicate);
	canary__ev_batch_clear(&batch);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	return cs_reply_json(r, c, MHD_HTTP_ACCEPTED,
		accepted_body(windows, duplicate));
}
