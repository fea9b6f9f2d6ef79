/*
 * test_rollout.c - the rollout controller end to end against the real
 * server: events are POSTed to /v1/events by the test itself, shaped to the
 * rollout's current split, and the controller must widen a healthy canary
 * to 100 %, roll a bad one back at once (rollout_bp 0, version bumped),
 * hold and then pause a canary without traffic (or first widen it, with
 * widen_undecided), obey operators, survive a restart, and refuse bad
 * requests with the field named.
 *
 * Durations are in milliseconds so a whole rollout takes about a second.
 * Nothing here asserts on time: each wait is a generous bound for an
 * outcome (30 s), and fails only if the outcome never comes.
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

#include "harness.h"

/* Gates for tests: small minimums so a batch or two decides. */
#define FAST "\"min_soak\":\"100ms\",\"max_step\":\"30s\"," \
	"\"interval\":\"100ms\",\"gates\":{\"min_exposures\":200," \
	"\"min_latency\":100}"

static long status_of(const srv *s, const char *method, const char *path,
	const char *body)
{
	long st;

	cJSON_Delete(http_json(s, method, path, body, &st));
	return st;
}

/* A 400 naming `field`. */
static void expect_400(const char *path, const char *body, const char *field)
{
	long st;
	cJSON *doc = http_json(&it_server, "POST", path, body, &st);
	const cJSON *f = cJSON_GetObjectItem(doc, "field");

	assert_int_equal(st, 400);
	assert_true(cJSON_IsString(cJSON_GetObjectItem(doc, "error")));
	if (!*field) {
		assert_null(f); /* the whole body */
		cJSON_Delete(doc);
		return;
	}
	assert_true(cJSON_IsString(f));
	if (strcmp(f->valuestring, field) != 0)
		fail_msg("field %s, wanted %s", f->valuestring, field);
	cJSON_Delete(doc);
}

static void create_flag(const srv *s, const char *key)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":0,"
		"\"enabled\":true}", key);
	assert_int_equal(status_of(s, "POST", "/v1/admin/flags", body), 201);
}

static cJSON *flag_get(const srv *s, const char *key)
{
	char path[256];
	long st;
	cJSON *doc;

	snprintf(path, sizeof(path), "/v1/admin/flags/%s", key);
	doc = http_json(s, "GET", path, NULL, &st);
	assert_int_equal(st, 200);
	return doc;
}

static double flag_num(const srv *s, const char *key, const char *field)
{
	cJSON *doc = flag_get(s, key);
	double v = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "flag"),
		field)->valuedouble;

	cJSON_Delete(doc);
	return v;
}

static double config_version(const srv *s)
{
	long st;
	cJSON *doc = http_json(s, "GET", "/v1/flags", NULL, &st);
	double v;

	assert_int_equal(st, 200);
	v = cJSON_GetObjectItem(doc, "version")->valuedouble;
	cJSON_Delete(doc);
	return v;
}

static cJSON *rollout(const srv *s, const char *flag, long *st)
{
	char path[256];

	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	return http_json(s, "GET", path, NULL, st);
}

static const char *state_of(const cJSON *doc)
{
	const cJSON *v = cJSON_GetObjectItem(doc, "state");

	return cJSON_IsString(v) ? v->valuestring : "?";
}

static long op(const srv *s, const char *flag, const char *what,
	const char *body)
{
	char path[256];

	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s/%s", flag, what);
	return status_of(s, "POST", path, body);
}

/* One batch for both arms: `n` exposures, `percent` of them canary, the
 * given error rates; latency about 250 ms on both, the canary's histogram
 * moved up `slow` bins (x1.02 each). */
