/*
 * semver.c - the grammar and precedence rules of semver.org 2.0.0.
 */
#include "semver.h"

#include <string.h>

#include "attributes.h"

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* The characters of identifiers: bit 0, [0-9A-Za-z-]; bit 1, a digit. */
static const unsigned char ident_class[256] = {
	['-'] = 1,
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3,
	['5'] = 3, ['6'] = 3, ['7'] = 3, ['8'] = 3, ['9'] = 3,
	['A'] = 1, ['B'] = 1, ['C'] = 1, ['D'] = 1, ['E'] = 1, ['F'] = 1, ['G'] = 1,
	['H'] = 1, ['I'] = 1, ['J'] = 1, ['K'] = 1, ['L'] = 1, ['M'] = 1, ['N'] = 1,
	['O'] = 1, ['P'] = 1, ['Q'] = 1, ['R'] = 1, ['S'] = 1, ['T'] = 1, ['U'] = 1,
	['V'] = 1, ['W'] = 1, ['X'] = 1, ['Y'] = 1, ['Z'] = 1,
	['a'] = 1, ['b'] = 1, ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1, ['g'] = 1,
	['h'] = 1, ['i'] = 1, ['j'] = 1, ['k'] = 1, ['l'] = 1, ['m'] = 1, ['n'] = 1,
	['o'] = 1, ['p'] = 1, ['q'] = 1, ['r'] = 1, ['s'] = 1, ['t'] = 1, ['u'] = 1,
	['v'] = 1, ['w'] = 1, ['x'] = 1, ['y'] = 1, ['z'] = 1,
};

/* A numeric part: digits, no leading zero unless it is "0". */
static const char *number(const char *p, const char *end, uint32_t *len)
{
	const char *start = p;

	while (p < end && is_digit(*p))
		p++;
	if (p == start || (*start == '0' && p - start > 1))
		return NULL;
	*len = (uint32_t)(p - start);
	return p;
}

/* Dot-separated non-empty identifiers up to `stop`, the end or a NUL
 * (`end` NULL: the text is NUL-terminated): where they stop, or NULL.
 * Numeric identifiers must not have leading zeros when `numeric_strict`. */
static inline const char *identifiers(const char *p, const char *end,
	char stop, bool numeric_strict)
{
	for (;;) {
		const char *start = p;
		unsigned cls, all_digits = 2;

		while (p != end && (cls = ident_class[(unsigned char)*p]) & 1) {
			all_digits &= cls;
			p++;
		}
		if (p == start)
			return NULL;
		if (numeric_strict && all_digits && *start == '0' && p - start > 1)
			return NULL;
		if (p == end || *p == stop || *p == '\0')
			return p;
		if (*p != '.')
			return NULL;
		p++;
	}
}

bool canary__semver_parse(const char *s, size_t len, canary__semver *out)
{
	const char *p = s, *end = s + len;
	int i;

	if (!s || len == 0 || len > UINT32_MAX)
		return false;
	for (i = 0; i < 3; i++) {
		out->part[i] = p;
		p = number(p, end, &out->part_len[i]);
		if (!p)
			return false;
		if (i < 2) {
			if (p == end || *p != '.')
				return false;
			p++;
		}
	}
	out->pre = NULL;
	out->pre_len = 0;
	if (p < end && *p == '-') {
		out->pre = ++p;
		p = identifiers(p, end, '+', true);
		if (!p)
			return false;
		out->pre_len = (uint32_t)(p - out->pre);
	}
	if (p < end && *p == '+') {
		p = identifiers(p + 1, end, '\0', false);
		if (!p)
			return false;
	}
	return p == end;
}

/* Bytes as unsigned, like memcmp (parts are a few bytes: no call). */
static int cmp_bytes(const char *a, const char *b, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (a[i] != b[i])
			return (unsigned char)a[i] < (unsigned char)b[i] ? -1 : 1;
	return 0;
}

/* Numeric strings without leading zeros: longer is larger. */
static int cmp_numeric(const char *a, size_t alen, const char *b, size_t blen)
{
	if (alen != blen)
		return alen < blen ? -1 : 1;
	return cmp_bytes(a, b, alen);
}

static bool all_digits(const char *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (!is_digit(p[i]))
			return false;
	return true;
}

