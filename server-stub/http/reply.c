/*
 * reply.c - JSON replies and errors, each counted by endpoint and status.
 */
#include "http/reply.h"

#include <cjson/cJSON.h>
#include <string.h>

#include "server.h"

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
	const canary__perror *e)
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
	case CS_EUNAVAILABLE:
		return cs_reply_status(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			"the database cannot be reached; try again",
			MHD_HTTP_HEADER_RETRY_AFTER, "1");
	case CS_EBEHIND:
		return cs_reply_status(r, c, MHD_HTTP_SERVICE_UNAVAILABLE,
			"this server has not read the config version these "
			"events name yet; try again",
			MHD_HTTP_HEADER_RETRY_AFTER, "1");
	case CS_EUNREADABLE:
		return cs_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"the stored flag cannot be read back (a row not written "
			"by this server?): PUT or DELETE it to repair", "key");
	case CS_ENOSEGMENT:
		return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, "names a "
			"segment that does not exist (PUT /v1/admin/segments/"
			"{name} first)", "segments");
	case CS_ETOOMANY: /* CANARY__MAX_SEGMENTS */
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT, "the store "
			"would hold more than 10000 segments, more than an SDK "
			"takes in one config; delete unused segments first; "
			"nothing was changed", "name");
	case CS_ETOOBIG:
		return cs_reply_error(r, c, MHD_HTTP_CONTENT_TOO_LARGE,
			"the config would be larger than the server's "
			"--max-config-bytes, which the SDKs could not take; "
			"nothing was changed", NULL);
	default:
		return cs_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"storage failure", NULL);
	}
}

/* {"error": message} with up to two extra headers (NULL names: none). */
static struct MHD_Response *status_response(const char *message,
	const char *h1, const char *v1, const char *h2, const char *v2)
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
	if (resp && ((h1 && MHD_add_response_header(resp, h1, v1) != MHD_YES) ||
		     (h2 && MHD_add_response_header(resp, h2, v2) != MHD_YES))) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return resp;
}

enum MHD_Result cs_reply_status(cs_request *r, struct MHD_Connection *c,
	unsigned int status, const char *message, const char *header,
	const char *value)
{
	return cs_reply(r, c, status, status_response(message, header, value,
		NULL, NULL));
}

enum MHD_Result cs_reply_busy(cs_request *r, struct MHD_Connection *c,
	const char *message, const char *retry_s)
{
	return cs_reply(r, c, MHD_HTTP_SERVICE_UNAVAILABLE, status_response(
		message, MHD_HTTP_HEADER_RETRY_AFTER, retry_s,
		MHD_HTTP_HEADER_CONNECTION, "close"));
}
