/*
 * test_hostile_poison.c - decisions poisoned through the SDK key. SDK keys
 * ship inside applications, so every request made with one is treated as
 * hostile here:
 *
 *  01  one batch stamped with a config version the server never issued
 *      must not sway a later rollout (a 10 %-error canary is rolled back);
 *  02  counts never go down when more is added (no wrap-around);
 *  03a events for flags the server does not have are not stored as if
 *      they were (no /metrics series, bounded database growth);
 *  03b strings that are not UTF-8 are refused at every entry, and what the
 *      server serves stays UTF-8;
 *  03c what one SDK key may post is bounded (429 with Retry-After);
 *  01b one client sending well-formed but false batches for both arms
 *      under its own instance id (a clean canary, 40 times the real
 *      traffic, stable's errors at their usual rate) cannot get a
 *      10 %-error canary promoted: the step is judged without it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "dp_support.h"
#include "hostile_support.h"
#include "utf8.h"

#define MAX_COUNT 9007199254740991.0 /* 2^53 - 1, the protocol's largest */

/* A rollout that decides in about a second, on errors only. */
#define FAST_ROLLOUT "{\"flag\":\"%s\",\"steps\":[50,100]," \
	"\"min_soak\":\"100ms\",\"max_step\":\"30s\",\"interval\":\"100ms\"," \
	"\"gates\":{\"min_exposures\":200,\"lat_ratio\":[0,0,0]}}"

/* One honest batch at the rollout's step: 20,000 exposures split by the
 * step's share, 0.5 % errors on stable, `canary_err` on the canary. */
static void feed(const char *flag, double version, double percent,
	double canary_err)
{
	double nc = 20000 * percent / 100, ns = 20000 - nc;

	assert_int_equal(hs_post_arms(&hs_server, flag, "app", version, ns,
		ns * 0.005, nc, nc * canary_err), 202);
}

/* Beside the honest fleet, each round: the poisoner, if any. */
typedef void (*poison_fn)(const char *flag, double version, double percent);

/* Start a rollout of `flag` and feed it a 10 %-error canary (and what
 * `poison`, when given, sends) until it is no longer running (30 s at
 * most). Writes the final state to out. */
static void run_bad_canary(const char *flag, char *out, size_t outlen,
	poison_fn poison)
{
	struct timespec pause = { 0, 50 * 1000 * 1000 };
	char body[512], path[256];
	cJSON *doc = NULL;
	long st;
	int i;

	snprintf(body, sizeof(body), FAST_ROLLOUT, flag);
	assert_int_equal(hs_status(&hs_server, "POST", "/v1/admin/rollouts",
		body), 201);
	snprintf(path, sizeof(path), "/v1/admin/rollouts/%s", flag);
	for (i = 0; i < 600; i++) {
		cJSON_Delete(doc);
		doc = hs_call(&hs_server, "GET", path, ADMIN_TOKEN, NULL, &st);
		assert_int_equal(st, 200);
		if (strcmp(it_str(doc, "state"), "running") != 0)
			break;
		feed(flag, it_num(doc, "step_config_version"),
			it_num(doc, "step_percent"), 0.10);
		if (poison)
			poison(flag, it_num(doc, "step_config_version"),
				it_num(doc, "step_percent"));
		nanosleep(&pause, NULL);
	}
	snprintf(out, outlen, "%s (%s)", it_str(doc, "state"),
		it_str(doc, "reason"));
	cJSON_Delete(doc);
}

/* The poisoner ("evil", the same SDK key as the fleet): a clean canary
 * with 40 times the fleet's traffic, stable's errors at their usual
 * rate, both arms at the step's split. */
static void both_arms(const char *flag, double version, double percent)
{
	double n = 40 * 20000, nc = n * percent / 100;

	assert_int_equal(hs_post_arms(&hs_server, flag, "evil", version,
		n - nc, (n - nc) * 0.005, nc, 0), 202);
}

