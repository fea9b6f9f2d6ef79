/*
 * admin_api.c - /v1/admin/: flags CRUD, per-arm stats, and who the caller
 * is.
 *
 * Every change goes through the store, which bumps the config version and
 * publishes it (to /v1/flags and every open stream) before we reply.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/api.h"
#include "api/stats_json.h"
#include "clock.h"
#include "http/reply.h"
#include "logline.h"
#include "parse/admin_parse.h"
#include "rollout/controller.h"
#include "rollout/controller_json.h"
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

/* The audit of a flag change by the caller; with `guard`, a live
 * rollout's fields are guarded (unless forced). */
static void audit_of(const cs_request *r, cs_audit *a, bool forced,
	cs_guard *guard)
{
	memset(a, 0, sizeof(*a));
	a->actor = r->who.name;
	a->forced = forced;
	a->guard = guard;
	if (guard)
		memset(guard, 0, sizeof(*guard));
}

/* 409: a live rollout owns a field the change touches. */
static enum MHD_Result guarded(cs_request *r, struct MHD_Connection *c,
	const char *flag, const cs_guard *g)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "the %s rollout %lld of %s owns %s: pause "
		"or roll it back first, or send \"force\": true (recorded in "
		"the audit log)", g->state, (long long)g->rollout_id, flag,
		g->field);
	return cs_reply_error(r, c, MHD_HTTP_CONFLICT, msg, g->field);
}

/* The line a flag change is worth. */
static void say(const cs_request *r, const char *event, const char *key,
	const char *what, bool forced, uint64_t version)
{
	cs_log_about about = { event, r->who.name, key, version };

	cs_log(CS_LOG_INFO, &about, "flag %s %s by %s%s (config version %llu)",
		key, what, r->who.name, forced ? ", forced past its live "
		"rollout's guard" : "", (unsigned long long)version);
}

/* 400 naming the first segment `f` names that does not exist (the
 * store refused it inside its transaction: CS_ENOSEGMENT). */
static enum MHD_Result unknown_segment(cs_request *r,
	struct MHD_Connection *c, const canary__flag *f)
{
	canary__segdef seg;
	char field[32], msg[128 + CANARY__RULE_MAX_NAME];
	size_t i;

	for (i = 0; i < f->target.segments.count; i++) {
		const char *name = f->target.segments.items[i];
		int rc = cs_store_segment_get(r->srv->store, name, &seg);

		canary__segdef_clear(canary__alloc_default(), &seg);
		if (rc != CS_ENOTFOUND)
			continue;
		snprintf(field, sizeof(field), "segments[%zu]", i);
		snprintf(msg, sizeof(msg), "unknown segment \"%s\" (PUT "
			"/v1/admin/segments/%s first)", name, name);
		return cs_reply_error(r, c, MHD_HTTP_BAD_REQUEST, msg, field);
	}
	return cs_reply_code(r, c, CS_ENOSEGMENT);
}

