/*
 * records.c - the stored text of flags, rollout specs and decisions.
 */
#include "store/records.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>

#include "alloc.h"

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
		fprintf(stderr, "canary-server: %llu flag row%s cannot be read "
			"back and %s left out of the config (e.g. \"%.64s\"); "
			"PUT or DELETE %s to repair\n", (unsigned long long)count,
			count == 1 ? "" : "s", count == 1 ? "is" : "are", key,
			count == 1 ? "it" : "them");
	else if (changed)
		fprintf(stderr, "canary-server: every flag row can be read "
			"again\n");
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