static void test_item01_unissued_version_sways_rollout(void **state)
{
	char control[512], poisoned[512];
	hs_batch b;
	long st;

	(void)state;
	hs_start(NULL);
	/* Control: without the poison, the bad canary is rolled back. */
	hs_flag_create(&hs_server, "control", 0);
	run_bad_canary("control", control, sizeof(control), NULL);
	print_message("without poison: %s\n", control);
	assert_non_null(strstr(control, "rolled_back"));

	/* One batch before the rollout starts: stable errors 1e12 (more
	 * than its exposures) at config version 2^53 - 1, never issued. */
	hs_flag_create(&hs_server, "poisoned", 0);
	hs_batch_begin(&b, "evil");
	hs_batch_window(&b, "poisoned", "stable", MAX_COUNT, 1000, 1e12);
	st = hs_batch_post(&hs_server, &b);
	print_message("poison batch (config version %.0f, issued up to %.0f): "
		"HTTP %ld\n", MAX_COUNT, hs_version(&hs_server), st);
	run_bad_canary("poisoned", poisoned, sizeof(poisoned), NULL);
	print_message("with poison: %s\n", poisoned);
	assert_non_null(strstr(poisoned, "rolled_back"));
}

static void test_item01b_one_key_poisons_both_arms(void **state)
{
	char result[512];

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "both-arms", 0);
	run_bad_canary("both-arms", result, sizeof(result), both_arms);
	print_message("one client poisoning both arms: %s\n", result);
	assert_non_null(strstr(result, "rolled_back"));
}

static double canary_count(const char *flag, const char *field)
{
	char path[256];
	cJSON *doc;
	const cJSON *v;
	double n;
	long st;

	snprintf(path, sizeof(path), "/v1/admin/flags/%s/stats", flag);
	doc = hs_call(&hs_server, "GET", path, ADMIN_TOKEN, NULL, &st);
	assert_int_equal(st, 200);
	v = cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(doc,
		"arms"), "canary"), field);
	assert_true(cJSON_IsNumber(v));
	n = v->valuedouble;
	cJSON_Delete(doc);
	return n;
}

static void test_item02_counts_never_wrap(void **state)
{
	double v, errors, exposures;
	hs_batch b;
	long st;
	int i;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "wrap", 0);
	assert_int_equal(hs_status(&hs_server, "PATCH",
		"/v1/admin/flags/wrap", "{\"salt\":\"a\"}"), 200);
	assert_int_equal(hs_status(&hs_server, "PATCH",
		"/v1/admin/flags/wrap", "{\"salt\":\"b\"}"), 200);
	v = hs_version(&hs_server);
	/* 100 errors in 1,000 exposures at the current version. */
	hs_batch_begin(&b, "app");
	hs_batch_window(&b, "wrap", "canary", v, 1000, 100);
	assert_int_equal(hs_batch_post(&hs_server, &b), 202);
	assert_true(canary_count("wrap", "errors") == 100);
	/* Two more rows (two earlier, issued versions) pushed past INT64_MAX:
	 * 1,100 windows of 2^53 - 1 each. */
	hs_batch_begin(&b, "evil");
	for (i = 0; i < 2200; i++)
		hs_batch_window(&b, "wrap", "canary", v - (i < 1100 ? 2 : 1),
			MAX_COUNT, MAX_COUNT);
	st = hs_batch_post(&hs_server, &b);
	errors = canary_count("wrap", "errors");
	exposures = canary_count("wrap", "exposures");
	print_message("saturating batch: HTTP %ld; canary errors now %.0f, "
		"exposures %.0f (were 100 and 1000)\n", st, errors, exposures);
	assert_true(errors >= 100);
	assert_true(exposures >= 1000);
}

/* Bytes of the database and its WAL. */
static long long db_bytes(const srv *s)
{
	char path[400];
	struct stat st;
	long long n = 0;

	if (stat(s->db, &st) == 0)
		n += st.st_size;
	snprintf(path, sizeof(path), "%s-wal", s->db);
	if (stat(path, &st) == 0)
		n += st.st_size;
	return n;
}

