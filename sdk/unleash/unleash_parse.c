/*
 * unleash_parse.c - compile an Unleash features document into a model.
 *
 * Lenient where Unleash is (unknown strategies and operators, bad values:
 * never enabled, counted), strict about structure (wrong JSON types,
 * missing names, duplicates, sizes over the limits): those reject the
 * whole document with the JSON path.
 */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "alloc.h"
#include "json_arena.h"
#include "unleash_model.h"

typedef struct ul_build {
	canary__rule_build rb;        /* lenient; arena = the model's */
	canary__unleash_model *m;
	const char *hostname;
} ul_build;

static const struct {
	const char *name;
	canary__unleash_kind kind;
} strategy_kinds[] = {
	{ "default", CANARY__UL_DEFAULT },
	{ "userWithId", CANARY__UL_USER_WITH_ID },
	{ "gradualRolloutUserId", CANARY__UL_GRADUAL_USER_ID },
	{ "gradualRolloutSessionId", CANARY__UL_GRADUAL_SESSION_ID },
	{ "gradualRolloutRandom", CANARY__UL_GRADUAL_RANDOM },
	{ "flexibleRollout", CANARY__UL_FLEXIBLE },
	{ "remoteAddress", CANARY__UL_REMOTE_ADDRESS },
	{ "applicationHostname", CANARY__UL_HOSTNAME }
};

static char *copy(ul_build *ub, const char *s)
{
	return canary__arena_strndup(ub->rb.arena, s, strlen(s));
}

/* A strategy parameter as text: strings as given, numbers printed. */
static const char *param_text(const cJSON *params, const char *name,
	char *buf, size_t buflen)
{
	const cJSON *item = params ?
		cJSON_GetObjectItemCaseSensitive(params, name) : NULL;

	if (cJSON_IsString(item) && item->valuestring)
		return item->valuestring;
	if (cJSON_IsNumber(item) && isfinite(item->valuedouble)) {
		snprintf(buf, buflen, "%.17g", item->valuedouble);
		return buf;
	}
	return NULL;
}

/* floor(value) clamped to 0..100, read exactly from the decimal. */
static uint8_t whole_percent(const canary__decimal *d)
{
	const char *p = d->digits;
	uint32_t v = 0;
	int32_t k;

	if (d->sign <= 0 || d->exp <= 0)
		return 0;
	if (d->exp > 3)
		return 100;
	for (k = 0; k < d->exp; k++) {
		if (p < d->end && *p == '.')
			p++;
		v = v * 10 + (uint32_t)(p < d->end ? *p++ - '0' : 0);
	}
	return (uint8_t)(v > 100 ? 100 : v);
}

/* A strategy parameter Unleash would not use: lenient, so counted. */
static int param_invalid(ul_build *ub, const char *path, const char *name,
	const char *fmt, ...) CANARY__PRINTF(4, 5);

static int param_invalid(ul_build *ub, const char *path, const char *name,
	const char *fmt, ...)
{
	char at[CANARY__PERR_FIELD], msg[CANARY__PERR_MESSAGE];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	canary__path_member(at, sizeof(at), path, "parameters");
	return canary__rule_invalid(&ub->rb, at, name, "%s", msg);
}

static int parse_percent(ul_build *ub, const cJSON *params, const char *name,
	const char *path, uint8_t *out)
{
	char buf[32];
	const char *text = param_text(params, name, buf, sizeof(buf));
	canary__decimal d;

	*out = 0;
	if (!text)
		return param_invalid(ub, path, name, "required");
	if (!canary__decimal_parse(text, strlen(text), &d))
		return param_invalid(ub, path, name, "not a number");
	*out = whole_percent(&d);
	return CANARY_OK;
}

