/*
 * test_config_blob.c - the cache's binary form of a config: it decodes to
 * exactly what the JSON parse gives; a truncated or corrupted blob is
 * refused (never read out of bounds, never a config that breaks the
 * model's invariants); the store keeps it beside the JSON and migrates
 * older files; a client falls back to the JSON when the blob is unusable.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "canary/canary.h"
#include "config.h"
#include "config_blob.h"
#include "store.h"

#define A canary__alloc_default()

static uint32_t rng = 12345;

static uint32_t rnd(uint32_t n)
{
	rng = rng * 1103515245u + 12345u;
	return (rng >> 8) % n;
}

/* A random but valid config document: optional fields present or not,
 * lists unsorted with duplicates, odd bytes in strings. */
static char *random_json(size_t *len)
{
	size_t cap = 1 << 20, n = 0;
	char *s = malloc(cap);
	unsigned i, j, flags = rnd(40);

	assert_non_null(s);
	n += (size_t)snprintf(s + n, cap - n, "{\"version\": %u, \"flags\": [",
		rnd(1000000));
	for (i = 0; i < flags; i++) {
		n += (size_t)snprintf(s + n, cap - n,
			"%s{\"key\": \"k%u-%u\", \"rollout_bp\": %u", i ? ", " : "",
			rnd(50), i, rnd(10001));
		if (rnd(2))
			n += (size_t)snprintf(s + n, cap - n, ", \"salt\": \"%s\"",
				rnd(3) ? "s\\u00e9lt" : "");
		if (rnd(2))
			n += (size_t)snprintf(s + n, cap - n, ", \"enabled\": %s",
				rnd(2) ? "true" : "false");
		if (rnd(2))
			n += (size_t)snprintf(s + n, cap - n,
				", \"variants\": {\"stable\": \"v%u\"%s}", rnd(9),
				rnd(2) ? ", \"canary\": \"c\"" : "");
		if (rnd(2))
			n += (size_t)snprintf(s + n, cap - n, ", \"state\": \"st%u\"",
				rnd(5));
		for (j = 0; j < 2; j++) {
			unsigned k, items = rnd(6);

			if (!rnd(3))
				continue;
			n += (size_t)snprintf(s + n, cap - n, ", \"%s\": [",
				j ? "deny" : "allow");
			for (k = 0; k < items; k++)
				n += (size_t)snprintf(s + n, cap - n, "%s\"u%u\"",
					k ? ", " : "", rnd(8));
			n += (size_t)snprintf(s + n, cap - n, "]");
		}
		n += (size_t)snprintf(s + n, cap - n, "}");
	}
	n += (size_t)snprintf(s + n, cap - n, "]}");
	*len = n;
	return s;
}

static void assert_lists_equal(const canary__strlist *x,
	const canary__strlist *y)
{
	size_t i;

	assert_int_equal(x->count, y->count);
	for (i = 0; i < x->count; i++)
		assert_string_equal(x->items[i], y->items[i]);
}

static void assert_configs_equal(const canary__config *x,
	const canary__config *y)
{
	size_t i;

	assert_int_equal(x->version, y->version);
	assert_int_equal(x->count, y->count);
	for (i = 0; i < x->count; i++) {
		const canary__flag *f = &x->flags[i], *g = &y->flags[i];

		assert_string_equal(f->key, g->key);
		assert_string_equal(f->salt, g->salt);
		assert_int_equal(f->rollout_bp, g->rollout_bp);
		assert_int_equal(f->enabled, g->enabled);
		assert_lists_equal(&f->allow, &g->allow);
		assert_lists_equal(&f->deny, &g->deny);
		assert_string_equal(f->variant_stable, g->variant_stable);
		assert_string_equal(f->variant_canary, g->variant_canary);
		assert_string_equal(f->state, g->state);
	}
}

static canary__config *parse(const char *json, size_t len)
{
	canary__config *c = NULL;
	canary__perror e;

	assert_int_equal(canary__config_parse(A, json, len, &c, &e), CANARY_OK);
	return c;
}

static unsigned char *encode(const canary__config *c, size_t *len)
{
	unsigned char *blob = NULL;

	assert_int_equal(canary__config_blob_encode(A, c, &blob, len),
		CANARY_OK);
	return blob;
}

