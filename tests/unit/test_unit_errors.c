/*
 * test_unit_errors.c - the bounded exact map of units with errors: sums of
 * squares against a brute-force count, what happens when it is full, and
 * the edge cases (hash 0, clearing, bad sizes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "canary/canary.h"
#include "unit_errors.h"

static canary__uerr_slot slots[CANARY__UERR_SLOTS];

static void test_init(void **state)
{
	canary__unit_errors u;

	(void)state;
	assert_int_equal(canary__uerr_init(&u, slots, 0), CANARY_EINVAL);
	assert_int_equal(canary__uerr_init(&u, slots, 2), CANARY_EINVAL);
	assert_int_equal(canary__uerr_init(&u, slots, 12), CANARY_EINVAL);
	assert_int_equal(canary__uerr_init(&u, NULL, 8), CANARY_EINVAL);
	assert_int_equal(canary__uerr_init(&u, slots, 8), 0);
	assert_int_equal(u.used, 0);
}

static void test_burst_and_singles(void **state)
{
	canary__unit_errors u;
	uint64_t i;

	(void)state;
	canary__uerr_init(&u, slots, CANARY__UERR_SLOTS);
	for (i = 0; i < 20; i++)
		canary__uerr_add(&u, 0xabcdef);
	for (i = 1; i <= 10; i++)
		canary__uerr_add(&u, i * 0x9e3779b97f4a7c15ull);
	assert_int_equal(u.used, 11);
	assert_int_equal(u.mapped, 30);
	assert_int_equal(u.sum_sq, 400 + 10);
	assert_int_equal(u.max, 20);
	assert_int_equal(u.unmapped, 0);
	canary__uerr_add(&u, 0); /* hash 0 is a unit like any other */
	canary__uerr_add(&u, 0);
	assert_int_equal(u.used, 12);
	assert_int_equal(u.sum_sq, 414);
	canary__uerr_clear(&u);
	assert_int_equal(u.used, 0);
	assert_int_equal(u.sum_sq, 0);
	assert_int_equal(u.max, 0);
}

/* Pseudo-random units with colliding slots: the sums match a brute-force
 * count of each unit's errors. */
static void test_matches_brute_force(void **state)
{
	uint64_t count[60] = { 0 }, x = 12345, sq = 0, mx = 0;
	canary__unit_errors u;
	int i;

	(void)state;
	canary__uerr_init(&u, slots, CANARY__UERR_SLOTS);
	for (i = 0; i < 5000; i++) {
		uint64_t k;

		x = x * 6364136223846793005ull + 1442695040888963407ull;
		k = (x >> 33) % 60;
		count[k]++;
		/* hashes that share their low bits: probes must run */
		canary__uerr_add(&u, (k + 1) << 40);
	}
	for (i = 0; i < 60; i++) {
		sq += count[i] * count[i];
		if (count[i] > mx)
			mx = count[i];
	}
	assert_int_equal(u.used, 60);
	assert_int_equal(u.mapped, 5000);
	assert_int_equal(u.sum_sq, sq);
	assert_int_equal(u.max, mx);
}

/* A full map (3/4 of 8 slots = 6 units) counts the errors of new units as
 * unmapped and keeps counting the units it has. */
static void test_full_map(void **state)
{
	canary__unit_errors u;
	uint64_t k;

	(void)state;
	canary__uerr_init(&u, slots, 8);
	for (k = 1; k <= 9; k++)
		canary__uerr_add(&u, k);
	assert_int_equal(u.used, 6);
	assert_int_equal(u.mapped, 6);
	assert_int_equal(u.unmapped, 3);
	canary__uerr_add(&u, 2);
	canary__uerr_add(&u, 9);
	assert_int_equal(u.mapped, 7);
	assert_int_equal(u.unmapped, 4);
	assert_int_equal(u.sum_sq, 5 + 4);
	assert_int_equal(u.max, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_burst_and_singles),
		cmocka_unit_test(test_matches_brute_force),
		cmocka_unit_test(test_full_map),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
