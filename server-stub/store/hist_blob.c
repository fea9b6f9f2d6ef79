/*
 * hist_blob.c - encode, decode and merge sparse histogram BLOBs.
 */
#include "store/hist_blob.h"

#include <sqlite3.h>
#include <stdlib.h>

#include "le_codec.h"
#include "saturate.h"

static void put_entry(unsigned char *p, int32_t index, uint64_t count)
{
	canary__le_put(canary__le_put(p, (uint32_t)index, 4), count, 8);
}

static void get_entry(const unsigned char *p, int32_t *index, uint64_t *count)
{
	*index = (int32_t)canary__le32(p);
	*count = canary__le64(p + 4);
}

int cs_hist_blob_encode(const canary__hist_entry *bins, size_t n, unsigned char **out,
	size_t *len)
{
	size_t i;

	*out = NULL;
	*len = n * CS_HIST_BLOB_ENTRY;
	if (n == 0)
		return CANARY_OK;
	*out = malloc(*len);
	if (!*out)
		return CANARY_ENOMEM;
	for (i = 0; i < n; i++)
		put_entry(*out + i * CS_HIST_BLOB_ENTRY, bins[i].index,
			bins[i].count);
	return CANARY_OK;
}

int cs_hist_blob_decode(const unsigned char *blob, size_t len, canary__hist_entry **out,
	size_t *n)
{
	size_t i;

	*out = NULL;
	*n = 0;
	if (len % CS_HIST_BLOB_ENTRY)
		return CANARY_ESTORAGE;
	if (len == 0)
		return CANARY_OK;
	*out = malloc(len / CS_HIST_BLOB_ENTRY * sizeof(**out));
	if (!*out)
		return CANARY_ENOMEM;
	for (i = 0; i < len / CS_HIST_BLOB_ENTRY; i++)
		get_entry(blob + i * CS_HIST_BLOB_ENTRY, &(*out)[i].index,
			&(*out)[i].count);
	*n = i;
	return CANARY_OK;
}

int cs_hist_blob_add_to(const unsigned char *blob, size_t len,
	canary__hist *h)
{
	size_t i;

	if (len % CS_HIST_BLOB_ENTRY)
		return CANARY_ESTORAGE;
	for (i = 0; i < len; i += CS_HIST_BLOB_ENTRY) {
		int32_t index;
		uint64_t count;

		get_entry(blob + i, &index, &count);
		if (canary__hist_add_bin(h, index, count) != CANARY_OK)
			return CANARY_ESTORAGE;
	}
	return CANARY_OK;
}

/* Merge two sorted entry lists into out (room for na + nb entries). */
static size_t merge(const unsigned char *a, size_t na, const unsigned char *b,
	size_t nb, unsigned char *out)
{
	size_t i = 0, j = 0, k = 0;
	int32_t ia = 0, ib = 0;
	uint64_t ca = 0, cb = 0;

	while (i < na || j < nb) {
		if (i < na)
			get_entry(a + i * CS_HIST_BLOB_ENTRY, &ia, &ca);
		if (j < nb)
			get_entry(b + j * CS_HIST_BLOB_ENTRY, &ib, &cb);
		if (j == nb || (i < na && ia < ib)) {
			put_entry(out + k * CS_HIST_BLOB_ENTRY, ia, ca);
			i++;
		} else if (i == na || ib < ia) {
			put_entry(out + k * CS_HIST_BLOB_ENTRY, ib, cb);
			j++;
		} else {
			put_entry(out + k * CS_HIST_BLOB_ENTRY, ia, canary__sat_add(ca, cb));
			i++;
			j++;
		}
		k++;
	}
	return k;
}

static void merge_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	const unsigned char *a, *b;
	size_t la, lb, n;
	unsigned char *out;

	(void)argc;
	if (sqlite3_value_type(argv[0]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[1]);
		return;
	}
	if (sqlite3_value_type(argv[1]) == SQLITE_NULL) {
		sqlite3_result_value(ctx, argv[0]);
		return;
	}
	a = sqlite3_value_blob(argv[0]);
	la = (size_t)sqlite3_value_bytes(argv[0]);
	b = sqlite3_value_blob(argv[1]);
	lb = (size_t)sqlite3_value_bytes(argv[1]);
	if (la % CS_HIST_BLOB_ENTRY || lb % CS_HIST_BLOB_ENTRY) {
		sqlite3_result_error(ctx, "corrupt histogram blob", -1);
		return;
	}
	out = sqlite3_malloc64(la + lb + 1);
	if (!out) {
		sqlite3_result_error_nomem(ctx);
		return;
	}
	n = merge(a, la / CS_HIST_BLOB_ENTRY, b, lb / CS_HIST_BLOB_ENTRY, out);
	sqlite3_result_blob64(ctx, out, n * CS_HIST_BLOB_ENTRY, sqlite3_free);
}

/* A stored count as a count: a negative one is 0, a REAL one (written by
 * SQLite's + before canary_sat_add) as large as it says, at most the
 * largest count. */
static uint64_t count_of(sqlite3_value *v)
{
	double d;
	sqlite3_int64 i;

	if (sqlite3_value_type(v) == SQLITE_FLOAT) {
		d = sqlite3_value_double(v);
		return !(d > 0) ? 0 : d >= (double)CANARY__MAX_COUNT ?
			CANARY__MAX_COUNT : (uint64_t)d;
	}
	i = sqlite3_value_int64(v);
	return i < 0 ? 0 : (uint64_t)i;
}

static void sat_add_fn(sqlite3_context *ctx, int argc, sqlite3_value **argv)
{
	(void)argc;
	sqlite3_result_int64(ctx, (sqlite3_int64)canary__sat_count(
		count_of(argv[0]), count_of(argv[1])));
}

int cs_hist_blob_register(sqlite3 *db)
{
	int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_DIRECTONLY;

	return sqlite3_create_function_v2(db, "canary_hist_merge", 2, flags,
		NULL, merge_fn, NULL, NULL, NULL) == SQLITE_OK &&
		sqlite3_create_function_v2(db, "canary_sat_add", 2, flags, NULL,
		sat_add_fn, NULL, NULL, NULL) == SQLITE_OK ? CANARY_OK :
		CANARY_ESTORAGE;
}
