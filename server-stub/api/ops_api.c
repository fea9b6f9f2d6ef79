/*
 * ops_api.c - the operational endpoints: GET /healthz and GET /metrics
 * (Prometheus text; the store's totals and rollouts are read on a read
 * connection, never behind an ingest's commit).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "api/api.h"
#include "http/reply.h"
#include "server.h"

enum MHD_Result cs_handle_healthz(cs_request *r, struct MHD_Connection *c)
{
	cJSON *obj = cJSON_CreateObject();

	if (obj && (!cJSON_AddStringToObject(obj, "status", "ok") ||
		    !cJSON_AddNumberToObject(obj, "config_version",
			    (double)cs_flags_cache_version(r->srv->cache)) ||
		    !cJSON_AddNumberToObject(obj, "schema_version",
			    cs_store_schema_version(r->srv->store)))) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, obj);
}

enum MHD_Result cs_handle_metrics(cs_request *r, struct MHD_Connection *c)
{
	cs_server *s = r->srv;
	struct MHD_Response *resp = NULL;
	char *text = NULL;
	size_t len = 0;

	if (cs_metrics_render(s->metrics, s->store,
		    cs_flags_cache_version(s->cache), cs_hub_count(s->hub), &text,
		    &len) != CANARY_OK)
		return cs_reply_error(r, c, MHD_HTTP_INTERNAL_SERVER_ERROR,
			"cannot render metrics", NULL);
	resp = MHD_create_response_from_buffer(len, text, MHD_RESPMEM_MUST_FREE);
	if (!resp) {
		free(text);
	} else if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
			   "text/plain; version=0.0.4") != MHD_YES) {
		MHD_destroy_response(resp);
		resp = NULL;
	}
	return cs_reply(r, c, MHD_HTTP_OK, resp);
}