/* "a, b,c" -> trimmed, non-empty entries in the arena. */
static int split_list(ul_build *ub, const char *text, canary__str **out,
	uint32_t *count)
{
	const char *p = text, *end;
	uint32_t n = 1;

	*out = NULL;
	*count = 0;
	if (!text)
		return CANARY_OK;
	for (end = text; *end; end++)
		n += *end == ',';
	*out = canary__arena_array(ub->rb.arena, n, sizeof(canary__str));
	if (!*out)
		return canary__rule_oom(&ub->rb);
	while (*p) {
		const char *comma = strchr(p, ',');
		const char *e = comma ? comma : p + strlen(p);
		const char *s = p;

		while (s < e && (*s == ' ' || *s == '\t'))
			s++;
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		if (e > s) {
			char *c = canary__arena_strndup(ub->rb.arena, s, (size_t)(e - s));

			if (!c)
				return canary__rule_oom(&ub->rb);
			(*out)[*count].s = c;
			(*out)[(*count)++].len = (uint32_t)(e - s);
		}
		if (!comma)
			break;
		p = comma + 1;
	}
	return CANARY_OK;
}

static int parse_stickiness(ul_build *ub, const char *text,
	canary__unleash_stickiness *out)
{
	char *name;

	memset(out, 0, sizeof(*out));
	if (!text || !*text || strcmp(text, "default") == 0)
		return CANARY_OK;
	if (strcmp(text, "random") == 0) {
		out->mode = CANARY__UL_STICK_RANDOM;
		return CANARY_OK;
	}
	name = copy(ub, text);
	if (!name)
		return canary__rule_oom(&ub->rb);
	out->mode = CANARY__UL_STICK_FIELD;
	canary__field_init(&out->field, name, strlen(name));
	return CANARY_OK;
}

static void hash_prefix(canary__murmur3 *s, uint32_t seed, const char *group)
{
	canary__mm3_init(s, seed);
	canary__mm3_update(s, group, strlen(group));
	canary__mm3_update(s, ":", 1);
}

/* ---- variants ------------------------------------------------------------ */

