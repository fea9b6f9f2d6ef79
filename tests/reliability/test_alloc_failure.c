/*
 * test_alloc_failure.c - the SDK's main paths with the Nth allocation of
 * the client's allocator failing, for every N from 1 until a run makes no
 * allocation fail. Each run must return an error or succeed: never crash,
 * never leak (the allocator counts live blocks: 0 after canary_client_free),
 * and a client must still answer (stable) after a failed config change.
 *
 * Events are recorded and flushed on every path (the outbox in the cache
 * file, or in memory; the fault server answers /v1/events with 404, so
 * delivery ends in a counted drop).
 *
 * Only our allocator fails: cJSON, SQLite and libcurl allocate through
 * their own (libcanary never changes their process-wide hooks). Under the
 * ASan pass LeakSanitizer also checks those.
 *
 * CANARY_ALLOC_FAIL_TRACE=1 prints each N and its return codes.
 */
#define _GNU_SOURCE
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"
#include "fault_server.h"
#ifdef CANARY_REL_SERVER
#include "rel_support.h"
#endif

/* ---- a counting allocator that fails the Nth allocation ---- */

/* Atomic: in thread mode the worker allocates too. */
typedef struct failing {
	atomic_long calls;  /* allocations attempted (malloc and realloc) */
	long fail_at;       /* fail this one (1-based); 0 = never */
	atomic_long failed; /* how many were failed */
	atomic_long live;   /* blocks handed out and not yet freed */
} failing;

static void failing_init(failing *f, long fail_at)
{
	atomic_init(&f->calls, 0);
	f->fail_at = fail_at;
	atomic_init(&f->failed, 0);
	atomic_init(&f->live, 0);
}

static bool should_fail(failing *f)
{
	long n = atomic_fetch_add(&f->calls, 1) + 1;

	if (f->fail_at && n == f->fail_at) {
		atomic_fetch_add(&f->failed, 1);
		return true;
	}
	return false;
}

static void *f_malloc(size_t size, void *ctx)
{
	failing *f = ctx;
	void *p;

	if (should_fail(f))
		return NULL;
	p = malloc(size);
	if (p)
		f->live++;
	return p;
}

static void *f_realloc(void *ptr, size_t size, void *ctx)
{
	failing *f = ctx;
	void *p;

	if (should_fail(f))
		return NULL; /* ptr is untouched, as realloc promises */
	p = realloc(ptr, size);
	if (p && !ptr)
		f->live++;
	return p;
}

static void f_free(void *ptr, void *ctx)
{
	failing *f = ctx;

	if (ptr) {
		f->live--;
		free(ptr);
	}
}

static void use_allocator(canary_options *o, failing *f)
{
	o->allocator.malloc_fn = f_malloc;
	o->allocator.realloc_fn = f_realloc;
	o->allocator.free_fn = f_free;
	o->allocator.ctx = f;
}

static void count_log(canary_log_level level, const char *msg, void *ctx)
{
	(void)level;
	(void)msg;
	(*(int *)ctx)++;
}

static bool trace(void)
{
	const char *t = getenv("CANARY_ALLOC_FAIL_TRACE");

	return t && t[0] == '1';
}

/* A failed call says so with an error code, never with something else. */
static void assert_error_code(int rc)
{
	if (rc != CANARY_OK && rc != CANARY_ENOMEM && rc != CANARY_ESTORAGE)
		fail_msg("unexpected return code %d (%s): %s", rc,
			canary_strerror(rc), canary_error_last());
}

static const char config_v7[] =
	"{\"version\": 7, \"flags\": ["
	"{\"key\": \"all-in\", \"rollout_bp\": 10000,"
	" \"variants\": {\"stable\": \"1.0\", \"canary\": \"1.1\"}},"
	"{\"key\": \"none\", \"rollout_bp\": 0},"
	"{\"key\": \"listed\", \"rollout_bp\": 5000, \"salt\": \"s\","
	" \"allow\": [\"a\", \"b\", \"c\"], \"deny\": [\"d\", \"e\"]}]}";

