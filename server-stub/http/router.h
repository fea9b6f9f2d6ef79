/*
 * http.h - request routing, bodies and replies on top of libmicrohttpd.
 */
#ifndef CS_HTTP_H
#define CS_HTTP_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stddef.h>

#include "http/metrics.h"
#include "parse/perror.h"
#include "server.h"

struct cJSON;

typedef struct cs_request {
	cs_server *srv;
	cs_endpoint ep;
	int route;
	const char *method;      /* borrowed from MHD for the request */
	char *key;               /* flag key from the path, or NULL */
	const char *sub;         /* rollout operation from the path (static) */
	char *body;              /* NUL-terminated upload */
	size_t len, cap, limit;
	bool too_large;
	bool replied;
} cs_request;

/* libmicrohttpd callbacks (MHD_AccessHandlerCallback and
 * MHD_RequestCompletedCallback). */
enum MHD_Result cs_http_access(void *cls, struct MHD_Connection *c,
	const char *url, const char *method, const char *version,
	const char *upload_data, size_t *upload_data_size, void **con_cls);
void cs_http_completed(void *cls, struct MHD_Connection *c, void **con_cls,
	enum MHD_RequestTerminationCode toe);

/* Queue `resp` (destroying our reference), count it. */
enum MHD_Result cs_reply(cs_request *r, struct MHD_Connection *c,
	unsigned int status, struct MHD_Response *resp);

/* Reply with `json` (consumed, may be NULL → 500). */
enum MHD_Result cs_reply_json(cs_request *r, struct MHD_Connection *c,
	unsigned int status, struct cJSON *json);

/* {"error": message, "field": field} (field omitted when NULL or ""). */
enum MHD_Result cs_reply_error(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *field);

/* 400 from a parse error. */
enum MHD_Result cs_reply_perror(cs_request *r, struct MHD_Connection *c,
	const cs_perror *e);

/* Map a store / library error code to a reply (404, 409, 500...). */
enum MHD_Result cs_reply_code(cs_request *r, struct MHD_Connection *c,
	int code);

/* Handlers (api.c, admin_api.c). */
typedef enum MHD_Result (*cs_handler)(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_healthz(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_metrics(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_flags(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_stream(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_events(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_flags(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_flag(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_stats(cs_request *r, struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollouts(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollout(cs_request *r,
	struct MHD_Connection *c);
enum MHD_Result cs_handle_admin_rollout_op(cs_request *r,
	struct MHD_Connection *c);

#endif
