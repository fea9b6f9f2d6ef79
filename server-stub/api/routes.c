/*
 * routes.c - which URL goes to which handler, with its methods, its
 * credential and its body limit, and which listener offers it.
 */
#include "api/api.h"

#include <string.h>

#include "parse/admin_parse.h"
#include "event_batch.h"
#include "rollout/rollout.h"

enum {
	R_HEALTHZ, R_METRICS, R_FLAGS, R_STREAM, R_EVENTS, R_ADMIN_FLAGS,
	R_ADMIN_FLAG, R_ADMIN_STATS, R_ADMIN_ROLLOUTS, R_ADMIN_ROLLOUT,
	R_ADMIN_ROLLOUT_OP, R_ADMIN_SERIES, R_ADMIN_WHOAMI, R_UI, R_COUNT
};

/* Which listener offers a route: the main one everything (the dashboard
 * too, unless it has a listener of its own or is off), a dashboard
 * listener the dashboard, the admin API it calls and /healthz. */
enum { G_SDK = 1, G_OPS = 2, G_ADMIN = 4, G_UI = 8 };

/* Endpoints that take no body refuse any (413 before reading it); the
 * rollout operations take a small one ({"to": "full"}). */
#define NO_BODY 0
#define SMALL_BODY 4096

static const cs_route routes[R_COUNT] = {
	[R_HEALTHZ] = { CS_EP_HEALTHZ, CS_GET, CS_OPEN, NO_BODY,
		cs_handle_healthz, "GET" },
	[R_METRICS] = { CS_EP_METRICS, CS_GET, CS_METRICS, NO_BODY,
		cs_handle_metrics, "GET" },
	[R_FLAGS] = { CS_EP_FLAGS, CS_GET, CS_SDK, NO_BODY, cs_handle_flags,
		"GET" },
	[R_STREAM] = { CS_EP_STREAM, CS_GET, CS_SDK, NO_BODY,
		cs_handle_stream, "GET" },
	[R_EVENTS] = { CS_EP_EVENTS, CS_POST, CS_SDK, CANARY__EV_MAX_BODY,
		cs_handle_events, "POST" },
	[R_ADMIN_FLAGS] = { CS_EP_ADMIN_FLAGS, CS_GET | CS_POST, CS_ADMIN,
		CS_ADMIN_MAX_BODY, cs_handle_admin_flags, "GET, POST" },
	[R_ADMIN_FLAG] = { CS_EP_ADMIN_FLAGS, CS_GET | CS_PUT | CS_PATCH |
		CS_DELETE, CS_ADMIN, CS_ADMIN_MAX_BODY, cs_handle_admin_flag,
		"GET, PUT, PATCH, DELETE" },
	[R_ADMIN_STATS] = { CS_EP_ADMIN_STATS, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_stats, "GET" },
	[R_ADMIN_ROLLOUTS] = { CS_EP_ADMIN_ROLLOUTS, CS_GET | CS_POST,
		CS_ADMIN, CS_ROLLOUT_MAX_BODY, cs_handle_admin_rollouts,
		"GET, POST" },
	[R_ADMIN_ROLLOUT] = { CS_EP_ADMIN_ROLLOUTS, CS_GET, CS_ADMIN,
		NO_BODY, cs_handle_admin_rollout, "GET" },
	[R_ADMIN_ROLLOUT_OP] = { CS_EP_ADMIN_ROLLOUTS, CS_POST, CS_ADMIN,
		SMALL_BODY, cs_handle_admin_rollout_op, "POST" },
	[R_ADMIN_SERIES] = { CS_EP_ADMIN_ROLLOUTS, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_series, "GET" },
	[R_ADMIN_WHOAMI] = { CS_EP_ADMIN_WHOAMI, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_whoami, "GET" },
	/* The dashboard's files need no credential; its API calls do. */
	[R_UI] = { CS_EP_UI, CS_GET, CS_OPEN, NO_BODY, cs_handle_ui, "GET" },
};

/* Operations on /v1/admin/rollouts/{flag}/OP. */
static const char *const rollout_ops[] = {
	"pause", "resume", "promote", "rollback"
};

/* Does `rest` end in "/name"? Then *key_len is what comes before. */
static bool ends_in(const char *rest, size_t n, const char *name,
	size_t *key_len)
{
	size_t len = strlen(name);

	if (n <= len + 1 || rest[n - len - 1] != '/' ||
	    strcmp(rest + n - len, name) != 0)
		return false;
	*key_len = n - len - 1;
	return true;
}

