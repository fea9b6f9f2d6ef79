/*
 * fuzz_unleash.c - an Unleash features document compiled by the Unleash
 * evaluator, and the same bytes as a strict rule set: neither may crash
 * or leak, a failure always explains itself, and every feature of an
 * accepted document is found by name and evaluates (also its variant)
 * with a context that sets every field.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "rules.h"
#include "unleash_model.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void evaluate_all(const canary__unleash_model *m)
{
	canary__attr attrs[] = { { "version", "2.3.4" }, { "region", "eu" },
		{ "n", "42" } };
	canary__context ctx = { "u1", "s1", "10.1.2.3", "prod", "app",
		"2024-05-06T07:08:09Z", attrs, 3, NULL };
	canary__unleash_variant v;
	uint32_t i;

	for (i = 0; i < m->count; i++) {
		const canary__unleash_feature *f = &m->features[i];

		if (canary__unleash_find(m, f->name, f->name_len) != f)
			abort();
		canary__unleash_enabled(m, f->name, f->name_len, &ctx, NULL);
		canary__unleash_get_variant(m, f->name, f->name_len, &ctx, &v);
		if (!v.name || (v.enabled && !v.feature_enabled))
			abort();
	}
}

/* The input as one strict rule set, segments from its "segments". */
static void as_rules(const char *text, size_t size)
{
	cJSON *root = cJSON_ParseWithLength(text, size);
	canary__context ctx;
	canary__arena arena;
	canary__rule_build b;
	canary__segments segs;
	canary__rules rules;
	canary__perror e;
	int rc;

	if (!root)
		return;
	canary__arena_init(&arena, NULL);
	canary__rule_build_init(&b, &arena, false, &e);
	rc = canary__segments_compile(&b,
		cJSON_GetObjectItemCaseSensitive(root, "segments"), "segments", &segs);
	if (rc == CANARY_OK)
		rc = canary__rules_compile(&b, root, "rule", &segs, &rules);
	if (rc != CANARY_OK && !e.message[0])
		abort(); /* every rejection says why */
	if (rc == CANARY_OK) {
		memset(&ctx, 0, sizeof(ctx));
		ctx.user_id = "u";
		canary__rules_match(&rules, &ctx);
	}
	canary__arena_free(&arena);
	cJSON_Delete(root);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	canary__unleash_model *m = NULL;
	canary__perror e;

	if (canary__unleash_compile(NULL, (const char *)data, size, NULL, &m,
	    &e) != CANARY_OK) {
		if (m || !e.message[0])
			abort();
	} else {
		evaluate_all(m);
		canary__unleash_free(m);
	}
	as_rules((const char *)data, size);
	return 0;
}
