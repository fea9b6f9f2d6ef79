/*
 * fuzz_json_arena.c - proto/json_arena.c against cJSON: any text the arena
 * reader accepts, cJSON (through canary__json_parse, which maps \u0000 the
 * same way) accepts too and reads as the same tree; a text it refuses
 * gets a message with its place. Neither may crash or leak. The reverse
 * need not hold: the arena reader refuses what RFC 8259 does (bad UTF-8,
 * control characters, "01", ...) where cJSON is lenient. Read again with
 * the root's first "features" array left unbuilt, each of its elements
 * built from its span is cJSON's element.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_arena.h"
#include "../support/json_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* The root's first member "features" that is an array, or NULL. */
static const cJSON *first_array(const cJSON *root)
{
	const cJSON *m;

	for (m = root->child; m; m = m->next)
		if (cJSON_IsArray(m) && strcmp(m->string, "features") == 0)
			return m;
	return NULL;
}

static void lazily(const char *text, size_t size, const cJSON *ref)
{
	canary__json_lazy lazy = { "features", NULL, NULL, 0 };
	const cJSON *root, *want = first_array(ref), *el, *got;
	canary__json_reader r;
	canary__arena arena;
	size_t i = 0;

	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&r, 0, NULL);
	if (canary__json_parse_arena(&r, &arena, text, size, 1u << 20, "doc",
	    &lazy, &root) != CANARY_OK)
		abort();
	if (!want != !lazy.array || (lazy.array && lazy.array->child))
		abort();
	el = want ? want->child : NULL;
	for (; el; el = el->next, i++)
		if (i >= lazy.count || canary__json_parse_span(&r, &arena, text,
		    lazy.items[i], &got) != CANARY_OK || !json_same_node(got, el))
			abort();
	if (i != lazy.count)
		abort();
	canary__arena_free(&arena);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	canary__json_reader mine, theirs;
	canary__perror e;
	canary__arena arena;
	const cJSON *root;
	cJSON *ref = NULL;
	int rc;

	canary__arena_init(&arena, NULL);
	canary__json_reader_init(&mine, 0, &e);
	canary__json_reader_init(&theirs, 0, NULL);
	rc = canary__json_parse_arena(&mine, &arena, text, size, 1u << 20,
		"doc", NULL, &root);
	if (rc != CANARY_OK) {
		if (rc != CANARY_EPARSE || !e.message[0] || root)
			abort();
	} else {
		if (canary__json_parse(&theirs, text, size, 1u << 20, "doc",
		    &ref) != CANARY_OK)
			abort(); /* accepted what cJSON refuses */
		if (!json_same(root, ref) || mine.nul_escaped != theirs.nul_escaped)
			abort(); /* read differently */
		lazily(text, size, ref);
		cJSON_Delete(ref);
	}
	canary__arena_free(&arena);
	return 0;
}