static void feed_slow(const srv *s, const char *flag, double version,
	double n, double percent, double stable_err, double canary_err,
	int slow)
{
	static unsigned long long seq;
	double nc = n * percent / 100, ns = n - nc;
	char *b = NULL;

	assert_true(asprintf(&b, "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"it-rollout\",\"sdk_version\":\"0.1.0\","
		"\"sent_at_ms\":1,\"windows\":["
		"{\"flag\":\"%s\",\"arm\":\"stable\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f,"
		"\"latency_ms\":{\"bins\":[[270,%.0f],[276,%.0f]]}},"
		"{\"flag\":\"%s\",\"arm\":\"canary\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f,"
		"\"latency_ms\":{\"bins\":[[%d,%.0f],[%d,%.0f]]}}]}",
		(unsigned long long)getpid(), ++seq, flag, version, ns,
		ns * stable_err, ns / 2 + 1, ns / 2 + 1, flag, version, nc,
		nc * canary_err, 270 + slow, nc / 2 + 1, 276 + slow,
		nc / 2 + 1) > 0);
	assert_int_equal(status_of(s, "POST", "/v1/events", b), 202);
	free(b);
}

static void feed_split(const srv *s, const char *flag, double version,
	double n, double percent, double stable_err, double canary_err)
{
	feed_slow(s, flag, version, n, percent, stable_err, canary_err, 0);
}

/*
 * One batch at the rollout's current step and config version: 20,000
 * exposures split by the step's share, 0.5 % errors on stable and
 * `canary_err` on the canary.
 */
static void feed(const srv *s, const char *flag, double percent,
	double version, double canary_err)
{
	feed_split(s, flag, version, 20000, percent, 0.005, canary_err);
}

/*
 * Until the rollout leaves "running" (or 30 s pass): feed a batch at its
 * current step when canary_err >= 0, then wait a little. Returns the
 * last status document.
 */
static cJSON *run_until_settled(const srv *s, const char *flag,
	double canary_err)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	cJSON *doc = NULL;
	long st;
	int i;

	for (i = 0; i < 600; i++) {
		cJSON_Delete(doc);
		doc = rollout(s, flag, &st);
		assert_int_equal(st, 200);
		if (strcmp(state_of(doc), "running") != 0)
			return doc;
		if (canary_err >= 0)
			feed(s, flag, cJSON_GetObjectItem(doc,
				"step_percent")->valuedouble,
				cJSON_GetObjectItem(doc,
				"step_config_version")->valuedouble, canary_err);
		nanosleep(&pause, NULL);
	}
	return doc;
}

static const cJSON *last_decision(const cJSON *doc)
{
	const cJSON *d = cJSON_GetObjectItem(doc, "decisions");
	int n = cJSON_GetArraySize(d);

	assert_true(n > 0);
	return cJSON_GetArrayItem(d, n - 1);
}

static const char *dstr(const cJSON *d, const char *name)
{
	const cJSON *v = cJSON_GetObjectItem(d, name);

	return cJSON_IsString(v) ? v->valuestring : "";
}

static void start(const srv *s, const char *flag, const char *extra)
{
	char body[1024];

	snprintf(body, sizeof(body), "{\"flag\":\"%s\",%s}", flag, extra);
	assert_int_equal(status_of(s, "POST", "/v1/admin/rollouts", body), 201);
}

static void test_healthy_rollout_completes(void **state)
{
	static const double want[] = { 1, 5, 25, 50 };
	const cJSON *d;
	double seen[8];
	int nseen = 0, i;
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "healthy");
	start(&it_server, "healthy", FAST);
	assert_true(flag_num(&it_server, "healthy", "rollout_bp") == 100);
	doc = run_until_settled(&it_server, "healthy", 0.005);
	assert_string_equal(state_of(doc), "completed");
	assert_true(flag_num(&it_server, "healthy", "rollout_bp") == 10000);
	/* Each step was left on a PASS, in order, each with a new version. */
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions")) {
		const char *a = dstr(d, "action");

		if (strcmp(a, "widen") && strcmp(a, "promote"))
			continue;
		assert_string_equal(dstr(d, "verdict"), "PASS");
		assert_string_equal(dstr(d, "rule"), "pass");
		assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d,
			"config_version")));
		assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(
			cJSON_GetObjectItem(d, "arms"), "canary"),
			"exposures")->valuedouble > 0);
		assert_true(cJSON_IsNumber(cJSON_GetObjectItem(
			cJSON_GetObjectItem(cJSON_GetObjectItem(d, "arms"),
			"stable"), "p95_ms")));
		assert_true(nseen < 8);
		seen[nseen++] = cJSON_GetObjectItem(d, "percent")->valuedouble;
	}
	assert_int_equal(nseen, 4);
	for (i = 0; i < 4; i++)
		assert_true(seen[i] == want[i]);
	assert_string_equal(dstr(last_decision(doc), "action"), "promote");
	cJSON_Delete(doc);
}

