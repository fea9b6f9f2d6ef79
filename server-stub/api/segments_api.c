/*
 * segments_api.c - /v1/admin/segments[/{name}]: named segments, the
 * constraints flags share (docs/targeting.md). Written (PUT), read (GET:
 * one, or all with the flags that name each), deleted (DELETE: refused
 * while a flag names it). A segment change is a config change: the store
 * bumps the version, audits it and publishes to /v1/flags and every
 * stream before we reply.
 */
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "api/api.h"
#include "http/reply.h"
#include "logline.h"
#include "parse/admin_parse.h"
#include "store/segment_use.h"
#include "server.h"

/* The segment's JSON with "flags": the keys of those of `cfg` that name
 * it. */
static cJSON *segment_json(const canary__segdef *seg,
	const canary__config *cfg)
{
	cJSON *o = canary__segdef_to_json(seg);
	cJSON *flags = o ? cJSON_AddArrayToObject(o, "flags") : NULL;
	size_t i;

	for (i = 0; flags && cfg && i < cfg->count; i++)
		if (cs_flag_uses_segment(&cfg->flags[i], seg->name) &&
		    !cJSON_AddItemToArray(flags,
			    cJSON_CreateString(cfg->flags[i].key)))
			flags = NULL;
	if (!flags) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* {"version": v, member: x} (x consumed; NULL: out of memory). */
static cJSON *doc_of(uint64_t version, const char *member, cJSON *x)
{
	cJSON *doc = x ? cJSON_CreateObject() : NULL;

	if (!doc || !cJSON_AddNumberToObject(doc, "version", (double)version) ||
	    !cJSON_AddItemToObject(doc, member, x)) {
		cJSON_Delete(doc);
		cJSON_Delete(x);
		return NULL;
	}
	return doc;
}

static enum MHD_Result list_segments(cs_request *r, struct MHD_Connection *c)
{
	canary__segdef *segs = NULL;
	canary__config *cfg = NULL;
	size_t n = 0, i;
	cJSON *arr;
	int rc = cs_store_segment_list(r->srv->store, &segs, &n);

	if (rc == CANARY_OK)
		rc = cs_store_config(r->srv->store, &cfg);
	if (rc != CANARY_OK) {
		cs_segdefs_free(segs, n);
		return cs_reply_code(r, c, rc);
	}
	arr = cJSON_CreateArray();
	for (i = 0; arr && i < n; i++)
		if (!cJSON_AddItemToArray(arr, segment_json(&segs[i], cfg))) {
			cJSON_Delete(arr);
			arr = NULL;
		}
	cs_segdefs_free(segs, n);
	canary__config_free(canary__alloc_default(), cfg);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc_of(
		cs_flags_cache_version(r->srv->cache), "segments", arr));
}

enum MHD_Result cs_handle_admin_segments(cs_request *r,
	struct MHD_Connection *c)
{
	return list_segments(r, c);
}

static enum MHD_Result no_segment(cs_request *r, struct MHD_Connection *c)
{
	char msg[160];

	snprintf(msg, sizeof(msg), "no segment \"%s\"", r->key);
	return cs_reply_error(r, c, MHD_HTTP_NOT_FOUND, msg, "name");
}

/* The segment `name` and the flags that name it. */
static enum MHD_Result segment_doc(cs_request *r, struct MHD_Connection *c,
	unsigned int status, uint64_t version)
{
	canary__segdef seg;
	canary__config *cfg = NULL;
	int rc = cs_store_segment_get(r->srv->store, r->key, &seg);
	enum MHD_Result ret;

	if (rc == CS_ENOTFOUND)
		return no_segment(r, c);
	if (rc == CANARY_OK)
		rc = cs_store_config(r->srv->store, &cfg);
	if (rc != CANARY_OK) {
		canary__segdef_clear(canary__alloc_default(), &seg);
		return cs_reply_code(r, c, rc);
	}
	ret = cs_reply_json(r, c, status, doc_of(version ? version :
		cs_flags_cache_version(r->srv->cache), "segment",
		segment_json(&seg, cfg)));
	canary__segdef_clear(canary__alloc_default(), &seg);
	canary__config_free(canary__alloc_default(), cfg);
	return ret;
}

