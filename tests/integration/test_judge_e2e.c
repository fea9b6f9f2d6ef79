/*
 * test_judge_e2e.c - judge v2 end to end: the real SDK (libcanary clients
 * in this process) serves simulated users and reports to the real
 * canary-server, whose controller judges users from the SDK's sketches
 * and decides. A healthy canary completes, one with 5x errors is rolled
 * back; and the decisive behaviours of judge v2 (docs/analysis.md):
 *
 *  - errors in retry bursts on a canary whose users fail no more often
 *    than stable's are not rolled back (judged on users; the same counts
 *    sent without the user-level fields, as requests, are);
 *  - a canary that stops reporting while stable reports (a crash) is an
 *    alert, and is rolled back once the alert outlasts its grace (paused
 *    with on_stall "pause");
 *  - a regression that begins after the step has passed is caught: the
 *    PASS must hold for `sustain`, and the recent windows are tested;
 *  - during a bake at 100%, a gross regression against the last step's
 *    stable arm rolls back;
 *  - with the default latency gates and clients that record no latency,
 *    the latency gates step aside and a healthy canary completes;
 *  - one client sending well-formed false batches under its own instance
 *    id (a healthy-looking canary, 40 times the real traffic) cannot get a
 *    10%-error canary promoted: the step is judged without it.
 *
 * Each rollout evaluates every 100 ms. Nothing here asserts on time: a
 * run feeds rounds of traffic until the rollout leaves "running", within
 * a bound of rounds that only a broken controller reaches.
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

#include "base64.h"
#include "buf.h"
#include "canary/canary.h"
#include "harness.h"
#include "hll.h"

#define USERS 20000          /* per round, each one request */
#define MAX_ROUNDS 600
/* Latency off: these clients record none. */
#define QUIET_GATES "\"gates\":{\"min_exposures\":1000," \
	"\"lat_ratio\":[0,0,0]}"


/* ---- the service's side ------------------------------------------------ */

static cJSON *rollout_doc(const char *flag)
{
	char path[256];
	long st;
	cJSON *doc;

	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	doc = http_json(&it_server, "GET", path, NULL, &st);
	assert_int_equal(st, 200);
	return doc;
}

static void start(const char *flag, const char *spec)
{
	char body[1024];
	long st;

	snprintf(body, sizeof(body), "{\"key\":\"%s\",\"rollout_bp\":0}", flag);
	cJSON_Delete(http_json(&it_server, "POST", "/v1/admin/flags", body,
		&st));
	assert_int_equal(st, 201);
	snprintf(body, sizeof(body), "{\"flag\":\"%s\",%s}", flag, spec);
	cJSON_Delete(http_json(&it_server, "POST", "/v1/admin/rollouts", body,
		&st));
	assert_int_equal(st, 201);
}

/* Did any decision of the rollout have `field` equal to `value`? */
static bool any_decision(const cJSON *doc, const char *field,
	const char *value)
{
	const cJSON *d;

	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions"))
		if (strcmp(it_str(d, field), value) == 0)
			return true;
	return false;
}

static const cJSON *last_decision(const cJSON *doc)
{
	const cJSON *d = cJSON_GetObjectItem(doc, "decisions");

	return cJSON_GetArrayItem(d, cJSON_GetArraySize(d) - 1);
}

/* ---- the fleet's side: the real SDK -------------------------------------- */

static canary_client *sdk(void)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = it_server.base;
	o.sdk_key = SDK_KEY;
	o.flush_interval_ms = 3600000;   /* the rounds flush */
	o.poll_interval_ms = 100;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_wait_ready(c, 30000), CANARY_OK);
	return c;
}

/* Wait (a bound of 30 s for an outcome) until the client evaluates `flag`
 * at the rollout's current step. */