static const char config_v9[] =
	"{\"version\": 9, \"flags\": ["
	"{\"key\": \"all-in\", \"rollout_bp\": 0},"
	"{\"key\": \"new\", \"rollout_bp\": 10000, \"enabled\": true,"
	" \"allow\": [\"x\"], \"variants\": {\"canary\": \"2.0\"}}]}";

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fputs(text, f) >= 0, 1);
	assert_int_equal(fclose(f), 0);
}

/* Evaluations never fail; the answer depends on the config in force. */
static void evaluate_all(canary_client *c)
{
	canary_details d = CANARY_DETAILS_INIT;
	uint64_t v = canary_client_config_version(c);

	(void)canary_enabled(c, "all-in", "u1");
	(void)canary_evaluate(c, "listed", "a", &d);
	(void)canary_evaluate(c, "missing", "u1", &d);
	assert_int_equal(d.error_code, v ? CANARY_EVAL_FLAG_NOT_FOUND :
		CANARY_EVAL_NOT_READY);
	(void)canary_evaluate(c, "new", "x", &d);
	if (v == 7) {
		assert_true(canary_enabled(c, "all-in", "u1"));
		assert_false(canary_enabled(c, "new", "x"));
	} else if (v == 9) {
		assert_false(canary_enabled(c, "all-in", "u1"));
		assert_true(canary_enabled(c, "new", "x"));
	}
}

/* Record every kind of event and flush: recording never allocates (a
 * full table drops and counts); flushing writes the outbox (and, with a
 * timeout and a worker, waits for delivery). */
static void record_and_flush(canary_client *c, uint32_t timeout_ms)
{
	static const char *const flags[] = { "all-in", "new", "missing" };
	canary_event_stats st = CANARY_EVENT_STATS_INIT;
	size_t i, recorded = 0;
	int rc;

	for (i = 0; i < sizeof(flags) / sizeof(*flags); i++) {
		int r[3];
		int k;

		r[0] = canary_record_error(c, flags[i], "u1");
		r[1] = canary_record_latency(c, flags[i], "u2", 12.5);
		r[2] = canary_record_metric(c, flags[i], "u3", "bytes", 100);
		for (k = 0; k < 3; k++) {
			if (r[k] != CANARY_OK && r[k] != CANARY_ESTATE &&
			    r[k] != CANARY_ENOMEM)
				fail_msg("record: %d", r[k]);
			recorded += r[k] == CANARY_OK;
		}
	}
	rc = canary_flush(c, timeout_ms);
	if (trace())
		fprintf(stderr, " flush=%d", rc);
	if (rc != CANARY_ETIMEOUT)
		assert_error_code(rc);
	/* A failed flush kept the counts: the next one writes them (only
	 * one allocation fails per run). */
	if (rc != CANARY_OK && rc != CANARY_ETIMEOUT) {
		rc = canary_flush(c, timeout_ms);
		assert_true(rc == CANARY_OK || rc == CANARY_ETIMEOUT);
	}
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	/* What was counted went out; what an allocation failure cost is
	 * counted as dropped (st.dropped_records), never silent. */
	assert_true(recorded == 0 || st.batches_written >= 1);
}

/* ---- scenario 1: offline (bootstrap + cache), apply, reopen ---- */

typedef struct run_result {
	long calls;
	long failed;
} run_result;

/* Options every scenario shares: the failing allocator and a log that
 * takes everything (log formatting runs under failure too). */
static void base_options(canary_options *o, failing *f, int *logs)
{
	canary_options_init(o, CANARY_OPTIONS_VERSION);
	use_allocator(o, f);
	o->log_fn = count_log;
	o->log_ctx = logs;
	o->log_level = CANARY_LOG_DEBUG;
}

/* canary_client_new: success, or an error code with no client. */
static int new_client(canary_client **c, const canary_options *o,
	const char *what, long fail_at)
{
	int rc = canary_client_new(c, o);

	if (trace())
		fprintf(stderr, "%s N=%ld new=%d", what, fail_at, rc);
	assert_error_code(rc);
	if (rc != CANARY_OK)
		assert_null(*c);
	return rc;
}

