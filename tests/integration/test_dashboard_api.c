/*
 * test_dashboard_api.c - what the dashboard needs from canary-server,
 * over HTTP: its files at /ui/ without a credential and with a strict
 * Content-Security-Policy, the charting library's files from --ui-lib-dir
 * and nothing else from there, GET /v1/admin/whoami, the series of a
 * rollout (GET /v1/admin/rollouts/{flag}/series), a dashboard on a
 * listener of its own (--ui-listen) or none (--no-ui).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "harness.h"

static char lib_dir[300];

/* The raw answer (status line, headers, body) to GET `path`. */
static char *raw_get(const srv *s, const char *path)
{
	char req[512], *buf = calloc(1, 1 << 17);
	size_t len = 0;
	int fd = raw_connect(s);

	assert_non_null(buf);
	assert_true(fd >= 0);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: test\r\n"
		"Connection: close\r\n\r\n", path);
	assert_int_equal(write(fd, req, strlen(req)), (ssize_t)strlen(req));
	read_until(fd, buf, 1 << 17, &len, "\r\n\r\n");
	/* Then the rest, until the server closes. */
	read_until(fd, buf, 1 << 17, &len, "\x01never\x01");
	close(fd);
	return buf;
}

static long status_of(const srv *s, const char *path, const char *token)
{
	return http_status(s, "GET", path, token, NULL);
}

static cJSON *get_json(const srv *s, const char *path)
{
	resp r;
	cJSON *doc;

	assert_int_equal(http(s, "GET", path, ADMIN_TOKEN, NULL, NULL, &r), 0);
	if (r.status != 200)
		fail_msg("GET %s: HTTP %ld %s", path, r.status, r.body);
	doc = cJSON_Parse(r.body);
	resp_free(&r);
	assert_non_null(doc);
	return doc;
}

static void post_ok(const char *path, const char *body, long want)
{
	long got = http_status(&it_server, "POST", path, ADMIN_TOKEN, body);

	if (got != want)
		fail_msg("POST %s: HTTP %ld, not %ld", path, got, want);
}

/* A fake charting library: the test must not depend on the package. */
static void make_lib_dir(void)
{
	char path[400];
	FILE *f;

	snprintf(lib_dir, sizeof(lib_dir), "%s/lib", it_server.dir);
	assert_int_equal(mkdir(lib_dir, 0755), 0);
	snprintf(path, sizeof(path), "%s/extras", lib_dir);
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path, sizeof(path), "%s/dygraph.min.js", lib_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("/* the charting library */\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/extras/shapes.js", lib_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("/* shapes */\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/notes.txt", lib_dir);
	assert_non_null(f = fopen(path, "w"));
	fputs("not for the browser\n", f);
	fclose(f);
}

static int setup(void **state)
{
	const char *extra[] = { "--ui-lib-dir", lib_dir, NULL };

	if (it_setup(state) != 0)
		return -1;
	/* Again, with the library the lib dir made in the server's dir. */
	make_lib_dir();
	return srv_restart(&it_server, extra);
}

static void test_ui_files_need_no_credential_and_carry_a_strict_policy(
	void **state)
{
	char *page, *body;

	(void)state;
	page = raw_get(&it_server, "/ui/");
	assert_non_null(strstr(page, "HTTP/1.1 200"));
	assert_non_null(strstr(page, "text/html"));
	assert_non_null(strstr(page, "Content-Security-Policy: default-src "
		"'self'; script-src 'self'; style-src 'self';"));
	assert_non_null(strstr(page, "frame-ancestors 'none'"));
	assert_non_null(strstr(page, "X-Content-Type-Options: nosniff"));
	assert_non_null(strstr(page, "X-Frame-Options: DENY"));
	assert_non_null(strstr(page, "Referrer-Policy: no-referrer"));
	/* No inline script or style: every script has a src, no style
	 * attribute, no <style>. */
	body = strstr(page, "\r\n\r\n");
	assert_non_null(body);
	assert_non_null(strstr(body, "<script type=\"module\" src=\"app.js\">"));
	for (char *p = strstr(body, "<script"); p; p = strstr(p + 1, "<script"))
		assert_true(strstr(p, ">") > strstr(p, "src="));
	assert_null(strstr(body, "style="));
	assert_null(strstr(body, "<style"));
	free(page);

	page = raw_get(&it_server, "/ui/app.js");
	assert_non_null(strstr(page, "HTTP/1.1 200"));
	assert_non_null(strstr(page, "Content-Type: text/javascript"));
	assert_non_null(strstr(page, "Content-Security-Policy:"));
	free(page);
	page = raw_get(&it_server, "/ui");
	assert_non_null(strstr(page, "HTTP/1.1 301"));
	assert_non_null(strstr(page, "Location: /ui/"));
	free(page);
	assert_int_equal(status_of(&it_server, "/ui/nothing.js", NULL), 404);
}

static void test_the_library_comes_from_its_directory_only(void **state)
{
	char *page;

	(void)state;
	page = raw_get(&it_server, "/ui/lib/dygraph.min.js");
	assert_non_null(strstr(page, "HTTP/1.1 200"));
	assert_non_null(strstr(page, "Content-Type: text/javascript"));
	assert_non_null(strstr(page, "/* the charting library */"));
	free(page);
	assert_int_equal(status_of(&it_server, "/ui/lib/extras/shapes.js",
		NULL), 200);
	/* Not a script or a style sheet, not there, not a plain name. */
	assert_int_equal(status_of(&it_server, "/ui/lib/notes.txt", NULL),
		404);
	assert_int_equal(status_of(&it_server, "/ui/lib/none.js", NULL), 404);
	assert_int_equal(status_of(&it_server, "/ui/lib/%2e%2e%2fcanary.db",
		NULL), 404);
	assert_int_equal(status_of(&it_server, "/ui/lib/..%2f..%2fx.js", NULL),
		404);
	assert_int_equal(status_of(&it_server, "/ui/lib/.hidden.js", NULL),
		404);
	assert_int_equal(status_of(&it_server, "/ui/lib/extras/../x.js", NULL),
		404);
}

static void test_whoami(void **state)
{
	cJSON *doc;

	(void)state;
	assert_int_equal(status_of(&it_server, "/v1/admin/whoami", NULL), 401);
	assert_int_equal(status_of(&it_server, "/v1/admin/whoami", SDK_KEY),
		401);
	doc = get_json(&it_server, "/v1/admin/whoami");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(doc,
		"name")), "admin");
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(doc,
		"role")), "admin");
	cJSON_Delete(doc);
}