static void follow(canary_client *c, const char *flag, double percent)
{
	canary_details d = CANARY_DETAILS_INIT;
	struct timespec pause = { 0, 20 * 1000 * 1000 };
	int i;

	for (i = 0; i < 1500; i++) {
		canary_evaluate_ex(c, flag, "probe", CANARY_EVALUATE_NO_EXPOSURE,
			&d);
		if (d.rollout_bp == (uint32_t)(percent * 100 + 0.5))
			return;
		nanosleep(&pause, NULL);
	}
	fail_msg("the SDK did not see %s at %g%%", flag, percent);
}

/* What a round does with one user's request: how many errors it records
 * (a burst is a user retrying). `arm` is where the user landed. */
typedef int (*errors_fn)(void *ctx, int user, canary_arm arm, int round);

/* One round: every user (new ones each round: a user is one piece of
 * evidence however often it comes back) makes one request; the errors
 * `fn` says; then
 * the batch goes to the service. */
static void round_of(canary_client *c, const char *flag, int round,
	errors_fn fn, void *ctx)
{
	canary_details d = CANARY_DETAILS_INIT;
	char unit[32];
	int u, k, n;

	for (u = 0; u < USERS; u++) {
		snprintf(unit, sizeof(unit), "user-%d-%d", round, u);
		canary_evaluate(c, flag, unit, &d);
		n = fn(ctx, u, d.arm, round);
		for (k = 0; k < n; k++)
			assert_int_equal(canary_record_error(c, flag, unit),
				CANARY_OK);
	}
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
}

/* Rounds until the rollout leaves "running"; the SDK follows each step.
 * `poke`, when given, runs before each round with the status document.
 * Returns the final status document. */
static cJSON *run(canary_client *c, const char *flag, errors_fn fn,
	void *ctx, void (*poke)(void *ctx, const cJSON *doc))
{
	cJSON *doc = NULL;
	double percent = -1;
	int r;

	for (r = 0; r < MAX_ROUNDS; r++) {
		cJSON_Delete(doc);
		doc = rollout_doc(flag);
		if (getenv("CANARY_TEST_TRACE")) {
			char *t = cJSON_Print(last_decision(doc));
			fprintf(stderr, "round %d: %s\n", r, t);
			free(t);
		}
		if (strcmp(it_str(doc, "state"), "running") != 0)
			return doc;
		if (it_num(doc, "step_percent") != percent) {
			percent = it_num(doc, "step_percent");
			follow(c, flag, percent);
		}
		if (poke)
			poke(ctx, doc);
		round_of(c, flag, r, fn, ctx);
	}
	return doc;
}

/* ---- a healthy canary, a 5x canary ------------------------------------------ */

/* 0.5% of users fail once, in both arms; with `times` the canary's fail
 * that many times as often. */
static int rate_errors(void *ctx, int user, canary_arm arm, int round)
{
	int times = *(int *)ctx;

	(void)round;
	if (arm == CANARY_ARM_CANARY)
		return user % 200 < times;
	return user % 200 == 0;
}

static void test_healthy_canary_promoted(void **state)
{
	canary_client *c;
	int times = 1;
	cJSON *doc;
	const cJSON *d;

	(void)state;
	start("healthy", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\"," QUIET_GATES);
	c = sdk();
	doc = run(c, "healthy", rate_errors, &times, NULL);
	canary_client_free(c);
	assert_string_equal(it_str(doc, "state"), "completed");
	assert_true(any_decision(doc, "action", "promote"));
	assert_false(any_decision(doc, "action", "rollback"));
	/* Judged on users: the sketches reached the judge. */
	d = NULL;
	cJSON_ArrayForEach(d, cJSON_GetObjectItem(doc, "decisions"))
		if (strcmp(it_str(d, "action"), "promote") == 0)
			break;
	assert_non_null(d);
	assert_true(it_num(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "users"),
		"canary"), "units") > 1000);
	assert_true(it_num(d, "decide_ms") >= 0);
	cJSON_Delete(doc);
}

