/*
 * server.c - wire the parts together: store → published config → streams,
 * the ticker and its tasks (heartbeats, pruning, the rollout controller),
 * the routes, and the HTTP listeners (the dashboard may have one of its
 * own).
 *
 * Threads: libmicrohttpd's internal polling threads (epoll, --threads of
 * them) run every request; no thread per connection, so an idle stream is
 * a suspended connection, not a blocked thread. One ticker thread runs
 * periodic tasks. Handlers that write block their polling thread for the
 * commit; with two or more threads the others keep serving, and reads
 * (stats, /metrics, rollout status) never wait for a commit.
 */
#include "server.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/api.h"
#include "clock.h"
#include "http/conns.h"
#include "http/daemon.h"
#include "logline.h"
#include "notify/webhook_sender.h"
#include "peer_log.h"
#include "rollout/controller.h"

#define PRUNE_EVERY_MS (3600u * 1000u) /* the retention options' pass */

/* Store change hook: publish to /v1/flags, then to the streams. */
static void on_config(const canary__config *config, void *ctx)
{
	cs_server *s = ctx;
	char *json = NULL;
	size_t len = 0;

	if (cs_known_set(s->known, config) != CANARY_OK ||
	    cs_flags_cache_set(s->cache, config, &json, &len) != CANARY_OK) {
		cs_log(CS_LOG_ERROR, NULL, "cannot publish config version %llu "
			"(out of memory)", (unsigned long long)config->version);
		return;
	}
	if (json && cs_hub_publish(s->hub, config->version, json, len) !=
	    CANARY_OK)
		cs_log(CS_LOG_ERROR, NULL, "cannot stream config version %llu "
			"(out of memory)", (unsigned long long)config->version);
	free(json);
}

static void tick_heartbeat(uint64_t now, void *ctx)
{
	(void)now;
	cs_hub_heartbeat(((cs_server *)ctx)->hub);
}

/* now - keep, or 0 (keep everything) when keep is 0 or longer than
 * the time since the epoch. */
static uint64_t before(uint64_t now, uint64_t keep)
{
	return keep && now > keep ? now - keep : 0;
}

/* Close the connections past their deadlines (http/conns.h). */
static void tick_deadlines(uint64_t now, void *ctx)
{
	cs_server *s = ctx;
	uint64_t n = 0;

	(void)now;
	if (s->api.conns)
		n += cs_conns_expire(s->api.conns);
	if (s->ui.conns)
		n += cs_conns_expire(s->ui.conns);
	cs_metrics_note(s->metrics, CS_NOTE_DEADLINE_CLOSED, n);
}

/* Hourly, and once at the first tick: a server restarted more often than
 * hourly (deploys, a crash loop) must still apply its retention options. */
static void tick_prune(uint64_t now, void *ctx)
{
	cs_server *s = ctx;
	const cs_options *o = s->opts;
	cs_retention r;

	if (s->pruned_ms && now >= s->pruned_ms &&
	    now - s->pruned_ms < PRUNE_EVERY_MS)
		return;
	s->pruned_ms = now;
	memset(&r, 0, sizeof(r));
	r.batches_before_ms = before(now, o->batch_retention_ms);
	r.windows_before_ms = before(now, o->window_retention_ms);
	r.decisions_before_ms = before(now, o->decision_retention_ms);
	r.audit_before_ms = before(now, o->audit_retention_ms);
	if (now > CS_SKETCH_RETENTION_MS)
		r.sketches_before_ms = now - CS_SKETCH_RETENTION_MS;
	if (cs_store_prune(s->store, &r, NULL) != CANARY_OK)
		cs_log(CS_LOG_ERROR, NULL, "pruning old batch ids, windows, "
			"decisions and audit records failed");
}

/* Every minute, on the server that runs the controller (one is enough):
 * merge the parts of windows closed for a minute, so that reads of past
 * windows read one row each (a backend that keeps parts; a no-op on the
 * others). A minute of margin covers clocks that disagree between
 * servers. */
static void tick_settle(uint64_t now, void *ctx)
{
	cs_server *s = ctx;
	cs_retention r;
	uint64_t margin = 2 * s->opts->window_ms + 60000;

	if (!cs_controller_leading(s->controller) || now <= margin)
		return;
	memset(&r, 0, sizeof(r));
	r.windows_settled_ms = now - margin;
	if (cs_store_prune(s->store, &r, NULL) != CANARY_OK)
		cs_log(CS_LOG_ERROR, NULL, "merging closed windows failed");
}

/* The controller, and the gauge that says whether this server leads;
 * a change of leader is worth a line in the log. */
static void tick_controller(uint64_t now, void *ctx)
{
	cs_server *s = ctx;
	bool was = cs_controller_leading(s->controller), is;

	cs_controller_tick(now, s->controller);
	is = cs_controller_leading(s->controller);
	cs_metrics_set_leader(s->metrics, is);
	if (is != was)
		cs_log(CS_LOG_INFO, NULL, "this server %s the rollout "
			"controller", is ? "now runs" : "no longer runs");
}

/* Named tokens, for the router's auth (http/auth.h). */
static int find_token(void *ctx, const char *id, cs_token *out)
{
	return cs_store_token_find(((cs_server *)ctx)->store, id, out);
}

/* Webhooks go out from the server that runs the controller. */
static bool may_send(void *ctx)
{
	return cs_controller_leading(((cs_server *)ctx)->controller);
}

/*
 * Move the config version past the start's time and publish the config:
 * a database put back from a backup never issues a version again that
 * SDKs saw from it before (cs_store_version_floor()).
 */