/* One element of a variant's "overrides": {contextName, values}. */
static int parse_override(canary__rule_build *b, const cJSON *item,
	const char *path, void *out, void *arg)
{
	canary__unleash_override *o = out;
	const cJSON *values;
	const char *name;
	static const char *const names[] = { "contextName", "values" };
	const cJSON *m[2];
	char sub[CANARY__PERR_FIELD];
	char *field;
	int rc;

	(void)arg;
	rc = canary__json_members(&b->rd, item, path, names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(&b->rd, m[0], path, names[0],
			CANARY__RULE_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_array(&b->rd, m[1], path, names[1], &values);
	canary__path_member(sub, sizeof(sub), path, "values");
	if (rc == CANARY_OK)
		rc = canary__strs_compile(b, values, sub, false, true, &o->values,
			&o->count);
	if (rc != CANARY_OK)
		return rc;
	field = canary__arena_strndup(b->arena, name, strlen(name));
	if (!field)
		return canary__rule_oom(b);
	canary__field_init(&o->field, field, strlen(field));
	return CANARY_OK;
}

static int parse_overrides(ul_build *ub, const cJSON *member,
	const char *path, canary__unleash_vdef *v)
{
	const cJSON *arr;
	char sub[CANARY__PERR_FIELD];
	int rc = canary__json_array(&ub->rb.rd, member, path, "overrides", &arr);

	canary__path_member(sub, sizeof(sub), path, "overrides");
	if (rc == CANARY_OK)
		rc = canary__rule_array(&ub->rb, arr, sub, CANARY__UNLEASH_MAX_VARIANTS,
			sizeof(*v->overrides), parse_override, NULL,
			&v->overrides, &v->override_count);
	return rc;
}

static int parse_payload(ul_build *ub, const cJSON *payload,
	const char *path, canary__unleash_vdef *v)
{
	static const char *const names[] = { "type", "value" };
	const char *type = NULL, *value = NULL;
	const cJSON *m[2];
	char sub[CANARY__PERR_FIELD];
	int rc;

	if (!payload || cJSON_IsNull(payload))
		return CANARY_OK;
	canary__path_member(sub, sizeof(sub), path, "payload");
	rc = canary__json_members(&ub->rb.rd, payload, sub, names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_string(&ub->rb.rd, m[0], sub, names[0],
			CANARY__RULE_MAX_NAME, &type);
	if (rc == CANARY_OK)
		rc = canary__json_string(&ub->rb.rd, m[1], sub, names[1],
			CANARY__UNLEASH_MAX_BYTES, &value);
	if (rc != CANARY_OK)
		return rc;
	v->payload_type = copy(ub, type ? type : "string");
	v->payload_value = copy(ub, value ? value : "");
	return v->payload_type && v->payload_value ? CANARY_OK :
		canary__rule_oom(&ub->rb);
}

/* One variant; arg: where the first variant's stickiness goes. */
static int parse_variant(canary__rule_build *b, const cJSON *obj,
	const char *path, void *out, void *arg)
{
	static const char *const names[] = { "name", "weight", "stickiness",
		"payload", "overrides" };
	ul_build *ub = (ul_build *)b;
	canary__unleash_vdef *v = out;
	const char **first = arg, *stickiness;
	const cJSON *m[5], *w;
	const char *name;
	uint64_t weight = 0;
	int rc;

	rc = canary__json_members(&ub->rb.rd, obj, path, names, 5, m);
	w = m[1];
	if (rc == CANARY_OK)
		rc = canary__json_name(&ub->rb.rd, m[0], path, names[0],
			CANARY__UNLEASH_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_string(&ub->rb.rd, m[2], path, names[2],
			CANARY__RULE_MAX_NAME, &stickiness);
	if (rc == CANARY_OK)
		rc = canary__json_uint(&ub->rb.rd, w, path, names[1],
			CANARY__UNLEASH_MAX_WEIGHT, false, &weight);
	if (rc != CANARY_OK)
		return rc;
	if (*first == NULL)
		*first = stickiness ? stickiness : "";
	v->weight = (uint32_t)weight;
	v->name = copy(ub, name);
	if (!v->name)
		return canary__rule_oom(&ub->rb);
	rc = parse_payload(ub, m[3], path, v);
	return rc == CANARY_OK ? parse_overrides(ub, m[4], path, v) : rc;
}

/* A variant list hashed with `group`; the first variant's stickiness,
 * else `fallback` ("default" when NULL). */
static int parse_variants(ul_build *ub, const cJSON *arr, const char *path,
	const char *group, const char *fallback, canary__unleash_variants *out)
{
	const char *first = NULL;
	uint32_t i;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = canary__rule_array(&ub->rb, arr, path, CANARY__UNLEASH_MAX_VARIANTS,
		sizeof(*out->items), parse_variant, &first, &out->items,
		&out->count);
	if (rc != CANARY_OK || out->count == 0)
		return rc;
	for (i = 0; i < out->count; i++)
		out->total_weight += out->items[i].weight;
	hash_prefix(&out->prefix, CANARY__UNLEASH_VARIANT_SEED, group);
	return parse_stickiness(ub, first && *first ? first : fallback,
		&out->stickiness);
}

/* ---- strategies ---------------------------------------------------------- */

static int parse_addresses(ul_build *ub, const char *text, const char *path,
	canary__unleash_strategy *s)
{
	canary__str *list;
	uint32_t n, i;
	int rc = split_list(ub, text, &list, &n);

	if (rc != CANARY_OK || n == 0)
		return rc;
	s->addresses = canary__arena_array(ub->rb.arena, n, sizeof(canary__cidr));
	if (!s->addresses)
		return canary__rule_oom(&ub->rb);
	for (i = 0; i < n; i++) {
		if (canary__cidr_parse(list[i].s, list[i].len,
		    &s->addresses[s->address_count])) {
			s->address_count++;
			continue;
		}
		/* Unleash ignores the bad entries and keeps the rest. */
		rc = param_invalid(ub, path, "IPs",
			"\"%s\" is not an IP address or network", list[i].s);
		if (rc != CANARY_OK)
			return rc;
	}
	return CANARY_OK;
}

static char lower(char c)
{
	return c >= 'A' && c <= 'Z' ? (char)(c + ('a' - 'A')) : c;
}

/* Is `me` one of the host names (ASCII case-insensitive)? */
static bool host_listed(const canary__str *hosts, uint32_t n, const char *me)
{
	uint32_t i, k;

	for (i = 0; me && i < n; i++) {
		if (strlen(me) != hosts[i].len)
			continue;
		for (k = 0; k < hosts[i].len; k++)
			if (lower(hosts[i].s[k]) != lower(me[k]))
				break;
		if (k == hosts[i].len)
			return true;
	}
	return false;
}

/* The strategy-specific parameters. */
static int parse_kind(ul_build *ub, const cJSON *params, const char *path,
	const char *group, canary__unleash_strategy *s)
{
	char buf[32];
	canary__str *hosts;
	uint32_t nhosts;
	int rc = CANARY_OK;

	switch (s->kind) {
	case CANARY__UL_USER_WITH_ID:
		rc = split_list(ub, param_text(params, "userIds", buf, sizeof(buf)),
			&s->user_ids, &s->user_id_count);
		if (rc == CANARY_OK)
			qsort(s->user_ids, s->user_id_count, sizeof(canary__str),
				canary__str_cmp);
		return rc;
	case CANARY__UL_GRADUAL_USER_ID:
	case CANARY__UL_GRADUAL_SESSION_ID:
	case CANARY__UL_GRADUAL_RANDOM:
		hash_prefix(&s->prefix, 0, group);
		return parse_percent(ub, params, "percentage", path, &s->percent);
	case CANARY__UL_FLEXIBLE:
		hash_prefix(&s->prefix, 0, group);
		rc = parse_percent(ub, params, "rollout", path, &s->percent);
		if (rc == CANARY_OK)
			rc = parse_stickiness(ub, param_text(params, "stickiness", buf,
				sizeof(buf)), &s->stickiness);
		return rc;
	case CANARY__UL_REMOTE_ADDRESS:
		return parse_addresses(ub, param_text(params, "IPs", buf,
			sizeof(buf)), path, s);
	case CANARY__UL_HOSTNAME:
		rc = split_list(ub, param_text(params, "hostNames", buf, sizeof(buf)),
			&hosts, &nhosts);
		s->host_match = rc == CANARY_OK && host_listed(hosts, nhosts,
			ub->hostname);
		return rc;
	default:
		return rc;
	}
}

static canary__unleash_kind kind_of(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(strategy_kinds) / sizeof(strategy_kinds[0]); i++)
		if (strcmp(strategy_kinds[i].name, name) == 0)
			return strategy_kinds[i].kind;
	return CANARY__UL_UNKNOWN;
}

/* One strategy; arg: the feature's name (the default groupId). */
static int parse_strategy(canary__rule_build *b, const cJSON *obj,
	const char *path, void *out, void *arg)
{
	static const char *const names[] = { "name", "parameters", "disabled",
		"variants", "constraints", "segments" };
	ul_build *ub = (ul_build *)b;
	canary__unleash_strategy *s = out;
	const char *feature = arg;
	const cJSON *m[6], *params, *variants;
	const char *name, *group;
	char buf[32], sub[CANARY__PERR_FIELD];
	bool disabled = false;
	int rc;

	rc = canary__json_members(&ub->rb.rd, obj, path, names, 6, m);
	if (rc == CANARY_OK)
		rc = canary__json_object(&ub->rb.rd, m[1], path, names[1],
			&params);
	if (rc == CANARY_OK)
		rc = canary__json_name(&ub->rb.rd, m[0], path, names[0],
			CANARY__RULE_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&ub->rb.rd, m[2], path, names[2],
			&disabled);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[3], path, names[3],
			&variants);
	if (rc == CANARY_OK)
		rc = canary__rules_compile_members(&ub->rb, m[4], m[5], path,
			&ub->m->segments, &s->rules);
	if (rc != CANARY_OK)
		return rc;
	s->kind = disabled ? CANARY__UL_UNKNOWN : (uint8_t)kind_of(name);
	if (s->kind == CANARY__UL_UNKNOWN && !disabled) {
		rc = canary__rule_invalid(&ub->rb, path, "name",
			"unknown strategy \"%s\" is never enabled", name);
		if (rc != CANARY_OK)
			return rc;
	}
	group = param_text(params, "groupId", buf, sizeof(buf));
	if (!group || !*group)
		group = feature;
	rc = parse_kind(ub, params, path, group, s);
	if (rc != CANARY_OK)
		return rc;
	canary__path_member(sub, sizeof(sub), path, "variants");
	return parse_variants(ub, variants, sub, group,
		param_text(params, "stickiness", buf, sizeof(buf)), &s->variants);
}

/* ---- features ------------------------------------------------------------ */

static int parse_dependency(canary__rule_build *b, const cJSON *item,
	const char *path, void *out, void *arg)
{
	ul_build *ub = (ul_build *)b;
	canary__unleash_dependency *d = out;
	static const char *const names[] = { "feature", "enabled", "variants" };
	const cJSON *m[3], *variants;
	const char *name;
	char sub[CANARY__PERR_FIELD];
	int rc;

	(void)arg;
	d->enabled = true;
	rc = canary__json_members(&ub->rb.rd, item, path, names, 3, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(&ub->rb.rd, m[0], path, names[0],
			CANARY__UNLEASH_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&ub->rb.rd, m[1], path, names[1],
			&d->enabled);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[2], path, names[2],
			&variants);
	canary__path_member(sub, sizeof(sub), path, "variants");
	if (rc == CANARY_OK)
		rc = canary__strs_compile(&ub->rb, variants, sub, false, true,
			&d->variants, &d->variant_count);
	if (rc != CANARY_OK)
		return rc;
	d->feature = -1;
	d->name = copy(ub, name);
	return d->name ? CANARY_OK : canary__rule_oom(&ub->rb);
}

static int parse_feature(canary__rule_build *b, const cJSON *obj,
	const char *path, void *out, void *arg)
{
	static const char *const names[] = { "name", "enabled", "strategies",
		"variants", "dependencies" };
	ul_build *ub = (ul_build *)b;
	canary__unleash_feature *f = out;
	const cJSON *m[5], *strategies, *variants, *deps;
	const char *name;
	char sub[CANARY__PERR_FIELD];
	int rc;

	(void)arg;
	rc = canary__json_members(&ub->rb.rd, obj, path, names, 5, m);
	if (rc == CANARY_OK)
		rc = canary__json_name(&ub->rb.rd, m[0], path, names[0],
			CANARY__UNLEASH_MAX_NAME, &name);
	if (rc == CANARY_OK)
		rc = canary__json_bool(&ub->rb.rd, m[1], path, names[1],
			&f->enabled);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[2], path, names[2],
			&strategies);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[3], path, names[3],
			&variants);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[4], path, names[4], &deps);
	if (rc != CANARY_OK)
		return rc;
	f->name_len = (uint32_t)strlen(name);
	f->name = canary__arena_strndup(ub->rb.arena, name, f->name_len);
	if (!f->name)
		return canary__rule_oom(&ub->rb);
	f->name_hash = canary__murmur3_32(f->name, f->name_len,
		CANARY__UL_NAME_SEED);
	canary__path_member(sub, sizeof(sub), path, "strategies");
	rc = canary__rule_array(&ub->rb, strategies, sub,
		CANARY__UNLEASH_MAX_VARIANTS, sizeof(*f->strategies), parse_strategy,
		(void *)f->name, &f->strategies, &f->strategy_count);
	canary__path_member(sub, sizeof(sub), path, "variants");
	if (rc == CANARY_OK)
		rc = parse_variants(ub, variants, sub, f->name, NULL, &f->variants);
	canary__path_member(sub, sizeof(sub), path, "dependencies");
	if (rc == CANARY_OK)
		rc = canary__rule_array(&ub->rb, deps, sub,
			CANARY__UNLEASH_MAX_VARIANTS, sizeof(*f->deps), parse_dependency,
			NULL, &f->deps, &f->dep_count);
	return rc;
}

