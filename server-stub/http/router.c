/*
 * router.c - route a request, enforce method, auth and size limits before
 * reading a body, collect the body, dispatch.
 *
 * libmicrohttpd hands us the raw path first (the URI log callback, where
 * the request's record is made), then calls the access handler once with
 * the headers (we route and check everything we can without the body,
 * and may answer at once), then once per body chunk, then with
 * *upload_data_size == 0 when the body is complete.
 */
#include "http/router.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "http/conns.h"
#include "http/head_check.h"
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

/* Check the route's credential; an admin route learns who called, an SDK
 * route with which key. A scraper (the metrics token) opens /metrics and
 * nothing else: on the admin API it is no credential (401), like an SDK
 * key. */
static bool authorized(const cs_server *s, cs_door door,
	struct MHD_Connection *c, cs_request *r)
{
	cs_identity *who = &r->who;
	const char *h;

	if (door == CS_OPEN)
		return true;
	h = MHD_lookup_connection_value(c, MHD_HEADER_KIND,
		MHD_HTTP_HEADER_AUTHORIZATION);
	if (door == CS_SDK)
		return (r->sdk_key = cs_auth_sdk_key(&s->auth, h)) >= 0;
	if (!cs_auth_identify(&s->auth, h, who))
		return false;
	return who->role >= (door == CS_METRICS ? CS_ROLE_SCRAPER :
		CS_ROLE_READER);
}

static const char *door_needs(cs_door door)
{
	switch (door) {
	case CS_SDK:
		return "SDK key required";
	case CS_METRICS:
		return "an API token or the metrics token required";
	case CS_ADMIN:
	case CS_OPEN:
		break;
	}
	return "API token required";
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

/* The flag key of the path, decoded: 0, or -1 with the answer queued in
 * *ret. */
static int take_key(cs_request *r, struct MHD_Connection *c,
	const char *key, size_t key_len, enum MHD_Result *ret)
{
	size_t len;

	if (!cs_pct_decode(key, key_len, &r->key, &len)) {
		*ret = cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "the flag key "
			"in the path is not a valid key (malformed escape, "
			"invalid UTF-8, NUL or a control character)", "key");
		return -1;
	}
	if (len == 0 || len > CANARY__MAX_KEY_LEN) {
		*ret = cs_reply_status(r, c, MHD_HTTP_NOT_FOUND, "no such flag",
			NULL, NULL);
		return -1;
	}
	return 0;
}

/*
 * Route and check, in the order that tells a stranger the least: the
 * head (framing, NUL bytes, the path's encoding), the path (404), the
 * credential (401), the method (405), the role (403), the key, the
 * body's declared size (413). Answers at once on a failure; libmicrohttpd then closes the
 * connection without reading the body.
 */
static enum MHD_Result first_call(const cs_listener *l,
	struct MHD_Connection *c, const char *method, cs_request *r)
{
	const cs_server *s = l->srv;
	const char *key, *sub, *problem = cs_head_problem(c, method), *raw;
	char *decoded = NULL;
	size_t key_len = 0, len;
	const cs_route *ro;
	enum MHD_Result ret;

	r->ep = CS_EP_OTHER;
	if (problem)
		return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, problem, NULL);
	raw = r->raw ? r->raw : r->url;
	if (!cs_pct_decode(raw, strlen(raw), &decoded, &len))
		return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "the path is "
			"not valid (malformed escape, invalid UTF-8, NUL or a "
			"control character)", NULL);
	free(decoded);
	ro = l->route(raw, &key, &key_len, &sub);
	if (!ro)
		return cs_reply_status(r, c, MHD_HTTP_NOT_FOUND, "not found",
			NULL, NULL);
	r->route = ro;
	r->sub = sub;
	r->ep = ro->ep;
	r->limit = ro->body_limit;
	if (!authorized(s, ro->door, c, r))
		return cs_reply_status(r, c, MHD_HTTP_UNAUTHORIZED,
			door_needs(ro->door), MHD_HTTP_HEADER_WWW_AUTHENTICATE,
			"Bearer");
	if (!(method_bit(method) & ro->methods))
		return cs_reply_status(r, c, MHD_HTTP_METHOD_NOT_ALLOWED,
			"method not allowed", MHD_HTTP_HEADER_ALLOW, ro->allow);
	if (ro->door == CS_ADMIN &&
	    r->who.role < ro->role[method_index(method_bit(method))])
		return forbidden(r, c, ro->role[method_index(method_bit(method))]);
	if (key && take_key(r, c, key, key_len, &ret) != 0)
		return ret;
	if ((r->limit == 0 && cs_head_has_body(c)) ||
	    declared_too_large(c, r->limit))
		return cs_reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			r->limit ? "body too large" : "this endpoint takes no "
			"body", NULL, NULL);
	/* The body, if any, has this long to arrive. */
	cs_conns_deadline(c, (uint64_t)s->opts->body_timeout_s * 1000u, false);
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

