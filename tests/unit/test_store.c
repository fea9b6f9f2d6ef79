/*
 * test_store.c - the SQLite config cache: round trip, never downgrade,
 * touch, corrupt and unreadable files moved aside, schema versions.
 */
#define _POSIX_C_SOURCE 200809L
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <dirent.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "store.h"

static char dir[256];
static char path[300];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/canary-test-store-XXXXXX");
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	return 0;
}

static int teardown(void **state)
{
	char cmd[400];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static canary__store *open_ok(canary__cached *cached, char *note)
{
	canary__store *s = NULL;

	assert_int_equal(canary__store_open(&s, canary__alloc_default(), path,
		cached, note, 512), 0);
	assert_non_null(s);
	return s;
}

static void test_round_trip(void **state)
{
	const char *body = "{\"version\": 5, \"flags\": []}";
	canary__cached c;
	canary__store *s;
	char note[512];

	(void)state;
	s = open_ok(&c, note);
	assert_string_equal(note, "");
	assert_null(c.body);
	assert_int_equal(canary__store_save(s, 5, "\"e5\"", 1000, body,
		strlen(body)), 0);
	canary__store_close(s);

	s = open_ok(&c, note);
	assert_non_null(c.body);
	assert_int_equal(c.body_len, strlen(body));
	assert_string_equal(c.body, body);
	assert_int_equal(c.version, 5);
	assert_string_equal(c.etag, "\"e5\"");
	assert_int_equal(c.fetched_at_ms, 1000);
	canary__cached_clear(canary__alloc_default(), &c);

	/* Never downgrade; equal or newer replaces. */
	assert_int_equal(canary__store_save(s, 4, "", 2000, "old", 3),
		CANARY_ESTATE);
	assert_int_equal(canary__store_save(s, 5, "\"e5b\"", 3000, body,
		strlen(body)), 0);
	/* Touch only moves the time forward, and only for that version. */
	assert_int_equal(canary__store_touch(s, 5, 4000), 0);
	assert_int_equal(canary__store_touch(s, 5, 3500), 0);
	assert_int_equal(canary__store_touch(s, 6, 9000), 0);
	canary__store_close(s);

	s = open_ok(&c, note);
	assert_int_equal(c.version, 5);
	assert_string_equal(c.etag, "\"e5b\"");
	assert_int_equal(c.fetched_at_ms, 4000);
	canary__cached_clear(canary__alloc_default(), &c);
	assert_int_equal(canary__store_clear(s), 0);
	canary__store_close(s);
	s = open_ok(&c, note);
	assert_null(c.body);
	canary__store_close(s);
}

static int count_aside(void)
{
	struct dirent *e;
	DIR *d = opendir(dir);
	int n = 0;

	assert_non_null(d);
	while ((e = readdir(d)))
		if (strstr(e->d_name, "cache.db.corrupt-"))
			n++;
	closedir(d);
	return n;
}

static void test_corrupt_file_moved_aside(void **state)
{
	canary__cached c;
	canary__store *s;
	char note[512];
	FILE *f;
	int i;

	(void)state;
	f = fopen(path, "wb");
	assert_non_null(f);
	for (i = 0; i < 1000; i++)
		fputs("this is not a database ", f);
	fclose(f);
	s = open_ok(&c, note);
	assert_non_null(strstr(note, "moved to"));
	assert_null(c.body);
	assert_int_equal(count_aside(), 1);
	/* The rebuilt file works. */
	assert_int_equal(canary__store_save(s, 1, "", 1, "{}", 2), 0);
	canary__store_close(s);
}

static void test_directory_in_the_way(void **state)
{
	canary__cached c;
	canary__store *s;
	char note[512];

	(void)state;
	assert_int_equal(mkdir(path, 0700), 0);
	s = open_ok(&c, note);
	assert_non_null(strstr(note, "moved to"));
	canary__store_close(s);
	assert_int_equal(count_aside(), 1);
}

static void test_schema_table_shared(void **state)
{
	sqlite3_stmt *st;
	canary__cached c;
	canary__store *s;
	char note[512];
	sqlite3 *db;

	(void)state;
	s = open_ok(&c, note);
	db = canary__store_db(s);
	/* Another part of the file (the outbox) registers itself. */
	assert_int_equal(sqlite3_prepare_v2(db, "INSERT INTO canary_schema"
		" (component, version) VALUES ('outbox', 3)", -1, &st, NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	canary__store_close(s);
	s = open_ok(&c, note);
	assert_string_equal(note, "");
	db = canary__store_db(s);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT component, version FROM"
		" canary_schema ORDER BY component", -1, &st, NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
		"config_cache");
	assert_int_equal(sqlite3_column_int(st, 1), CANARY__STORE_SCHEMA);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0),
		"config_parsed");
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_string_equal((const char *)sqlite3_column_text(st, 0), "outbox");
	sqlite3_finalize(st);
	/* A newer SDK's schema: not used, not destroyed. */
	assert_int_equal(sqlite3_prepare_v2(db, "UPDATE canary_schema SET"
		" version = 99 WHERE component = 'config_cache'", -1, &st, NULL), 0);
	assert_int_equal(sqlite3_step(st), SQLITE_DONE);
	sqlite3_finalize(st);
	canary__store_close(s);
	s = NULL;
	assert_int_equal(canary__store_open(&s, canary__alloc_default(), path,
		&c, note, sizeof(note)), CANARY_ESTORAGE);
	assert_null(s);
	assert_non_null(strstr(note, "newer"));
	assert_int_equal(count_aside(), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_round_trip, setup, teardown),
		cmocka_unit_test_setup_teardown(test_corrupt_file_moved_aside,
			setup, teardown),
		cmocka_unit_test_setup_teardown(test_directory_in_the_way, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_schema_table_shared, setup,
			teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
