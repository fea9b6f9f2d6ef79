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
	R_ADMIN_ROLLOUT_OP, R_ADMIN_SERIES, R_ADMIN_WHOAMI, R_ADMIN_AUDIT,
	R_ADMIN_TOKENS, R_ADMIN_TOKEN, R_ADMIN_WEBHOOKS, R_ADMIN_WEBHOOK,
	R_ADMIN_DELIVERIES, R_ADMIN_SEGMENTS, R_ADMIN_SEGMENT, R_UI, R_COUNT
};

/* Which listener offers a route: the main one everything (the dashboard
 * too, unless it has a listener of its own or is off), a dashboard
 * listener the dashboard, the admin API it calls and /healthz. */
enum { G_SDK = 1, G_OPS = 2, G_ADMIN = 4, G_UI = 8 };

/* Endpoints that take no body refuse any (413 before reading it); the
 * rollout operations take a small one ({"to": "full"}), a token's or a
 * webhook's body is a little larger (a webhook's URL may take 2 KiB). */
#define NO_BODY 0
#define SMALL_BODY 4096
#define TEAM_BODY (16u * 1024u)

/* The least role per method of an API token's route, by CS_M_*: GET,
 * POST, PUT, PATCH, DELETE (a method the route does not take: none). */
#define ROLES(get, post, put, patch, del) { CS_ROLE_##get, CS_ROLE_##post, \
	CS_ROLE_##put, CS_ROLE_##patch, CS_ROLE_##del }
#define NO_ROLES ROLES(NONE, NONE, NONE, NONE, NONE)

/*
 * The one table of what each endpoint needs. For a route behind an API
 * token (CS_ADMIN) the last column is the least role per method: a
 * reader reads, an operator also acts on rollouts and uses the kill
 * switch (a PATCH whose only member is "enabled"; any other PATCH needs
 * an admin, which the handler checks), an admin also creates, deletes,
 * starts rollouts and manages tokens and webhooks.
 */
