/*
 * rollouts_api.c - /v1/admin/rollouts: start, list, status with the whole
 * decision history, and the operators' pause / resume / promote /
 * rollback, and a rollout's time series. The work is the controller's
 * (controller.h) and the series module's (series.h); this maps HTTP onto
 * them.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"
#include "clock.h"
#include "http/reply.h"
#include "parse/admin_parse.h"
#include "rollout/controller.h"
#include "rollout/series.h"
#include "server.h"

static enum MHD_Result reply_rc(cs_request *r, struct MHD_Connection *c,
	int rc, const char *why)
{
	switch (rc) {
	case CS_ENOTFOUND:
		return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND, "no such flag",
			"flag");
	case CS_ENOROLLOUT:
		return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND,
			"no rollout for this flag", "flag");
	case CS_ECONFLICT:
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT, why && *why ? why :
			"the flag already has an active rollout", "flag");
	default:
		return cs_reply_code(r, c, rc);
	}
}

static enum MHD_Result reply_status_doc(cs_request *r,
	struct MHD_Connection *c, const char *flag, uint64_t last,
	unsigned int status)
{
	cJSON *doc = NULL;
	int rc = cs_controller_status(r->srv->controller, flag, last, &doc);

	if (rc != CANARY_OK)
		return reply_rc(r, c, rc, NULL);
	return cs_reply_json(r, c, status, doc);
}

static enum MHD_Result start(cs_request *r, struct MHD_Connection *c)
{
	char flag[CANARY__MAX_KEY_LEN + 1];
	cs_rollout_spec spec;
	cs_rollout ro;
	canary__perror e;
	char why[256];
	int rc = cs_rollout_parse(r->body, r->len, flag, &spec, &e);

	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	rc = cs_controller_start(r->srv->controller, flag, &spec,
		canary__wall_ms(), r->who.name, &ro, why, sizeof(why));
	if (rc != CANARY_OK)
		return reply_rc(r, c, rc, why);
	return reply_status_doc(r, c, flag, 0, MHD_HTTP_CREATED);
}

static enum MHD_Result list(cs_request *r, struct MHD_Connection *c)
{
	cJSON *arr = NULL, *doc;
	int rc = cs_controller_list(r->srv->controller, &arr);

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = cJSON_CreateObject();
	if (!doc || !cJSON_AddItemToObject(doc, "rollouts", arr)) {
		cJSON_Delete(doc);
		cJSON_Delete(arr);
		return cs_reply_code(r, c, CANARY_ENOMEM);
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

enum MHD_Result cs_handle_admin_rollouts(cs_request *r,
	struct MHD_Connection *c)
{
	if (strcmp(r->method, "POST") == 0)
		return start(r, c);
	return list(r, c);
}

enum MHD_Result cs_handle_admin_rollout(cs_request *r,
	struct MHD_Connection *c)
{
	const char *q = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
		"last");
	uint64_t last = 0;
	canary__perror e;

	if (q && cs_rollout_parse_last(q, &last, &e) != CANARY_OK)
		return cs_reply_perror(r, c, &e);
	return reply_status_doc(r, c, r->key, last, MHD_HTTP_OK);
}

static int op_of(const cs_request *r, cs_rollout_op *op, canary__perror *e)
{
	bool full = false;
	int rc;

	memset(e, 0, sizeof(*e));
	if (strcmp(r->sub, "promote") == 0) {
		rc = cs_rollout_parse_promote(r->body, r->len, &full, e);
		*op = full ? CS_OP_PROMOTE_FULL : CS_OP_PROMOTE;
		return rc;
	}
	/* The other operations take no body; anything but {} is a mistake
	 * (a member is named). */
	rc = cs_admin_parse_no_body(r->body, r->len, e);
	if (rc != CANARY_OK)
		return rc;
	if (strcmp(r->sub, "pause") == 0)
		*op = CS_OP_PAUSE;
	else if (strcmp(r->sub, "resume") == 0)
		*op = CS_OP_RESUME;
	else
		*op = CS_OP_ROLLBACK; /* api/routes.c routes only the four */
	return CANARY_OK;
}

enum MHD_Result cs_handle_admin_rollout_op(cs_request *r,
	struct MHD_Connection *c)
{
	cs_rollout_op op = CS_OP_PAUSE;
	cs_rollout ro;
	canary__perror e;
	char why[256];
	int rc = op_of(r, &op, &e);

	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	rc = cs_controller_op(r->srv->controller, r->key, op,
		canary__wall_ms(), r->who.name, &ro, why, sizeof(why));
	if (rc != CANARY_OK)
		return reply_rc(r, c, rc, why);
	return reply_status_doc(r, c, r->key, 0, MHD_HTTP_OK);
}

enum MHD_Result cs_handle_admin_series(cs_request *r, struct MHD_Connection *c)
{
	cs_series_query q;
	canary__perror e;
	cJSON *doc = NULL;
	int rc = cs_rollout_parse_series(
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "points"),
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
			"decisions"), &q, &e);

	if (rc != CANARY_OK)
		return cs_reply_perror(r, c, &e);
	rc = cs_rollout_series(r->srv->store, r->key, r->srv->opts->window_ms,
		canary__wall_ms(), &q, &doc);
	if (rc != CANARY_OK)
		return reply_rc(r, c, rc, NULL);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}
