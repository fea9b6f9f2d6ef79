/*
 * test_segments_api.c - named segments end to end against the real
 * canary-server: written, read and deleted through the admin API and
 * canaryctl (roles, strict bodies, 4xx for bad rules, unknown segments
 * and a segment still named), audited, kept across a restart, served in
 * /v1/flags with the flags that name them, a change published to every
 * stream, guarded under a live rollout, and evaluated by libcanary: a
 * unit the segment excludes is ineligible. And a rollout on a flag the
 * rules restrict: excluded units never get the canary, the arms' counts
 * (what the controller reads) hold only eligible units.
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
#include <time.h>
#include <unistd.h>

#include "canary/canary.h"
#include "harness.h"

#define EU "{\"contextName\":\"region\",\"operator\":\"STR_STARTS_WITH\"," \
	"\"values\":[\"eu-\"]}"
#define US1 "{\"contextName\":\"region\",\"operator\":\"IN\"," \
	"\"values\":[\"us-1\"]}"
#define SEG_EU "{\"constraints\":[" EU "]}"

/* A request with `token`: its status, and the body parsed into *doc
 * (when doc is given; NULL when it is not JSON). */
static long call(const char *token, const char *method, const char *path,
	const char *body, cJSON **doc)
{
	resp r;
	long status;

	assert_int_equal(http(&it_server, method, path, token, body, NULL, &r),
		0);
	status = r.status;
	if (doc)
		*doc = cJSON_Parse(r.body);
	resp_free(&r);
	return status;
}

static long admin(const char *method, const char *path, const char *body)
{
	return call(ADMIN_TOKEN, method, path, body, NULL);
}

/* A refused write: `status`, with `field` in the error's field and
 * `text` (optional) in its message. */
static void expect_error(const char *method, const char *path,
	const char *body, long status, const char *field, const char *text)
{
	cJSON *doc = NULL;
	long got = call(ADMIN_TOKEN, method, path, body, &doc);
	const cJSON *f = cJSON_GetObjectItem(doc, "field");
	const cJSON *m = cJSON_GetObjectItem(doc, "error");

	if (got != status || (field && (!cJSON_IsString(f) ||
	    strcmp(f->valuestring, field) != 0)) || (text &&
	    (!cJSON_IsString(m) || !strstr(m->valuestring, text))))
		fail_msg("%s %s %s: %ld %s %s (want %ld %s %s)", method, path,
			body ? body : "", got, cJSON_IsString(f) ? f->valuestring :
			"-", cJSON_IsString(m) ? m->valuestring : "-", status,
			field ? field : "", text ? text : "");
	cJSON_Delete(doc);
}

static double version_of(const cJSON *doc)
{
	return cJSON_GetObjectItem(doc, "version")->valuedouble;
}