/* POST (path_key NULL) and PUT share this: parse, then write. */
static enum MHD_Result put_flag(cs_request *r, struct MHD_Connection *c,
	const char *path_key, cs_put_mode mode)
{
	canary__flag flag;
	cs_flag_request req;
	canary__perror e;
	cs_audit audit;
	cs_guard g;
	bool created = false;
	uint64_t version = 0, before;
	int rc = cs_admin_parse_flag(r->body, r->len, path_key, &flag, &e);
	enum MHD_Result ret;

	if (rc == CANARY_OK)
		rc = cs_admin_parse_request(r->body, r->len, &req, &e);
	if (rc == CANARY_EPARSE) {
		canary__flag_clear(canary__alloc_default(), &flag);
		return cs_reply_perror(r, c, &e);
	}
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	audit_of(r, &audit, req.force, &g);
	before = cs_flags_cache_version(r->srv->cache);
	rc = cs_store_flag_put(r->srv->store, &flag, mode, &audit, &created,
		&version);
	if (rc == CS_EGUARDED)
		ret = guarded(r, c, flag.key, &g);
	else if (rc == CS_ENOSEGMENT)
		ret = unknown_segment(r, c, &flag);
	else if (rc != CANARY_OK)
		ret = cs_reply_code(r, c, rc);
	else
		ret = cs_reply_json(r, c, created ? MHD_HTTP_CREATED :
			MHD_HTTP_OK, flag_doc(&flag, version));
	/* A PUT that changes nothing makes no version, and no line. */
	if (rc == CANARY_OK && version > before)
		say(r, created ? "flag.create" : "flag.update", flag.key,
			created ? "created" : "replaced", req.force, version);
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

/* The flag's document after a change. */
static enum MHD_Result changed_flag(cs_request *r, struct MHD_Connection *c,
	uint64_t version)
{
	canary__flag flag;
	enum MHD_Result ret;
	int rc = cs_store_flag_get(r->srv->store, r->key, &flag);

	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	ret = cs_reply_json(r, c, MHD_HTTP_OK, flag_doc(&flag, version));
	canary__flag_clear(canary__alloc_default(), &flag);
	return ret;
}

/*
 * The kill switch turned off under a live rollout: the flag change and
 * the rollout's end (rolled back, share 0) in one change, through the
 * controller. CS_ENOROLLOUT when there is no live rollout to end.
 */
static int kill_switch(cs_request *r, patch_ctx *p, uint64_t *version,
	char *why, size_t whylen)
{
	int rc = cs_controller_kill(r->srv->controller, r->key, apply_patch,
		p, canary__wall_ms(), r->who.name, why, whylen);

	*version = cs_flags_cache_version(r->srv->cache);
	return rc;
}

/* 400 naming the segment a PATCH named that does not exist: the store
 * said only that one does not, so the patch is applied again to find it. */
static enum MHD_Result patch_unknown_segment(cs_request *r,
	struct MHD_Connection *c)
{
	canary__flag cur, next;
	canary__perror e;
	enum MHD_Result ret;

	if (cs_store_flag_get(r->srv->store, r->key, &cur) != CANARY_OK)
		return cs_reply_code(r, c, CS_ENOSEGMENT);
	if (cs_admin_patch_flag(&cur, r->body, r->len, &next, &e) !=
	    CANARY_OK) {
		canary__flag_clear(canary__alloc_default(), &cur);
		return cs_reply_code(r, c, CS_ENOSEGMENT);
	}
	ret = unknown_segment(r, c, &next);
	canary__flag_clear(canary__alloc_default(), &next);
	canary__flag_clear(canary__alloc_default(), &cur);
	return ret;
}

static enum MHD_Result patch_flag(cs_request *r, struct MHD_Connection *c)
{
	cs_flag_request req;
	patch_ctx p;
	cs_audit audit;
	cs_guard g;
	char why[256] = "";
	uint64_t version = 0, before;
	bool quiet = false;
	int rc = cs_admin_parse_request(r->body, r->len, &req, &p.e);

	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &p.e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	/* An operator may use the kill switch, nothing else. */
	if (!req.kill_switch_only && r->who.role < CS_ROLE_ADMIN)
		return cs_reply_error(r, c, MHD_HTTP_FORBIDDEN, "an operator "
			"may change \"enabled\" (the kill switch) only; the rest "
			"needs the admin role", NULL);
	memset(&p, 0, sizeof(p));
	p.r = r;
	rc = CS_ENOROLLOUT;
	if (req.enabled == 0)
		rc = kill_switch(r, &p, &version, why, sizeof(why));
	if (rc == CANARY_OK) /* the controller said it */
		return changed_flag(r, c, version);
	if (rc == CS_ENOROLLOUT) {
		audit_of(r, &audit, req.force, &g);
		/* The record names the kill switch as the log line does, with
		 * or without a rollout to end (docs/server.md, "The audit
		 * log"). */
		if (req.kill_switch_only)
			audit.action = "flag.kill_switch";
		before = cs_flags_cache_version(r->srv->cache);
		rc = cs_store_flag_modify(r->srv->store, r->key, apply_patch,
			&p, &audit, &version);
		/* A PATCH that changes nothing makes no version, no line. */
		quiet = rc == CANARY_OK && version <= before;
	}
	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &p.e);
	if (rc == CS_EGUARDED)
		return guarded(r, c, r->key, &g);
	if (rc == CS_ENOSEGMENT)
		return patch_unknown_segment(r, c);
	if (rc == CS_ECONFLICT)
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT, why, "key");
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	if (!quiet)
		say(r, req.kill_switch_only ? "flag.kill_switch" :
			"flag.update", r->key, req.enabled == 0 ? "turned off" :
			req.enabled == 1 && req.kill_switch_only ? "turned on" :
			"updated", req.force, version);
	return changed_flag(r, c, version);
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
	cs_audit audit;
	uint64_t version = 0;
	int rc;

	audit_of(r, &audit, false, NULL);
	rc = cs_store_flag_delete(r->srv->store, r->key, &audit, &version);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	say(r, "flag.delete", r->key, "deleted", false, version);
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
	cs_metric_sum *sums = NULL;
	size_t nsums = 0;
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
	if (rc == CANARY_OK)
		rc = cs_store_metric_sums(r->srv->store, r->key, &f, &sums,
			&nsums);
	if (rc != CANARY_OK) {
		free(arms);
		return cs_reply_code(r, c, rc);
	}
	doc = cs_stats_to_json(r->key, &f, arms);
	if (doc && !cs_custom_metrics_to_json(doc, sums, nsums)) {
		cJSON_Delete(doc);
		doc = NULL;
	}
	free(sums);
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
