/*
 * test_events.c - events end to end inside the process: a transport hook
 * plays the flag service (serves a config, receives POST /v1/events and
 * adds up what arrives), so exact counts, opt-outs, bad inputs, refused
 * batches, the outbox bound and the batch format are checked without a
 * network. The same against the real canary-server: tests/events/.
 */
#define _GNU_SOURCE /* mkdtemp */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <math.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>
#include <sqlite3.h>

#include "canary/canary.h"

#define CONFIG "{\"version\": 3, \"flags\": [" \
	"{\"key\": \"f50\", \"rollout_bp\": 5000}," \
	"{\"key\": \"all\", \"rollout_bp\": 10000}," \
	"{\"key\": \"off\", \"rollout_bp\": 5000, \"enabled\": false}," \
	"{\"key\": \"fw\", \"rollout_bp\": 5000, \"constraints\": [" \
	" {\"contextName\": \"firmware\", \"operator\": \"SEMVER_GTE\"," \
	"  \"value\": \"2.3.0\"}]}]}"

/* The fake service: what it received, and how it answers POSTs. */
typedef struct fake {
	pthread_mutex_t lock;
	int post_status;         /* 0 = no response (network error) */
	int posts;
	uint64_t exposures[2], errors[2]; /* [stable, canary], flag f50 */
	uint64_t lat_count[2];
	uint64_t metric_count[2];
	double metric_sum[2];
	uint64_t dropped_batches, dropped_windows;
	/* Flag fw (targeted): [stable, canary], and the units it excludes. */
	uint64_t fw_exposures[2], fw_errors[2], fw_lat_count[2];
	uint64_t ineligible, ineligible_errors;
	char last_batch_id[64];
	int bad_bodies;
} fake;

static fake svc;

static void fake_reset(int post_status)
{
	pthread_mutex_lock(&svc.lock);
	memset(&svc.posts, 0, sizeof(svc) - offsetof(fake, posts));
	svc.post_status = post_status;
	pthread_mutex_unlock(&svc.lock);
}

static uint64_t num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

static void take_window(const cJSON *w)
{
	const char *flag = cJSON_GetObjectItemCaseSensitive(w, "flag")->valuestring;
	const char *arm = cJSON_GetObjectItemCaseSensitive(w, "arm")->valuestring;
	const cJSON *lat = cJSON_GetObjectItemCaseSensitive(w, "latency_ms");
	const cJSON *met = cJSON_GetObjectItemCaseSensitive(w, "metrics");
	const cJSON *bin;
	int a = strcmp(arm, "canary") == 0;

	if (strcmp(flag, "fw") == 0) {
		svc.fw_exposures[a] += num(w, "exposures");
		svc.fw_errors[a] += num(w, "errors");
		svc.ineligible += num(w, "ineligible");
		svc.ineligible_errors += num(w, "ineligible_errors");
		if (a && num(w, "ineligible"))
			svc.bad_bodies++; /* only ever in a stable window */
		if (lat)
			svc.fw_lat_count[a] += num(lat, "zero");
		return;
	}
	if (strcmp(flag, "f50") != 0)
		return;
	svc.exposures[a] += num(w, "exposures");
	svc.errors[a] += num(w, "errors");
	if (lat) {
		svc.lat_count[a] += num(lat, "zero");
		cJSON_ArrayForEach(bin, cJSON_GetObjectItemCaseSensitive(lat, "bins"))
			svc.lat_count[a] += (uint64_t)cJSON_GetArrayItem(bin, 1)->valuedouble;
	}
	if (met) {
		const cJSON *m = cJSON_GetObjectItemCaseSensitive(met, "cart.value");

		if (m) {
			svc.metric_count[a] += num(m, "count");
			svc.metric_sum[a] +=
				cJSON_GetObjectItemCaseSensitive(m, "sum")->valuedouble;
		}
	}
}

