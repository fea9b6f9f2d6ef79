/*
 * test_concurrency_snapshots.c - readers evaluate flat out while a writer
 * swaps configs thousands of times. Readers must never see a half-applied
 * config, and every retired snapshot must be freed (run under TSan in CI).
 *
 * Each config version v sets flag "f" to rollout 0 (v even) or 10000
 * (v odd) and names v in the variant, so a reader can check that the arm,
 * the variant and the version it saw all come from one snapshot.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>

#include "canary/canary.h"

static atomic_long live_allocations;
static atomic_int stop;
static atomic_long evaluations;

static void *counting_malloc(size_t size, void *ctx)
{
	void *p = malloc(size);

	(void)ctx;
	if (p)
		atomic_fetch_add(&live_allocations, 1);
	return p;
}

static void *counting_realloc(void *ptr, size_t size, void *ctx)
{
	void *p = realloc(ptr, size);

	(void)ctx;
	if (p && !ptr)
		atomic_fetch_add(&live_allocations, 1);
	return p;
}

static void counting_free(void *ptr, void *ctx)
{
	(void)ctx;
	if (ptr)
		atomic_fetch_sub(&live_allocations, 1);
	free(ptr);
}

static void *reader(void *arg)
{
	canary_client *c = arg;
	canary_details d = CANARY_DETAILS_INIT;
	char unit[32], want[32];
	long n = 0;

	while (!atomic_load(&stop) || n < 1000) {
		snprintf(unit, sizeof(unit), "u%ld", n);
		if (canary_evaluate(c, "f", unit, &d) || d.config_version) {
			snprintf(want, sizeof(want), "v%llu",
				(unsigned long long)d.config_version);
			if (strcmp(d.variant, want) != 0 ||
			    (d.config_version & 1) != (d.arm == CANARY_ARM_CANARY)) {
				fprintf(stderr, "torn read: version %llu arm %d variant %s\n",
					(unsigned long long)d.config_version, d.arm,
					d.variant);
				abort();
			}
		}
		n++;
	}
	atomic_fetch_add(&evaluations, n);
	return NULL;
}

static void swap_configs(canary_client *c, unsigned first, unsigned count)
{
	char json[256];
	unsigned v;

	for (v = first; v < first + count; v++) {
		int n = snprintf(json, sizeof(json),
			"{\"version\": %u, \"flags\": [{\"key\": \"f\", \"rollout_bp\": %u,"
			" \"variants\": {\"stable\": \"v%u\", \"canary\": \"v%u\"}}]}",
			v, (v & 1) ? 10000u : 0u, v, v);

		assert_int_equal(canary_client_set_config_json(c, json, (size_t)n),
			CANARY_OK);
	}
}

static void run(int threads, unsigned swaps)
{
	pthread_t tid[96];
	canary_options opts;
	canary_client *c;
	long base, per_snapshot;
	int i;

	atomic_store(&stop, 0);
	atomic_store(&live_allocations, 0);
	canary_options_init(&opts, CANARY_OPTIONS_VERSION);
	opts.allocator.malloc_fn = counting_malloc;
	opts.allocator.realloc_fn = counting_realloc;
	opts.allocator.free_fn = counting_free;
	assert_int_equal(canary_client_new(&c, &opts), CANARY_OK);
	/* What one snapshot costs, in allocations, measured with no reader. */
	base = atomic_load(&live_allocations);
	swap_configs(c, 1, 1);
	per_snapshot = atomic_load(&live_allocations) - base;
	for (i = 0; i < threads; i++)
		assert_int_equal(pthread_create(&tid[i], NULL, reader, c), 0);
	swap_configs(c, 2, swaps);
	atomic_store(&stop, 1);
	for (i = 0; i < threads; i++)
		pthread_join(tid[i], NULL);
	/* Retired snapshots do not pile up: at most one per reader slot plus
	 * the current one stays, whatever the number of swaps. */
	assert_true(atomic_load(&live_allocations) <=
		base + per_snapshot * (threads + 1) + 8);
	canary_client_free(c);
	assert_int_equal(atomic_load(&live_allocations), 0);
}

static void test_four_readers(void **state)
{
	(void)state;
	run(4, 2000);
}

/* More threads than hazard slots: some readers take the overflow path. */
static void test_more_threads_than_slots(void **state)
{
	(void)state;
	run(80, 60);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_four_readers),
		cmocka_unit_test(test_more_threads_than_slots),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	fprintf(stderr, "%ld evaluations checked\n", atomic_load(&evaluations));
	return rc;
}