/* The line a segment change is worth. */
static void say(const cs_request *r, const char *event, const char *what,
	bool forced, uint64_t version)
{
	cs_log_about about = { event, r->who.name, NULL, version };

	cs_log(CS_LOG_INFO, &about, "segment %s %s by %s%s (config version "
		"%llu)", r->key, what, r->who.name, forced ? ", forced past a "
		"live rollout's guard" : "", (unsigned long long)version);
}

/* 409: a live rollout of a flag that names the segment. */
static enum MHD_Result guarded(cs_request *r, struct MHD_Connection *c,
	const cs_guard *g)
{
	char msg[640];

	snprintf(msg, sizeof(msg), "the %s rollout %lld of %s owns its "
		"segments (it names segment %s): pause or roll it back first, "
		"or send \"force\": true (recorded in the audit log)", g->state,
		(long long)g->rollout_id, g->flag, r->key);
	return cs_reply_error(r, c, MHD_HTTP_CONFLICT, msg, "constraints");
}

static enum MHD_Result put_segment(cs_request *r, struct MHD_Connection *c)
{
	canary__segdef seg;
	canary__perror e;
	cs_audit audit;
	cs_guard g;
	bool force = false, created = false;
	uint64_t version = 0, before;
	int rc = cs_admin_parse_segment(r->body, r->len, r->key, &seg, &force,
		&e);

	if (rc == CANARY_EPARSE)
		return cs_reply_perror(r, c, &e);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	memset(&audit, 0, sizeof(audit));
	memset(&g, 0, sizeof(g));
	audit.actor = r->who.name;
	audit.forced = force;
	audit.guard = &g;
	before = cs_flags_cache_version(r->srv->cache);
	rc = cs_store_segment_put(r->srv->store, &seg, &audit, &created,
		&version);
	canary__segdef_clear(canary__alloc_default(), &seg);
	if (rc == CS_EGUARDED)
		return guarded(r, c, &g);
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	/* A PUT that changes nothing makes no version, and no line. */
	if (version > before)
		say(r, created ? "segment.create" : "segment.update", created ?
			"created" : "replaced", force, version);
	return segment_doc(r, c, created ? MHD_HTTP_CREATED : MHD_HTTP_OK,
		version);
}

static enum MHD_Result delete_segment(cs_request *r, struct MHD_Connection *c)
{
	char users[512], msg[700];
	cs_audit audit;
	uint64_t version = 0;
	int rc;

	memset(&audit, 0, sizeof(audit));
	audit.actor = r->who.name;
	rc = cs_store_segment_delete(r->srv->store, r->key, &audit, users,
		sizeof(users), &version);
	if (rc == CS_ENOTFOUND)
		return no_segment(r, c);
	if (rc == CS_EINUSE) {
		snprintf(msg, sizeof(msg), "segment %s is named by flags %s: "
			"remove it from them first", r->key, users);
		return cs_reply_error(r, c, MHD_HTTP_CONFLICT, msg, "name");
	}
	if (rc != CANARY_OK)
		return cs_reply_code(r, c, rc);
	say(r, "segment.delete", "deleted", false, version);
	return cs_reply_json(r, c, MHD_HTTP_OK, doc_of(version, "deleted",
		cJSON_CreateString(r->key)));
}

enum MHD_Result cs_handle_admin_segment(cs_request *r,
	struct MHD_Connection *c)
{
	canary__perror e;

	if (cs_admin_check_segment_name(r->key, "name", &e) != CANARY_OK)
		return cs_reply_perror(r, c, &e);
	if (strcmp(r->method, "PUT") == 0)
		return put_segment(r, c);
	if (strcmp(r->method, "DELETE") == 0)
		return delete_segment(r, c);
	return segment_doc(r, c, MHD_HTTP_OK, 0);
}
