/*
 * test_hostile_sdk.c - the SDK against a hostile service (the data path
 * tests' fault server) and a hostile allocator:
 *
 *  08  the SDK's half of "versions that lie": the version it holds,
 *      served again with other content, is applied (and cached);
 *  11  an invalid config on the stream is logged and answered with a
 *      fetch, never dropped in silence; nor is an event over the size
 *      limit;
 *  15  the client struct is as aligned as its type needs when the
 *      allocator hook gives 16-byte alignment only (as malloc may);
 *  16  once canary_client_free() has begun, the client applies no more
 *      configs from a stream that never ends (a slow gzip bomb), however
 *      much of it is buffered: the free is bounded by the stop, not by
 *      the stream. The time it took is printed, not asserted.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "canary/canary.h"
#include "client.h" /* struct canary_client: its alignment */
#include "dp_support.h"
#include "fault_server.h"
#include "hostile_support.h"

/* ---- 11 ---------------------------------------------------------------- */

typedef struct watch {
	canary_client *c;
	fs_server *fs;
	dp_log *log;
	uint64_t version;
} watch;

static bool at_version(void *ctx)
{
	const watch *w = ctx;

	return canary_client_config_version(w->c) >= w->version;
}

static bool stream_open(void *ctx)
{
	return fs_streams_open(((const watch *)ctx)->fs) > 0;
}

static bool logged_invalid(void *ctx)
{
	return dp_log_count(((const watch *)ctx)->log, "invalid") > 0;
}

/* A fetch after `fetches` (watch.version holds that count here). */
static bool fetched_again(void *ctx)
{
	const watch *w = ctx;

	return (uint64_t)fs_count(w->fs, "/v1/flags") > w->version;
}

static void test_item11_invalid_streamed_config(void **state)
{
	canary_options o;
	watch w;
	int fetches;
	bool logged, control;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.fs = fs_start();
	w.log = dp_log_new();
	fs_set_config(w.fs, fs_config_json(1), 1);
	dp_options(&o, fs_url(w.fs), NULL, w.log, NULL);
	assert_int_equal(canary_client_new(&w.c, &o), CANARY_OK);
	w.version = 1;
	assert_true(hs_wait(at_version, &w));
	assert_true(hs_wait(stream_open, &w));
	fetches = fs_count(w.fs, "/v1/flags");
	/* Version 2 on the stream: a rollout of 200 %. */
	fs_set_config(w.fs, "{\"version\": 2, \"flags\": [{\"key\": \"f50\", "
		"\"rollout_bp\": 20000}]}", 2);
	logged = hs_wait(logged_invalid, &w);
	/* The fetch follows the log line once the stream has ended. */
	w.version = (uint64_t)fetches;
	hs_wait(fetched_again, &w);
	fetches = fs_count(w.fs, "/v1/flags") - fetches;
	/* Control: a valid version 3 on the same stream is applied. */
	fs_set_config(w.fs, fs_config_json(3), 3);
	w.version = 3;
	control = hs_wait(at_version, &w);
	print_message("invalid config v2 on the stream: logged: %s, fetches "
		"after it: %d, status %s; a valid v3 after it applied: %s\n",
		logged ? "yes" : "no", fetches,
		canary_status_name(canary_client_status(w.c)),
		control ? "yes" : "no");
	canary_client_free(w.c);
	fs_stop(w.fs);
	if (!logged)
		dp_log_dump(w.log);
	dp_log_free(w.log);
	assert_true(control);
	assert_true(logged);
	assert_true(fetches > 0);
}

static bool logged_oversized(void *ctx)
{
	return dp_log_count(((const watch *)ctx)->log,
		"over max_response_bytes") > 0;
}

/* The same class: an event over the client's size limit is not dropped
 * in silence either (the fetch that follows fails on the size too, and
 * says so). */