/* ---- the model ----------------------------------------------------------- */

const canary__unleash_feature *canary__unleash_find(
	const canary__unleash_model *m, const char *name, size_t len)
{
	uint32_t hash, i;

	if (!m || !name || m->count == 0)
		return NULL;
	hash = canary__murmur3_32(name, len, CANARY__UL_NAME_SEED);
	for (i = hash & m->mask;; i = (i + 1) & m->mask) {
		const canary__unleash_feature *f;

		if (!m->table[i])
			return NULL;
		f = &m->features[m->table[i] - 1];
		if (f->name_hash == hash && f->name_len == len &&
		    memcmp(f->name, name, len) == 0)
			return f;
	}
}

/* Index every feature by name (load <= 1/2); duplicates are an error. */
static int build_table(ul_build *ub)
{
	canary__unleash_model *m = ub->m;
	uint32_t size = 16, k;

	while (size < 2 * m->count)
		size *= 2;
	m->table = canary__arena_array(ub->rb.arena, size, sizeof(uint32_t));
	if (!m->table)
		return canary__rule_oom(&ub->rb);
	m->mask = size - 1;
	for (k = 0; k < m->count; k++) {
		const canary__unleash_feature *f = &m->features[k];
		uint32_t i = f->name_hash & m->mask;

		for (; m->table[i]; i = (i + 1) & m->mask) {
			const canary__unleash_feature *g = &m->features[m->table[i] - 1];

			if (g->name_hash == f->name_hash && g->name_len == f->name_len &&
			    memcmp(g->name, f->name, f->name_len) == 0)
			{
				char at[CANARY__PERR_FIELD];

				canary__path_index(at, sizeof(at), "features", k);
				return canary__rule_reject(&ub->rb, at, "name",
					"duplicate feature \"%s\"", f->name);
			}
		}
		m->table[i] = k + 1;
	}
	return CANARY_OK;
}

