/*
 * sdk_api.c - the SDK-facing endpoints: GET /v1/flags (the published
 * config, never the store), GET /v1/stream (SSE), POST /v1/events.
 */
#include <cjson/cJSON.h>
#include <stdatomic.h>
#include <stdio.h>
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
 * (a newer SDK may send more); every string must be UTF-8 (flag names
 * reach /metrics, instance ids the log). */
#define EVENTS_READ_OPTS CANARY__JSON_UTF8

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
static void catch_up_to(cs_server *s, uint64_t seen)
{
	uint64_t now, last;

	if (seen <= cs_flags_cache_version(s->cache))
		return;
	now = (uint64_t)canary__wall_ms();
	last = atomic_load(&s->caught_up_ms);
	if (now - last < 100 ||
	    !atomic_compare_exchange_strong(&s->caught_up_ms, &last, now))
		return;
	if (cs_store_refresh(s->store) == CANARY_OK)
		atomic_store(&s->refreshed_ms, now);
}

static void catch_up(cs_server *s, const char *tag)
{
	catch_up_to(s, version_in(tag));
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
	int rc;

	if (strcmp(r->method, "HEAD") == 0)
		return cs_reply(r, c, MHD_HTTP_OK, cs_hub_head());
	catch_up(r->srv, last);
	rc = cs_hub_open(r->srv->hub, c, last, &resp);
	if (rc == CS_HUB_FULL) /* the SDK polls meanwhile */
		return cs_reply_busy(r, c, "too many streams open; poll "
			"/v1/flags", "30");
	if (rc == CANARY_ESTATE)
		return cs_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			"server is shutting down", NULL);
	return cs_reply(r, c, MHD_HTTP_OK, resp);
}

static cJSON *accepted_body(size_t windows, size_t dropped, bool duplicate)
{
	cJSON *obj = cJSON_CreateObject();
	bool ok = obj && (duplicate ?
		cJSON_AddBoolToObject(obj, "duplicate", 1) != NULL :
		cJSON_AddNumberToObject(obj, "accepted", (double)windows) != NULL &&
		cJSON_AddNumberToObject(obj, "dropped", (double)dropped) != NULL);

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

/* Config versions are a server's clock in ms (cs_store_version_floor):
 * one further ahead of ours than two servers' clocks ever differ was
 * never issued by anyone. */
#define VERSION_AHEAD_MAX_MS (60 * 1000)

/*
 * Can a window of version `v` that this server has not published have
 * been issued by another server on the same database? Only while the
 * store has not been read since the request arrived (`t0`): then the
 * batch is refused with CS_EBEHIND (503, the SDK retries it) rather than
 * acknowledged without those windows.
 */
static bool maybe_issued_elsewhere(cs_server *s, uint64_t v, uint64_t t0)
{
	return v <= t0 + VERSION_AHEAD_MAX_MS &&
		atomic_load(&s->refreshed_ms) < t0;
}

/*
 * The windows that count, in `view` (a shallow copy of `b` that shares
 * its windows' contents; free view->windows alone): those of a flag the
 * server has, at a config version it has issued. A version above the one
 * published here may come from another server on the same database that
 * has not told us yet: read the store (at most every 100 ms) first, and
 * refuse the batch for now if that read was not ours to make.
 */
static int keep_known(cs_server *s, const canary__ev_batch *b,
	canary__ev_batch *view)
{
	uint64_t newest = 0, issued, t0 = (uint64_t)canary__wall_ms();
	size_t i;

	*view = *b;
	view->owner = NULL;
	view->count = 0;
	view->windows = b->count ? malloc(b->count * sizeof(*b->windows)) :
		NULL;
	if (b->count && !view->windows)
		return CANARY_ENOMEM;
	for (i = 0; i < b->count; i++)
		if (b->windows[i].config_version > newest)
			newest = b->windows[i].config_version;
	catch_up_to(s, newest);
	issued = cs_known_version(s->known);
	if (newest > issued && maybe_issued_elsewhere(s, newest, t0)) {
		free(view->windows);
		view->windows = NULL;
		return CS_EBEHIND;
	}
	for (i = 0; i < b->count; i++) {
		const canary__ev_window *w = &b->windows[i];

		if (w->config_version > issued)
			cs_metrics_note(s->metrics, CS_NOTE_DROPPED_VERSION, 1);
		else if (!cs_known_flag(s->known, w->flag))
			cs_metrics_note(s->metrics, CS_NOTE_DROPPED_FLAG, 1);
		else
			view->windows[view->count++] = *w;
	}
	return CANARY_OK;
}

/* A batch over its key's budget: 429, try again after `wait` seconds. */
static enum MHD_Result over_budget(cs_request *r, struct MHD_Connection *c,
	unsigned wait)
{
	char after[16];

	snprintf(after, sizeof(after), "%u", wait);
	cs_metrics_note(r->srv->metrics, CS_NOTE_OVER_BUDGET, 1);
	return cs_reply_status(r, c, MHD_HTTP_TOO_MANY_REQUESTS, "this SDK "
		"key is over its event budget (--events-rate, "
		"--events-windows-rate); try again later",
		MHD_HTTP_HEADER_RETRY_AFTER, after);
}

enum MHD_Result cs_handle_events(cs_request *r, struct MHD_Connection *c)
{
	cs_server *s = r->srv;
	canary__ev_batch batch, view;
	canary__perror e;
	bool duplicate = false;
	size_t windows, dropped;
	unsigned wait;
	int rc;

	/* What a key may make us parse: one batch first, its windows once
	 * they are known. */
	wait = cs_budget_take(s->budget, (size_t)r->sdk_key, 1, 0);
	if (wait)
		return over_budget(r, c, wait);
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
	wait = cs_budget_take(s->budget, (size_t)r->sdk_key, 0, batch.count);
	rc = wait ? CANARY_OK : keep_known(s, &batch, &view);
	if (wait || rc != CANARY_OK) {
		canary__ev_batch_clear(&batch);
		return wait ? over_budget(r, c, wait) : cs_reply_code(r, c, rc);
	}
	/* Durable before we answer: the 202 is a promise. A batch of which
	 * nothing counts writes nothing, not even its id: flooding names of
	 * flags that do not exist grows the database by nothing. */
	rc = view.count ? cs_store_ingest(s->store, &view,
		(uint64_t)canary__wall_ms(), s->opts->window_ms, &duplicate) :
		CANARY_OK;
	windows = view.count;
	dropped = batch.count - view.count;
	if (rc == CANARY_OK)
		cs_metrics_ingested(s->metrics, windows, duplicate);
	free(view.windows);
	canary__ev_batch_clear(&batch);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	return cs_reply_json(r, c, MHD_HTTP_ACCEPTED,
		accepted_body(windows, dropped, duplicate));
}