/* Returns the status to answer. */
static int take_batch(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *w, *id, *dropped;
	int status;

	pthread_mutex_lock(&svc.lock);
	status = svc.post_status;
	if (!root) {
		svc.bad_bodies++;
	} else if (status >= 200 && status < 300) {
		svc.posts++;
		id = cJSON_GetObjectItemCaseSensitive(root, "batch_id");
		if (!cJSON_IsString(id) || strlen(id->valuestring) != 32)
			svc.bad_bodies++;
		else
			snprintf(svc.last_batch_id, sizeof(svc.last_batch_id), "%s",
				id->valuestring);
		dropped = cJSON_GetObjectItemCaseSensitive(root, "dropped");
		if (dropped) {
			svc.dropped_batches += num(dropped, "batches");
			svc.dropped_windows += num(dropped, "windows");
		}
		cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(root, "windows"))
			take_window(w);
	}
	pthread_mutex_unlock(&svc.lock);
	cJSON_Delete(root);
	return status;
}

static int hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	(void)ctx;
	if (req->stream)
		return CANARY_ENOTSUP;
	if (strcmp(req->method, "POST") == 0) {
		resp->status = take_batch(req->body, req->body_len);
		return resp->status ? CANARY_OK : CANARY_ENETWORK;
	}
	resp->status = 200;
	req->body_fn(CONFIG, strlen(CONFIG), req->body_ctx);
	return CANARY_OK;
}

static canary_client *client_with(bool no_thread, bool no_exposures,
	uint32_t max_batches)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9";  /* never used: the hook answers */
	o.sdk_key = "key";
	o.transport.request = hook;
	o.no_thread = no_thread;
	o.no_exposures = no_exposures;
	o.outbox_max_batches = max_batches;
	o.flush_interval_ms = 3600000;        /* only explicit flushes */
	o.backoff_cap_ms = 100;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	if (no_thread)
		canary_client_tick(c, 1);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	return c;
}

/* ---- exact counts from many threads ------------------------------------- */

#define THREADS 4
#define PER_THREAD 20000

typedef struct worker_arg {
	canary_client *c;
	int id;
	uint64_t exposures[2], errors[2];
} worker_arg;

static void *record_thread(void *p)
{
	worker_arg *w = p;
	char unit[32];
	int i;

	for (i = 0; i < PER_THREAD; i++) {
		int arm;

		snprintf(unit, sizeof(unit), "u%d-%d", w->id, i);
		arm = canary_enabled(w->c, "f50", unit);
		w->exposures[arm]++;
		if (i % 7 == 0) {
			/* No cmocka assertion off the main thread. */
			if (canary_record_error(w->c, "f50", unit) == CANARY_OK)
				w->errors[arm]++;
		}
	}
	return NULL;
}

static void test_exact_counts_across_threads(void **state)
{
	canary_client *c = client_with(false, false, 0);
	worker_arg args[THREADS];
	pthread_t tid[THREADS];
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 };
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	int i, a;

	(void)state;
	fake_reset(202);
	for (i = 0; i < THREADS; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].c = c;
		args[i].id = i;
		assert_int_equal(pthread_create(&tid[i], NULL, record_thread,
			&args[i]), 0);
	}
	/* A flush in the middle of the counting must not lose or double. */
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	for (i = 0; i < THREADS; i++) {
		pthread_join(tid[i], NULL);
		for (a = 0; a < 2; a++) {
			exp[a] += args[i].exposures[a];
			err[a] += args[i].errors[a];
		}
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_true(exp[0] > 0 && exp[1] > 0);
	assert_int_equal(svc.exposures[0], exp[0]);
	assert_int_equal(svc.exposures[1], exp[1]);
	assert_int_equal(svc.errors[0], err[0]);
	assert_int_equal(svc.errors[1], err[1]);
	assert_int_equal(svc.bad_bodies, 0);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_int_equal(st.dropped_records, 0);
	assert_int_equal(st.outbox_batches, 0);
	assert_true(st.batches_sent >= 1);
	canary_client_free(c);
}