/* Nothing leaked, whatever happened. */
static run_result finish(failing *f, const char *cache)
{
	run_result r;

	if (trace())
		fprintf(stderr, " calls=%ld live=%ld\n",
			atomic_load(&f->calls), atomic_load(&f->live));
	assert_int_equal(atomic_load(&f->live), 0);
	if (cache)
		unlink(cache);
	r.calls = atomic_load(&f->calls);
	r.failed = atomic_load(&f->failed);
	return r;
}

static run_result run_offline(long fail_at, const char *dir, int unused)
{
	canary_options o;
	canary_client *c = NULL;
	failing f;
	int logs = 0, rc;
	char cache[512], boot[512];

	(void)unused;
	failing_init(&f, fail_at);
	snprintf(cache, sizeof(cache), "%s/cache-%ld.db", dir, fail_at);
	snprintf(boot, sizeof(boot), "%s/bootstrap.json", dir);

	base_options(&o, &f, &logs);
	o.bootstrap_path = boot;
	o.cache_path = cache;

	if (new_client(&c, &o, "offline", fail_at) != CANARY_OK)
		goto done;
	evaluate_all(c);
	rc = canary_client_set_config_json(c, config_v9, strlen(config_v9));
	if (trace())
		fprintf(stderr, " set=%d", rc);
	assert_error_code(rc);
	/* A failed change leaves the previous config in force, whole. */
	if (rc != CANARY_OK)
		assert_true(canary_client_config_version(c) == 7 ||
			canary_client_config_version(c) == 0);
	else
		assert_true(canary_client_config_version(c) == 9);
	evaluate_all(c);
	record_and_flush(c, 0);
	assert_int_equal(canary_client_status(c), CANARY_STATUS_READY);
	canary_client_free(c);
	c = NULL;

	/* Again, now from the cache the first client wrote (no bootstrap). */
	o.bootstrap_path = NULL;
	rc = canary_client_new(&c, &o);
	if (trace())
		fprintf(stderr, " reopen=%d", rc);
	assert_error_code(rc);
	if (rc == CANARY_OK) {
		evaluate_all(c); /* and the outbox the first client left */
		record_and_flush(c, 0);
		canary_client_free(c);
	} else {
		assert_null(c);
	}
done:
	return finish(&f, cache);
}

/* ---- scenario 2: no-thread mode against a closed port ---- */

/* A 127.0.0.1 port nobody listens on: bound, then closed. */
static int closed_port(void)
{
	struct sockaddr_in a;
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0), port;

	assert_true(fd >= 0);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	port = ntohs(a.sin_port);
	close(fd);
	return port;
}

static run_result run_tick(long fail_at, const char *dir, int port)
{
	canary_options o;
	canary_client *c = NULL;
	failing f;
	int logs = 0, rc, i;
	uint64_t now = 1000;
	char cache[512], url[64];

	failing_init(&f, fail_at);
	snprintf(cache, sizeof(cache), "%s/tick-%ld.db", dir, fail_at);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", port);
	write_file(cache, ""); /* an empty file: SQLite makes it a database */

	base_options(&o, &f, &logs);
	o.server_url = url;
	o.sdk_key = "sdk-key-alloc-test";
	o.cache_path = cache;
	o.no_thread = true;
	o.connect_timeout_ms = 1000;
	o.request_timeout_ms = 1000;
	o.poll_interval_ms = 100;
	o.backoff_cap_ms = 200;

	if (new_client(&c, &o, "tick", fail_at) != CANARY_OK)
		goto done;
	rc = canary_client_set_config_json(c, config_v7, strlen(config_v7));
	assert_error_code(rc);
	/* Connection refused comes back within a few ticks; the fake clock
	 * moves past every backoff, so several attempts are made. */
	for (i = 0; i < 40 && (i < 10 ||
	    canary_client_status(c) != CANARY_STATUS_OFFLINE); i++) {
		rc = canary_client_tick(c, now);
		assert_error_code(rc);
		evaluate_all(c);
		now += 500;
		dp_sleep_ms(1);
	}
	if (trace())
		fprintf(stderr, " status=%s", canary_status_name(
			canary_client_status(c)));
	/* A failed allocation in one attempt does not stop the next ones. */
	assert_int_equal(canary_client_status(c), CANARY_STATUS_OFFLINE);
	canary_client_free(c);
done:
	return finish(&f, cache);
}