static void test_errors_5x_rolled_back(void **state)
{
	canary_client *c;
	int times = 5;
	cJSON *doc;

	(void)state;
	start("five", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\"," QUIET_GATES);
	c = sdk();
	doc = run(c, "five", rate_errors, &times, NULL);
	canary_client_free(c);
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	assert_false(any_decision(doc, "action", "promote"));
	assert_string_equal(it_str(last_decision(doc), "verdict"), "FAIL");
	assert_string_equal(it_str(last_decision(doc), "metric"), "errors");
	cJSON_Delete(doc);
}

/* The default latency gates, and clients that record no latency: the
 * gates step aside (errors still judge) instead of holding every step. */
static void test_no_latency_steps_aside(void **state)
{
	canary_client *c;
	int times = 1;
	cJSON *doc;

	(void)state;
	start("nolat", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\","
		"\"gates\":{\"min_exposures\":1000}");
	c = sdk();
	doc = run(c, "nolat", rate_errors, &times, NULL);
	canary_client_free(c);
	assert_string_equal(it_str(doc, "state"), "completed");
	assert_false(any_decision(doc, "judge_rule", "latency_no_data"));
	cJSON_Delete(doc);
}

/* ---- bursty errors, users no worse --------------------------------------- */

/* Per round and arm, two users fail; the canary's retry 40 and 20 times,
 * stable's 10 times each: the canary's requests fail 3x as often, its
 * users not at all more often. */
typedef struct bursts {
	int seen[2];
} bursts;

static int burst_errors(void *ctx, int user, canary_arm arm, int round)
{
	static const int size[2][2] = { { 10, 10 }, { 40, 20 } };
	bursts *b = ctx;

	int k;

	if (user == 0)
		b->seen[0] = b->seen[1] = 0;
	/* Every 5,000th user of each arm, twice a round, other users each
	 * round. */
	k = b->seen[arm]++;
	if ((k + 613 * round) % 5000 != 17 || k >= 10000)
		return 0;
	return size[arm][k >= 5000];
}

/* The same counts as v1 windows (no user-level fields), posted by hand:
 * what a judge of requests saw. */
static void post_v1(const char *flag, double version, double n_s,
	double n_c, double e_s, double e_c)
{
	static unsigned long long seq;
	char *b = NULL;
	long st;

	assert_true(asprintf(&b, "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"v1-app\",\"sdk_version\":\"0.0.1\","
		"\"sent_at_ms\":1,\"windows\":["
		"{\"flag\":\"%s\",\"arm\":\"stable\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f},"
		"{\"flag\":\"%s\",\"arm\":\"canary\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":%.0f,\"errors\":%.0f}]}",
		(unsigned long long)getpid() | 1ull << 40, ++seq, flag, version,
		n_s, e_s, flag, version, n_c, e_c) > 0);
	cJSON_Delete(http_json(&it_server, "POST", "/v1/events", b, &st));
	assert_int_equal(st, 202);
	free(b);
}

static void test_bursty_errors_not_rolled_back(void **state)
{
	canary_client *c;
	bursts b = { { 0, 0 } };
	cJSON *doc;
	const cJSON *d;
	int r;

	(void)state;
	start("bursty", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\"," QUIET_GATES);
	c = sdk();
	doc = run(c, "bursty", burst_errors, &b, NULL);
	canary_client_free(c);
	/* Judged on users: the same share of them failed, so it passed. */
	assert_string_equal(it_str(doc, "state"), "completed");
	assert_false(any_decision(doc, "action", "rollback"));
	d = last_decision(doc);
	assert_true(it_num(cJSON_GetObjectItem(cJSON_GetObjectItem(d, "users"),
		"canary"), "dispersion") > 5);
	cJSON_Delete(doc);

	/* The control: the same counts, each request its own unit (v1
	 * windows, as the first judge saw them), are rolled back. */
	start("bursty-v1", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\"," QUIET_GATES);
	doc = NULL;
	for (r = 0; r < MAX_ROUNDS; r++) {
		struct timespec pause = { 0, 20 * 1000 * 1000 };

		cJSON_Delete(doc);
		doc = rollout_doc("bursty-v1");
		if (strcmp(it_str(doc, "state"), "running") != 0)
			break;
		post_v1("bursty-v1", it_num(doc, "step_config_version"), 10000,
			10000, 20, 60);
		nanosleep(&pause, NULL);
	}
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	cJSON_Delete(doc);
}

