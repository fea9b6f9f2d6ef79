/*
 * test_hll.c - the HyperLogLog sketch of units: hash vectors, accuracy of
 * the estimate from 1 to 10^6 units, merge as union, the subset check,
 * and the wire form (both forms round trip; every truncation, every byte
 * mutation and each malformed case is refused or decodes to a valid
 * sketch, never crashes).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>
#include <math.h>

#include "canary/canary.h"
#include "hll.h"

#define P CANARY__HLL_P
#define M CANARY__HLL_REGS(P)

static uint8_t ra[CANARY__HLL_REGS(CANARY__HLL_MAX_P)];
static uint8_t rb[CANARY__HLL_REGS(CANARY__HLL_MAX_P)];
static uint8_t rc[CANARY__HLL_REGS(CANARY__HLL_MAX_P)];
static uint8_t wire[CANARY__HLL_MAX_ENCODED];

static void add_units(canary__hll *h, const char *prefix, long from, long to)
{
	char id[48];
	long i;

	for (i = from; i < to; i++) {
		int n = snprintf(id, sizeof(id), "%s%ld", prefix, i);

		canary__hll_add(h, id, (size_t)n);
	}
}

static void test_hash_vectors(void **state)
{
	(void)state;
	/* Pinned: every SDK must hash a unit the same (sketches from many
	 * instances merge); checked against an independent implementation
	 * of the definition in hll.h. Lengths 0, 1, <8, 8+tail, 32. */
	assert_true(canary__hll_hash("", 0) == 0x9ca066f1a4ab2eeaull);
	assert_true(canary__hll_hash("a", 1) == 0x352b6506d83b4670ull);
	assert_true(canary__hll_hash("foobar", 6) == 0x8778e1826af5c887ull);
	assert_true(canary__hll_hash("user-42", 7) == 0x5fbc586077d15f50ull);
	assert_true(canary__hll_hash("user-1234567", 12) ==
		0x0eb6fb5f99bb13aeull);
	assert_true(canary__hll_hash("a somewhat longer unit id of 32b", 32) ==
		0xd411aae821a9833dull);
	assert_true(canary__hll_hash("abcd", 4) == 0xd6deed08a9800334ull);
	assert_true(canary__hll_hash("abcdefg", 7) == 0x56a99425413bbd5full);
	assert_true(canary__hll_hash("abcdefgh", 8) == 0x737dc76638e6034eull);
	assert_true(canary__hll_hash("abc", 3) == 0x45ece5838c4d7fa1ull);
}

static void test_init(void **state)
{
	canary__hll h;

	(void)state;
	assert_int_equal(canary__hll_init(&h, 3, ra), CANARY_EINVAL);
	assert_int_equal(canary__hll_init(&h, 17, ra), CANARY_EINVAL);
	assert_int_equal(canary__hll_init(&h, P, NULL), CANARY_EINVAL);
	memset(ra, 7, sizeof(ra));
	assert_int_equal(canary__hll_init(&h, P, ra), 0);
	assert_true(canary__hll_estimate(&h) == 0);
}

/* Small counts read exactly: what the sparse rule and canary-only errors
 * need (3 erroring users must count as 3); up to 2000 within 4 standard
 * errors of 1 / sqrt(2m). */
static void test_small_counts(void **state)
{
	double sd = 1 / sqrt(2.0 * M);
	canary__hll h;
	long n;

	(void)state;
	canary__hll_init(&h, P, ra);
	for (n = 1; n <= 2000; n++) {
		double e;

		add_units(&h, "small-", n - 1, n);
		e = canary__hll_estimate(&h);
		if (n <= 30)
			assert_true(fabs(e - (double)n) < 0.5);
		else
			assert_true(fabs(e / (double)n - 1) < 4 * sd);
	}
	add_units(&h, "small-", 0, 30); /* repeats change nothing */
	assert_true(fabs(canary__hll_estimate(&h) - 2000) < 4 * sd * 2000);
}

/* Over 40 independent sketches per size (4 of a million units): the worst
 * error within 4 standard errors, and the mean within 4 standard errors
 * of a mean (rse / sqrt(trials): 1% for 40; no bias at the small/large
 * transition around 2.5 x 4096 that plain HyperLogLog has). */
