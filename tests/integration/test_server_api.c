/*
 * test_server_api.c - every endpoint and every error status of
 * canary-server, against the real binary on 127.0.0.1.
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
#include <time.h>

#include "harness.h"


/* Parse a response body as JSON (fails the test if it is not). */
static cJSON *json_of(const resp *r)
{
	cJSON *doc = cJSON_Parse(r->body);

	assert_non_null(doc);
	return doc;
}

static void assert_error_field(const resp *r, long status, const char *field)
{
	cJSON *doc;
	const cJSON *f;

	assert_int_equal(r->status, status);
	doc = json_of(r);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "error")));
	f = cJSON_GetObjectItem(doc, "field");
	if (field) {
		assert_true(cJSON_IsString(f));
		assert_string_equal(f->valuestring, field);
	}
	cJSON_Delete(doc);
}

static double num_at(const cJSON *obj, const char *a, const char *b,
	const char *c)
{
	const cJSON *v = cJSON_GetObjectItem(obj, a);

	if (b)
		v = cJSON_GetObjectItem(v, b);
	if (c)
		v = cJSON_GetObjectItem(v, c);
	assert_true(cJSON_IsNumber(v));
	return v->valuedouble;
}

static void create_flag(const char *key, int bp)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":%d}", key,
		bp);
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, body), 201);
}

static void test_healthz_metrics_404_405(void **state)
{
	resp r;

	(void)state;
	assert_int_equal(http(&it_server, "GET", "/healthz", NULL, NULL, NULL, &r),
		0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"ok\""));
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "GET", "/nope", SDK_KEY, NULL),
		404);
	assert_int_equal(http_status(&it_server, "DELETE", "/v1/flags", SDK_KEY,
		NULL), 405);
	assert_int_equal(http_status(&it_server, "GET", "/v1/events", SDK_KEY,
		NULL), 405);
	assert_int_equal(http_status(&it_server, "POST", "/healthz", NULL, "{}"),
		405);
}

static void test_auth(void **state)
{
	(void)state;
	assert_int_equal(http_status(&it_server, "GET", "/v1/flags", NULL, NULL),
		401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/flags", "wrong-key",
		NULL), 401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/flags",
		SDK_KEY "x", NULL), 401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/flags", ADMIN_TOKEN,
		NULL), 401);
	/* The SDK key never opens the admin door. */
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags",
		SDK_KEY, NULL), 401);
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		SDK_KEY, "{\"key\":\"x\",\"rollout_bp\":1}"), 401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags", NULL,
		NULL), 401);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", NULL,
		"{}"), 401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/stream", "nope",
		NULL), 401);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags",
		ADMIN_TOKEN, NULL), 200);
}

static void test_etag_304(void **state)
{
	const char *inm[2] = { NULL, NULL };
	char line[200], etag1[128];
	resp r;

	(void)state;
	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, NULL,
		&r), 0);
	assert_int_equal(r.status, 200);
	assert_true(r.etag[0] == '"'); /* strong */
	assert_string_equal(r.content_type, "application/json");
	snprintf(etag1, sizeof(etag1), "%s", r.etag);
	resp_free(&r);

	snprintf(line, sizeof(line), "If-None-Match: %s", etag1);
	inm[0] = line;
	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, inm,
		&r), 0);
	assert_int_equal(r.status, 304);
	assert_int_equal(r.len, 0);
	assert_string_equal(r.etag, etag1);
	resp_free(&r);

	snprintf(line, sizeof(line), "If-None-Match: \"other\", W/%s", etag1);
	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, inm,
		&r), 0);
	assert_int_equal(r.status, 304);
	resp_free(&r);

	/* A change makes the old tag stale: full body, new tag, new version. */
	create_flag("etag-flag", 100);
	snprintf(line, sizeof(line), "If-None-Match: %s", etag1);
	assert_int_equal(http(&it_server, "GET", "/v1/flags", SDK_KEY, NULL, inm,
		&r), 0);
	assert_int_equal(r.status, 200);
	assert_string_not_equal(r.etag, etag1);
	assert_non_null(strstr(r.body, "\"etag-flag\""));
	resp_free(&r);
}