/* ---- a crashed canary ------------------------------------------------------ */

/* Healthy until `crash_round`; from then on the canary path dies before
 * it reports: its requests are evaluated without being counted. */
typedef struct crash {
	canary_client *c;
	const char *flag;
	int crash_round;
} crash;

static int no_errors(void *ctx, int user, canary_arm arm, int round)
{
	(void)ctx;
	(void)arm;
	(void)round;
	return user % 1000 == 7; /* 0.1% of requests, both arms */
}

static void crash_round(canary_client *c, const char *flag, int round)
{
	canary_details d = CANARY_DETAILS_INIT;
	char unit[32];
	int u;

	for (u = 0; u < USERS; u++) {
		snprintf(unit, sizeof(unit), "user-%d-%d", round, u);
		canary_evaluate_ex(c, flag, unit, CANARY_EVALUATE_NO_EXPOSURE,
			&d);
		if (d.arm != CANARY_ARM_STABLE)
			continue;
		canary_enabled(c, flag, unit); /* served: counted */
		if (no_errors(NULL, u, d.arm, round))
			assert_int_equal(canary_record_error(c, flag, unit),
				CANARY_OK);
	}
	assert_int_equal(canary_flush(c, 30000), CANARY_OK);
}

/* A rollout of `flag` whose canary crashes after 3 healthy rounds, fed
 * until it is no longer running; `on_stall` its option. The final status
 * document. */
static cJSON *crash_run(const char *flag, const char *on_stall)
{
	char spec[512];
	canary_client *c;
	cJSON *doc = NULL;
	int r;

	snprintf(spec, sizeof(spec), "\"steps\":[50,100],\"min_soak\":"
		"\"100ms\",\"interval\":\"100ms\",\"max_step\":\"1h\","
		"\"grace\":\"500ms\",\"sustain\":\"1h\",\"on_stall\":\"%s\","
		QUIET_GATES, on_stall);
	start(flag, spec);
	c = sdk();
	follow(c, flag, 50);
	for (r = 0; r < 3; r++)
		round_of(c, flag, r, no_errors, NULL);
	for (r = 0; r < MAX_ROUNDS; r++) {
		cJSON_Delete(doc);
		doc = rollout_doc(flag);
		if (strcmp(it_str(doc, "state"), "running") != 0)
			break;
		crash_round(c, flag, 1000 + r); /* new users */
	}
	canary_client_free(c);
	/* The alert: the canary's share of units collapsing (srm), or, once
	 * a whole recent window passed without it, canary_silent; whichever
	 * comes first at this traffic. */
	assert_true(any_decision(doc, "judge_rule", "canary_silent") ||
		any_decision(doc, "judge_rule", "srm"));
	assert_true(any_decision(doc, "rule", "alert"));
	assert_string_equal(it_str(last_decision(doc), "rule"), "stall");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(last_decision(doc),
		"alert")));
	return doc;
}

static void test_crashed_canary_rolled_back_after_grace(void **state)
{
	cJSON *doc = crash_run("crash", "rollback");

	(void)state;
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	cJSON_Delete(doc);
}

/* on_stall pause: the same alert waits for a person instead. */
static void test_crashed_canary_paused_on_stall_pause(void **state)
{
	cJSON *doc = crash_run("crash-pause", "pause");

	(void)state;
	assert_string_equal(it_str(doc, "state"), "paused");
	assert_string_equal(it_str(last_decision(doc), "action"), "pause");
	cJSON_Delete(doc);
}

/* ---- a late regression ----------------------------------------------------- */

/* Healthy until the step at 50% has passed after its soak; then the
 * canary's users fail 20 times as often as stable's. */
typedef struct late {
	bool bad;
} late;