static void test_bad_canary_rolls_back(void **state)
{
	const cJSON *d;
	double before;
	cJSON *doc, *flag;

	(void)state;
	create_flag(&it_server, "bad");
	start(&it_server, "bad", FAST);
	before = config_version(&it_server);
	doc = run_until_settled(&it_server, "bad", 0.10);
	assert_string_equal(state_of(doc), "rolled_back");
	assert_true(cJSON_GetObjectItem(doc, "percent")->valuedouble == 0);
	d = last_decision(doc);
	assert_string_equal(dstr(d, "verdict"), "FAIL");
	assert_string_equal(dstr(d, "action"), "rollback");
	assert_non_null(strstr(dstr(d, "rule"), "fail"));
	assert_non_null(strstr(dstr(d, "judge_rule"), "errors"));
	assert_true(cJSON_IsNumber(cJSON_GetObjectItem(d, "statistic")));
	assert_true(cJSON_GetObjectItem(d, "statistic")->valuedouble >=
		cJSON_GetObjectItem(d, "threshold")->valuedouble);
	assert_true(cJSON_GetObjectItem(d, "config_version")->valuedouble >
		before);
	assert_true(config_version(&it_server) > before);
	flag = flag_get(&it_server, "bad");
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(flag, "flag"),
		"rollout_bp")->valuedouble == 0);
	assert_string_equal(dstr(cJSON_GetObjectItem(flag, "flag"), "state"),
		"rolled_back");
	cJSON_Delete(flag);
	cJSON_Delete(doc);
}

static double step_version(const char *flag)
{
	long st;
	cJSON *doc = rollout(&it_server, flag, &st);
	double v = cJSON_GetObjectItem(doc, "step_config_version")->valuedouble;

	cJSON_Delete(doc);
	return v;
}

/* Kayenta's blind spot: 3 canary errors, none on stable, at equal
 * exposure. One batch, then no more data: it must still roll back. */
static void test_sparse_canary_errors_roll_back(void **state)
{
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "sparse");
	start(&it_server, "sparse", "\"steps\":[50,100]," FAST);
	feed_split(&it_server, "sparse", step_version("sparse"), 4000, 50, 0,
		3.0 / 2000);
	doc = run_until_settled(&it_server, "sparse", -1);
	assert_string_equal(state_of(doc), "rolled_back");
	assert_string_equal(dstr(last_decision(doc), "judge_rule"),
		"errors_sparse");
	assert_true(flag_num(&it_server, "sparse", "rollout_bp") == 0);
	cJSON_Delete(doc);
}

/* A split that does not match the rollout (sample ratio mismatch) is an
 * alert: healthy numbers never widen it, and when it persists past the
 * grace the rollout rolls back (the controller does not set a grace yet:
 * it acts at once). */