/* ---- scenario 3: no-thread mode, fetch and stream from a server ---- */

static fs_server *g_fs;

static bool tick_to_version(canary_client *c, uint64_t *now, uint64_t v)
{
	int i;

	/* Bounded: a client that stopped trying fails the test here. */
	for (i = 0; i < 3000; i++) {
		int rc = canary_client_tick(c, *now);

		assert_error_code(rc);
		evaluate_all(c);
		if (canary_client_config_version(c) >= v)
			return true;
		*now += 100;
		dp_sleep_ms(1);
	}
	return false;
}

static run_result run_fetch(long fail_at, const char *dir, int unused)
{
	canary_options o;
	canary_client *c = NULL;
	failing f;
	int logs = 0, rc;
	uint64_t now = 1000;
	char cache[512];

	(void)unused;
	failing_init(&f, fail_at);
	fs_set_config(g_fs, fs_config_json(11), 11);
	snprintf(cache, sizeof(cache), "%s/fetch-%ld.db", dir, fail_at);

	base_options(&o, &f, &logs);
	o.server_url = fs_url(g_fs);
	o.sdk_key = "sdk-key-alloc-test";
	o.cache_path = cache;
	o.no_thread = true;
	o.backoff_cap_ms = 200;
	o.stream_idle_timeout_ms = 600000;

	if (new_client(&c, &o, "fetch", fail_at) != CANARY_OK)
		goto done;
	/* The fetch, then a change that arrives over the stream (or a poll,
	 * if an allocation failure broke the stream). */
	assert_true(tick_to_version(c, &now, 11));
	assert_true(canary_enabled(c, "all", "u1"));
	record_and_flush(c, 0); /* delivered by the ticks below */
	fs_set_config(g_fs, fs_config_json(12), 12);
	assert_true(tick_to_version(c, &now, 12));
	if (trace())
		fprintf(stderr, " status=%s", canary_status_name(
			canary_client_status(c)));
	canary_client_free(c);
	c = NULL;

	/* Reopen from the cache it wrote, offline. */
	o.server_url = NULL;
	o.sdk_key = NULL;
	rc = canary_client_new(&c, &o);
	assert_error_code(rc);
	if (rc == CANARY_OK) {
		/* 12 unless the failure hit the cache write (then 11 or none) */
		assert_true(canary_client_config_version(c) <= 12);
		evaluate_all(c);
		canary_client_free(c);
	}
done:
	return finish(&f, cache);
}

/* ---- scenario 4: the background worker, fetch and stream ---- */

static run_result run_thread(long fail_at, const char *dir, int unused)
{
	canary_options o;
	canary_client *c = NULL;
	failing f;
	int logs = 0;

	(void)unused;
	(void)dir;
	failing_init(&f, fail_at);
	fs_set_config(g_fs, fs_config_json(21), 21);

	base_options(&o, &f, &logs);
	o.server_url = fs_url(g_fs);
	o.sdk_key = "sdk-key-alloc-test";
	o.backoff_cap_ms = 100;
	o.poll_interval_ms = 100;

	if (new_client(&c, &o, "thread", fail_at) != CANARY_OK)
		goto done;
	assert_true(dp_wait_version(c, 21));
	evaluate_all(c);
	record_and_flush(c, 2000);
	fs_set_config(g_fs, fs_config_json(22), 22);
	assert_true(dp_wait_version(c, 22));
	canary_client_free(c);
done:
	return finish(&f, NULL);
}

/* ---- every N ---- */

static char *g_dir;

static int setup(void **state)
{
	(void)state;
	g_dir = dp_tmpdir();
	write_file(dp_path(g_dir, "bootstrap.json"), config_v7);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	dp_tmpdir_free(g_dir);
	return 0;
}

/* Until a run fails nothing; a hard limit catches a path whose number
 * of allocations never stops growing. */
#define MAX_RUNS 20000

typedef run_result (*scenario_fn)(long fail_at, const char *dir, int port);

