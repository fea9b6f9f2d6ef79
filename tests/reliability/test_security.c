/*
 * test_security.c - the security properties (docs/reliability.md), against the real
 * canary-server on 127.0.0.1 (ephemeral port, temp database):
 *
 *  - TLS: a server with a certificate from a throwaway CA (made with the
 *    openssl CLI at test time) is refused unless the client is given that
 *    CA (ca_file); a wrong CA or a host name the certificate does not name
 *    is refused too; tls_insecure connects and warns. Thread and no-thread.
 *    canaryctl the same way (--cacert, CANARY_CACERT).
 *  - Authentication on every endpoint: no token, a wrong one, a prefix of
 *    the right one, another scheme, and the other role's secret are all
 *    401 (the SDK key never reaches the admin API, the admin token is not
 *    an SDK key).
 *  - No secret in any log line: client logs at DEBUG and the server's log,
 *    through auth failures, fetches, stream changes, server death and
 *    recovery, and rejected admin requests.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "harness.h"

/* ---- certificates ---- */

typedef struct certs {
	char *dir;
	char ca[300], cert[300], key[300], other_ca[300];
} certs;

static int sh(const char *cmd)
{
	int rc = system(cmd);

	if (rc != 0)
		fprintf(stderr, "failed (%d): %s\n", rc, cmd);
	return rc;
}

/* A CA, a server certificate it signs for IP 127.0.0.1 only, and an
 * unrelated second CA. */
static int make_certs(certs *c)
{
	char cmd[2048];
	const char *d;

	c->dir = dp_tmpdir();
	d = c->dir;
	snprintf(c->ca, sizeof(c->ca), "%s/ca.pem", d);
	snprintf(c->cert, sizeof(c->cert), "%s/server.pem", d);
	snprintf(c->key, sizeof(c->key), "%s/server.key", d);
	snprintf(c->other_ca, sizeof(c->other_ca), "%s/other-ca.pem", d);
	snprintf(cmd, sizeof(cmd),
		"cd %s && exec >openssl.log 2>&1 && "
		"openssl req -x509 -newkey rsa:2048 -nodes -keyout ca.key "
		"-out ca.pem -days 2 -subj '/CN=libcanary test CA' && "
		"openssl req -x509 -newkey rsa:2048 -nodes -keyout other.key "
		"-out other-ca.pem -days 2 -subj '/CN=libcanary other CA' && "
		"openssl req -newkey rsa:2048 -nodes -keyout server.key "
		"-out server.csr -subj '/CN=127.0.0.1' && "
		"printf 'subjectAltName=IP:127.0.0.1\\nbasicConstraints=CA:FALSE\\n'"
		" >ext && "
		"openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key "
		"-CAcreateserial -out server.pem -days 2 -extfile ext", d);
	return sh(cmd);
}

/* ---- TLS ---- */

static srv tls_srv;
static certs tls_certs;
static char https_url[64], https_localhost[64];

static int tls_setup(void **state)
{
	const char *extra[] = { "--tls-cert", tls_certs.cert, "--tls-key",
		tls_certs.key, NULL };

	(void)state;
	if (system("command -v openssl >/dev/null 2>&1") != 0) {
		fprintf(stderr, "openssl CLI not found: TLS tests skipped\n");
		return 0;
	}
	if (make_certs(&tls_certs) != 0 || srv_start(&tls_srv, extra) != 0)
		return -1;
	snprintf(https_url, sizeof(https_url), "https://127.0.0.1:%d",
		tls_srv.port);
	snprintf(https_localhost, sizeof(https_localhost),
		"https://localhost:%d", tls_srv.port);
	return 0;
}

static int tls_teardown(void **state)
{
	(void)state;
	srv_cleanup(&tls_srv);
	if (tls_certs.dir)
		dp_tmpdir_free(tls_certs.dir);
	return 0;
}

static void tls_options(canary_options *o, const char *url, dp_log *log)
{
	dp_options(o, url, NULL, log, NULL);
	o->sdk_key = SDK_KEY;
}