/* ---- exact while configs are swapped under the counting threads -------- */

typedef struct swap_arg {
	canary_client *c;
	int id;
	atomic_int *stop;
	uint64_t exposures[2];
} swap_arg;

static void *count_until_stopped(void *p)
{
	swap_arg *w = p;
	char unit[32];
	long i;

	for (i = 0; !atomic_load(w->stop) || i < 1000; i++) {
		snprintf(unit, sizeof(unit), "s%d-%ld", w->id, i);
		w->exposures[canary_enabled(w->c, "f50", unit)]++;
	}
	return NULL;
}

static void test_exact_across_config_swaps(void **state)
{
	canary_client *c = client_with(false, false, 0);
	swap_arg args[2];
	pthread_t tid[2];
	atomic_int stop;
	uint64_t exp[2] = { 0, 0 };
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	char json[256];
	int i, n;

	(void)state;
	fake_reset(202);
	atomic_init(&stop, 0);
	for (i = 0; i < 2; i++) {
		memset(&args[i], 0, sizeof(args[i]));
		args[i].c = c;
		args[i].id = i;
		args[i].stop = &stop;
		assert_int_equal(pthread_create(&tid[i], NULL, count_until_stopped,
			&args[i]), 0);
	}
	/* Every swap retires a snapshot whose table is harvested when the
	 * last reader leaves it: the counts must all arrive, under some
	 * version, with the same arms (the split does not change). */
	for (i = 4; i < 504; i++) {
		n = snprintf(json, sizeof(json), "{\"version\": %d, \"flags\": ["
			"{\"key\": \"f50\", \"rollout_bp\": 5000}]}", i);
		assert_int_equal(canary_client_set_config_json(c, json, (size_t)n),
			CANARY_OK);
		if (i % 100 == 0)
			assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	}
	atomic_store(&stop, 1);
	for (i = 0; i < 2; i++) {
		pthread_join(tid[i], NULL);
		exp[0] += args[i].exposures[0];
		exp[1] += args[i].exposures[1];
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	canary_event_stats_get(c, &st);
	assert_int_equal(st.dropped_records, 0);
	assert_int_equal(svc.exposures[0], exp[0]);
	assert_int_equal(svc.exposures[1], exp[1]);
	canary_client_free(c);
}

/* ---- opt-outs --------------------------------------------------------------- */

static void test_exposure_opt_outs(void **state)
{
	canary_client *c = client_with(false, true, 0);
	canary_details d = CANARY_DETAILS_INIT;

	(void)state;
	fake_reset(202);
	canary_enabled(c, "f50", "a");
	canary_evaluate(c, "f50", "b", &d);
	assert_int_equal(canary_record_error(c, "f50", "a"), CANARY_OK);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.exposures[0] + svc.exposures[1], 0);
	assert_int_equal(svc.errors[0] + svc.errors[1], 1);
	canary_client_free(c);

	c = client_with(false, false, 0);
	fake_reset(202);
	canary_evaluate_ex(c, "f50", "a", CANARY_EVALUATE_NO_EXPOSURE, &d);
	canary_evaluate_ex(c, "f50", "b", 0, &d);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.exposures[0] + svc.exposures[1], 1);
	canary_client_free(c);
}

/* ---- bad inputs: refused, counted, never a crash ------------------------- */