static void test_accuracy(void **state)
{
	static const long sizes[] = { 1000, 5000, 10000, 20000, 100000, 1000000 };
	double rse = canary__hll_rse(P);
	canary__hll h;
	size_t s;
	int t;

	(void)state;
	assert_true(fabs(rse - 0.01625) < 1e-4);
	for (s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
		double n = (double)sizes[s], sum = 0, worst = 0;
		int trials = sizes[s] >= 1000000 ? 4 : 40;

		for (t = 0; t < trials; t++) {
			char prefix[32];
			double e;

			snprintf(prefix, sizeof(prefix), "t%d-u", t);
			canary__hll_init(&h, P, ra);
			add_units(&h, prefix, 0, sizes[s]);
			e = canary__hll_estimate(&h) / n - 1;
			sum += e;
			if (fabs(e) > worst)
				worst = fabs(e);
		}
		if (worst > 4 * rse ||
		    fabs(sum / trials) > 4 * rse / sqrt((double)trials))
			fail_msg("n=%.0f: worst %.4f, mean %.4f (rse %.4f)", n,
				worst, sum / trials, rse);
	}
}

static void test_merge_is_union(void **state)
{
	canary__hll a, b, u;

	(void)state;
	canary__hll_init(&a, P, ra);
	canary__hll_init(&b, P, rb);
	canary__hll_init(&u, P, rc);
	add_units(&a, "m", 0, 30000);
	add_units(&b, "m", 20000, 50000);
	add_units(&u, "m", 0, 50000);
	assert_int_equal(canary__hll_merge(&a, &b), 0);
	assert_memory_equal(a.reg, u.reg, M);
	assert_int_equal(canary__hll_merge(&a, &b), 0); /* idempotent */
	assert_memory_equal(a.reg, u.reg, M);
	assert_true(canary__hll_within(&b, &u));
	assert_false(canary__hll_within(&u, &b));
	canary__hll_init(&b, P - 1, rb);
	assert_int_equal(canary__hll_merge(&a, &b), CANARY_EINVAL);
	assert_false(canary__hll_within(&b, &a));
}

/* Encode, check the form and length, decode, compare. */
static void round_trip(canary__hll *h, unsigned form)
{
	size_t nz = 0, j, m = CANARY__HLL_REGS(h->p);
	size_t len = canary__hll_encode(h, wire, sizeof(wire));
	canary__hll back;
	char err[128];

	for (j = 0; j < m; j++)
		nz += h->reg[j] != 0;
	assert_int_equal(len, 4 + (form ? 4 + 3 * nz : 3 * m / 4));
	assert_int_equal(wire[2], form);
	assert_int_equal(canary__hll_encode(h, wire, len - 1), 0);
	canary__hll_init(&back, h->p, rc);
	assert_int_equal(canary__hll_decode(&back, wire, len, err,
		sizeof(err)), 0);
	assert_memory_equal(back.reg, h->reg, CANARY__HLL_REGS(h->p));
}

static void test_round_trip(void **state)
{
	canary__hll h;
	unsigned p;
	size_t j;

	(void)state;
	canary__hll_init(&h, P, ra);
	round_trip(&h, 1); /* empty: sparse, the header alone */
	add_units(&h, "r", 0, 100);
	round_trip(&h, 1);
	add_units(&h, "r", 0, 100000);
	round_trip(&h, 0);
	for (p = CANARY__HLL_MIN_P; p <= CANARY__HLL_MAX_P; p++) {
		canary__hll_init(&h, p, ra);
		for (j = 0; j < CANARY__HLL_REGS(p); j++)
			h.reg[j] = (uint8_t)(j % (64 - p + 2));
		round_trip(&h, 0);
	}
}

static int decode(const uint8_t *in, size_t len, char *err, size_t errlen)
{
	canary__hll h;

	canary__hll_init(&h, P, rb);
	return canary__hll_decode(&h, in, len, err, errlen);
}

static void expect_refused(const uint8_t *in, size_t len, const char *msg)
{
	char err[128];

	assert_int_equal(decode(in, len, err, sizeof(err)), CANARY_EPARSE);
	if (strcmp(err, msg) != 0)
		fail_msg("error \"%s\", want \"%s\"", err, msg);
}

static void put_entry(uint8_t *s, int i, uint32_t idx, uint32_t v)
{
	uint32_t e = idx << 6 | v;

	s[4] = (uint8_t)(i + 1); /* the entry count */
	s[8 + 3 * i] = (uint8_t)e;
	s[9 + 3 * i] = (uint8_t)(e >> 8);
	s[10 + 3 * i] = (uint8_t)(e >> 16);
}

