/*
 * decimal.c - exact decimal numbers read from text.
 */
#include "decimal.h"

#define EXP_LIMIT 100000000L

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' ||
	       c == '\v';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The exponent part "e[+-]digits", clamped; false when malformed. */
static bool parse_exponent(const char *p, const char *end, long *out)
{
	long e = 0;
	int sign = 1;

	if (p < end && (*p == '+' || *p == '-'))
		sign = *p++ == '-' ? -1 : 1;
	if (p == end)
		return false;
	for (; p < end; p++) {
		if (!is_digit(*p))
			return false;
		if (e < EXP_LIMIT)
			e = e * 10 + (*p - '0');
	}
	*out = sign * (e < EXP_LIMIT ? e : EXP_LIMIT);
	return true;
}

bool canary__decimal_parse(const char *s, size_t len, canary__decimal *out)
{
	const char *p = s, *end = s + len;
	const char *first = NULL, *last = NULL;
	long int_digits = 0, lead_zeros = 0, exp = 0;
	bool seen_dot = false, any_digit = false;
	int sign = 1;

	if (!s || len > (size_t)EXP_LIMIT)
		return false;
	while (p < end && is_space(*p))
		p++;
	while (end > p && is_space(end[-1]))
		end--;
	if (p < end && (*p == '+' || *p == '-'))
		sign = *p++ == '-' ? -1 : 1;
	for (; p < end && (is_digit(*p) || (*p == '.' && !seen_dot)); p++) {
		if (*p == '.') {
			seen_dot = true;
			continue;
		}
		any_digit = true;
		if (!seen_dot)
			int_digits++;
		if (*p != '0') {
			if (!first)
				first = p;
			last = p;
		} else if (!first) {
			lead_zeros++;
		}
	}
	if (!any_digit)
		return false;
	if (p < end) {
		if ((*p != 'e' && *p != 'E') || !parse_exponent(p + 1, end, &exp))
			return false;
	}
	if (!first) {
		out->digits = out->end = p;
		out->exp = 0;
		out->sign = 0;
		return true;
	}
	out->digits = first;
	out->end = last + 1;
	out->exp = (int32_t)(int_digits - lead_zeros + exp);
	out->sign = (int8_t)sign;
	return true;
}

/* Compare two digit strings (dots skipped) as 0.ddd fractions. */
static int cmp_digits(const canary__decimal *a, const canary__decimal *b)
{
	const char *x = a->digits, *y = b->digits;

	for (;;) {
		if (x < a->end && *x == '.')
			x++;
		if (y < b->end && *y == '.')
			y++;
		if (x == a->end || y == b->end)
			return (x != a->end) - (y != b->end);
		if (*x != *y)
			return *x < *y ? -1 : 1;
		x++;
		y++;
	}
}

int canary__decimal_cmp(const canary__decimal *a, const canary__decimal *b)
{
	int mag;

	if (a->sign != b->sign)
		return a->sign < b->sign ? -1 : 1;
	if (a->sign == 0)
		return 0;
	if (a->exp != b->exp)
		mag = a->exp < b->exp ? -1 : 1;
	else
		mag = cmp_digits(a, b);
	return a->sign > 0 ? mag : -mag;
}