static void test_item11_oversized_streamed_event(void **state)
{
	canary_options o;
	char *big;
	size_t len = 64 * 1024, n;
	watch w;
	bool logged;

	(void)state;
	memset(&w, 0, sizeof(w));
	w.fs = fs_start();
	w.log = dp_log_new();
	fs_set_config(w.fs, fs_config_json(1), 1);
	dp_options(&o, fs_url(w.fs), NULL, w.log, NULL);
	o.max_response_bytes = 16 * 1024;
	assert_int_equal(canary_client_new(&w.c, &o), CANARY_OK);
	w.version = 1;
	assert_true(hs_wait(at_version, &w));
	assert_true(hs_wait(stream_open, &w));
	big = malloc(len);
	assert_non_null(big);
	n = (size_t)snprintf(big, len, "{\"version\": 2, \"flags\": [{\"key\": "
		"\"f\", \"rollout_bp\": 0, \"state\": \"\"}], \"pad\": \"");
	memset(big + n, 'x', len - n - 3);
	memcpy(big + len - 3, "\"}", 3);
	fs_set_config(w.fs, big, 2);
	logged = hs_wait(logged_oversized, &w);
	print_message("a 64 KiB config on the stream, max_response_bytes 16 KiB: "
		"logged: %s\n", logged ? "yes" : "no");
	canary_client_free(w.c);
	fs_stop(w.fs);
	free(big);
	if (!logged)
		dp_log_dump(w.log);
	dp_log_free(w.log);
	assert_true(logged);
}

/* ---- 08 (the SDK's half) ----------------------------------------------- */

#define SAME_V5(bp) "{\"version\": 5, \"flags\": [{\"key\": \"promo\", " \
	"\"rollout_bp\": " #bp "}]}"

/* Units of 200 in promo's canary. */
static int promo_units(canary_client *c)
{
	return hs_canary_units(c, "promo");
}

static bool promo_killed(void *ctx)
{
	return promo_units(((const watch *)ctx)->c) == 0;
}

/*
 * A service whose history changed (not an upgraded canary-server, whose
 * versions only move forward) serves the version the SDK holds with
 * other content: the SDK applies it, and caches only what it applied.
 */
static void test_item08_same_number_other_content(void **state)
{
	char dir[] = "/tmp/canary-hostile-XXXXXX", cache[64];
	canary_options o;
	canary_client *offline;
	watch w;
	bool applied;
	int cached;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(cache, sizeof(cache), "%s/cache.db", dir);
	memset(&w, 0, sizeof(w));
	w.fs = fs_start();
	w.log = dp_log_new();
	fs_set_config(w.fs, SAME_V5(10000), 5);
	dp_options(&o, fs_url(w.fs), cache, w.log, NULL);
	o.no_stream = true;
	assert_int_equal(canary_client_new(&w.c, &o), CANARY_OK);
	w.version = 5;
	assert_true(hs_wait(at_version, &w));
	assert_int_equal(promo_units(w.c), 200);
	/* Version 5 again, now with the kill switch's effect. */
	fs_set_config(w.fs, SAME_V5(0), 5);
	applied = hs_wait(promo_killed, &w);
	canary_client_free(w.c);
	fs_stop(w.fs);
	dp_options(&o, NULL, cache, NULL, NULL);
	assert_int_equal(canary_client_new(&offline, &o), CANARY_OK);
	cached = promo_units(offline);
	canary_client_free(offline);
	print_message("version 5 served again with other content: applied: "
		"%s; a client started from the cache puts %d of 200 units in "
		"the canary\n", applied ? "yes" : "no", cached);
	if (!applied)
		dp_log_dump(w.log);
	dp_log_free(w.log);
	unlink(cache);
	rmdir(dir);
	assert_true(applied);
	assert_int_equal(cached, 0);
}

/* ---- 15 ---------------------------------------------------------------- */

/*
 * An allocator whose blocks are 16-byte aligned and never 32: what the
 * C library guarantees for malloc (alignof(max_align_t)) and no more. The
 * 16 bytes before a block hold the raw pointer and the size.
 */
