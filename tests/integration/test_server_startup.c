/*
 * test_server_startup.c - the server refuses to start without secrets
 * (unless --insecure-dev, loudly), rejects bad flags, migrates the schema,
 * and never logs the password of a database URL.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <unistd.h>

#include "harness.h"
#include "pg_testdb.h"

/* Run the server to completion with `env` (keys) and `args`; the server
 * must exit by itself (it is refusing to start). */
static int run_refusal(const char *const *env, const char *a1,
	const char *a2)
{
	const char *argv[] = { CANARY_SERVER_BIN, "--listen", "127.0.0.1:0",
		"--db", "/tmp/canary-it-never.db", a1, a2, NULL };
	char out[4096];
	int rc;

	unsetenv("CANARY_SDK_KEYS");
	unsetenv("CANARY_ADMIN_TOKEN");
	rc = run_capture(argv, env, out, sizeof(out));
	assert_null(strstr(out, "listening"));
	remove("/tmp/canary-it-never.db");
	return rc;
}

static void test_refuses_without_secrets(void **state)
{
	const char *only_sdk[] = { "CANARY_SDK_KEYS=k1234567890", NULL };
	const char *only_admin[] = {
		"CANARY_ADMIN_TOKEN=0123456789abcdef0123", NULL };
	const char *short_token[] = { "CANARY_SDK_KEYS=k1234567890",
		"CANARY_ADMIN_TOKEN=short", NULL };
	const char *same[] = { "CANARY_SDK_KEYS=0123456789abcdef0123",
		"CANARY_ADMIN_TOKEN=0123456789abcdef0123", NULL };
	const char *ok[] = { "CANARY_SDK_KEYS=k1234567890",
		"CANARY_ADMIN_TOKEN=0123456789abcdef0123", NULL };

	(void)state;
	assert_int_equal(run_refusal(NULL, NULL, NULL), 2);
	assert_int_equal(run_refusal(only_sdk, NULL, NULL), 2);
	assert_int_equal(run_refusal(only_admin, NULL, NULL), 2);
	assert_int_equal(run_refusal(short_token, NULL, NULL), 2);
	assert_int_equal(run_refusal(same, NULL, NULL), 2);
	assert_int_equal(run_refusal(ok, "--window", "0"), 2);
	assert_int_equal(run_refusal(ok, "--bogus", "1"), 2);
	assert_int_equal(run_refusal(ok, "--sync", "sometimes"), 2);
	/* Secrets fine, address not: exits 1. */
	assert_int_equal(run_refusal(ok, "--listen", "no-port-here"), 1);
}

static void test_insecure_dev(void **state)
{
	const char *extra[] = { "--insecure-dev", NULL };
	char text[8192];
	srv s;

	(void)state;
	assert_int_equal(srv_start(&s, extra), 0);
	/* Any key, or none, is accepted in this mode. */
	assert_int_equal(http_status(&s, "GET", "/v1/flags", NULL, NULL), 200);
	assert_int_equal(http_status(&s, "GET", "/v1/admin/flags", "x", NULL),
		200);
	assert_int_equal(srv_stop(&s), 0);
	assert_true(srv_read_log(&s, text, sizeof(text)) > 0);
	assert_non_null(strstr(text, "WARNING: --insecure-dev"));
	srv_cleanup(&s);
}

static void test_schema_and_listen_line(void **state)
{
	/* Each backend numbers its own migrations. */
	const char *schema = pgt_wanted() ? "\"schema_version\":4" :
		"\"schema_version\":3";
	char text[4096], want[64];
	resp r;
	srv s;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	assert_int_equal(http(&s, "GET", "/healthz", NULL, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, schema));
	assert_non_null(strstr(r.body, pgt_wanted() ?
		"\"backend\":\"postgresql\"" : "\"backend\":\"sqlite\""));
	resp_free(&r);
	/* Restart on the migrated database: no migration runs twice. */
	assert_int_equal(srv_restart(&s, NULL), 0);
	assert_int_equal(http(&s, "GET", "/healthz", NULL, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, schema));
	resp_free(&r);
	assert_int_equal(srv_stop(&s), 0);
	assert_true(srv_read_log(&s, text, sizeof(text)) > 0);
	snprintf(want, sizeof(want), "listening on 127.0.0.1:%d\n", s.port);
	assert_non_null(strstr(text, want));
	/* Secrets never reach the log. */
	assert_null(strstr(text, SDK_KEY));
	assert_null(strstr(text, ADMIN_TOKEN));
	srv_cleanup(&s);
}

/* A database URL's password stays out of every message, even when the
 * database cannot be opened. */
static void test_url_password_not_logged(void **state)
{
	char db[512], out[4096];
	const char *env[] = { "CANARY_SDK_KEYS=sdk-key-for-tests-0001",
		"CANARY_ADMIN_TOKEN=admin-token-for-tests-0123456789", NULL };
	const char *argv[] = { CANARY_SERVER_BIN, "--listen", "127.0.0.1:0",
		"--db", db, NULL };
	const char *dir = getenv("CANARY_TEST_PG_DIR");
	int fds[2], saved, rc;
	size_t n;

	(void)state;
	if (!pgt_wanted())
		skip();
	snprintf(db, sizeof(db), "postgresql://postgres:hunter2-secret@/"
		"no_such_db?host=%s", dir ? dir : "/tmp");
	/* The server's stderr into a pipe of ours, with its stdout. */
	assert_int_equal(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	rc = run_capture(argv, env, out, sizeof(out));
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = strlen(out);
	n += (size_t)read(fds[0], out + n, sizeof(out) - 1 - n);
	out[n] = '\0';
	close(fds[0]);
	assert_int_not_equal(rc, 0);
	assert_non_null(strstr(out, "postgresql:///no_such_db"));
	assert_null(strstr(out, "hunter2"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_without_secrets),
		cmocka_unit_test(test_insecure_dev),
		cmocka_unit_test(test_schema_and_listen_line),
		cmocka_unit_test(test_url_password_not_logged),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