static void test_sample_ratio_mismatch_rolls_back(void **state)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	const cJSON *d;
	bool srm = false;
	cJSON *doc = NULL;
	long st;
	int i;

	(void)state;
	create_flag(&it_server, "srm");
	start(&it_server, "srm", "\"steps\":[10,100],\"min_soak\":\"100ms\","
		"\"max_step\":\"1s\",\"interval\":\"100ms\","
		"\"gates\":{\"min_exposures\":200,\"min_latency\":100}");
	for (i = 0; i < 600; i++) {
		cJSON_Delete(doc);
		doc = rollout(&it_server, "srm", &st);
		if (strcmp(state_of(doc), "running") != 0)
			break;
		/* Half the exposures on the canary of a 10 % rollout. */
		feed_split(&it_server, "srm", step_version("srm"), 20000, 50,
			0.005, 0.005);
		nanosleep(&pause, NULL);
	}
	assert_string_equal(state_of(doc), "rolled_back");
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions")) {
		assert_string_not_equal(dstr(d, "action"), "widen");
		if (strcmp(dstr(d, "judge_rule"), "srm") == 0)
			srm = true;
	}
	assert_true(srm);
	assert_string_equal(dstr(last_decision(doc), "rule"), "stall");
	assert_true(flag_num(&it_server, "srm", "rollout_bp") == 0);
	cJSON_Delete(doc);
}

/* A canary 1.5x slower at p95 (same errors) is rolled back on latency. */
static void test_slow_canary_rolls_back(void **state)
{
	cJSON *doc;
	int i;

	(void)state;
	create_flag(&it_server, "slow");
	start(&it_server, "slow", "\"steps\":[25,100]," FAST);
	/* 20 bins x 1.02 ~ 1.5x: about 370 ms against 250 ms. */
	for (i = 0; i < 3; i++)
		feed_slow(&it_server, "slow", step_version("slow"), 20000, 25,
			0.005, 0.005, 20);
	doc = run_until_settled(&it_server, "slow", -1);
	assert_string_equal(state_of(doc), "rolled_back");
	assert_non_null(strstr(dstr(last_decision(doc), "judge_rule"),
		"latency"));
	assert_true(flag_num(&it_server, "slow", "rollout_bp") == 0);
	cJSON_Delete(doc);
}

static void test_dry_run_pauses_instead(void **state)
{
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "dry");
	start(&it_server, "dry", "\"on_fail\":\"pause\"," FAST);
	doc = run_until_settled(&it_server, "dry", 0.10);
	assert_string_equal(state_of(doc), "paused");
	assert_string_equal(dstr(last_decision(doc), "rule"), "dry_run_fail");
	assert_non_null(strstr(dstr(doc, "reason"), "would roll back"));
	/* Nothing was rolled back. */
	assert_true(flag_num(&it_server, "dry", "rollout_bp") == 100);
	cJSON_Delete(doc);
}

static void test_no_traffic_holds_then_pauses(void **state)
{
	const cJSON *d;
	bool held = false;
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "quiet");
	start(&it_server, "quiet", "\"min_soak\":\"100ms\","
		"\"max_step\":\"1s\",\"interval\":\"100ms\"");
	doc = run_until_settled(&it_server, "quiet", -1);
	assert_string_equal(state_of(doc), "paused");
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions")) {
		assert_string_not_equal(dstr(d, "action"), "rollback");
		assert_string_not_equal(dstr(d, "action"), "widen");
		if (strcmp(dstr(d, "action"), "hold") == 0) {
			held = true;
			assert_string_equal(dstr(d, "verdict"), "INCONCLUSIVE");
		}
	}
	assert_true(held);
	d = last_decision(doc);
	assert_string_equal(dstr(d, "action"), "pause");
	assert_string_equal(dstr(d, "rule"), "max_time");
	assert_non_null(strstr(dstr(doc, "reason"), "no PASS within"));
	assert_true(flag_num(&it_server, "quiet", "rollout_bp") == 100);
	cJSON_Delete(doc);
}

/* widen_undecided 5: a step that has traffic but cannot decide by
 * max_step (a PASS margin of 1.2x: the judge estimates it needs about 20
 * times longer) widens to 5% instead of holding on, once; there the next step (25%) is
 * past the bound, so it passes or holds on and pauses, as before. Without
 * traffic it would not widen (test_no_traffic_holds_then_pauses; the
 * state machine's test). */
