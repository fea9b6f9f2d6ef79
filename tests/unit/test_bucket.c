/*
 * test_bucket.c - the bucketing contract (docs/protocol.md, "Bucketing"):
 * bit-exact MurmurHash3, published vectors, monotone rollouts, Unleash
 * compatibility, and a uniform split.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <murmurhash.h>

#include "bucket.h"
#include "canary/canary.h"

static uint64_t rng_state = 0x9e3779b97f4a7c15ull;

/* splitmix64: a fixed sequence, so every run tests the same inputs. */
static uint64_t rng_next(void)
{
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

static uint32_t reference_hash(const void *data, size_t len)
{
	uint32_t out;

	lmmh_x86_32(data, (unsigned)len, 0, &out);
	return out;
}

static void test_murmur_matches_libmurmurhash(void **state)
{
	unsigned char buf[600];
	int round;

	(void)state;
	for (round = 0; round < 20000; round++) {
		size_t len = (size_t)(rng_next() % (round < 2000 ? 16 : sizeof(buf)));
		size_t i, cut1, cut2;
		canary__murmur3 s;

		for (i = 0; i < len; i++)
			buf[i] = (unsigned char)rng_next(); /* any byte, UTF-8 or not */
		assert_int_equal(canary__murmur3_32(buf, len, 0),
			reference_hash(buf, len));
		/* Fed in three arbitrary pieces: the same hash. */
		cut1 = len ? (size_t)(rng_next() % (len + 1)) : 0;
		cut2 = cut1 + (len - cut1 ? (size_t)(rng_next() % (len - cut1 + 1)) : 0);
		canary__mm3_init(&s, 0);
		canary__mm3_update(&s, buf, cut1);
		canary__mm3_update(&s, buf + cut1, cut2 - cut1);
		canary__mm3_update(&s, buf + cut2, len - cut2);
		assert_int_equal(canary__mm3_final(&s), reference_hash(buf, len));
	}
}

static void test_empty_and_non_ascii(void **state)
{
	const char *utf8 = "\xc3\xa9l\xc3\xa8ve-\xe6\x97\xa5\xe6\x9c\xac-\xf0\x9f\x90\xa4";
	char key[64];

	(void)state;
	assert_int_equal(canary__murmur3_32("", 0, 0), 0);
	assert_int_equal(canary__murmur3_32("", 0, 0), reference_hash("", 0));
	snprintf(key, sizeof(key), "flag:%s", utf8);
	assert_int_equal(canary_bucket("flag", utf8),
		canary__bucket_of_hash(reference_hash(key, strlen(key))));
	/* NULL salt and unit behave as "" (the hash of ":"). */
	assert_int_equal(canary_bucket(NULL, NULL),
		canary__bucket_of_hash(reference_hash(":", 1)));
}

/* tests/data/bucket_vectors.txt: salt, unit, hash, bucket, hand-checked. */
static void test_vectors_file(void **state)
{
	FILE *f = fopen(CANARY_TEST_DATA "/bucket_vectors.txt", "r");
	char line[512], salt[128], unit[256];
	unsigned long hash, bucket;
	int checked = 0;

	(void)state;
	assert_non_null(f);
	while (fgets(line, sizeof(line), f)) {
		char key[400];

		if (line[0] == '#' || line[0] == '\n')
			continue;
		assert_int_equal(sscanf(line, "%127[^\t]\t%255[^\t]\t%lu\t%lu",
			salt, unit, &hash, &bucket), 4);
		snprintf(key, sizeof(key), "%s:%s", salt, unit);
		assert_int_equal(canary__murmur3_32(key, strlen(key), 0), hash);
		assert_int_equal(canary_bucket(salt, unit), bucket);
		checked++;
	}
	fclose(f);
	assert_true(checked >= 8);
}

/* Unleash's published normalizedHash vectors: "gr1:123" -> 73 and
 * "groupX:999" -> 25, where normalizedHash = murmur3 % 100 + 1. */
static void test_unleash_published_vectors(void **state)
{
	(void)state;
	assert_int_equal(canary_bucket("gr1", "123") / 100 + 1, 73);
	assert_int_equal(canary_bucket("groupX", "999") / 100 + 1, 25);
}

#define UNITS 100000

static canary_client *client_with_rollout(uint32_t bp)
{
	canary_client *c;
	char json[256];
	int n;

	assert_int_equal(canary_client_new(&c, NULL), CANARY_OK);
	n = snprintf(json, sizeof(json),
		"{\"version\":1,\"flags\":[{\"key\":\"f\",\"salt\":\"s\",\"rollout_bp\":%u}]}",
		bp);
	assert_int_equal(canary_client_set_config_json(c, json, (size_t)n),
		CANARY_OK);
	return c;
}

/* Raising the rollout only ever adds units, through the public API. */
static void test_monotone(void **state)
{
	static const uint32_t steps[] = { 0, 1, 10, 100, 500, 2500, 5000, 9999, 10000 };
	static unsigned char in[UNITS];
	size_t s;
	char unit[32];
	int i;

	(void)state;
	memset(in, 0, sizeof(in));
	for (s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		canary_client *c = client_with_rollout(steps[s]);
		int count = 0;

		for (i = 0; i < UNITS; i++) {
			bool now;

			snprintf(unit, sizeof(unit), "user-%d", i);
			now = canary_enabled(c, "f", unit);
			assert_false(in[i] && !now); /* once in, always in */
			in[i] = now;
			count += now;
		}
		if (steps[s] == 0)
			assert_int_equal(count, 0);
		if (steps[s] == 10000)
			assert_int_equal(count, UNITS);
		canary_client_free(c);
	}
}

/* At whole percents the set equals Unleash's flexibleRollout. */
static void test_unleash_equivalence(void **state)
{
	static const uint32_t percents[] = { 1, 5, 25, 50, 99 };
	size_t p;
	char unit[32], key[48];
	int i;

	(void)state;
	for (p = 0; p < sizeof(percents) / sizeof(percents[0]); p++) {
		canary_client *c = client_with_rollout(percents[p] * 100);

		for (i = 0; i < 20000; i++) {
			uint32_t h;

			snprintf(unit, sizeof(unit), "%d", i * 7919);
			snprintf(key, sizeof(key), "s:%s", unit);
			h = reference_hash(key, strlen(key));
			assert_int_equal(canary_enabled(c, "f", unit),
				h % 100 + 1 <= percents[p]);
		}
		canary_client_free(c);
	}
}

/* Chi-square over 100 bins for 1M units, and the share at small rollouts
 * within 4 standard deviations. Inputs are fixed, so this cannot flake. */
static void test_uniform(void **state)
{
	static unsigned long bins[100];
	unsigned long below_10 = 0, below_100 = 0, below_500 = 0;
	const double n = 1000000.0, expected = n / 100.0;
	double chi2 = 0;
	char unit[32];
	int i;

	(void)state;
	memset(bins, 0, sizeof(bins));
	for (i = 0; i < 1000000; i++) {
		uint32_t b;

		snprintf(unit, sizeof(unit), "u%d", i);
		b = canary_bucket("checkout-v2", unit);
		assert_true(b < 10000);
		bins[b / 100]++;
		below_10 += b < 10;
		below_100 += b < 100;
		below_500 += b < 500;
	}
	for (i = 0; i < 100; i++)
		chi2 += ((double)bins[i] - expected) * ((double)bins[i] - expected) /
			expected;
	/* df = 99: the 0.999 quantile is 148.2. */
	assert_true(chi2 < 148.2);
	/* Binomial sd: sqrt(n p (1-p)). */
	assert_true(labs((long)below_10 - 1000) < 4 * 32);    /* 0.1% */
	assert_true(labs((long)below_100 - 10000) < 4 * 100); /* 1%   */
	assert_true(labs((long)below_500 - 50000) < 4 * 218); /* 5%   */
	/* The second digit pair spreads too (fine-grained 0.01% steps). */
	assert_true(below_10 > 0 && below_10 < below_100);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_murmur_matches_libmurmurhash),
		cmocka_unit_test(test_empty_and_non_ascii),
		cmocka_unit_test(test_vectors_file),
		cmocka_unit_test(test_unleash_published_vectors),
		cmocka_unit_test(test_monotone),
		cmocka_unit_test(test_unleash_equivalence),
		cmocka_unit_test(test_uniform),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
