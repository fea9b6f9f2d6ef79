/*
 * records.c - the stored text of flags, rollout specs and decisions.
 */
#include "store/records.h"

#include <cjson/cJSON.h>
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
		return CANARY_ESTORAGE;
	canary__json_reader_init(&r, 0, NULL);
	rc = canary__flag_from_json(canary__alloc_default(), &r, obj, "flag",
		out);
	cJSON_Delete(obj);
	return rc == CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
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