static void test_bad_inputs(void **state)
{
	canary_client *c = client_with(false, false, 0);
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	(void)state;
	fake_reset(202);
	assert_int_equal(canary_record_error(NULL, "f50", "u"), CANARY_EINVAL);
	assert_int_equal(canary_record_error(c, NULL, "u"), CANARY_EINVAL);
	assert_int_equal(canary_record_error(c, "f50", NULL), CANARY_EINVAL);
	assert_int_equal(canary_record_error(c, "f50", ""), CANARY_EINVAL);
	assert_int_equal(canary_record_error(c, "nope", "u"), CANARY_ESTATE);
	assert_int_equal(canary_record_latency(c, "f50", "u", NAN), CANARY_EINVAL);
	assert_int_equal(canary_record_latency(c, "f50", "u", INFINITY),
		CANARY_EINVAL);
	assert_int_equal(canary_record_latency(c, "f50", "u", -1), CANARY_EINVAL);
	assert_int_equal(canary_record_metric(c, "f50", "u", "bad name", 1),
		CANARY_EINVAL);
	assert_int_equal(canary_record_metric(c, "f50", "u", "", 1),
		CANARY_EINVAL);
	assert_int_equal(canary_record_metric(c, "f50", "u", NULL, 1),
		CANARY_EINVAL);
	assert_int_equal(canary_record_metric(c, "f50", "u",
		"a1234567890123456789012345678901234567890123456789012345678901234",
		1), CANARY_EINVAL);
	assert_int_equal(canary_record_metric(c, "f50", "u", "ok", NAN),
		CANARY_EINVAL);
	assert_int_equal(canary_flush(NULL, 0), CANARY_EINVAL);
	assert_int_equal(canary_event_stats_get(c, NULL), CANARY_EINVAL);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_int_equal(st.ignored, 12); /* the NULL client is not counted */
	/* Zero latency is valid; a disabled flag still counts (stable). */
	assert_int_equal(canary_record_latency(c, "f50", "u", 0), CANARY_OK);
	assert_int_equal(canary_record_error(c, "off", "u"), CANARY_OK);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.lat_count[0] + svc.lat_count[1], 1);
	assert_int_equal(svc.bad_bodies, 0);
	canary_client_free(c);
}

/* ---- latency and metrics ------------------------------------------------------ */

static void test_latency_and_metrics(void **state)
{
	canary_client *c = client_with(false, false, 0);
	uint64_t n[2] = { 0, 0 };
	double sum[2] = { 0, 0 };
	char unit[32];
	int i;

	(void)state;
	fake_reset(202);
	for (i = 0; i < 1000; i++) {
		canary_details d = CANARY_DETAILS_INIT;
		int a;

		snprintf(unit, sizeof(unit), "user-%d", i);
		canary_evaluate_ex(c, "f50", unit, CANARY_EVALUATE_NO_EXPOSURE, &d);
		a = d.arm == CANARY_ARM_CANARY;
		assert_int_equal(canary_record_latency(c, "f50", unit,
			0.5 + i * 0.25), CANARY_OK);
		assert_int_equal(canary_record_metric(c, "f50", unit,
			"cart.value", i), CANARY_OK);
		n[a]++;
		sum[a] += i;
	}
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	for (i = 0; i < 2; i++) {
		assert_int_equal(svc.lat_count[i], n[i]);
		assert_int_equal(svc.metric_count[i], n[i]);
		assert_true(fabs(svc.metric_sum[i] - sum[i]) < 1e-6);
	}
	canary_client_free(c);
}

/* ---- targeting: units the rules exclude are counted apart -------------- */

