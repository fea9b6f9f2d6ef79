/*
 * router.c - route a request, enforce method, auth and size limits before
 * reading a body, collect the body, dispatch.
 *
 * libmicrohttpd calls the access handler first with *con_cls == NULL (we
 * route and check everything we can without the body, and may answer at
 * once), then once per body chunk, then with *upload_data_size == 0 when
 * the body is complete.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "http/reply.h"
#include "server.h"

static int method_bit(const char *m)
{
	if (strcmp(m, "GET") == 0 || strcmp(m, "HEAD") == 0)
		return CS_GET;
	if (strcmp(m, "POST") == 0)
		return CS_POST;
	if (strcmp(m, "PUT") == 0)
		return CS_PUT;
	if (strcmp(m, "PATCH") == 0)
		return CS_PATCH;
	if (strcmp(m, "DELETE") == 0)
		return CS_DELETE;
	return 0;
}

static int method_index(int bit)
{
	int i = 0;

	while (bit > 1) {
		bit >>= 1;
		i++;
	}
	return i < CS_METHODS ? i : CS_M_GET;
}

/* 403: the caller's role is below what the route's method needs. */
static enum MHD_Result forbidden(cs_request *r, struct MHD_Connection *c,
	cs_role need)
{
	char msg[200];

	snprintf(msg, sizeof(msg), "this needs the %s role; the token "
		"\"%s\" is %s %s", cs_role_name(need), r->who.name,
		r->who.role == CS_ROLE_OPERATOR || r->who.role == CS_ROLE_ADMIN ?
		"an" : "a", cs_role_name(r->who.role));
	return cs_reply_status(r, c, MHD_HTTP_FORBIDDEN, msg, NULL, NULL);
}

/* Check the route's credential; an admin route learns who called. */
static bool authorized(const cs_server *s, cs_door door,
	struct MHD_Connection *c, cs_identity *who)
{
	const char *h;

	if (door == CS_OPEN)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	return door == CS_SDK ? cs_auth_sdk(&s->auth, h) :
		cs_auth_identify(&s->auth, h, who);
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
static enum MHD_Result first_call(const cs_listener *l,
	struct MHD_Connection *c, const char *url, const char *method,
	cs_request *r)
{
	const cs_server *s = l->srv;
	const char *key, *sub;
	size_t key_len = 0;
	const cs_route *ro = l->route(url, &key, &key_len, &sub);

	if (!ro) {
		r->ep = CS_EP_OTHER;
		return cs_reply_status(r, c, MHD_HTTP_NOT_FOUND, "not found",
			NULL, NULL);
	}
	r->route = ro;
	r->sub = sub;
	r->ep = ro->ep;
	r->limit = ro->body_limit;
	if (!(method_bit(method) & ro->methods))
		return cs_reply_status(r, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			"method not allowed", MHD_HTTP_HEADER_ALLOW, ro->allow);
	if (!authorized(s, ro->door, c, &r->who))
		return cs_reply_status(r, c, MHD_HTTP_UNAUTHORIZED,
			ro->door == CS_ADMIN ? "API token required" :
			"SDK key required", MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			"Bearer");
	if (ro->door == CS_ADMIN &&
	    r->who.role < ro->role[method_index(method_bit(method))])
		return forbidden(r, c, ro->role[method_index(method_bit(method))]);
	if (key && (key_len == 0 || key_len > CANARY__MAX_KEY_LEN))
		return cs_reply_status(r, c, MHD_HTTP_NOT_FOUND, "no such flag",
			NULL, NULL);
	if (key) {
		r->key = strndup(key, key_len);
		if (!r->key)
			return MHD_NO;
	}
	if (declared_too_large(c, r->limit))
		return cs_reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
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
	const cs_listener *l = cls;
	cs_request *r = *con_cls;

	(void)version;
	if (!r) {
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = l->srv;
		r->method = method;
		r->url = url;
		*con_cls = r;
		/* Errors are answered here, which makes libmicrohttpd close
		 * the connection (it will not read the body); successes wait
		 * for the next call so keep-alive survives. */
		return first_call(l, c, url, method, r);
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
		return cs_reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			"body too large", NULL, NULL);
	return r->route->handler(r, c);
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