/* The first attempt fails: OFFLINE, no config, and the log says why. */
static void expect_refused(const char *url, const char *ca_file)
{
	canary_options o;
	canary_client *c = NULL;
	dp_log *log = dp_log_new();

	if (!tls_srv.pid)
		skip();
	tls_options(&o, url, log);
	o.ca_file = ca_file;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait_status(c, CANARY_STATUS_OFFLINE));
	assert_int_equal(canary_client_config_version(c), 0);
	assert_int_not_equal(canary_client_status(c), CANARY_STATUS_READY);
	canary_client_free(c);
	if (getenv("CANARY_TEST_SHOW_LOG"))
		dp_log_dump(log);
	if (dp_log_count(log, "SSL") + dp_log_count(log, "certificate") == 0) {
		dp_log_dump(log);
		fail_msg("no TLS error was logged");
	}
	dp_log_free(log);
}

static void test_tls_refused_without_ca(void **state)
{
	(void)state;
	expect_refused(https_url, NULL);
}

static void test_tls_refused_with_wrong_ca(void **state)
{
	(void)state;
	expect_refused(https_url, tls_certs.other_ca);
}

/* The right CA, but the certificate names 127.0.0.1, not "localhost". */
static void test_tls_refused_wrong_host(void **state)
{
	(void)state;
	expect_refused(https_localhost, tls_certs.ca);
}

/* Connects: READY with the service's config. */
static void expect_ready(const char *ca_file, bool insecure, dp_log *log)
{
	canary_options o;
	canary_client *c = NULL;

	if (!tls_srv.pid)
		skip();
	tls_options(&o, https_url, log);
	o.ca_file = ca_file;
	o.tls_insecure = insecure;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	assert_true(canary_client_config_version(c) >= 1);
	canary_client_free(c);
}

static void test_tls_with_ca(void **state)
{
	(void)state;
	expect_ready(tls_certs.ca, false, NULL);
}

static void test_tls_insecure_warns(void **state)
{
	dp_log *log = dp_log_new();

	(void)state;
	expect_ready(NULL, true, log);
	assert_true(dp_log_count(log, "tls_insecure") >= 1);
	dp_log_free(log);
}

/* canaryctl against the TLS server: `cacert` as --cacert (NULL: none),
 * `env_cacert` as CANARY_CACERT (NULL: unset), `url` its --server. The
 * exit status; its stderr in err. */
