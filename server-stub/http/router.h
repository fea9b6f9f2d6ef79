/*
 * router.h - a request's way through libmicrohttpd: find its route, check
 * the method, the credentials and the size limit before reading a body,
 * collect the body, call the route's handler.
 *
 * The routes themselves (which URL, which handler, which limits) are the
 * application's: the server hands the router a cs_route_fn (api/routes.c),
 * so this layer knows nothing of the endpoints it serves.
 */
#ifndef CS_ROUTER_H
#define CS_ROUTER_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http/auth.h"
#include "http/metrics.h"

struct cs_server;
struct cs_conns;
struct cs_request;

typedef enum MHD_Result (*cs_handler)(struct cs_request *r,
	struct MHD_Connection *c);

/* Methods a route accepts (HEAD counts as GET). */
enum { CS_GET = 1, CS_POST = 2, CS_PUT = 4, CS_PATCH = 8, CS_DELETE = 16 };
/* The same as indices (into cs_route.role). */
enum { CS_M_GET, CS_M_POST, CS_M_PUT, CS_M_PATCH, CS_M_DELETE, CS_METHODS };

/* Which credential a route needs (http/auth.h): none, an SDK key, one
 * that may scrape /metrics, one that opens the admin API. */
typedef enum cs_door { CS_OPEN, CS_SDK, CS_METRICS, CS_ADMIN } cs_door;

typedef struct cs_route {
	cs_endpoint ep;      /* what /metrics counts it as */
	int methods;         /* CS_GET | ... */
	cs_door door;
	size_t body_limit;   /* larger bodies get 413 (a declared length at
	                        once, a chunked body when it gets there); 0:
	                        the route takes no body at all */
	cs_handler handler;
	const char *allow;   /* the Allow header of its 405 */
	/* CS_ADMIN: the least role each method needs (by CS_M_*); the
	 * router answers 403 to less. */
	cs_role role[CS_METHODS];
} cs_route;

/*
 * The route of `url`, or NULL (404). `url` is the path as it came (still
 * percent-encoded: "%2F" inside a flag key is not a separator). A flag key
 * in the path goes to *key (borrowed from `url`, *key_len bytes, still
 * encoded: the router decodes it), an operation name to *sub (a static
 * string); both NULL when there are none.
 */
typedef const cs_route *(*cs_route_fn)(const char *url, const char **key,
	size_t *key_len, const char **sub);

/*
 * One listening socket: the server behind it and the routes it offers
 * (the main listener offers every route; a separate dashboard listener,
 * --ui-listen, the dashboard and the admin API it calls). It is the `cls`
 * of the libmicrohttpd callbacks below.
 */
typedef struct cs_listener {
	struct cs_server *srv;
	cs_route_fn route;
	struct cs_conns *conns;      /* its connections' deadlines (conns.h) */
	const char *listen;          /* HOST:PORT to bind (borrowed) */
	unsigned int threads;        /* polling threads */
	struct MHD_Daemon *daemon;   /* once started */
	uint16_t port;               /* the bound port, once started */
	char address[96];            /* "127.0.0.1:PORT", once started */
} cs_listener;

typedef struct cs_request {
	struct cs_server *srv;
	const cs_route *route;
	cs_endpoint ep;
	const char *method;      /* borrowed from MHD for the request */
	const char *url;         /* the path, decoded, likewise */
	char *raw;               /* the path as it came (percent-encoded) */
	bool started;            /* the first call has been made */
	cs_identity who;         /* who called an admin route (auth.h) */
	int sdk_key;             /* which SDK key an SDK route was called
	                            with (its index) */
	char *key;               /* flag key from the path, or NULL */
	const char *sub;         /* operation from the path (static) */
	char *body;              /* NUL-terminated upload */
	size_t len, cap, limit;
	bool too_large;
	bool replied;
} cs_request;

/* libmicrohttpd callbacks (MHD_OPTION_URI_LOG_CALLBACK, which sees the
 * path before libmicrohttpd decodes it, MHD_AccessHandlerCallback and
 * MHD_RequestCompletedCallback); `cls` is the cs_listener. */
void *cs_http_uri(void *cls, const char *uri, struct MHD_Connection *c);
enum MHD_Result cs_http_access(void *cls, struct MHD_Connection *c,
	const char *url, const char *method, const char *version,
	const char *upload_data, size_t *upload_data_size, void **con_cls);
void cs_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe);

#endif
