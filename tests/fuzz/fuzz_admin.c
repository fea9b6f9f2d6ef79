/*
 * fuzz_admin.c - the admin request parsers: flag bodies (POST and PUT),
 * merge patches, stats queries and segment bodies. The first input byte
 * picks the parser. An accepted flag or segment must survive an encode →
 * parse round trip unchanged.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "parse/admin_parse.h"
#include "alloc.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void round_trip(const canary__flag *f)
{
	cJSON *obj = canary__flag_to_json(f);
	char *a = obj ? cJSON_PrintUnformatted(obj) : NULL, *b = NULL;
	canary__flag again;
	canary__perror e;

	if (!a)
		abort();
	if (cs_admin_parse_flag(a, strlen(a), f->key, &again, &e) != CANARY_OK)
		abort();
	cJSON_Delete(obj);
	obj = canary__flag_to_json(&again);
	b = obj ? cJSON_PrintUnformatted(obj) : NULL;
	if (!b || strcmp(a, b) != 0)
		abort();
	cJSON_Delete(obj);
	cJSON_free(a);
	cJSON_free(b);
	canary__flag_clear(canary__alloc_default(), &again);
}

static void flag_body(const char *body, size_t len, const char *path_key)
{
	canary__flag f;
	canary__perror e;

	if (cs_admin_parse_flag(body, len, path_key, &f, &e) == CANARY_OK) {
		if (path_key && strcmp(f.key, path_key) != 0)
			abort();
		round_trip(&f);
		canary__flag_clear(canary__alloc_default(), &f);
	}
}

static void patch(const char *body, size_t len)
{
	static const char base[] = "{\"key\":\"k\",\"rollout_bp\":100,"
		"\"allow\":[\"a\"],\"variants\":{\"stable\":\"s\",\"canary\":\"c\"}}";
	canary__flag cur, next;
	canary__perror e;

	if (cs_admin_parse_flag(base, sizeof(base) - 1, NULL, &cur, &e) !=
	    CANARY_OK)
		abort();
	if (cs_admin_patch_flag(&cur, body, len, &next, &e) == CANARY_OK) {
		if (strcmp(next.key, "k") != 0)
			abort(); /* a patch never renames */
		round_trip(&next);
		canary__flag_clear(canary__alloc_default(), &next);
	}
	canary__flag_clear(canary__alloc_default(), &cur);
}

static void query(const char *s, size_t len)
{
	char *copy = malloc(len + 1), *amp;
	cs_stats_query q;
	canary__perror e;

	if (!copy)
		return;
	memcpy(copy, s, len);
	copy[len] = '\0';
	amp = strchr(copy, '&');
	if (amp)
		*amp++ = '\0';
	if (cs_admin_parse_stats_query(copy, amp, &q, &e) == CANARY_OK &&
	    q.config_version > 9007199254740991ull)
		abort();
	free(copy);
}

/* PUT /v1/admin/segments/s. */
static void segment_body(const char *body, size_t len)
{
	canary__segdef seg, again;
	canary__perror e;
	cJSON *obj;
	char *text;
	bool force;

	if (cs_admin_parse_segment(body, len, "s", &seg, &force, &e) !=
	    CANARY_OK)
		return;
	obj = canary__segdef_to_json(&seg);
	text = obj ? cJSON_PrintUnformatted(obj) : NULL;
	if (!text || strcmp(seg.name, "s") != 0 ||
	    cs_admin_parse_segment(text, strlen(text), "s", &again, &force,
		&e) != CANARY_OK || strcmp(seg.constraints, again.constraints))
		abort();
	cJSON_Delete(obj);
	cJSON_free(text);
	canary__segdef_clear(canary__alloc_default(), &seg);
	canary__segdef_clear(canary__alloc_default(), &again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *body = (const char *)data + 1;

	if (size < 1)
		return 0;
	switch (data[0] % 5) {
	case 0:
		flag_body(body, size - 1, NULL);
		break;
	case 1:
		flag_body(body, size - 1, "k");
		break;
	case 2:
		patch(body, size - 1);
		break;
	case 3:
		query(body, size - 1);
		break;
	default:
		segment_body(body, size - 1);
		break;
	}
	return 0;
}
