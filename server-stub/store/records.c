/*
 * records.c - the stored text of flags, segments, rollout specs and
 * decisions.
 */
#include "store/records.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"
#include "logline.h"
#include "parse/admin_parse.h"

/* Print `obj` (consumed) into *out. */
static int print(cJSON *obj, char **out)
{
	*out = obj ? cJSON_PrintUnformatted(obj) : NULL;
	cJSON_Delete(obj);
	return *out ? CANARY_OK : CANARY_ENOMEM;
}

int cs_record_flag_write(const canary__flag *f, char **out)
{
	return print(canary__flag_to_json(f), out);
}

int cs_record_flag_read(const char *text, size_t len, canary__flag *out)
{
	canary__json_reader r;
	cJSON *obj = cJSON_ParseWithLength(text, len);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return CS_EUNREADABLE;
	canary__json_reader_init(&r, 0, NULL);
	rc = canary__flag_from_json(canary__alloc_default(), &r, obj, "flag",
		out);
	cJSON_Delete(obj);
	if (rc == CANARY_ENOMEM)
		return rc;
	return rc == CANARY_OK ? CANARY_OK : CS_EUNREADABLE;
}

bool cs_record_flag_same(const canary__flag *a, const canary__flag *b)
{
	char *ta = NULL, *tb = NULL;
	bool same = cs_record_flag_write(a, &ta) == CANARY_OK &&
		cs_record_flag_write(b, &tb) == CANARY_OK && strcmp(ta, tb) == 0;

	cJSON_free(ta);
	cJSON_free(tb);
	return same;
}

int cs_record_segment_write(const canary__segdef *seg, char **out)
{
	return print(canary__segdef_to_json(seg), out);
}

int cs_record_segment_read(const char *text, size_t len, canary__segdef *out)
{
	canary__json_reader r;
	cJSON *obj = cJSON_ParseWithLength(text, len);
	int rc;

	memset(out, 0, sizeof(*out));
	if (!obj)
		return CANARY_ESTORAGE;
	canary__json_reader_init(&r, 0, NULL);
	rc = canary__segdef_from_json(canary__alloc_default(), &r, obj,
		"segment", out);
	cJSON_Delete(obj);
	if (rc == CANARY_ENOMEM)
		return rc;
	return rc == CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
}

void cs_unreadable_init(cs_unreadable *u)
{
	memset(u, 0, sizeof(*u));
	pthread_mutex_init(&u->lock, NULL);
}

void cs_unreadable_destroy(cs_unreadable *u)
{
	pthread_mutex_destroy(&u->lock);
}

void cs_unreadable_note(cs_unreadable *u, uint64_t count, const char *key)
{
	bool changed;

	pthread_mutex_lock(&u->lock);
	changed = count != u->count;
	u->count = count;
	snprintf(u->example, sizeof(u->example), "%s", count ? key : "");
	pthread_mutex_unlock(&u->lock);
	if (changed && count)
		cs_log(CS_LOG_WARN, NULL, "%llu flag row%s cannot be read back "
			"and %s left out of the config (e.g. \"%.64s\"); PUT or "
			"DELETE %s to repair", (unsigned long long)count,
			count == 1 ? "" : "s", count == 1 ? "is" : "are", key,
			count == 1 ? "it" : "them");
	else if (changed)
		cs_log(CS_LOG_INFO, NULL, "every flag row can be read again");
}

cs_health cs_unreadable_health(cs_unreadable *u, char *why, size_t whylen)
{
	cs_health h = CS_HEALTH_OK;

	pthread_mutex_lock(&u->lock);
	if (u->count) {
		h = CS_HEALTH_DEGRADED;
		snprintf(why, whylen, "%llu flag row%s cannot be read (e.g. "
			"\"%s\")", (unsigned long long)u->count,
			u->count == 1 ? "" : "s", u->example);
	}
	pthread_mutex_unlock(&u->lock);
	return h;
}

int cs_record_spec_write(const cs_rollout_spec *s, char **out)
{
	return print(cs_rollout_spec_to_json(s), out);
}

