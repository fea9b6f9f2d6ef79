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

/*
 * 200 while writes can succeed ("ok", or "degraded" with a reason when
 * something is wrong that does not stop them), 503 (take this server out
 * of the load balancer) while they cannot: events and changes would not
 * be stored, and the config served may be stale.
 */
enum MHD_Result cs_handle_healthz(cs_request *r, struct MHD_Connection *c)
{
	cs_server *s = r->srv;
	char why[256] = "";
	cs_health h = cs_store_health(s->store, why, sizeof(why));
	bool up = h != CS_HEALTH_FAILING;
	cJSON *obj = cJSON_CreateObject();

	if (h == CS_HEALTH_OK && cs_flags_cache_bytes(s->cache) >
	    s->opts->max_config_bytes) {
		h = CS_HEALTH_DEGRADED;
		snprintf(why, sizeof(why), "the config is larger than "
			"--max-config-bytes: SDKs with the default limit "
			"cannot take it");
	}
	if (obj && (!cJSON_AddStringToObject(obj, "status",
			    h == CS_HEALTH_OK ? "ok" : h == CS_HEALTH_DEGRADED ?
			    "degraded" : "failing") ||
		    (why[0] && !cJSON_AddStringToObject(obj, "reason", why)) ||
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
	int rc = cs_metrics_render(s->metrics, s->store,
		cs_flags_cache_version(s->cache), cs_hub_count(s->hub), &text,
		&len);

	/* The totals come from the database: while it cannot be reached
	 * this is a 503 with Retry-After, as for every request needing it. */
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
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
