/*
 * test_unleash_source.c - a client in Unleash mode (opts.source) against
 * a recorded features document served by a transport hook: the request
 * (URL under the API root, client token, app name, ETag), evaluation with
 * a context (rules, disabled features, userWithId), the registration and
 * usage metrics in Unleash's formats, the cache for an offline start, the
 * host name applicationHostname compares (opts.hostname, $HOSTNAME, the
 * system's), and the options checked.
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
#include <pthread.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "canary/canary.h"

static const char *const features =
	"{\"version\": 2, \"features\": ["
	" {\"name\": \"ota\", \"enabled\": true, \"strategies\": ["
	"  {\"name\": \"flexibleRollout\", \"parameters\": {\"rollout\": \"100\","
	"   \"stickiness\": \"default\", \"groupId\": \"ota\"},"
	"   \"constraints\": [{\"contextName\": \"firmware\","
	"    \"operator\": \"SEMVER_GTE\", \"value\": \"2.3.0\"}]}]},"
	" {\"name\": \"off\", \"enabled\": false, \"strategies\": ["
	"  {\"name\": \"default\"}]},"
	" {\"name\": \"beta\", \"enabled\": true, \"strategies\": ["
	"  {\"name\": \"userWithId\", \"parameters\": {\"userIds\": \"u1,u2\"}}]}"
	"]}";

typedef struct served {
	int gets, not_modified;
	bool offline;            /* answer nothing */
	char url[256];
	bool token, app, accept_json;
	/* POSTs, from the worker thread. */
	pthread_mutex_t lock;
	int registrations, metrics, bad_posts;
	cJSON *registration;     /* the last of each */
	double yes[2], no[2];    /* features ota and beta */
} served;

static served svc = { .lock = PTHREAD_MUTEX_INITIALIZER };

static bool has_header(const canary_http_request *req, const char *line);

/* A POST of the usage: registration or metrics, by URL. */
static void take_post(const canary_http_request *req)
{
	cJSON *doc = cJSON_ParseWithLength(req->body, req->body_len);
	const cJSON *t;
	const char *names[2] = { "ota", "beta" };
	int i;

	pthread_mutex_lock(&svc.lock);
	if (!doc || !has_header(req, "Authorization: client-token-1") ||
	    !has_header(req, "Content-Type: application/json")) {
		svc.bad_posts++;
	} else if (strcmp(req->url,
	    "http://unleash.test/api/client/register") == 0) {
		svc.registrations++;
		cJSON_Delete(svc.registration);
		svc.registration = doc;
		doc = NULL;
	} else if (strcmp(req->url,
	    "http://unleash.test/api/client/metrics") == 0) {
		svc.metrics++;
		t = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "bucket"),
			"toggles");
		for (i = 0; i < 2; i++) {
			const cJSON *f = cJSON_GetObjectItem(t, names[i]);

			svc.yes[i] += cJSON_GetNumberValue(cJSON_GetObjectItem(f,
				"yes")) * (f != NULL);
			svc.no[i] += cJSON_GetNumberValue(cJSON_GetObjectItem(f,
				"no")) * (f != NULL);
		}
		if (!cJSON_IsString(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		    "bucket"), "start")) || !cJSON_GetObjectItem(doc, "appName"))
			svc.bad_posts++;
	} else {
		svc.bad_posts++;
	}
	pthread_mutex_unlock(&svc.lock);
	cJSON_Delete(doc);
}

static bool has_header(const canary_http_request *req, const char *line)
{
	size_t i;

	for (i = 0; i < req->header_count; i++)
		if (strcmp(req->headers[i], line) == 0)
			return true;
	return false;
}

static int hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	(void)ctx;
	if (svc.offline || req->stream)
		return CANARY_ENETWORK;
	if (strcmp(req->method, "POST") == 0) {
		take_post(req);
		resp->status = 202;
		return CANARY_OK;
	}
	svc.gets++;
	snprintf(svc.url, sizeof(svc.url), "%s", req->url);
	svc.token = has_header(req, "Authorization: client-token-1");
	svc.app = has_header(req, "UNLEASH-APPNAME: my-app");
	svc.accept_json = has_header(req, "Accept: application/json");
	snprintf(resp->etag, sizeof(resp->etag), "\"f-1\"");
	if (has_header(req, "If-None-Match: \"f-1\"")) {
		svc.not_modified++;
		resp->status = 304;
		return CANARY_OK;
	}
	resp->status = 200;
	req->body_fn(features, strlen(features), req->body_ctx);
	return CANARY_OK;
}

