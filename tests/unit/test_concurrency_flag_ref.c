/*
 * test_concurrency_flag_ref.c - flag handles (canary_flag_ref_get,
 * canary_enabled_ref, canary_evaluate_ref) answer exactly what
 * canary_enabled() and canary_evaluate() answer, for 1M units across
 * config swaps that move, change, delete and bring back the flag; also
 * while another thread swaps configs (label concurrency: run under
 * ThreadSanitizer); and allocate nothing per call.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <pthread.h>
#include <cmocka.h>

#include "canary/canary.h"

#define UNITS 1000000
#define SWAPS 20

/* Config `v`: filler flags before "f" (so its position moves), "f" with a
 * rollout, salt and lists that change, and no "f" at all every fourth
 * version. */
static size_t config_json(char *buf, size_t cap, uint64_t v)
{
	size_t len = 0, i, fillers = (size_t)(v * 7 % 13);

	len += (size_t)snprintf(buf + len, cap - len,
		"{\"version\": %llu, \"flags\": [", (unsigned long long)v);
	for (i = 0; i < fillers; i++)
		len += (size_t)snprintf(buf + len, cap - len,
			"{\"key\": \"filler-%zu\", \"rollout_bp\": %zu},", i, i * 700);
	if (v % 4 != 3)
		len += (size_t)snprintf(buf + len, cap - len,
			"{\"key\": \"f\", \"rollout_bp\": %llu, \"salt\": \"s%llu\", "
			"\"enabled\": %s, \"allow\": [\"user-7\"], \"deny\": [\"user-8\"], "
			"\"variants\": {\"stable\": \"old\", \"canary\": \"new-%llu\"}},",
			(unsigned long long)(v * 1237 % 10001),
			(unsigned long long)(v % 3),
			v % 5 == 4 ? "false" : "true", (unsigned long long)v);
	len += (size_t)snprintf(buf + len, cap - len,
		"{\"key\": \"zz-last\", \"rollout_bp\": 5000}]}");
	return len;
}

static void set_config(canary_client *c, uint64_t v)
{
	char buf[4096];
	size_t len = config_json(buf, sizeof(buf), v);

	if (canary_client_set_config_json(c, buf, len) != CANARY_OK)
		fail_msg("config %llu: %s", (unsigned long long)v,
			canary_error_last());
}

static void same_details(const canary_details *a, const canary_details *b)
{
	assert_int_equal(a->arm, b->arm);
	assert_int_equal(a->reason, b->reason);
	assert_int_equal(a->error_code, b->error_code);
	assert_int_equal(a->bucket, b->bucket);
	assert_int_equal(a->rollout_bp, b->rollout_bp);
	assert_int_equal(a->config_version, b->config_version);
	assert_string_equal(a->variant, b->variant);
}

static void test_same_answers_across_swaps(void **state)
{
	canary_client *c;
	canary_flag_ref *ref;
	char unit[32];
	size_t u;
	unsigned long in = 0, missing = 0;

	(void)state;
	assert_int_equal(canary_client_new(&c, NULL), CANARY_OK);
	/* Before any config: a handle, answering stable. */
	ref = canary_flag_ref_get(c, "f");
	assert_non_null(ref);
	assert_false(canary_enabled_ref(c, ref, "user-7"));
	assert_ptr_equal(canary_flag_ref_get(c, "f"), ref);
	for (u = 0; u < UNITS; u++) {
		canary_details a = CANARY_DETAILS_INIT, b = CANARY_DETAILS_INIT;
		bool x, y;

		if (u % (UNITS / SWAPS) == 0)
			set_config(c, 1 + u / (UNITS / SWAPS));
		snprintf(unit, sizeof(unit), "user-%zu", u * 2654435761u % 100000000u);
		if (u % 1000 == 7)
			snprintf(unit, sizeof(unit), "user-%zu", 7 + (u & 1));
		x = canary_enabled(c, "f", unit);
		y = canary_enabled_ref(c, ref, unit);
		assert_int_equal(x, y);
		in += x;
		if (u % 16 == 0) {
			assert_int_equal(canary_evaluate(c, "f", unit, &a),
				canary_evaluate_ref(c, ref, unit, 0, &b));
			same_details(&a, &b);
			missing += b.error_code == CANARY_EVAL_FLAG_NOT_FOUND;
		}
	}
	/* Both kinds of config were seen. */
	assert_true(in > 0);
	assert_true(missing > 0);
	canary_client_free(c);
}