static void test_admin_crud(void **state)
{
	double v1, v2, v3, v4;
	cJSON *doc;
	resp r;

	(void)state;
	assert_int_equal(http(&it_server, "POST", "/v1/admin/flags", ADMIN_TOKEN,
		"{\"key\":\"crud\",\"rollout_bp\":100,\"allow\":[\"u1\"],"
		"\"variants\":{\"stable\":\"v1\",\"canary\":\"v2\"}}", NULL, &r),
		0);
	assert_int_equal(r.status, 201);
	doc = json_of(&r);
	v1 = num_at(doc, "version", NULL, NULL);
	assert_true(num_at(doc, "flag", "rollout_bp", NULL) == 100);
	cJSON_Delete(doc);
	resp_free(&r);

	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, "{\"key\":\"crud\",\"rollout_bp\":1}"), 409);

	assert_int_equal(http(&it_server, "GET", "/v1/admin/flags/crud",
		ADMIN_TOKEN, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"u1\""));
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags/missing",
		ADMIN_TOKEN, NULL), 404);

	/* PATCH merges: only rollout_bp and the canary variant change. */
	assert_int_equal(http(&it_server, "PATCH", "/v1/admin/flags/crud",
		ADMIN_TOKEN, "{\"rollout_bp\":2500,\"variants\":{\"canary\":"
		"\"v3\"}}", NULL, &r), 0);
	assert_int_equal(r.status, 200);
	doc = json_of(&r);
	v2 = num_at(doc, "version", NULL, NULL);
	assert_true(v2 > v1);
	assert_true(num_at(doc, "flag", "rollout_bp", NULL) == 2500);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "flag"), "variants"), "stable")
		->valuestring, "v1");
	cJSON_Delete(doc);
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "PATCH", "/v1/admin/flags/nope",
		ADMIN_TOKEN, "{\"rollout_bp\":1}"), 404);

	/* PUT replaces (200) or creates (201). */
	assert_int_equal(http(&it_server, "PUT", "/v1/admin/flags/crud",
		ADMIN_TOKEN, "{\"rollout_bp\":10000,\"enabled\":false}", NULL, &r),
		0);
	assert_int_equal(r.status, 200);
	doc = json_of(&r);
	v3 = num_at(doc, "version", NULL, NULL);
	assert_true(v3 > v2);
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"flag"), "enabled")));
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "flag"), "allow")), 0);
	cJSON_Delete(doc);
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "PUT", "/v1/admin/flags/put-new",
		ADMIN_TOKEN, "{\"rollout_bp\":5}"), 201);

	assert_int_equal(http(&it_server, "GET", "/v1/admin/flags", ADMIN_TOKEN,
		NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body, "\"put-new\""));
	resp_free(&r);

	assert_int_equal(http(&it_server, "DELETE", "/v1/admin/flags/crud",
		ADMIN_TOKEN, NULL, NULL, &r), 0);
	assert_int_equal(r.status, 200);
	doc = json_of(&r);
	v4 = num_at(doc, "version", NULL, NULL);
	assert_true(v4 > v3);
	cJSON_Delete(doc);
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "DELETE", "/v1/admin/flags/crud",
		ADMIN_TOKEN, NULL), 404);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags/crud",
		ADMIN_TOKEN, NULL), 404);
}

static void test_admin_bad_input(void **state)
{
	static const struct {
		const char *method, *path, *body, *field;
	} cases[] = {
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\",\"rollout_bp\":10001}",
		  "rollout_bp" },
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\",\"rollout_bp\":1.5}",
		  "rollout_bp" },
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\"}", "rollout_bp" },
		{ "POST", "/v1/admin/flags", "{\"rollout_bp\":1}", "key" },
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\",\"rollout_bp\":1,"
		  "\"enabled\":\"yes\"}", "enabled" },
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\",\"rollout_bp\":1,"
		  "\"allow\":[1]}", "allow[0]" },
		{ "POST", "/v1/admin/flags", "{\"key\":\"b\",\"rollout_bp\":1,"
		  "\"variants\":{\"canary\":3}}", "variants.canary" },
		{ "POST", "/v1/admin/flags", "{\"key\":", "" },
		{ "POST", "/v1/admin/flags", "[1]", "" },
		{ "POST", "/v1/admin/flags", "{} x", "" },
		{ "PUT", "/v1/admin/flags/a", "{\"key\":\"b\",\"rollout_bp\":1}",
		  "key" },
	};
	size_t i;
	resp r;

	(void)state;
	create_flag("patchme", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(http(&it_server, cases[i].method, cases[i].path,
			ADMIN_TOKEN, cases[i].body, NULL, &r), 0);
		assert_error_field(&r, 400, *cases[i].field ? cases[i].field :
			NULL);
		resp_free(&r);
	}
	assert_int_equal(http(&it_server, "PATCH", "/v1/admin/flags/patchme",
		ADMIN_TOKEN, "{\"rollout_bp\":-1}", NULL, &r), 0);
	assert_error_field(&r, 400, "rollout_bp");
	resp_free(&r);
	assert_int_equal(http(&it_server, "PATCH", "/v1/admin/flags/patchme",
		ADMIN_TOKEN, "{\"key\":\"renamed\"}", NULL, &r), 0);
	assert_error_field(&r, 400, "key");
	resp_free(&r);
	/* Nothing of the rejected requests was stored. */
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/flags/b",
		ADMIN_TOKEN, NULL), 404);
	assert_int_equal(http(&it_server, "GET", "/v1/admin/flags/patchme",
		ADMIN_TOKEN, NULL, NULL, &r), 0);
	assert_non_null(strstr(r.body, "\"rollout_bp\":1,"));
	resp_free(&r);
}