static void resolve_dependencies(canary__unleash_model *m)
{
	uint32_t k, i;

	for (k = 0; k < m->count; k++) {
		canary__unleash_feature *f = &m->features[k];

		for (i = 0; i < f->dep_count; i++) {
			const canary__unleash_feature *p = canary__unleash_find(m,
				f->deps[i].name, strlen(f->deps[i].name));

			f->deps[i].feature = p ? (int32_t)(p - m->features) : -1;
		}
	}
}

/* The features the reader left unbuilt (json_arena.h): each read into a
 * small tree, compiled and freed in turn, as canary__rule_array() does
 * over a whole tree. */
static int compile_lazy(ul_build *ub, const canary__json_lazy *lazy,
	const char *text)
{
	canary__unleash_model *model = ub->m;
	canary__json_reader r;
	canary__arena scratch;
	size_t i;
	int rc = CANARY_OK;

	if (lazy->count > CANARY__UNLEASH_MAX_FEATURES)
		return canary__rule_reject(&ub->rb, "features", NULL,
			"more than %d entries", CANARY__UNLEASH_MAX_FEATURES);
	if (lazy->count == 0)
		return CANARY_OK;
	model->features = canary__arena_array(ub->rb.arena, lazy->count,
		sizeof(*model->features));
	if (!model->features)
		return canary__rule_oom(&ub->rb);
	canary__json_reader_init(&r, 0, ub->rb.rd.err);
	for (i = 0; i < lazy->count && rc == CANARY_OK; i++) {
		char path[CANARY__PERR_FIELD];
		const cJSON *item;

		canary__arena_init(&scratch, &ub->rb.arena->alloc);
		canary__path_index(path, sizeof(path), "features", i);
		rc = canary__json_parse_span(&r, &scratch, text, lazy->items[i],
			&item);
		if (rc == CANARY_OK)
			rc = parse_feature(&ub->rb, item, path, &model->features[i],
				NULL);
		if (rc == CANARY_OK)
			model->count++;
		canary__arena_free(&scratch);
	}
	return rc;
}