static void test_malformed(void **state)
{
	uint8_t s[16] = { 1, P, 1, 0, 0, 0, 0, 0 };

	(void)state;
	expect_refused(s, 3, "sketch of 3 bytes: shorter than its header");
	s[0] = 2;
	expect_refused(s, 4, "sketch format 2, expected 1");
	s[0] = 1, s[1] = 17;
	expect_refused(s, 4, "precision 17 not in 4..16");
	s[1] = 3;
	expect_refused(s, 4, "precision 3 not in 4..16");
	s[1] = 14;
	expect_refused(s, 4, "precision 14, expected 12");
	s[1] = P, s[3] = 1;
	expect_refused(s, 4, "reserved byte is 1, must be 0");
	s[3] = 0, s[2] = 2;
	expect_refused(s, 4, "form 2, must be 0 (dense) or 1 (sparse)");
	s[2] = 1;
	expect_refused(s, 6, "sparse sketch: no entry count");
	s[4] = 1;
	expect_refused(s, 8, "sparse sketch: 1 entries in 0 bytes (3 each, at "
		"most 4096 entries)");
	s[4] = 0, s[6] = 1; /* 65536 entries */
	expect_refused(s, 8, "sparse sketch: 65536 entries in 0 bytes (3 each, "
		"at most 4096 entries)");
	s[6] = 0;
	assert_int_equal(decode(s, 8, NULL, 0), 0); /* empty */
	put_entry(s, 0, 5, 0);
	expect_refused(s, 11, "sparse entry 0: value 0 not in 1..53");
	put_entry(s, 0, 5, 54);
	expect_refused(s, 11, "sparse entry 0: value 54 not in 1..53");
	put_entry(s, 0, 4096, 1);
	expect_refused(s, 11, "sparse entry 0: index 4096 out of range");
	put_entry(s, 0, 5, 1);
	put_entry(s, 1, 5, 2);
	expect_refused(s, 14, "sparse entry 1: index 5 not after the "
		"previous one");
	put_entry(s, 1, 4, 2);
	expect_refused(s, 14, "sparse entry 1: index 4 not after the "
		"previous one");
	put_entry(s, 1, 4095, 53);
	assert_int_equal(decode(s, 14, NULL, 0), 0);
	expect_refused(s, 13, "sparse sketch: 2 entries in 5 bytes (3 each, at "
		"most 4096 entries)");
	s[2] = 0;
	expect_refused(s, 14, "dense sketch: body of 10 bytes, must be 3072");
}

static void test_dense_value_above_max(void **state)
{
	canary__hll h;

	(void)state;
	canary__hll_init(&h, P, ra);
	add_units(&h, "d", 0, 100000);
	assert_int_equal(canary__hll_encode(&h, wire, sizeof(wire)),
		4 + 3 * M / 4);
	/* register 10 is bits 60..65 of the body */
	wire[4 + 60 / 8] |= 0xf0;
	wire[4 + 60 / 8 + 1] |= 0x03;
	expect_refused(wire, 4 + 3 * M / 4, "register 10: value 63 above 53");
}

/* Every prefix and every single-byte change of a valid encoding either
 * decodes (to registers in range) or is refused; none crashes. */
static void test_every_truncation_and_mutation(void **state)
{
	canary__hll h, back;
	size_t len, i, j, k;
	char err[128];

	(void)state;
	canary__hll_init(&h, P, ra);
	canary__hll_init(&back, P, rb);
	for (k = 0; k < 2; k++) {
		add_units(&h, "x", 0, k ? 50000 : 300);
		len = canary__hll_encode(&h, wire, sizeof(wire));
		for (i = 0; i < len; i++)
			assert_int_equal(canary__hll_decode(&back, wire, i, err,
				sizeof(err)), CANARY_EPARSE);
		for (i = 0; i < len; i += k ? 7 : 1) {
			uint8_t keep = wire[i];
			int b;

			for (b = 0; b < 8; b++) {
				wire[i] = (uint8_t)(keep ^ (1u << b));
				if (canary__hll_decode(&back, wire, len, err,
					sizeof(err)) == 0)
					for (j = 0; j < M; j++)
						assert_true(back.reg[j] <= 53);
			}
			wire[i] = keep;
		}
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_hash_vectors),
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_small_counts),
		cmocka_unit_test(test_accuracy),
		cmocka_unit_test(test_merge_is_union),
		cmocka_unit_test(test_round_trip),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_dense_value_above_max),
		cmocka_unit_test(test_every_truncation_and_mutation),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