static int ctl_tls(const char *url, const char *cacert,
	const char *env_cacert, char *err, size_t cap)
{
	char cmd[2048], file[400];
	FILE *f;
	size_t n = 0;
	int rc;

	snprintf(file, sizeof(file), "%s/ctl.err", tls_certs.dir);
	snprintf(cmd, sizeof(cmd), "env -u CANARY_CACERT %s%s "
		"CANARY_ADMIN_TOKEN=%s '%s' --server '%s' %s%s%s flag list "
		">/dev/null 2>'%s'", env_cacert ? "CANARY_CACERT=" : "",
		env_cacert ? env_cacert : "", ADMIN_TOKEN, CANARYCTL_BIN, url,
		cacert ? "--cacert '" : "", cacert ? cacert : "",
		cacert ? "'" : "", file);
	rc = system(cmd);
	err[0] = '\0';
	if ((f = fopen(file, "r"))) {
		n = fread(err, 1, cap - 1, f);
		fclose(f);
	}
	err[n] = '\0';
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* canaryctl verifies the server too: refused (network, 3) without the
 * CA, with another CA or for a name the certificate does not hold;
 * --cacert or CANARY_CACERT trusts the right one; a file it cannot read
 * is a usage error (2) that names it. */
static void test_tls_canaryctl(void **state)
{
	char err[4096];

	(void)state;
	if (!tls_srv.pid)
		skip();
	assert_int_equal(ctl_tls(https_url, NULL, NULL, err, sizeof(err)), 3);
	assert_non_null(strstr(err, "certificate"));
	assert_int_equal(ctl_tls(https_url, tls_certs.other_ca, NULL, err,
		sizeof(err)), 3);
	assert_int_equal(ctl_tls(https_localhost, tls_certs.ca, NULL, err,
		sizeof(err)), 3);
	assert_int_equal(ctl_tls(https_url, tls_certs.ca, NULL, err,
		sizeof(err)), 0);
	assert_int_equal(ctl_tls(https_url, NULL, tls_certs.ca, err,
		sizeof(err)), 0);
	/* --cacert wins over the environment. */
	assert_int_equal(ctl_tls(https_url, tls_certs.other_ca, tls_certs.ca,
		err, sizeof(err)), 3);
	assert_int_equal(ctl_tls(https_url, "/nonexistent/ca.pem", NULL, err,
		sizeof(err)), 2);
	assert_non_null(strstr(err, "--cacert"));
	assert_non_null(strstr(err, "/nonexistent/ca.pem"));
}

/* No-thread mode: tick on the real clock until READY (or patience). */
static void tick_until_ready(canary_client *c)
{
	uint64_t start = dp_now_ms();

	while (canary_client_status(c) != CANARY_STATUS_READY &&
	    dp_now_ms() - start < DP_PATIENCE_MS) {
		assert_int_equal(canary_client_tick(c, dp_now_ms()), CANARY_OK);
		dp_sleep_ms(5);
	}
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
}

static void test_tls_with_ca_no_thread(void **state)
{
	canary_options o;
	canary_client *c = NULL;

	(void)state;
	if (!tls_srv.pid)
		skip();
	tls_options(&o, https_url, NULL);
	o.ca_file = tls_certs.ca;
	o.no_thread = true;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	tick_until_ready(c);
	assert_true(canary_client_config_version(c) >= 1);
	canary_client_free(c);
}

/* ---- authentication on every endpoint ---- */

static srv plain_srv;

static int plain_setup(void **state)
{
	(void)state;
	return srv_start(&plain_srv, NULL);
}

static int plain_teardown(void **state)
{
	(void)state;
	srv_cleanup(&plain_srv);
	return 0;
}

typedef struct endpoint {
	const char *method, *path, *body;
	bool admin;
} endpoint;

static const endpoint endpoints[] = {
	{ "GET", "/v1/flags", NULL, false },
	{ "GET", "/v1/stream", NULL, false },
	{ "POST", "/v1/events", "{}", false },
	{ "GET", "/v1/admin/flags", NULL, true },
	{ "POST", "/v1/admin/flags", "{\"key\":\"x\",\"rollout_bp\":1}", true },
	{ "GET", "/v1/admin/flags/x", NULL, true },
	{ "PUT", "/v1/admin/flags/x", "{\"rollout_bp\":1}", true },
	{ "PATCH", "/v1/admin/flags/x", "{\"rollout_bp\":1}", true },
	{ "DELETE", "/v1/admin/flags/x", NULL, true },
	{ "GET", "/v1/admin/flags/x/stats", NULL, true },
	{ "GET", "/v1/admin/rollouts", NULL, true },
	{ "POST", "/v1/admin/rollouts", "{\"flag\":\"x\"}", true },
	{ "GET", "/v1/admin/rollouts/x", NULL, true },
	{ "POST", "/v1/admin/rollouts/x/pause", "{}", true },
	{ "POST", "/v1/admin/rollouts/x/resume", "{}", true },
	{ "POST", "/v1/admin/rollouts/x/promote", "{}", true },
	{ "POST", "/v1/admin/rollouts/x/rollback", "{}", true },
};

static long status_with_header(const endpoint *e, const char *header)
{
	const char *headers[] = { header, NULL };
	resp r;
	long status;

	memset(&r, 0, sizeof(r));
	assert_int_equal(http(&plain_srv, e->method, e->path, NULL, e->body,
		headers, &r), 0);
	status = r.status;
	resp_free(&r);
	return status;
}

static void test_auth_every_endpoint(void **state)
{
	/* The token in another header than Authorization. */
	const char *const right_prefix = "X-Api-Key: " SDK_KEY;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(endpoints) / sizeof(*endpoints); i++) {
		const endpoint *e = &endpoints[i];
		const char *own = e->admin ? ADMIN_TOKEN : SDK_KEY;
		const char *other = e->admin ? SDK_KEY : ADMIN_TOKEN;
		char prefix[128], longer[128], basic[160];

		snprintf(prefix, sizeof(prefix), "%.*s", (int)strlen(own) - 1,
			own);
		snprintf(longer, sizeof(longer), "%sx", own);
		snprintf(basic, sizeof(basic), "Authorization: Basic %s", own);
		print_message("%s %s\n", e->method, e->path);
		assert_int_equal(http_status(&plain_srv, e->method, e->path, NULL,
			e->body), 401);
		assert_int_equal(http_status(&plain_srv, e->method, e->path,
			"wrong", e->body), 401);
		assert_int_equal(http_status(&plain_srv, e->method, e->path, "",
			e->body), 401);
		assert_int_equal(http_status(&plain_srv, e->method, e->path,
			prefix, e->body), 401);
		assert_int_equal(http_status(&plain_srv, e->method, e->path,
			longer, e->body), 401);
		assert_int_equal(http_status(&plain_srv, e->method, e->path,
			other, e->body), 401);
		assert_int_equal(status_with_header(e, basic), 401);
		assert_int_equal(status_with_header(e, right_prefix), 401);
		/* And the right secret gets past authentication (the stream
		 * would stay open: not asked). */
		if (strcmp(e->path, "/v1/stream") != 0)
			assert_int_not_equal(http_status(&plain_srv, e->method,
				e->path, own, e->body), 401);
	}
}