/* lazy, text: the features left unbuilt, or NULL for a whole tree. */
static int compile_root(ul_build *ub, const cJSON *root,
	const canary__json_lazy *lazy, const char *text)
{
	static const char *const names[] = { "features", "segments" };
	const cJSON *m[2], *features, *segments;
	canary__unleash_model *model = ub->m;
	int rc;

	if (!cJSON_IsObject(root))
		return canary__rule_reject(&ub->rb, "document", NULL,
			"must be a JSON object");
	rc = canary__json_members(&ub->rb.rd, root, "", names, 2, m);
	if (rc == CANARY_OK)
		rc = canary__json_required(&ub->rb.rd, m[0], "", names[0]);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[0], "", names[0], &features);
	if (rc == CANARY_OK)
		rc = canary__json_array(&ub->rb.rd, m[1], "", names[1], &segments);
	if (rc == CANARY_OK)
		rc = canary__segments_compile(&ub->rb, segments, "segments",
			&model->segments);
	if (rc != CANARY_OK)
		return rc;
	if (lazy && features && features == lazy->array)
		rc = compile_lazy(ub, lazy, text);
	else
		rc = canary__rule_array(&ub->rb, features, "features",
			CANARY__UNLEASH_MAX_FEATURES, sizeof(*model->features),
			parse_feature, NULL, &model->features, &model->count);
	if (rc != CANARY_OK)
		return rc;
	rc = build_table(ub);
	if (rc == CANARY_OK)
		resolve_dependencies(model);
	return rc;
}