static double num_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItem(b ? cJSON_GetObjectItem(o, a) :
		o, b ? b : a);

	return cJSON_IsNumber(v) ? v->valuedouble : -1;
}

static void send_events(const char *id, const char *arm, unsigned n,
	unsigned errors)
{
	char *b = batch_json(id, "series-flag", arm, n, errors);

	assert_non_null(b);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY,
		b), 202);
	free(b);
}

static void test_series(void **state)
{
	cJSON *doc, *points, *p, *steps, *d;
	double stable = 0, canary = 0, first;

	(void)state;
	assert_int_equal(status_of(&it_server,
		"/v1/admin/rollouts/series-flag/series", NULL), 401);
	post_ok("/v1/admin/flags", "{\"key\": \"series-flag\", "
		"\"rollout_bp\": 0, \"enabled\": true}", 201);
	assert_int_equal(status_of(&it_server,
		"/v1/admin/rollouts/series-flag/series", ADMIN_TOKEN), 404);
	post_ok("/v1/admin/rollouts", "{\"flag\": \"series-flag\", "
		"\"interval\": \"1h\", \"min_soak\": \"1h\", \"max_step\": \"2h\"}",
		201);
	send_events("5e51e5000000000000000000000000a1", "stable", 900, 3);
	send_events("5e51e5000000000000000000000000a2", "canary", 100, 2);
	send_events("5e51e5000000000000000000000000a3", "canary", 50, 0);

	doc = get_json(&it_server, "/v1/admin/rollouts/series-flag/series");
	assert_int_equal(num_at(doc, "window_ms", NULL), 1000);
	assert_true(num_at(doc, "bucket_ms", NULL) >= 1000);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "rollout"), "state")), "running");
	points = cJSON_GetObjectItem(doc, "points");
	assert_true(cJSON_GetArraySize(points) >= 1);
	cJSON_ArrayForEach(p, points) {
		stable += num_at(p, "stable", "exposures");
		canary += num_at(p, "canary", "exposures");
		assert_true(num_at(p, "time_ms", NULL) >=
			num_at(doc, "from_ms", NULL));
	}
	assert_true(stable == 900 && canary == 150);
	p = cJSON_GetArrayItem(points, cJSON_GetArraySize(points) - 1);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(p, "canary"),
		"p99_ms"));
	steps = cJSON_GetObjectItem(doc, "steps");
	assert_int_equal(cJSON_GetArraySize(steps), 1);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(
		cJSON_GetArrayItem(steps, 0), "action")), "start");
	assert_int_equal(num_at(cJSON_GetArrayItem(steps, 0), "to_percent",
		NULL), 1);
	/* The start, and the controller's first evaluation if it came
	 * already (it runs once soon after the start, then every hour). */
	first = num_at(doc, "decisions_total", NULL);
	assert_true(first == 1 || first == 2);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(doc, "evidence")));
	cJSON_Delete(doc);

	/* Operators' actions: a step change for the rollback, to 0%. */
	post_ok("/v1/admin/rollouts/series-flag/pause", NULL, 200);
	post_ok("/v1/admin/rollouts/series-flag/rollback", NULL, 200);
	doc = get_json(&it_server,
		"/v1/admin/rollouts/series-flag/series?decisions=1&points=10");
	/* The pause and the rollback (and that first evaluation, if it came
	 * since): never more. */
	assert_true(num_at(doc, "decisions_total", NULL) >= first + 2 &&
		num_at(doc, "decisions_total", NULL) <= 4);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"decisions")), 1);
	d = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "decisions"), 0);
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(d,
		"action")), "rollback");
	steps = cJSON_GetObjectItem(doc, "steps");
	assert_int_equal(cJSON_GetArraySize(steps), 2);
	assert_int_equal(num_at(cJSON_GetArrayItem(steps, 1), "to_percent",
		NULL), 0);
	/* A finished rollout's range ends a few windows after it did. */
	assert_true(num_at(doc, "to_ms", NULL) > num_at(doc, "rollout",
		"updated_ms"));
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "points")) <=
		10);
	cJSON_Delete(doc);

	/* Bad queries name their field. */
	assert_int_equal(status_of(&it_server,
		"/v1/admin/rollouts/series-flag/series?points=5", ADMIN_TOKEN),
		400);
	assert_int_equal(status_of(&it_server,
		"/v1/admin/rollouts/series-flag/series?decisions=-1",
		ADMIN_TOKEN), 400);
	assert_int_equal(http_status(&it_server, "POST",
		"/v1/admin/rollouts/series-flag/series", ADMIN_TOKEN, NULL), 405);
}

