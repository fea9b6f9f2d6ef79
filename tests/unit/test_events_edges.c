/*
 * test_events_edges.c - events at the edges, with a no-thread client and a
 * transport hook that plays the service and adds up what arrives:
 * - a flush that cannot allocate keeps what it could not move (latency and
 *   metric samples stay counted for the next flush, not dropped);
 * - after fork() the child reports only its own drops: records the parent
 *   dropped (and has yet to report) are the parent's to report.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include <cjson/cJSON.h>

#include "canary/canary.h"

#define CONFIG "{\"version\": 1, \"flags\": [" \
	"{\"key\": \"f\", \"rollout_bp\": 10000}]}"

static bool failing;            /* every allocation fails */
static uint64_t got_latency, got_metric, got_exposures;
static uint64_t reported_windows; /* "dropped": {"windows": N}, added up */
static uint64_t reported_batches; /* "dropped": {"batches": N}, added up */
/* Set: the next POST flushes `evict_client` (whose outbox holds one batch,
 * so the batch in flight is evicted) and is then refused with a 400. */
static canary_client *evict_client;
static int posts;

static void *t_malloc(size_t n, void *ctx)
{
	(void)ctx;
	return failing ? NULL : malloc(n);
}

static void *t_realloc(void *p, size_t n, void *ctx)
{
	(void)ctx;
	return failing ? NULL : realloc(p, n);
}

static void t_free(void *p, void *ctx)
{
	(void)ctx;
	free(p);
}

static uint64_t num(const cJSON *o, const char *name)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);

	return cJSON_IsNumber(v) ? (uint64_t)v->valuedouble : 0;
}

static void take_batch(const char *body, size_t len)
{
	cJSON *root = cJSON_ParseWithLength(body, len);
	const cJSON *w, *bin, *d, *n;

	posts++;
	if (!root)
		return;
	d = cJSON_GetObjectItemCaseSensitive(root, "dropped");
	n = d ? cJSON_GetObjectItemCaseSensitive(d, "windows") : NULL;
	if (cJSON_IsNumber(n))
		reported_windows += (uint64_t)n->valuedouble;
	n = d ? cJSON_GetObjectItemCaseSensitive(d, "batches") : NULL;
	if (cJSON_IsNumber(n))
		reported_batches += (uint64_t)n->valuedouble;
	cJSON_ArrayForEach(w, cJSON_GetObjectItemCaseSensitive(root, "windows")) {
		const cJSON *lat = cJSON_GetObjectItemCaseSensitive(w, "latency_ms");
		const cJSON *met = cJSON_GetObjectItemCaseSensitive(w, "metrics");

		got_exposures += num(w, "exposures");
		if (lat) {
			got_latency += num(lat, "zero");
			cJSON_ArrayForEach(bin,
				cJSON_GetObjectItemCaseSensitive(lat, "bins"))
				got_latency += (uint64_t)
					cJSON_GetArrayItem(bin, 1)->valuedouble;
		}
		if (met)
			got_metric += num(cJSON_GetObjectItemCaseSensitive(met,
				"m"), "count");
	}
	cJSON_Delete(root);
}

static int hook(const canary_http_request *req, canary_http_response *resp,
	void *ctx)
{
	(void)ctx;
	if (req->stream)
		return CANARY_ENOTSUP;
	resp->status = 200;
	if (strcmp(req->method, "POST") == 0 && evict_client) {
		canary_client *c = evict_client;

		evict_client = NULL;
		canary_enabled(c, "f", "u");
		canary_flush(c, 0);
		resp->status = 400;
		return CANARY_OK;
	}
	if (strcmp(req->method, "POST") == 0) {
		take_batch(req->body, req->body_len);
		resp->status = 202;
		return CANARY_OK;
	}
	req->body_fn(CONFIG, strlen(CONFIG), req->body_ctx);
	return CANARY_OK;
}

