/*
 * admin_api.c - /v1/admin/: flags CRUD, per-arm stats, and who the caller
 * is.
 *
 * Every change goes through the store, which bumps the config version and
 * publishes it (to /v1/flags and every open stream) before we reply.
 */
#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/api.h"
#include "api/stats_json.h"
#include "http/reply.h"
#include "parse/admin_parse.h"
#include "server.h"

/* {"version": v, "flag": {...}} */
static cJSON *flag_doc(const canary__flag *f, uint64_t version)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *flag = f ? canary__flag_to_json(f) : NULL;

	if (!obj || (f && !flag) ||
	    !cJSON_AddNumberToObject(obj, "version", (double)version)) {
		cJSON_Delete(obj);
		cJSON_Delete(flag);
		return NULL;
	}
	if (flag)
		cJSON_AddItemToObject(obj, "flag", flag);
	return obj;
}

static enum MHD_Result list_flags(cs_request *r, struct MHD_Connection *c)
{
	canary__config *cfg = NULL;
	int rc = cs_store_config(r->srv->store, &cfg);
	cJSON *doc;

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	doc = canary__config_to_json(cfg);
	canary__config_free(canary__alloc_default(), cfg);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

/* POST (path_key NULL) and PUT share this: parse, then write. */
static enum MHD_Result put_flag(cs_request *r, struct MHD_Connection *c,
	const char *path_key, cs_put_mode mode)
{
	canary__flag flag;
	canary__perror e;
	bool created = false;
	uint64_t version = 0;
	int rc = cs_admin_parse_flag(r->body, r->len, path_key, &flag, &e);
	enum MHD_Result ret;

	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	rc = cs_store_flag_put(r->srv->store, &flag, mode, &created, &version);
	if (rc != CANARY_OK)
		ret = cs_reply_code(r, c, rc);
	else
		ret = cs_reply_json(r, c, created ? MHD_HTTP_CREATED :
			MHD_HTTP_OK, flag_doc(&flag, version));
	canary__flag_clear(canary__alloc_default(), &flag);
	return ret;
}

enum MHD_Result cs_handle_admin_flags(cs_request *r, struct MHD_Connection *c)
{
	if (strcmp(r->method, "POST") == 0)
		return put_flag(r, c, NULL, CS_PUT_CREATE);
	return list_flags(r, c);
}

typedef struct patch_ctx {
	const cs_request *r;
	canary__perror e;
} patch_ctx;

static int apply_patch(const canary__flag *cur, canary__flag *next, void *arg)
{
	patch_ctx *p = arg;

	return cs_admin_patch_flag(cur, p->r->body, p->r->len, next, &p->e);
}

static enum MHD_Result patch_flag(cs_request *r, struct MHD_Connection *c)
{
	patch_ctx p;
	canary__flag flag;
	uint64_t version = 0;
	enum MHD_Result ret;
	int rc;

	memset(&p, 0, sizeof(p));
	p.r = r;
	rc = cs_store_flag_modify(r->srv->store, r->key, apply_patch, &p,
		&version);
	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &p.e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	rc = cs_store_flag_get(r->srv->store, r->key, &flag);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	ret = cs_reply_json(r, c, MHD_HTTP_OK, flag_doc(&flag, version));
	canary__flag_clear(canary__alloc_default(), &flag);
	return ret;
}

static enum MHD_Result get_flag(cs_request *r, struct MHD_Connection *c)
{
	canary__flag flag;
	int rc = cs_store_flag_get(r->srv->store, r->key, &flag);
	enum MHD_Result ret;

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	ret = cs_reply_json(r, c, MHD_HTTP_OK, flag_doc(&flag,
		cs_flags_cache_version(r->srv->cache)));
	canary__flag_clear(canary__alloc_default(), &flag);
	return ret;
}

static enum MHD_Result delete_flag(cs_request *r, struct MHD_Connection *c)
{
	uint64_t version = 0;
	int rc = cs_store_flag_delete(r->srv->store, r->key, &version);

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	return cs_reply_json(r, c, MHD_HTTP_OK, flag_doc(NULL, version));
}

enum MHD_Result cs_handle_admin_flag(cs_request *r, struct MHD_Connection *c)
{
	if (strcmp(r->method, "PUT") == 0)
		return put_flag(r, c, r->key, CS_PUT_UPSERT);
	if (strcmp(r->method, "PATCH") == 0)
		return patch_flag(r, c);
	if (strcmp(r->method, "DELETE") == 0)
		return delete_flag(r, c);
	return get_flag(r, c);
}

enum MHD_Result cs_handle_admin_stats(cs_request *r, struct MHD_Connection *c)
{
	cs_stats_query q;
	cs_stats_filter f;
	cs_arm_stats *arms;
	canary__flag flag;
	canary__perror e;
	cJSON *doc;
	int rc;

	rc = cs_admin_parse_stats_query(
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND,
			"config_version"),
		MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "since"),
		&q, &e);
	if (rc != CANARY_OK)
		return cs_reply_perror(r, c, &e);
	rc = cs_store_flag_get(r->srv->store, r->key, &flag);
	canary__flag_clear(canary__alloc_default(), &flag);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	memset(&f, 0, sizeof(f));
	f.has_config_version = q.has_config_version;
	f.config_version = q.config_version;
	f.since_ms = q.since_ms;
	arms = calloc(CANARY__ARMS, sizeof(*arms)); /* ~9 KiB each: not the stack */
	if (!arms)
		return cs_reply_code(r, c, CANARY_ENOMEM);
	rc = cs_store_stats(r->srv->store, r->key, &f, arms);
	if (rc != CANARY_OK) {
		free(arms);
		return cs_reply_code(r, c, rc);
	}
	doc = cs_stats_to_json(r->key, &f, arms);
	free(arms);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}

/* {"name", "role"} of the caller's credential (http/auth.h). */
enum MHD_Result cs_handle_admin_whoami(cs_request *r, struct MHD_Connection *c)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc && (!cJSON_AddStringToObject(doc, "name", r->who.name) ||
	    !cJSON_AddStringToObject(doc, "role",
		    cs_role_name(r->who.role)))) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	return cs_reply_json(r, c, MHD_HTTP_OK, doc);
}
