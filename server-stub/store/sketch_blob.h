/*
 * sketch_blob.h - a sketch of units (proto/hll.h) stored as one SQLite
 * BLOB: its wire form (canary__hll_encode, precision CANARY__HLL_P).
 * Merging is the register maximum, done inside the upserts by the SQL
 * function canary_hll_merge(a, b), so a window or a contribution keeps
 * one sketch however many batches it gathers; merging one twice changes
 * nothing.
 */
#ifndef CS_SKETCH_BLOB_H
#define CS_SKETCH_BLOB_H

#include <stddef.h>
#include <stdint.h>

struct sqlite3;

/* Merge a stored sketch into regs[] (CANARY__HLL_REGS(CANARY__HLL_P));
 * NULL or empty: nothing. CANARY_ESTORAGE when it is corrupt. */
int cs_sketch_blob_add_to(const void *blob, size_t len, uint8_t *regs);

/* Register canary_hll_merge(a, b) on `db` (NULL a or b: the other). */
int cs_sketch_blob_register(struct sqlite3 *db);

#endif