/* What the GETs left (the POSTs' part has its lock). */
static void reset_gets(void)
{
	svc.gets = svc.not_modified = 0;
	svc.offline = false;
	svc.url[0] = '\0';
	svc.token = svc.app = svc.accept_json = false;
}

/* No thread (the test ticks) unless `threaded`; flushes only when asked. */
static canary_client *client_with(const char *cache_path, bool threaded)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = CANARY_SOURCE_UNLEASH;
	o.server_url = "http://unleash.test/api";
	o.sdk_key = "client-token-1";
	o.app_name = "my-app";
	o.transport.request = hook;
	o.cache_path = cache_path;
	o.no_thread = !threaded;
	o.flush_interval_ms = 3600000;
	o.log_stderr = CANARY_LOG_OFF;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	return c;
}

static canary_client *unleash_client(const char *cache_path)
{
	return client_with(cache_path, false);
}

static bool on(canary_client *c, const char *flag, const char *unit,
	const char *fw, canary_details *d)
{
	canary_attribute attr = { "firmware", fw };
	canary_context ctx = CANARY_CONTEXT_INIT;

	ctx.unit = unit;
	ctx.attrs = &attr;
	ctx.attr_count = fw ? 1 : 0;
	canary_details_init(d, CANARY_DETAILS_VERSION);
	return canary_evaluate_ctx(c, flag, &ctx, 0, d);
}

static void test_fetch_and_evaluate(void **state)
{
	canary_client *c;
	canary_details d;
	char diag[2048];

	(void)state;
	reset_gets();
	c = unleash_client(NULL);
	canary_client_tick(c, 1);
	assert_int_equal(canary_client_wait_ready(c, 1000), CANARY_OK);
	assert_string_equal(svc.url, "http://unleash.test/api/client/features");
	assert_true(svc.token && svc.app && svc.accept_json);
	assert_true(canary_client_config_version(c) > 0);
	/* The rules of the strategy decide. */
	assert_true(on(c, "ota", "u9", "2.4.0", &d));
	assert_int_equal(d.reason, CANARY_REASON_SPLIT);
	assert_int_equal(d.rule, 0);
	assert_false(on(c, "ota", "u9", "2.2.0", &d));
	assert_int_equal(d.reason, CANARY_REASON_INELIGIBLE);
	assert_false(on(c, "ota", "u9", NULL, &d));
	/* A disabled feature; a list of users; an unknown one. */
	assert_false(on(c, "off", "u1", NULL, &d));
	assert_int_equal(d.reason, CANARY_REASON_DISABLED);
	assert_true(on(c, "beta", "u2", NULL, &d));
	assert_int_equal(d.reason, CANARY_REASON_TARGETING_MATCH);
	assert_false(on(c, "beta", "u3", NULL, &d));
	assert_false(on(c, "nope", "u1", NULL, &d));
	assert_int_equal(d.error_code, CANARY_EVAL_FLAG_NOT_FOUND);
	/* The unit-only call is a context of the unit alone. */
	assert_true(canary_enabled(c, "beta", "u1"));
	assert_false(canary_enabled(c, "ota", "u1"));
	assert_int_equal(canary_client_diagnose(c, diag, sizeof(diag)),
		CANARY_OK);
	assert_non_null(strstr(diag, "config source: unleash"));
	canary_client_free(c);
}

/* The variant call counts the feature's answer as canary_enabled_ctx()
 * does, unless asked not to. */
