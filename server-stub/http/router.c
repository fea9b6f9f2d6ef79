/*
 * http.c - route a request, enforce method, auth and size limits before
 * reading a body, collect the body, dispatch, and reply.
 *
 * libmicrohttpd calls the access handler first with *con_cls == NULL (we
 * route and check everything we can without the body, and may answer at
 * once), then once per body chunk, then with *upload_data_size == 0 when
 * the body is complete.
 */
#include "http/router.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "parse/admin_parse.h"
#include "parse/batch_parse.h"
#include "rollout/rollout.h"

enum { M_GET = 1, M_POST = 2, M_PUT = 4, M_PATCH = 8, M_DELETE = 16 };
enum { AUTH_NONE, AUTH_SDK, AUTH_ADMIN };

typedef struct route {
	cs_endpoint ep;
	int methods;
	int auth;
	size_t body_limit;
	cs_handler handler;
	const char *allow;  /* Allow header for 405 */
} route;

enum {
	R_HEALTHZ, R_METRICS, R_FLAGS, R_STREAM, R_EVENTS, R_ADMIN_FLAGS,
	R_ADMIN_FLAG, R_ADMIN_STATS, R_ADMIN_ROLLOUTS, R_ADMIN_ROLLOUT,
	R_ADMIN_ROLLOUT_OP, R_COUNT
};

/* Small bodies on endpoints that take none: any body there is a mistake. */
#define NO_BODY 4096

static const route routes[R_COUNT] = {
	[R_HEALTHZ] = { CS_EP_HEALTHZ, M_GET, AUTH_NONE, NO_BODY,
		cs_handle_healthz, "GET" },
	[R_METRICS] = { CS_EP_METRICS, M_GET, AUTH_NONE, NO_BODY,
		cs_handle_metrics, "GET" },
	[R_FLAGS] = { CS_EP_FLAGS, M_GET, AUTH_SDK, NO_BODY, cs_handle_flags,
		"GET" },
	[R_STREAM] = { CS_EP_STREAM, M_GET, AUTH_SDK, NO_BODY,
		cs_handle_stream, "GET" },
	[R_EVENTS] = { CS_EP_EVENTS, M_POST, AUTH_SDK, CS_EVENTS_MAX_BODY,
		cs_handle_events, "POST" },
	[R_ADMIN_FLAGS] = { CS_EP_ADMIN_FLAGS, M_GET | M_POST, AUTH_ADMIN,
		CS_ADMIN_MAX_BODY, cs_handle_admin_flags, "GET, POST" },
	[R_ADMIN_FLAG] = { CS_EP_ADMIN_FLAGS, M_GET | M_PUT | M_PATCH |
		M_DELETE, AUTH_ADMIN, CS_ADMIN_MAX_BODY, cs_handle_admin_flag,
		"GET, PUT, PATCH, DELETE" },
	[R_ADMIN_STATS] = { CS_EP_ADMIN_STATS, M_GET, AUTH_ADMIN, NO_BODY,
		cs_handle_admin_stats, "GET" },
	[R_ADMIN_ROLLOUTS] = { CS_EP_ADMIN_ROLLOUTS, M_GET | M_POST,
		AUTH_ADMIN, CS_ROLLOUT_MAX_BODY, cs_handle_admin_rollouts,
		"GET, POST" },
	[R_ADMIN_ROLLOUT] = { CS_EP_ADMIN_ROLLOUTS, M_GET, AUTH_ADMIN,
		NO_BODY, cs_handle_admin_rollout, "GET" },
	[R_ADMIN_ROLLOUT_OP] = { CS_EP_ADMIN_ROLLOUTS, M_POST, AUTH_ADMIN,
		NO_BODY, cs_handle_admin_rollout_op, "POST" },
};

/* Operations on /v1/admin/rollouts/{flag}/OP. */
static const char *const rollout_ops[] = {
	"pause", "resume", "promote", "rollback"
};

