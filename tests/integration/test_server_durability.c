/*
 * test_server_durability.c - an acknowledged batch survives kill -9; flags
 * and the config version survive restarts; versions never go back; the
 * retention options apply from a start, not an hour after it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pg_testdb.h"


static double canary_exposures(const char *flag)
{
	char path[128];
	cJSON *doc;
	double n;
	resp r;

	snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats", flag);
	assert_int_equal(http(&it_server, "GET", path, ADMIN_TOKEN, NULL, NULL,
		&r), 0);
	assert_int_equal(r.status, 200);
	doc = cJSON_Parse(r.body);
	assert_non_null(doc);
	n = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"arms"), "canary"), "exposures")->valuedouble;
	cJSON_Delete(doc);
	resp_free(&r);
	return n;
}

static long version(void)
{
	resp r;
	long v = -1;

	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, NULL,
		&r), 0);
	assert_int_equal(sscanf(r.body, "{\"version\":%ld", &v), 1);
	resp_free(&r);
	return v;
}

/* Whether /v1/flags holds `text`. */
static bool flags_hold(const char *text)
{
	resp r;
	bool held;

	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, NULL,
		&r), 0);
	held = strstr(r.body, text) != NULL;
	resp_free(&r);
	return held;
}

static void test_kill9_after_202(void **state)
{
	char id[40], *b;
	long v;
	int i;

	(void)state;
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"durable\",\"rollout_bp\":100}"), 201);
	/* Several rounds: post, kill -9 at once after the 202, restart. */
	for (i = 0; i < 3; i++) {
		snprintf(id, sizeof(id), "%032x", 0xd00d0 + i);
		b = batch_json(id, "durable", "canary", 7, 1);
		assert_int_equal(http_status(&it_server, "POST", "/v1/events",
			SDK_KEY, b), 202);
		srv_kill9(&it_server);
		assert_int_equal(srv_restart(&it_server, NULL), 0);
		assert_true(canary_exposures("durable") == 7.0 * (i + 1));
		/* The batch id survived too: a replay is not counted. */
		assert_int_equal(http_status(&it_server, "POST", "/v1/events",
			SDK_KEY, b), 202);
		assert_true(canary_exposures("durable") == 7.0 * (i + 1));
		free(b);
	}
	v = version();
	assert_int_equal(http_status(&it_server, "PATCH",
		"/v1/admin/flags/durable", ADMIN_TOKEN, "{\"rollout_bp\":200}"),
		200);
	srv_kill9(&it_server);
	assert_int_equal(srv_restart(&it_server, NULL), 0);
	/* The change survived; the start moved the version on past it. */
	assert_true(version() > v + 1);
	assert_true(flags_hold("\"rollout_bp\":200"));
	v = version();
	assert_int_equal(http_status(&it_server, "DELETE",
		"/v1/admin/flags/durable", ADMIN_TOKEN, NULL), 200);
	assert_int_equal(srv_restart(&it_server, NULL), 0); /* clean stop */
	assert_true(version() > v + 1);
	assert_false(flags_hold("\"durable\""));
}

/* Run `sql` on the stopped server's database, of either kind. */
static void run_sql(const char *sql)
{
	sqlite3 *db = NULL;

	if (pgt_wanted()) {
		assert_int_equal(pgt_exec(it_server.db, sql), 0);
		return;
	}
	assert_int_equal(sqlite3_open(it_server.db, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* A batch id older than --batch-retention-hours is forgotten soon after
 * a start (a server restarted more often than hourly used to keep them
 * all): sent again, the batch counts again. */
static void test_retention_from_start(void **state)
{
	const char *const args[] = { "--batch-retention-hours", "1", NULL };
	char *b = batch_json("0000000000000000000000000000beef", "aged",
		"canary", 5, 1);
	int i;

	(void)state;
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"aged\",\"rollout_bp\":100}"), 201);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events",
		SDK_KEY, b), 202);
	assert_int_equal(srv_stop(&it_server), 0);
	run_sql("UPDATE batches SET received_ms = 1000");
	assert_int_equal(srv_restart(&it_server, args), 0);
	for (i = 0; i < 100 && canary_exposures("aged") < 10.0; i++) {
		assert_int_equal(http_status(&it_server, "POST", "/v1/events",
			SDK_KEY, b), 202);
		usleep(100 * 1000);
	}
	assert_true(canary_exposures("aged") == 10.0);
	free(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kill9_after_202),
		cmocka_unit_test(test_retention_from_start),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
