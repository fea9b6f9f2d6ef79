/*
 * fuzz_json_arena.c - proto/json_arena.c against cJSON: any text the arena
 * reader accepts, cJSON (through canary__json_parse, which maps \u0000 the
 * same way) accepts too and reads as the same tree; a text it refuses
 * gets a message with its place. Neither may crash or leak. The reverse
 * need not hold: the arena reader refuses what RFC 8259 does (bad UTF-8,
 * control characters, "01", ...) where cJSON is lenient.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json_arena.h"
#include "../support/json_same.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
		"doc", &root);
	if (rc != CANARY_OK) {
		if (rc != CANARY_EPARSE || !e.message[0] || root)
			abort();
	} else {
		if (canary__json_parse(&theirs, text, size, 1u << 20, "doc",
		    &ref) != CANARY_OK)
			abort(); /* accepted what cJSON refuses */
		if (!json_same(root, ref) || mine.nul_escaped != theirs.nul_escaped)
			abort(); /* read differently */
		cJSON_Delete(ref);
	}
	canary__arena_free(&arena);
	return 0;
}
