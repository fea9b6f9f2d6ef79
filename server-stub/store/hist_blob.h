/*
 * hist_blob.h - a latency histogram stored as one SQLite BLOB.
 *
 * A window row keeps its sparse histogram as a BLOB of 12-byte entries
 * (int32 index, uint64 count, little-endian, indices strictly increasing).
 * Merging two histograms is a merge of two sorted lists, done inside the
 * upsert by the SQL function canary_hist_merge(a, b): ingesting a window is
 * then one statement however many bins it has.
 */
#ifndef CS_HIST_BLOB_H
#define CS_HIST_BLOB_H

#include <stddef.h>
#include <stdint.h>

#include "histogram.h"

struct sqlite3;

#define CS_HIST_BLOB_ENTRY 12

/* Encode sparse bins; *out (caller frees) is NULL when n == 0. */
int cs_hist_blob_encode(const canary__hist_entry *bins, size_t n, unsigned char **out,
	size_t *len);

/* The sparse bins of a stored blob; *out (caller frees) is NULL when there
 * are none. CANARY_ESTORAGE if it is corrupt. */
int cs_hist_blob_decode(const unsigned char *blob, size_t len, canary__hist_entry **out,
	size_t *n);

/* Add a stored blob's counts to `h`; CANARY_ESTORAGE if it is corrupt. */
int cs_hist_blob_add_to(const unsigned char *blob, size_t len,
	canary__hist *h);

/* Register canary_hist_merge(a, b) on `db` (NULL a or b = empty), and
 * canary_sat_add(a, b): a + b of two counts, at most 2^53 - 1
 * (canary__sat_count), where SQLite's own + would turn an overflow into
 * a REAL that later reads wrap. */
int cs_hist_blob_register(struct sqlite3 *db);

#endif