static void test_written_read_audited_kept(void **state)
{
	cJSON *doc = NULL, *tok = NULL;
	char reader[128], path[256];
	double v1;

	(void)state;
	assert_int_equal(call(ADMIN_TOKEN, "PUT", "/v1/admin/segments/eu-hw-b",
		"{\"constraints\":[" EU ",{\"contextName\":\"model\","
		"\"operator\":\"IN\",\"values\":[\"hw-b\",\"hw-b2\"],"
		"\"caseInsensitive\":true}]}", &doc), 201);
	v1 = version_of(doc);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"segment"), "name")->valuestring, "eu-hw-b");
	cJSON_Delete(doc);
	/* The same again changes nothing: no new version. */
	assert_int_equal(call(ADMIN_TOKEN, "PUT", "/v1/admin/segments/eu-hw-b",
		"{\"name\":\"eu-hw-b\",\"constraints\":[" EU ",{\"contextName\":"
		"\"model\",\"operator\":\"IN\",\"values\":[\"hw-b\",\"hw-b2\"],"
		"\"caseInsensitive\":true}]}", &doc), 200);
	assert_true(version_of(doc) == v1);
	cJSON_Delete(doc);

	/* A reader reads; only an admin changes. */
	assert_int_equal(call(ADMIN_TOKEN, "POST", "/v1/admin/tokens",
		"{\"name\":\"seg-reader\",\"role\":\"reader\"}", &tok), 201);
	snprintf(reader, sizeof(reader), "%s",
		cJSON_GetObjectItem(tok, "token")->valuestring);
	cJSON_Delete(tok);
	assert_int_equal(call(reader, "GET", "/v1/admin/segments/eu-hw-b", NULL,
		&doc), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "segment"), "constraints")), 2);
	cJSON_Delete(doc);
	assert_int_equal(call(reader, "GET", "/v1/admin/segments", NULL, NULL),
		200);
	assert_int_equal(call(reader, "PUT", "/v1/admin/segments/x", SEG_EU,
		NULL), 403);
	assert_int_equal(call(reader, "DELETE", "/v1/admin/segments/eu-hw-b",
		NULL, NULL), 403);
	assert_int_equal(call(NULL, "GET", "/v1/admin/segments", NULL, NULL),
		401);

	/* Audited with its actor. */
	assert_int_equal(call(ADMIN_TOKEN, "GET", "/v1/admin/audit?limit=5",
		NULL, &doc), 200);
	{
		char *text = cJSON_PrintUnformatted(doc);

		assert_non_null(strstr(text, "\"action\":\"segment.create\""));
		assert_non_null(strstr(text, "\"segment\":\"eu-hw-b\""));
		cJSON_free(text);
	}
	cJSON_Delete(doc);
	/* Found by the segment's name: the create (the PUT that changed
	 * nothing made no record); a flag filter does not find it. */
	assert_int_equal(call(reader, "GET", "/v1/admin/audit?segment=eu-hw-b",
		NULL, &doc), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"entries")), 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(
		cJSON_GetObjectItem(doc, "entries"), 0), "flag")));
	cJSON_Delete(doc);
	assert_int_equal(call(reader, "GET", "/v1/admin/audit?flag=eu-hw-b",
		NULL, &doc), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"entries")), 0);
	cJSON_Delete(doc);

	/* Kept across a restart. */
	assert_int_equal(srv_restart(&it_server, NULL), 0);
	assert_int_equal(call(ADMIN_TOKEN, "GET", "/v1/admin/segments", NULL,
		&doc), 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"segments")), 1);
	cJSON_Delete(doc);
	snprintf(path, sizeof(path), "/v1/admin/segments/nope");
	expect_error("GET", path, NULL, 404, "name", "nope");
}

static void test_bad_input(void **state)
{
	static const struct {
		const char *path, *body, *field;
	} bad[] = {
		{ "/v1/admin/segments/s", "{\"constraints\":[{\"contextName\":"
		  "\"fw\",\"operator\":\"SEMVER_GTE\",\"value\":\"2.x\"}]}",
		  "constraints[0].value" },
		{ "/v1/admin/segments/s", "{\"constraints\":[{\"contextName\":"
		  "\"fw\",\"operator\":\"LIKE\",\"values\":[\"a\"]}]}",
		  "constraints[0].operator" },
		{ "/v1/admin/segments/s", "{\"constraints\":[{\"contextName\":"
		  "\"m\",\"operator\":\"REGEX\",\"value\":\"(\"}]}",
		  "constraints[0].value" },
		{ "/v1/admin/segments/s", "{\"constraints\":{}}", "constraints" },
		{ "/v1/admin/segments/s", "{}", "constraints" },
		{ "/v1/admin/segments/s", "{\"constraints\":[],\"colour\":1}",
		  "colour" },
		{ "/v1/admin/segments/s", "{\"name\":\"t\",\"constraints\":[]}",
		  "name" },
		{ "/v1/admin/segments/s", "{\"constraints\":[],\"force\":1}",
		  "force" },
		{ "/v1/admin/segments/s", "{\"constraints\":[{\"contextName\":"
		  "\"r\",\"operator\":\"IN\",\"values\":[\"\xff\"]}]}",
		  "constraints[0].values[0]" },
		/* NOT_IN given "value": an empty list, true for everyone. */
		{ "/v1/admin/segments/s", "{\"constraints\":[{\"contextName\":"
		  "\"r\",\"operator\":\"NOT_IN\",\"value\":\"eu\"}]}",
		  "constraints[0].values" },
		{ "/v1/admin/segments/a:b", "{\"constraints\":[]}", "name" },
		{ "/v1/admin/segments/s", "[1]", "" },
	};
	char *big;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		expect_error("PUT", bad[i].path, bad[i].body, 400,
			*bad[i].field ? bad[i].field : NULL, NULL);
	assert_int_equal(admin("GET", "/v1/admin/segments/s", NULL), 404);
	/* Bounded: a body over 1 MiB is refused before it is read. */
	big = malloc(1100 * 1024);
	assert_non_null(big);
	memset(big, ' ', 1100 * 1024 - 1);
	big[0] = '{';
	big[1100 * 1024 - 2] = '}';
	big[1100 * 1024 - 1] = '\0';
	assert_int_equal(admin("PUT", "/v1/admin/segments/s", big), 413);
	free(big);

	/* A flag may name only segments that exist. */
	expect_error("POST", "/v1/admin/flags", "{\"key\":\"f\",\"rollout_bp\":1,"
		"\"segments\":[\"nope\"]}", 400, "segments[0]", "nope");
	assert_int_equal(admin("PUT", "/v1/admin/segments/eu", SEG_EU), 201);
	assert_int_equal(admin("POST", "/v1/admin/flags", "{\"key\":\"f\","
		"\"rollout_bp\":1,\"segments\":[\"eu\"]}"), 201);
	expect_error("PATCH", "/v1/admin/flags/f",
		"{\"segments\":[\"eu\",\"nope\"]}", 400, "segments[1]", "nope");
	expect_error("PUT", "/v1/admin/flags/f", "{\"rollout_bp\":1,"
		"\"segments\":[\"eu\",\"zz\"]}", 400, "segments[1]", "zz");
	/* Deleting a segment a flag names: 409 naming the flag. */
	expect_error("DELETE", "/v1/admin/segments/eu", NULL, 409, "name",
		"flags f");
	expect_error("DELETE", "/v1/admin/segments/none", NULL, 404, "name",
		NULL);
	assert_int_equal(admin("PATCH", "/v1/admin/flags/f",
		"{\"segments\":null}"), 200);
	assert_int_equal(admin("DELETE", "/v1/admin/segments/eu", NULL), 200);
	assert_int_equal(admin("GET", "/v1/admin/segments/eu", NULL), 404);
}