static void test_round_trip_random(void **state)
{
	int round;

	(void)state;
	for (round = 0; round < 300; round++) {
		size_t len, blob_len, again_len;
		char *json = random_json(&len);
		canary__config *c = parse(json, len), *d = NULL;
		unsigned char *blob = encode(c, &blob_len), *again;

		assert_int_equal(canary__config_blob_decode(A, blob, blob_len, &d),
			CANARY_OK);
		assert_non_null(d->arena);
		assert_configs_equal(c, d);
		/* One canonical encoding. */
		again = encode(d, &again_len);
		assert_int_equal(again_len, blob_len);
		assert_memory_equal(again, blob, blob_len);
		canary__free(A, again);
		canary__free(A, blob);
		canary__config_free(A, c);
		canary__config_free(A, d);
		free(json);
	}
}

/* A decoded blob must be exactly what its encoding says: accepted only if
 * it re-encodes to the same bytes, i.e. nothing was silently fixed up. */
static void check_mutant(const unsigned char *blob, size_t len)
{
	canary__config *d = NULL;
	int rc = canary__config_blob_decode(A, blob, len, &d);

	if (rc == CANARY_OK) {
		size_t again_len;
		unsigned char *again = encode(d, &again_len);

		assert_int_equal(again_len, len);
		assert_memory_equal(again, blob, len);
		canary__free(A, again);
		canary__config_free(A, d);
	} else {
		assert_int_equal(rc, CANARY_EPARSE);
		assert_null(d);
	}
}

static void test_truncated_and_corrupt(void **state)
{
	const char *json = "{\"version\": 7, \"flags\": ["
		"{\"key\": \"a\", \"rollout_bp\": 10, \"allow\": [\"x\", \"y\"]},"
		"{\"key\": \"b\", \"rollout_bp\": 10000, \"deny\": [\"z\"],"
		" \"variants\": {\"stable\": \"s\", \"canary\": \"c\"},"
		" \"state\": \"running\", \"enabled\": false}]}";
	canary__config *c = parse(json, strlen(json)), *d;
	size_t len, i;
	unsigned char *blob = encode(c, &len), *copy;
	unsigned bit;

	(void)state;
	/* Every truncation is refused, from a copy of exactly that size so
	 * ASan sees any read past it. */
	for (i = 0; i < len; i++) {
		copy = malloc(i ? i : 1);
		memcpy(copy, blob, i);
		d = NULL;
		assert_int_equal(canary__config_blob_decode(A, copy, i, &d),
			CANARY_EPARSE);
		assert_null(d);
		free(copy);
	}
	/* Every byte changed in several ways. */
	for (i = 0; i < len; i++) {
		for (bit = 0; bit < 10; bit++) {
			copy = malloc(len);
			memcpy(copy, blob, len);
			copy[i] = (unsigned char)(bit < 8 ? copy[i] ^ (1u << bit) :
				bit == 8 ? 0u : 0xffu);
			check_mutant(copy, len);
			free(copy);
		}
	}
	/* Trailing bytes, an unknown format. */
	copy = malloc(len + 1);
	memcpy(copy, blob, len);
	copy[len] = 0;
	assert_int_equal(canary__config_blob_decode(A, copy, len + 1, &d),
		CANARY_EPARSE);
	copy[0] = CANARY__BLOB_FORMAT + 1;
	assert_int_equal(canary__config_blob_decode(A, copy, len, &d),
		CANARY_EPARSE);
	free(copy);
	assert_int_equal(canary__config_blob_decode(A, NULL, 0, &d),
		CANARY_EPARSE);
	canary__free(A, blob);
	canary__config_free(A, c);
}

static void swap_allow(canary__config *c)
{
	char *tmp = c->flags[0].allow.items[0];

	c->flags[0].allow.items[0] = c->flags[0].allow.items[1];
	c->flags[0].allow.items[1] = tmp;
}

/* Out of order or duplicated keys and list entries break binary search
 * and lookup: refused even though every length is fine. */