static char *big_body(size_t n)
{
	char *b = malloc(n + 1);

	assert_non_null(b);
	memset(b, ' ', n);
	b[0] = '{';
	b[n - 1] = '}';
	b[n] = '\0';
	return b;
}

static void test_413(void **state)
{
	char *b = big_body(1024 * 1024 + 10);
	const char *chunked[] = { "Transfer-Encoding: chunked", NULL };
	resp r;

	(void)state;
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY, b),
		413);
	/* Without a Content-Length the limit still holds while reading. */
	assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY, b,
		chunked, &r), 0);
	assert_int_equal(r.status, 413);
	resp_free(&r);
	free(b);
	b = big_body(5 * 1024 * 1024);
	assert_int_equal(http_status(&it_server, "POST", "/v1/admin/flags",
		ADMIN_TOKEN, b), 413);
	free(b);
	/* The server is still fine. */
	assert_int_equal(http_status(&it_server, "GET", "/healthz", NULL, NULL),
		200);
}

static cJSON *stats(const char *flag, const char *query)
{
	char path[256];
	cJSON *doc;
	resp r;

	snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats%s", flag,
		query ? query : "");
	assert_int_equal(http(&it_server, "GET", path, ADMIN_TOKEN, NULL, NULL,
		&r), 0);
	assert_int_equal(r.status, 200);
	doc = json_of(&r);
	resp_free(&r);
	return doc;
}