static int method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return M_GET;
	if (strcmp(m, "POST") == 0)
		return M_POST;
	if (strcmp(m, "PUT") == 0)
		return M_PUT;
	if (strcmp(m, "PATCH") == 0)
		return M_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return M_DELETE;
	return 0;
}

/* /v1/admin/rollouts/{flag}[/OP]: the flag, and the operation if any. */
static int rollout_route(const char *rest, const char **key,
	size_t *key_len, const char **sub)
{
	size_t n = strlen(rest), i, olen;

	*key = rest;
	for (i = 0; i < sizeof(rollout_ops) / sizeof(rollout_ops[0]); i++) {
		olen = strlen(rollout_ops[i]);
		if (n > olen + 1 && rest[n - olen - 1] == '/' &&
		    strcmp(rest + n - olen, rollout_ops[i]) == 0) {
			*key_len = n - olen - 1;
			*sub = rollout_ops[i];
			return R_ADMIN_ROLLOUT_OP;
		}
	}
	*key_len = n;
	return R_ADMIN_ROLLOUT;
}

/* Route `url`; a flag key from the path goes to *key (borrowed, with
 * *key_len), an operation to *sub. Returns -1 for no route. */
static int find_route(const char *url, const char **key, size_t *key_len,
	const char **sub)
{
	static const char flags_prefix[] = "/v1/admin/flags/";
	static const char rollouts_prefix[] = "/v1/admin/rollouts/";
	static const char stats_suffix[] = "/stats";
	size_t n, slen = sizeof(stats_suffix) - 1;

	*key = NULL;
	*sub = NULL;
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

enum MHD_Result cs_reply(cs_request *r, struct MHD_Connection *c,
	unsigned int status, struct MHD_Response *resp)
{
	enum MHD_Result ret;

	if (!resp) {
		status = MHD_HTTP_INTERNAL_SERVER_ERROR;
		resp = MHD_create_response_from_buffer(0, NULL,
			MHD_RESPMEM_PERSISTENT);
		if (!resp)
			return MHD_NO;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	r->replied = true;
	cs_metrics_count(r->srv->metrics, r->ep, status);
	return ret;
}

static struct MHD_Response *json_response(const char *text)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(
		strlen(text), (void *)text, MHD_RESPMEM_MUST_COPY);

	if (resp && MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
		    "application/json") != MHD_YES) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return resp;
}

enum MHD_Result cs_reply_json(cs_request *r, struct MHD_Connection *c,
	unsigned int status, cJSON *json)
{
	char *text = json ? cJSON_PrintUnformatted(json) : NULL;
	struct MHD_Response *resp = text ? json_response(text) : NULL;

	cJSON_Delete(json);
	cJSON_free(text);
	return cs_reply(r, c, status, resp);
}

enum MHD_Result cs_reply_error(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *field)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj && !cJSON_AddStringToObject(obj, "error", message)) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	if (obj && field && *field && !cJSON_AddStringToObject(obj, "field",
		    field)) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	return cs_reply_json(r, c, status, obj);
}

enum MHD_Result cs_reply_perror(cs_request *r, struct MHD_Connection *c,
	const cs_perror *e)
{
	return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, e->message, e->field);
}

enum MHD_Result cs_reply_code(cs_request *r, struct MHD_Connection *c,
	int code)
{
	switch (code) {
	case CS_ENOTFOUND:
		return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such flag",
			"key");
	case CS_EEXISTS:
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT,
			"flag already exists", "key");
	case CANARY_ENOMEM:
		return cs_reply_error(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			"out of memory", NULL);
	default:
		return cs_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"storage failure", NULL);
	}
}