/* ---- no secret in any log line ---- */

#define WRONG_SDK_KEY "sdk-wrong-key-SECRET-A-0001"
#define WRONG_ADMIN "admin-wrong-token-SECRET-B-0002"

static const char *const secrets[] = {
	SDK_KEY, ADMIN_TOKEN, WRONG_SDK_KEY, WRONG_ADMIN, "Bearer"
};

static void assert_no_secret(const char *what, dp_log *log, const char *text)
{
	size_t i;

	for (i = 0; i < sizeof(secrets) / sizeof(*secrets); i++) {
		if (log && dp_log_count(log, secrets[i]) != 0) {
			dp_log_dump(log);
			fail_msg("%s: a log line holds \"%s\"", what, secrets[i]);
		}
		if (text && strstr(text, secrets[i]))
			fail_msg("%s: the log holds \"%s\":\n%s", what, secrets[i],
				text);
	}
}

static void put_flag(int bp)
{
	char body[64];

	snprintf(body, sizeof(body), "{\"rollout_bp\":%d}", bp);
	assert_int_equal(http_status(&plain_srv, "PUT", "/v1/admin/flags/f",
		ADMIN_TOKEN, body) / 100, 2);
}

static void test_no_secret_in_logs(void **state)
{
	dp_log *bad_log = dp_log_new(), *log = dp_log_new(),
		*tick_log = dp_log_new();
	canary_client *bad = NULL, *c = NULL, *t = NULL;
	canary_options o;
	char *dir = dp_tmpdir(), listen[64], url[64];
	static char text[1 << 20];
	uint64_t v;
	int i;

	(void)state;
	put_flag(100);
	snprintf(url, sizeof(url), "%s", plain_srv.base);
	snprintf(listen, sizeof(listen), "127.0.0.1:%d", plain_srv.port);

	/* A wrong key: rejected, logged, and the key is not in the line. */
	dp_options(&o, url, NULL, bad_log, NULL);
	o.sdk_key = WRONG_SDK_KEY;
	assert_int_equal(canary_client_new(&bad, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(bad, DP_PATIENCE_MS),
		CANARY_EAUTH);

	/* The right key: fetch, stream, a change, the server killed. */
	dp_options(&o, url, dp_path(dir, "cache.db"), log, NULL);
	o.sdk_key = SDK_KEY;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	v = canary_client_config_version(c);
	put_flag(5000);
	assert_true(dp_wait_version(c, v + 1));

	/* No-thread mode with the right key. */
	dp_options(&o, url, NULL, tick_log, NULL);
	o.sdk_key = SDK_KEY;
	o.no_thread = true;
	assert_int_equal(canary_client_new(&t, &o), CANARY_OK);
	tick_until_ready(t);

	/* Rejected and malformed requests, for the server's log. */
	for (i = 0; i < 3; i++) {
		http_status(&plain_srv, "GET", "/v1/admin/flags", WRONG_ADMIN, NULL);
		http_status(&plain_srv, "POST", "/v1/admin/flags", SDK_KEY, "{}");
		http_status(&plain_srv, "GET", "/v1/flags", WRONG_SDK_KEY, NULL);
		http_status(&plain_srv, "POST", "/v1/events", SDK_KEY, "{not json");
		http_status(&plain_srv, "POST", "/v1/admin/flags", ADMIN_TOKEN,
			"{\"key\": 5}");
	}

	/* The server dies and comes back on the same port: errors, then
	 * recovery, in the clients' logs. */
	srv_kill9(&plain_srv);
	assert_true(dp_wait_status(c, CANARY_STATUS_OFFLINE));
	for (i = 0; i < 20; i++) {
		canary_client_tick(t, dp_now_ms() + (uint64_t)i * 60000);
		dp_sleep_ms(5);
	}
	{
		const char *extra[] = { "--listen", listen, NULL };

		assert_int_equal(srv_restart(&plain_srv, extra), 0);
	}
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));

	canary_client_free(bad);
	canary_client_free(c);
	canary_client_free(t);

	/* Something was logged, or this test proves nothing. */
	assert_true(dp_log_count(bad_log, "401") + dp_log_count(bad_log,
		"rejected") > 0);
	assert_true(dp_log_count(log, "OFFLINE") > 0);
	assert_true(dp_log_count(tick_log, "READY") > 0);
	assert_no_secret("client (wrong key)", bad_log, NULL);
	assert_no_secret("client", log, NULL);
	assert_no_secret("client (no-thread)", tick_log, NULL);
	assert_true(srv_read_log(&plain_srv, text, sizeof(text)) > 0);
	assert_no_secret("canary-server", NULL, text);
	if (getenv("CANARY_TEST_SHOW_LOG")) {
		dp_log_dump(bad_log);
		dp_log_dump(log);
		dp_log_dump(tick_log);
		fputs(text, stderr);
	}
	dp_log_free(bad_log);
	dp_log_free(log);
	dp_log_free(tick_log);
	dp_tmpdir_free(dir);
}

int main(void)
{
	const struct CMUnitTest tls_tests[] = {
		cmocka_unit_test(test_tls_refused_without_ca),
		cmocka_unit_test(test_tls_refused_with_wrong_ca),
		cmocka_unit_test(test_tls_refused_wrong_host),
		cmocka_unit_test(test_tls_with_ca),
		cmocka_unit_test(test_tls_with_ca_no_thread),
		cmocka_unit_test(test_tls_insecure_warns),
		cmocka_unit_test(test_tls_canaryctl),
	};
	const struct CMUnitTest plain_tests[] = {
		cmocka_unit_test(test_auth_every_endpoint),
		cmocka_unit_test(test_no_secret_in_logs),
	};
	int failed = 0;

	failed += cmocka_run_group_tests_name("tls", tls_tests, tls_setup,
		tls_teardown);
	failed += cmocka_run_group_tests_name("plain", plain_tests, plain_setup,
		plain_teardown);
	return failed;
}