static void test_events_idempotent(void **state)
{
	char *b = batch_json("00000000000000000000000000000001", "ev", "canary",
		40, 2), *future = NULL, *cv;
	cJSON *doc;
	resp r;

	(void)state;
	create_flag("ev", 500);
	assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY, b, NULL,
		&r), 0);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "{\"accepted\":1,\"dropped\":0}");
	resp_free(&r);
	assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY, b, NULL,
		&r), 0);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "{\"duplicate\":true}");
	resp_free(&r);
	free(b);
	b = batch_json("00000000000000000000000000000002", "ev", "stable", 60,
		1);
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY, b),
		202);
	free(b);

	/* A flag the server does not have, a version it never issued: the
	 * batch is acknowledged, those windows are not counted. */
	b = batch_json("00000000000000000000000000000003", "no-such-flag",
		"canary", 5, 1);
	assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY, b, NULL,
		&r), 0);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "{\"accepted\":0,\"dropped\":1}");
	resp_free(&r);
	free(b);
	b = batch_json("00000000000000000000000000000004", "ev", "canary", 5, 1);
	cv = strstr(b, "\"config_version\":2");
	assert_true(asprintf(&future, "%.*s\"config_version\":9007199254740991"
		"%s", (int)(cv - b), b, cv + strlen("\"config_version\":2")) > 0);
	assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY, future,
		NULL, &r), 0);
	assert_int_equal(r.status, 202);
	assert_string_equal(r.body, "{\"accepted\":0,\"dropped\":1}");
	resp_free(&r);
	free(future);
	free(b);

	doc = stats("ev", NULL);
	assert_true(num_at(doc, "arms", "canary", "exposures") == 40);
	assert_true(num_at(doc, "arms", "canary", "errors") == 2);
	assert_true(num_at(doc, "arms", "stable", "exposures") == 60);
	assert_true(num_at(doc, "arms", "canary", "windows") == 1);
	assert_true(num_at(cJSON_GetObjectItem(doc, "arms"), "canary",
		"latency_ms", "count") == 5);
	cJSON_Delete(doc);
	/* Filters: another config version, or a future since: nothing. */
	doc = stats("ev", "?config_version=3");
	assert_true(num_at(doc, "arms", "canary", "exposures") == 0);
	cJSON_Delete(doc);
	doc = stats("ev", "?config_version=2&since=1");
	assert_true(num_at(doc, "arms", "canary", "exposures") == 40);
	cJSON_Delete(doc);
	doc = stats("ev", "?since=99999999999999");
	assert_true(num_at(doc, "arms", "stable", "exposures") == 0);
	cJSON_Delete(doc);
	assert_int_equal(http(&it_server, "GET",
		"/v1/admin/flags/ev/stats?since=-1", ADMIN_TOKEN, NULL, NULL, &r),
		0);
	assert_error_field(&r, 400, "since");
	resp_free(&r);
	assert_int_equal(http(&it_server, "GET",
		"/v1/admin/flags/ev/stats?config_version=x", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	assert_error_field(&r, 400, "config_version");
	resp_free(&r);
	assert_int_equal(http_status(&it_server, "GET",
		"/v1/admin/flags/nope/stats", ADMIN_TOKEN, NULL), 404);

	/* Metrics carry the totals. */
	assert_int_equal(http(&it_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	assert_int_equal(r.status, 200);
	assert_non_null(strstr(r.body,
		"canary_exposures_total{flag=\"ev\",arm=\"canary\"} 40\n"));
	assert_non_null(strstr(r.body,
		"canary_errors_total{flag=\"ev\",arm=\"stable\"} 1\n"));
	assert_non_null(strstr(r.body, "canary_config_version "));
	assert_non_null(strstr(r.body, "canary_http_requests_total{endpoint="
		"\"events\",status=\"202\"}"));
	resp_free(&r);
}

/*
 * A config version above the one this server published, but one another
 * server on the same database could have issued a moment ago (less than a
 * minute ahead of the clock versions follow): while this server may not
 * read the store again (at most every 100 ms), the batch is refused for
 * now (503, the SDK sends it again), never acknowledged without its
 * windows; after a read that shows no such version, the windows are
 * dropped. Batches back to back: most fall in the 100 ms after a read.
 */
static void test_events_version_not_read_yet(void **state)
{
	char id[40], *b, *ahead, *cv;
	unsigned i, refused = 0;
	long long v = (long long)time(NULL) * 1000 + 30000;
	cJSON *doc;
	resp r;

	(void)state;
	create_flag("ahead", 100);
	for (i = 0; i < 50; i++) {
		snprintf(id, sizeof(id), "5e51e5a4%024x", i);
		b = batch_json(id, "ahead", "canary", 5, 0);
		cv = strstr(b, "\"config_version\":2");
		assert_non_null(cv);
		assert_true(asprintf(&ahead, "%.*s\"config_version\":%lld%s",
			(int)(cv - b), b, v, cv + strlen("\"config_version\":2")) > 0);
		assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY,
			ahead, NULL, &r), 0);
		if (r.status == 503) {
			refused++;
			assert_non_null(strstr(r.body, "try again"));
		} else {
			assert_int_equal(r.status, 202);
			assert_string_equal(r.body, "{\"accepted\":0,\"dropped\":1}");
		}
		resp_free(&r);
		free(ahead);
		free(b);
	}
	assert_true(refused > 0);
	doc = stats("ahead", NULL);
	assert_true(num_at(doc, "arms", "canary", "exposures") == 0);
	cJSON_Delete(doc);
}

#define W0 "{\"flag\":\"bad\",\"arm\":\"canary\",\"config_version\":1," \
	"\"start_ms\":1,\"end_ms\":2,\"exposures\":5,\"errors\":0}"
#define HEAD(id) "{\"batch_id\":\"" id "\",\"instance_id\":\"i\"," \
	"\"sdk_version\":\"0.1.0\",\"sent_at_ms\":1,"

static void test_events_bad_input(void **state)
{
	static const struct {
		const char *body, *field;
	} cases[] = {
		{ "not json", "" },
		{ HEAD("0000000000000000000000000000000g") "\"windows\":[]}",
		  "batch_id" },
		{ HEAD("00000000000000000000000000000A00") "\"windows\":[]}",
		  "batch_id" },
		{ "{\"batch_id\":\"00000000000000000000000000000a00\","
		  "\"sdk_version\":\"x\",\"sent_at_ms\":1,\"windows\":[]}",
		  "instance_id" },
		{ HEAD("00000000000000000000000000000a01") "\"windows\":{}}",
		  "windows" },
		{ HEAD("00000000000000000000000000000a02") "\"windows\":[" W0 ","
		  W0 ",{\"flag\":\"bad\",\"arm\":\"canary\",\"config_version\":1,"
		  "\"start_ms\":1,\"end_ms\":2,\"exposures\":-5,\"errors\":0}]}",
		  "windows[2].exposures" },
		{ HEAD("00000000000000000000000000000a03") "\"windows\":[" W0 ","
		  "{\"flag\":\"bad\",\"arm\":\"beta\",\"config_version\":1,"
		  "\"start_ms\":1,\"end_ms\":2,\"exposures\":5,\"errors\":0}]}",
		  "windows[1].arm" },
		{ HEAD("00000000000000000000000000000a04") "\"windows\":[{\"flag\":"
		  "\"bad\",\"arm\":\"canary\",\"config_version\":1,\"start_ms\":1,"
		  "\"end_ms\":2,\"exposures\":9007199254740993,\"errors\":0}]}",
		  "windows[0].exposures" },
		{ HEAD("00000000000000000000000000000a05") "\"windows\":[{\"flag\":"
		  "\"bad\",\"arm\":\"canary\",\"config_version\":1,\"start_ms\":1,"
		  "\"end_ms\":2,\"exposures\":1,\"errors\":\"1\"}]}",
		  "windows[0].errors" },
		{ HEAD("00000000000000000000000000000a06") "\"windows\":[{\"flag\":"
		  "\"bad\",\"arm\":\"canary\",\"config_version\":1,\"start_ms\":1,"
		  "\"end_ms\":2,\"exposures\":1,\"errors\":0,\"latency_ms\":"
		  "{\"bins\":[[5,1],[4,1]]}}]}", "windows[0].latency_ms.bins[1][0]" },
		{ HEAD("00000000000000000000000000000a07") "\"windows\":[{\"flag\":"
		  "\"bad\",\"arm\":\"canary\",\"config_version\":1,\"start_ms\":1,"
		  "\"end_ms\":2,\"exposures\":1,\"errors\":0,\"metrics\":"
		  "{\"bad name\":{\"count\":1,\"sum\":1}}}]}",
		  "windows[0].metrics.bad name" },
		{ HEAD("00000000000000000000000000000a08") "\"windows\":[{\"flag\":"
		  "\"bad\",\"arm\":\"canary\",\"config_version\":1,\"start_ms\":3,"
		  "\"end_ms\":2,\"exposures\":1,\"errors\":0}]}",
		  "windows[0].end_ms" },
	};
	size_t i;
	cJSON *doc;
	resp r;

	(void)state;
	create_flag("bad", 1);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		assert_int_equal(http(&it_server, "POST", "/v1/events", SDK_KEY,
			cases[i].body, NULL, &r), 0);
		if (r.status != 400 || (*cases[i].field && !strstr(r.body,
				cases[i].field)))
			fail_msg("case %zu: %ld %s", i, r.status, r.body);
		assert_error_field(&r, 400, *cases[i].field ? cases[i].field :
			NULL);
		resp_free(&r);
	}
	/* The valid windows before the bad one were not stored either. */
	doc = stats("bad", NULL);
	assert_true(num_at(doc, "arms", "canary", "exposures") == 0);
	cJSON_Delete(doc);
	/* Unknown fields are ignored (forward compatibility). */
	assert_int_equal(http_status(&it_server, "POST", "/v1/events", SDK_KEY,
		HEAD("00000000000000000000000000000b00") "\"future\":{\"x\":1},"
		"\"windows\":[{\"flag\":\"bad\",\"arm\":\"canary\","
		"\"config_version\":1,\"start_ms\":1,\"end_ms\":2,\"exposures\":5,"
		"\"errors\":0,\"new_thing\":[1,2]}]}"), 202);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthz_metrics_404_405),
		cmocka_unit_test(test_auth),
		cmocka_unit_test(test_etag_304),
		cmocka_unit_test(test_admin_crud),
		cmocka_unit_test(test_admin_bad_input),
		cmocka_unit_test(test_413),
		cmocka_unit_test(test_events_idempotent),
		cmocka_unit_test(test_events_version_not_read_yet),
		cmocka_unit_test(test_events_bad_input),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