static void test_undecided_widens(void **state)
{
	const cJSON *d;
	int widened = 0;
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "undecided");
	start(&it_server, "undecided", "\"min_soak\":\"100ms\","
		"\"max_step\":\"1s\",\"max_wait\":\"2s\","
		"\"interval\":\"100ms\",\"widen_undecided\":5,"
		"\"gates\":{\"err_pass_ratio\":1.2,\"lat_ratio\":[0,0,0]}");
	doc = run_until_settled(&it_server, "undecided", 0.005);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"),
		"widen_undecided")->valuedouble == 5);
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions")) {
		assert_string_not_equal(dstr(d, "action"), "rollback");
		if (strcmp(dstr(d, "rule"), "undecided_widen") == 0) {
			widened++;
			assert_string_equal(dstr(d, "action"), "widen");
			assert_non_null(strstr(dstr(d, "reason"),
				"no PASS within 1s at 1.00%"));
			assert_non_null(strstr(dstr(d, "reason"),
				"widening to 5.00%"));
		}
	}
	if (widened != 1) {  /* what the controller did instead */
		char *t = cJSON_Print(doc);
		fprintf(stderr, "%s\n", t);
		free(t);
	}
	assert_int_equal(widened, 1);
	if (strcmp(state_of(doc), "paused") == 0)
		assert_true(flag_num(&it_server, "undecided", "rollout_bp") ==
			500);
	else
		assert_string_equal(state_of(doc), "completed");
	cJSON_Delete(doc);
}

static void expect_state(const char *flag, const char *want, double bp)
{
	long st;
	cJSON *doc = rollout(&it_server, flag, &st);

	assert_int_equal(st, 200);
	assert_string_equal(state_of(doc), want);
	assert_true(flag_num(&it_server, flag, "rollout_bp") == bp);
	cJSON_Delete(doc);
}

static void test_manual_operations(void **state)
{
	(void)state;
	create_flag(&it_server, "manual");
	start(&it_server, "manual", "\"max_step\":\"1h\"");
	assert_int_equal(op(&it_server, "manual", "pause", NULL), 200);
	expect_state("manual", "paused", 100);
	assert_int_equal(op(&it_server, "manual", "pause", NULL), 409);
	assert_int_equal(op(&it_server, "manual", "resume", NULL), 200);
	expect_state("manual", "running", 100);
	assert_int_equal(op(&it_server, "manual", "resume", NULL), 409);
	assert_int_equal(op(&it_server, "manual", "promote", NULL), 200);
	expect_state("manual", "running", 500);
	assert_int_equal(op(&it_server, "manual", "promote",
		"{\"to\":\"full\"}"), 200);
	expect_state("manual", "completed", 10000);
	assert_int_equal(op(&it_server, "manual", "pause", NULL), 409);
	assert_int_equal(op(&it_server, "manual", "rollback", NULL), 409);
	/* A finished rollout makes room for the next one. */
	start(&it_server, "manual", "\"steps\":[10,100],\"max_step\":\"1h\"");
	expect_state("manual", "running", 1000);
	assert_int_equal(op(&it_server, "manual", "rollback", NULL), 200);
	expect_state("manual", "rolled_back", 0);
	assert_int_equal(op(&it_server, "manual", "resume", NULL), 409);
}

static void test_deleted_flag_ends_rollout(void **state)
{
	cJSON *doc;

	(void)state;
	create_flag(&it_server, "gone");
	start(&it_server, "gone", "\"interval\":\"100ms\",\"max_step\":\"1h\"");
	assert_int_equal(status_of(&it_server, "DELETE", "/v1/admin/flags/gone",
		NULL), 200);
	doc = run_until_settled(&it_server, "gone", -1);
	assert_string_equal(state_of(doc), "rolled_back");
	assert_string_equal(dstr(last_decision(doc), "rule"), "flag_deleted");
	cJSON_Delete(doc);
	/* A new flag of that name can have a rollout again. */
	create_flag(&it_server, "gone");
	start(&it_server, "gone", "\"max_step\":\"1h\"");
}