static void variant_calls(canary_client *c)
{
	canary_attribute attr = { "firmware", "2.5.0" };
	canary_context ctx = CANARY_CONTEXT_INIT;
	canary_variant v = CANARY_VARIANT_INIT;

	ctx.unit = "u9";
	ctx.attrs = &attr;
	ctx.attr_count = 1;
	assert_false(canary_variant_ctx(c, "ota", &ctx, 0, &v));
	assert_true(v.feature_enabled);
	assert_false(canary_variant_ctx(c, "ota", &ctx,
		CANARY_EVALUATE_NO_EXPOSURE, &v));
	assert_true(v.feature_enabled);
}

/* Unleash's usage formats: a registration at start, then per flush the
 * features' yes/no counts (units outside the rules are "no"). */
static void test_registration_and_metrics(void **state)
{
	canary_client *c;
	canary_details d;
	const cJSON *reg;
	int i;

	(void)state;
	pthread_mutex_lock(&svc.lock);
	svc.registrations = svc.metrics = svc.bad_posts = 0;
	svc.yes[0] = svc.yes[1] = svc.no[0] = svc.no[1] = 0;
	pthread_mutex_unlock(&svc.lock);
	c = client_with(NULL, true);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	for (i = 0; i < 2; i++)
		assert_true(on(c, "ota", "u9", "2.5.0", &d));
	variant_calls(c);
	for (i = 0; i < 2; i++)
		assert_false(on(c, "ota", "u9", "1.0.0", &d));
	assert_true(on(c, "beta", "u1", NULL, &d));
	assert_false(on(c, "beta", "u7", NULL, &d));
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	canary_client_free(c);
	pthread_mutex_lock(&svc.lock);
	assert_int_equal(svc.bad_posts, 0);
	assert_int_equal(svc.registrations, 1);
	assert_true(svc.metrics >= 1);
	assert_true(svc.yes[0] == 3 && svc.no[0] == 2);
	assert_true(svc.yes[1] == 1 && svc.no[1] == 1);
	reg = svc.registration;
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItem(reg,
		"appName")), "my-app");
	assert_true(strncmp(cJSON_GetStringValue(cJSON_GetObjectItem(reg,
		"sdkVersion")), "libcanary:", 10) == 0);
	assert_true(strlen(cJSON_GetStringValue(cJSON_GetObjectItem(reg,
		"instanceId"))) > 0);
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(reg,
		"strategies")) == 8);
	assert_true(cJSON_GetNumberValue(cJSON_GetObjectItem(reg,
		"interval")) == 3600000);
	cJSON_Delete(svc.registration);
	svc.registration = NULL;
	pthread_mutex_unlock(&svc.lock);
}

/* The document is cached with its ETag: a client started offline
 * evaluates from the cache, and one started online revalidates (304). */
static void test_cache_for_offline_start(void **state)
{
	char path[] = "/tmp/canary-unleash-XXXXXX";
	char db[64];
	canary_client *c;
	canary_details d;
	int fd = mkstemp(path);
	uint64_t v;

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	unlink(path);
	snprintf(db, sizeof(db), "%s.db", path);
	reset_gets();
	c = unleash_client(db);
	canary_client_tick(c, 1);
	assert_int_equal(canary_client_wait_ready(c, 1000), CANARY_OK);
	v = canary_client_config_version(c);
	canary_client_free(c);

	svc.offline = true;
	c = unleash_client(db);
	assert_true(canary_client_config_version(c) > 0);
	assert_true(on(c, "ota", "u9", "3.0.0", &d));
	assert_true(on(c, "beta", "u1", NULL, &d));
	canary_client_free(c);

	svc.offline = false;
	c = unleash_client(db);
	canary_client_tick(c, 1);
	assert_int_equal(canary_client_wait_ready(c, 1000), CANARY_OK);
	assert_int_equal(svc.not_modified, 1);
	/* Versions are derived and never go back. */
	assert_true(canary_client_config_version(c) >= v);
	canary_client_free(c);
	unlink(db);
}

/* A features document handed over directly; a libcanary document is not
 * one. */
