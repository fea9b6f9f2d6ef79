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

static bool is_ident_char(char c)
{
	unsigned char u = (unsigned char)c;

	/* u | 0x20 maps 'A'..'Z' onto 'a'..'z' and no other byte there. */
	return is_digit(c) || (unsigned)((u | 0x20) - 'a') < 26u || c == '-';
}

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

/* Dot-separated non-empty identifiers up to `stop` (or the end). Numeric
 * identifiers must not have leading zeros when `numeric_strict`. */
static const char *identifiers(const char *p, const char *end, char stop,
	bool numeric_strict)
{
	for (;;) {
		const char *start = p;
		bool all_digits = true;

		while (p < end && is_ident_char(*p)) {
			all_digits = all_digits && is_digit(*p);
			p++;
		}
		if (p == start)
			return NULL;
		if (numeric_strict && all_digits && *start == '0' && p - start > 1)
			return NULL;
		if (p == end || *p == stop)
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
	const char *x = a->pre, *xe = a->pre + a->pre_len;
	const char *y = b->pre, *ye = b->pre + b->pre_len;

	/* A version without a pre-release ranks above one with. */
	if (!a->pre || !b->pre)
		return (a->pre == NULL) - (b->pre == NULL);
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

/* The general case: parse, then compare. */
CANARY__COLD
static bool cmp_parsed(const char *s, const canary__semver_key *k, int *cmp)
{
	canary__semver a;

	if (!canary__semver_parse(s, strlen(s), &a))
		return false;
	*cmp = canary__semver_cmp(&a, &k->v);
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
 * canary__semver_parse(), or no version. */
static bool cmp_tail(const char *q, const uint64_t num[3],
	const canary__semver_key *k, int *cmp)
{
	const char *end = q + strlen(q);
	canary__semver a;
	int c;

	a.pre = NULL;
	a.pre_len = 0;
	if (*q == '-') {
		a.pre = ++q;
		q = identifiers(q, end, '+', true);
		if (!q)
			return false;
		a.pre_len = (uint32_t)(q - a.pre);
	}
	if (q < end && (*q != '+' || !identifiers(q + 1, end, '\0', false)))
		return false;
	c = cmp_nums(num, k->num);
	*cmp = c ? c : cmp_pre(&a, &k->v);
	return true;
}

bool canary__semver_cmp_text(const char *s, const canary__semver_key *k,
	int *cmp)
{
	const unsigned char *p = (const unsigned char *)s;
	uint64_t num[3];
	int i, c;

	if (!k->fits)
		return cmp_parsed(s, k, cmp);
	for (i = 0; i < 3; i++) {
		const unsigned char *start = p;
		unsigned d = (unsigned)*p - '0';
		uint64_t n = d;

		if (d > 9)
			return false;
		/* A leading 0 is the whole part: a digit after it fails the
		 * separator test below, as the grammar wants. */
		if (d) {
			while ((d = (unsigned)*++p - '0') <= 9)
				n = n * 10 + d;
			if (p - start > 18)
				return cmp_parsed(s, k, cmp);  /* digit strings */
		} else {
			p++;
		}
		num[i] = n;
		if (i < 2 && *p++ != '.')
			return false;
	}
	if (*p)
		return cmp_tail((const char *)p, num, k, cmp);
	/* No pre-release: above the operand's pre-release, if any. */
	c = cmp_nums(num, k->num);
	*cmp = c ? c : k->v.pre != NULL;
	return true;
}