static void copy_str(char *dst, size_t cap, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (n >= cap)
		n = cap - 1;
	memcpy(dst, src ? src : "", n);
	dst[n] = '\0';
}

int cs_record_rollout_read(const cs_rollout_row *row, cs_rollout *out)
{
	const char *spec = row->spec ? row->spec : "";
	canary__perror e;

	memset(out, 0, sizeof(*out));
	if (cs_rollout_parse(spec, strlen(spec), NULL, &out->spec, &e) !=
	    CANARY_OK ||
	    cs_rollout_status_parse(row->state ? row->state : "",
		    &out->status) != 0 ||
	    row->step < 0 || (size_t)row->step >= out->spec.nsteps)
		return CANARY_ESTORAGE;
	out->id = row->id;
	copy_str(out->flag, sizeof(out->flag), row->flag);
	out->step = (size_t)row->step;
	out->step_start_ms = row->step_start_ms;
	out->step_version = row->step_version;
	copy_str(out->reason, sizeof(out->reason), row->reason);
	out->created_ms = row->created_ms;
	out->updated_ms = row->updated_ms;
	out->rev = row->rev;
	out->pass_since_ms = row->pass_since_ms;
	out->alert_since_ms = row->alert_since_ms;
	out->prev_step_version = row->prev_step_version;
	return CANARY_OK;
}

int cs_record_decision_write(const char *decision, uint64_t config_version,
	char **out)
{
	cJSON *obj = cJSON_ParseWithLength(decision, strlen(decision));

	*out = NULL;
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return CANARY_EINVAL;
	}
	if (!cJSON_AddNumberToObject(obj, "config_version",
		    (double)config_version)) {
		cJSON_Delete(obj);
		return CANARY_ENOMEM;
	}
	return print(obj, out);
}

/* ---- audit records ---------------------------------------------------- */

const char *cs_record_audit_action(const cs_audit_rec *rec)
{
	if (rec->audit && rec->audit->action)
		return rec->audit->action;
	if ((rec->flag_before || rec->flag_unreadable) && !rec->flag_after)
		return "flag.delete";
	if (!rec->flag_before && !rec->flag_unreadable && rec->flag_after)
		return "flag.create";
	if (rec->flag_unreadable)
		return "flag.update";
	if (rec->flag_before)
		return "flag.update";
	if (rec->segment_before || rec->segment_after)
		return !rec->segment_after ? "segment.delete" :
			!rec->segment_before ? "segment.create" :
			"segment.update";
	return "note";
}

const char *cs_record_audit_segment(const cs_audit_rec *rec)
{
	if (rec->segment_after)
		return rec->segment_after->name;
	return rec->segment_before ? rec->segment_before->name : "";
}

const char *cs_record_audit_event(const cs_audit_rec *rec)
{
	if (rec->audit && rec->audit->event)
		return rec->audit->event;
	if (!rec->segment_before && !rec->segment_after)
		return NULL;
	return !rec->segment_after ? "segment_deleted" :
		!rec->segment_before ? "segment_created" : "segment_updated";
}

/* "flags": the keys in `users`, for a segment change. */
static bool add_users(cJSON *obj, const cs_flag_keys *users)
{
	cJSON *arr = cJSON_AddArrayToObject(obj, "flags");
	size_t i;

	for (i = 0; arr && users && i < users->n; i++)
		if (!cJSON_AddItemToArray(arr,
			    cJSON_CreateString(users->keys[i])))
			return false;
	return arr != NULL;
}

/* The members of two flags that differ, into `before` and `after`. */
static bool flag_diff(const canary__flag *a, const canary__flag *b,
	cJSON *before, cJSON *after)
{
	cJSON *ja = canary__flag_to_json(a), *jb = canary__flag_to_json(b);
	const cJSON *m;
	bool ok = ja && jb;

	cJSON_ArrayForEach(m, ja) {
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(jb, m->string);

		if (!ok || (o && cJSON_Compare(m, o, 1)))
			continue;
		ok = cJSON_AddItemToObject(before, m->string,
			cJSON_Duplicate(m, 1)) &&
		     cJSON_AddItemToObject(after, m->string,
			o ? cJSON_Duplicate(o, 1) : cJSON_CreateNull());
	}
	cJSON_ArrayForEach(m, jb) {
		if (ok && !cJSON_GetObjectItemCaseSensitive(ja, m->string))
			ok = cJSON_AddItemToObject(before, m->string,
				cJSON_CreateNull()) &&
			     cJSON_AddItemToObject(after, m->string,
				cJSON_Duplicate(m, 1));
	}
	cJSON_Delete(ja);
	cJSON_Delete(jb);
	return ok;
}