static void test_item03a_unknown_flags_not_stored(void **state)
{
	long long before, after;
	double v;
	resp m;
	int round, accepted = 0;
	bool ghosts;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "real", 0);
	v = hs_version(&hs_server);
	before = db_bytes(&hs_server);
	/* 50,000 distinct names the server never had, from one SDK key. */
	for (round = 0; round < 10; round++) {
		char name[32];
		hs_batch b;
		int i;

		hs_batch_begin(&b, "evil");
		for (i = 0; i < 5000; i++) {
			snprintf(name, sizeof(name), "ghost-%d-%d", round, i);
			hs_batch_window(&b, name, "canary", v, 1, 1);
		}
		if (hs_batch_post(&hs_server, &b) == 202)
			accepted++;
	}
	after = db_bytes(&hs_server);
	assert_int_equal(http(&hs_server, "GET", "/metrics", ADMIN_TOKEN, NULL,
		NULL, &m), 0);
	ghosts = strstr(m.body, "ghost-") != NULL;
	print_message("10 batches of 5,000 unknown flag names: %d accepted; "
		"database + WAL %lld -> %lld bytes (+%lld); /metrics %zu bytes, "
		"ghost series: %s\n", accepted, before, after, after - before,
		m.len, ghosts ? "yes" : "no");
	resp_free(&m);
	assert_false(ghosts);
	/* The bound: a few pages per batch, not a row per name. */
	assert_true(after - before <= 1024 * 1024);
}

/* An event batch whose `field` (instance_id, sdk_version or the window's
 * flag) holds `value`. */
static long post_with(const char *field, const char *value, double version)
{
	char id[33], *b = NULL;
	long st;

	hs_batch_id(id);
	assert_true(asprintf(&b, "{\"batch_id\":\"%s\",\"instance_id\":\"%s\","
		"\"sdk_version\":\"%s\",\"sent_at_ms\":1,\"windows\":["
		"{\"flag\":\"%s\",\"arm\":\"canary\",\"config_version\":%.0f,"
		"\"start_ms\":1,\"end_ms\":2,\"exposures\":1,\"errors\":0}]}", id,
		strcmp(field, "instance_id") ? "app" : value,
		strcmp(field, "sdk_version") ? "0.1.0" : value,
		strcmp(field, "flag") ? "utf" : value, version) > 0);
	st = hs_post_events(&hs_server, b);
	free(b);
	return st;
}

/* POST an admin flag with `member` ("name":value, raw) besides its key. */
static long admin_with(const char *member)
{
	static unsigned seq;
	char body[512];

	snprintf(body, sizeof(body), "{\"key\":\"k%u\",\"rollout_bp\":0,%s}",
		++seq, member);
	return hs_status(&hs_server, "POST", "/v1/admin/flags", body);
}

static bool served_utf8(const char *path, const char *auth)
{
	resp r;
	bool ok;

	assert_int_equal(http(&hs_server, "GET", path, auth, NULL, NULL, &r),
		0);
	ok = canary__utf8_valid(r.body, r.len);
	resp_free(&r);
	return ok;
}

