/*
 * fuzz_cache.c - the SQLite cache at cache_path is outside input too: a
 * disk fills, a device loses power, someone copies a file from another
 * version. Whatever the file holds, canary_client_new() must start (the
 * cache never makes it fail), evaluate, and free without a crash or leak.
 *
 * The first byte picks what the fuzzer controls:
 *   0  the whole file (seeded with real cache files, so mutations reach
 *      SQLite's page parser and our schema checks);
 *   1  the cached row: fetched_at_ms and version as raw 64-bit integers,
 *      an ETag of any length, then the body (the staleness arithmetic
 *      meets any clock value);
 *   2  the schema version (64 bits), fetched_at_ms, ETag, body.
 * The client runs with a staleness limit and either stale policy, and
 * writes an event batch into the outbox that shares the file.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "canary/canary.h"
#include "store.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char dir[64];
static char path[128];

static void clean_dir(void);

static void remove_dir(void)
{
	clean_dir();
	rmdir(dir);
}

static void setup_dir(void)
{
	if (dir[0])
		return;
	/* tmpfs when there is one: SQLite's fsyncs dominate on a disk. */
	snprintf(dir, sizeof(dir), "/dev/shm/fuzz_cache.XXXXXX");
	if (!mkdtemp(dir)) {
		snprintf(dir, sizeof(dir), "/tmp/fuzz_cache.XXXXXX");
		if (!mkdtemp(dir))
			abort();
	}
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	atexit(remove_dir);
}

/* Remove the file and whatever the client moved aside or left beside it
 * (<path>.corrupt-*, -journal). */
static void clean_dir(void)
{
	char name[400];
	struct dirent *e;
	DIR *d = opendir(dir);

	if (!d)
		abort();
	while ((e = readdir(d))) {
		if (e->d_name[0] == '.')
			continue;
		snprintf(name, sizeof(name), "%s/%s", dir, e->d_name);
		unlink(name);
	}
	closedir(d);
}

static void write_whole(const uint8_t *data, size_t size)
{
	FILE *f = fopen(path, "wb");

	if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
		abort();
}

static int64_t take_i64(const uint8_t **data, size_t *size)
{
	uint64_t v = 0;
	size_t i;

	for (i = 0; i < 8 && *size; i++, (*data)++, (*size)--)
		v = (v << 8) | **data;
	return (int64_t)v;
}

static void exec_bound(sqlite3 *db, const char *sql, int64_t a, int64_t b,
	const uint8_t *etag, size_t etag_len, const uint8_t *body, size_t len)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK)
		abort();
	/* Parameters a statement does not have are SQLITE_RANGE: fine. */
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	sqlite3_bind_text(st, 3, etag_len ? (const char *)etag : "",
		(int)etag_len, SQLITE_TRANSIENT);
	sqlite3_bind_blob(st, 4, len ? (const void *)body : "", (int)len,
		SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		abort();
	sqlite3_finalize(st);
}

/* A fresh cache file, then the fuzzed values written with SQL. */
static void write_rows(int mode, const uint8_t *data, size_t size)
{
	static const char row[] = "INSERT OR REPLACE INTO config_cache"
		" (id, fetched_at_ms, version, etag, body)"
		" VALUES (1, ?1, ?2, ?3, ?4)";
	canary__store *s = NULL;
	canary__cached cached;
	const uint8_t *etag;
	char note[256];
	size_t etag_len = 0;
	int64_t a, b;

	memset(&cached, 0, sizeof(cached));
	if (canary__store_open(&s, canary__alloc_default(), path, &cached, note,
	    sizeof(note)) != CANARY_OK)
		abort();
	a = take_i64(&data, &size);
	b = take_i64(&data, &size);
	if (size) { /* an ETag of up to 1020 bytes (the limit is 255) */
		etag_len = (size_t)data[0] * 4;
		data++, size--;
		etag_len = etag_len < size ? etag_len : size;
	}
	etag = data;
	data += etag_len, size -= etag_len;
	if (mode == 2) {
		exec_bound(canary__store_db(s), "UPDATE canary_schema SET version"
			" = ?1 WHERE component = 'config_cache'", a, b, NULL, 0,
			NULL, 0);
		a = b, b = 1; /* then a row with version 1 */
	}
	exec_bound(canary__store_db(s), row, a, b, etag, etag_len, data, size);
	canary__store_close(s);
}

static void discard_log(canary_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (!msg)
		abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	canary_options o;
	canary_client *c = NULL;
	canary_details d = CANARY_DETAILS_INIT;
	int mode, rc;

	if (size < 1 || size > 1 << 20)
		return 0;
	setup_dir();
	mode = data[0] % 3;
	if (mode == 0)
		write_whole(data + 1, size - 1);
	else
		write_rows(mode, data + 1, size - 1);

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.cache_path = path;
	o.max_config_age_ms = 60000;
	o.stale_policy = (data[0] / 3) & 1 ? CANARY_STALE_STABLE :
		CANARY_STALE_KEEP;
	o.log_fn = discard_log;
	o.log_level = CANARY_LOG_DEBUG;
	rc = canary_client_new(&c, &o);
	if (rc != CANARY_OK) { /* a cache never stops a client from starting */
		fprintf(stderr, "canary_client_new: %d %s\n", rc,
			canary_error_last());
		abort();
	}
	(void)canary_enabled(c, "all-in", "u1");
	(void)canary_evaluate(c, "none", "u2", &d);
	(void)canary_evaluate(c, "listed", "a", &d);
	(void)canary_client_status(c);
	/* The outbox shares the file: write a batch into whatever is there. */
	(void)canary_record_error(c, "all-in", "u1");
	(void)canary_flush(c, 0);
	canary_client_free(c);
	clean_dir();
	return 0;
}
