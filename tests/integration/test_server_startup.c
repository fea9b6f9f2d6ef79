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

#include <sys/stat.h>
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
	const char *schema = pgt_wanted() ? "\"schema_version\":7" :
		"\"schema_version\":6";
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

/* run_capture, with the server's stderr after its stdout in `out` (a
 * refusal to start is said on stderr). */
static int run_with_stderr(const char *const *argv, const char *const *env,
	char *out, size_t cap)
{
	int fds[2], saved, rc;
	ssize_t got;
	size_t n;

	assert_int_equal(pipe(fds), 0);
	saved = dup(2);
	dup2(fds[1], 2);
	rc = run_capture(argv, env, out, cap);
	dup2(saved, 2);
	close(saved);
	close(fds[1]);
	n = strlen(out);
	got = read(fds[0], out + n, cap - 1 - n);
	out[n + (got > 0 ? (size_t)got : 0)] = '\0';
	close(fds[0]);
	return rc;
}

/* A database URL's password stays out of every message, even when the
 * database cannot be opened; libpq takes a '?' inside the password (it
 * ends at the '@'), so a message must not cut the URL there either. */
static void test_url_password_not_logged(void **state)
{
	static const char *const users[] = { "postgres:hunter2-secret",
		"postgres:hunter2?secret" };
	char db[512], out[4096];
	const char *env[] = { "CANARY_SDK_KEYS=sdk-key-for-tests-0001",
		"CANARY_ADMIN_TOKEN=admin-token-for-tests-0123456789", NULL };
	const char *argv[] = { CANARY_SERVER_BIN, "--listen", "127.0.0.1:0",
		"--db", db, NULL };
	const char *dir = getenv("CANARY_TEST_PG_DIR");
	size_t i;

	(void)state;
	if (!pgt_wanted())
		skip();
	for (i = 0; i < sizeof(users) / sizeof(users[0]); i++) {
		snprintf(db, sizeof(db), "postgresql://%s@/no_such_db?host=%s",
			users[i], dir ? dir : "/tmp");
		assert_int_not_equal(run_with_stderr(argv, env, out,
			sizeof(out)), 0);
		assert_non_null(strstr(out, "postgresql:///no_such_db"));
		assert_null(strstr(out, "hunter2"));
	}
}

/* A role of its own with a password, owning the database `url` names;
 * the role's URL for the same database into `out`. */
static void make_password_role(const char *url, const char *role,
	const char *password, char *out, size_t cap)
{
	const char *p = url + strlen("postgresql:///");
	char sql[512], db[128];

	snprintf(db, sizeof(db), "%.*s", (int)strcspn(p, "?"), p);
	snprintf(sql, sizeof(sql), "DROP ROLE IF EXISTS %s; "
		"CREATE ROLE %s LOGIN PASSWORD '%s'; "
		"ALTER DATABASE %s OWNER TO %s", role, role, password, db, role);
	assert_int_equal(pgt_exec(url, sql), 0);
	snprintf(out, cap, "postgresql:///%s?host=%s&user=%s", db,
		getenv("CANARY_TEST_PG_DIR"), role);
}

/* The URL leaves the password out: libpq finds it in PGPASSFILE. Without
 * it, the server refuses to start and says why, naming no secret. */
static void test_password_file(void **state)
{
	const char *env[] = { "CANARY_SDK_KEYS=sdk-key-for-tests-0001",
		"CANARY_ADMIN_TOKEN=admin-token-for-tests-0123456789",
		"PGPASSFILE=/nonexistent/pgpass", NULL };
	const char *argv[] = { CANARY_SERVER_BIN, "--listen", "127.0.0.1:0",
		"--db", NULL, NULL };
	char admin_url[512], url[512], role[64], password[64];
	char pass_dir[64], pass_file[128];
	char out[4096];
	FILE *f;
	resp r;
	srv s;

	(void)state;
	if (!pgt_wanted())
		skip();
	assert_int_equal(pgt_create(NULL, admin_url, sizeof(admin_url)), 0);
	snprintf(role, sizeof(role), "canary_pw_%ld", (long)getpid());
	snprintf(password, sizeof(password), "pw-%ld-kestrel", (long)getpid());
	make_password_role(admin_url, role, password, url, sizeof(url));

	/* No password anywhere: refused, with libpq's reason. */
	argv[4] = url;
	assert_int_not_equal(run_with_stderr(argv, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "no password supplied"));
	assert_null(strstr(out, password));

	/* The password file, as libpq reads it (0600, any host). */
	snprintf(pass_dir, sizeof(pass_dir), "/tmp/canary-pgpass-XXXXXX");
	assert_non_null(mkdtemp(pass_dir));
	snprintf(pass_file, sizeof(pass_file), "%s/pgpass", pass_dir);
	f = fopen(pass_file, "w");
	assert_non_null(f);
	fprintf(f, "*:*:*:%s:%s\n", role, password);
	fclose(f);
	assert_int_equal(chmod(pass_file, 0600), 0);
	setenv("PGPASSFILE", pass_file, 1);
	assert_int_equal(srv_start_on(&s, url, NULL), 0);
	unsetenv("PGPASSFILE");
	assert_int_equal(http(&s, "GET", "/healthz", NULL, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"backend\":\"postgresql\""));
	resp_free(&r);
	assert_int_equal(http_status(&s, "GET", "/v1/flags", SDK_KEY, NULL),
		200);
	assert_int_equal(srv_stop(&s), 0);
	assert_true(srv_read_log(&s, out, sizeof(out)) > 0);
	assert_null(strstr(out, password));
	srv_cleanup(&s);
	remove(pass_file);
	rmdir(pass_dir);
	pgt_drop(admin_url);
	snprintf(out, sizeof(out), "DROP ROLE IF EXISTS %s", role);
	snprintf(url, sizeof(url), "postgresql:///postgres?host=%s&user=postgres",
		getenv("CANARY_TEST_PG_DIR"));
	assert_int_equal(pgt_exec(url, out), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_refuses_without_secrets),
		cmocka_unit_test(test_insecure_dev),
		cmocka_unit_test(test_schema_and_listen_line),
		cmocka_unit_test(test_url_password_not_logged),
		cmocka_unit_test(test_password_file),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
