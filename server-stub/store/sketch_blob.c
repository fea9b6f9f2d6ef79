/*
 * sketch_blob.c - sketches of units as SQLite BLOBs (see sketch_blob.h).
 */
#include "store/sketch_blob.h"

#include <sqlite3.h>

#include "canary/canary.h"
#include "hll.h"

#define REGS CANARY__HLL_REGS(CANARY__HLL_P)

int cs_sketch_blob_add_to(const void *blob, size_t len, uint8_t *regs)
{
	canary__hll into = { CANARY__HLL_P, regs };

	if (!blob || len == 0)
		return CANARY_OK;
	return canary__hll_merge_encoded(&into, blob, len, NULL, 0) ==
		CANARY_OK ? CANARY_OK : CANARY_ESTORAGE;
}

static void merge_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	uint8_t regs[REGS] = { 0 };
	uint8_t *out;
	canary__hll h = { CANARY__HLL_P, regs };
	size_t len;
	int i;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[1]);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	for (i = 0; i < 2; i++)
		if (cs_sketch_blob_add_to(sqlite3_value_blob(argv[i]),
		    (size_t)sqlite3_value_bytes(argv[i]), regs) != CANARY_OK) {
			sqlite3_result_error(ctx, "corrupt sketch blob", -1);
			return;
		}
	out = sqlite3_malloc64(CANARY__HLL_MAX_ENCODED);
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	len = canary__hll_encode(&h, out, CANARY__HLL_MAX_ENCODED);
	sqlite3_result_blob64(ctx, out, len, sqlite3_free);
}

int cs_sketch_blob_register(sqlite3 *db)
{
	return sqlite3_create_function_v2(db, "canary_hll_merge", 2,
		SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY, NULL,
		merge_fn, NULL, NULL, NULL) == SQLITE_OK ? CANARY_OK :
		CANARY_ESTORAGE;
}
