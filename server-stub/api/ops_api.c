/*
 * ops_api.c - the operational endpoints: GET /healthz and GET /metrics
 * (Prometheus text; the store's totals and rollouts are read on a read
 * connection, never behind an ingest's commit).
 */
#include <cjson/cJSON.h>
#include <stdlib.h>

#include "api/api.h"
#include "http/reply.h"
#include "rollout/controller.h"
#include "server.h"

/* 200 while the database can be reached, 503 (take this server out of
 * the load balancer) while it cannot: the config it serves may be stale
 * and events cannot be stored. */
enum MHD_Result cs_handle_healthz(cs_request *r, struct MHD_Connection *c)
{
	cs_server *s = r->srv;
	bool up = cs_store_healthy(s->store);
	cJSON *obj = cJSON_CreateObject();

	if (obj && (!cJSON_AddStringToObject(obj, "status", up ? "ok" :
			    "database unavailable") ||
		    !cJSON_AddNumberToObject(obj, "config_version",
			    (double)cs_flags_cache_version(s->cache)) ||
		    !cJSON_AddNumberToObject(obj, "schema_version",
			    cs_store_schema_version(s->store)) ||
		    !cJSON_AddStringToObject(obj, "backend",
			    cs_store_backend_name(s->store)) ||
		    !cJSON_AddBoolToObject(obj, "controller",
			    cs_controller_leading(s->controller)))) {
		cJSON_Delete(obj);
		obj = NULL;
	}
	return cs_reply_json(r, c, up ? MHD_HTTP_OK :
		MHD_HTTP_SERVICE_UNAVAILABLE, obj);
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