/* /v1/admin/rollouts/{flag}[/OP|/series]: the flag, and the operation if
 * any. */
static int rollout_route(const char *rest, const char **key,
	size_t *key_len, const char **sub)
{
	size_t n = strlen(rest), i;

	*key = rest;
	if (ends_in(rest, n, "series", key_len))
		return R_ADMIN_SERIES;
	for (i = 0; i < sizeof(rollout_ops) / sizeof(rollout_ops[0]); i++) {
		if (ends_in(rest, n, rollout_ops[i], key_len)) {
			*sub = rollout_ops[i];
			return R_ADMIN_ROLLOUT_OP;
		}
	}
	*key_len = n;
	return R_ADMIN_ROLLOUT;
}

/* The route number of `url`, or -1. */
static int find_route(const char *url, const char **key, size_t *key_len,
	const char **sub)
{
	static const char flags_prefix[] = "/v1/admin/flags/";
	static const char rollouts_prefix[] = "/v1/admin/rollouts/";
	static const char stats_suffix[] = "/stats";
	size_t n, slen = sizeof(stats_suffix) - 1;

	if (strcmp(url, "/healthz") == 0)
		return R_HEALTHZ;
	if (strcmp(url, "/metrics") == 0)
		return R_METRICS;
	if (strcmp(url, "/v1/flags") == 0)
		return R_FLAGS;
	if (strcmp(url, "/v1/stream") == 0)
		return R_STREAM;
	if (strcmp(url, "/v1/events") == 0)
		return R_EVENTS;
	if (strcmp(url, "/v1/admin/flags") == 0)
		return R_ADMIN_FLAGS;
	if (strcmp(url, "/v1/admin/rollouts") == 0)
		return R_ADMIN_ROLLOUTS;
	if (strcmp(url, "/v1/admin/whoami") == 0)
		return R_ADMIN_WHOAMI;
	/* The dashboard's handler reads the rest of the path itself. */
	if (strcmp(url, "/ui") == 0 || strncmp(url, "/ui/", 4) == 0)
		return R_UI;
	if (strncmp(url, rollouts_prefix, sizeof(rollouts_prefix) - 1) == 0)
		return rollout_route(url + sizeof(rollouts_prefix) - 1, key,
			key_len, sub);
	if (strncmp(url, flags_prefix, sizeof(flags_prefix) - 1) != 0)
		return -1;
	*key = url + sizeof(flags_prefix) - 1;
	n = strlen(*key);
	if (n > slen && strcmp(*key + n - slen, stats_suffix) == 0) {
		*key_len = n - slen;
		return R_ADMIN_STATS;
	}
	*key_len = n;
	return R_ADMIN_FLAG;
}

/* A route's group follows from its credential: every admin route is in
 * G_ADMIN, so a new one is on the dashboard's listener too. */
static unsigned int group_of(int rt)
{
	if (rt == R_UI)
		return G_UI;
	if (rt == R_HEALTHZ)
		return G_OPS | G_UI;
	if (rt == R_METRICS)
		return G_OPS;
	switch (routes[rt].door) {
	case CS_ADMIN:
		return G_ADMIN;
	case CS_SDK:
		return G_SDK;
	case CS_METRICS:
	case CS_OPEN:
		break;
	}
	return G_OPS;
}

/* The route of `url` among `offered` groups, or NULL. */
static const cs_route *route_in(unsigned int offered, const char *url,
	const char **key, size_t *key_len, const char **sub)
{
	int rt;

	*key = NULL;
	*key_len = 0;
	*sub = NULL;
	rt = find_route(url, key, key_len, sub);
	if (rt < 0 || !(group_of(rt) & offered)) {
		*key = NULL;
		*key_len = 0;
		*sub = NULL;
		return NULL;
	}
	return &routes[rt];
}

const cs_route *cs_api_route(const char *url, const char **key,
	size_t *key_len, const char **sub)
{
	return route_in(G_SDK | G_OPS | G_ADMIN | G_UI, url, key, key_len,
		sub);
}

const cs_route *cs_api_route_no_ui(const char *url, const char **key,
	size_t *key_len, const char **sub)
{
	return route_in(G_SDK | G_OPS | G_ADMIN, url, key, key_len, sub);
}

const cs_route *cs_ui_route(const char *url, const char **key,
	size_t *key_len, const char **sub)
{
	return route_in(G_UI | G_ADMIN, url, key, key_len, sub);
}