/* The config /v1/flags serves, as text. */
static char *flags_text(double *version)
{
	long status;
	cJSON *doc = http_json(&it_server, "GET", "/v1/flags", NULL, &status);
	char *text;

	assert_int_equal(status, 200);
	if (version)
		*version = version_of(doc);
	text = cJSON_PrintUnformatted(doc);
	cJSON_Delete(doc);
	return text;
}

static bool eval_region(canary_client *c, const char *flag, const char *unit,
	const char *region, canary_details *d)
{
	canary_attribute attr = { "region", region };
	canary_context ctx = CANARY_CONTEXT_INIT;

	ctx.unit = unit;
	ctx.attrs = &attr;
	ctx.attr_count = 1;
	*d = (canary_details)CANARY_DETAILS_INIT;
	return canary_evaluate_ctx(c, flag, &ctx, 0, d);
}

static canary_client *client(void)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = it_server.base;
	o.sdk_key = SDK_KEY;
	o.flush_interval_ms = 3600000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	return c;
}

static void test_served_streamed_evaluated(void **state)
{
	canary_details d;
	canary_client *c;
	char buf[16384], want[64], *text;
	size_t len = 0;
	double v0;
	int fd, i;
	bool on = false;

	(void)state;
	assert_int_equal(admin("PUT", "/v1/admin/segments/eu", SEG_EU), 201);
	assert_int_equal(admin("PUT", "/v1/admin/segments/unused",
		"{\"constraints\":[" US1 "]}"), 201);
	assert_int_equal(admin("POST", "/v1/admin/flags", "{\"key\":\"ota\","
		"\"rollout_bp\":10000,\"segments\":[\"eu\"]}"), 201);
	/* Served with the segments its flags name (only those). */
	text = flags_text(&v0);
	assert_non_null(strstr(text, "\"segments\":[{\"name\":\"eu\","
		"\"constraints\":[" EU "]}]"));
	assert_null(strstr(text, "unused"));
	cJSON_free(text);

	c = client();
	assert_true(eval_region(c, "ota", "u1", "eu-west", &d));
	assert_int_equal(d.reason, CANARY_REASON_SPLIT);
	assert_false(eval_region(c, "ota", "u2", "us-1", &d));
	assert_int_equal(d.reason, CANARY_REASON_INELIGIBLE);
	assert_int_equal(d.rule, 0); /* no constraints: the segment's index */

	/* A segment change is a new config version on every stream. */
	fd = srv_stream_open(&it_server);
	assert_true(fd >= 0);
	snprintf(want, sizeof(want), "\"version\":%.0f", v0);
	assert_true(read_until(fd, buf, sizeof(buf), &len, want));
	assert_int_equal(admin("PUT", "/v1/admin/segments/eu",
		"{\"constraints\":[" US1 "]}"), 200);
	snprintf(want, sizeof(want), "\"version\":%.0f", v0 + 1);
	assert_true(read_until(fd, buf, sizeof(buf), &len, want));
	assert_non_null(strstr(buf, "us-1"));
	close(fd);
	/* And the client takes it: us-1 is in, eu-west out. */
	for (i = 0; i < 200 && !on; i++) {
		struct timespec ts = { 0, 50000000L };

		on = eval_region(c, "ota", "u2", "us-1", &d);
		if (!on)
			nanosleep(&ts, NULL);
	}
	assert_true(on);
	assert_false(eval_region(c, "ota", "u1", "eu-west", &d));
	assert_int_equal(d.reason, CANARY_REASON_INELIGIBLE);
	canary_client_free(c);
}

