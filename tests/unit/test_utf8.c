/*
 * test_utf8.c - canary__utf8_valid(): every boundary of RFC 3629.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

#include "utf8.h"

#define VALID(lit) assert_true(canary__utf8_valid(lit, sizeof(lit) - 1))
#define INVALID(lit) assert_false(canary__utf8_valid(lit, sizeof(lit) - 1))

static void test_accepts_well_formed(void **state)
{
	(void)state;
	VALID("");
	VALID("checkout-v2");
	VALID("\xC2\x80");             /* U+0080, smallest 2-byte */
	VALID("\xDF\xBF");             /* U+07FF */
	VALID("\xE0\xA0\x80");         /* U+0800, smallest 3-byte */
	VALID("\xED\x9F\xBF");         /* U+D7FF, just below surrogates */
	VALID("\xEE\x80\x80");         /* U+E000, just above */
	VALID("\xEF\xBF\xBF");         /* U+FFFF */
	VALID("\xF0\x90\x80\x80");     /* U+10000, smallest 4-byte */
	VALID("\xF4\x8F\xBF\xBF");     /* U+10FFFF, the largest */
	VALID("gr\xC3\xBC\xC3\x9F" "e \xE2\x82\xAC \xF0\x9F\x90\xA4");
	assert_true(canary__utf8_valid(NULL, 0));
}

static void test_rejects_ill_formed(void **state)
{
	(void)state;
	INVALID("\x80");               /* lone continuation */
	INVALID("\xBF");
	INVALID("\xC0\x80");           /* overlong NUL */
	INVALID("\xC1\xBF");           /* overlong */
	INVALID("\xE0\x9F\xBF");       /* overlong 3-byte */
	INVALID("\xF0\x8F\xBF\xBF");   /* overlong 4-byte */
	INVALID("\xED\xA0\x80");       /* U+D800, surrogate */
	INVALID("\xED\xBF\xBF");       /* U+DFFF */
	INVALID("\xF4\x90\x80\x80");   /* U+110000 */
	INVALID("\xF5\x80\x80\x80");
	INVALID("\xFF");
	INVALID("\xC3");               /* truncated */
	INVALID("\xE2\x82");
	INVALID("\xF0\x9F\x90");
	INVALID("\xC3\x28");           /* bad continuation */
	INVALID("\xE2\x28\xA1");
	INVALID("\xF0\x9F\x28\xA4");
	INVALID("a\0b");               /* embedded NUL */
	assert_false(canary__utf8_valid(NULL, 1));
}

static void test_truncation_at_every_length(void **state)
{
	const char *s = "\xF0\x9F\x90\xA4";
	size_t n;

	(void)state;
	for (n = 1; n < 4; n++)
		assert_false(canary__utf8_valid(s, n));
	assert_true(canary__utf8_valid(s, 4));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_accepts_well_formed),
		cmocka_unit_test(test_rejects_ill_formed),
		cmocka_unit_test(test_truncation_at_every_length),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