static cJSON *token_json(const cs_token *t)
{
	cJSON *o = cJSON_CreateObject();

	if (o && (!cJSON_AddStringToObject(o, "name", t->name) ||
		  !cJSON_AddStringToObject(o, "role", t->role))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* A webhook as the record shows it: never its secret, and of its URL
 * only the origin (a webhook URL's path is often a secret too). */
static cJSON *webhook_json(const cs_webhook *w)
{
	cJSON *o = cJSON_CreateObject();
	char origin[300];

	cs_url_origin(w->url, origin, sizeof(origin));
	if (o && (!cJSON_AddNumberToObject(o, "id", (double)w->id) ||
		  !cJSON_AddStringToObject(o, "url", origin) ||
		  !cJSON_AddStringToObject(o, "events", w->events))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

/* `obj`[name] = x, or null when x is NULL (absent before or after). */
static bool add_or_null(cJSON *obj, const char *name, cJSON *x, bool want)
{
	if (!want)
		return cJSON_AddNullToObject(obj, name) != NULL;
	return x && cJSON_AddItemToObject(obj, name, x);
}

/* "before" and "after" of whatever the record is about. */
static bool add_subject(cJSON *obj, const cs_audit_rec *rec)
{
	cJSON *before, *after;

	if (rec->flag_before && rec->flag_after) {
		before = cJSON_AddObjectToObject(obj, "before");
		after = cJSON_AddObjectToObject(obj, "after");
		return before && after && flag_diff(rec->flag_before,
			rec->flag_after, before, after);
	}
	if (rec->flag_before || rec->flag_after)
		return add_or_null(obj, "before", rec->flag_before ?
			canary__flag_to_json(rec->flag_before) : NULL,
			rec->flag_before) &&
		       add_or_null(obj, "after", rec->flag_after ?
			canary__flag_to_json(rec->flag_after) : NULL,
			rec->flag_after);
	if (rec->token_before || rec->token_after)
		return add_or_null(obj, "before", rec->token_before ?
			token_json(rec->token_before) : NULL,
			rec->token_before) &&
		       add_or_null(obj, "after", rec->token_after ?
			token_json(rec->token_after) : NULL, rec->token_after);
	if (rec->webhook_before || rec->webhook_after)
		return add_or_null(obj, "before", rec->webhook_before ?
			webhook_json(rec->webhook_before) : NULL,
			rec->webhook_before) &&
		       add_or_null(obj, "after", rec->webhook_after ?
			webhook_json(rec->webhook_after) : NULL,
			rec->webhook_after);
	if (rec->segment_before || rec->segment_after)
		return add_or_null(obj, "before", rec->segment_before ?
			canary__segdef_to_json(rec->segment_before) : NULL,
			rec->segment_before) &&
		       add_or_null(obj, "after", rec->segment_after ?
			canary__segdef_to_json(rec->segment_after) : NULL,
			rec->segment_after);
	return true;
}

/* Where a rollout stands, as the record shows it. */
static cJSON *rollout_point(const cs_rollout *r)
{
	cJSON *o = cJSON_CreateObject();
	double pct = r->status == CJ_ROLLED_BACK || r->step >= r->spec.nsteps ?
		0 : r->spec.steps_bp[r->step] / 100.0;

	if (o && (!cJSON_AddStringToObject(o, "state",
			  cj_status_name(r->status)) ||
		  !cJSON_AddNumberToObject(o, "step", (double)r->step) ||
		  !cJSON_AddNumberToObject(o, "percent", pct))) {
		cJSON_Delete(o);
		return NULL;
	}
	return o;
}

static bool add_rollout(cJSON *obj, const cs_audit_rec *rec)
{
	const cs_rollout *r = rec->rollout_after ? rec->rollout_after :
		rec->rollout_before;
	cJSON *ro;

	if (!r)
		return true;
	ro = cJSON_AddObjectToObject(obj, "rollout");
	return ro && cJSON_AddNumberToObject(ro, "id", (double)r->id) &&
	       add_or_null(ro, "before", rec->rollout_before ?
		       rollout_point(rec->rollout_before) : NULL,
		       rec->rollout_before) &&
	       add_or_null(ro, "after", rec->rollout_after ?
		       rollout_point(rec->rollout_after) : NULL,
		       rec->rollout_after);
}

int cs_record_audit_write(const cs_audit_rec *rec, char **out)
{
	const cs_audit *a = rec->audit;
	cJSON *obj = cJSON_CreateObject();
	bool ok = obj &&
		cJSON_AddNumberToObject(obj, "time_ms", (double)rec->time_ms) &&
		cJSON_AddStringToObject(obj, "actor", a && a->actor ? a->actor :
			"") &&
		cJSON_AddStringToObject(obj, "action",
			cs_record_audit_action(rec)) &&
		(rec->flag ? cJSON_AddStringToObject(obj, "flag", rec->flag) :
			cJSON_AddNullToObject(obj, "flag")) &&
		cJSON_AddNumberToObject(obj, "config_version",
			(double)rec->config_version);

	if (ok && (rec->segment_before || rec->segment_after))
		ok = cJSON_AddStringToObject(obj, "segment",
			cs_record_audit_segment(rec)) &&
		     add_users(obj, rec->segment_users);
	if (ok && a && a->forced)
		ok = cJSON_AddTrueToObject(obj, "forced") != NULL;
	if (ok && a && a->reason && *a->reason)
		ok = cJSON_AddStringToObject(obj, "reason", a->reason) != NULL;
	if (ok && cs_record_audit_event(rec))
		ok = cJSON_AddStringToObject(obj, "event",
			cs_record_audit_event(rec)) != NULL;
	ok = ok && add_subject(obj, rec) && add_rollout(obj, rec);
	if (!ok) {
		cJSON_Delete(obj);
		*out = NULL;
		return CANARY_ENOMEM;
	}
	return print(obj, out);
}

int cs_record_segment_guard(const cs_audit *audit, const cs_rollout *live,
	const char *flag)
{
	if (!audit || !audit->guard || audit->forced || !cs_rollout_live(live))
		return CANARY_OK;
	audit->guard->rollout_id = live->id;
	copy_str(audit->guard->state, sizeof(audit->guard->state),
		cj_status_name(live->status));
	copy_str(audit->guard->field, sizeof(audit->guard->field), "segments");
	copy_str(audit->guard->flag, sizeof(audit->guard->flag), flag);
	return CS_EGUARDED;
}

int cs_record_payload_write(const char *json, int64_t id, char **out)
{
	cJSON *obj = cJSON_ParseWithLength(json, strlen(json));

	*out = NULL;
	if (!cJSON_IsObject(obj)) {
		cJSON_Delete(obj);
		return CANARY_EINVAL;
	}
	if (!cJSON_AddNumberToObject(obj, "id", (double)id)) {
		cJSON_Delete(obj);
		return CANARY_ENOMEM;
	}
	return print(obj, out);
}

int cs_record_guard(const cs_audit *audit, const cs_rollout *live,
	const canary__flag *cur, const canary__flag *next)
{
	const char *field = cs_rollout_guarded_field(cur, next);

	if (!audit || !audit->guard || audit->forced || !field ||
	    !cs_rollout_live(live))
		return CANARY_OK;
	audit->guard->rollout_id = live->id;
	copy_str(audit->guard->state, sizeof(audit->guard->state),
		cj_status_name(live->status));
	copy_str(audit->guard->field, sizeof(audit->guard->field), field);
	return CS_EGUARDED;
}