static void test_order_checked(void **state)
{
	const char *json = "{\"version\": 1, \"flags\": ["
		"{\"key\": \"a\", \"rollout_bp\": 1, \"allow\": [\"p\", \"q\"]},"
		"{\"key\": \"b\", \"rollout_bp\": 1}]}";
	canary__config *c = parse(json, strlen(json)), *d = NULL;
	char *ka = c->flags[0].key, *kb = c->flags[1].key;
	unsigned char *blob;
	size_t len;

	(void)state;
	c->flags[0].key = kb; /* keys b, a */
	c->flags[1].key = ka;
	blob = encode(c, &len);
	assert_int_equal(canary__config_blob_decode(A, blob, len, &d),
		CANARY_EPARSE);
	canary__free(A, blob);
	c->flags[0].key = ka; /* keys a, a */
	blob = encode(c, &len);
	assert_int_equal(canary__config_blob_decode(A, blob, len, &d),
		CANARY_EPARSE);
	canary__free(A, blob);
	c->flags[1].key = kb;
	swap_allow(c); /* allow q, p */
	blob = encode(c, &len);
	assert_int_equal(canary__config_blob_decode(A, blob, len, &d),
		CANARY_EPARSE);
	canary__free(A, blob);
	swap_allow(c);
	blob = encode(c, &len);
	assert_int_equal(canary__config_blob_decode(A, blob, len, &d),
		CANARY_OK);
	canary__config_free(A, d);
	canary__free(A, blob);
	canary__config_free(A, c);
}

/* ---- the store and the client -------------------------------------------- */

static char dir[256];
static char path[300];

/* One temporary directory per test, holding only cache.db. */
static int fresh_dir(void **state)
{
	(void)state;
	strcpy(dir, "/tmp/canary-test-blob-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	return snprintf(path, sizeof(path), "%s/cache.db", dir) < 0;
}

static int remove_dir(void **state)
{
	(void)state;
	unlink(path);
	return rmdir(dir);
}

static void sql(const char *stmt)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, stmt, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static const char *doc = "{\"version\": 3, \"flags\": [{\"key\": \"f\","
	" \"rollout_bp\": 0, \"allow\": [\"vip\"]}]}";

/* Cache `doc` with `blob` beside it; open a client on the file and check
 * it holds version 3 and the allow list works. */
static void client_sees_doc(void)
{
	canary_options o;
	canary_client *c;
	canary_details d = CANARY_DETAILS_INIT;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.cache_path = path;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_config_version(c), 3);
	canary_evaluate(c, "f", "vip", &d);
	assert_int_equal(d.arm, CANARY_ARM_CANARY);
	canary_evaluate(c, "f", "other", &d);
	assert_int_equal(d.arm, CANARY_ARM_STABLE);
	canary_client_free(c);
}

static void save(const void *blob, size_t len)
{
	canary__store *s;
	char note[512];

	assert_int_equal(canary__store_open(&s, A, path, NULL, note,
		sizeof(note)), CANARY_OK);
	assert_int_equal(canary__store_save_parsed(s, 3, "", 1, doc,
		strlen(doc), blob, len), CANARY_OK);
	canary__store_close(s);
}

/* Open the store on the file: the cached body must be `body`; returns
 * the size of the binary form beside it (0: none). */
static size_t parsed_len(const char *body)
{
	canary__cached cached;
	canary__store *s;
	char note[512];
	size_t len;

	assert_int_equal(canary__store_open(&s, A, path, &cached, note,
		sizeof(note)), CANARY_OK);
	assert_string_equal(note, "");
	assert_string_equal(cached.body, body);
	assert_true((cached.parsed == NULL) == (cached.parsed_len == 0));
	len = cached.parsed_len;
	canary__cached_clear(A, &cached);
	canary__store_close(s);
	return len;
}

static void test_store_and_client(void **state)
{
	canary__config *c = parse(doc, strlen(doc));
	unsigned char *blob;
	canary__cached cached;
	canary__store *s;
	char note[512];
	size_t len;

	(void)state;
	blob = encode(c, &len);
	save(blob, len);
	assert_int_equal(canary__store_open(&s, A, path, &cached, note,
		sizeof(note)), CANARY_OK);
	assert_int_equal(cached.parsed_len, len);
	assert_memory_equal(cached.parsed, blob, len);
	canary__cached_clear(A, &cached);
	canary__store_close(s);
	client_sees_doc();

	/* Garbage, a truncated blob, a blob of another version: the JSON. */
	save("\x01garbage", 8);
	client_sees_doc();
	save(blob, len - 1);
	client_sees_doc();
	c->version = 2; /* decodes fine, but is not the row's config */
	c->flags[0].allow.count = 0;
	canary__free(A, blob);
	blob = encode(c, &len);
	save(blob, len);
	client_sees_doc();
	c->flags[0].allow.count = 1;
	/* A save without a blob drops the old one. */
	save(NULL, 0);
	assert_int_equal(parsed_len(doc), 0);
	client_sees_doc();
	canary__free(A, blob);
	canary__config_free(A, c);
}

