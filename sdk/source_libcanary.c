/*
 * source_libcanary.c - the libcanary protocol as a config source
 * (docs/protocol.md): GET /v1/flags with If-None-Match, GET /v1/stream
 * (Server-Sent Events, resumed with Last-Event-ID), the /v1/flags JSON
 * format (config.c), and POST /v1/events. Authorization: Bearer <SDK key>.
 */
#include "source.h"

#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "error.h"
#include "sse.h"

/* The URLs of one server. */
typedef struct lc_server {
	char *flags_url;
	char *stream_url;
	char *events_url;
} lc_server;

typedef struct lc_state {
	const canary__alloc *a;
	lc_server *servers;          /* NULL without a server */
	size_t count;
	const lc_server *cur;        /* the one in use */
	char *auth;                  /* "Authorization: Bearer <key>" */
	canary__sse sse;
	char last_id[24];
	canary__source_doc_fn doc;   /* during stream_feed */
	void *doc_ctx;
} lc_state;

static void lc_close(void *state)
{
	lc_state *st = state;
	size_t i;

	if (!st)
		return;
	for (i = 0; st->servers && i < st->count; i++) {
		canary__free(st->a, st->servers[i].flags_url);
		canary__free(st->a, st->servers[i].stream_url);
		canary__free(st->a, st->servers[i].events_url);
	}
	canary__free(st->a, st->servers);
	canary__free(st->a, st->auth);
	canary__sse_free(&st->sse);
	canary__delete(st->a, st, lc_state);
}

static char *auth_line(const canary__alloc *a, const char *key)
{
	size_t n = strlen(key) + 32;
	char *s = canary__malloc(a, n);

	if (s)
		snprintf(s, n, "Authorization: Bearer %s", key);
	return s;
}

static int open_servers(lc_state *st, const char *const *urls, size_t n)
{
	size_t i;

	st->servers = canary__calloc(st->a, n, sizeof(*st->servers));
	if (!st->servers)
		return CANARY_ENOMEM;
	st->count = n;
	st->cur = &st->servers[0];
	for (i = 0; i < n; i++) {
		lc_server *s = &st->servers[i];

		s->flags_url = canary__url_join(st->a, urls[i], "/v1/flags");
		s->stream_url = canary__url_join(st->a, urls[i], "/v1/stream");
		s->events_url = canary__url_join(st->a, urls[i], "/v1/events");
		if (!s->flags_url || !s->stream_url || !s->events_url)
			return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

static int lc_open(void **state, const canary__source_env *env)
{
	lc_state *st;

	*state = NULL;
	st = canary__new(env->alloc, lc_state);
	if (!st)
		return CANARY_ENOMEM;
	st->a = env->alloc;
	canary__sse_init(&st->sse, env->alloc, env->max_bytes);
	if (env->server_count &&
	    open_servers(st, env->server_urls, env->server_count) != CANARY_OK) {
		lc_close(st);
		return CANARY_ENOMEM;
	}
	if (env->server_count)
		st->auth = auth_line(st->a, env->sdk_key ? env->sdk_key : "");
	if (env->server_count && !st->auth) {
		lc_close(st);
		return CANARY_ENOMEM;
	}
	*state = st;
	return CANARY_OK;
}

static void lc_select(void *state, size_t index)
{
	lc_state *st = state;

	if (index < st->count)
		st->cur = &st->servers[index];
}

static void lc_fetch(void *state, const char *etag, canary__xfer_spec *spec,
	canary__headers *h)
{
	lc_state *st = state;

	spec->url = st->cur->flags_url;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, "Accept: application/json");
	canary__headers_addv(h, "If-None-Match", etag);
}

static int lc_parse(void *state, const char *doc, size_t len,
	canary__config **out, canary__perror *e)
{
	lc_state *st = state;

	return canary__config_parse(st->a, doc, len, out, e);
}

static void lc_stream(void *state, uint64_t version, canary__xfer_spec *spec,
	canary__headers *h)
{
	lc_state *st = state;

	/* A new connection: a partial event of the last one is dropped; the
	 * last event id is kept. */
	canary__sse_reset(&st->sse);
	snprintf(st->last_id, sizeof(st->last_id), "%" PRIu64, version);
	spec->url = st->cur->stream_url;
	spec->stream = true;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, "Accept: text/event-stream");
	canary__headers_add(h, "Cache-Control: no-cache");
	canary__headers_addv(h, "Last-Event-ID", version ? st->last_id :
		st->sse.id);
}

static int on_event(const canary__sse_event *ev, void *ctx)
{
	lc_state *st = ctx;

	if (strcmp(ev->type, "message") != 0 && strcmp(ev->type, "config") != 0)
		return 0; /* some future kind of event */
	return st->doc(ev->data, ev->data_len, st->doc_ctx);
}

static int lc_stream_feed(void *state, const char *data, size_t len,
	canary__source_doc_fn doc, void *ctx)
{
	lc_state *st = state;
	uint64_t dropped = st->sse.dropped;
	int rc;

	st->doc = doc;
	st->doc_ctx = ctx;
	rc = canary__sse_feed(&st->sse, data, len, on_event, st);
	if (rc == 0 && st->sse.dropped != dropped)
		return canary__error_set(CANARY_EPARSE, "an event on the stream "
			"was over max_response_bytes (%zu): dropped",
			st->sse.max_event);
	return rc;
}

static void lc_events(void *state, const char *body, size_t len,
	canary__xfer_spec *spec, canary__headers *h)
{
	lc_state *st = state;

	(void)body;
	(void)len;
	spec->url = st->cur->events_url;
	canary__headers_add(h, st->auth);
	canary__headers_add(h, "Accept: application/json");
	canary__headers_add(h, "Content-Type: application/json");
}

const canary__source_ops canary__source_libcanary = {
	"libcanary",
	"GET /v1/flags",
	"GET /v1/stream",
	"POST /v1/events",
	lc_open,
	lc_close,
	lc_select,
	lc_fetch,
	lc_parse,
	lc_stream,
	lc_stream_feed,
	lc_events,
	NULL,           /* encode: the libcanary event batch */
	NULL,           /* hello */
	NULL,           /* fetched */
	NULL,           /* document: the body as received */
};