static void test_bad_requests(void **state)
{
	static const char *const P = "/v1/admin/rollouts";
	cJSON *doc;
	long st;

	(void)state;
	create_flag(&it_server, "strict");
	expect_400(P, "{}", "flag");
	expect_400(P, "[1]", "");
	expect_400(P, "{\"flag\":7}", "flag");
	expect_400(P, "{\"flag\":\"strict\",\"steps\":[5,1]}", "steps[1]");
	expect_400(P, "{\"flag\":\"strict\",\"steps\":[0]}", "steps[0]");
	expect_400(P, "{\"flag\":\"strict\",\"steps\":[101]}", "steps[0]");
	expect_400(P, "{\"flag\":\"strict\",\"steps\":[]}", "steps");
	expect_400(P, "{\"flag\":\"strict\",\"min_soak\":\"5x\"}", "min_soak");
	expect_400(P, "{\"flag\":\"strict\",\"min_soak\":300}", "min_soak");
	expect_400(P, "{\"flag\":\"strict\",\"max_step\":\"1s\","
		"\"min_soak\":\"2s\"}", "max_step");
	expect_400(P, "{\"flag\":\"strict\",\"interval\":\"1ms\"}", "interval");
	expect_400(P, "{\"flag\":\"strict\",\"on_fail\":\"explode\"}",
		"on_fail");
	expect_400(P, "{\"flag\":\"strict\",\"gates\":{\"alpha\":2}}",
		"gates.alpha");
	expect_400(P, "{\"flag\":\"strict\",\"gates\":{\"alhpa\":0.01}}",
		"gates.alhpa");
	expect_400(P, "{\"flag\":\"strict\",\"gates\":{\"lat_ratio\":[1]}}",
		"gates.lat_ratio");
	expect_400(P, "{\"flag\":\"strict\",\"gates\":{\"min_exposures\":"
		"1.5}}", "gates.min_exposures");
	expect_400(P, "{\"flag\":\"strict\",\"colour\":\"red\"}", "colour");
	/* No such flag; no such rollout; one active rollout per flag. */
	assert_int_equal(status_of(&it_server, "POST", P,
		"{\"flag\":\"nope\"}"), 404);
	assert_int_equal(status_of(&it_server, "GET",
		"/v1/admin/rollouts/strict", NULL), 404);
	assert_int_equal(op(&it_server, "strict", "pause", NULL), 404);
	start(&it_server, "strict", "\"max_step\":\"1h\"");
	assert_int_equal(status_of(&it_server, "POST", P,
		"{\"flag\":\"strict\"}"), 409);
	expect_400("/v1/admin/rollouts/strict/promote", "{\"to\":\"half\"}",
		"to");
	expect_400("/v1/admin/rollouts/strict/pause", "{\"now\":1}", "now");
	/* The history can be cut to its last N; durations in minutes. */
	doc = http_json(&it_server, "GET", "/v1/admin/rollouts/strict?last=1",
		NULL, &st);
	assert_int_equal(st, 200);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"decisions")), 1);
	assert_true(cJSON_GetObjectItem(doc, "decisions_total")->valuedouble
		>= 1);
	assert_string_equal(dstr(cJSON_GetObjectItem(doc, "spec"), "max_step"),
		"3600000ms");
	cJSON_Delete(doc);
	assert_int_equal(status_of(&it_server, "GET",
		"/v1/admin/rollouts/strict?last=0", NULL), 400);
	assert_int_equal(op(&it_server, "strict", "rollback", NULL), 200);
	start(&it_server, "strict", "\"min_soak\":\"5m\",\"max_step\":\"2h\"");
	doc = http_json(&it_server, "GET", "/v1/admin/rollouts/strict", NULL, &st);
	assert_string_equal(dstr(cJSON_GetObjectItem(doc, "spec"), "min_soak"),
		"300000ms");
	assert_string_equal(dstr(cJSON_GetObjectItem(doc, "spec"), "max_step"),
		"7200000ms");
	cJSON_Delete(doc);
	assert_int_equal(status_of(&it_server, "DELETE",
		"/v1/admin/rollouts/strict", NULL), 405);
	/* Admin only. */
	cJSON_Delete(http_json(&it_server, "GET", "/v1/admin/rollouts", NULL, &st));
	assert_int_equal(st, 200);
	assert_int_equal(http_status(&it_server, "GET", "/v1/admin/rollouts",
		SDK_KEY, NULL), 401);
}