static void test_ineligible_apart(void **state)
{
	canary_client *c = client_with(false, false, 0);
	uint64_t exp[2] = { 0, 0 }, err[2] = { 0, 0 }, out = 0, out_err = 0;
	canary_attribute attr = { "firmware", NULL };
	canary_context ctx = CANARY_CONTEXT_INIT;
	char unit[32];
	int i;

	(void)state;
	fake_reset(202);
	ctx.attrs = &attr;
	ctx.attr_count = 1;
	ctx.unit = unit;
	for (i = 0; i < 1000; i++) {
		canary_details d = CANARY_DETAILS_INIT;

		snprintf(unit, sizeof(unit), "user-%d", i);
		attr.value = i % 3 ? "2.4.0" : "2.2.0";
		canary_evaluate_ctx(c, "fw", &ctx, 0, &d);
		if (d.reason == CANARY_REASON_INELIGIBLE) {
			out++;
			out_err += i % 2;
		} else {
			exp[d.arm]++;
			err[d.arm] += i % 2;
		}
		if (i % 2)
			assert_int_equal(canary_record_error_ctx(c, "fw", &ctx),
				CANARY_OK);
		/* Kept for the eligible, left out for the others. */
		assert_int_equal(canary_record_latency_ctx(c, "fw", &ctx, 0),
			CANARY_OK);
	}
	assert_true(out == 334);
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.bad_bodies, 0);
	assert_true(svc.ineligible == out);
	assert_true(svc.ineligible_errors == out_err);
	for (i = 0; i < 2; i++) {
		assert_true(svc.fw_exposures[i] == exp[i]);
		assert_true(svc.fw_errors[i] == err[i]);
		assert_true(svc.fw_lat_count[i] == exp[i]);
	}
	canary_client_free(c);
}

/* ---- refused batches and the outbox bound --------------------------------- */

static void test_refused_batch_is_dropped_and_reported(void **state)
{
	canary_client *c = client_with(false, false, 0);
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	(void)state;
	fake_reset(400);
	canary_enabled(c, "f50", "a");
	/* Refused for good: it leaves the outbox (not delivered). */
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	canary_event_stats_get(c, &st);
	assert_int_equal(st.dropped_batches, 1);
	assert_int_equal(st.outbox_batches, 0);
	fake_reset(202);
	canary_enabled(c, "f50", "b");
	assert_int_equal(canary_flush(c, 10000), CANARY_OK);
	assert_int_equal(svc.dropped_batches, 1);
	assert_int_equal(svc.exposures[0] + svc.exposures[1], 1);
	canary_client_free(c);
}

static void test_outbox_bound_reports_drops(void **state)
{
	canary_client *c = client_with(false, false, 2);
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	int i;

	(void)state;
	fake_reset(0); /* the service is unreachable */
	for (i = 0; i < 5; i++) {
		canary_enabled(c, "f50", "a");
		assert_int_equal(canary_flush(c, 0), CANARY_ETIMEOUT);
	}
	canary_event_stats_get(c, &st);
	assert_int_equal(st.outbox_batches, 2);
	assert_int_equal(st.dropped_batches, 3);
	fake_reset(202);
	canary_enabled(c, "f50", "a");
	/* The new batch pushes out one more old one: the bound holds
	 * whatever the service does. */
	assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	assert_int_equal(svc.exposures[0] + svc.exposures[1], 2);
	/* Every drop is reported by a later batch (an evicted batch's own
	 * report is carried forward): four in all. */
	canary_enabled(c, "f50", "a");
	assert_int_equal(canary_flush(c, 20000), CANARY_OK);
	assert_int_equal(svc.exposures[0] + svc.exposures[1], 3);
	assert_int_equal(svc.dropped_batches, 4);
	canary_event_stats_get(c, &st);
	assert_int_equal(st.dropped_batches, 4);
	canary_client_free(c);
}

static void test_outbox_byte_bound(void **state)
{
	canary_options o;
	canary_client *c;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	int i;

	(void)state;
	/* No server: batches only pile up. Each is a few hundred bytes, so a
	 * 1,000-byte outbox holds two or three of them. */
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.outbox_max_bytes = 1000;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, CONFIG, strlen(CONFIG)),
		CANARY_OK);
	for (i = 0; i < 10; i++) {
		canary_enabled(c, "f50", "a");
		assert_int_equal(canary_flush(c, 0), CANARY_OK);
	}
	canary_event_stats_get(c, &st);
	assert_true(st.outbox_bytes <= 1000);
	assert_true(st.outbox_batches >= 1 && st.outbox_batches < 10);
	assert_int_equal(st.dropped_batches + st.outbox_batches, 10);
	assert_int_equal(st.batches_written, 10);
	canary_client_free(c);
}