static int late_errors(void *ctx, int user, canary_arm arm, int round)
{
	late *l = ctx;

	(void)round;
	if (l->bad && arm == CANARY_ARM_CANARY)
		return user % 10 == 3;     /* 10% */
	return user % 200 == 3;            /* 0.5% */
}

static void regress_once_passed(void *ctx, const cJSON *doc)
{
	late *l = ctx;
	const cJSON *d = last_decision(doc);

	/* Past the soak, the PASS holding for `sustain`: where the first
	 * judge widened. */
	if (it_num(doc, "step_percent") == 50 &&
	    strcmp(it_str(d, "verdict"), "PASS") == 0 &&
	    strcmp(it_str(d, "rule"), "sustain") == 0)
		l->bad = true;
}

/* A rollout of `flag` with `option` ("sustain" or "bake": 30 s, 1 h)
 * whose canary regresses when `poke` says; rolled back on a FAIL. */
static cJSON *late_run(const char *flag, const char *option,
	errors_fn errors, void (*poke)(void *ctx, const cJSON *doc))
{
	char spec[512];
	canary_client *c;
	late l = { false };
	cJSON *doc;

	snprintf(spec, sizeof(spec), "\"steps\":[50,100],\"min_soak\":"
		"\"100ms\",\"interval\":\"100ms\",\"max_step\":\"1h\","
		"\"%s\":\"%s\"," QUIET_GATES, option,
		strcmp(option, "bake") == 0 ? "1h" : "30s");
	start(flag, spec);
	c = sdk();
	doc = run(c, flag, errors, &l, poke);
	canary_client_free(c);
	assert_true(l.bad);
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	assert_string_equal(it_str(last_decision(doc), "verdict"), "FAIL");
	return doc;
}

static void test_late_regression_caught(void **state)
{
	/* The PASS must hold for 30 s after the soak: the regression begins
	 * while it does. */
	cJSON *doc = late_run("late", "sustain", late_errors,
		regress_once_passed);

	(void)state;
	assert_true(it_num(doc, "step_percent") == 50);
	assert_true(any_decision(doc, "rule", "sustain"));
	cJSON_Delete(doc);
}

/* At 100%, baking: the new version against the last step's stable arm. */
static void regress_in_bake(void *ctx, const cJSON *doc)
{
	late *l = ctx;

	if (it_num(doc, "step_percent") == 100)
		l->bad = true;
}

static int bake_errors(void *ctx, int user, canary_arm arm, int round)
{
	late *l = ctx;

	(void)round;
	(void)arm;
	return l->bad ? user % 10 == 3 : user % 200 == 3;
}

static void test_regression_in_bake_rolled_back(void **state)
{
	cJSON *doc = late_run("bake", "bake", bake_errors, regress_in_bake);

	(void)state;
	assert_true(it_num(last_decision(doc), "percent") == 100);
	cJSON_Delete(doc);
}

/* ---- one client cannot decide ---------------------------------------------- */

/* The honest fleet: the canary's users fail 10% of the time, stable's
 * 0.5%. */
static int bad_canary(void *ctx, int user, canary_arm arm, int round)
{
	(void)ctx;
	(void)round;
	return arm == CANARY_ARM_CANARY ? user % 10 == 3 : user % 200 == 3;
}

/* A sketch of `n` fresh units (from `*next`), base64 into `out`. */
static void sketch_b64(uint64_t *next, uint64_t n, canary__buf *out)
{
	static uint8_t regs[CANARY__HLL_REGS(CANARY__HLL_P)];
	static uint8_t wire[CANARY__HLL_MAX_ENCODED];
	canary__hll h;
	uint64_t i;

	canary__hll_init(&h, CANARY__HLL_P, regs);
	for (i = 0; i < n; i++, (*next)++)
		canary__hll_add(&h, next, sizeof(*next));
	canary__base64_put(out, wire, canary__hll_encode(&h, wire,
		sizeof(wire)));
}

/* One arm of the poisoner's window: n exposures of n fresh users, `e` of
 * them with one error each. */
