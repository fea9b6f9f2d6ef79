/*
 * test_soak_sdk.c - the SDK soak: 2 threads evaluate (and record) flat out
 * while the config changes every 50 ms (CI) or every second (the long
 * run), through a counting allocator. Memory must not grow: the bytes the
 * client holds at the end are within a small margin of the most it held
 * after the warm-up (snapshots are freed once no reader holds them;
 * each idle thread pins at most one). Counting through the allocator,
 * not RSS, keeps the check exact under sanitizers (ASan's quarantine
 * makes RSS meaningless).
 *
 *   CANARY_SOAK_SECONDS=600 CANARY_SOAK_CHANGE_MS=1000 test_soak_sdk
 *
 * is the 10-minute version (docs/reliability.md). Default: 3 s.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <malloc.h>
#include <cmocka.h>

#include "canary/canary.h"
#include "dp_support.h"

/* Live bytes through the client's allocator (malloc_usable_size keeps
 * the count without a header). */
static atomic_llong live_bytes;

static void *c_malloc(size_t size, void *ctx)
{
	void *p = malloc(size);

	(void)ctx;
	if (p)
		atomic_fetch_add(&live_bytes, (long long)malloc_usable_size(p));
	return p;
}

static void *c_realloc(void *ptr, size_t size, void *ctx)
{
	long long before = ptr ? (long long)malloc_usable_size(ptr) : 0;
	void *p = realloc(ptr, size);

	(void)ctx;
	if (p)
		atomic_fetch_add(&live_bytes,
			(long long)malloc_usable_size(p) - before);
	return p;
}

static void c_free(void *ptr, void *ctx)
{
	(void)ctx;
	if (ptr)
		atomic_fetch_sub(&live_bytes, (long long)malloc_usable_size(ptr));
	free(ptr);
}

static atomic_bool stop;
static atomic_llong evaluations;

static void *reader(void *arg)
{
	canary_client *c = arg;
	char unit[32];
	unsigned long i = 0;

	while (!atomic_load(&stop)) {
		snprintf(unit, sizeof(unit), "user-%lu", i++ % 100000);
		if (canary_enabled(c, "f1", unit))
			(void)canary_record_latency(c, "f1", unit, 3.0);
		(void)canary_enabled(c, "f7", unit);
		if (i % 64 == 0)
			atomic_fetch_add(&evaluations, 128);
	}
	return NULL;
}

/* A config of 20 flags whose rollouts and lists move with `version`. */
static size_t config_json(char *buf, size_t cap, unsigned version)
{
	size_t n = (size_t)snprintf(buf, cap, "{\"version\": %u, \"flags\": [",
		version);
	int i;

	for (i = 0; i < 20; i++)
		n += (size_t)snprintf(buf + n, cap - n, "%s{\"key\": \"f%d\", "
			"\"rollout_bp\": %u, \"allow\": [\"u%u\", \"v%u\"], "
			"\"variants\": {\"canary\": \"build-%u\"}}", i ? ", " : "",
			i, (version * 37u + (unsigned)i) % 10001u, version, version,
			version);
	n += (size_t)snprintf(buf + n, cap - n, "]}");
	return n;
}

static unsigned env_or(const char *name, unsigned dflt)
{
	const char *v = getenv(name);

	return v && *v ? (unsigned)strtoul(v, NULL, 10) : dflt;
}

static void test_soak(void **state)
{
	unsigned seconds = env_or("CANARY_SOAK_SECONDS", 3);
	unsigned change_ms = env_or("CANARY_SOAK_CHANGE_MS", 50);
	canary_options o;
	canary_client *c = NULL;
	pthread_t t[2];
	static char json[16384];
	long long warm_max = 0, end_max = 0, now_bytes;
	uint64_t start, warm_until;
	unsigned version = 1, changes = 0;
	int i;

	(void)state;
	canary_options_init(&o, CANARY_OPTIONS_VERSION);
	o.allocator.malloc_fn = c_malloc;
	o.allocator.realloc_fn = c_realloc;
	o.allocator.free_fn = c_free;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	assert_int_equal(canary_client_set_config_json(c, json,
		config_json(json, sizeof(json), version)), CANARY_OK);
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, c), 0);

	start = dp_now_ms();
	warm_until = start + seconds * 1000ull / 4;
	while (dp_now_ms() - start < seconds * 1000ull) {
		dp_sleep_ms(change_ms);
		version++;
		assert_int_equal(canary_client_set_config_json(c, json,
			config_json(json, sizeof(json), version)), CANARY_OK);
		if (version % 8 == 0) /* events leave memory too */
			assert_true(canary_flush(c, 0) == CANARY_OK);
		changes++;
		now_bytes = atomic_load(&live_bytes);
		if (seconds >= 60 && changes % (60000 / change_ms + 1) == 0)
			print_message("t=%3lus live=%lld bytes evaluations=%lld\n",
				(unsigned long)((dp_now_ms() - start) / 1000),
				now_bytes, (long long)atomic_load(&evaluations));
		if (dp_now_ms() < warm_until)
			warm_max = now_bytes > warm_max ? now_bytes : warm_max;
		else
			end_max = now_bytes > end_max ? now_bytes : end_max;
	}
	atomic_store(&stop, true);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	print_message("%u s, %u config changes, %lld evaluations; client "
		"memory: at most %lld bytes in the first quarter, %lld after\n",
		seconds, changes, (long long)atomic_load(&evaluations), warm_max,
		end_max);
	/* Flat: no more than the warm-up's peak plus one config's worth. */
	assert_true(end_max <= warm_max + warm_max / 4 + 65536);
	canary_client_free(c);
	assert_int_equal(atomic_load(&live_bytes), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_soak),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