static int start_versions(cs_server *s, char *err, size_t errlen)
{
	char where[256];
	uint64_t v = 0;
	int rc = cs_store_version_floor(s->store, (uint64_t)canary__wall_ms(),
		&v);

	if (rc == CANARY_OK)
		cs_log(CS_LOG_INFO, NULL, "config version %llu",
			(unsigned long long)v);
	if (rc == CANARY_OK)
		return CANARY_OK;
	cs_store_describe(s->opts->db_path, where, sizeof(where));
	snprintf(err, errlen, "cannot load the flags from %s, or write it",
		where);
	return rc;
}

int cs_server_new(cs_server **out, const cs_options *o, char *err,
	size_t errlen)
{
	cs_server *s = calloc(1, sizeof(*s));
	cs_store_options store;
	int rc;

	*out = NULL;
	if (!s) {
		snprintf(err, errlen, "out of memory");
		return CANARY_ENOMEM;
	}
	memset(&store, 0, sizeof(store));
	cs_peer_log_init(o->quiet);
	s->opts = o;
	s->api.srv = s;
	s->api.listen = o->listen;
	s->api.threads = o->threads;
	s->api.route = o->ui_listen || o->no_ui ? cs_api_route_no_ui :
		cs_api_route;
	s->ui.srv = s;
	s->ui.listen = o->ui_listen; /* NULL: no listener of its own */
	s->ui.threads = 1;
	s->ui.route = cs_ui_route;
	s->auth.sdk_keys = (const char *const *)o->sdk_keys;
	s->auth.sdk_key_count = o->sdk_key_count;
	s->auth.admin_token = o->admin_token;
	s->auth.metrics_token = o->metrics_token;
	s->auth.insecure_dev = o->insecure_dev;
	s->auth.lookup = find_token;
	s->auth.lookup_ctx = s;
	store.location = o->db_path;
	store.sync = o->sync;
	store.max_config_bytes = o->max_config_bytes;
	/* A reader for every thread that reads: the HTTP threads (the
	 * dashboard listener's too), the ticker. */
	store.readers = (o->threads > 1 ? o->threads : 1) + 1 +
		(o->ui_listen ? 1 : 0);
	rc = cs_store_open(&s->store, &store, err, errlen);
	if (rc == CANARY_OK)
		rc = cs_flags_cache_new(&s->cache);
	if (rc == CANARY_OK)
		rc = cs_known_new(&s->known);
	if (rc == CANARY_OK)
		rc = cs_budget_new(&s->budget, o->sdk_key_count,
			(double)o->events_rate, (double)o->events_windows_rate);
	if (rc == CANARY_OK)
		rc = cs_hub_new(&s->hub, o->max_streams);
	if (rc == CANARY_OK)
		rc = cs_metrics_new(&s->metrics);
	if (rc == CANARY_OK)
		rc = cs_ticker_new(&s->ticker, o->tick_ms);
	if (rc == CANARY_OK) {
		cs_store_on_change(s->store, on_config, s);
		rc = start_versions(s, err, errlen);
	}
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "heartbeat", o->heartbeat_ms,
			tick_heartbeat, s);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "deadlines", 500, tick_deadlines,
			s);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "prune", o->tick_ms, tick_prune,
			s);
	/* Every tick; each rollout is evaluated on its own interval. */
	if (rc == CANARY_OK)
		rc = cs_controller_new(&s->controller, s->store, o->lease_ms,
			o->window_ms);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "controller", o->tick_ms,
			tick_controller, s);
	if (rc == CANARY_OK)
		rc = cs_ticker_add(s->ticker, "settle-windows", 60000,
			tick_settle, s);
	if (rc == CANARY_OK)
		rc = cs_sender_new(&s->sender, s->store, may_send, s,
			o->tick_ms, o->webhook_retry_ms, o->webhook_allow_loopback);
	if (rc != CANARY_OK) {
		if (!*err)
			snprintf(err, errlen, "cannot initialise (%d)", rc);
		cs_server_free(s);
		return rc;
	}
	*out = s;
	return CANARY_OK;
}

cs_ticker *cs_server_ticker(cs_server *s)
{
	return s->ticker;
}

int cs_server_start(cs_server *s, char *err, size_t errlen)
{
	int rc = cs_daemon_start(&s->api, err, errlen);

	if (rc == CANARY_OK && s->ui.listen)
		rc = cs_daemon_start(&s->ui, err, errlen);
	if (rc != CANARY_OK)
		return rc;
	if (cs_ticker_start(s->ticker) != CANARY_OK) {
		snprintf(err, errlen, "cannot start the ticker thread");
		return CANARY_ENOMEM;
	}
	if (cs_sender_start(s->sender) != CANARY_OK) {
		snprintf(err, errlen, "cannot start the webhook sender thread");
		return CANARY_ENOMEM;
	}
	return CANARY_OK;
}

void cs_server_free(cs_server *s)
{
	if (!s)
		return;
	/* Other servers' changes stop reaching the cache and the hub,
	 * which go away below. */
	if (s->store)
		cs_store_on_change(s->store, NULL, NULL);
	cs_ticker_free(s->ticker);
	cs_sender_free(s->sender);
	if (s->hub) {
		/* MHD_stop_daemon must not find suspended connections. */
		cs_hub_close(s->hub);
		cs_hub_drain(s->hub, 2000);
	}
	cs_daemon_stop(&s->ui);
	cs_daemon_stop(&s->api);
	cs_hub_free(s->hub);
	cs_flags_cache_free(s->cache);
	cs_known_free(s->known);
	cs_budget_free(s->budget);
	cs_metrics_free(s->metrics);
	cs_controller_free(s->controller);
	cs_store_close(s->store);
	free(s);
}