static void poison_arm(canary__buf *b, const char *flag, const char *arm,
	double version, uint64_t n, uint64_t e, uint64_t *next)
{
	uint64_t erring = *next;

	canary__buf_printf(b, "{\"flag\":\"%s\",\"arm\":\"%s\","
		"\"config_version\":%.0f,\"start_ms\":1,\"end_ms\":2,"
		"\"exposures\":%llu,\"errors\":%llu,\"error_units\":\"", flag,
		arm, version, (unsigned long long)n, (unsigned long long)e);
	sketch_b64(next, e, b);      /* the erring users first ... */
	*next = erring;
	canary__buf_puts(b, "\",\"units\":\"");
	sketch_b64(next, n, b);      /* ... are among all of them */
	canary__buf_printf(b, "\",\"error_units_mapped\":%llu,\"error_sq\":%llu,"
		"\"error_max\":%d,\"errors_unmapped\":%llu}",
		(unsigned long long)(e < 96 ? e : 96),
		(unsigned long long)(e < 96 ? e : 96), e ? 1 : 0,
		(unsigned long long)(e < 96 ? 0 : e - 96));
}

/* The poisoner: its own instance id, both arms at the rollout's split
 * with 40 times the fleet's traffic, stable's errors at their usual rate,
 * the canary's none. Well formed: every relation holds. */
static void poison(void *ctx, const cJSON *doc)
{
	static unsigned long long seq;
	uint64_t *next = ctx;
	double share = it_num(doc, "step_percent") / 100;
	uint64_t n = 40 * USERS, nc = (uint64_t)((double)n * share);
	canary__buf b;
	long st;

	canary__buf_init(&b, NULL);
	canary__buf_printf(&b, "{\"batch_id\":\"%016llx%016llx\","
		"\"instance_id\":\"poisoner\",\"sdk_version\":\"9.9.9\","
		"\"sent_at_ms\":1,\"windows\":[", (unsigned long long)getpid() |
		1ull << 41, ++seq);
	poison_arm(&b, "poisoned", "stable", it_num(doc, "step_config_version"),
		n - nc, (n - nc) / 200, next);
	canary__buf_puts(&b, ",");
	poison_arm(&b, "poisoned", "canary", it_num(doc, "step_config_version"),
		nc, 0, next);
	canary__buf_puts(&b, "]}");
	assert_false(b.failed);
	cJSON_Delete(http_json(&it_server, "POST", "/v1/events", b.data, &st));
	assert_int_equal(st, 202);
	canary__buf_free(&b);
}

static void test_poisoning_client_cannot_promote(void **state)
{
	canary_client *c;
	uint64_t next = 1ull << 32;
	cJSON *doc;

	(void)state;
	start("poisoned", "\"steps\":[50,100],\"min_soak\":\"100ms\","
		"\"interval\":\"100ms\",\"max_step\":\"1h\"," QUIET_GATES);
	c = sdk();
	doc = run(c, "poisoned", bad_canary, &next, poison);
	canary_client_free(c);
	assert_string_equal(it_str(doc, "state"), "rolled_back");
	assert_false(any_decision(doc, "action", "widen"));
	assert_false(any_decision(doc, "action", "promote"));
	assert_string_equal(it_str(last_decision(doc), "scope"), "without_top");
	cJSON_Delete(doc);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_healthy_canary_promoted),
		cmocka_unit_test(test_errors_5x_rolled_back),
		cmocka_unit_test(test_no_latency_steps_aside),
		cmocka_unit_test(test_bursty_errors_not_rolled_back),
		cmocka_unit_test(test_crashed_canary_rolled_back_after_grace),
		cmocka_unit_test(test_crashed_canary_paused_on_stall_pause),
		cmocka_unit_test(test_late_regression_caught),
		cmocka_unit_test(test_regression_in_bake_rolled_back),
		cmocka_unit_test(test_poisoning_client_cannot_promote),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, it_setup, it_teardown);
}