static void test_metrics(void **state)
{
	resp r;

	(void)state;
	create_flag(&it_server, "metered");
	start(&it_server, "metered", "\"steps\":[5,100],\"max_step\":\"1h\"");
	assert_int_equal(http(&it_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &r), 0);
	assert_non_null(strstr(r.body,
		"canary_rollout_state{flag=\"metered\",state=\"running\"} 1\n"));
	assert_non_null(strstr(r.body,
		"canary_rollout_state{flag=\"metered\",state=\"paused\"} 0\n"));
	assert_non_null(strstr(r.body,
		"canary_rollout_step_percent{flag=\"metered\"} 5\n"));
	resp_free(&r);
}

static void test_restart_resumes(void **state)
{
	long st;
	cJSON *doc;
	srv s;

	(void)state;
	assert_int_equal(srv_start(&s, NULL), 0);
	create_flag(&s, "durable");
	start(&s, "durable", FAST);
	assert_int_equal(op(&s, "durable", "promote", NULL), 200);
	assert_int_equal(op(&s, "durable", "promote", NULL), 200);
	assert_int_equal(op(&s, "durable", "pause", NULL), 200);
	assert_int_equal(srv_restart(&s, NULL), 0);
	doc = rollout(&s, "durable", &st);
	assert_int_equal(st, 200);
	assert_string_equal(state_of(doc), "paused");
	assert_int_equal(cJSON_GetObjectItem(doc, "step")->valueint, 2);
	cJSON_Delete(doc);
	assert_true(flag_num(&s, "durable", "rollout_bp") == 2500);
	/* Running across a restart: it carries on from 25 % to the end
	 * with no operator involved. */
	assert_int_equal(op(&s, "durable", "resume", NULL), 200);
	assert_int_equal(srv_restart(&s, NULL), 0);
	doc = rollout(&s, "durable", &st);
	assert_string_equal(state_of(doc), "running");
	assert_int_equal(cJSON_GetObjectItem(doc, "step")->valueint, 2);
	cJSON_Delete(doc);
	doc = run_until_settled(&s, "durable", 0.005);
	assert_string_equal(state_of(doc), "completed");
	assert_true(cJSON_GetArraySize(cJSON_GetObjectItem(doc,
		"decisions")) > 5);
	cJSON_Delete(doc);
	assert_true(flag_num(&s, "durable", "rollout_bp") == 10000);
	srv_cleanup(&s);
}

static char out[262144];

static int ctl(const char *const *args)
{
	const char *argv[40] = { CANARYCTL_BIN, "--server", it_server.base,
		"--token", ADMIN_TOKEN };
	int n = 5;

	while (*args && n < 39)
		argv[n++] = *args++;
	argv[n] = NULL;
	return run_capture(argv, NULL, out, sizeof(out));
}

#define CTL(...) ctl((const char *const[]){ __VA_ARGS__, NULL })