static void test_refused_handles(void **state)
{
	canary_client *c, *other;
	canary_flag_ref *ref;
	canary_details d = CANARY_DETAILS_INIT;
	char big[300];

	(void)state;
	assert_int_equal(canary_client_new(&c, NULL), CANARY_OK);
	assert_int_equal(canary_client_new(&other, NULL), CANARY_OK);
	set_config(c, 1);
	set_config(other, 1);
	ref = canary_flag_ref_get(c, "f");
	/* A handle works with its own client only. */
	assert_false(canary_evaluate_ref(other, ref, "user-7", 0, &d));
	assert_int_equal(d.error_code, CANARY_EVAL_INVALID_ARGUMENT);
	assert_true(canary_evaluate_ref(c, ref, "user-7", 0, &d));
	assert_int_equal(d.reason, CANARY_REASON_TARGETING_MATCH);
	assert_false(canary_enabled_ref(c, NULL, "user-7"));
	assert_false(canary_enabled_ref(NULL, ref, "user-7"));
	assert_null(canary_flag_ref_get(c, NULL));
	assert_null(canary_flag_ref_get(NULL, "f"));
	assert_null(canary_flag_ref_get(c, ""));
	memset(big, 'k', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	assert_null(canary_flag_ref_get(c, big));
	assert_non_null(strstr(canary_error_last(), "a key is 1..256 bytes"));
	canary_client_free(other);
	canary_client_free(c);
}

/* ---- no allocation per call ----------------------------------------------- */

static atomic_long allocations;

static void *count_malloc(size_t n, void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&allocations, 1);
	return malloc(n);
}

static void *count_realloc(void *p, size_t n, void *ctx)
{
	(void)ctx;
	atomic_fetch_add(&allocations, 1);
	return realloc(p, n);
}

static void count_free(void *p, void *ctx)
{
	(void)ctx;
	free(p);
}

static void test_no_allocation(void **state)
{
	canary_options o = CANARY_OPTIONS_INIT;
	canary_details d = CANARY_DETAILS_INIT;
	canary_client *c;
	canary_flag_ref *ref;
	long before;
	int i;

	(void)state;
	o.allocator.malloc_fn = count_malloc;
	o.allocator.realloc_fn = count_realloc;
	o.allocator.free_fn = count_free;
	assert_int_equal(canary_client_new(&c, &o), CANARY_OK);
	set_config(c, 1);
	ref = canary_flag_ref_get(c, "f");
	before = atomic_load(&allocations);
	for (i = 0; i < 100000; i++) {
		char unit[32];

		snprintf(unit, sizeof(unit), "user-%d", i);
		canary_enabled_ref(c, ref, unit);
		canary_evaluate_ref(c, ref, unit, 0, &d);
	}
	assert_int_equal(atomic_load(&allocations), before);
	/* Resolving the handle again after a config change allocates
	 * nothing either (the config itself does, before). */
	set_config(c, 2);
	before = atomic_load(&allocations);
	canary_enabled_ref(c, ref, "user-1");
	assert_int_equal(atomic_load(&allocations), before);
	canary_client_free(c);
}

/* ---- while another thread swaps configs ------------------------------------ */

#define READER_UNITS 150000

typedef struct shared {
	canary_client *c;
	canary_flag_ref *ref;
	atomic_int readers_done;
	atomic_long compared;
} shared;

static void *reader(void *arg)
{
	shared *s = arg;
	char unit[32];
	long compared = 0;
	int u;

	for (u = 0; u < READER_UNITS; u++) {
		canary_details a = CANARY_DETAILS_INIT, b = CANARY_DETAILS_INIT,
			a2 = CANARY_DETAILS_INIT;

		snprintf(unit, sizeof(unit), "user-%d", u);
		canary_evaluate(s->c, "f", unit, &a);
		canary_evaluate_ref(s->c, s->ref, unit, 0, &b);
		canary_evaluate(s->c, "f", unit, &a2);
		/* Only when nothing changed in between is it the same question. */
		if (a.config_version == b.config_version &&
		    a2.config_version == b.config_version) {
			same_details(&a, &b);
			compared++;
		}
	}
	atomic_fetch_add(&s->compared, compared);
	atomic_fetch_add(&s->readers_done, 1);
	return NULL;
}

static void test_same_answers_while_swapping(void **state)
{
	pthread_t t[2];
	shared s;
	uint64_t v = 1;
	int i;

	(void)state;
	memset(&s, 0, sizeof(s));
	assert_int_equal(canary_client_new(&s.c, NULL), CANARY_OK);
	set_config(s.c, v);
	s.ref = canary_flag_ref_get(s.c, "f");
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, reader, &s), 0);
	while (atomic_load(&s.readers_done) < 2)
		set_config(s.c, ++v);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	print_message("%llu configs, %ld comparisons\n", (unsigned long long)v,
		atomic_load(&s.compared));
	assert_true(v > 2);
	assert_true(atomic_load(&s.compared) > 0);
	canary_client_free(s.c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_same_answers_across_swaps),
		cmocka_unit_test(test_refused_handles),
		cmocka_unit_test(test_no_allocation),
		cmocka_unit_test(test_same_answers_while_swapping),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
