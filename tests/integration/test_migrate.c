/*
 * test_migrate.c - canary-server migrate: a SQLite database in use (flags,
 * a rollout with its decisions, events) copied into an empty database of
 * the backend under test (SQLite; PostgreSQL as test_migrate_pg): a
 * server on the copy serves the same flags at a higher version (its start
 * moves the version on: an SDK's cached ETag gets the config again), the
 * same rollout history and statistics,
 * and remembers the batches already counted; a database that is not empty
 * is refused; --skip-versions moves the version on; libpq's environment
 * fills what a URL leaves out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "pg_testdb.h"

static char dir[64];
static char dst[2][300];
static srv server;

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/canary-it-mig-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	memset(&server, 0, sizeof(server));
	memset(dst, 0, sizeof(dst));
	return 0;
}

static int teardown(void **state)
{
	char cmd[128];
	int i;

	(void)state;
	srv_cleanup(&server);
	for (i = 0; i < 2; i++)
		if (strstr(dst[i], "://"))
			pgt_drop(dst[i]);
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* An empty database of the backend under test. */
static void empty_db(int i)
{
	if (pgt_wanted())
		assert_int_equal(pgt_create(NULL, dst[i], sizeof(dst[i])), 0);
	else
		snprintf(dst[i], sizeof(dst[i]), "%s/copy-%d.db", dir, i);
}

static int migrate(const char *from, const char *to, const char *skip,
	char *out, size_t cap)
{
	const char *argv[] = { CANARY_SERVER_BIN, "migrate", "--from", from,
		"--to", to, skip ? "--skip-versions" : NULL, skip, NULL };

	return run_capture(argv, NULL, out, cap);
}

/* What a server says about the data: its flags (with ETag), the rollout
 * history, the stats. */
typedef struct seen {
	char etag[128];
	char *flags, *rollout, *stats;
} seen;

