/*
 * reply.h - answering a request: JSON bodies, errors that name their
 * field, error codes mapped to statuses. Every reply is counted for
 * /metrics by its endpoint and status.
 */
#ifndef CS_REPLY_H
#define CS_REPLY_H

#include "http/router.h"
#include "parse_error.h"

struct cJSON;

/* Queue `resp` (destroying our reference), count it; NULL → 500. */
enum MHD_Result cs_reply(cs_request *r, struct MHD_Connection *c,
	unsigned int status, struct MHD_Response *resp);

/* Reply with `json` (consumed, may be NULL → 500). */
enum MHD_Result cs_reply_json(cs_request *r, struct MHD_Connection *c,
	unsigned int status, struct cJSON *json);

/* {"error": message, "field": field} (field omitted when NULL or ""). */
enum MHD_Result cs_reply_error(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *field);

/* {"error": message} with one extra header (none when `header` is NULL),
 * for the router's 401, 404, 405 and 413. */
enum MHD_Result cs_reply_status(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *header,
	const char *value);

/* 503 with Retry-After: `retry_s`, closing the connection: a client
 * turned away must not keep the connection it was turned away on. */
enum MHD_Result cs_reply_busy(cs_request *r, struct MHD_Connection *c,
	const char *message, const char *retry_s);

/* 400 from a parse error. */
enum MHD_Result cs_reply_perror(cs_request *r, struct MHD_Connection *c,
	const canary__perror *e);

/* Map a store / library error code to a reply (404, 409, 500...). */
enum MHD_Result cs_reply_code(cs_request *r, struct MHD_Connection *c,
	int code);

#endif