/* One pre-release identifier against another (semver.org, rule 11). */
static int cmp_identifier(const char *a, size_t alen, const char *b,
	size_t blen)
{
	bool an = all_digits(a, alen), bn = all_digits(b, blen);
	int c;

	if (an && bn)
		return cmp_numeric(a, alen, b, blen);
	if (an != bn)
		return an ? -1 : 1;  /* numeric identifiers sort first */
	c = cmp_bytes(a, b, alen < blen ? alen : blen);
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static size_t ident_len(const char *p, const char *end)
{
	const char *dot = memchr(p, '.', (size_t)(end - p));

	return (size_t)((dot ? dot : end) - p);
}

static int cmp_pre(const canary__semver *a, const canary__semver *b)
{
	const char *x, *xe, *y, *ye;

	/* A version without a pre-release ranks above one with. (Tested
	 * before the ends are computed: NULL + 0 is undefined in C.) */
	if (!a->pre || !b->pre)
		return (a->pre == NULL) - (b->pre == NULL);
	x = a->pre;
	xe = a->pre + a->pre_len;
	y = b->pre;
	ye = b->pre + b->pre_len;
	for (;;) {
		size_t xl = ident_len(x, xe), yl = ident_len(y, ye);
		int c = cmp_identifier(x, xl, y, yl);

		if (c)
			return c;
		x += xl;
		y += yl;
		if (x == xe || y == ye)
			return (x != xe) - (y != ye);
		x++;
		y++;
	}
}

int canary__semver_cmp(const canary__semver *a, const canary__semver *b)
{
	int i, c;

	for (i = 0; i < 3; i++) {
		c = cmp_numeric(a->part[i], a->part_len[i], b->part[i],
			b->part_len[i]);
		if (c)
			return c;
	}
	return cmp_pre(a, b);
}

bool canary__semver_key_init(canary__semver_key *k, const char *s,
	size_t len)
{
	uint32_t i, j;

	if (!canary__semver_parse(s, len, &k->v))
		return false;
	k->fits = true;
	for (i = 0; i < 3; i++) {
		k->num[i] = 0;
		for (j = 0; j < k->v.part_len[i] && j < 18; j++)
			k->num[i] = k->num[i] * 10 + (uint64_t)(k->v.part[i][j] - '0');
		k->fits = k->fits && k->v.part_len[i] <= 18;
	}
	return true;
}

/* MAJOR.MINOR.PATCH against MAJOR.MINOR.PATCH, as integers. */
static int cmp_nums(const uint64_t a[3], const uint64_t b[3])
{
	int i;

	for (i = 0; i < 3; i++)
		if (a[i] != b[i])
			return a[i] < b[i] ? -1 : 1;
	return 0;
}

/* What follows the three numbers `num` of a text, at q (not its end): a
 * pre-release and build metadata, with the grammar of
 * canary__semver_parse(), or no version (CANARY__SEMVER_NONE). */
CANARY__NOINLINE
static int order_tail(const char *q, const uint64_t num[3],
	const canary__semver_key *k)
{
	canary__semver a;
	int c;

	a.pre = NULL;
	a.pre_len = 0;
	if (*q == '-') {
		a.pre = ++q;
		q = identifiers(q, NULL, '+', true);
		if (!q)
			return CANARY__SEMVER_NONE;
		a.pre_len = (uint32_t)(q - a.pre);
	}
	if (*q && (*q != '+' || !identifiers(q + 1, NULL, '\0', false)))
		return CANARY__SEMVER_NONE;
	c = cmp_nums(num, k->num);
	c = c ? c : cmp_pre(&a, &k->v);
	return (c > 0) - (c < 0) + 1;
}

/* The general case: parse, then compare. */
CANARY__COLD
static int order_parsed(const char *s, const canary__semver_key *k)
{
	canary__semver a;
	int c;

	if (!canary__semver_parse(s, strlen(s), &a))
		return CANARY__SEMVER_NONE;
	c = canary__semver_cmp(&a, &k->v);
	return (c > 0) - (c < 0) + 1;
}

/*
 * One numeric part at p, read as an integer while its grammar is checked:
 * the byte after it, or NULL when it is not a part ("") or has more than
 * 18 digits (then the digit strings are compared). A leading 0 followed
 * by a digit is left to the caller: the separator test after MAJOR and
 * MINOR fails on it, and after PATCH order_tail() does.
 */
static inline const unsigned char *number_at(const unsigned char *p,
	uint64_t *out)
{
	const unsigned char *start = p;
	unsigned d = (unsigned)*p - '0';
	uint64_t n = d;

	if (d > 9)
		return NULL;
	p++;
	/* A leading 0 is the whole part. */
	if (d) {
		while ((d = (unsigned)*p - '0') <= 9) {
			n = n * 10 + d;
			p++;
		}
		if (p - start > 18)
			return NULL;
	}
	*out = n;
	return p;
}

int canary__semver_order(const char *s, const canary__semver_key *k)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t num[3];

	if (!k->fits || !(p = number_at(p, &num[0])) || *p != '.' ||
	    !(p = number_at(p + 1, &num[1])) || *p != '.' ||
	    !(p = number_at(p + 1, &num[2])))
		return order_parsed(s, k);
	if (*p)
		return order_tail((const char *)p, num, k);
	if (num[0] != k->num[0])
		return num[0] < k->num[0] ? 0 : 2;
	if (num[1] != k->num[1])
		return num[1] < k->num[1] ? 0 : 2;
	if (num[2] != k->num[2])
		return num[2] < k->num[2] ? 0 : 2;
	/* No pre-release: above the operand's pre-release, if any. */
	return k->v.pre ? 2 : 1;
}
