/*
 * decimal.h - numbers for the NUM_* operators, compared exactly.
 *
 * A number is read from its text into sign, significant digits and a
 * decimal exponent, without converting to binary floating point: "12",
 * "12.0", "1.2e1" and "0012" are equal, "-0" equals "0", and no rounding
 * can make two different decimals compare equal. Grammar, after trimming
 * ASCII white space: [+-] digits [. digits] [(e|E) [+-] digits], with at
 * least one mantissa digit ("5.", ".5" are numbers; "", "0x10", "inf",
 * "NaN", "1e" are not). Exponents are clamped to +-10^8, beyond any value
 * a real attribute has.
 */
#ifndef CANARY_PROTO_DECIMAL_H
#define CANARY_PROTO_DECIMAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* value = sign * 0.d1 d2 ... dn * 10^exp, d1 != 0 (unless zero). The
 * digits stay in the source text (which must outlive this struct): they
 * run from `digits` to `end`, and may straddle a '.' that is skipped. */
typedef struct canary__decimal {
	const char *digits;
	const char *end;
	int32_t exp;
	int8_t sign;       /* -1, 0 (the number is zero), +1 */
} canary__decimal;

bool canary__decimal_parse(const char *s, size_t len, canary__decimal *out);

/* <0, 0, >0 as a is less than, equal to, greater than b. */
int canary__decimal_cmp(const canary__decimal *a, const canary__decimal *b);

#endif