/* A no-thread client served by the hook, with a config. */
static canary_client *new_client(uint32_t max_batches, bool own_alloc)
{
	canary_options o;
	canary_client *c;

	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.server_url = "http://127.0.0.1:9"; /* never used: the hook answers */
	o.sdk_key = "key";
	o.transport.request = hook;
	o.no_thread = 1;
	o.flush_interval_ms = 3600000;
	o.outbox_max_batches = max_batches;
	o.log_level = CANARY_LOG_ERROR;
	if (own_alloc) {
		o.allocator.malloc_fn = t_malloc;
		o.allocator.realloc_fn = t_realloc;
		o.allocator.free_fn = t_free;
	}
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	canary_client_tick(c, 1);
	assert_int_equal(canary_client_wait_ready(c, 10000), CANARY_OK);
	return c;
}

static void test_flush_without_memory_keeps_samples(void **state)
{
	canary_client *c;
	int i, tick;

	(void)state;
	c = new_client(0, true);

	for (i = 0; i < 10; i++) {
		assert_int_equal(canary_enabled(c, "f", "u"), 1);
		assert_int_equal(canary_record_latency(c, "f", "u", 1.0 + i),
			CANARY_OK);
		assert_int_equal(canary_record_metric(c, "f", "u", "m", i),
			CANARY_OK);
	}
	/* No memory: nothing can be moved, and the flush says so. */
	failing = true;
	assert_int_equal(canary_flush(c, 0), CANARY_ENOMEM);
	failing = false;
	/* Memory again: everything goes out, nothing was lost. */
	assert_int_equal(canary_flush(c, 0), CANARY_OK);
	for (tick = 0; tick < 50 && got_exposures < 10; tick++)
		canary_client_tick(c, 10);
	assert_int_equal(got_exposures, 10);
	assert_int_equal(got_latency, 10);
	assert_int_equal(got_metric, 10);
	canary_client_free(c);
}

static void deliver(canary_client *c)
{
	int i;

	for (i = 0; i < 20; i++)
		canary_client_tick(c, 10);
}

static void test_child_does_not_report_parent_drops(void **state)
{
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	canary_client *c;
	char name[16];
	int i, status;
	pid_t pid;

	(void)state;
	reported_windows = 0;
	posts = 0;
	c = new_client(0, false);
	/* More metric names than one stripe has cells: some are dropped. */
	for (i = 0; i < 40; i++) {
		snprintf(name, sizeof(name), "m%d", i);
		canary_record_metric(c, "f", "u", name, 1);
	}
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_true(st.dropped_records > 0);

	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* No cmocka in the child: the exit code says what it sent. */
		if (canary_client_postfork(c) != CANARY_OK)
			_exit(100);
		canary_client_tick(c, 1);
		canary_flush(c, 0);
		deliver(c);
		_exit(reported_windows > 99 ? 99 : (int)reported_windows);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);

	/* The parent reports them, once. */
	assert_int_equal(canary_flush(c, 0), CANARY_OK);
	deliver(c);
	assert_true(posts > 0);
	assert_int_equal(reported_windows, st.dropped_records);
	canary_client_free(c);
}

/* A batch evicted (outbox bound) while it is being sent, then refused:
 * one batch lost, reported once. */
static void test_refused_batch_evicted_in_flight(void **state)
{
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	canary_client *c;

	(void)state;
	reported_batches = 0;
	c = new_client(1, false);
	canary_enabled(c, "f", "u");
	assert_int_equal(canary_flush(c, 0), CANARY_OK);
	evict_client = c;
	deliver(c);
	assert_null(evict_client);
	assert_int_equal(canary_flush(c, 0), CANARY_OK);
	deliver(c);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	assert_int_equal(st.outbox_batches, 0);
	assert_int_equal(st.dropped_batches, 1);
	assert_int_equal(reported_batches, 1);
	canary_client_free(c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_flush_without_memory_keeps_samples),
		cmocka_unit_test(test_child_does_not_report_parent_drops),
		cmocka_unit_test(test_refused_batch_evicted_in_flight),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