static char *body_of(const srv *s, const char *path, const char *auth,
	char *etag)
{
	resp r;
	char *body;

	assert_int_equal(http(s, "GET", path, auth, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	if (etag)
		memcpy(etag, r.etag, sizeof(r.etag));
	body = r.body;
	return body;
}

static void look(const srv *s, seen *out)
{
	out->flags = body_of(s, "/v1/flags", SDK_KEY, out->etag);
	out->rollout = body_of(s, "/v1/admin/rollouts/checkout", ADMIN_TOKEN,
		NULL);
	out->stats = body_of(s, "/v1/admin/flags/checkout/stats", ADMIN_TOKEN,
		NULL);
}

static void forget(seen *s)
{
	free(s->flags);
	free(s->rollout);
	free(s->stats);
}

static void post_batch(const srv *s, const char *id, long want)
{
	char *b = batch_json(id, "checkout", "canary", 40, 2);

	assert_non_null(b);
	assert_int_equal(http_status(s, "POST", "/v1/events", SDK_KEY, b), want);
	free(b);
}

/*
 * The controller looks at a rollout on its first tick after the rollout
 * appears, and records what it saw: a third decision, before or after the
 * pause, and none more within the rollout's interval (1 h). Wait for it,
 * so that the source no longer changes when the test reads it and copies
 * it.
 */
static void await_first_look(const srv *s)
{
	struct timespec pause = { 0, 20 * 1000000L };
	double total = 0;
	long st;
	int i;

	for (i = 0; i < 1500 && total < 3; i++) {
		cJSON *doc = http_json(s, "GET", "/v1/admin/rollouts/checkout",
			NULL, &st);
		const cJSON *t = cJSON_GetObjectItem(doc, "decisions_total");

		assert_int_equal(st, 200);
		total = cJSON_IsNumber(t) ? t->valuedouble : 0;
		cJSON_Delete(doc);
		if (total < 3)
			nanosleep(&pause, NULL);
	}
	assert_true(total == 3);
}

/* A SQLite database with two flags (one with targeting rules), a paused
 * rollout (three decisions: start, pause, the controller's first look)
 * and two batches. */
static void make_source(char *path, size_t cap)
{
	snprintf(path, cap, "%s/source.db", dir);
	assert_int_equal(srv_start_on(&server, path, NULL), 0);
	assert_int_equal(http_status(&server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"checkout\",\"rollout_bp\":0}"), 201);
	assert_int_equal(http_status(&server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"banner\",\"rollout_bp\":0,"
		"\"enabled\":false,\"stickiness\":\"device_id\",\"constraints\":"
		"[{\"contextName\":\"fw\",\"operator\":\"SEMVER_GT\","
		"\"value\":\"1.0.0\"}]}"), 201);
	assert_int_equal(http_status(&server, "POST", "/v1/admin/rollouts",
		ADMIN_TOKEN, "{\"flag\":\"checkout\",\"interval\":\"1h\"}"),
		201);
	assert_int_equal(http_status(&server, "POST",
		"/v1/admin/rollouts/checkout/pause", ADMIN_TOKEN, NULL), 200);
	post_batch(&server, "0000000000000000000000000000000a", 202);
	post_batch(&server, "0000000000000000000000000000000b", 202);
	await_first_look(&server);
}

static void test_migrate_and_serve(void **state)
{
	char src[128], out[2048], line[160];
	const char *hdr[] = { line, NULL };
	seen before, after;
	resp r;

	(void)state;
	make_source(src, sizeof(src));
	look(&server, &before);
	srv_cleanup(&server);

	empty_db(0);
	assert_int_equal(migrate(src, dst[0], NULL, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "2 flags, 1 rollouts, 3 decisions"));
	/* Once only: the copy is not empty any more. */
	assert_int_equal(migrate(src, dst[0], NULL, out, sizeof(out)), 1);

	assert_int_equal(srv_start_on(&server, dst[0], NULL), 0);
	look(&server, &after);
	/* The same flags; the start moved the version on (a copy is a
	 * restore too: no version served before is served again). */
	assert_non_null(strstr(before.flags, "\"operator\":\"SEMVER_GT\""));
	assert_string_equal(strstr(after.flags, "\"flags\""),
		strstr(before.flags, "\"flags\""));
	assert_true(strtod(after.flags + 11, NULL) >
		strtod(before.flags + 11, NULL));
	assert_string_equal(after.rollout, before.rollout);
	assert_string_equal(after.stats, before.stats);
	/* An SDK with the old server's ETag gets the config again, at its
	 * new version. */
	snprintf(line, sizeof(line), "If-None-Match: %s", before.etag);
	assert_int_equal(http(&server, "GET", "/v1/flags", SDK_KEY, NULL, hdr,
		&r), 0);
	assert_int_equal(r.status, 200);
	resp_free(&r);
	/* A batch the old server counted is not counted again. */
	post_batch(&server, "0000000000000000000000000000000a", 202);
	forget(&after);
	look(&server, &after);
	assert_string_equal(after.stats, before.stats);
	forget(&after);
	forget(&before);
}

static void test_skip_versions(void **state)
{
	char src[128], out[2048];
	cJSON *doc;
	double before;
	long st;

	(void)state;
	make_source(src, sizeof(src));
	doc = http_json(&server, "GET", "/v1/flags", NULL, &st);
	assert_int_equal(st, 200);
	before = cJSON_GetObjectItem(doc, "version")->valuedouble;
	cJSON_Delete(doc);
	srv_cleanup(&server);
	empty_db(1);
	assert_int_equal(migrate(src, dst[1], "1000", out, sizeof(out)), 0);
	assert_int_equal(srv_start_on(&server, dst[1], NULL), 0);
	doc = http_json(&server, "GET", "/v1/flags", NULL, &st);
	assert_int_equal(st, 200);
	/* 1000 skipped, and the start moved it on at least once more. */
	assert_true(cJSON_GetObjectItem(doc, "version")->valuedouble >=
		before + 1001);
	cJSON_Delete(doc);
	assert_int_equal(migrate(src, src, NULL, out, sizeof(out)), 2);
}

/* A source file that is not there (a mistyped backup's path) is refused
 * and not created: copying the empty database opening it would make
 * restores nothing, and servers started on that serve no flags. */
static void test_missing_source(void **state)
{
	char src[128], out[2048];

	(void)state;
	snprintf(src, sizeof(src), "%s/no-such-backup.db", dir);
	empty_db(0);
	assert_int_equal(migrate(src, dst[0], NULL, out, sizeof(out)), 1);
	assert_null(strstr(out, "copied"));
	assert_int_not_equal(access(src, F_OK), 0);
}

/* What a PostgreSQL URL leaves out comes from libpq's environment: here
 * the host (the socket's directory) and the user. */
static void test_libpq_environment(void **state)
{
	const char *dir_env = getenv("CANARY_TEST_PG_DIR");
	char src[128], out[2048], host[300], bare[128];
	const char *env[] = { host, "PGUSER=postgres", NULL };
	const char *argv[] = { CANARY_SERVER_BIN, "migrate", "--from", src,
		"--to", bare, NULL };

	(void)state;
	if (!pgt_wanted())
		skip();
	make_source(src, sizeof(src));
	srv_cleanup(&server);
	empty_db(0);
	/* postgresql:///NAME?host=...&user=... without its parameters. */
	snprintf(bare, sizeof(bare), "%.*s", (int)strcspn(dst[0], "?"), dst[0]);
	snprintf(host, sizeof(host), "PGHOST=%s", dir_env ? dir_env : "");
	assert_int_equal(run_capture(argv, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "2 flags"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_and_serve, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_skip_versions, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_libpq_environment, setup,
			teardown),
		cmocka_unit_test_setup_teardown(test_missing_source, setup,
			teardown),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