static void test_ui_requests_are_counted(void **state)
{
	resp r;

	(void)state;
	assert_int_equal(http(&it_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	assert_non_null(strstr(r.body, "canary_http_requests_total{endpoint="
		"\"ui\",status=\"200\"}"));
	assert_non_null(strstr(r.body, "canary_http_requests_total{endpoint="
		"\"admin_whoami\",status=\"200\"}"));
	resp_free(&r);
}

/* The "dashboard on URL" line's listener, as a srv to send requests to. */
static void dashboard_listener(const srv *s, srv *ui)
{
	char log[8192];
	const char *at;

	assert_true(srv_read_log(s, log, sizeof(log)) > 0);
	at = strstr(log, "dashboard on http://127.0.0.1:");
	if (!at)
		fail_msg("no dashboard line in: %s", log);
	*ui = *s;
	ui->port = atoi(at + strlen("dashboard on http://127.0.0.1:"));
	snprintf(ui->base, sizeof(ui->base), "http://127.0.0.1:%d", ui->port);
}

static void test_ui_listen(void **state)
{
	const char *extra[] = { "--ui-listen", "127.0.0.1:0", "--ui-lib-dir",
		lib_dir, NULL };
	char log[8192];
	srv s, ui;

	(void)state;
	assert_int_equal(srv_start(&s, extra), 0);
	dashboard_listener(&s, &ui);
	assert_true(ui.port > 0 && ui.port != s.port);
	/* The main listener: no dashboard, everything else. */
	assert_int_equal(status_of(&s, "/ui/", NULL), 404);
	assert_int_equal(status_of(&s, "/v1/flags", SDK_KEY), 200);
	/* The dashboard's: the dashboard and the admin API, nothing else. */
	assert_int_equal(status_of(&ui, "/ui/", NULL), 200);
	assert_int_equal(status_of(&ui, "/ui/lib/dygraph.min.js", NULL), 200);
	assert_int_equal(status_of(&ui, "/v1/admin/whoami", ADMIN_TOKEN), 200);
	assert_int_equal(status_of(&ui, "/v1/admin/whoami", NULL), 401);
	assert_int_equal(status_of(&ui, "/v1/flags", SDK_KEY), 404);
	assert_int_equal(status_of(&ui, "/metrics", NULL), 404);
	assert_int_equal(srv_stop(&s), 0);
	/* Its one-thread listener: no word from libmicrohttpd about a
	 * thread pool (it once said "Zero size ... is ignored"). */
	assert_true(srv_read_log(&s, log, sizeof(log)) > 0);
	assert_null(strstr(log, "Warning"));
	srv_cleanup(&s);
}

static void test_no_ui(void **state)
{
	const char *off[] = { "--no-ui", NULL };
	const char *both[] = { "--no-ui", "--ui-listen", "127.0.0.1:0", NULL };
	char log[8192];
	srv s;

	(void)state;
	assert_int_equal(srv_start(&s, off), 0);
	assert_int_equal(status_of(&s, "/ui/", NULL), 404);
	assert_int_equal(status_of(&s, "/v1/admin/whoami", ADMIN_TOKEN), 200);
	assert_int_equal(srv_stop(&s), 0);
	assert_true(srv_read_log(&s, log, sizeof(log)) > 0);
	assert_null(strstr(log, "dashboard on"));
	srv_cleanup(&s);
	/* Contradicting options: refused, named. */
	assert_int_equal(srv_start(&s, both), -1);
	assert_true(srv_read_log(&s, log, sizeof(log)) > 0);
	assert_non_null(strstr(log, "--no-ui and --ui-listen"));
	srv_cleanup(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(
		test_ui_files_need_no_credential_and_carry_a_strict_policy),
		cmocka_unit_test(test_the_library_comes_from_its_directory_only),
		cmocka_unit_test(test_whoami),
		cmocka_unit_test(test_series),
		cmocka_unit_test(test_ui_requests_are_counted),
		cmocka_unit_test(test_ui_listen),
		cmocka_unit_test(test_no_ui),
	};

	return cmocka_run_group_tests(tests, setup, it_teardown);
}