static enum MHD_Result reply_status(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *header,
	const char *value)
{
	cJSON *obj = cJSON_CreateObject();
	char *text;
	struct MHD_Response *resp;

	if (obj && !cJSON_AddStringToObject(obj, "error", message)) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	resp = text ? json_response(text) : NULL;
	cJSON_free(text);
	if (resp && header && MHD_add_response_header(resp, header, value) !=
	    MHD_YES) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return cs_reply(r, c, status, resp);
}

static bool authorized(const cs_server *s, int kind, struct MHD_Connection *c)
{
	const char *h;

	if (kind == AUTH_NONE)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	return kind == AUTH_SDK ? cs_auth_sdk(&s->auth, h) :
		cs_auth_admin(&s->auth, h);
}

/* A declared Content-Length over the limit: refuse before reading. */
static bool declared_too_large(struct MHD_Connection *c, size_t limit)
{
	const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_CONTENT_LENGTH);
	char *end;
	unsigned long long n;

	if (!cl)
		return false;
	n = strtoull(cl, &end, 10);
	return *end == '\0' && n > limit;
}

/* Route and check; answers 404/405/401/413 at once. */
static enum MHD_Result first_call(cs_server *s, struct MHD_Connection *c,
	const char *url, const char *method, cs_request *r)
{
	const char *key, *sub;
	size_t key_len = 0;
	int rt = find_route(url, &key, &key_len, &sub);
	const route *ro;

	if (rt < 0) {
		r->ep = CS_EP_OTHER;
		return reply_status(r, c, MHD_HTTP_NOT_FOUND, "not found", NULL,
			NULL);
	}
	ro = &routes[rt];
	r->route = rt;
	r->sub = sub;
	r->ep = ro->ep;
	r->limit = ro->body_limit;
	if (!(method_bit(method) & ro->methods))
		return reply_status(r, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			"method not allowed", MHD_HTTP_HEADER_ALLOW, ro->allow);
	if (!authorized(s, ro->auth, c))
		return reply_status(r, c, MHD_HTTP_UNAUTHORIZED,
			ro->auth == AUTH_ADMIN ? "admin token required" :
			"SDK key required", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			"Bearer");
	if (key && (key_len == 0 || key_len > CANARY__MAX_KEY_LEN))
		return reply_status(r, c, MHD_HTTP_NOT_FOUND, "no such flag",
			NULL, NULL);
	if (key) {
		r->key = strndup(key, key_len);
		if (!r->key)
			return MHD_NO;
	}
	if (declared_too_large(c, r->limit))
		return reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			"body too large", NULL, NULL);
	return MHD_YES;
}

static void take_body(cs_request *r, const char *data, size_t n)
{
	if (r->too_large || n > r->limit - r->len) {
		r->too_large = true;
		return;
	}
	if (r->len + n + 1 > r->cap) {
		size_t cap = r->cap ? r->cap : 4096;
		char *b;

		while (cap < r->len + n + 1)
			cap *= 2;
		b = realloc(r->body, cap);
		if (!b) {
			r->too_large = true; /* refuse rather than crash */
			return;
		}
		r->body = b;
		r->cap = cap;
	}
	memcpy(r->body + r->len, data, n);
	r->len += n;
	r->body[r->len] = '\0';
}

enum MHD_Result cs_http_access(void *cls, struct MHD_Connection *c,
	const char *url, const char *method, const char *version,
	const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	cs_server *s = cls;
	cs_request *r = *con_cls;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = s;
		r->method = method;
		*con_cls = r;
		/* Errors are answered here, which makes libmicrohttpd close
		 * the connection (it will not read the body); successes wait
		 * for the next call so keep-alive survives. */
		return first_call(s, c, url, method, r);
	}
	if (*upload_data_size) {
		if (!r->replied)
			take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	if (r->replied)
		return MHD_YES;
	if (r->too_large)
		return reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			"body too large", NULL, NULL);
	return routes[r->route].handler(r, c);
}

void cs_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	cs_request *r = *con_cls;

	(void)cls;
	(void)c;
	(void)toe;
	if (!r)
		return;
	free(r->key);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