static void test_canaryctl_rollout(void **state)
{
	cJSON *doc;

	(void)state;
	/* The history of the healthy rollout, as a table. */
	assert_int_equal(CTL("rollout", "status", "healthy"), 0);
	assert_non_null(strstr(out, "state completed"));
	assert_non_null(strstr(out, "errors 0.50% vs 0.50%"));
	assert_non_null(strstr(out, "p95 "));
	assert_non_null(strstr(out, "PASS"));
	assert_non_null(strstr(out, "widen"));
	assert_non_null(strstr(out, "promote"));
	assert_int_equal(CTL("rollout", "status", "healthy", "--last", "2"), 0);
	assert_non_null(strstr(out, "(last 2 of "));
	assert_int_equal(CTL("rollout", "status", "healthy", "--last", "x"), 2);

	create_flag(&it_server, "ctlf");
	assert_int_equal(CTL("rollout", "start", "ctlf", "--steps", "1,5,100",
		"--max-step", "1h", "--gate", "alpha=0.01", "--gate",
		"lat_ratio=0,0,0", "--sustain", "7m", "--grace", "9m",
		"--on-stall", "pause", "--bake", "30m", "--max-wait", "5h",
		"--widen-undecided", "2.5"), 0);
	assert_non_null(strstr(out, "state running"));
	/* The flag has had no traffic: the first step's time is unknown. */
	assert_non_null(strstr(out, "time to decide: unknown"));
	assert_int_equal(CTL("--json", "rollout", "status", "ctlf"), 0);
	doc = cJSON_Parse(out);
	assert_non_null(doc);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(
		doc, "spec"), "gates"), "alpha")->valuedouble == 0.01);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"spec"), "on_stall")->valuestring, "pause");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"),
		"bake"));
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "spec"),
		"widen_undecided")->valuedouble == 2.5);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(
		cJSON_GetObjectItem(doc, "spec"), "steps")), 3);
	cJSON_Delete(doc);
	assert_int_equal(CTL("rollout", "promote", "ctlf"), 0);
	assert_non_null(strstr(out, "canary 5%"));
	assert_int_equal(CTL("rollout", "pause", "ctlf"), 0);
	assert_int_equal(CTL("rollout", "pause", "ctlf"), 1);
	assert_int_equal(CTL("rollout", "resume", "ctlf"), 0);
	assert_int_equal(CTL("rollout", "status", "ctlf"), 0);
	assert_non_null(strstr(out, "TIME"));
	assert_non_null(strstr(out, "start"));
	assert_non_null(strstr(out, "pause"));
	assert_non_null(strstr(out, "resume"));
	assert_int_equal(CTL("rollout", "rollback", "ctlf"), 0);
	assert_non_null(strstr(out, "state rolled_back"));
	assert_true(flag_num(&it_server, "ctlf", "rollout_bp") == 0);
	assert_int_equal(CTL("rollout", "list"), 0);
	assert_non_null(strstr(out, "ctlf"));
	assert_non_null(strstr(out, "rolled_back"));
	/* Usage errors (2) and refusals (1). */
	assert_int_equal(CTL("rollout", "start", "ctlf", "--gate", "alpha"), 2);
	assert_int_equal(CTL("rollout", "start", "ctlf", "--bogus", "1"), 2);
	/* A bad value is refused naming the value and its rule... */
	assert_int_equal(CTL("rollout", "start", "ctlf", "--min-soak", "5x"),
		2);
	assert_int_equal(CTL("rollout", "start", "ctlf", "--widen-undecided",
		"5%"), 2);
	/* ...what only the server can judge, by the server. */
	assert_int_equal(CTL("rollout", "start", "ctlf", "--steps", "50,5"),
		1);
	assert_int_equal(CTL("rollout", "start", "ctlf", "--widen-undecided",
		"60"), 2);
	assert_int_equal(CTL("rollout", "promote", "ctlf", "--full"), 1);
	assert_int_equal(CTL("rollout", "status", "no-such-flag"), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_rollout_completes),
		cmocka_unit_test(test_bad_canary_rolls_back),
		cmocka_unit_test(test_sparse_canary_errors_roll_back),
		cmocka_unit_test(test_sample_ratio_mismatch_rolls_back),
		cmocka_unit_test(test_slow_canary_rolls_back),
		cmocka_unit_test(test_dry_run_pauses_instead),
		cmocka_unit_test(test_no_traffic_holds_then_pauses),
		cmocka_unit_test(test_undecided_widens),
		cmocka_unit_test(test_manual_operations),
		cmocka_unit_test(test_deleted_flag_ends_rollout),
		cmocka_unit_test(test_bad_requests),
		cmocka_unit_test(test_metrics),
		cmocka_unit_test(test_canaryctl_rollout),
		cmocka_unit_test(test_restart_resumes),
	};

	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