static void test_canaryctl(void **state)
{
	char out[8192], server[80];
	const char *env[] = { server, "CANARY_ADMIN_TOKEN=" ADMIN_TOKEN, NULL };
	const char *set[] = { CANARYCTL_BIN, "segment", "set", "ctl-eu", "--rule",
		"region STR_STARTS_WITH eu-", "--rule", "model not IN/i a,b",
		NULL };
	const char *bad_rule[] = { CANARYCTL_BIN, "segment", "set", "ctl-eu",
		"--rule", "firmware SEMVER_GTE 2.x", NULL };
	const char *no_rule[] = { CANARYCTL_BIN, "segment", "set", "ctl-eu", NULL };
	const char *list[] = { CANARYCTL_BIN, "segment", "list", NULL };
	const char *show[] = { CANARYCTL_BIN, "segment", "show", "ctl-eu", NULL };
	const char *del[] = { CANARYCTL_BIN, "segment", "delete", "ctl-eu", NULL };
	const char *audit[] = { CANARYCTL_BIN, "audit", "--segment", "ctl-eu",
		NULL };
	const char *narrow[] = { CANARYCTL_BIN, "segment", "set", "ctl-eu",
		"--rule", "region STR_STARTS_WITH eu-", NULL };
	const char *create[] = { CANARYCTL_BIN, "flag", "create", "cf",
		"--rollout", "50", "--segment", "ctl-eu", NULL };
	const char *unknown[] = { CANARYCTL_BIN, "flag", "set", "cf",
		"--segment", "ctl-eu", "--segment", "nope", NULL };
	const char *unname[] = { CANARYCTL_BIN, "--json", "flag", "set", "cf",
		"--no-segments", NULL };

	(void)state;
	snprintf(server, sizeof(server), "CANARY_SERVER=%s", it_server.base);
	if (run_capture(set, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl segment set: %s", out);
	assert_non_null(strstr(out, "rule  region STR_STARTS_WITH eu-"));
	assert_non_null(strstr(out, "rule  model not IN/i a,b"));
	assert_int_equal(run_capture(bad_rule, env, out, sizeof(out)), 1);
	assert_int_equal(run_capture(no_rule, env, out, sizeof(out)), 2);
	if (run_capture(create, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl flag create --segment: %s", out);
	assert_int_equal(run_capture(unknown, env, out, sizeof(out)), 1);
	assert_int_equal(run_capture(list, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "ctl-eu"));
	assert_non_null(strstr(out, "cf"));
	assert_int_equal(run_capture(show, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "flags cf"));
	if (run_capture(narrow, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl segment set (update): %s", out);
	/* Named by a flag: refused, kept. */
	assert_int_equal(run_capture(del, env, out, sizeof(out)), 1);
	if (run_capture(unname, env, out, sizeof(out)) != 0)
		fail_msg("canaryctl flag set --no-segments: %s", out);
	assert_null(strstr(out, "segments"));
	assert_int_equal(run_capture(del, env, out, sizeof(out)), 0);
	assert_int_equal(admin("GET", "/v1/admin/segments/ctl-eu", NULL), 404);
	/* Its audit records, by its name: the segment's only. */
	assert_int_equal(run_capture(audit, env, out, sizeof(out)), 0);
	assert_non_null(strstr(out, "SUBJECT"));
	assert_non_null(strstr(out, "segment ctl-eu"));
	assert_non_null(strstr(out, "segment.create"));
	assert_non_null(strstr(out, "segment.delete"));
	assert_null(strstr(out, "flag."));
	/* An update says what moved: the constraints, not the name. */
	assert_non_null(strstr(out, "segment.update"));
	assert_non_null(strstr(out, "constraints ["));
	assert_null(strstr(out, "name ctl-eu"));
}

static void test_guarded_by_live_rollout(void **state)
{
	cJSON *doc = NULL;
	char *text;

	(void)state;
	assert_int_equal(admin("PUT", "/v1/admin/segments/g", SEG_EU), 201);
	assert_int_equal(admin("POST", "/v1/admin/flags", "{\"key\":\"gf\","
		"\"rollout_bp\":0,\"segments\":[\"g\"]}"), 201);
	assert_int_equal(admin("POST", "/v1/admin/rollouts",
		"{\"flag\":\"gf\",\"interval\":\"1h\"}"), 201);
	expect_error("PUT", "/v1/admin/segments/g", "{\"constraints\":[" US1
		"]}", 409, "constraints", "gf");
	/* The same rules change nothing; forced, the change is made. */
	assert_int_equal(admin("PUT", "/v1/admin/segments/g", SEG_EU), 200);
	assert_int_equal(admin("PUT", "/v1/admin/segments/g",
		"{\"constraints\":[" US1 "],\"force\":true}"), 200);
	assert_int_equal(call(ADMIN_TOKEN, "GET", "/v1/admin/audit?limit=1",
		NULL, &doc), 200);
	text = cJSON_PrintUnformatted(doc);
	assert_non_null(strstr(text, "\"action\":\"segment.update\""));
	assert_non_null(strstr(text, "\"forced\":true"));
	cJSON_free(text);
	cJSON_Delete(doc);
	/* The flag's own list of segments is guarded too. */
	expect_error("PATCH", "/v1/admin/flags/gf", "{\"segments\":null}", 409,
		"segments", NULL);
}

/* A rollout on a flag the rules restrict: the units they exclude never
 * get the canary; the arms' counts hold only eligible units. */
static void test_rollout_on_restricted_flag(void **state)
{
	canary_client *c;
	canary_details d;
	uint64_t eligible = 0, excluded = 0, canary = 0;
	char unit[32];
	long status;
	cJSON *doc, *arms;
	int i;

	(void)state;
	assert_int_equal(admin("PUT", "/v1/admin/segments/ro-eu", SEG_EU), 201);
	assert_int_equal(admin("POST", "/v1/admin/flags", "{\"key\":\"ro\","
		"\"rollout_bp\":0,\"segments\":[\"ro-eu\"],\"constraints\":["
		"{\"contextName\":\"region\",\"operator\":\"STR_ENDS_WITH\","
		"\"values\":[\"-1\",\"-2\"]}]}"), 201);
	assert_int_equal(admin("POST", "/v1/admin/rollouts",
		"{\"flag\":\"ro\",\"steps\":[50,100],\"interval\":\"1h\","
		"\"min_soak\":\"1h\"}"), 201);
	doc = http_json(&it_server, "GET", "/v1/admin/flags/ro", NULL, &status);
	assert_int_equal(status, 200);
	assert_int_equal((int)cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"flag"), "rollout_bp")->valuedouble, 5000);
	cJSON_Delete(doc);

	c = client();
	for (i = 0; i < 400; i++) {
		/* eu-1 and eu-2 are in; us-1 (not eu) and eu-3 (not -1/-2)
		 * are out. */
		static const char *const regions[] = { "eu-1", "us-1", "eu-2",
			"eu-3" };
		const char *region = regions[i % 4];
		bool on;

		snprintf(unit, sizeof(unit), "device-%d", i);
		on = eval_region(c, "ro", unit, region, &d);
		if (i % 4 == 1 || i % 4 == 3) {
			assert_false(on);
			assert_int_equal(d.reason, CANARY_REASON_INELIGIBLE);
			excluded++;
		} else {
			assert_int_equal(d.reason, CANARY_REASON_SPLIT);
			canary += on;
			eligible++;
		}
	}
	assert_true(canary > 0 && canary < eligible);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	canary_client_free(c);
	doc = http_json(&it_server, "GET", "/v1/admin/flags/ro/stats", NULL,
		&status);
	assert_int_equal(status, 200);
	arms = cJSON_GetObjectItem(doc, "arms");
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(arms, "canary"),
		"exposures")->valuedouble == (double)canary);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(arms, "stable"),
		"exposures")->valuedouble == (double)(eligible - canary));
	assert_int_equal(excluded, 200);
	cJSON_Delete(doc);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_written_read_audited_kept),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_served_streamed_evaluated),
		cmocka_unit_test(test_canaryctl),
		cmocka_unit_test(test_guarded_by_live_rollout),
		cmocka_unit_test(test_rollout_on_restricted_flag),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
