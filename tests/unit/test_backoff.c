/*
 * test_backoff.c - exponential backoff with full jitter, the cap, the
 * floor, Retry-After (delta-seconds and the three HTTP-date formats of
 * RFC 9110, parsed in transfer.c) and which statuses stop retrying.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include "backoff.h"
#include "transfer.h"

static void test_bounds_grow_then_cap(void **state)
{
	canary__backoff b;
	uint32_t ceiling = 1000, max_seen[8] = { 0 };
	int attempt, trial;

	(void)state;
	/* Many trials of the first 8 attempts: every wait within bounds, and
	 * the largest seen close to the ceiling (the jitter is full). */
	for (trial = 0; trial < 2000; trial++) {
		canary__backoff_init(&b, 1000, 30000, (uint64_t)trial + 1);
		ceiling = 1000;
		for (attempt = 0; attempt < 8; attempt++) {
			uint32_t d = canary__backoff_next(&b, 0);

			assert_true(d >= CANARY__BACKOFF_FLOOR_MS);
			assert_true(d <= ceiling);
			if (d > max_seen[attempt])
				max_seen[attempt] = d;
			ceiling = ceiling * 2 > 30000 ? 30000 : ceiling * 2;
		}
	}
	ceiling = 1000;
	for (attempt = 0; attempt < 8; attempt++) {
		assert_true(max_seen[attempt] > ceiling * 9 / 10);
		ceiling = ceiling * 2 > 30000 ? 30000 : ceiling * 2;
	}
}

static void test_reset_and_spread(void **state)
{
	canary__backoff b;
	uint32_t low = 0xffffffffu;
	int i;

	(void)state;
	canary__backoff_init(&b, 1000, 60000, 42);
	for (i = 0; i < 20; i++)
		canary__backoff_next(&b, 0);
	canary__backoff_reset(&b);
	assert_true(canary__backoff_next(&b, 0) <= 1000);
	/* Full jitter reaches down to the floor, not just near the ceiling. */
	for (i = 0; i < 5000; i++) {
		uint32_t d;

		canary__backoff_reset(&b);
		d = canary__backoff_next(&b, 0);
		if (d < low)
			low = d;
	}
	assert_true(low < 100);
}

static void test_small_cap_and_zero_seed(void **state)
{
	canary__backoff b;
	int i;

	(void)state;
	canary__backoff_init(&b, 1000, 10, 0); /* cap below the floor */
	for (i = 0; i < 100; i++)
		assert_int_equal(canary__backoff_next(&b, 0),
			CANARY__BACKOFF_FLOOR_MS);
}

static void test_retry_after_wins(void **state)
{
	canary__backoff b;

	(void)state;
	canary__backoff_init(&b, 1000, 2000, 7);
	assert_true(canary__backoff_next(&b, 120000) == 120000);
	/* Absurd values are capped. */
	assert_int_equal(canary__backoff_next(&b, 0xffffffffu),
		CANARY__RETRY_AFTER_MAX_MS);
}

static void test_retry_after_parse(void **state)
{
	/* 2015-10-21 07:28:00 GMT */
	const int64_t when = 1445412480;
	uint32_t ms = 1;

	(void)state;
	assert_true(canary__retry_after_parse("120", 0, &ms));
	assert_int_equal(ms, 120000);
	assert_true(canary__retry_after_parse("  0", 0, &ms));
	assert_int_equal(ms, 0);
	assert_true(canary__retry_after_parse("99999999", 0, &ms));
	assert_int_equal(ms, CANARY__RETRY_AFTER_MAX_MS);
	assert_true(canary__retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT",
		when - 30, &ms));
	assert_int_equal(ms, 30000);
	assert_true(canary__retry_after_parse("Wed, 21 Oct 2015 07:28:00 GMT",
		when + 30, &ms));
	assert_int_equal(ms, 0); /* in the past */
	assert_true(canary__retry_after_parse("Thu, 29 Feb 2024 00:00:00 GMT",
		1709164800 - 1, &ms));
	assert_int_equal(ms, 1000);
	/* The obsolete formats RFC 9110 still asks recipients to accept. */
	ms = 1;
	assert_true(canary__retry_after_parse(
		"Wednesday, 21-Oct-15 07:28:00 GMT", when - 45, &ms));
	assert_int_equal(ms, 45000);
	ms = 1;
	assert_true(canary__retry_after_parse("Wed Oct 21 07:28:00 2015",
		when - 60, &ms));
	assert_int_equal(ms, 60000);
	/* A date far ahead is capped like a large delta. */
	assert_true(canary__retry_after_parse("Fri, 31 Dec 9999 23:59:59 GMT",
		when, &ms));
	assert_int_equal(ms, CANARY__RETRY_AFTER_MAX_MS);
	assert_false(canary__retry_after_parse("", 0, &ms));
	assert_false(canary__retry_after_parse("   ", 0, &ms));
	assert_false(canary__retry_after_parse("-5", 0, &ms));
	assert_false(canary__retry_after_parse("1.5", 0, &ms));
	assert_false(canary__retry_after_parse("120x", 0, &ms));
	assert_false(canary__retry_after_parse("soon", 0, &ms));
	assert_false(canary__retry_after_parse("Wed, 21 Foo 2015 07:28:00 GMT",
		0, &ms));
	assert_false(canary__retry_after_parse(NULL, 0, &ms));
}

static void test_fatal_statuses(void **state)
{
	(void)state;
	assert_true(canary__http_status_is_fatal(401));
	assert_true(canary__http_status_is_fatal(403));
	assert_false(canary__http_status_is_fatal(404));
	assert_false(canary__http_status_is_fatal(429));
	assert_false(canary__http_status_is_fatal(500));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bounds_grow_then_cap),
		cmocka_unit_test(test_reset_and_spread),
		cmocka_unit_test(test_small_cap_and_zero_seed),
		cmocka_unit_test(test_retry_after_wins),
		cmocka_unit_test(test_retry_after_parse),
		cmocka_unit_test(test_fatal_statuses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