static void *mis_malloc(size_t n, void *ctx)
{
	char *raw = malloc(n + 112), *p;

	(void)ctx;
	if (!raw)
		return NULL;
	p = (char *)(((uintptr_t)raw + 32 + 63) & ~(uintptr_t)63) + 16;
	memcpy(p - 16, &raw, sizeof(raw));
	memcpy(p - 8, &n, sizeof(n));
	return p;
}

static void mis_free(void *p, void *ctx)
{
	char *raw;

	(void)ctx;
	if (!p)
		return;
	memcpy(&raw, (char *)p - 16, sizeof(raw));
	free(raw);
}

static void *mis_realloc(void *p, size_t n, void *ctx)
{
	void *q = mis_malloc(n, ctx);
	size_t old;

	if (!q || !p)
		return q;
	memcpy(&old, (char *)p - 8, sizeof(old));
	memcpy(q, p, old < n ? old : n);
	mis_free(p, ctx);
	return q;
}

static void test_item15_client_alignment(void **state)
{
	canary_options o;
	canary_client *c = NULL;
	const char cfg[] = "{\"version\":1,\"flags\":[{\"key\":\"f\","
		"\"rollout_bp\":5000}]}";

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.allocator.malloc_fn = mis_malloc;
	o.allocator.realloc_fn = mis_realloc;
	o.allocator.free_fn = mis_free;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, cfg, sizeof(cfg) - 1),
		CANARY_OK);
	canary_enabled(c, "f", "u1");
	print_message("client at an address = %zu mod 64; the type needs %zu\n",
		(size_t)((uintptr_t)c % 64), _Alignof(struct canary_client));
	assert_int_equal((uintptr_t)c % _Alignof(struct canary_client), 0);
	canary_client_free(c);
}

/* ---- 16 ---------------------------------------------------------------- */

static atomic_int applied, applied_after_free;
static atomic_bool freeing;

/*
 * The 10th config holds the worker (mid-way through a compressed block of
 * 256 events) until the test has begun canary_client_free(): from then
 * on, nothing more may be applied.
 */
static void count_config(uint64_t version, void *ctx)
{
	int n = atomic_fetch_add(&applied, 1) + 1, waited;

	(void)version;
	(void)ctx;
	if (atomic_load(&freeing))
		atomic_fetch_add(&applied_after_free, 1);
	for (waited = 0; n == 10 && !atomic_load(&freeing) &&
	     waited < HS_PATIENCE_MS; waited++)
		dp_sleep_ms(1);
}

static bool bomb_flowing(void *ctx)
{
	(void)ctx;
	return atomic_load(&applied) >= 10;
}

static void test_item16_free_against_gzip_stream(void **state)
{
	canary_options o;
	canary_client *c = NULL;
	fs_server *fs = fs_start();
	uint64_t t0, t1;
	bool flowing;

	(void)state;
	fs_set_config(fs, fs_config_json(1), 1);
	fs_set_stream_mode(fs, FS_GZIP_BOMB);
	dp_options(&o, fs_url(fs), NULL, NULL, NULL);
	o.config_fn = count_config;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	flowing = hs_wait(bomb_flowing, NULL);
	t0 = dp_now_ms();
	atomic_store(&freeing, true);
	canary_client_free(c);
	t1 = dp_now_ms();
	fs_stop(fs);
	print_message("against a gzip stream that never ends: %d configs "
		"applied, %d of them after canary_client_free() began, which "
		"took %llu ms\n", atomic_load(&applied),
		atomic_load(&applied_after_free), (unsigned long long)(t1 - t0));
	assert_true(flowing);
	assert_true(atomic_load(&applied_after_free) <= 1);
}

int main(int argc, char **argv)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_item08_same_number_other_content),
		cmocka_unit_test(test_item11_invalid_streamed_config),
		cmocka_unit_test(test_item11_oversized_streamed_event),
		cmocka_unit_test(test_item15_client_alignment),
		cmocka_unit_test(test_item16_free_against_gzip_stream),
	};

	if (argc > 1)
		cmocka_set_test_filter(argv[1]);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