static const cs_route routes[R_COUNT] = {
	[R_HEALTHZ] = { CS_EP_HEALTHZ, CS_GET, CS_OPEN, NO_BODY,
		cs_handle_healthz, "GET", NO_ROLES },
	/* The metrics token (a scraper), or any API token: not the role
	 * table's, which only admin routes have (http/router.c). */
	[R_METRICS] = { CS_EP_METRICS, CS_GET, CS_METRICS, NO_BODY,
		cs_handle_metrics, "GET", NO_ROLES },
	[R_FLAGS] = { CS_EP_FLAGS, CS_GET, CS_SDK, NO_BODY, cs_handle_flags,
		"GET", NO_ROLES },
	[R_STREAM] = { CS_EP_STREAM, CS_GET, CS_SDK, NO_BODY,
		cs_handle_stream, "GET", NO_ROLES },
	[R_EVENTS] = { CS_EP_EVENTS, CS_POST, CS_SDK, CANARY__EV_MAX_BODY,
		cs_handle_events, "POST", NO_ROLES },
	[R_ADMIN_FLAGS] = { CS_EP_ADMIN_FLAGS, CS_GET | CS_POST, CS_ADMIN,
		CS_ADMIN_MAX_BODY, cs_handle_admin_flags, "GET, POST",
		ROLES(READER, ADMIN, NONE, NONE, NONE) },
	[R_ADMIN_FLAG] = { CS_EP_ADMIN_FLAGS, CS_GET | CS_PUT | CS_PATCH |
		CS_DELETE, CS_ADMIN, CS_ADMIN_MAX_BODY, cs_handle_admin_flag,
		"GET, PUT, PATCH, DELETE",
		ROLES(READER, NONE, ADMIN, OPERATOR, ADMIN) },
	[R_ADMIN_STATS] = { CS_EP_ADMIN_STATS, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_stats, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_ROLLOUTS] = { CS_EP_ADMIN_ROLLOUTS, CS_GET | CS_POST,
		CS_ADMIN, CS_ROLLOUT_MAX_BODY, cs_handle_admin_rollouts,
		"GET, POST", ROLES(READER, ADMIN, NONE, NONE, NONE) },
	[R_ADMIN_ROLLOUT] = { CS_EP_ADMIN_ROLLOUTS, CS_GET, CS_ADMIN,
		NO_BODY, cs_handle_admin_rollout, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_ROLLOUT_OP] = { CS_EP_ADMIN_ROLLOUTS, CS_POST, CS_ADMIN,
		SMALL_BODY, cs_handle_admin_rollout_op, "POST",
		ROLES(NONE, OPERATOR, NONE, NONE, NONE) },
	[R_ADMIN_SERIES] = { CS_EP_ADMIN_ROLLOUTS, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_series, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_WHOAMI] = { CS_EP_ADMIN_WHOAMI, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_whoami, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_AUDIT] = { CS_EP_ADMIN_AUDIT, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_audit, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_TOKENS] = { CS_EP_ADMIN_TOKENS, CS_GET | CS_POST, CS_ADMIN,
		TEAM_BODY, cs_handle_admin_tokens, "GET, POST",
		ROLES(ADMIN, ADMIN, NONE, NONE, NONE) },
	[R_ADMIN_TOKEN] = { CS_EP_ADMIN_TOKENS, CS_DELETE, CS_ADMIN, NO_BODY,
		cs_handle_admin_token, "DELETE",
		ROLES(NONE, NONE, NONE, NONE, ADMIN) },
	[R_ADMIN_WEBHOOKS] = { CS_EP_ADMIN_WEBHOOKS, CS_GET | CS_POST,
		CS_ADMIN, TEAM_BODY, cs_handle_admin_webhooks, "GET, POST",
		ROLES(ADMIN, ADMIN, NONE, NONE, NONE) },
	[R_ADMIN_WEBHOOK] = { CS_EP_ADMIN_WEBHOOKS, CS_DELETE, CS_ADMIN,
		NO_BODY, cs_handle_admin_webhook, "DELETE",
		ROLES(NONE, NONE, NONE, NONE, ADMIN) },
	[R_ADMIN_DELIVERIES] = { CS_EP_ADMIN_WEBHOOKS, CS_GET, CS_ADMIN,
		NO_BODY, cs_handle_admin_deliveries, "GET",
		ROLES(ADMIN, NONE, NONE, NONE, NONE) },
	/* Segments are part of the config: counted with the flags'
	 * endpoint; an admin changes them, a reader reads them. */
	[R_ADMIN_SEGMENTS] = { CS_EP_ADMIN_FLAGS, CS_GET, CS_ADMIN, NO_BODY,
		cs_handle_admin_segments, "GET",
		ROLES(READER, NONE, NONE, NONE, NONE) },
	[R_ADMIN_SEGMENT] = { CS_EP_ADMIN_FLAGS, CS_GET | CS_PUT | CS_DELETE,
		CS_ADMIN, CS_SEGMENT_MAX_BODY, cs_handle_admin_segment,
		"GET, PUT, DELETE", ROLES(READER, NONE, ADMIN, NONE, ADMIN) },
	/* The dashboard's files need no credential; its API calls do. */
	[R_UI] = { CS_EP_UI, CS_GET, CS_OPEN, NO_BODY, cs_handle_ui, "GET",
		NO_ROLES },
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

/* /v1/admin/webhooks/{id}[/deliveries]: the id. */
static int webhook_route(const char *rest, const char **key,
	size_t *key_len)
{
	size_t n = strlen(rest);

	*key = rest;
	if (ends_in(rest, n, "deliveries", key_len))
		return R_ADMIN_DELIVERIES;
	*key_len = n;
	return R_ADMIN_WEBHOOK;
}

/* The route number of `url`, or -1. */
static int find_route(const char *url, const char **key, size_t *key_len,
	const char **sub)
{
	static const char flags_prefix[] = "/v1/admin/flags/";
	static const char rollouts_prefix[] = "/v1/admin/rollouts/";
	static const char tokens_prefix[] = "/v1/admin/tokens/";
	static const char webhooks_prefix[] = "/v1/admin/webhooks/";
	static const char segments_prefix[] = "/v1/admin/segments/";
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
	if (strcmp(url, "/v1/admin/audit") == 0)
		return R_ADMIN_AUDIT;
	if (strcmp(url, "/v1/admin/tokens") == 0)
		return R_ADMIN_TOKENS;
	if (strcmp(url, "/v1/admin/webhooks") == 0)
		return R_ADMIN_WEBHOOKS;
	if (strcmp(url, "/v1/admin/segments") == 0)
		return R_ADMIN_SEGMENTS;
	if (strncmp(url, segments_prefix, sizeof(segments_prefix) - 1) == 0) {
		*key = url + sizeof(segments_prefix) - 1;
		*key_len = strlen(*key);
		return R_ADMIN_SEGMENT;
	}
	if (strncmp(url, tokens_prefix, sizeof(tokens_prefix) - 1) == 0) {
		*key = url + sizeof(tokens_prefix) - 1;
		*key_len = strlen(*key);
		return R_ADMIN_TOKEN;
	}
	if (strncmp(url, webhooks_prefix, sizeof(webhooks_prefix) - 1) == 0)
		return webhook_route(url + sizeof(webhooks_prefix) - 1, key,
			key_len);
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
		return G_OPS; /* a scraper's, not the dashboard's */
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