/* The schema of the first libcanary, plus `extra` columns; `doc` cached. */
static void old_file(const char *extra)
{
	char stmt[512];

	snprintf(stmt, sizeof(stmt), "CREATE TABLE canary_schema ("
		" component TEXT PRIMARY KEY NOT NULL, version INTEGER NOT NULL);"
		"INSERT INTO canary_schema VALUES ('config_cache', 1);"
		"CREATE TABLE config_cache (id INTEGER PRIMARY KEY CHECK (id = 1),"
		" version INTEGER NOT NULL, etag TEXT NOT NULL DEFAULT '',"
		" fetched_at_ms INTEGER NOT NULL, body BLOB NOT NULL%s)", extra);
	sql(stmt);
	snprintf(stmt, sizeof(stmt), "INSERT INTO config_cache (id, version,"
		" etag, fetched_at_ms, body) VALUES (1, 3, '\"e\"', 5, '%s')", doc);
	sql(stmt);
}

/* Cache `doc` and its binary form through the store, as the worker does. */
static void save_doc_and_blob(void)
{
	canary__config *c = parse(doc, strlen(doc));
	unsigned char *blob;
	size_t len;

	blob = encode(c, &len);
	save(blob, len);
	canary__free(A, blob);
	canary__config_free(A, c);
}

/* A file the migration fails on (here a column in the way; read-only or
 * locked files take the same path) is used without the binary form. */
static void test_migration_fails(void **state)
{
	(void)state;
	old_file(", parsed TEXT");
	assert_int_equal(parsed_len(doc), 0);
	save_doc_and_blob();
	assert_int_equal(parsed_len(doc), 0);
	client_sees_doc();
}

/* A file written before the `parsed` column: read as it is, migrated on
 * open, and an older SDK's write afterwards leaves no stale blob. */
static void test_migration(void **state)
{
	(void)state;
	old_file("");
	assert_int_equal(parsed_len(doc), 0);
	client_sees_doc();
	save_doc_and_blob();
	assert_true(parsed_len(doc) > 0);
	/* The older SDK's own statement, unchanged: */
	sql("INSERT OR REPLACE INTO config_cache (id, version, etag,"
		" fetched_at_ms, body) VALUES (1, 3, '', 9, 'x')");
	assert_int_equal(parsed_len("x"), 0);
}

/* ---- the worker writes it ------------------------------------------------- */

static const char *served_etag;

/* A flag service in the process: every config request gets `doc`. */
static int serve_doc(const canary_http_request *req,
	canary_http_response *resp, void *ctx)
{
	(void)ctx;
	if (req->stream || strcmp(req->method, "GET") != 0)
		return req->stream ? CANARY_ENOTSUP : CANARY_ENETWORK;
	resp->status = 200;
	snprintf(resp->etag, sizeof(resp->etag), "%s", served_etag);
	return req->body_fn(doc, strlen(doc), req->body_ctx) == 0 ? 0 :
		CANARY_ENETWORK;
}

static void fetch_once(void)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9"; /* never contacted: the hook */
	o.sdk_key = "k";
	o.cache_path = path;
	o.no_thread = true;
	o.transport.request = serve_doc;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_tick(c, 1000), CANARY_OK);
	assert_int_equal(canary_client_config_version(c), 3);
	canary_client_free(c);
}

/* A fetched config is cached with its binary form (of the right size; the
 * client then starts from it); a new ETag for the same version keeps it. */
static void test_worker_caches_blob(void **state)
{
	canary__config *c = parse(doc, strlen(doc));
	size_t len;

	(void)state;
	served_etag = "\"e1\"";
	fetch_once();
	canary__free(A, encode(c, &len));
	assert_int_equal(parsed_len(doc), len);
	client_sees_doc();
	served_etag = "\"e2\"";
	fetch_once();
	assert_int_equal(parsed_len(doc), len);
	canary__config_free(A, c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_round_trip_random),
		cmocka_unit_test(test_truncated_and_corrupt),
		cmocka_unit_test(test_order_checked),
		cmocka_unit_test_setup_teardown(test_store_and_client,
			fresh_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_migration, fresh_dir,
			remove_dir),
		cmocka_unit_test_setup_teardown(test_migration_fails, fresh_dir,
			remove_dir),
		cmocka_unit_test_setup_teardown(test_worker_caches_blob, fresh_dir,
			remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