static void every_n(const char *name, scenario_fn run, int port)
{
	uint64_t start = dp_now_ms();
	run_result r;
	long n;

	r = run(0, g_dir, port);
	assert_true(r.calls > 0);
	for (n = 1; n < MAX_RUNS; n++) {
		r = run(n, g_dir, port);
		if (!r.failed)
			break;
	}
	assert_true(n < MAX_RUNS);
	print_message("%s: %ld allocations, each failed in turn (%lu ms)\n",
		name, n - 1, (unsigned long)(dp_now_ms() - start));
}

static void test_offline_every_n(void **state)
{
	(void)state;
	every_n("offline (bootstrap, cache, set_config)", run_offline, 0);
}

static void test_tick_closed_port_every_n(void **state)
{
	(void)state;
	every_n("no-thread, server down", run_tick, closed_port());
}

static void test_tick_fetch_every_n(void **state)
{
	(void)state;
	g_fs = fs_start();
	every_n("no-thread, fetch + stream + cache", run_fetch, 0);
	fs_stop(g_fs);
	g_fs = NULL;
}

static void test_thread_every_n(void **state)
{
	(void)state;
	g_fs = fs_start();
	every_n("worker thread, fetch + stream", run_thread, 0);
	fs_stop(g_fs);
	g_fs = NULL;
}

#ifdef CANARY_REL_SERVER
/* ---- scenario 5: events delivered to the real canary-server ---- */

static srv g_srv;
static unsigned long long g_expected; /* errors the server must hold */

static run_result run_server(long fail_at, const char *dir, int unused)
{
	canary_options o;
	canary_client *c = NULL;
	failing f;
	int logs = 0, rc, k, recorded = 0;
	canary_event_stats st = CANARY_EVENT_STATS_INIT;

	(void)dir;
	(void)unused;
	failing_init(&f, fail_at);
	base_options(&o, &f, &logs);
	o.server_url = g_srv.base;
	o.sdk_key = SDK_KEY;
	o.backoff_cap_ms = 100;
	o.poll_interval_ms = 100;
	if (new_client(&c, &o, "server", fail_at) != CANARY_OK)
		goto done;
	assert_true(dp_wait_status(c, CANARY_STATUS_READY));
	for (k = 0; k < 3; k++)
		recorded += canary_record_error(c, "alloc", "u1") == CANARY_OK;
	/* Delivered: a single failed allocation may cost one attempt, and
	 * the next gets through. */
	rc = canary_flush(c, DP_PATIENCE_MS);
	if (trace())
		fprintf(stderr, " flush=%d", rc);
	if (rc != CANARY_OK) {
		assert_error_code(rc);
		rc = canary_flush(c, DP_PATIENCE_MS);
	}
	assert_int_equal(rc, CANARY_OK);
	assert_int_equal(canary_event_stats_get(c, &st), CANARY_OK);
	if (trace())
		fprintf(stderr, " recorded=%d dropped_records=%llu "
			"dropped_batches=%llu sent=%llu", recorded,
			(unsigned long long)st.dropped_records,
			(unsigned long long)st.dropped_batches,
			(unsigned long long)st.batches_sent);
	g_expected += (unsigned long long)recorded;
	canary_client_free(c);
	if (trace())
		fprintf(stderr, " server=%.0f expected=%llu", rel_arm_count(&g_srv,
			"alloc", "canary", "errors"), g_expected);
done:
	return finish(&f, NULL);
}

static void test_server_every_n(void **state)
{
	double counted;

	(void)state;
	assert_int_equal(rel_start_with_flag(&g_srv, "alloc", 10000), 0);
	every_n("worker thread, events delivered to canary-server", run_server,
		0);
	/* Every error recorded and flushed arrived once: no loss, no
	 * double count, whatever allocation failed. */
	counted = rel_arm_count(&g_srv, "alloc", "canary", "errors");
	srv_cleanup(&g_srv);
	if (counted != (double)g_expected)
		fail_msg("server counted %.0f errors, %llu were delivered",
			counted, g_expected);
}
#endif

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_offline_every_n),
		cmocka_unit_test(test_tick_closed_port_every_n),
		cmocka_unit_test(test_tick_fetch_every_n),
		cmocka_unit_test(test_thread_every_n),
#ifdef CANARY_REL_SERVER
		cmocka_unit_test(test_server_every_n),
#endif
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