/*
 * A chunked body went past the route's limit. libmicrohttpd 0.9.75
 * queues a response only once a body has ended, and this one may never
 * end: write the 413 on the socket ourselves (nothing else writes on it
 * while the body is being read) and have the connection closed. Over TLS
 * the bytes would have to go through libmicrohttpd's session, so there
 * the connection is only closed.
 */
static enum MHD_Result cut_body(cs_request *r, struct MHD_Connection *c)
{
	static const char answer[] = "HTTP/1.1 413 Content Too Large\r\n"
		"Content-Type: application/json\r\nConnection: close\r\n"
		"Content-Length: 27\r\n\r\n{\"error\":\"body too large\"}\n";
	const union MHD_ConnectionInfo *fd = MHD_get_connection_info(c,
		MHD_CONNECTION_INFO_CONNECTION_FD);

	r->replied = true;
	cs_metrics_count(r->srv->metrics, r->ep, MHD_HTTP_CONTENT_TOO_LARGE);
	if (fd && !r->srv->opts->tls_cert &&
	    send(fd->connect_fd, answer, sizeof(answer) - 1,
		    MSG_NOSIGNAL | MSG_DONTWAIT) > 0)
		shutdown(fd->connect_fd, SHUT_WR);
	return MHD_NO;
}

void *cs_http_uri(void *cls, const char *uri, struct MHD_Connection *c)
{
	const cs_listener *l = cls;
	cs_request *r = calloc(1, sizeof(*r));

	(void)c;
	if (!r)
		return NULL;
	r->srv = l->srv;
	r->raw = strndup(uri, strcspn(uri, "?"));
	return r;
}

enum MHD_Result cs_http_access(void *cls, struct MHD_Connection *c,
	const char *url, const char *method, const char *version,
	const char *upload_data, size_t *upload_data_size, void **con_cls)
{
	const cs_listener *l = cls;
	cs_request *r = *con_cls;

	(void)version;
	if (!r) {
		/* The URI callback could not keep the path (out of memory). */
		r = calloc(1, sizeof(*r));
		if (!r)
			return MHD_NO;
		r->srv = l->srv;
		*con_cls = r;
	}
	if (!r->started) {
		r->started = true;
		r->method = method;
		r->url = url;
		/* Errors are answered here, which makes libmicrohttpd close
		 * the connection (it will not read the body); successes wait
		 * for the next call so keep-alive survives. */
		return first_call(l, c, method, r);
	}
	if (*upload_data_size) {
		if (!r->replied)
			take_body(r, upload_data, *upload_data_size);
		*upload_data_size = 0;
		if (r->too_large && !r->replied)
			return cut_body(r, c);
		return MHD_YES;
	}
	if (r->replied)
		return MHD_YES;
	/* The request is in: its answer has no deadline of ours. */
	cs_conns_deadline(c, 0, false);
	if (r->too_large)
		return cs_reply_status(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			"body too large", NULL, NULL);
	return r->route->handler(r, c);
}

void cs_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe)
{
	const cs_listener *l = cls;
	cs_request *r = *con_cls;

	(void)toe;
	/* A kept-alive connection waits for its next request no longer
	 * than the idle timeout, however slowly that request trickles in. */
	cs_conns_deadline(c, (uint64_t)l->srv->opts->connection_timeout_s *
		1000u, true);
	if (!r)
		return;
	free(r->raw);
	free(r->key);
	free(r->body);
	free(r);
	*con_cls = NULL;
}