static void test_item03b_utf8_at_every_entry(void **state)
{
	/* Invalid: a lone 0xff, an overlong '/', a surrogate. */
	static const char *const bad[] = { "a\xff" "b", "a\xc0\xaf" "b",
		"a\xed\xa0\x80" "b" };
	static const char *const event_fields[] = { "flag", "instance_id",
		"sdk_version" };
	/* Admin members, %s = the invalid string. */
	static const char *const admin_members[] = { "\"salt\":\"%s\"",
		"\"state\":\"%s\"", "\"allow\":[\"%s\"]",
		"\"variants\":{\"stable\":\"%s\"}" };
	static const char *const admin_names[] = { "salt", "state", "allow[0]",
		"variants.stable" };
	char member[256];
	double v;
	size_t i, j;
	int taken = 0, tries = 0;
	long st;

	(void)state;
	hs_start(NULL);
	hs_flag_create(&hs_server, "utf", 0);
	v = hs_version(&hs_server);
	for (i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		for (j = 0; j < 3; j++, tries++) {
			st = post_with(event_fields[j], bad[i], v);
			if (st != 400) {
				print_message("events %s #%zu: HTTP %ld\n",
					event_fields[j], i, st);
				taken++;
			}
		}
		for (j = 0; j < 4; j++, tries++) {
			snprintf(member, sizeof(member), admin_members[j], bad[i]);
			st = admin_with(member);
			if (st != 400) {
				print_message("admin %s #%zu: HTTP %ld\n",
					admin_names[j], i, st);
				taken++;
			}
		}
		snprintf(member, sizeof(member), "{\"key\":\"%s\","
			"\"rollout_bp\":0}", bad[i]);
		st = hs_status(&hs_server, "POST", "/v1/admin/flags", member);
		tries++;
		if (st != 400) {
			print_message("admin key #%zu: HTTP %ld\n", i, st);
			taken++;
		}
	}
	print_message("%d of %d invalid UTF-8 inputs accepted; /metrics "
		"UTF-8: %s, /v1/flags UTF-8: %s\n", taken, tries,
		served_utf8("/metrics", ADMIN_TOKEN) ? "yes" : "no",
		served_utf8("/v1/flags", SDK_KEY) ? "yes" : "no");
	assert_int_equal(taken, 0);
	assert_true(served_utf8("/metrics", ADMIN_TOKEN));
	assert_true(served_utf8("/v1/flags", SDK_KEY));
}

/* POST a batch of one window of "b" raw: the status, and Retry-After's
 * value in *after (0 if none). */
static int post_raw(long *after)
{
	char req[1024], buf[4096], *body;
	const char *ra;
	hs_batch b;
	int n;

	hs_batch_begin(&b, "hostile");
	hs_batch_window(&b, "b", "canary", 2, 1, 0);
	body = hs_batch_end(&b);
	n = snprintf(req, sizeof(req), "POST /v1/events HTTP/1.1\r\nHost: x\r\n"
		"Authorization: Bearer " SDK_KEY "\r\nContent-Length: %zu\r\n"
		"Connection: close\r\n\r\n%s", strlen(body), body);
	free(body);
	hs_raw(&hs_server, req, (size_t)n, buf, sizeof(buf), NULL);
	ra = strstr(buf, "Retry-After: ");
	*after = ra ? atol(ra + 13) : 0;
	return hs_raw_status(buf);
}

/* What one key may post is bounded: over its budget, 429 with
 * Retry-After (which the SDK honours); after that wait, 202 again. */
static void test_item03c_budget_per_key(void **state)
{
	static const char *const extra[] = { "--events-rate", "5", NULL };
	int i, ok = 0, refused = 0, st = 0;
	long after = 0, wait = 0;

	(void)state;
	hs_start(extra);
	hs_flag_create(&hs_server, "b", 0);
	for (i = 0; i < 30; i++) {
		st = post_raw(&after);
		ok += st == 202;
		if (st == 429) {
			refused++;
			wait = after;
		}
	}
	print_message("30 batches at once, --events-rate 5: %d accepted, %d "
		"refused (429, Retry-After %ld)\n", ok, refused, wait);
	assert_true(ok >= 5 && ok < 30);
	assert_true(refused > 0 && wait >= 1);
	dp_sleep_ms((unsigned)(1000 * wait));
	assert_int_equal(post_raw(&after), 202);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(
			test_item01_unissued_version_sways_rollout, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item01b_one_key_poisons_both_arms, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(test_item02_counts_never_wrap,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(
			test_item03a_unknown_flags_not_stored, hs_setup,
			hs_teardown),
		cmocka_unit_test_setup_teardown(test_item03c_budget_per_key,
			hs_setup, hs_teardown),
		cmocka_unit_test_setup_teardown(test_item03b_utf8_at_every_entry,
			hs_setup, hs_teardown),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