/* ---- no-thread mode: tick delivers ------------------------------------------ */

static void test_tick_delivers(void **state)
{
	canary_client *c = client_with(true, false, 0);
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	uint64_t now = 1;
	int i;

	(void)state;
	fake_reset(202);
	canary_enabled(c, "all", "a");
	assert_int_equal(canary_record_error(c, "f50", "a"), CANARY_OK);
	assert_int_equal(canary_flush(c, 0), CANARY_OK); /* into the outbox */
	for (i = 0; i < 100 && svc.posts == 0; i++)
		canary_client_tick(c, now += 10);
	canary_event_stats_get(c, &st);
	assert_int_equal(st.outbox_batches, 0);
	assert_int_equal(svc.errors[0] + svc.errors[1], 1);
	canary_client_free(c);
}

static void test_tick_flushes_on_interval(void **state)
{
	canary_options o;
	canary_client *c;
	uint64_t now = 1000;
	int i;

	(void)state;
	fake_reset(202);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9";
	o.sdk_key = "key";
	o.transport.request = hook;
	o.no_thread = true;
	o.flush_interval_ms = 100;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	canary_client_tick(c, now);
	assert_int_equal(canary_client_wait_ready(c, 0), CANARY_OK);
	canary_enabled(c, "all", "a");
	assert_int_equal(canary_record_error(c, "all", "a"), CANARY_OK);
	/* No canary_flush(): the ticks' clock passing the interval is all. */
	for (i = 0; i < 50 && svc.posts == 0; i++)
		canary_client_tick(c, now += 50);
	assert_true(svc.posts >= 1);
	canary_client_free(c);
}

/* ---- an outbox written by a newer SDK is left alone -------------------- */

static int newer_logged;

static void log_newer(canary_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)ctx;
	if (strstr(msg, "newer libcanary") && strstr(msg, "kept in memory"))
		newer_logged++;
}

static void test_newer_outbox_left_alone(void **state)
{
	char dir[] = "/tmp/canary-evnewer-XXXXXX", path[64];
	canary_options o;
	canary_client *c;
	sqlite3 *db;
	sqlite3_stmt *st;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/cache.db", dir);
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db,
		"CREATE TABLE canary_schema (component TEXT PRIMARY KEY NOT NULL,"
		" version INTEGER NOT NULL);"
		"INSERT INTO canary_schema VALUES ('outbox', 2);"
		"CREATE TABLE outbox (seq INTEGER PRIMARY KEY, future BLOB);"
		"INSERT INTO outbox VALUES (1, x'00');", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.cache_path = path;
	o.log_fn = log_newer;
	newer_logged = 0;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(newer_logged, 1);
	assert_int_equal(canary_client_set_config_json(c, CONFIG, strlen(CONFIG)),
		CANARY_OK);
	canary_enabled(c, "f50", "a");
	assert_int_equal(canary_flush(c, 0), CANARY_OK);
	canary_client_free(c);
	/* The newer SDK's row is untouched. */
	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, "SELECT count(*) FROM outbox"
		" WHERE future = x'00'", -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	assert_int_equal(sqlite3_column_int(st, 0), 1);
	sqlite3_finalize(st);
	sqlite3_close(db);
	unlink(path);
	rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_counts_across_threads),
		cmocka_unit_test(test_exact_across_config_swaps),
		cmocka_unit_test(test_exposure_opt_outs),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_latency_and_metrics),
		cmocka_unit_test(test_ineligible_apart),
		cmocka_unit_test(test_refused_batch_is_dropped_and_reported),
		cmocka_unit_test(test_outbox_bound_reports_drops),
		cmocka_unit_test(test_outbox_byte_bound),
		cmocka_unit_test(test_tick_delivers),
		cmocka_unit_test(test_tick_flushes_on_interval),
		cmocka_unit_test(test_newer_outbox_left_alone),
	};

	pthread_mutex_init(&svc.lock, NULL);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