static void test_set_config_json(void **state)
{
	canary_options o;
	canary_client *c;
	canary_details d;

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = CANARY_SOURCE_UNLEASH;
	o.log_stderr = CANARY_LOG_OFF;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, features,
		strlen(features)), CANARY_OK);
	assert_true(on(c, "beta", "u1", NULL, &d));
	assert_int_equal(canary_client_set_config_json(c, "{\"features\": 3}",
		15), CANARY_EPARSE);
	assert_non_null(strstr(canary_error_last(), "features"));
	assert_true(on(c, "beta", "u1", NULL, &d)); /* still in force */
	canary_client_free(c);
}

/* Is "edge" on for a client of options `version` with `hostname`, given
 * a document whose applicationHostname lists `hosts`? */
static bool host_on(unsigned version, const char *hostname,
	const char *hosts)
{
	char doc[1024];
	canary_options o;
	canary_client *c;
	canary_details d;
	bool in;

	snprintf(doc, sizeof(doc), "{\"version\": 2, \"features\": ["
		" {\"name\": \"edge\", \"enabled\": true, \"strategies\": ["
		"  {\"name\": \"applicationHostname\","
		"   \"parameters\": {\"hostNames\": \"%s\"}}]}]}", hosts);
	assert_int_equal(canary_options_init(&o, version), CANARY_OK);
	o.source = CANARY_SOURCE_UNLEASH;
	o.log_stderr = CANARY_LOG_OFF;
	o.hostname = hostname; /* not read by a version-3 client */
	o.version = version;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, doc, strlen(doc)),
		CANARY_OK);
	in = on(c, "edge", "u1", NULL, &d);
	canary_client_free(c);
	return in;
}

static void test_hostname(void **state)
{
	char system[256], list[600];

	(void)state;
	/* The option, compared case-insensitively. */
	unsetenv("HOSTNAME");
	assert_true(host_on(CANARY_OPTIONS_VERSION, "Edge-Box-1",
		"build-7, edge-box-1"));
	assert_false(host_on(CANARY_OPTIONS_VERSION, "edge-box-2",
		"build-7,edge-box-1"));
	assert_false(host_on(CANARY_OPTIONS_VERSION, "", "build-7,edge-box-1"));
	/* $HOSTNAME when the option is not set (or the struct predates it). */
	setenv("HOSTNAME", "EDGE-BOX-1", 1);
	assert_true(host_on(CANARY_OPTIONS_VERSION, NULL, "edge-box-1"));
	assert_true(host_on(3, "elsewhere", "edge-box-1"));
	assert_false(host_on(CANARY_OPTIONS_VERSION, "elsewhere", "edge-box-1"));
	/* Else the system's. */
	unsetenv("HOSTNAME");
	assert_int_equal(gethostname(system, sizeof(system)), 0);
	system[sizeof(system) - 1] = '\0';
	snprintf(list, sizeof(list), "not-this-one,%s", system);
	assert_true(host_on(CANARY_OPTIONS_VERSION, NULL, list));
	assert_false(host_on(CANARY_OPTIONS_VERSION, NULL, "not-this-one"));
}

static void test_options(void **state)
{
	canary_options o;
	canary_client *c = NULL;
	char long_host[300];

	(void)state;
	memset(long_host, 'h', sizeof(long_host) - 1);
	long_host[sizeof(long_host) - 1] = '\0';
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = (canary_source)7;
	assert_int_equal(canary_client_new(&c, &o), CANARY_EINVAL);
	assert_non_null(strstr(canary_error_last(), "opts.source"));
	assert_null(c);
	/* A host name longer than a host name can be. */
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.source = CANARY_SOURCE_UNLEASH;
	o.hostname = long_host;
	assert_int_equal(canary_client_new(&c, &o), CANARY_EINVAL);
	assert_non_null(strstr(canary_error_last(), "opts.hostname"));
	assert_null(c);
	/* Version 2 of the options: the libcanary source. */
	assert_int_equal(canary_options_init(&o, 2), CANARY_OK);
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, features,
		strlen(features)), CANARY_EPARSE);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fetch_and_evaluate),
		cmocka_unit_test(test_registration_and_metrics),
		cmocka_unit_test(test_cache_for_offline_start),
		cmocka_unit_test(test_set_config_json),
		cmocka_unit_test(test_hostname),
		cmocka_unit_test(test_options),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