/* The complete allocator to use: `alloc`, else the C library's. */
static const canary_allocator *allocator(const canary_allocator *alloc)
{
	return alloc && alloc->malloc_fn && alloc->realloc_fn &&
		alloc->free_fn ? alloc : &canary__alloc_default()->fns;
}

static int compile(const canary_allocator *alloc, const cJSON *root,
	const canary__json_lazy *lazy, const char *text,
	const canary__unleash_options *opts, canary__unleash_model **out,
	canary__perror *e)
{
	const canary_allocator *a = allocator(alloc);
	canary__unleash_model *m;
	ul_build ub;
	int rc;

	*out = NULL;
	canary__perror_clear(e);
	m = a->malloc_fn(sizeof(*m), a->ctx);
	if (!m)
		return canary__perror_oom(e);
	memset(m, 0, sizeof(*m));
	canary__arena_init(&m->arena, a);
	canary__rule_build_init(&ub.rb, &m->arena, true, e);
	ub.rb.slots = &m->slots;
	ub.m = m;
	ub.hostname = opts ? opts->hostname : NULL;
	if (opts) {
		m->random_fn = opts->random_fn;
		m->random_ctx = opts->random_ctx;
	}
	rc = compile_root(&ub, root, lazy, text);
	if (rc != CANARY_OK) {
		canary__unleash_free(m);
		return rc;
	}
	m->downgraded = ub.rb.downgraded;
	memcpy(m->note, ub.rb.note, sizeof(m->note));
	*out = m;
	return CANARY_OK;
}

int canary__unleash_compile_tree(const canary_allocator *alloc,
	const cJSON *root, const canary__unleash_options *opts,
	canary__unleash_model **out, canary__perror *e)
{
	return compile(alloc, root, NULL, NULL, opts, out, e);
}

/* The text is read with json_arena.h, not cJSON: allocating and freeing
 * cJSON's 400,000 nodes of a 10,000-feature document one by one cost more
 * than compiling them. The features are not built as one tree either:
 * each is read, compiled and freed in turn, so that the compiler walks a
 * tree still in the cache. */
int canary__unleash_compile(const canary_allocator *alloc, const char *json,
	size_t len, const canary__unleash_options *opts,
	canary__unleash_model **out, canary__perror *e)
{
	canary__json_lazy lazy = { "features", NULL, NULL, 0 };
	canary__json_reader r;
	canary__arena tree;
	const cJSON *root;
	int rc;

	*out = NULL;
	canary__json_reader_init(&r, 0, e);
	canary__arena_init(&tree, allocator(alloc));
	rc = canary__json_parse_arena(&r, &tree, json, len,
		CANARY__UNLEASH_MAX_BYTES, "document", &lazy, &root);
	if (rc == CANARY_OK)
		rc = compile(alloc, root, &lazy, json, opts, out, e);
	canary__arena_free(&tree);
	return rc;
}

void canary__unleash_free(canary__unleash_model *m)
{
	canary_allocator a;

	if (!m)
		return;
	a = m->arena.alloc;
	canary__arena_free(&m->arena);
	a.free_fn(m, a.ctx);
}

uint32_t canary__unleash_downgraded(const canary__unleash_model *m,
	const char **first)
{
	if (first)
		*first = m ? m->note : "";
	return m ? m->downgraded : 0;
}

uint64_t canary__unleash_slots_id(const canary__unleash_model *m)
{
	return m->slots.id;
}

uint32_t canary__unleash_feature_count(const canary__unleash_model *m)
{
	return m ? m->count : 0;
}
