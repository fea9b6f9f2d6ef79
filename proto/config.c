/*
 * config.c - parse and validate the protocol v1 flag config, and encode it
 * (see config.h).
 */
#include "config.h"

#include <cjson/cJSON.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The members of a flag object, in the order flag_members() reads them. */
enum { F_KEY, F_SALT, F_ROLLOUT, F_ENABLED, F_ALLOW, F_DENY, F_VARIANTS,
	F_STATE, F_CONSTRAINTS, F_SEGMENTS, F_STICKINESS, F_COUNT };
static const char *const flag_names[F_COUNT] = { "key", "salt",
	"rollout_bp", "enabled", "allow", "deny", "variants", "state",
	"constraints", "segments", "stickiness" };

/* A copy of the string member `item` (absent: `dflt`). */
static int copy_string(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, const char *path, const char *name, const char *dflt,
	size_t max, char **out)
{
	const char *value;
	int rc = canary__json_string(r, item, path, name, max, &value);

	if (rc != CANARY_OK)
		return rc;
	*out = canary__strdup(a, value ? value : dflt);
	return *out ? CANARY_OK : canary__perror_oom(r->err);
}

void canary__flag_clear(const canary__alloc *a, canary__flag *flag)
{
	if (!flag)
		return;
	canary__free(a, flag->key);
	canary__free(a, flag->salt);
	canary__strlist_clear(a, &flag->allow);
	canary__strlist_clear(a, &flag->deny);
	canary__free(a, flag->variant_stable);
	canary__free(a, flag->variant_canary);
	canary__free(a, flag->state);
	canary__target_clear(a, &flag->target);
	memset(flag, 0, sizeof(*flag));
}

static int get_variants(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, const char *path, canary__flag *out)
{
	static const char *const names[] = { "stable", "canary" };
	const cJSON *obj, *m[2] = { NULL, NULL };
	char at[CANARY__PERR_FIELD];
	int rc = canary__json_object(r, item, path, "variants", &obj);

	canary__path_member(at, sizeof(at), path, "variants");
	if (rc == CANARY_OK && obj)
		rc = canary__json_members(r, obj, at, names, 2, m);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[0], at, "stable", "",
			CANARY__MAX_VARIANT_LEN, &out->variant_stable);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[1], at, "canary", "",
			CANARY__MAX_VARIANT_LEN, &out->variant_canary);
	return rc;
}

/* Every member but the key (which the salt defaults to). */
static int flag_members(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *m[F_COUNT], const char *path, canary__config *config,
	canary__flag *out)
{
	canary__target_members t;
	uint64_t bp = 0;
	int rc;

	rc = copy_string(a, r, m[F_SALT], path, "salt", out->key,
		CANARY__MAX_KEY_LEN, &out->salt);
	if (rc == CANARY_OK)
		rc = canary__json_uint(r, m[F_ROLLOUT], path, "rollout_bp",
			10000, true, &bp);
	out->rollout_bp = (uint32_t)bp;
	out->enabled = true;
	if (rc == CANARY_OK)
		rc = canary__json_bool(r, m[F_ENABLED], path, "enabled",
			&out->enabled);
	if (rc == CANARY_OK)
		rc = canary__strlist_read(a, r, m[F_ALLOW], path, "allow",
			CANARY__MAX_UNIT_LEN, &out->allow);
	if (rc == CANARY_OK)
		rc = canary__strlist_read(a, r, m[F_DENY], path, "deny",
			CANARY__MAX_UNIT_LEN, &out->deny);
	if (rc == CANARY_OK)
		rc = get_variants(a, r, m[F_VARIANTS], path, out);
	if (rc == CANARY_OK)
		rc = copy_string(a, r, m[F_STATE], path, "state", "",
			CANARY__MAX_STATE_LEN, &out->state);
	t.constraints = m[F_CONSTRAINTS];
	t.segments = m[F_SEGMENTS];
	t.stickiness = m[F_STICKINESS];
	if (rc == CANARY_OK)
		rc = canary__target_read(a, r, &t, path,
			config ? &config->segments : NULL, &out->target);
	return rc;
}

