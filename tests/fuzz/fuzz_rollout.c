/*
 * fuzz_rollout.c - the rollout request parsers: POST /v1/admin/rollouts
 * bodies, promote bodies and durations. The first input byte picks the
 * parser. An accepted spec must survive the store's round trip (spec →
 * JSON → parse as a stored spec → JSON) unchanged.
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "rollout/rollout.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *spec_text(const cs_rollout_spec *s)
{
	cJSON *obj = cs_rollout_spec_to_json(s);
	char *text = obj ? cJSON_PrintUnformatted(obj) : NULL;

	cJSON_Delete(obj);
	if (!text)
		abort();
	return text;
}

static void create_body(const char *body, size_t len)
{
	char flag[CANARY__MAX_KEY_LEN + 1];
	cs_rollout_spec s, again;
	canary__perror e;
	char *a, *b;

	if (cs_rollout_parse(body, len, flag, &s, &e) != CANARY_OK)
		return;
	if (!flag[0] || s.nsteps == 0 || s.nsteps > CS_ROLLOUT_MAX_STEPS)
		abort();
	a = spec_text(&s);
	if (cs_rollout_parse(a, strlen(a), NULL, &again, &e) != CANARY_OK)
		abort();
	b = spec_text(&again);
	if (strcmp(a, b) != 0)
		abort();
	cJSON_free(a);
	cJSON_free(b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *text;
	canary__perror e;
	int64_t ms;
	bool full;

	if (size < 1)
		return 0;
	text = malloc(size);
	if (!text)
		return 0;
	memcpy(text, data + 1, size - 1);
	text[size - 1] = '\0';
	switch (data[0] % 3) {
	case 0:
		create_body(text, size - 1);
		break;
	case 1:
		cs_rollout_parse_promote(text, size - 1, &full, &e);
		break;
	default:
		if (cs_parse_duration(text, &ms) == 0 &&
		    (ms < 0 || ms > CS_ROLLOUT_MAX_DURATION_MS))
			abort();
		break;
	}
	free(text);
	return 0;
}