/* A flag of `config` (its targeting compiled into it), or alone (NULL). */
static int flag_read(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *obj, const char *path, canary__config *config,
	canary__flag *out)
{
	const cJSON *m[F_COUNT];
	const char *key;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__json_members(r, obj, path, flag_names, F_COUNT, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(r, m[F_KEY], path, "key",
			CANARY__MAX_KEY_LEN, &key);
	if (rc == CANARY_OK && !(out->key = canary__strdup(a, key)))
		rc = canary__perror_oom(r->err);
	if (rc == CANARY_OK)
		rc = flag_members(a, r, m, path, config, out);
	if (rc != CANARY_OK)
		canary__flag_clear(a, out);
	return rc;
}

int canary__flag_from_json(const canary__alloc *a,
	const canary__json_reader *r, const cJSON *obj, const char *path,
	canary__flag *out)
{
	return flag_read(a, r, obj, path, NULL, out);
}

void canary__config_free(const canary__alloc *a, canary__config *config)
{
	size_t i;

	if (!config)
		return;
	for (i = 0; !config->arena && !config->engine && i < config->count; i++)
		canary__flag_clear(a, &config->flags[i]);
	canary__segtable_clear(a, &config->segments);
	if (config->engine && config->engine_free)
		config->engine_free(config->engine);
	canary__free(a, config->arena);
	canary__free(a, config->flags);
	canary__delete(a, config, canary__config);
}

static int cmp_flag_key(const void *x, const void *y)
{
	return strcmp(((const canary__flag *)x)->key,
		((const canary__flag *)y)->key);
}

/* Keys must be unique: sort and compare neighbours. */
static int check_unique(const canary__json_reader *r, canary__config *c)
{
	size_t i;

	if (c->count < 2)
		return CANARY_OK;
	qsort(c->flags, c->count, sizeof(*c->flags), cmp_flag_key);
	for (i = 1; i < c->count; i++)
		if (strcmp(c->flags[i - 1].key, c->flags[i].key) == 0)
			return canary__perror_set(r->err, "flags",
				"duplicate key \"%s\"", c->flags[i].key);
	return CANARY_OK;
}

static int parse_flags(const canary__alloc *a, const canary__json_reader *r,
	const cJSON *item, canary__config *c)
{
	const cJSON *arr, *flag;
	size_t n;
	int rc = canary__json_required(r, item, "", "flags");

	if (rc == CANARY_OK)
		rc = canary__json_array(r, item, "", "flags", &arr);
	if (rc != CANARY_OK)
		return rc;
	n = (size_t)cJSON_GetArraySize(arr);
	if (n > CANARY__MAX_FLAGS)
		return canary__perror_set(r->err, "flags",
			"more than %d flags", CANARY__MAX_FLAGS);
	c->flags = canary__calloc(a, n ? n : 1, sizeof(*c->flags));
	if (!c->flags)
		return canary__perror_oom(r->err);
	cJSON_ArrayForEach(flag, arr) {
		char path[32];

		canary__path_index(path, sizeof(path), "flags", c->count);
		rc = flag_read(a, r, flag, path, c, &c->flags[c->count]);
		if (rc != CANARY_OK)
			return rc;
		c->count++;
	}
	return check_unique(r, c);
}

int canary__config_parse(const canary__alloc *a, const char *json,
	size_t len, canary__config **out, canary__perror *e)
{
	static const char *const names[] = { "version", "flags", "segments" };
	const cJSON *m[3];
	canary__json_reader r;
	canary__config *c = NULL;
	cJSON *root = NULL;
	int rc;

	*out = NULL;
	canary__json_reader_init(&r, 0, e);
	rc = canary__json_parse(&r, json, len, CANARY__MAX_CONFIG_BYTES,
		"config", &root);
	if (rc == CANARY_OK)
		rc = canary__json_members(&r, root, "", names, 3, m);
	if (rc == CANARY_OK && !(c = canary__new(a, canary__config)))
		rc = canary__perror_oom(e);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&r, m[0], "", "version",
			CANARY__MAX_VERSION, true, &c->version);
	/* Segments first: the flags' rules refer to them. */
	if (rc == CANARY_OK)
		rc = canary__segtable_read(a, &r, m[2], &c->segments);
	if (rc == CANARY_OK)
		rc = parse_flags(a, &r, m[1], c);
	if (rc == CANARY_OK && canary__segtable_slots(&c->segments))
		c->slots_id = canary__segtable_slots(&c->segments)->id;
	cJSON_Delete(root);
	if (rc != CANARY_OK) {
		canary__config_free(a, c);
		return rc;
	}
	*out = c;
	return CANARY_OK;
}

const canary__flag *canary__config_find(const canary__config *config,
	const char *key)
{
	size_t i;

	for (i = 0; config && key && i < config->count; i++)
		if (strcmp(config->flags[i].key, key) == 0)
			return &config->flags[i];
	return NULL;
}

cJSON *canary__flag_to_json(const canary__flag *f)
{
	cJSON *obj = cJSON_CreateObject();
	cJSON *variants = cJSON_CreateObject();
	cJSON *allow = canary__strlist_to_json(&f->allow);
	cJSON *deny = canary__strlist_to_json(&f->deny);
	bool ok;

	ok = obj && variants && allow && deny &&
	     cJSON_AddStringToObject(obj, "key", f->key) &&
	     cJSON_AddStringToObject(obj, "salt", f->salt) &&
	     cJSON_AddNumberToObject(obj, "rollout_bp", f->rollout_bp) &&
	     cJSON_AddBoolToObject(obj, "enabled", f->enabled) &&
	     cJSON_AddStringToObject(variants, "stable", f->variant_stable) &&
	     cJSON_AddStringToObject(variants, "canary", f->variant_canary) &&
	     cJSON_AddStringToObject(obj, "state", f->state) &&
	     canary__target_to_json(&f->target, obj);
	if (!ok) {
		cJSON_Delete(obj);
		cJSON_Delete(variants);
		cJSON_Delete(allow);
		cJSON_Delete(deny);
		return NULL;
	}
	cJSON_AddItemToObject(obj, "allow", allow);
	cJSON_AddItemToObject(obj, "deny", deny);
	cJSON_AddItemToObject(obj, "variants", variants);
	return obj;
}

cJSON *canary__config_to_json(const canary__config *config)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *flags = cJSON_CreateArray();
	size_t i;
	char version[24];
	cJSON *v;

	/* cJSON prints numbers with %1.15g, which rounds versions above
	 * 10^15: write the integer as raw text instead. */
	snprintf(version, sizeof(version), "%" PRIu64, config->version);
	v = cJSON_CreateRaw(version);
	if (!root || !flags || !v) {
		cJSON_Delete(v);
		goto fail;
	}
	cJSON_AddItemToObject(root, "version", v);
	for (i = 0; i < config->count; i++) {
		cJSON *f = canary__flag_to_json(&config->flags[i]);

		if (!f)
			goto fail;
		cJSON_AddItemToArray(flags, f);
	}
	cJSON_AddItemToObject(root, "flags", flags);
	flags = NULL;
	if (config->segments.count) {
		cJSON *segs = canary__segtable_to_json(&config->segments);

		if (!segs)
			goto fail;
		cJSON_AddItemToObject(root, "segments", segs);
	}
	return root;
fail:
	cJSON_Delete(root);
	cJSON_Delete(flags);
	return NULL;
}
